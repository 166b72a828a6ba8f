"""Renaming and deleting an assessment over the JSON API: who may, and what goes with it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Answer, RecommendationSnapshot, ShareLink
from tests.web.api.test_teams import invite, join, team_of, user
from tests.web.conftest import bearer, new_assessment


def test_the_key_holder_renames_and_deletes(client: TestClient) -> None:
    created = new_assessment(client, title="Old", answers={"gap": "both"})
    url, key = f"/api/assessments/{created['id']}", bearer(created["edit_key"])
    renamed = client.patch(url, json={"title": "New name"}, headers=key)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "New name"
    assert client.get(url, headers=key).json()["title"] == "New name"
    assert client.delete(url, headers=key).status_code == 204
    assert client.get(url, headers=key).status_code == 404
    assert client.delete(url, headers=key).status_code == 404


def test_a_long_title_is_refused_naming_it(client: TestClient) -> None:
    created = new_assessment(client)
    url, key = f"/api/assessments/{created['id']}", bearer(created["edit_key"])
    refused = client.patch(url, json={"title": "x" * 201}, headers=key)
    assert refused.status_code == 422
    assert "title" in refused.text
    assert client.patch(url, json={"title": "x" * 200}, headers=key).status_code == 200


def test_outsiders_get_404_and_change_nothing(client: TestClient) -> None:
    created = new_assessment(client, title="Mine")
    url = f"/api/assessments/{created['id']}"
    other = new_assessment(client)
    _, stranger = user(client, "stranger@example.org")
    for headers in ({}, bearer(other["edit_key"]), stranger):
        client.cookies.clear()
        assert client.patch(url, json={"title": "Taken"}, headers=headers).status_code == 404
        assert client.delete(url, headers=headers).status_code == 404
    kept = client.get(url, headers=bearer(created["edit_key"]))
    assert kept.status_code == 200 and kept.json()["title"] == "Mine"


def test_the_owning_user_renames_and_deletes(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    made = client.post("/api/assessments", json={"title": "Ann's"}, headers=ann)
    url = f"/api/assessments/{made.json()['id']}"
    assert client.patch(url, json={"title": "Ann's plan"}, headers=ann).status_code == 200
    assert client.delete(url, headers=ann).status_code == 204


def test_team_members_rename_only_team_owners_delete(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    _, cy = user(client, "cy@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "member"))
    join(client, cy, invite(client, ann, team_id, "reviewer"))
    made = client.post("/api/assessments", json={"title": "Team's", "team": team_id}, headers=ann)
    url = f"/api/assessments/{made.json()['id']}"
    assert client.patch(url, json={"title": "By Bea"}, headers=bea).status_code == 200
    for who in (bea, cy):
        refused = client.delete(url, headers=who)
        assert refused.status_code == 403, refused.text
    assert client.get(url, headers=ann).json()["title"] == "By Bea"
    assert client.delete(url, headers=ann).status_code == 204
    assert client.get(url, headers=bea).status_code == 404


def test_a_deleted_assessments_share_link_is_an_unknown_one(client: TestClient) -> None:
    created = new_assessment(client, title="Shared", answers={"gap": "both"})
    url, key = f"/api/assessments/{created['id']}", bearer(created["edit_key"])
    assert client.post(f"{url}/complete", headers=key).status_code == 200
    share = client.post(f"{url}/shares", json={"expires_in_days": 7}, headers=key).json()
    assert client.get(f"/s/{share['token']}.json").status_code == 200
    assert client.delete(url, headers=key).status_code == 204
    gone = client.get(f"/s/{share['token']}.json")
    unknown = client.get("/s/no-such-token.json")
    assert gone.status_code == unknown.status_code == 404
    assert gone.json() == unknown.json()
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        for table in (Answer, RecommendationSnapshot, ShareLink):
            rows = select(func.count()).where(table.assessment_id == created["id"])
            assert session.scalar(rows) == 0, table
    gone_page, unknown_page = client.get(f"/s/{share['token']}"), client.get("/s/no-such-token")
    assert gone_page.status_code == unknown_page.status_code == 404
    assert gone_page.text == unknown_page.text


def test_only_team_owners_manage_a_team_assessments_links(client: TestClient) -> None:
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    _, cy = user(client, "cy@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "member"))
    join(client, cy, invite(client, ann, team_id, "reviewer"))
    made = client.post("/api/assessments", json={"title": "Team's", "team": team_id}, headers=ann)
    shares = f"/api/assessments/{made.json()['id']}/shares"
    created = client.post(shares, json={"expires_in_days": 7}, headers=ann)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    for who in (bea, cy):
        assert client.post(shares, json={"expires_in_days": 7}, headers=who).status_code == 403
        assert client.get(shares, headers=who).status_code == 403
        assert client.delete(f"{shares}/{token}", headers=who).status_code == 403
    assert client.get(f"/s/{token}.json").status_code == 200  # still live
    assert [s["token"] for s in client.get(shares, headers=ann).json()] == [token]
    assert client.delete(f"{shares}/{token}", headers=ann).status_code == 204
    # the member still opens the result page, without the share forms
    result = client.get(f"/assessments/{made.json()['id']}/result", headers=bea)
    assert result.status_code == 200
    assert "Create share link" not in result.text
    assert "owners make and revoke" in result.text
    assert (
        "Create share link"
        in client.get(f"/assessments/{made.json()['id']}/result", headers=ann).text
    )
