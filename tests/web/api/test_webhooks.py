"""A team's webhook: owners manage it; review events reach a real local receiver, signed with
HMAC-SHA256, retried after a failure, and logged; a pending delivery survives a restart."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services import webhooks
from app.settings import Settings
from app.storage import unit_of_work
from tests.web.api.test_teams import invite, join, team_of, user


class Receiver:
    """An HTTP server on a free local port that answers each POST with the next status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"only {len(self.received)} of {count} arrived"
            time.sleep(0.02)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver([500, 200])
    yield made
    made.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receiver listens on 127.0.0.1: private targets allowed, as in development
    (tests/web/api/test_webhook_targets.py tests the default, which refuses them)."""
    return settings.model_copy(update={"webhook_allow_private_targets": True})


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's own sender retries after 0.2 s (then 0.4 ...) and polls every 0.1 s."""
    monkeypatch.setattr(webhooks, "FIRST_RETRY_S", 0.2)
    monkeypatch.setattr(webhooks, "POLL_S", 0.1)


def _team_assessment(client: TestClient) -> tuple[str, dict[str, str], dict[str, str], str]:
    """A team (owner ann, member bea) and one of its assessments."""
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "reviewer"))
    made = client.post("/api/assessments", json={"team": team_id, "title": "Bot"}, headers=ann)
    assert made.status_code == 201, made.text
    return team_id, ann, bea, made.json()["id"]


def _event(client: TestClient, assessment_id: str, action: str = "approved") -> None:
    """A review event, queued as the audit function queues it, in a transaction of its own."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with unit_of_work(engine, write=True) as session:
        webhooks.enqueue(
            session,
            assessment_id=assessment_id,
            event=action,
            actor=None,
            detail={"revision": 3},
            at=webhooks.utcnow(),
        )


def test_owners_manage_the_webhook(client: TestClient) -> None:
    team_id, ann, bea, _ = _team_assessment(client)
    _, outsider = user(client, "out@example.org")
    path = f"/api/teams/{team_id}/webhook"
    assert client.get(path, headers=ann).json()["url"] is None

    made = client.put(path, json={"url": "https://hooks.example.org/x"}, headers=ann)
    assert made.status_code == 200, made.text
    secret = made.json()["secret"]
    assert len(secret) >= 32 and made.json()["secret_hint"] == f"…{secret[-4:]}"
    shown = client.get(path, headers=ann).json()
    assert shown["url"] == "https://hooks.example.org/x" and shown["secret"] is None

    chosen = client.put(path, json={"url": "http://127.0.0.1:9/y", "secret": "s" * 20}, headers=ann)
    assert chosen.json()["secret"] == "s" * 20

    for body, field in (
        ({"url": "ftp://example.org/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://user:pw@example.org/"}, "url"),
        ({"url": "https://example.org/", "secret": "short"}, "secret"),
    ):
        refused = client.put(path, json=body, headers=ann)
        assert refused.status_code == 422, body
        assert refused.json()["detail"][0]["field"] == field

    for method in ("get", "put", "delete"):
        kwargs: dict[str, Any] = {"json": {"url": "https://e.org/"}} if method == "put" else {}
        assert getattr(client, method)(path, headers=bea, **kwargs).status_code == 403
        refused = getattr(client, method)(path, headers=outsider, **kwargs)
        assert refused.status_code == 404 and "example" not in refused.text
    assert client.delete(path, headers=ann).status_code == 204
    assert client.delete(path, headers=ann).status_code == 404


def test_an_event_is_signed_retried_and_logged(client: TestClient, receiver: Receiver) -> None:
    team_id, ann, _, assessment_id = _team_assessment(client)
    path = f"/api/teams/{team_id}/webhook"
    secret = client.put(path, json={"url": receiver.url}, headers=ann).json()["secret"]

    _event(client, assessment_id)
    receiver.wait_for(2)  # a 500, then after the backoff a 200
    first, second = receiver.received
    assert first["body"] == second["body"]
    for request in receiver.received:
        headers = request["headers"]
        assert headers["X-Advisor-Event"] == "approved"
        assert webhooks.verify(secret, headers["X-Advisor-Signature"], request["body"])
        assert not webhooks.verify(
            "another secret!!", headers["X-Advisor-Signature"], request["body"]
        )
        assert not webhooks.verify(secret, headers["X-Advisor-Signature"], request["body"] + b" ")
    payload = json.loads(first["body"])
    assert payload["event"] == "approved" and payload["team_id"] == team_id
    assert payload["assessment"] == {"id": assessment_id, "title": "Bot"}
    assert payload["detail"] == {"revision": 3}

    deadline = time.monotonic() + 10
    while (log := client.get(path, headers=ann).json()["deliveries"])[0]["state"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    delivery = log[0]
    assert delivery["state"] == "delivered" and delivery["attempts"] == 2
    assert [t["status"] for t in delivery["tries"]] == [500, 200]
    assert delivery["last_status"] == 200 and delivery["delivered_at"]

    page = client.get(f"/teams/{team_id}/webhook", headers=ann)
    assert page.status_code == 200 and "HTTP 500" in page.text and "delivered" in page.text


def test_a_signature_expires(client: TestClient) -> None:
    body = b'{"event": "approved"}'
    header = webhooks.sign("a secret of twenty chars", body, 1_000_000)
    assert webhooks.verify("a secret of twenty chars", header, body, now=1_000_100)
    assert not webhooks.verify("a secret of twenty chars", header, body, now=1_000_400)
    assert not webhooks.verify("a secret of twenty chars", "t=x,v1=00", body)


@pytest.fixture
def two_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's sender gives up after two attempts (asked for before the app is made)."""
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 2)


