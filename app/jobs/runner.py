"""The runner protocol every job runner implements: submit, status, logs, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
RunnerName = Literal["local", "ray"]


class JobSpec(BaseModel):
    """What a runner needs to start one job: its folder (config + data) and the trainer command."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    folder: Path  # holds the rendered config and the dataset files the config names
    argv: tuple[str, ...]  # e.g. ("trl", "sft", "--config", "config.yaml"), relative to the folder
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    env: tuple[tuple[str, str], ...] = ()


class RunnerState(BaseModel):
    """A runner's view of one job at one moment."""

    model_config = ConfigDict(frozen=True)

    status: JobStatus
    exit_code: int | None = None
    error: str | None = None


class RunnerError(Exception):
    """A runner could not do what it was asked; the message says why, in the runner's words."""


class RunnerUnreachable(RunnerError):
    """The runner could not be reached; the message says where and why."""


class Runner(Protocol):
    """Submit a prepared job, read its state and logs, stop it."""

    name: RunnerName

    def submit(self, spec: JobSpec) -> str:
        """Hand the job over; returns the runner's own id for it (the job's external_id)."""
        ...

    def status(self, external_id: str) -> RunnerState:
        """The job's state as the runner sees it now."""
        ...

    def logs(self, external_id: str, *, tail: int | None = None) -> str:
        """The job's output so far (the last `tail` lines when given)."""
        ...

    def cancel(self, external_id: str) -> None:
        """Stop the job and everything it started; returns once the stop is requested."""
        ...
