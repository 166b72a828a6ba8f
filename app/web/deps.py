"""Request dependencies: one request is one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.settings import Settings


def _session(request: Request) -> Iterator[Session]:
    """A session whose transaction commits before the response is sent."""
    with request.app.state.session_factory() as session, session.begin():
        yield session


def _settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit happens when the endpoint returns, so a failed commit is an error
# response rather than a success already sent.
DbSession = Annotated[Session, Depends(_session, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
