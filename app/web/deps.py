"""The request's unit of work: one request is one transaction (docs/adr/0002)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.storage import LeanTransaction, lean_unit_of_work, loop, unit_of_work

T = TypeVar("T")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextmanager
def transaction(request: Request, *, write: bool | None = None) -> Iterator[Session]:
    """The request's transaction; a write transaction unless the method only reads.

    `write=False` reads without taking SQLite's write lock (a refused form re-rendered, say).
    Use it inside a sync endpoint (FastAPI runs those in the thread pool): it blocks on
    checkouts, locks and commits, and must never run on the event loop.
    """
    with unit_of_work(request.app.state.engine, write=_writes(request, write)) as session:
        yield session


async def in_lean_transaction(
    request: Request, work: Callable[[LeanTransaction], T], *, write: bool | None = None
) -> T:
    """Run `work` in a lean transaction (no Session) and return its result: the two
    benchmarked step routes only, whose statements cost a third of a Session's bookkeeping
    (docs/adr/0001). On the loop when it cannot wait, else in a worker thread.
    """
    engine = request.app.state.engine
    write = _writes(request, write)
    if loop.serves(engine):
        # A unit of work that cannot wait (`app.storage.loop`): a thread hop would cost more
        # than the whole of it; when it would have to wait, it goes to a thread after all.
        try:
            with loop.loop_unit_of_work(engine, write=write) as lean:
                return work(lean)
        except loop.WouldWait:
            pass

    def run() -> T:
        with lean_unit_of_work(engine, write=write) as lean:
            return work(lean)

    return await run_in_threadpool(run)


def _writes(request: Request, write: bool | None) -> bool:
    """Whether the unit of work writes: as told, else unless the method only reads."""
    return request.method not in READ_ONLY_METHODS if write is None else write
