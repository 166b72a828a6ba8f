"""Training jobs: submit a catalog recipe to a runner, read, list, tail and cancel jobs.

Submitting validates everything before a row exists (a 422 leaves nothing behind), prepares
the job folder (`DATA_DIR/jobs/<id>`: the rendered TRL config, the dataset, the argv), commits
the row as `queued`, and only then hands it to the runner (`after_commit`): a hand-off that
fails marks the job `failed` with the reason. Access goes through `app.services.access`.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_, select
from sqlalchemy.orm import Session

from app.jobs.demo import TRAIN_EXTRA_HINT, trl_executable
from app.jobs.local import CONFIG_NAME, job_folder, request_cancel, write_spec
from app.jobs.registry import RunnerNotConfigured, offered_runners, runner_for
from app.jobs.runner import FINAL_STATUSES, JobSpec, RunnerError
from app.models import JOB_STATUSES, Job, Membership, new_token, utcnow
from app.models import Assessment as AssessmentRow
from app.recipes import (
    PARAM_KEYS,
    RecipeError,
    RecipeParams,
    estimate,
    get_recipe,
    load_catalog,
    render,
    resolve_params,
)
from app.services.access import (
    Caller,
    JobNotFound,
    has_accounts,
    job_owner,
    matching_key,
    require_job,
    require_status,
    signed_in,
)
from app.services.remote_jobs import (
    cancel_after_commit,
    is_remote,
    log_tail,
    record,
    refresh,
    refresh_after_commit,
)
from app.settings import Settings
from app.storage import after_commit

__all__ = ["log_tail", "offered_runners", "refresh"]

log = logging.getLogger("advisor.jobs")

# A hub id is "owner/name" (one slash, no dot segments); anything else is a local path.
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
MODEL_KEYS = ("base_model", "teacher_model")
LIST_LIMIT = 200
# The trainer runs offline-friendly and quiet: no telemetry, no tokenizer thread pools fighting
# the trainer for the cores.
TRAINER_ENV = (
    ("TOKENIZERS_PARALLELISM", "false"),
    ("WANDB_DISABLED", "true"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("PYTHONUNBUFFERED", "1"),
)
# A job handed to a remote runner carries its model and data in its folder: the trainer there
# must not go looking for them on the network (a job naming a hub id goes online instead).
OFFLINE_ENV = (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("HF_DATASETS_OFFLINE", "1"),
)
# Where a remote job's local models go inside its folder, named relatively in its config.
MODEL_FOLDERS = {"base_model": "model", "teacher_model": "teacher"}


class JobInputError(ValueError):
    """A job the server refuses before storing anything: names the field and what is allowed."""

    def __init__(self, field: str, message: str, allowed: list[Any] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.allowed = allowed


class JobFolderError(OSError):
    """The job folder could not be written (disk full, read-only data folder); nothing of the
    job was kept."""

    def __init__(self, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        super().__init__(exc.errno, f"cannot write the job's folder under DATA_DIR: {reason}")
        self.message = self.strerror or reason


def training_recipes() -> list[str]:
    """The catalog ids a job may run: training recipes, never playbooks."""
    return [r.id for r in load_catalog().recipes if r.is_training]


def train_extra_missing(runner: str) -> str | None:
    """How to install what the local runner needs, when it is missing here; else None."""
    if runner == "local" and trl_executable() is None:
        return f"the local runner needs the trl command: {TRAIN_EXTRA_HINT}"
    return None


def allowed_roots(settings: Settings) -> list[Path]:
    """Where local datasets and models may live: the data dir and the models dir."""
    roots = [Path(settings.data_dir).resolve()]
    if settings.models_dir is not None:
        roots.append(Path(settings.models_dir).resolve())
    return roots


def _inside_roots(key: str, value: str, settings: Settings) -> Path:
    """A local path resolved (symlinks followed) inside an allowed root; else a 422 naming it."""
    roots = allowed_roots(settings)
    given = Path(value).expanduser()
    if ".." in given.parts:
        raise JobInputError(key, f"{key}: a path without '..' is required, got {value!r}")
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    for candidate in candidates:
        try:
            resolved = candidate.resolve()
            found = any(resolved.is_relative_to(root) for root in roots) and resolved.exists()
        except OSError as exc:  # a name too long for the file system, say: a 422, not a 500
            message = f"{key}: {value[:80]!r} is not a usable path: {exc.strerror}"
            raise JobInputError(key, message) from None
        if found:
            return resolved
    where = " or ".join(str(r) for r in roots)
    if given.is_absolute() and not any(given.resolve().is_relative_to(r) for r in roots):
        raise JobInputError(
            key, f"{key}: {value!r} is outside the data dir; jobs read files only under {where}"
        )
    raise JobInputError(key, f"{key}: no file or folder {value!r} under {where}")


def _model(key: str, value: str, settings: Settings) -> str:
    """A model as the trainer gets it: a hub id as given, a local folder as an absolute path."""
    given = Path(value)
    local_root = next(
        (r for r in allowed_roots(settings) if not given.is_absolute() and (r / given).exists()),
        None,
    )
    hub_id = _HUB_ID.fullmatch(value) and not {".", ".."} & set(value.split("/"))
    if local_root is None and not given.is_absolute() and hub_id:
        return value
    folder = _inside_roots(key, value, settings)
    if not folder.is_dir() or not (folder / "config.json").is_file():
        raise JobInputError(key, f"{key}: {value!r} is not a model folder (no config.json)")
    return str(folder)


def _text_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The job's params with only contract keys; an unknown key is a 422 naming it."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in PARAM_KEYS:
            raise JobInputError(
                key, f"unknown parameter {key!r}; allowed: {', '.join(PARAM_KEYS)}", [*PARAM_KEYS]
            )
        if value is not None and not isinstance(value, str | int | float):
            raise JobInputError(key, f"{key}: expected a string or a number, got {value!r}")
        out[key] = value
    return out


def _output_dir(value: Any, default: str) -> str:
    """Where the trainer writes, relative to the job folder (it must stay inside)."""
    text = str(value).strip() if value not in (None, "") else default
    path = Path(text)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise JobInputError(
            "output_dir", f"output_dir: a path inside the job folder is required, got {text!r}"
        )
    return path.as_posix()


def _checked(
    recipe_id: str, runner: str, params: Mapping[str, Any], settings: Settings
) -> tuple[Any, RecipeParams, dict[str, Any], Path]:
    """Everything a submit needs, validated: the recipe, its params for the job folder, the
    params to store and show, and the dataset file to bring in. Stores nothing."""
    try:
        recipe = get_recipe(recipe_id)
    except RecipeError as exc:
        raise JobInputError("recipe", exc.message, training_recipes()) from None
    if not recipe.is_training:
        raise JobInputError(
            "recipe",
            f"{recipe.id} is a playbook: only training recipes run as jobs "
            f"(allowed: {', '.join(training_recipes())})",
            training_recipes(),
        )
    offered = offered_runners(settings)
    if runner not in offered:
        message = str(RunnerNotConfigured(runner, offered))
        raise JobInputError("runner", message, offered)
    missing = train_extra_missing(runner)
    if missing:
        raise JobInputError("runner", missing, offered)
    given = _text_params(params)
    defaults = recipe.defaults
    dataset_value = str(given.get("dataset") or defaults.get("dataset") or "")
    dataset = _inside_roots("dataset", dataset_value, settings)
    if not dataset.is_file():
        raise JobInputError("dataset", f"dataset: {dataset_value!r} is not a file")
    overrides = dict(given)
    for key in MODEL_KEYS:
        value = given.get(key) or (defaults.get(key) if key == "base_model" else None)
        if value:
            overrides[key] = _model(key, str(value), settings)
    overrides["dataset"] = f"data/{dataset.name}"
    overrides["output_dir"] = _output_dir(given.get("output_dir"), f"outputs/{recipe.id}")
    try:
        resolved = resolve_params(recipe, overrides, local_files=True)
        render(recipe, resolved, "trl")  # refuses what the trainer cannot do (QLoRA on CPU)
    except RecipeError as exc:
        raise JobInputError(exc.key or "params", exc.message) from None
    shown = resolved.model_dump(include=set(PARAM_KEYS))
    shown["dataset"] = dataset_value
    for key in MODEL_KEYS:
        if given.get(key):
            shown[key] = str(given[key])
    return recipe, resolved, shown, dataset


def _bring_in(dataset: Path, target: Path) -> None:
    """A file inside the job folder: a hard link when the filesystem allows, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(dataset, target)
    except OSError:
        shutil.copyfile(dataset, target)


