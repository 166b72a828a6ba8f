"""What the team pages show: members, assessments, invitations."""

from __future__ import annotations

from typing import Any

from app.decision.bank import BANK
from app.models import ROLES
from app.services.accounts import Account, Me
from app.services.ownership import Listed
from app.services.teams import InviteMade, Joined, TeamDetail
from app.web.presenters import urls

ROLE_LABELS = {
    "member": "Member: creates and edits the team's assessments",
    "reviewer": "Reviewer: also approves or requests changes",
    "owner": "Owner: also manages members, invitations and links",
}


def team_context(
    detail: TeamDetail,
    *,
    new_invite: InviteMade | None = None,
    base_url: str = "",
    error: str | None = None,
) -> dict[str, Any]:
    """Context of a team's page."""
    team_id = detail.team.id
    return {
        "ruleset": BANK.version,
        "team": detail.team,
        "role": detail.role,
        "is_owner": detail.role == "owner",
        "members": [
            {
                "email": m.email,
                "role": m.role,
                "is_me": m.user_id == detail.user_id,
                "joined": m.joined_at,
                "role_url": urls.member_role(team_id, m.user_id),
                "remove_url": urls.member_removal(team_id, m.user_id),
            }
            for m in detail.members
        ],
        "assessments": [
            {
                "title": a.title or "Untitled assessment",
                "status": a.status,
                "updated_at": a.updated_at,
                "url": urls.assessment(a.id),
            }
            for a in detail.assessments
        ],
        "invite_url": urls.team_invites(team_id),
        "dashboard_url": urls.team_dashboard(team_id),
        "webhook_url": urls.team_webhook(team_id),
        "error": error,
        "roles": [(role, ROLE_LABELS[role]) for role in ROLES],
        "new_invite": (
            {
                "url": urls.absolute(base_url, urls.invite(new_invite.token)),
                "role": new_invite.role,
                "expires_at": new_invite.expires_at,
            }
            if new_invite
            else None
        ),
    }


def invite_context(token: str, offered: Joined, account: Account | None) -> dict[str, Any]:
    """Context of an invitation's page."""
    return {
        "ruleset": BANK.version,
        "team_name": offered.team.name,
        "role": offered.role,
        "role_label": ROLE_LABELS[offered.role],
        "account": account,
        "accept_url": urls.invite(token),
        "signup_url": urls.signup(token),
        "signin_url": urls.signin(token),
    }


def teams_context(me: Me, *, name: str = "", error: str | None = None) -> dict[str, Any]:
    """Context of the teams page."""
    return {
        "ruleset": BANK.version,
        "teams": [{"name": t.name, "role": t.role, "url": urls.team(t.id)} for t in me.teams],
        "create_url": urls.teams(),
        "name": name,
        "error": error,
    }


def _rows(listed: list[Listed]) -> list[dict[str, Any]]:
    return [
        {
            "title": a.title or "Untitled assessment",
            "status": a.status.replace("_", " "),
            "updated_at": a.updated_at,
            "team": a.team_name,
            "url": urls.assessment(a.id),
        }
        for a in listed
    ]


def mine_context(account: Account | None, mine: list[Listed], held: list[Listed]) -> dict[str, Any]:
    """Context of "My assessments": owned ones (signed in), then those held by key."""
    owned = {a.id for a in mine}
    return {
        "ruleset": BANK.version,
        "account": account,
        "mine": _rows(mine),
        "held": _rows([a for a in held if a.id not in owned]),
        "signin_url": urls.signin(),
        "start_url": urls.home(),
    }
