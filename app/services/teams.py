"""Teams: create one, invite by single-use link, accept, change roles, remove and leave.

Who may do what is decided in `app.services.access.require_team` (outsiders 404, members
without the role 403). Invites are 256-bit tokens stored as their SHA-256, shown once, used
once, expiring after `INVITE_DAYS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import (
    ROLES,
    Assessment,
    Invite,
    Membership,
    Team,
    User,
    new_secret,
    new_token,
    secret_hash,
    utcnow,
)
from app.services.access import (
    Caller,
    Forbidden,
    TeamNotFound,
    require_team,
    require_user,
    role_allows,
)
from app.services.accounts import AccountError

INVITE_DAYS = 7
MAX_NAME = 100

__all__ = ["ROLES", "Forbidden", "TeamNotFound"]


class InviteNotFound(LookupError):
    """No unused, unexpired invite has that token: used, expired and unknown look the same."""

    def __init__(self) -> None:
        super().__init__("this invitation is unknown, used or expired; ask for a new one")


class MemberNotFound(LookupError):
    """The team has no member with that user id."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"the team has no member with id {user_id!r}")
        self.user_id = user_id


class LastOwner(AccountError):
    """The change would leave the team without an owner (422)."""

    def __init__(self, field: str) -> None:
        super().__init__(field, "a team needs an owner: make someone else owner first")


@dataclass(frozen=True)
class TeamInfo:
    id: str
    name: str


@dataclass(frozen=True)
class MemberInfo:
    user_id: str
    email: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class TeamAssessment:
    id: str
    title: str | None
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class TeamDetail:
    """A team as its members see it."""

    team: TeamInfo
    user_id: str
    role: str
    members: list[MemberInfo]
    assessments: list[TeamAssessment]


@dataclass(frozen=True)
class InviteMade:
    token: str
    role: str
    expires_at: datetime


@dataclass(frozen=True)
class Joined:
    team: TeamInfo
    role: str


def team_name(name: str) -> str:
    """A team name, trimmed; `AccountError` when empty or too long."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise AccountError("name", f"must be 1 to {MAX_NAME} characters")
    return name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError("role", f"must be one of {', '.join(ROLES)}")


def create_team(*, session: Session, caller: Caller, name: str) -> TeamInfo:
    """A new team with the signed-in caller as its owner."""
    user_id = require_user(session=session, caller=caller)
    now = utcnow()
    team = Team(id=new_token(), name=team_name(name), created_at=now)
    session.add(team)
    session.flush()  # no ORM relationship orders the two inserts: the team goes first
    session.add(Membership(team_id=team.id, user_id=user_id, role="owner", created_at=now))
    session.flush()
    return TeamInfo(team.id, team.name)


def create_invite(*, session: Session, caller: Caller, team_id: str, role: str) -> InviteMade:
    """A single-use invitation into the team with `role` (owners only)."""
    require_team(session=session, caller=caller, team_id=team_id, role="owner")
    _check_role(role)
    token = new_secret()
    now = utcnow()
    invite = Invite(
        id=new_token(),
        team_id=team_id,
        token_hash=secret_hash(token),
        role=role,
        created_at=now,
        expires_at=now + timedelta(days=INVITE_DAYS),
        used_at=None,
        used_by=None,
    )
    session.add(invite)
    return InviteMade(token, role, invite.expires_at)


def invite_team(*, session: Session, token: str) -> Joined:
    """The team and role an unused, unexpired invite offers; else `InviteNotFound`."""
    invite = _live_invite(session, token)
    team = session.get_one(Team, invite.team_id)
    return Joined(TeamInfo(team.id, team.name), invite.role)


def _live_invite(session: Session, token: str) -> Invite:
    invite = session.scalars(select(Invite).where(Invite.token_hash == secret_hash(token))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        raise InviteNotFound
    return invite


def accept_invite(*, session: Session, caller: Caller, token: str) -> Joined:
    """Join the invite's team (signed in); the invite is used up. A member already in the team
    keeps the higher of the two roles."""
    user_id = require_user(session=session, caller=caller)
    invite = _live_invite(session, token)
    # Used once, even by two requests at the same moment: only one update finds it unused.
    used = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=utcnow(), used_by=user_id)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteNotFound
    membership = session.get(Membership, (invite.team_id, user_id))
    if membership is None:
        membership = Membership(
            team_id=invite.team_id, user_id=user_id, role=invite.role, created_at=utcnow()
        )
        session.add(membership)
    elif role_allows(invite.role, membership.role):
        membership.role = invite.role
    team = session.get_one(Team, invite.team_id)
    return Joined(TeamInfo(team.id, team.name), membership.role)


def _owners(session: Session, team_id: str) -> list[str]:
    """The team's owners, locked until the transaction ends (two leaving at once)."""
    return list(
        session.scalars(
            select(Membership.user_id)
            .where(Membership.team_id == team_id, Membership.role == "owner")
            .with_for_update()
        )
    )


def _target(session: Session, team_id: str, user_id: str) -> Membership:
    membership = session.get(Membership, (team_id, user_id))
    if membership is None:
        raise MemberNotFound(user_id)
    return membership


def remove_member(*, session: Session, caller: Caller, team_id: str, user_id: str) -> None:
    """Remove a member (owners), or leave (anyone); the last owner cannot leave."""
    me = require_team(session=session, caller=caller, team_id=team_id, role="member")
    if user_id != me.user_id and not role_allows(me.role or "member", "owner"):
        raise Forbidden("owner")
    target = _target(session, team_id, user_id)
    if target.role == "owner" and _owners(session, team_id) == [user_id]:
        raise LastOwner("user_id")
    session.delete(target)


def change_role(*, session: Session, caller: Caller, team_id: str, user_id: str, role: str) -> None:
    """Give a member another role (owners); the last owner cannot step down."""
    require_team(session=session, caller=caller, team_id=team_id, role="owner")
    _check_role(role)
    target = _target(session, team_id, user_id)
    if target.role == "owner" and role != "owner" and _owners(session, team_id) == [user_id]:
        raise LastOwner("role")
    target.role = role


def team_detail(*, session: Session, caller: Caller, team_id: str) -> TeamDetail:
    """The team, its members and its assessments, for one of its members."""
    me = require_team(session=session, caller=caller, team_id=team_id, role="member")
    team = session.get_one(Team, team_id)
    members = session.execute(
        select(User.id, User.email, Membership.role, Membership.created_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id)
        .order_by(Membership.created_at, User.email)
    ).all()
    owned = session.execute(
        select(Assessment.id, Assessment.title, Assessment.status, Assessment.updated_at)
        .where(Assessment.team_id == team_id)
        .order_by(Assessment.updated_at.desc(), Assessment.id)
    ).all()
    return TeamDetail(
        TeamInfo(team.id, team.name),
        me.user_id,
        me.role or "member",
        [MemberInfo(m.id, m.email, m.role, m.created_at) for m in members],
        [TeamAssessment(a.id, a.title, a.status, a.updated_at) for a in owned],
    )


def is_member(*, session: Session, caller: Caller, team_id: str) -> bool:
    """Whether the signed-in caller is (still) in the team."""
    try:
        require_team(session=session, caller=caller, team_id=team_id, role="member")
    except TeamNotFound:
        return False
    return True
