"""Share links over the JSON API, on SQLite and PostgreSQL: make, list, open, revoke, expire."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.conftest import bearer, expire, new_assessment

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
ANSWERS = {"gap": "knowledge", "knowledge_change": "weekly", "corpus_tokens": 6_000_000}


def _share(client: TestClient, assessment_id: str, days: int | None = 7) -> dict[str, str]:
    made = client.post(urls.shares_api(assessment_id), json={"expires_in_days": days})
    assert made.status_code == 201, made.text
    body: dict[str, str] = made.json()
    return body


def test_make_list_open_and_revoke(client: TestClient) -> None:
    assessment_id = new_assessment(client, title="Support bot", answers=ANSWERS)["id"]
    made = _share(client, assessment_id, 30)
    token = made["token"]
    assert URL_SAFE.match(token) and len(token) >= 43  # 256 bits
    assert made["url"] == f"/s/{token}"
    expires = datetime.fromisoformat(made["expires_at"])
    assert (
        timedelta(days=29) < expires.replace(tzinfo=None) - datetime.utcnow() <= timedelta(days=30)
    )
    never = _share(client, assessment_id, None)
    assert never["expires_at"] is None and never["token"] != token

    with TestClient(client.app) as anyone:  # no key, no cookie
        shown = anyone.get(urls.shared_json(token))
        assert shown.status_code == 200
        assert shown.json()["assessment"]["answers"] == ANSWERS
        assert shown.json()["assessment"]["title"] == "Support bot"
        assert shown.json()["recommendation"]["primary"] == "rag"
        assert shown.headers["referrer-policy"] == "no-referrer"
        assert "noindex" in shown.headers["x-robots-tag"]
        assert anyone.get(urls.shared(token)).status_code == 200

    listed = client.get(urls.shares_api(assessment_id)).json()
    assert [s["token"] for s in listed] == [never["token"], token]
    first = listed[1]
    assert first["url"] == made["url"] and first["revoked"] is False and first["opens"] == 2
    assert set(first) >= {"token", "url", "created_at", "expires_at", "revoked"}

    assert client.delete(urls.share_api(assessment_id, token)).status_code == 204
    assert client.delete(urls.share_api(assessment_id, token)).status_code == 204  # again: fine
    assert client.get(urls.shares_api(assessment_id)).json()[1]["revoked"] is True
    assert client.get(urls.shared_json(token)).status_code == 404


def test_revoked_expired_and_unknown_are_the_same_404(client: TestClient) -> None:
    assessment_id = new_assessment(client, answers=ANSWERS)["id"]
    revoked, expired = _share(client, assessment_id)["token"], _share(client, assessment_id)
    client.delete(urls.share_api(assessment_id, revoked))
    expire(client, expired["token"])
    unknown = "A" * 43
    for build in (urls.shared_json, urls.shared):
        answers = [client.get(build(t)) for t in (revoked, expired["token"], unknown)]
        assert {a.status_code for a in answers} == {404}
        assert len({a.text for a in answers}) == 1, "the three 404s must be indistinguishable"
        assert all(a.headers["referrer-policy"] == "no-referrer" for a in answers)
    listed = client.get(urls.shares_api(assessment_id)).json()
    assert [s["revoked"] for s in listed] == [False, True]  # expired, not revoked


def test_shares_need_the_key(client: TestClient) -> None:
    created = client.post("/api/assessments", json={}).json()
    other = client.post("/api/assessments", json={}).json()
    assessment_id, key = created["id"], created["edit_key"]
    token = client.post(
        urls.shares_api(assessment_id), json={"expires_in_days": 7}, headers=bearer(key)
    ).json()["token"]
    for headers in ({}, bearer(other["edit_key"]), bearer(token)):
        assert (
            client.post(
                urls.shares_api(assessment_id), json={"expires_in_days": 7}, headers=headers
            ).status_code
            == 404
        )
        assert client.get(urls.shares_api(assessment_id), headers=headers).status_code == 404
        assert client.delete(urls.share_api(assessment_id, token), headers=headers).status_code == (
            404
        )
    # A share token opens the page, never the assessment itself.
    put = client.put(
        f"/api/assessments/{assessment_id}/answers/gap",
        json={"value": "behavior"},
        headers=bearer(token),
    )
    assert put.status_code == 404
    # Another assessment's key holder cannot revoke this one's link through their own id.
    other_id = other["id"]
    assert (
        client.delete(
            urls.share_api(other_id, token), headers=bearer(other["edit_key"])
        ).status_code
        == 404
    )
    assert client.get(urls.shared_json(token)).status_code == 200


def test_bad_expiry_is_a_422_naming_the_choices(client: TestClient) -> None:
    assessment_id = new_assessment(client)["id"]
    for body in ({"expires_in_days": 5}, {}, {"expires_in_days": 7, "colour": "red"}):
        response = client.post(urls.shares_api(assessment_id), json=body)
        assert response.status_code == 422, body
    [error] = client.post(urls.shares_api(assessment_id), json={"expires_in_days": 5}).json()[
        "detail"
    ]
    assert error["field"] == "expires_in_days"
    assert "7" in error["message"] and "90" in error["message"]
