"""Read-only share links: create, list, revoke (key holders), and open (anyone with the token).

A link's token is derived from the row's random id with the server's secret key
(HMAC-SHA256) and stored only as its SHA-256: the database alone reveals no token, while the
owner's list can show each link again, as shared-document tools do (docs/adr/0006). When the
secret key changes, existing links keep working (they are found by their hash) but the list
can no longer show them; revoking them still works from the token a user holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.decision.recommendation import Recommendation
from app.models import ShareLink, new_token, secret_hash, utcnow
from app.services import assessments
from app.services.access import (
    Caller,
    Forbidden,
    ShareNotFound,
    is_live,
    require_owner,
    require_share,
)

EXPIRY_DAYS = (7, 30, 90)  # or None: never
_PURPOSE = b"advisor share link\x00"

__all__ = ["EXPIRY_DAYS", "Share", "ShareNotFound", "Shared"]


@dataclass(frozen=True)
class Share:
    """One share link as its owner sees it. `token` is None when it can no longer be shown."""

    token: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    opens: int
    live: bool

    @property
    def revoked(self) -> bool:
        """Whether the owner revoked it."""
        return self.revoked_at is not None

    @property
    def expired(self) -> bool:
        """Whether it ran past its expiry (and was not revoked first)."""
        return not self.live and not self.revoked


@dataclass(frozen=True)
class Shared:
    """What a share link shows: the assessment's state and its recommendation."""

    state: assessments.AssessmentState
    recommendation: Recommendation


def _token(secret_key: str, share_id: str) -> str:
    """The link's token: 256 bits, url-safe, derived from its random id and the secret key."""
    digest = hmac.digest(secret_key.encode(), _PURPOSE + share_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _shown(link: ShareLink, secret_key: str) -> Share:
    token = _token(secret_key, link.id)
    known = hmac.compare_digest(secret_hash(token), link.token_hash)
    return Share(
        token=token if known else None,
        created_at=link.created_at,
        expires_at=link.expires_at if link.expires_at is not None else None,
        revoked_at=link.revoked_at if link.revoked_at is not None else None,
        opens=link.opens,
        live=is_live(link),
    )


def _require_manager(*, session: Session, caller: Caller, assessment_id: str) -> None:
    """Links are managed by the key holder, the owning user, or the owning team's owners
    (docs/adr/0006: "owner also manages members, invites and links"): others in the team get
    `Forbidden` (403), everyone else `AssessmentNotFound`."""
    require_owner(session=session, caller=caller, assessment_id=assessment_id, role="owner")


def create_share(
    *,
    session: Session,
    caller: Caller,
    assessment_id: str,
    expires_in_days: int | None,
    secret_key: str,
) -> Share:
    """A new read-only link to the assessment, expiring after that many days (None: never)."""
    if expires_in_days is not None and expires_in_days not in EXPIRY_DAYS:
        raise ValueError(f"expires_in_days must be one of {EXPIRY_DAYS} or None")
    _require_manager(session=session, caller=caller, assessment_id=assessment_id)
    now = utcnow()
    share_id = new_token()
    link = ShareLink(
        id=share_id,
        assessment_id=assessment_id,
        token_hash=secret_hash(_token(secret_key, share_id)),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        revoked_at=None,
        opens=0,
    )
    session.add(link)
    session.flush()
    return _shown(link, secret_key)


def list_shares(
    *, session: Session, caller: Caller, assessment_id: str, secret_key: str
) -> list[Share]:
    """The assessment's share links, newest first."""
    _require_manager(session=session, caller=caller, assessment_id=assessment_id)
    links = session.scalars(
        select(ShareLink)
        .where(ShareLink.assessment_id == assessment_id)
        .order_by(ShareLink.created_at.desc(), ShareLink.id)
    )
    return [_shown(link, secret_key) for link in links]


def shares_if_managed(
    *, session: Session, caller: Caller, assessment_id: str, secret_key: str
) -> list[Share] | None:
    """The links for the result page; None for a team member who may open the assessment but
    not manage its links."""
    try:
        return list_shares(
            session=session, caller=caller, assessment_id=assessment_id, secret_key=secret_key
        )
    except Forbidden:
        return None


def revoke_share(*, session: Session, caller: Caller, assessment_id: str, token: str) -> None:
    """Revoke one of the assessment's links (again is fine); `ShareNotFound` if it has no such."""
    _require_manager(session=session, caller=caller, assessment_id=assessment_id)
    link = session.scalars(
        select(ShareLink).where(
            ShareLink.token_hash == secret_hash(token), ShareLink.assessment_id == assessment_id
        )
    ).first()
    if link is None:
        raise ShareNotFound
    if link.revoked_at is None:
        link.revoked_at = utcnow()


def open_share(*, session: Session, token: str) -> Shared:
    """What a live link shows, counting the visit; `ShareNotFound` for any other token."""
    link, record = require_share(session=session, token=token)
    session.execute(
        update(ShareLink).where(ShareLink.id == link.id).values(opens=ShareLink.opens + 1)
    )
    state = assessments.state_of(session=session, record=record)
    return Shared(state, assessments.current_recommendation(session=session, state=state))
