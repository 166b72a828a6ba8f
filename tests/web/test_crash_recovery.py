"""kill -9 the server mid-journey: after a restart the database is intact, every answer that
got its 303 is stored, and the same browser session resumes where it left off."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.serving import (
    CLIENT_TIMEOUT_S,
    CSRF_FIELD,
    Server,
    answer_revisions,
    form_inputs,
    visit,
)


def _answer_steps(
    base_url: str, headers: dict[str, str], first: str, stop: threading.Event, tally: dict[str, int]
) -> None:
    """Post the first option of step after step until told to stop or the server is gone."""
    location = first
    with httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_S, headers=headers) as client:
        while not stop.is_set() and "/steps/" in location:
            try:
                page = client.get(location)
                inputs = dict(reversed(form_inputs(page.text)))
                tally["sent"] += 1
                posted = client.post(
                    location, data={CSRF_FIELD: inputs[CSRF_FIELD], "value": inputs["value"]}
                )
            except (httpx.HTTPError, KeyError):
                return  # the server was killed under this request
            if posted.status_code != 303:
                return
            tally["acknowledged"] += 1
            location = posted.headers["location"]


@pytest.mark.timeout(180)
def test_kill_9_mid_journey_loses_no_acknowledged_answer_and_resumes(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "advisor.db"
    shutil.copyfile(migrated_sqlite_template, database)
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_DIR": str(tmp_path / "data"),
        "LOCAL_WORKER": "false",
    }
    server = Server(env, tmp_path)
    try:
        server.wait_ready()
        visitor = visit(server.base_url)
        first = f"/assessments/{visitor.assessment_id}/steps/gap"
        stop, tally = threading.Event(), {"sent": 0, "acknowledged": 0}
        walker = threading.Thread(
            target=_answer_steps, args=(server.base_url, visitor.headers, first, stop, tally)
        )
        walker.start()
        deadline = time.monotonic() + 30
        while tally["acknowledged"] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(server.process.pid, signal.SIGKILL)  # no shutdown of any kind
        server.process.wait()
        stop.set()
        walker.join(timeout=30)
    finally:
        server.close()
    assert tally["acknowledged"] >= 3, tally
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restarted = Server(env, tmp_path)
    try:
        restarted.wait_ready()
        stored = answer_revisions(restarted.base_url, visitor.assessment_id, visitor.edit_key, None)
        # Each acknowledged answer is there; the one cut off may or may not have committed.
        assert tally["acknowledged"] <= stored <= tally["sent"], (tally, stored)
        with httpx.Client(
            base_url=restarted.base_url, timeout=CLIENT_TIMEOUT_S, headers=visitor.headers
        ) as browser:
            resumed = browser.get(f"/assessments/{visitor.assessment_id}")
            assert resumed.status_code == 303
            target = resumed.headers["location"]
            assert target.startswith(f"/assessments/{visitor.assessment_id}/"), target
            page = browser.get(target)
            assert page.status_code == 200 and CSRF_FIELD in page.text
    finally:
        restarted.close()
