"""What the job pages show: a job's state, elapsed time, log tail, loss curve and artifacts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.decision.bank import BANK
from app.jobs.runner import FINAL_STATUSES
from app.models import JOB_STATUSES, Job, utcnow
from app.web.presenters import urls

LOG_TAIL_LINES = 40
POLL_EVERY_S = 2
RELOAD_EVERY_S = 5  # without JavaScript, a running job's page reloads itself this often
# The status in words and a symbol, so it never rests on colour alone.
STATUS_LABELS = {
    "queued": "◷ Queued",
    "running": "▶ Running",
    "succeeded": "✓ Succeeded",
    "failed": "✗ Failed",
    "cancelled": "■ Cancelled",
}
# Parameters worth a line on the job page, in this order.
SHOWN_PARAMS = ("base_model", "dataset", "max_steps", "epochs", "max_length", "gpu", "output_dir")
DEMO_PARAMS = {"gpu": "cpu", "max_steps": "5", "max_length": "128"}
CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 560, 220, 56, 16, 16, 40


def duration(seconds: float) -> str:
    """A duration in words a person reads at a glance: 45 s, 3 min 05 s, 2 h 04 min."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def elapsed(job: Job, now: datetime | None = None) -> str | None:
    """How long the job ran (or has been running); None before it started."""
    started = job.started_at
    if started is None:
        return None
    ended = job.finished_at or now or utcnow()
    return duration((ended - started).total_seconds())


def size(count: int) -> str:
    """A byte count in the unit that reads best."""
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _tick(value: float) -> str:
    return f"{value:.3g}"


_CHARTS: OrderedDict[tuple[str, int, tuple[float, ...]], dict[str, Any]] = OrderedDict()
CHART_CACHE = 64


def loss_chart(points: Sequence[Sequence[float]], job_id: str = "") -> dict[str, Any] | None:
    """The loss curve as SVG coordinates: a line with a marker at each point, labelled axes.

    Kept per job by the curve's length and last point: a running job's page asks every 2 s,
    and the curve changes only when the trainer logs (its points are only ever appended).
    """
    if not points:
        return None
    key = (job_id, len(points), tuple(points[-1]))
    chart = _CHARTS.get(key) if job_id else None
    if chart is None:
        chart = _chart(points)
        if job_id:
            _CHARTS[key] = chart
            while len(_CHARTS) > CHART_CACHE:
                _CHARTS.popitem(last=False)
    return chart


def _chart(points: Sequence[Sequence[float]]) -> dict[str, Any]:
    steps = [float(p[0]) for p in points]
    losses = [float(p[1]) for p in points]
    x0, x1 = min(steps), max(steps)
    y0, y1 = min(losses), max(losses)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    x_scale, y_scale = inner_w / (x1 - x0), inner_h / (y1 - y0)

    def x(step: float) -> float:
        return PAD_L + (step - x0) * x_scale

    def y(loss: float) -> float:
        return PAD_T + (y1 - loss) * y_scale

    coords = [(x(s), y(v)) for s, v in zip(steps, losses, strict=True)]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": CHART_H - PAD_B,
        "polyline": " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords),
        # One path of small circles (a marker per logged step, so the points read without
        # colour), built here: a few hundred <circle> elements cost the poll more than the rest.
        "markers": "".join(
            f"M{cx - 3:.1f},{cy:.1f}a3,3 0 1,0 6,0a3,3 0 1,0 -6,0" for cx, cy in coords
        )
        if len(coords) <= 400
        else "",
        "y_ticks": [(round(y(v), 1), _tick(v)) for v in (y1, (y0 + y1) / 2, y0)],
        "x_ticks": [(round(x(s), 1), f"{int(s)}") for s in sorted({x0, x1})],
        "summary": (
            f"Training loss over {len(points)} logged steps: {_tick(losses[0])} at step "
            f"{int(steps[0])}, {_tick(losses[-1])} at step {int(steps[-1])}; lowest "
            f"{_tick(min(losses))}."
        ),
        "rows": [(int(s), _tick(v)) for s, v in zip(steps[-50:], losses[-50:], strict=True)],
    }


