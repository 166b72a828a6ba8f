"""Issue 14, bad input: Schemathesis against a real `advisor serve`, no 5xx and every answer
as the schema declares. tests/fuzz runs a bounded budget; `make bench` a long one."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.migrate import upgrade
from bench.report import Row, record
from tests.serving import Server

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)


@dataclass(frozen=True)
class FuzzRun:
    """What Schemathesis reported."""

    returncode: int
    cases: int
    report: str  # its failures section and summary

    @property
    def ok(self) -> bool:
        """No failure found."""
        return self.returncode == 0


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


def fuzz(database_url: str, workdir: Path, *, max_examples: int, timeout_s: int) -> FuzzRun:
    """Serve the database, then let Schemathesis generate `max_examples` cases per operation."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_DIR": str(workdir / "data"),
        "LOCAL_WORKER": "false",
    }
    server = Server(env, workdir)
    try:
        server.wait_ready()
        ids = _prepare(server.base_url)
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{server.base_url}/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                str(max_examples),
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
            cwd=ROOT,
            env={**os.environ, **ids, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks"},
            timeout=timeout_s,
            check=False,
        )
    finally:
        server.close()
    found = re.search(r"(\d+) generated", done.stdout)
    failures = done.stdout.find("FAILURES")
    report = done.stdout[max(failures, 0) :][:20000] + done.stderr[-2000:]
    return FuzzRun(done.returncode, int(found.group(1)) if found else 0, report)


def run() -> bool:
    """`make bench`: a long budget (BENCH_FUZZ_EXAMPLES per operation, 300 by default)."""
    examples = int(os.environ.get("BENCH_FUZZ_EXAMPLES", "300"))
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'advisor.db'}"
        upgrade(database_url)
        result = fuzz(database_url, Path(workdir), max_examples=examples, timeout_s=3600)
    summary = result.report[result.report.find("SUMMARY") :] if result.report else ""
    print(f"  {result.cases:,} generated cases, {examples} per operation\n{summary[-1500:]}")
    if not result.ok:  # what failed, with Schemathesis's reproduction (curl) of each case
        print(result.report[: result.report.find("SUMMARY")][:8000])
    record(
        Row(
            "fuzz",
            f"Schemathesis against /openapi.json, {examples} per operation",
            result.cases,
            "cases",
            budget="no 5xx, every answer as its schema says",
            ok=result.ok,
            note=f"exit code {result.returncode}",
        )
    )
    return result.ok
