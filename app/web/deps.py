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
    Use it inside a sync endpoint (FastAPI runs those in the thread pool), or through
    `in_transaction` from an async one: it blocks on checkouts, locks and commits, and must
    never run on the event loop.
    """
    if write is None:
        write = request.method not in READ_ONLY_METHODS
    with unit_of_work(request.app.state.engine, write=write) as session:
        yield session


async def in_transaction(
    request: Request, work: Callable[[Session], T], *, write: bool | None = None
) -> T:
    """Run `work` in the request's transaction, in a worker thread; its result."""

    def run() -> T:
        with transaction(request, write=write) as session:
            return work(session)

    return await run_in_threadpool(run)


async def in_lean_transaction(
    request: Request, work: Callable[[LeanTransaction], T], *, write: bool | None = None
) -> T:
    """`in_transaction` without a Session, for the two benchmarked step routes only.

    The Session's bookkeeping costs three times their statements (docs/adr/0001).
    """
    engine = request.app.state.engine
    if write is None:
        write = request.method not in READ_ONLY_METHODS
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
