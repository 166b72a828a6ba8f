"""JSON routers under /api (and /healthz), one module per area, with their pydantic schemas."""
