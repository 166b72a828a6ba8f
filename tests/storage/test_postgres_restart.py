"""PostgreSQL restarted under load: 503 while it is down, then the pool recovers by itself."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.serving import Server, answer_revisions
from tests.support import require

# Serial: it stops the PostgreSQL server every other PostgreSQL test is using.
pytestmark = pytest.mark.serial

USERS = 6
OUTAGE_S = 3.0
RECOVERY_LIMIT_S = 30.0
VALUES = ("behavior", "knowledge")


def _cluster(database_url: str) -> tuple[str, str]:
    """(version, name) of the local cluster serving the URL's port, which this test restarts."""
    require(shutil.which("pg_lsclusters") is not None, "pg_lsclusters not found (Debian's tools)")
    port = str(make_url(database_url).port or 5432)
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False)
    for line in listed.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    require(False, f"no local cluster on port {port} to restart")
    raise AssertionError("unreachable")


def _pg(action: str, cluster: tuple[str, str]) -> None:
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(["pg_ctlcluster", *cluster, action, *extra], check=True, timeout=60)


class _Load:
    """Users answering one question over and over through the JSON API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.stop = threading.Event()
        self.outcomes: Counter[int] = Counter()
        self.keys: dict[str, str] = {}
        self.acknowledged: Counter[str] = Counter()
        self.unanswered: Counter[str] = Counter()  # refused or cut off: stored or not
        self.lock = threading.Lock()

    def user(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            created = client.post("/api/assessments", json={})
            assert created.status_code == 201, created.text
            assessment_id, key = created.json()["id"], created.json()["edit_key"]
            with self.lock:
                self.keys[assessment_id] = key
            url = f"/api/assessments/{assessment_id}/answers/gap"
            n = 0
            while not self.stop.is_set():
                n += 1
                answer = client.put(
                    url, json={"value": VALUES[n % 2]}, headers={"Authorization": f"Bearer {key}"}
                )
                with self.lock:
                    self.outcomes[answer.status_code] += 1
                    if answer.status_code == 200:
                        self.acknowledged[assessment_id] += 1
                    else:
                        self.unanswered[assessment_id] += 1
                if answer.status_code == 503:
                    assert "retry-after" in answer.headers
                    assert answer.json()["detail"][0]["type"] == "busy"
                    time.sleep(0.05)


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_a_postgres_restart_is_503_then_the_app_recovers_alone(
    postgres_url: str, tmp_path: Path
) -> None:
    cluster = _cluster(postgres_url)
    env = {
        "DATABASE_URL": postgres_url,
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_DIR": str(tmp_path / "data"),
        "LOCAL_WORKER": "false",
    }
    server = Server(env, tmp_path)
    load = _Load(server.base_url)
    threads = [threading.Thread(target=load.user) for _ in range(USERS)]
    try:
        server.wait_ready()
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        before = load.outcomes[200]
        _pg("stop", cluster)
        try:
            time.sleep(OUTAGE_S)
            refused = load.outcomes[503]
        finally:
            _pg("start", cluster)
        # The same server process, not restarted, serves again once the database is back.
        deadline = time.monotonic() + RECOVERY_LIMIT_S
        recovered = None
        while recovered is None and time.monotonic() < deadline:
            probe = httpx.post(f"{server.base_url}/api/assessments", json={}, timeout=30)
            recovered = probe if probe.status_code == 201 else None
            time.sleep(0.2)
        after = load.outcomes[200]
        time.sleep(1.0)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert server.process.poll() is None, server.log_tail()
        assert recovered is not None, f"no 201 within {RECOVERY_LIMIT_S} s:\n{server.log_tail()}"
        assert before > 0 and refused > 0, dict(load.outcomes)
        assert load.outcomes[200] > after, "answers were not accepted again after the restart"
        assert set(load.outcomes) <= {200, 503}, dict(load.outcomes)
        assert "Traceback" not in server.log_path.read_text(errors="replace")
        for assessment_id, key in load.keys.items():
            stored = answer_revisions(server.base_url, assessment_id, key)
            acknowledged = load.acknowledged[assessment_id]
            # Every acknowledged answer is stored; a request cut off by the outage may or may
            # not have committed before its answer was lost.
            assert acknowledged <= stored <= acknowledged + load.unanswered[assessment_id]
    finally:
        load.stop.set()
        server.close()