def test_no_webhook_no_delivery_and_gives_up_after_the_last_attempt(
    two_attempts: None, client: TestClient, receiver: Receiver
) -> None:
    team_id, ann, _, assessment_id = _team_assessment(client)
    path = f"/api/teams/{team_id}/webhook"
    _event(client, assessment_id)  # no webhook yet: nothing queued
    assert client.get(path, headers=ann).json()["deliveries"] == []

    receiver.statuses[:] = [500, 503, 500]
    client.put(path, json={"url": receiver.url}, headers=ann)
    _event(client, assessment_id)
    deadline = time.monotonic() + 10
    while (log := client.get(path, headers=ann).json()["deliveries"])[0]["state"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert log[0]["state"] == "failed" and log[0]["attempts"] == 2
    assert log[0]["last_error"] == "HTTP 503" and len(receiver.received) == 2


def test_a_pending_delivery_survives_a_restart(settings: Settings, receiver: Receiver) -> None:
    receiver.statuses[:] = []
    app = create_app(settings)
    with TestClient(app) as client:
        team_id, ann, _, assessment_id = _team_assessment(client)
        client.put(f"/api/teams/{team_id}/webhook", json={"url": receiver.url}, headers=ann)
    # The app is down: the event is queued straight into the database.
    with unit_of_work(app.state.engine, write=True) as session:
        webhooks.enqueue(
            session,
            assessment_id=assessment_id,
            event="changes_requested",
            actor=None,
            detail={},
            at=webhooks.utcnow(),
        )
    app.state.engine.dispose()
    time.sleep(0.3)
    assert receiver.received == []
    restarted = create_app(settings)
    with TestClient(restarted):
        receiver.wait_for(1)
    restarted.state.engine.dispose()
    assert receiver.received[0]["headers"]["X-Advisor-Event"] == "changes_requested"


def test_review_events_reach_the_webhook(client: TestClient, receiver: Receiver) -> None:
    """Through the audit function: asking for review and approving each post one event."""
    receiver.statuses[:] = []
    team_id, ann, bea, assessment_id = _team_assessment(client)
    secret = client.put(
        f"/api/teams/{team_id}/webhook", json={"url": receiver.url}, headers=ann
    ).json()["secret"]
    bea_id = client.get("/api/me", headers=bea).json()["id"]
    asked = client.post(
        f"/api/assessments/{assessment_id}/review", json={"reviewers": [bea_id]}, headers=ann
    )
    assert asked.status_code == 200, asked.text
    approved = client.post(
        f"/api/assessments/{assessment_id}/decision", json={"outcome": "approved"}, headers=bea
    )
    assert approved.status_code == 200, approved.text
    receiver.wait_for(2)
    events = [request["headers"]["X-Advisor-Event"] for request in receiver.received]
    assert events == ["review_requested", "approved"]
    last = receiver.received[-1]
    assert webhooks.verify(secret, last["headers"]["X-Advisor-Signature"], last["body"])
    payload = json.loads(last["body"])
    assert payload["actor"] == "bea@example.org" and payload["assessment"]["id"] == assessment_id


def test_an_owner_redelivers_a_past_delivery(client: TestClient, receiver: Receiver) -> None:
    """As GitHub's "Redeliver": the same event and body, sent again as a new delivery linked
    to the original, from the API and from the log's form (CSRF, no JavaScript); audited and
    not itself posted; owners only."""
    from tests.web.conftest import csrf_token

    receiver.statuses[:] = [200, 200, 200]
    team_id, ann, bea, assessment_id = _team_assessment(client)
    path = f"/api/teams/{team_id}/webhook"
    client.put(path, json={"url": receiver.url}, headers=ann)
    _event(client, assessment_id)
    receiver.wait_for(1)
    original = client.get(path, headers=ann).json()["deliveries"][0]

    redo = f"{path}/deliveries/{original['id']}/redeliver"
    assert client.post(redo, headers=bea).status_code == 403  # a reviewer, not an owner
    _, outsider = user(client, "out2@example.org")
    assert client.post(redo, headers=outsider).status_code == 404
    assert client.post(f"{path}/deliveries/999999/redeliver", headers=ann).status_code == 404
    too_big = client.post(f"{path}/deliveries/{2**70}/redeliver", headers=ann)
    assert too_big.status_code == 422 and too_big.json()["detail"][0]["field"] == "delivery_id"
    made = client.post(redo, headers=ann)
    assert made.status_code == 201, made.text
    assert made.json()["redelivery_of"] == original["id"]
    receiver.wait_for(2)
    first, second = receiver.received
    assert second["body"] == first["body"]
    assert second["headers"]["X-Advisor-Delivery"] == str(made.json()["id"])
    log = client.get(path, headers=ann).json()["deliveries"]
    assert log[0]["id"] == made.json()["id"] and log[0]["redelivery_of"] == original["id"]
    assert log[1]["id"] == original["id"] and log[1]["redelivery_of"] is None

    audit = client.get(f"/api/assessments/{assessment_id}/audit", headers=ann).json()
    assert audit[-1]["action"] == "webhook_redelivered"
    assert audit[-1]["detail"]["redelivery_of"] == original["id"]

    # The HTML log: a form per delivery, posting with the CSRF token, then back to the log.
    page = client.get(f"/teams/{team_id}/webhook", headers=ann)
    form_action = f"/teams/{team_id}/webhook/deliveries/{original['id']}/redeliver"
    assert (
        form_action in page.text
        and f'redelivers <a href="#delivery-{original["id"]}">' in page.text
    )
    token = csrf_token(client)
    assert client.post(form_action, headers=ann, data={}).status_code == 403  # no token
    posted = client.post(
        form_action, headers=ann, data={"csrf_token": token}, follow_redirects=False
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/teams/{team_id}/webhook"
    receiver.wait_for(3)
    time.sleep(0.3)
    assert len(receiver.received) == 3  # the audit event of a redelivery is not posted
    # No webhook any more: nowhere to redeliver to.
    client.delete(path, headers=ann)
    assert client.post(redo, headers=ann).status_code == 404
