"""Pure ASGI middleware: compression, security headers, load shedding."""
