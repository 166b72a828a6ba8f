"""Edit keys over the JSON API: shown once, sent as a bearer token, required on every call."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import bearer

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def test_the_key_is_returned_once_and_is_unguessable(client: TestClient) -> None:
    created = client.post("/api/assessments", json={"title": "keyed"})
    assert created.status_code == 201
    key = created.json()["edit_key"]
    assert URL_SAFE.match(key) and len(key) >= 43  # 256 bits in url-safe base64
    assert len({client.post("/api/assessments", json={}).json()["edit_key"] for _ in range(5)}) == 5
    assessment_id = created.json()["id"]
    fetched = client.get(f"/api/assessments/{assessment_id}", headers=bearer(key))
    assert fetched.status_code == 200
    assert "edit_key" not in fetched.json()


def test_every_call_needs_the_key(client: TestClient) -> None:
    created = client.post("/api/assessments", json={}).json()
    base = f"/api/assessments/{created['id']}"
    other_key = client.post("/api/assessments", json={}).json()["edit_key"]
    calls = [
        ("GET", base, None),
        ("PUT", f"{base}/answers/gap", {"value": "knowledge"}),
        ("GET", f"{base}/history", None),
        ("POST", f"{base}/complete", None),
    ]
    for headers in ({}, bearer(other_key), bearer("not-a-key"), {"Authorization": "Basic x"}):
        for method, url, body in calls:
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code == 404, (method, url, headers)
            assert response.json()["detail"][0]["type"] == "not_found"
    for method, url, body in calls:
        response = client.request(method, url, json=body, headers=bearer(created["edit_key"]))
        assert response.status_code == 200, (method, url)


def test_cookies_alone_do_not_change_anything_from_another_site(client: TestClient) -> None:
    created = client.post("/api/assessments", json={}).json()
    client.cookies.set(f"advisor_key_{created['id']}", created["edit_key"])
    url = f"/api/assessments/{created['id']}/answers/gap"
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = client.put(url, json={"value": "knowledge"}, headers=headers)
        assert refused.status_code == 404
    same_site = client.put(
        url, json={"value": "knowledge"}, headers={"Origin": "http://testserver"}
    )
    assert same_site.status_code == 200
    # Reading with cookies is fine: another site cannot read the answer.
    assert client.get(f"/api/assessments/{created['id']}").status_code == 200
