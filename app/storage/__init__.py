"""Storage: the engine, the unit of work, and the few hot statements run on the driver."""

from app.storage import loop
from app.storage.engine import (
    LeanTransaction,
    after_commit,
    lean_unit_of_work,
    make_engine,
    unit_of_work,
)

__all__ = [
    "LeanTransaction",
    "after_commit",
    "lean_unit_of_work",
    "loop",
    "make_engine",
    "unit_of_work",
]
