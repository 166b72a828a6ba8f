"""Accounts: sign up, passwords (argon2), sessions, personal API tokens and the sign-in limit.

Passwords are hashed with argon2 through pwdlib. Sessions and API tokens are 256-bit random
secrets stored as their SHA-256, shown once. Failed sign-ins are counted per account and per
client address in the `sign_in_failures` table, so that every server process counts the same
(docs/adr/0007); a refusal never says whether the email has an account.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import (
    ApiToken,
    Membership,
    SignInFailure,
    Team,
    User,
    UserSession,
    new_secret,
    new_token,
    secret_hash,
    utcnow,
)
from app.services.access import API_TOKEN_PREFIX, Caller, require_user, signed_in

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this bounds the work one request can ask for
SESSION_DAYS = 30
# At most this many failures in the window, per account and per client address.
FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A refused sign-up or change, naming the field concerned."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class EmailTaken(AccountError):
    """Another account has that email (409)."""

    def __init__(self) -> None:
        super().__init__("email", "an account with this email already exists")


class WrongCredentials(PermissionError):
    """The email and password do not match an account (401); which one is never said."""

    def __init__(self) -> None:
        super().__init__("the email or the password is wrong")


class TooManyAttempts(PermissionError):
    """Too many failed sign-ins for this account or from this address (429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} seconds")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Account:
    """A user as the API shows it."""

    id: str
    email: str


@dataclass(frozen=True)
class TeamRole:
    """One of a user's teams and the user's role in it."""

    id: str
    name: str
    role: str


@dataclass(frozen=True)
class Me:
    """The signed-in user and their teams."""

    id: str
    email: str
    teams: list[TeamRole]


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@cache
def _unknown_hash() -> str:
    """A hash to verify against when the email is unknown, so both cost the same time."""
    return _hasher().hash(new_secret())


def normalized_email(email: str) -> str:
    """Emails are compared trimmed and lowercased."""
    return email.strip().lower()


def check_password(password: str) -> None:
    """Raise `AccountError` for a password too short (or absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError("password", f"must be at most {MAX_PASSWORD} characters")


def create_user(*, session: Session, email: str, password: str) -> Account:
    """A new account; `EmailTaken` if the email has one, `AccountError` for bad input."""
    email = normalized_email(email)
    if len(email) > 320 or not _EMAIL.match(email):
        raise AccountError("email", "is not an email address")
    check_password(password)
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise EmailTaken
    user = User(
        id=new_token(), email=email, password_hash=_hasher().hash(password), created_at=utcnow()
    )
    try:
        with session.begin_nested():  # two sign-ups racing for one email: the second is a 409
            session.add(user)
    except IntegrityError as exc:
        raise EmailTaken from exc
    return Account(user.id, user.email)


@dataclass(frozen=True)
class Refused:
    """A refused sign-in, to raise once its failure is recorded (committed)."""

    retry_after_s: int | None  # None: wrong credentials; a number: too many attempts

    def error(self) -> WrongCredentials | TooManyAttempts:
        """The exception to answer with."""
        if self.retry_after_s is None:
            return WrongCredentials()
        return TooManyAttempts(self.retry_after_s)


def _subjects(email: str, address: str | None) -> list[tuple[str, int]]:
    subjects = [(f"account:{secret_hash(normalized_email(email))}", ACCOUNT_FAILURES)]
    if address:
        subjects.append((f"address:{address[:90]}", ADDRESS_FAILURES))
    return subjects


def _retry_after(session: Session, subject: str, limit: int, now: datetime) -> int | None:
    """Seconds until `subject` may try again, or None if it may now."""
    since = now - FAILURE_WINDOW
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.subject == subject, SignInFailure.failed_at <= since
        )
    )
    recent = session.scalars(
        select(SignInFailure.failed_at)
        .where(SignInFailure.subject == subject, SignInFailure.failed_at > since)
        .order_by(SignInFailure.failed_at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    oldest = recent[-1]
    return max(1, math.ceil((oldest + FAILURE_WINDOW - now).total_seconds()))


def authenticate(
    *, session: Session, email: str, password: str, address: str | None
) -> str | Refused:
    """The user's id if the password is right; else a `Refused`, its failure recorded.

    The transaction must be committed before the refusal is raised, or the failure is lost.
    """
    now = utcnow()
    subjects = _subjects(email, address)
    waits = [w for s, limit in subjects if (w := _retry_after(session, s, limit, now))]
    if waits:
        return Refused(max(waits))
    user = session.scalars(select(User).where(User.email == normalized_email(email))).first()
    hasher = _hasher()
    if user is None:
        hasher.verify(password, _unknown_hash())
        valid, new_hash = False, None
    else:
        valid, new_hash = hasher.verify_and_update(password, user.password_hash)
    if user is None or not valid:
        session.add_all(SignInFailure(subject=s, failed_at=now) for s, _ in subjects)
        return Refused(None)
    if new_hash is not None:  # the recommended parameters changed since
        user.password_hash = new_hash
    session.execute(delete(SignInFailure).where(SignInFailure.subject == subjects[0][0]))
    return user.id


def create_api_token(*, session: Session, user_id: str, name: str) -> str:
    """A new personal API token for the user: returned this once, stored hashed."""
    token = API_TOKEN_PREFIX + new_secret()
    session.add(
        ApiToken(
            id=new_token(),
            user_id=user_id,
            name=name[:100],
            token_hash=secret_hash(token),
            created_at=utcnow(),
            last_used_at=None,
            revoked_at=None,
        )
    )
    return token


def start_session(*, session: Session, user_id: str, user_agent: str | None) -> str:
    """A new signed-in session for the user: its cookie value, stored hashed."""
    token = new_secret()
    now = utcnow()
    session.add(
        UserSession(
            id=new_token(),
            user_id=user_id,
            token_hash=secret_hash(token),
            user_agent=(user_agent or "")[:200] or None,
            created_at=now,
            expires_at=now + timedelta(days=SESSION_DAYS),
            revoked_at=None,
        )
    )
    return token


def end_session(*, session: Session, token: str) -> None:
    """Sign a session out (an unknown or ended one is fine)."""
    row = session.scalars(
        select(UserSession).where(UserSession.token_hash == secret_hash(token))
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def me(*, session: Session, caller: Caller) -> Me:
    """The signed-in user and their teams; `NotSignedIn` without credentials."""
    user_id = require_user(session=session, caller=caller)
    user = session.get_one(User, user_id)
    rows = session.execute(
        select(Team.id, Team.name, Membership.role)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user_id)
        .order_by(func.lower(Team.name), Team.id)
    ).all()
    return Me(user.id, user.email, [TeamRole(r.id, r.name, r.role) for r in rows])


def current(*, session: Session, caller: Caller) -> Account | None:
    """The signed-in user, or None."""
    if caller.session_token is None and caller.api_token is None:
        return None
    user_id = signed_in(session=session, caller=caller)
    user = session.get(User, user_id) if user_id is not None else None
    return Account(user.id, user.email) if user is not None else None


class NotYours(LookupError):
    """No API token or session of the signed-in user has that id (404)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"you have no {field.removesuffix('_id').replace('_', ' ')} with that id")
        self.field = field


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class SessionInfo:
    id: str
    user_agent: str | None
    created_at: datetime
    expires_at: datetime
    current: bool


