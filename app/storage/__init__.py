"""Storage: the engine, the unit of work, and the few hot statements run on the driver."""

from app.storage.engine import after_commit, make_engine, unit_of_work

__all__ = ["after_commit", "make_engine", "unit_of_work"]
