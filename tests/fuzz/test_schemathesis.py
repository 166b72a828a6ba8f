"""Schemathesis against a real `advisor serve`: no 5xx, and every answer valid against the
schema's own declaration (status, content type, body, headers).

A bounded budget here (FUZZ_MAX_EXAMPLES per operation, at least 1,000 cases in all); `make
bench` runs a long one.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.serving import Server
from tests.support import require_module

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)


def _prepare(base_url: str) -> dict[str, str]:
    """A user with a token, an anonymous assessment with its key and a share link."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        email, password = f"fuzz-{secrets.token_hex(4)}@example.org", "fuzz password 1"
        assert client.post("/api/users", json={"email": email, "password": password}).is_success
        token = client.post("/api/tokens", json={"email": email, "password": password})
        assert token.status_code == 201, token.text
        created = client.post("/api/assessments", json={"title": "fuzzed"})
        assert created.status_code == 201, created.text
        key = created.json()["edit_key"]
        share = client.post(
            f"/api/assessments/{created.json()['id']}/shares",
            json={"expires_in_days": 30},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert share.status_code == 201, share.text
    return {
        "FUZZ_ASSESSMENT": created.json()["id"],
        "FUZZ_EDIT_KEY": key,
        "FUZZ_USER_TOKEN": token.json()["token"],
        "FUZZ_SHARE_TOKEN": share.json()["token"],
    }


@pytest.mark.timeout(900)
def test_the_api_answers_as_its_schema_says(migrated_sqlite_template: Path, tmp_path: Path) -> None:
    require_module("schemathesis")
    database = tmp_path / "advisor.db"
    database.write_bytes(migrated_sqlite_template.read_bytes())
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_DIR": str(tmp_path / "data"),
        "LOCAL_WORKER": "false",
    }
    server = Server(env, tmp_path)
    try:
        server.wait_ready()
        ids = _prepare(server.base_url)
        schemathesis = Path(sys.executable).with_name("schemathesis")
        done = subprocess.run(
            [
                str(schemathesis),
                "run",
                f"{server.base_url}/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "20261130",
                "--generation-database",
                "none",
                "--request-timeout",
                "30",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, **ids, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks"},
            timeout=840,
            check=False,
        )
        failures = done.stdout.find("FAILURES")
        report = done.stdout[max(failures, 0) :][:20000] + done.stderr[-2000:]
        assert done.returncode == 0, report
        cases = re.search(r"(\d+) generated", done.stdout)
        assert cases and int(cases.group(1)) >= 1000, report
    finally:
        server.close()