def _bring_in_model(key: str, source: Path, target: Path, settings: Settings) -> None:
    """A local model folder's files inside the job folder (linked or copied; symlinks are
    followed, so the folder holds real files). A file that resolves outside the allowed
    roots is a 422 naming the key: nothing from elsewhere on the server is shipped."""
    roots = allowed_roots(settings)
    for directory, _dirs, files in os.walk(source, followlinks=True):
        for name in sorted(files):
            path = Path(directory) / name
            real = path.resolve()
            if not any(real.is_relative_to(root) for root in roots) or not real.is_file():
                raise JobInputError(
                    key, f"{key}: {path} links outside the data dir; it cannot be sent along"
                )
            _bring_in(real, target / path.relative_to(source))


def _self_contained(
    resolved: RecipeParams, folder: Path, settings: Settings
) -> tuple[RecipeParams, bool]:
    """Params for a job folder a remote runner unpacks elsewhere: local models brought into
    it and named relatively (`./model`), hub ids kept. Also whether the job needs no network
    (no hub id), so that it may run offline."""
    updates: dict[str, str] = {}
    offline = True
    for key, name in MODEL_FOLDERS.items():
        value = getattr(resolved, key)
        if not value:
            continue
        if Path(value).is_absolute():  # `_model` made every local model absolute
            _bring_in_model(key, Path(value), folder / name, settings)
            updates[key] = f"./{name}"
        else:
            offline = False
    return resolved.model_copy(update=updates), offline


