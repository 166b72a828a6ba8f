"""The trainer's logged loss as `[step, value]` pairs, from trainer_state.json or the log.

Pure functions: the local worker calls them on the job folder's files, the service on a
remote runner's log text.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# transformers prints each logging step as a Python dict: {'loss': 2.31, ..., 'epoch': 0.4}.
# Newer versions quote values as strings ('loss': '2.31'); both are read.
_LOGGED_DICT = re.compile(r"\{[^{}]*'loss'[^{}]*\}")
MAX_POINTS = 2000  # a curve never needs more points than a page has pixels


def loss_from_history(history: Iterable[Mapping[str, Any]]) -> list[list[float]]:
    """`[step, loss]` for each training log entry of a trainer_state.json's `log_history`."""
    points: list[list[float]] = []
    for entry in history:
        loss, step = _number(entry.get("loss")), _number(entry.get("step"))
        if loss is not None and step is not None:
            points.append([int(step), loss])
    return _thin(points)


def loss_from_log(text: str, *, logging_steps: int = 1) -> list[list[float]]:
    """`[step, loss]` from the dicts the trainer printed; a line without a step is numbered
    by its position times `logging_steps` (transformers prints the epoch, not the step)."""
    points: list[list[float]] = []
    for match in _LOGGED_DICT.finditer(text):
        try:
            logged = ast.literal_eval(match.group(0))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if not isinstance(logged, dict) or "train_loss" in logged:
            continue
        loss = _number(logged.get("loss"))
        if loss is None:
            continue
        step = _number(logged.get("step"))
        points.append([int(step) if step is not None else (len(points) + 1) * logging_steps, loss])
    return _thin(points)


def trainer_state(folder: Path) -> dict[str, Any] | None:
    """The newest trainer_state.json under a job folder (the output dir or a checkpoint)."""
    states = [p for p in folder.rglob("trainer_state.json") if p.is_file()]
    if not states:
        return None
    newest = max(states, key=lambda p: (_global_step(p), p.stat().st_mtime))
    try:
        data = json.loads(newest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def loss_of(folder: Path, log_text: str, *, logging_steps: int = 1) -> list[list[float]]:
    """The loss curve of a job: trainer_state.json when it has one, else the log's lines."""
    state = trainer_state(folder)
    if state is not None:
        points = loss_from_history(state.get("log_history") or [])
        if points:
            return points
    return loss_from_log(log_text, logging_steps=logging_steps)


def _global_step(path: Path) -> float:
    """A checkpoint folder's step, from its name (checkpoint-12); the output dir's is last."""
    match = re.fullmatch(r"checkpoint-(\d+)", path.parent.name)
    return int(match.group(1)) if match else math.inf


def _number(value: Any) -> float | None:
    """A finite number from a logged value (a number or its text), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _thin(points: list[list[float]]) -> list[list[float]]:
    """At most MAX_POINTS points, evenly spaced, always keeping the last."""
    if len(points) <= MAX_POINTS:
        return points
    stride = math.ceil(len(points) / MAX_POINTS)
    return [*points[:-1:stride], points[-1]]
