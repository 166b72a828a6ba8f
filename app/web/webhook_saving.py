"""Saving a team's webhook, shared by its page and its API route.

Checking a URL resolves its host, which can wait seconds on DNS; inside the write transaction
that would hold SQLite's write lock for every other writer meanwhile. So the owner is checked
in a read transaction first (a stranger learns nothing, not even whether the host resolves),
the URL is checked outside any transaction, and only then is it written.
"""

from __future__ import annotations

from fastapi import Request

from app.services import webhooks
from app.web.credentials import caller
from app.web.deps import transaction


def save_webhook(
    request: Request, *, team_id: str, url: str, secret: str | None
) -> webhooks.Webhook:
    """Set the team's webhook for the request's caller; `AccountError` names a refused field."""
    with transaction(request, write=False) as session:
        webhooks.require_owner(session=session, caller=caller(request), team_id=team_id)
    allow_private = request.app.state.settings.webhook_allow_private_targets
    checked = webhooks.webhook_url(url, allow_private=allow_private)
    with transaction(request) as session:
        return webhooks.set_webhook(
            session=session, caller=caller(request), team_id=team_id, url=checked, secret=secret
        )
