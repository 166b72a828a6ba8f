"""Request dependencies: one request is one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session


@contextmanager
def unit_of_work(request: Request) -> Iterator[Session]:
    """One transaction for one request: commit on success, roll back on any error."""
    with request.app.state.session_factory() as session, session.begin():
        yield session


async def _session(request: Request) -> AsyncIterator[Session]:
    """`unit_of_work` as a dependency, committing before the response is sent.

    It runs on the event loop, not in the thread pool: opening, committing and closing are
    short, and two thread hops a request would cost more than they save.
    """
    with unit_of_work(request) as session:
        yield session


# scope="function": the commit happens when the endpoint returns, so a failed commit is an error
# response rather than a success already sent.
DbSession = Annotated[Session, Depends(_session, scope="function")]
