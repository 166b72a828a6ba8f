"""Teams over the JSON API, and assessments owned by a user or a team."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.models import Invite, secret_hash, utcnow
from tests.web.api.test_accounts import sign_up, token_for
from tests.web.conftest import bearer


def user(client: TestClient, email: str) -> tuple[str, dict[str, str]]:
    """A new account: its id and the header that signs it in."""
    created = sign_up(client, email)
    return created["id"], bearer(token_for(client, email))


def team_of(client: TestClient, owner: dict[str, str], name: str = "Platform") -> str:
    made = client.post("/api/teams", json={"name": name}, headers=owner)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == name
    team_id: str = made.json()["id"]
    return team_id


def invite(client: TestClient, owner: dict[str, str], team_id: str, role: str = "member") -> str:
    made = client.post(f"/api/teams/{team_id}/invites", json={"role": role}, headers=owner)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["url"] == f"/invites/{body['token']}" and body["expires_at"]
    token: str = body["token"]
    return token


def join(client: TestClient, who: dict[str, str], token: str) -> dict[str, object]:
    accepted = client.post(f"/api/invites/{token}/accept", headers=who)
    assert accepted.status_code == 200, accepted.text
    joined: dict[str, object] = accepted.json()
    return joined


def test_create_invite_accept_and_see_it_in_me(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    team_id = team_of(client, ann)
    assert client.get("/api/me", headers=ann).json()["teams"] == [
        {"id": team_id, "name": "Platform", "role": "owner"}
    ]
    joined = join(client, bea, invite(client, ann, team_id, "reviewer"))
    assert joined == {"team": {"id": team_id, "name": "Platform"}, "role": "reviewer"}
    assert client.get("/api/me", headers=bea).json()["teams"][0]["role"] == "reviewer"


def test_an_invite_is_single_use_and_expires(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    _, cy = user(client, "cy@example.org")
    team_id = team_of(client, ann)
    token = invite(client, ann, team_id)
    join(client, bea, token)
    assert client.post(f"/api/invites/{token}/accept", headers=cy).status_code == 404
    late = invite(client, ann, team_id)
    with client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            update(Invite)
            .where(Invite.token_hash == secret_hash(late))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = client.post(f"/api/invites/{late}/accept", headers=cy)
    unknown = client.post("/api/invites/not-a-token/accept", headers=cy)
    assert expired.status_code == unknown.status_code == 404
    assert expired.json() == unknown.json()
    assert client.get("/api/me", headers=cy).json()["teams"] == []
    # Accepting needs an account as such.
    assert client.post(f"/api/invites/{invite(client, ann, team_id)}/accept").status_code == 401


def test_outsiders_404_members_403_owners_manage(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    bea_id, bea = user(client, "bea@example.org")
    _, out = user(client, "out@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id))
    for who, code in ((out, 404), ({}, 404), (bea, 403)):
        made = client.post(f"/api/teams/{team_id}/invites", json={"role": "owner"}, headers=who)
        assert made.status_code == code, who
    ann_id = client.get("/api/me", headers=ann).json()["id"]
    assert client.delete(f"/api/teams/{team_id}/members/{ann_id}", headers=bea).status_code == 403
    assert client.delete(f"/api/teams/{team_id}/members/{ann_id}", headers=out).status_code == 404
    # The last owner cannot leave; a member can; an owner removes.
    last = client.delete(f"/api/teams/{team_id}/members/{ann_id}", headers=ann)
    assert last.status_code == 422 and last.json()["detail"][0]["field"] == "user_id"
    assert client.delete(f"/api/teams/{team_id}/members/{bea_id}", headers=bea).status_code == 204
    assert client.get("/api/me", headers=bea).json()["teams"] == []
    join(client, bea, invite(client, ann, team_id))
    assert client.delete(f"/api/teams/{team_id}/members/{bea_id}", headers=ann).status_code == 204
    gone = client.delete(f"/api/teams/{team_id}/members/{bea_id}", headers=ann)
    assert gone.status_code == 404 and gone.json()["detail"][0]["field"] == "user_id"
    # With a second owner, the first may leave.
    join(client, bea, invite(client, ann, team_id, "owner"))
    assert client.delete(f"/api/teams/{team_id}/members/{ann_id}", headers=ann).status_code == 204


def test_team_names_and_roles_are_checked(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    assert client.post("/api/teams", json={"name": ""}, headers=ann).status_code == 422
    assert client.post("/api/teams", json={"name": "   "}, headers=ann).status_code == 422
    assert client.post("/api/teams", json={"name": "x"}).status_code == 401
    team_id = team_of(client, ann)
    bad = client.post(f"/api/teams/{team_id}/invites", json={"role": "admin"}, headers=ann)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "role"


def test_owned_assessments_open_for_their_owners_and_team_only(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    _, out = user(client, "out@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id))
    mine = client.post("/api/assessments", json={"title": "mine"}, headers=ann)
    ours = client.post("/api/assessments", json={"title": "ours", "team": team_id}, headers=bea)
    assert mine.status_code == ours.status_code == 201
    assert "edit_key" not in mine.json() and "edit_key" not in ours.json()
    anonymous = client.post("/api/assessments", json={})
    assert "edit_key" in anonymous.json()
    mine_url, ours_url = (f"/api/assessments/{r.json()['id']}" for r in (mine, ours))
    assert client.get(mine_url, headers=ann).status_code == 200
    assert client.get(mine_url, headers=bea).status_code == 404
    for who in (ann, bea):
        assert client.put(f"{ours_url}/answers/gap", json={"value": "both"}, headers=who).is_success
    for who in (out, {}):
        assert client.get(ours_url, headers=who).status_code == 404
    elsewhere = client.post("/api/assessments", json={"team": team_id}, headers=out)
    assert elsewhere.status_code == 404 and elsewhere.json()["detail"][0]["field"] == "team"
    # Leaving the team leaves its assessments behind.
    bea_id = client.get("/api/me", headers=bea).json()["id"]
    assert client.delete(f"/api/teams/{team_id}/members/{bea_id}", headers=bea).status_code == 204
    assert client.get(ours_url, headers=bea).status_code == 404


def test_claim_an_anonymous_assessment_into_an_account_or_a_team(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    team_id = team_of(client, ann)
    created = client.post("/api/assessments", json={"title": "found"}).json()
    url = f"/api/assessments/{created['id']}"
    key = created["edit_key"]
    # Signed in but without the key: nothing to claim.
    assert client.post(f"{url}/claim", json={}, headers=ann).status_code == 404
    # The key without an account: who would own it?
    assert client.post(f"{url}/claim", json={}, headers=bearer(key)).status_code == 401
    client.cookies.set(f"advisor_key_{created['id']}", key)
    claimed = client.post(f"{url}/claim", json={}, headers=ann)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["team"] is None and claimed.json()["owner_user_id"]
    client.cookies.clear()
    assert client.get(url, headers=ann).status_code == 200
    # Into a team ann is in: bea, not in it, cannot; once in, sees it.
    moved = client.post(f"{url}/claim", json={"team": team_id}, headers=ann)
    assert moved.status_code == 200 and moved.json()["team"]["id"] == team_id
    assert client.get(url, headers=bea).status_code == 404
    join(client, bea, invite(client, ann, team_id))
    assert client.get(url, headers=bea).status_code == 200
    # A member without the key may not take the team's assessment for themselves.
    assert client.post(f"{url}/claim", json={}, headers=bea).status_code == 404
    _, out = user(client, "out@example.org")
    client.cookies.set(f"advisor_key_{created['id']}", key)
    not_theirs = client.post(f"{url}/claim", json={"team": team_id}, headers=out)
    assert not_theirs.status_code == 404 and not_theirs.json()["detail"][0]["field"] == "team"