def job_row(job: Job) -> dict[str, Any]:
    """One job as a list shows it."""
    return {
        "id": job.id,
        "short_id": job.id[:8],
        "url": urls.job(job.id),
        "recipe": job.recipe,
        "runner": job.runner,
        "status": job.status,
        "status_label": STATUS_LABELS.get(job.status, job.status),
        "created_at": job.created_at,
        "elapsed": elapsed(job),
        "base_model": str(job.params.get("base_model", "")),
    }


def job_context(job: Job, log_tail: str) -> dict[str, Any]:
    """Everything the job page and its live fragment show."""
    final = job.status in FINAL_STATUSES
    loss = (job.metrics or {}).get("loss") or []
    artifacts = [
        {"path": a["path"], "size": size(int(a.get("bytes", 0)))}
        for a in job.artifacts or []
        if isinstance(a, dict) and "path" in a
    ]
    return {
        "job": job_row(job),
        "final": final,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "exit_code": job.exit_code,
        "error": job.error,
        "external_id": job.external_id,
        "cancel_requested": bool(job.cancel_requested),
        "params": [(k, job.params[k]) for k in SHOWN_PARAMS if job.params.get(k) is not None],
        "log_tail": log_tail,
        "log_lines": LOG_TAIL_LINES,
        "chart": loss_chart(loss, job.id),
        "last_loss": _tick(float(loss[-1][1])) if loss else None,
        "artifacts": artifacts,
        "poll_every_s": POLL_EVERY_S,
        "reload_every_s": RELOAD_EVERY_S,
        "cancel_url": urls.job_cancel(job.id),
        "log_url": urls.job_log(job.id),
        "api_url": urls.job_api(job.id),
        "live_url": urls.job(job.id),
        "recipe_url": urls.recipe(job.recipe),
        "result_url": urls.result(job.assessment_id) if job.assessment_id else None,
        "jobs_url": urls.jobs(),
        "ruleset": BANK.version,
    }


def list_context(found: Sequence[Job], status: str | None) -> dict[str, Any]:
    """The jobs list page: newest first, with its status filter."""
    return {
        "jobs": [job_row(job) for job in found],
        "status": status,
        "statuses": [(s, STATUS_LABELS[s]) for s in JOB_STATUSES],
        "action": urls.jobs(),
        "recipes_url": urls.recipes(),
        "ruleset": BANK.version,
    }


@dataclass(frozen=True)
class RunChoices:
    """What the recipe page's Run section offers."""

    runners: list[str]
    install_hint: str | None  # the local runner lacks the train extra: how to install it


def run_context(
    *,
    recipe_id: str,
    assessment_id: str | None,
    raw: Mapping[str, str],
    valid: bool,
    choices: RunChoices,
) -> dict[str, Any]:
    """The recipe page's Run form: the parameters as typed, the runners, the demo button."""
    runners = [r for r in choices.runners if not (r == "local" and choices.install_hint)]
    return {
        "action": urls.new_job(),
        "recipe_id": recipe_id,
        "assessment_id": assessment_id,
        "fields": [(k, v) for k, v in raw.items() if v != ""],
        "runners": runners,
        "valid": valid,
        "install_hint": choices.install_hint,
        "demo_action": urls.demo_assets(recipe_id),
    }


def demo_url(recipe_id: str, method: str | None, paths: Mapping[str, str]) -> str:
    """The recipe page filled with the demo model and the dataset its method trains on."""
    dataset = paths["preference_dataset"] if method == "dpo" else paths["dataset"]
    values = {"base_model": paths["base_model"], "dataset": dataset, **DEMO_PARAMS}
    if "params_b" in paths:
        values["params_b"] = paths["params_b"]
    return urls.recipe(recipe_id, urls.query(values.items()), fragment="run")
