"""Storage: the engine, the unit of work, and the few hot statements run on the driver."""

from app.storage.engine import (
    LeanTransaction,
    after_commit,
    lean_unit_of_work,
    loop_read,
    make_engine,
    reads_on_the_loop,
    unit_of_work,
)

__all__ = [
    "LeanTransaction",
    "after_commit",
    "lean_unit_of_work",
    "loop_read",
    "make_engine",
    "reads_on_the_loop",
    "unit_of_work",
]
