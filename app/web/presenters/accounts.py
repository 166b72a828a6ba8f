"""What the account page shows: the password form, API tokens and sessions."""

from __future__ import annotations

from typing import Any

from app.decision.bank import BANK
from app.services.accounts import MIN_PASSWORD, AccountView
from app.web.presenters import urls


def account_context(
    view: AccountView, *, new_token: str | None = None, error: str | None = None
) -> dict[str, Any]:
    """Context of the account page; `new_token` is shown this once."""
    return {
        "ruleset": BANK.version,
        "email": view.account.email,
        "min_password": MIN_PASSWORD,
        "error": error,
        "new_token": new_token,
        "password_url": urls.account_password(),
        "tokens_url": urls.account_tokens(),
        "tokens": [
            {
                "name": t.name,
                "created_at": t.created_at,
                "revoked": t.revoked,
                "revoke_url": urls.revoke_api_token(t.id),
            }
            for t in view.tokens
        ],
        "sessions": [
            {
                "user_agent": s.user_agent,
                "created_at": s.created_at,
                "current": s.current,
                "revoke_url": urls.revoke_session(s.id),
            }
            for s in view.sessions
        ],
    }
