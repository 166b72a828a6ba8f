"""Webhook targets and SSRF: by default a webhook may not post to loopback, private,
link-local, multicast or reserved addresses, IPv4 or IPv6, literal or by a name resolving
there; refused when saved (422 naming `url`) and again when connecting, since a name can
resolve elsewhere by then. Redirects are not followed."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services import webhook_targets, webhooks
from tests.web.api.test_teams import user
from tests.web.api.test_webhooks import Receiver, _event, _team_assessment

REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC = "93.184.215.14"


class Names:
    """A resolver for made-up names (`*.example.test`); the answers can change mid-test."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}

    def getaddrinfo(self, host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in self.answers:
            address = self.answers[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> Names:
    made = Names()
    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", made.getaddrinfo)
    return made


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "FIRST_RETRY_S", 0.2)
    monkeypatch.setattr(webhooks, "POLL_S", 0.1)
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver([])
    yield made
    made.close()


REFUSED = {
    "http://127.0.0.1:8080/hook": "loopback",
    "http://127.1/hook": "loopback",
    "http://localhost/hook": "loopback",
    "http://[::1]/hook": "loopback",
    "http://[::ffff:127.0.0.1]/hook": "loopback",
    "http://[::ffff:10.1.2.3]/hook": "private",
    "http://10.0.0.5/hook": "private",
    "http://172.16.3.4/hook": "private",
    "https://192.168.1.10/hook": "private",
    "http://[fc00::1]/hook": "private",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fe80::1]/hook": "link-local",
    "http://224.0.0.1/hook": "multicast",
    "http://[ff02::1]/hook": "multicast",
    "http://0.0.0.0/hook": "reserved",
    "http://100.64.0.1/hook": "reserved",
    "http://240.0.0.1/hook": "reserved",
    "http://[2002:a00:1::]/hook": "private",  # 6to4 carrying 10.0.0.1
    "http://metadata.example.test/hook": "link-local",
    "http://intranet.example.test/hook": "private",
    "http://six.example.test/hook": "loopback",
}


def test_private_targets_are_refused_when_saved(client: TestClient, names: Names) -> None:
    names.answers.update(
        {
            "metadata.example.test": "169.254.169.254",
            "intranet.example.test": "192.168.0.7",
            "six.example.test": "::1",
            "public.example.test": PUBLIC,
        }
    )
    team_id, ann, _, _ = _team_assessment(client)
    path = f"/api/teams/{team_id}/webhook"
    for url, kind in REFUSED.items():
        refused = client.put(path, json={"url": url}, headers=ann)
        assert refused.status_code == 422, (url, refused.text)
        error = refused.json()["detail"][0]
        assert error["field"] == "url" and f"a {kind} address" in error["message"], (url, error)
    assert client.get(path, headers=ann).json()["url"] is None  # nothing stored

    named = client.put(path, json={"url": "http://intranet.example.test/hook"}, headers=ann)
    message = named.json()["detail"][0]["message"]
    assert "intranet.example.test resolves to 192.168.0.7" in message

    for url in (
        "https://public.example.test/hook",
        f"https://{PUBLIC}/x",
        "https://no.such.invalid/",
    ):
        saved = client.put(path, json={"url": url}, headers=ann)
        assert saved.status_code == 200, (url, saved.text)

    # The HTML form says the same, naming the field, and keeps what was typed.
    page = client.get(f"/teams/{team_id}/webhook", headers=ann)
    assert page.status_code == 200


def test_the_host_is_resolved_after_the_owner_check_and_outside_the_write_transaction(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DNS lookup can take seconds: no other writer may wait on it (on SQLite, the write
    lock is free while it runs), and a caller who may not set the webhook causes none."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    looked_up: list[str] = []
    lock_free: list[bool] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        if engine.dialect.name == "sqlite":
            other = sqlite3.connect(engine.url.database, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if held
                other.rollback()
                lock_free.append(True)
            except sqlite3.OperationalError:
                lock_free.append(False)
            finally:
                other.close()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, int(port or 0)))]

    monkeypatch.setattr(webhook_targets.socket, "getaddrinfo", getaddrinfo)
    team_id, ann, bea, _ = _team_assessment(client)
    _, outsider = user(client, "out@example.org")
    path = f"/api/teams/{team_id}/webhook"
    hook = {"url": "https://slow.example.test/hook"}
    assert client.put(path, json=hook, headers=outsider).status_code == 404
    assert client.put(path, json=hook, headers=bea).status_code == 403  # a reviewer
    assert client.put(path, json=hook).status_code in (401, 404)
    assert looked_up == []
    assert client.put(path, json=hook, headers=ann).status_code == 200
    assert looked_up == ["slow.example.test"]
    if engine.dialect.name == "sqlite":
        assert lock_free == [True]


