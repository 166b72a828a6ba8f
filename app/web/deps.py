"""Request dependencies: one request is one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.settings import Settings


async def _session(request: Request) -> AsyncIterator[Session]:
    """A session whose transaction commits when the endpoint returns, before the response.

    Opening, committing and closing run on the event loop, not in the thread pool: each is
    short, and two thread hops a request would cost more than they save.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit happens when the endpoint returns, so a failed commit is an error
# response rather than a success already sent.
DbSession = Annotated[Session, Depends(_session, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
