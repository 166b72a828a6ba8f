"""A real single-node Ray head for tests and `make bench`: started with token auth, stopped by pid.

`ray start --head --block` runs in a session of its own, so every daemon it starts (GCS, raylet,
dashboard, agents) shares its process group; job entrypoints get sessions of their own (Ray
starts them with `start_new_session`), so they are found by their working directory under the
head's temp dir. Stopping signals exactly those pids, never `ray stop` (which would end every
Ray process of the user, other heads included).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import require

START_TIMEOUT_S = 120.0
STOP_GRACE_S = 15.0
FOREIGN_RAY_VARIABLES = (
    "RAY_ADDRESS",
    "RAY_API_SERVER_ADDRESS",
    "RAY_AUTH_TOKEN_PATH",
    "RAY_TOKEN",
)


class HeadUnavailable(RuntimeError):
    """The local Ray head could not be started (ray missing, or it did not come up)."""


def ray_executable() -> Path | None:
    """The `ray` command of this Python environment, if `ray[default]` is installed."""
    candidate = Path(sys.executable).with_name("ray")
    return candidate if candidate.is_file() else None


def free_port() -> int:
    """A TCP port nothing listens on now (from the ephemeral range, outside Ray's worker ports)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RayHead:
    """A running head: its Jobs API address, bearer token, temp dir and `ray start` process."""

    address: str
    token: str
    temp_dir: Path
    process: subprocess.Popen[bytes]

    def pids(self) -> set[int]:
        """Every live process of this head: its process group and the job drivers under it."""
        found: set[int] = set()
        marker = str(self.temp_dir)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                if os.getpgid(pid) == self.process.pid:
                    found.add(pid)
                    continue
                cwd = os.readlink(entry / "cwd")
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ProcessLookupError):
                continue
            if cwd.startswith(marker) or marker in cmdline:
                found.add(pid)
        return found - {os.getpid()}

    def stop(self) -> set[int]:
        """Stop the head and all it started; returns the pids still alive (none, or a bug)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # `ray start --block` then ends its children
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_GRACE_S)
        deadline = time.monotonic() + STOP_GRACE_S
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=STOP_GRACE_S)
        left = {pid for pid in self.pids() if _alive(pid)}
        if not left:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        return left


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z"


def start_head(*, num_cpus: int = 1) -> RayHead:
    """Start a head on free loopback ports with token auth; returns once its Jobs API answers."""
    ray = ray_executable()
    if ray is None:
        raise HeadUnavailable("ray is not installed (pip install -e '.[test]': ray[default])")
    # Ray's unix sockets live under the temp dir, and their paths must stay under 108 bytes.
    temp_dir = Path(tempfile.mkdtemp(prefix="rayt-", dir="/tmp"))
    token = secrets.token_hex(32)
    dashboard_port = free_port()
    # A head of its own: nothing the caller's shell says about another cluster reaches it.
    inherited = {k: v for k, v in os.environ.items() if k not in FOREIGN_RAY_VARIABLES}
    env = {
        **inherited,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
        # Entrypoints find this environment's python and trl first, as on a cluster's image.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [
        str(ray),
        "start",
        "--head",
        "--block",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        f"--num-cpus={num_cpus}",
        "--num-gpus=0",
        f"--object-store-memory={100 * 2**20}",
        "--include-dashboard=true",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard_port}",
        f"--port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--ray-client-server-port={free_port()}",
        "--node-ip-address=127.0.0.1",
    ]
    log = (temp_dir / "ray-start.log").open("wb")
    process = subprocess.Popen(
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    head = RayHead(f"http://127.0.0.1:{dashboard_port}", token, temp_dir, process)
    try:
        _wait_ready(head)
    except BaseException:
        head.stop()
        raise
    return head


def _wait_ready(head: RayHead) -> None:
    """Wait until the dashboard answers and its job agent lists jobs."""
    headers = {"Authorization": f"Bearer {head.token}"}
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer yet"
    with httpx.Client(base_url=head.address, headers=headers, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if head.process.poll() is not None:
                break
            try:
                if (
                    client.get("/api/version").status_code == 200
                    and client.get("/api/jobs/").status_code == 200
                ):
                    return
                last = "dashboard not ready"
            except httpx.TransportError as exc:
                last = str(exc) or type(exc).__name__
            time.sleep(0.5)
    output = (head.temp_dir / "ray-start.log").read_text(errors="replace")[-3000:]
    raise HeadUnavailable(f"the Ray head did not come up ({last}):\n{output}")


def running_head() -> Iterator[RayHead]:
    """A fixture body: skip (fail under CI=true) without ray, yield a head, stop it by pid.

    Use it from one session-scoped fixture so the whole run shares one head.
    """
    require(ray_executable() is not None, "ray is not installed (ray[default], the test extra)")
    try:
        head = start_head()
    except HeadUnavailable as exc:
        require(False, str(exc))
        raise
    yield head
    left = head.stop()
    assert not left, f"Ray head processes left behind: {sorted(left)}"