def submit(
    *,
    session: Session,
    caller: Caller,
    settings: Settings,
    recipe_id: str,
    params: Mapping[str, Any],
    runner: str,
    assessment_id: str | None = None,
) -> Job:
    """Validate, prepare the folder, store the job `queued`; hand it over once committed."""
    checked = _checked(recipe_id, runner, params, settings)
    owner = job_owner(session=session, caller=caller, assessment_id=assessment_id)
    return _store(session, settings, runner, checked, assessment_id=assessment_id, owner=owner)


def operator_submit(
    *, session: Session, settings: Settings, recipe_id: str, params: Mapping[str, Any], runner: str
) -> Job:
    """Submit as the server's operator (the CLI): a job of the local user."""
    checked = _checked(recipe_id, runner, params, settings)
    return _store(session, settings, runner, checked, assessment_id=None, owner=None)


def _store(
    session: Session,
    settings: Settings,
    runner: str,
    checked: tuple[Any, RecipeParams, dict[str, Any], Path],
    *,
    assessment_id: str | None,
    owner: str | None,
) -> Job:
    """Prepare the job folder and add the row; the hand-off waits for the commit."""
    recipe, resolved, shown, dataset = checked
    job_id = new_token()
    folder = job_folder(settings, job_id)
    gpus = 0 if resolved.gpu == "cpu" else estimate(recipe, resolved).gpu.count
    env: tuple[tuple[str, str], ...] = TRAINER_ENV
    try:
        folder.mkdir(parents=True)
        _bring_in(dataset, folder / resolved.dataset)
        if runner != "local":
            # A remote cluster sees only the folder: it must hold everything the config names.
            resolved, offline = _self_contained(resolved, folder, settings)
            env = (*TRAINER_ENV, *OFFLINE_ENV) if offline else TRAINER_ENV
        spec = JobSpec(
            job_id=job_id,
            folder=folder,
            argv=("trl", recipe.method or "sft", "--config", CONFIG_NAME),
            num_cpus=1.0,
            num_gpus=float(gpus),
            env=env,
        )
        (folder / CONFIG_NAME).write_text(render(recipe, resolved, "trl").content, "utf-8")
        write_spec(spec)
    except JobInputError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise JobFolderError(exc) from exc
    job = Job(
        id=job_id,
        recipe=recipe.id,
        params=shown,
        runner=runner,
        external_id=job_id if runner == "local" else None,
        status="queued",
        assessment_id=assessment_id,
        owner_user_id=owner,
        created_at=utcnow(),
        artifacts=[],
        metrics={},
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    after_commit(session, lambda: hand_off(engine=engine, settings=settings, job=job, spec=spec))
    return job


def hand_off(*, engine: Engine, settings: Settings, job: Job, spec: JobSpec) -> None:
    """Give the committed job to its runner; a failure marks it `failed` with the reason."""
    try:
        external_id = runner_for(job.runner, settings).submit(spec)
    except Exception as exc:  # any hand-off failure is the job's, never the request's
        # A runner's own words ("runner unreachable: ...", Ray's refusal) are the reason.
        reason = str(exc) if isinstance(exc, RunnerError) else f"hand-off failed: {exc}"
        log.warning("job %s: %s", job.id, reason)
        record(engine, job, status="failed", error=reason[:2000], finished_at=utcnow())
        return
    if external_id != job.external_id:
        record(engine, job, external_id=external_id)


def show(*, session: Session, caller: Caller, settings: Settings, job_id: str) -> Job:
    """One job the caller may reach; a remote one is refreshed from its runner once the
    caller's transaction has committed (no transaction waits on the runner). Else
    `JobNotFound`."""
    job = require_job(session=session, caller=caller, job_id=job_id)
    refresh_after_commit(session, settings, [job])
    return job


def _reachable_assessments(
    session: Session, caller: Caller, user_id: str | None
) -> list[ColumnElement[bool]]:
    """A condition on Job: its assessment is one the caller holds the key of or owns."""
    held = list(caller.edit_keys)[:100]
    opened = [
        r.id
        for r in session.execute(
            select(AssessmentRow.id, AssessmentRow.edit_key_hash).where(AssessmentRow.id.in_(held))
        ).all()
        if matching_key(caller, r.edit_key_hash, r.id)
    ]
    conditions: list[ColumnElement[bool]] = [Job.assessment_id.in_(opened)] if opened else []
    if user_id is not None:
        teams = select(Membership.team_id).where(Membership.user_id == user_id)
        owned = select(AssessmentRow.id).where(
            or_(AssessmentRow.owner_user_id == user_id, AssessmentRow.team_id.in_(teams))
        )
        conditions += [Job.owner_user_id == user_id, Job.assessment_id.in_(owned)]
    return conditions


def list_jobs(
    *,
    session: Session,
    caller: Caller,
    assessment_id: str | None = None,
    status: str | None = None,
    limit: int = LIST_LIMIT,
    settings: Settings | None = None,
) -> list[Job]:
    """The jobs the caller may reach, newest first: an assessment's, or all of theirs.

    With `settings`, unfinished remote jobs are refreshed from their runner after the commit.
    """
    if status is not None and status not in JOB_STATUSES:
        raise JobInputError("status", f"unknown status {status!r}", [*JOB_STATUSES])
    query = select(Job)
    if assessment_id is not None:
        require_status(session=session, caller=caller, assessment_id=assessment_id)
        query = query.where(Job.assessment_id == assessment_id)
    else:
        user_id = signed_in(session=session, caller=caller)
        conditions = _reachable_assessments(session, caller, user_id)
        if not has_accounts(session):
            conditions.append(Job.assessment_id.is_(None) & Job.owner_user_id.is_(None))
        if not conditions:
            return []
        query = query.where(or_(*conditions))
    if status is not None:
        query = query.where(Job.status == status)
    query = query.order_by(Job.created_at.desc(), Job.id).limit(limit)
    found = list(session.scalars(query))
    if settings is not None:
        refresh_after_commit(session, settings, found)
    return found


def cancel(*, session: Session, caller: Caller, settings: Settings, job_id: str) -> Job:
    """Cancel a job: a queued local job at once, a running one by its worker (within 30 s),
    a remote one through its runner once this transaction has committed (RunnerError when
    the runner cannot be reached). A finished job stays as it is."""
    job = require_job(session=session, caller=caller, job_id=job_id)
    return _cancel(session, settings, job)


def _cancel(session: Session, settings: Settings, job: Job) -> Job:
    if job.status in FINAL_STATUSES:
        return job
    if not is_remote(job):
        request_cancel(session, job.id)
        session.refresh(job)
        return job
    cancel_after_commit(session, settings, job)
    return job


# The CLI's own entry points: run by the server's operator, so without a caller to check
# (as `advisor assessments key`).


def operator_job(*, session: Session, settings: Settings, job_id: str) -> Job:
    """A job by id (a remote one refreshed after the commit); `JobNotFound` when there is none."""
    job = session.get(Job, job_id)
    if job is None:
        raise JobNotFound(job_id)
    refresh_after_commit(session, settings, [job])
    return job


def operator_cancel(*, session: Session, settings: Settings, job_id: str) -> Job:
    """Cancel a job by id."""
    return _cancel(
        session, settings, operator_job(session=session, settings=settings, job_id=job_id)
    )
