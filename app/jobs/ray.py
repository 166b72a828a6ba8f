"""The Ray runner: Ray Jobs over its REST API with httpx; the app never imports `ray`."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import secrets
import shlex
import ssl
import stat
import zipfile
from pathlib import Path
from typing import Any

import httpx

from app.jobs.runner import (
    JobSpec,
    JobStatus,
    RunnerError,
    RunnerName,
    RunnerState,
    RunnerUnreachable,
)

# Ray's statuses (ray.job_submission.JobStatus) and ours.
RAY_STATUSES: dict[str, JobStatus] = {
    "PENDING": "queued",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "STOPPED": "cancelled",
}
# Ray keeps uploaded packages in its GCS, whose values are bounded by the gRPC message size.
MAX_PACKAGE_BYTES = 500 * 1024 * 1024
# A zip member's time is part of the package hash: a fixed one makes the name depend on content.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
MAX_ERROR_CHARS = 2000
SUBMISSION_MARKER = ".advisor-submission"


class RayRequestError(RunnerError):
    """The Ray head answered, with an error; the message carries Ray's own words."""

    def __init__(self, method: str, path: str, status_code: int, body: str) -> None:
        self.status_code = status_code
        self.ray_message = _ray_message(body)
        super().__init__(f"ray answered {status_code} to {method} {path}: {self.ray_message}")


def _ray_message(body: str) -> str:
    """The useful part of Ray's error body: its tracebacks end with the exception line."""
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    message = lines[-1] if lines[0].startswith("Traceback") else " ".join(lines)
    return message[:MAX_ERROR_CHARS]


def package_folder(folder: Path, *, submission_id: str | None = None) -> tuple[str, bytes]:
    """Zip a job folder the way Ray unpacks a working_dir; returns (package name, zip bytes).

    The name is content-addressed (`_ray_pkg_<sha1>.zip`, Ray's scheme for uploaded packages),
    so an unchanged folder is uploaded once. Files are stored with their paths relative to the
    folder, in sorted order, with a fixed time; a symlink is stored as the file it points to.
    Ray unpacks each package once per node and runs every job using it in that one directory:
    `submission_id` (stored as `.advisor-submission`) gives each submission a directory of its
    own, so two runs of the same folder never write into each other's output_dir.
    """
    root = folder.resolve()
    if not root.is_dir():
        raise ValueError(f"job folder {folder} is not a directory")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | (path.stat().st_mode & 0o777)) << 16
            archive.writestr(info, path.read_bytes())
        if submission_id is not None:
            marker = zipfile.ZipInfo(SUBMISSION_MARKER, date_time=ZIP_EPOCH)
            archive.writestr(marker, submission_id + "\n")
    data = buffer.getvalue()
    if len(data) > MAX_PACKAGE_BYTES:
        raise ValueError(
            f"job folder {folder} zips to {len(data) // 2**20} MiB; Ray accepts at most "
            f"{MAX_PACKAGE_BYTES // 2**20} MiB: put large datasets on storage the cluster reads"
        )
    return f"_ray_pkg_{hashlib.sha1(data).hexdigest()}.zip", data


def normalize_address(address: str) -> str:
    """`http(s)://host:port` of the head's dashboard; a bare host:port means http."""
    address = address.strip().rstrip("/")
    if address.startswith("ray://"):
        raise ValueError(
            f"RAY_ADDRESS {address!r} is a Ray Client address; the Ray runner needs the "
            "dashboard's Jobs API address, e.g. http://127.0.0.1:8265"
        )
    if "://" not in address:
        address = f"http://{address}"
    if not address.startswith(("http://", "https://")):
        raise ValueError(f"RAY_ADDRESS {address!r} must be an http:// or https:// address")
    return address


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's trust store (SSL_CERT_FILE honoured), loaded once: it costs ~100 ms."""
    return ssl.create_default_context()


