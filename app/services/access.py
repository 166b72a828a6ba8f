"""Who may reach an assessment: the one place that decides (docs/adr/0003, 0006).

A request's credentials arrive as a `Caller`, built by the web layer in one function
(`app.web.credentials.caller`). Every service function that loads an assessment takes it and
goes through `require_assessment` or `require_status`, which answer `AssessmentNotFound` to a
caller without access: the same answer as for an id that does not exist.

The checks read the key hash with the statement that reads the row (`app.storage.hot`), so on
the hot step routes access costs one SHA-256 and no query.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, ShareLink, UserSession, secret_hash, utcnow
from app.storage import hot

# Personal API tokens start with this, so that a bearer token is looked up as one only when it
# may be one; an edit key that happened to start so is tried as both.
API_TOKEN_PREFIX = "adv_"

T = TypeVar("T")


class AssessmentNotFound(LookupError):
    """No assessment has that id (or the caller may not see it)."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__(f"no assessment with id {assessment_id!r}")
        self.assessment_id = assessment_id


class NotSignedIn(PermissionError):
    """A route that needs an account as such (`/api/me`), called without a live credential."""

    def __init__(self) -> None:
        super().__init__("sign in first: send a personal API token or a session cookie")


class ShareNotFound(LookupError):
    """No live share link has that token: unknown, revoked and expired look the same."""

    def __init__(self) -> None:
        super().__init__("there is no shared page at this address (it may have been revoked)")


@dataclass(frozen=True)
class Caller:
    """The credentials one request carries.

    `edit_keys`: the edit keys a browser holds, by assessment id (its cookies). `bearer`: the
    token of an `Authorization: Bearer` header: an edit key of whichever assessment, or a
    personal API token. `session_token`: a signed-in browser's session cookie. Who is signed
    in is looked up only when a check needs it (`signed_in`): a matching edit key costs none.
    """

    edit_keys: Mapping[str, str] = field(default_factory=dict)
    bearer: str | None = None
    session_token: str | None = None

    @property
    def api_token(self) -> str | None:
        """The bearer token, if it may be a personal API token."""
        bearer = self.bearer
        return bearer if bearer is not None and bearer.startswith(API_TOKEN_PREFIX) else None

    def keys_for(self, assessment_id: str) -> tuple[str, ...]:
        """The keys this caller offers for one assessment."""
        cookie = self.edit_keys.get(assessment_id)
        return tuple(k for k in (cookie, self.bearer) if k)


ANONYMOUS = Caller()


def matching_key(caller: Caller, edit_key_hash: str, assessment_id: str) -> str | None:
    """The caller's key that opens the assessment whose key hashes to `edit_key_hash`."""
    for key in caller.keys_for(assessment_id):
        if hmac.compare_digest(secret_hash(key), edit_key_hash):
            return key
    return None


class Opened(NamedTuple, Generic[T]):
    """What was read about an assessment, and the caller's key that opened it."""

    found: T
    edit_key: str


def _check(caller: Caller, guarded: hot.Guarded[T] | None, assessment_id: str) -> Opened[T]:
    """What was read, if the caller holds the assessment's key; else `AssessmentNotFound`."""
    key = None if guarded is None else matching_key(caller, guarded.edit_key_hash, assessment_id)
    if guarded is None or key is None:
        raise AssessmentNotFound(assessment_id)
    return Opened(guarded.found, key)


def require_assessment(
    *, session: hot.Transaction, caller: Caller, assessment_id: str
) -> Opened[hot.AssessmentRow]:
    """The assessment's row and the key that opened it, if any; else `AssessmentNotFound`."""
    return _check(caller, hot.assessment_row(session, assessment_id), assessment_id)


def require_status(
    *, session: hot.Transaction, caller: Caller, assessment_id: str, for_update: bool = False
) -> str:
    """The assessment's status, if the caller may change it; else `AssessmentNotFound`.

    `for_update` locks the row until the transaction ends (see `hot.assessment_status`).
    """
    guarded = hot.assessment_status(session, assessment_id, for_update=for_update)
    return _check(caller, guarded, assessment_id).found


def signed_in(*, session: Session, caller: Caller) -> str | None:
    """The id of the user the caller's API token or session belongs to, if either is live.

    An API token in the `Authorization` header wins over a session cookie.
    """
    now = utcnow()
    if caller.api_token is not None:
        token = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == secret_hash(caller.api_token))
        ).first()
        if token is not None and token.revoked_at is None:
            return token.user_id
    if caller.session_token is not None:
        row = session.scalars(
            select(UserSession).where(UserSession.token_hash == secret_hash(caller.session_token))
        ).first()
        if row is not None and row.revoked_at is None and aware(row.expires_at) > now:
            return row.user_id
    return None


def require_user(*, session: Session, caller: Caller) -> str:
    """The signed-in user's id; `NotSignedIn` (401) without a live API token or session."""
    user_id = signed_in(session=session, caller=caller)
    if user_id is None:
        raise NotSignedIn
    return user_id


def aware(moment: datetime) -> datetime:
    """A stored time as UTC; SQLite hands timezone-aware columns back without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_live(link: ShareLink, now: datetime | None = None) -> bool:
    """Whether a share link still opens: not revoked, not past its expiry."""
    if link.revoked_at is not None:
        return False
    return link.expires_at is None or aware(link.expires_at) > (now or utcnow())


def require_share(*, session: Session, token: str) -> tuple[ShareLink, hot.AssessmentRow]:
    """The live share link with that token and its assessment's row; else `ShareNotFound`.

    A share token grants reading one assessment, nothing else: the services that change an
    assessment take a `Caller`, never a share token.
    """
    link = session.scalars(
        select(ShareLink).where(ShareLink.token_hash == secret_hash(token))
    ).first()
    if link is None or not is_live(link):
        raise ShareNotFound
    guarded = hot.assessment_row(session, link.assessment_id)
    if guarded is None:  # pragma: no cover - the link's foreign key cascades
        raise ShareNotFound
    return link, guarded.found
