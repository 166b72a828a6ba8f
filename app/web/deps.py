"""Request dependencies: one request is one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from app.db import Db, unit_of_work


async def _transaction(request: Request) -> AsyncIterator[Db]:
    """The request's unit of work, committed before the response is sent.

    It runs on the event loop, not in the thread pool: opening, committing and closing are
    short, and two thread hops a request would cost more than they save.
    """
    with unit_of_work(request.app.state.engine) as db:
        yield db


# scope="function": the commit happens when the endpoint returns, so a failed commit is an error
# response rather than a success already sent.
Transaction = Annotated[Db, Depends(_transaction, scope="function")]
