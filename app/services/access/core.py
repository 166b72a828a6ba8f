"""Who may reach an assessment, a team or a share link: callers, the errors, and the checks
every other access module builds on (docs/adr/0003, 0006).

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
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ROLES, ShareLink, User, secret_hash, utcnow
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


class TeamNotFound(LookupError):
    """No team has that id, or the caller is not in it (or not signed in): the same 404."""

    def __init__(self, team_id: str, field: str = "team_id") -> None:
        super().__init__(f"no team of yours has id {team_id!r}")
        self.team_id = team_id
        self.field = field


class Forbidden(PermissionError):
    """A member whose role does not allow the action (403)."""

    def __init__(self, needed: str) -> None:
        super().__init__(f"only a team {needed} may do this")
        self.needed = needed


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
    """What was read about an assessment, and the caller's key that opened it (None when an
    owning user or team member opened it without one)."""

    found: T
    edit_key: str | None


def _member(session: hot.Transaction, caller: Caller, team_id: str | None) -> hot.Member | None:
    """The signed-in user and their role in `team_id`: one indexed query per credential."""
    if caller.api_token is not None:
        found = hot.token_member(session, secret_hash(caller.api_token), team_id)
        if found is not None:
            return found
    if caller.session_token is not None:
        return hot.session_member(session, secret_hash(caller.session_token), team_id)
    return None


def _check(
    session: hot.Transaction, caller: Caller, guarded: hot.Guarded[T] | None, assessment_id: str
) -> Opened[T]:
    """What was read, if the caller holds the assessment's key or is its owning user or a
    member of its owning team (every role edits); else `AssessmentNotFound`.

    A matching key costs no query; a signed-in caller without one costs one indexed query.
    """
    found, key, _ = _check_who(session, caller, guarded, assessment_id)
    return Opened(found, key)


def _check_who(
    session: hot.Transaction, caller: Caller, guarded: hot.Guarded[T] | None, assessment_id: str
) -> tuple[T, str | None, hot.Member | None]:
    """`_check`, and the signed-in member it found on the way (None when a key opened it)."""
    if guarded is None:
        raise AssessmentNotFound(assessment_id)
    key = matching_key(caller, guarded.edit_key_hash, assessment_id)
    if key is not None:
        return guarded.found, key, None
    if guarded.owner_user_id is not None or guarded.team_id is not None:
        member = _member(session, caller, guarded.team_id)
        if member is not None and (
            member.user_id == guarded.owner_user_id
            or (guarded.team_id is not None and member.role is not None)
        ):
            return guarded.found, None, member
    raise AssessmentNotFound(assessment_id)


def require_status_and_author(
    *, session: hot.Transaction, caller: Caller, assessment_id: str
) -> tuple[str, str | None]:
    """`require_status(for_update=True)`, and the signed-in user making the change (None for a
    key holder without an account): who an answer revision is recorded as given by.

    A key holder without a session or API token costs no query more; one with either, one.
    """
    guarded = hot.assessment_status(session, assessment_id, for_update=True)
    status, key, member = _check_who(session, caller, guarded, assessment_id)
    if member is None and key is not None and (caller.api_token or caller.session_token):
        member = _member(session, caller, None)
    return status, None if member is None else member.user_id


def require_assessment(
    *, session: hot.Transaction, caller: Caller, assessment_id: str
) -> Opened[hot.AssessmentRow]:
    """The assessment's row and the key that opened it, if any; else `AssessmentNotFound`."""
    guarded = hot.assessment_row(session, assessment_id)
    return _check(session, caller, guarded, assessment_id)


def require_status(
    *, session: hot.Transaction, caller: Caller, assessment_id: str, for_update: bool = False
) -> str:
    """The assessment's status, if the caller may change it; else `AssessmentNotFound`.

    `for_update` locks the row until the transaction ends (see `hot.assessment_status`).
    """
    guarded = hot.assessment_status(session, assessment_id, for_update=for_update)
    return _check(session, caller, guarded, assessment_id).found


def require_owner(
    *, session: hot.Transaction, caller: Caller, assessment_id: str, role: str
) -> str:
    """The assessment's status, if the caller may manage it: its key holder, its owning user,
    or a member of its owning team whose role allows `role`'s actions (rename: member; delete
    and share links: owner). Without access `AssessmentNotFound`; a member of the team with
    too low a role, `Forbidden` (403).
    """
    guarded = hot.assessment_status(session, assessment_id)
    if guarded is None:
        raise AssessmentNotFound(assessment_id)
    if matching_key(caller, guarded.edit_key_hash, assessment_id) is not None:
        return guarded.found
    if guarded.owner_user_id is not None or guarded.team_id is not None:
        member = _member(session, caller, guarded.team_id)
        if member is not None and member.user_id == guarded.owner_user_id:
            return guarded.found
        if member is not None and guarded.team_id is not None and member.role is not None:
            if not role_allows(member.role, role):
                raise Forbidden(role)
            return guarded.found
    raise AssessmentNotFound(assessment_id)


def signed_in(*, session: Session, caller: Caller) -> str | None:
    """The id of the user the caller's API token or session belongs to, if either is live.

    An API token in the `Authorization` header wins over a session cookie.
    """
    member = _member(session, caller, None)
    return None if member is None else member.user_id


def require_user(*, session: Session, caller: Caller) -> str:
    """The signed-in user's id; `NotSignedIn` (401) without a live API token or session."""
    user_id = signed_in(session=session, caller=caller)
    if user_id is None:
        raise NotSignedIn
    return user_id


def role_allows(role: str, needed: str) -> bool:
    """Whether `role` may do what `needed` may: member < reviewer < owner."""
    return ROLES.index(role) >= ROLES.index(needed)


def require_team(
    *, session: Session, caller: Caller, team_id: str, role: str, field: str = "team_id"
) -> hot.Member:
    """The signed-in caller and their role in the team, if it allows `role`'s actions.

    Outsiders, and callers who are not signed in, get `TeamNotFound` (404, naming `field`);
    members whose role is below `role`, `Forbidden` (403).
    """
    member = _member(session, caller, team_id)
    if member is None or member.role is None:
        raise TeamNotFound(team_id, field)
    if not role_allows(member.role, role):
        raise Forbidden(role)
    return member


def is_live(link: ShareLink, now: datetime | None = None) -> bool:
    """Whether a share link still opens: not revoked, not past its expiry."""
    if link.revoked_at is not None:
        return False
    return link.expires_at is None or link.expires_at > (now or utcnow())


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


def has_accounts(session: Session) -> bool:
    """Whether anyone has signed up: until then the server has one user, the local user."""
    return session.scalar(select(User.id).limit(1)) is not None
