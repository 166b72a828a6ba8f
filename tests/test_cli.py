"""The `advisor` command as a user runs it: a real process, its output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from app.decision.batch import CHUNK_BYTES
from app.decision.profile import APPROACHES
from bench.engine_bench import make_lines

ADVISOR = [sys.executable, "-m", "app.cli"]
EXAMPLES = Path(__file__).parent / "decision" / "data" / "profiles.jsonl"


def _run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ADVISOR, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_recommend_one_profile(tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"gap": "knowledge", "knowledge_change": "daily"}))
    done = _run("recommend", "--profile", str(profile))
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["primary"] == "rag"
    assert set(body["scores"]) == set(APPROACHES)


def test_recommend_batch_keeps_order(tmp_path: Path) -> None:
    cases = [json.loads(line) for line in EXAMPLES.read_text().splitlines()]
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join(json.dumps(c["profile"]) for c in cases) + "\n")
    done = _run("recommend", "--batch", str(batch))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(cases)
    for case, line in zip(cases, lines, strict=True):
        assert json.loads(line)["primary"] in case["expect"]["primary"], case["title"]


def test_recommend_batch_from_stdin() -> None:
    done = _run("recommend", "--batch", "-", stdin='{"gap": "behavior"}\n{}\n')
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ('{"gap": "knowlege"}', ["gap", "knowledge, behavior, both, unsure, cost_or_latency"]),
        ('{"labeled_examples": -1}', ["labeled_examples", ">= 0"]),
        ('{"colour": "red"}', ["colour", "known fields"]),
        ("not json", ["JSON"]),
    ],
)
def test_invalid_profile_exits_2_naming_the_field(
    tmp_path: Path, content: str, needles: list[str]
) -> None:
    profile = tmp_path / "bad.json"
    profile.write_text(content)
    done = _run("recommend", "--profile", str(profile))
    assert done.returncode == 2
    assert done.stdout == ""
    for needle in needles:
        assert needle in done.stderr


def test_invalid_batch_line_names_the_line(tmp_path: Path) -> None:
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"gap": "behavior"}\n{"risk": "extreme"}\n')
    done = _run("recommend", "--batch", str(batch))
    assert done.returncode == 2
    assert "line 2" in done.stderr and "risk" in done.stderr
    assert len(done.stdout.splitlines()) == 1  # the valid line before it was already printed


def test_batch_file_in_two_processes_matches_one(tmp_path: Path) -> None:
    """A file longer than one range (1 MiB) decided by two processes prints what one does;
    a bad line in the second range is named by its line in the file."""
    lines = make_lines(2_600, seed=5)
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    assert batch.stat().st_size > CHUNK_BYTES
    one = _run("recommend", "--batch", str(batch), "--jobs", "1")
    two = _run("recommend", "--batch", str(batch), "--jobs", "2")
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and len(two.stdout.splitlines()) == len(lines)
    lines[2_500] = '{"risk": "extreme"}'
    batch.write_text("\n".join(lines) + "\n")
    bad = _run("recommend", "--batch", str(batch), "--jobs", "2")
    assert bad.returncode == 2 and "line 2501: field 'risk'" in bad.stderr
    assert bad.stdout.splitlines() == one.stdout.splitlines()[:2_500]


def test_recommend_needs_exactly_one_source(tmp_path: Path) -> None:
    assert _run("recommend").returncode == 2
    missing = _run("recommend", "--profile", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = _run("db", "upgrade", env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    engine = create_engine(url)
    assert {"assessments", "answers", "recommendation_snapshots"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
    assert _run("db", "downgrade", "base", env={"DATABASE_URL": url}).returncode == 0


def test_serve_refuses_the_development_secret_off_loopback(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "dev-only-change-me", "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    done = _run("serve", "--host", "0.0.0.0", "--port", "1", env=env)
    assert done.returncode == 2
    assert "SECRET_KEY" in done.stderr and "0.0.0.0" in done.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_may_use_the_development_secret(host: str) -> None:
    from app.cli import _is_loopback

    assert _is_loopback(host)
    assert not _is_loopback("0.0.0.0") and not _is_loopback("example.org")


def test_assessments_key_prints_a_new_private_link_and_retires_the_old_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=sqlite_url, data_dir=tmp_path / "d", secret_key="s"))
    with TestClient(app) as client:
        created = client.post("/api/assessments", json={"title": "mine"}).json()
        old = {"Authorization": f"Bearer {created['edit_key']}"}
        done = _run(
            "assessments",
            "key",
            created["id"],
            "--base-url",
            "https://advisor.example",
            env={"DATABASE_URL": sqlite_url},
        )
        assert done.returncode == 0, done.stderr
        link = urlsplit(done.stdout.strip())
        assert (link.scheme, link.netloc, link.path) == (
            "https",
            "advisor.example",
            f"/assessments/{created['id']}",
        )
        [new_key] = parse_qs(link.query)["key"]
        assert client.get(f"/api/assessments/{created['id']}", headers=old).status_code == 404
        renewed = {"Authorization": f"Bearer {new_key}"}
        assert client.get(f"/api/assessments/{created['id']}", headers=renewed).status_code == 200
        missing = _run("assessments", "key", "nope", env={"DATABASE_URL": sqlite_url})
        assert missing.returncode == 2 and "nope" in missing.stderr
    app.state.engine.dispose()
    help_text = " ".join(_run("assessments", "key", "--help").stdout.split())
    assert "old key stops working" in help_text


def test_ids_never_read_as_an_option() -> None:
    """An id never starts with "-", which the CLI would take for an option (1 in 64 used to)."""
    from app.models import new_token

    tokens = [new_token() for _ in range(5000)]
    assert not [t for t in tokens if t.startswith("-")]
    assert len(set(tokens)) == len(tokens) and all(len(t) == 27 for t in tokens)
