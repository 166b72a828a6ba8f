"""Step and screen pages, their posts and the live re-render under 32 concurrent clients, side
by side with the bare baselines."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.decision.bank import BANK
from bench.baseline_app import ASSESSMENT_ID, CSRF_COOKIE
from bench.report import Row, record
from tests.serving import csrf_token_in, free_port

CONNECTIONS = 32
DURATION_S = int(os.environ.get("BENCH_SECONDS", "5"))
# Rounds alternate ours and bare, and each side keeps its best: on a shared, noisy host this
# compares the two at their quietest moments instead of whichever ran during a burst.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BUDGET_STEP = 0.6
BUDGET_ANSWER = 0.5
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Load:
    """What wrk measured for one endpoint."""

    requests_per_s: float
    p99_ms: float
    errors: int


def _serve(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one uvicorn worker on `port` and wait until it answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--loop",
            "asyncio",  # as `advisor serve` runs it
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/app.css", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start on port {port}")


def _wrk(url: str, script: str | None = None, seconds: int = DURATION_S) -> Load:
    """Run wrk against `url` and read throughput, p99 and errors."""
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        args += ["-s", lua.name]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    assert p99 is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(bad.group(1)) if bad else 0
    return Load(rps, float(p99.group(1)) * scale, errors)


def _get_script(headers: dict[str, str]) -> str:
    """A wrk Lua script that sends the given headers with every GET."""
    return "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())


def _post_script(body: str, headers: dict[str, str]) -> str:
    """A wrk Lua script that posts a form with the given headers."""
    lines = ['wrk.method = "POST"', f'wrk.body = "{body}"']
    lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def run() -> bool:
    """Measure both pairs and print ratios; True when both budgets hold."""
    if shutil.which("wrk") is None:
        print("web bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return False
    workdir = Path(tempfile.mkdtemp(prefix="advisor-bench-"))
    app_db = f"sqlite:///{workdir / 'advisor.db'}"
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": app_db},
        check=True,
        capture_output=True,
    )
    app_port, base_port = free_port(), free_port()
    app = _serve("app.main:create_app", app_port, {"DATABASE_URL": app_db})
    base = _serve(
        "bench.baseline_app:create_baseline_app",
        base_port,
        {"BASELINE_DB": str(workdir / "baseline.db")},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{app_port}") as client:
            started = client.post("/assessments", data={"csrf_token": _token(client)})
            assert started.status_code == 303, (started.status_code, started.text[:300])
            screen_url = started.headers["location"]  # the start opens the first screen
            assessment_id = screen_url.split("/")[2]
            question = BANK.questions[0].id
            step_url = f"/assessments/{assessment_id}/steps/{question}"
            token = _token(client, step_url)
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        screen_form = _screen_form(token)
        bare_url = f"http://127.0.0.1:{base_port}/assessments/{ASSESSMENT_ID}/steps/{question}"
        # The bare page signs its form token from a cookie nonce too.
        bare_cookie = {"Cookie": f"{CSRF_COOKIE}={secrets.token_urlsafe(32)}"}
        print(
            f"web bench: {CONNECTIONS} connections, {ROUNDS} alternating rounds of {DURATION_S}s,"
            " one worker per server; each figure at its best round"
        )
        # Warm both servers (connections, caches, first renders) before anything is measured.
        # (with the session's cookies: the edit key among them, or the step page is a 404).
        _wrk(f"http://127.0.0.1:{app_port}{step_url}", _get_script({"Cookie": cookie}), seconds=2)
        _wrk(bare_url, _get_script(bare_cookie), seconds=2)
        # Like a browser mid-questionnaire: the session's cookies go with every request.
        cases = {
            "step": (f"http://127.0.0.1:{app_port}{step_url}", _get_script({"Cookie": cookie})),
            "bare_page": (bare_url, _get_script(bare_cookie)),
            "answer": (
                f"http://127.0.0.1:{app_port}{step_url}",
                _post_script(
                    f"csrf_token={token}&value={_first_value(question)}", {"Cookie": cookie}
                ),
            ),
            "bare_insert": (
                bare_url,
                _post_script(f"value={_first_value(question)}", bare_cookie),
            ),
            # The first screen (its questions, the advice panel) and its post (every answer
            # of the screen; after the first round they are unchanged and add no revision).
            "screen": (f"http://127.0.0.1:{app_port}{screen_url}", _get_script({"Cookie": cookie})),
            "screen_post": (
                f"http://127.0.0.1:{app_port}{screen_url}",
                _post_script(screen_form, {"Cookie": cookie}),
            ),
            # What htmx posts on every change: the screen's questions re-rendered and the
            # advice panel out of band, for the form as it stands (nothing stored).
            "screen_live": (
                f"http://127.0.0.1:{app_port}{screen_url}/live",
                _post_script(
                    f"{screen_form}&_changed=gap", {"Cookie": cookie, "HX-Request": "true"}
                ),
            ),
        }
        runs: dict[str, list[Load]] = {name: [] for name in cases}
        for round_number in range(1, ROUNDS + 1):
            for name, (url, script) in cases.items():
                runs[name].append(_wrk(url, script))
            print(
                f"  round {round_number}: "
                + ", ".join(
                    f"{n} {r[-1].requests_per_s:.0f}/s p99 {r[-1].p99_ms:.0f} ms"
                    for n, r in runs.items()
                )
            )
        step, bare_page, answer, bare_insert, screen, screen_post, screen_live = (
            _best(runs[n]) for n in cases
        )
    finally:
        app.terminate()
        base.terminate()
        app.wait()
        base.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    ok = True
    for name, ours, bare, budget in (
        ("step page", step, bare_page, BUDGET_STEP),
        ("answer post", answer, bare_insert, BUDGET_ANSWER),
        ("screen page", screen, bare_page, BUDGET_STEP),
        ("screen post", screen_post, bare_insert, BUDGET_ANSWER),
        ("screen live", screen_live, bare_insert, BUDGET_ANSWER),
    ):
        ratio = ours.requests_per_s / bare.requests_per_s
        p99_limit = max(100.0, 2 * bare.p99_ms)
        # A bare side answering errors (a template it can no longer render) voids the ratio.
        passed = ratio >= budget and ours.p99_ms <= p99_limit and ours.errors == bare.errors == 0
        ok &= passed
        record(
            Row(
                "web",
                f"{name}, {CONNECTIONS} connections",
                ours.requests_per_s,
                "req/s",
                floor=bare.requests_per_s,
                ratio=ratio,
                budget=f">= {budget}x bare",
                ok=ratio >= budget and ours.errors == bare.errors == 0,
                note=f"errors {ours.errors} (bare {bare.errors})",
            ),
            Row(
                "web",
                f"{name}, p99",
                ours.p99_ms,
                "ms",
                floor=bare.p99_ms,
                ratio=ours.p99_ms / bare.p99_ms if bare.p99_ms else None,
                budget=f"<= {p99_limit:.0f} ms",
                ok=ours.p99_ms <= p99_limit,
            ),
        )
        print(
            f"  {name:12s} {ours.requests_per_s:8.0f} req/s vs bare {bare.requests_per_s:8.0f}"
            f" = {ratio:.2f}x (budget {budget}x); p99 {ours.p99_ms:.1f} ms vs bare"
            f" {bare.p99_ms:.1f} ms (limit {p99_limit:.0f} ms); errors {ours.errors}"
            f" (bare {bare.errors})  {'OK' if passed else 'BELOW BUDGET'}"
        )
    return ok


def _best(loads: list[Load]) -> Load:
    """Each figure at its best round: the host's bursts land on one side or the other at random.

    Tail latency on this kind of shared VM is dominated by stalls of the whole machine (a bare
    endpoint that only burns CPU shows the same 100+ ms p99 in some rounds and not in others).
    """
    return Load(
        requests_per_s=max(load.requests_per_s for load in loads),
        p99_ms=min(load.p99_ms for load in loads),
        errors=sum(load.errors for load in loads),
    )


def _token(client: httpx.Client, path: str = "/") -> str:
    """Read the CSRF token from a page's form."""
    return csrf_token_in(client.get(path).text)


def _screen_form(token: str) -> str:
    """The first screen's form, every question answered with its first option."""
    from urllib.parse import urlencode

    from app.decision.bank import SCREENS

    fields = [("csrf_token", token)]
    fields += [(q.id, _first_value(q.id)) for q in SCREENS[0].questions]
    return urlencode(fields)


def _first_value(question: str) -> str:
    """A valid form value for a question: its first option."""
    option = next(o for o in BANK.get(question).options if o.value is not None)
    if isinstance(option.value, bool):
        return "true" if option.value else "false"
    return str(option.value)


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