@dataclass(frozen=True)
class AccountView:
    """What the account page shows: the user, their API tokens and live sessions."""

    account: Account
    tokens: list[TokenInfo]
    sessions: list[SessionInfo]


def account_view(*, session: Session, caller: Caller) -> AccountView:
    """The signed-in user's API tokens (newest first) and live sessions."""
    user_id = require_user(session=session, caller=caller)
    user = session.get_one(User, user_id)
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
    ).all()
    now = utcnow()
    mine = secret_hash(caller.session_token) if caller.session_token else None
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.created_at.desc())
    ).all()
    return AccountView(
        Account(user.id, user.email),
        [
            TokenInfo(
                t.id,
                t.name,
                t.created_at,
                t.last_used_at if t.last_used_at else None,
                t.revoked_at is not None,
            )
            for t in tokens
        ],
        [
            SessionInfo(s.id, s.user_agent, s.created_at, s.expires_at, s.token_hash == mine)
            for s in rows
            if s.expires_at > now
        ],
    )


def change_password(
    *, session: Session, caller: Caller, current_password: str, new_password: str
) -> None:
    """Change the signed-in user's password; every other session of theirs ends."""
    user_id = require_user(session=session, caller=caller)
    user = session.get_one(User, user_id)
    if not _hasher().verify(current_password, user.password_hash):
        raise AccountError("current_password", "is not your current password")
    check_password(new_password)
    user.password_hash = _hasher().hash(new_password)
    keep = secret_hash(caller.session_token) if caller.session_token else ""
    session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.token_hash != keep,
        )
        .values(revoked_at=utcnow())
    )


def revoke_api_token(*, session: Session, caller: Caller, token_id: str) -> None:
    """Revoke one of the signed-in user's API tokens (again is fine)."""
    user_id = require_user(session=session, caller=caller)
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotYours("token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def revoke_session(*, session: Session, caller: Caller, session_id: str) -> None:
    """Sign one of the signed-in user's sessions out."""
    user_id = require_user(session=session, caller=caller)
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotYours("session_id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