class RayRunner:
    """Submits prepared job folders to a Ray cluster's Jobs API, reads their state, stops them."""

    name: RunnerName = "ray"

    def __init__(
        self,
        address: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        upload_timeout: float = 600.0,
    ) -> None:
        self.address = normalize_address(address)
        token = (token or "").strip()  # a trailing newline from a secrets file breaks the header
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._upload_timeout = httpx.Timeout(upload_timeout, connect=connect_timeout)

    def _request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        # A client per call: the registry builds a runner per use, so nothing is left to close.
        kwargs.setdefault("timeout", self._timeout)
        try:
            with httpx.Client(
                base_url=self.address, headers=self._headers, verify=_tls_context()
            ) as client:
                response = client.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # connection refused, DNS, timeouts, resets
            reason = str(exc) or type(exc).__name__
            raise RunnerUnreachable(f"runner unreachable: {self.address}: {reason}") from exc
        if response.status_code not in ok:
            raise RayRequestError(method, path, response.status_code, response.text)
        return response

    def upload_folder(self, folder: Path, *, submission_id: str | None = None) -> str:
        """Upload the folder as a package unless the head has it; returns its `gcs://` URI."""
        name, data = package_folder(folder, submission_id=submission_id)
        path = f"/api/packages/gcs/{name}"
        if self._request("GET", path, ok=(200, 404)).status_code == 404:
            self._request("PUT", path, content=data, timeout=self._upload_timeout)
        return f"gcs://{name}"

    def submit(self, spec: JobSpec) -> str:
        """Upload the job folder, submit the argv as the entrypoint; returns the submission id."""
        submission_id = f"advisor-{spec.job_id}-{secrets.token_hex(4)}"
        working_dir = self.upload_folder(spec.folder, submission_id=submission_id)
        runtime_env: dict[str, Any] = {"working_dir": working_dir}
        if spec.env:
            runtime_env["env_vars"] = dict(spec.env)
        body = {
            # The argv comes from a catalog recipe, never from a user; quoting keeps it one argv.
            "entrypoint": shlex.join(spec.argv),
            "submission_id": submission_id,
            "runtime_env": runtime_env,
            "entrypoint_num_cpus": spec.num_cpus,
            "entrypoint_num_gpus": spec.num_gpus,
            "metadata": {"advisor_job_id": spec.job_id},
        }
        try:
            answer = self._request("POST", "/api/jobs/", json=body).json()
        except RunnerUnreachable:
            # The head may have accepted the job before the answer was lost: stop it rather than
            # leave a job running that the app records as failed.
            self._stop_quietly(submission_id)
            raise
        return str(answer.get("submission_id") or submission_id)

    def _stop_quietly(self, submission_id: str) -> None:
        with contextlib.suppress(RunnerUnreachable, RayRequestError):
            self._request("POST", f"/api/jobs/{submission_id}/stop", ok=(200, 404))

    def status(self, external_id: str) -> RunnerState:
        """Ray's view of the job, in our statuses; a job the head does not know has failed."""
        response = self._request("GET", f"/api/jobs/{external_id}", ok=(200, 404))
        if response.status_code == 404:
            return RunnerState(
                status="failed",
                error=f"the Ray head at {self.address} does not know job {external_id} "
                "(was the cluster restarted?)",
            )
        info = response.json()
        ray_status = str(info.get("status", ""))
        if ray_status not in RAY_STATUSES:
            raise RayRequestError(
                "GET", f"/api/jobs/{external_id}", response.status_code, f"status {ray_status!r}"
            )
        status = RAY_STATUSES[ray_status]
        exit_code = info.get("driver_exit_code")
        message = info.get("message") or None
        error = message[:MAX_ERROR_CHARS] if status in ("failed", "cancelled") and message else None
        return RunnerState(
            status=status,
            exit_code=int(exit_code) if exit_code is not None else None,
            error=error,
        )

    def logs(self, external_id: str, *, tail: int | None = None) -> str:
        """The entrypoint's output as the head keeps it; the last `tail` lines when given."""
        text = str(self._request("GET", f"/api/jobs/{external_id}/logs").json().get("logs", ""))
        if tail is None:
            return text
        if tail <= 0:
            return ""
        return "".join(text.splitlines(keepends=True)[-tail:])

    def cancel(self, external_id: str) -> None:
        """Ask the head to stop the job: Ray sends SIGTERM to the entrypoint and its descendants,
        then SIGKILL after RAY_JOB_STOP_WAIT_TIME_S (3 s by default)."""
        self._request("POST", f"/api/jobs/{external_id}/stop")