def test_a_name_that_resolves_elsewhere_later_is_refused_when_sending(
    client: TestClient, names: Names, receiver: Receiver
) -> None:
    """Saved while public, then the name turns to 127.0.0.1 (DNS rebinding): the connection
    is refused and logged, and the local receiver hears nothing."""
    port = receiver.server.server_address[1]
    names.answers["hooks.example.test"] = PUBLIC
    team_id, ann, _, assessment_id = _team_assessment(client)
    path = f"/api/teams/{team_id}/webhook"
    url = f"http://hooks.example.test:{port}/hook"
    assert client.put(path, json={"url": url}, headers=ann).status_code == 200
    names.answers["hooks.example.test"] = "127.0.0.1"
    _event(client, assessment_id)
    delivery = _settled(client, path, ann)
    assert delivery["state"] == "failed", delivery
    assert "refused" in delivery["last_error"] and "a loopback address" in delivery["last_error"]
    assert "127.0.0.1" in delivery["last_error"]
    time.sleep(0.2)
    assert receiver.received == []


def test_the_same_name_is_reached_when_private_targets_are_allowed(
    names: Names, receiver: Receiver, settings: Any
) -> None:
    """The control for the test above: the setting on, the same set-up is delivered (so it
    was the guard, not the made-up name, that stopped it)."""
    from app.main import create_app

    port = receiver.server.server_address[1]
    names.answers["hooks.example.test"] = "127.0.0.1"
    app = create_app(settings.model_copy(update={"webhook_allow_private_targets": True}))
    with TestClient(app) as client:
        team_id, ann, _, assessment_id = _team_assessment(client)
        path = f"/api/teams/{team_id}/webhook"
        url = f"http://hooks.example.test:{port}/hook"
        assert client.put(path, json={"url": url}, headers=ann).status_code == 200
        _event(client, assessment_id)
        receiver.wait_for(1)
        assert _settled(client, path, ann)["state"] == "delivered"
    app.state.engine.dispose()


def test_redirects_are_not_followed(names: Names, receiver: Receiver, settings: Any) -> None:
    from app.main import create_app

    receiver.statuses[:] = [307]
    app = create_app(settings.model_copy(update={"webhook_allow_private_targets": True}))
    with TestClient(app) as client:
        team_id, ann, _, assessment_id = _team_assessment(client)
        path = f"/api/teams/{team_id}/webhook"
        assert client.put(path, json={"url": receiver.url}, headers=ann).status_code == 200
        _event(client, assessment_id)
        delivery = _settled(client, path, ann)
    app.state.engine.dispose()
    assert delivery["state"] == "failed" and delivery["last_error"] == "HTTP 307"
    assert len(receiver.received) == 1


def test_refusal_covers_every_kind_of_address() -> None:
    import ipaddress

    assert webhook_targets.refusal(ipaddress.ip_address(PUBLIC)) is None
    assert webhook_targets.refusal(ipaddress.ip_address("2606:4700::1111")) is None
    assert webhook_targets.refusal(ipaddress.ip_address("::ffff:8.8.8.8")) is None
    teredo = ipaddress.ip_address("2001:0:4136:e378:8000:63bf:f5ff:fffe")  # client 10.0.0.1
    assert webhook_targets.refusal(teredo) is not None


def _settled(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """The newest delivery once it is no longer pending."""
    deadline = time.monotonic() + 10
    while True:
        log = client.get(path, headers=headers).json()["deliveries"]
        if log and log[0]["state"] != "pending":
            return log[0]
        assert time.monotonic() < deadline, log
        time.sleep(0.05)


class EndlessReceiver:
    """Answers 200 and then a body that never ends, 16 KiB every 50 ms."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 16384
                try:
                    for _ in range(2000):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    pass  # the sender stopped reading

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_an_endless_answer_is_cut_at_the_cap(settings: Any) -> None:
    """The sender reads at most MAX_RESPONSE_BYTES of an answer: a receiver that never stops
    sending does not hold the sender (the attempt ends in well under a second of reading)."""
    from app.main import create_app

    endless = EndlessReceiver()
    app = create_app(settings.model_copy(update={"webhook_allow_private_targets": True}))
    try:
        with TestClient(app) as client:
            team_id, ann, _, assessment_id = _team_assessment(client)
            path = f"/api/teams/{team_id}/webhook"
            assert client.put(path, json={"url": endless.url}, headers=ann).status_code == 200
            _event(client, assessment_id)
            delivery = _settled(client, path, ann)
    finally:
        app.state.engine.dispose()
        endless.server.shutdown()
    assert delivery["state"] == "delivered", delivery
    # 64 KiB at 16 KiB per 50 ms is about 0.2 s; the whole-attempt limit would be 10 s.
    assert delivery["tries"][0]["duration_ms"] < 3000, delivery
