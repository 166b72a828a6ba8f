"""The result page's form that moves an anonymous assessment into an account or a team."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.conftest import (
    api_token,
    one,
    parse,
    post_form,
    signed_in_browser,
    start_assessment,
)

XSS = '<script>alert("team")</script><img src=x onerror=alert(1)>'


def test_sign_in_links_when_anonymous(client: TestClient) -> None:
    assessment_id, _, _ = start_assessment(client)
    section = one(client.get(urls.result(assessment_id)).text, "#claim")
    assert section.select_one("form") is None
    assert {a["href"] for a in section.select("a")} == {urls.signin(), urls.signup()}


def test_claim_into_a_team_through_the_form(client: TestClient) -> None:
    assessment_id, _, token = start_assessment(client)
    signed_in_browser(client, "ann@example.org")
    ann = api_token(client, "ann@example.org")
    team = client.post("/api/teams", json={"name": XSS}, headers=ann).json()
    page = client.get(urls.result(assessment_id)).text
    form = one(page, "#claim form")
    assert form["action"] == urls.claim(assessment_id) and form["method"] == "post"
    options = [(o["value"], o.get_text()) for o in form.select("option")]
    assert options == [("", "My account"), (team["id"], f"Team: {XSS}")]
    # The name is text, never markup.
    assert not parse(page).select("#claim script, #claim img")
    # Without the form's token nothing moves.
    refused = post_form(client, urls.claim(assessment_id), None, team=team["id"])
    assert refused.status_code == 403
    moved = post_form(client, urls.claim(assessment_id), token, team=team["id"])
    assert moved.status_code == 303
    assert moved.headers["location"] == urls.claim_section(assessment_id)
    # A new member reaches it without the key.
    invite = client.post(
        f"/api/teams/{team['id']}/invites", json={"role": "member"}, headers=ann
    ).json()
    with TestClient(client.app) as other:
        signed_in_browser(other, "bea@example.org")
        bea = api_token(other, "bea@example.org")
        assert other.get(f"/api/assessments/{assessment_id}", headers=bea).status_code == 404
        assert other.post(f"/api/invites/{invite['token']}/accept", headers=bea).is_success
        assert other.get(f"/api/assessments/{assessment_id}", headers=bea).status_code == 200
        assert other.get(urls.result(assessment_id)).status_code == 200  # by session cookie
    section = one(client.get(urls.result(assessment_id)).text, "#claim")
    assert XSS in section.get_text() and section.select_one("form") is None
