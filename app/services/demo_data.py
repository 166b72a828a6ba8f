"""`advisor demo-data`: a team's history of realistic assessments, seeded in bulk.

Answers are varied profiles decided by the real engine (a pool of distinct ones, reused);
titles, statuses, authors, dates, reviewers, decisions and comments vary with a seeded random
generator. Rows go in by Core bulk inserts, thousands per transaction: 100,000 assessments
take about a minute on SQLite (`bench/dashboard_bench.py` prints the time).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Table, insert, select
from sqlalchemy.engine import Connection, Engine

from app.decision.bank import BANK, answers_from_profile, profile_from_answers
from app.decision.engine import recommend
from app.decision.fields import BOOL, ENUM, FIELDS, INT, SET
from app.decision.profile import Profile
from app.models import (
    Answer,
    Assessment,
    Membership,
    RecommendationSnapshot,
    ReviewComment,
    ReviewDecision,
    ReviewParticipant,
    Team,
    User,
    new_token,
    secret_hash,
    utcnow,
)
from app.storage import unit_of_work

BATCH = 5_000  # assessments per transaction
POOL = 1_500  # distinct profiles decided by the engine
# Status mix of a team's history: most decided, a fifth still being answered.
STATUSES = (
    ("in_progress", 20),
    ("completed", 25),
    ("in_review", 15),
    ("changes_requested", 10),
    ("approved", 25),
    ("superseded", 5),
)
PRODUCTS = (
    "Support bot", "Invoice", "Contract", "Claims", "Onboarding", "Search", "Sales email",
    "Triage", "Code review", "Clinical notes", "Legal", "Catalog", "HR policy", "Fraud",
    "Translation", "Meeting", "Incident", "Recipe", "Tax", "Travel",
)  # fmt: skip
TASKS = (
    "assistant", "extraction", "summaries", "classifier", "answers", "drafts", "routing",
    "knowledge base", "tagging", "chat", "reports", "Q&A", "rewrites", "checks",
)  # fmt: skip
TEAMS = ("EU", "US", "APAC", "internal", "partners", "v2", "pilot", "mobile", "2026", "beta")
COMMENTS = (
    "The latency budget looks optimistic for this volume.",
    "Do we have an eval set yet? Approval depends on it.",
    "Our documents change weekly, retrieval seems right.",
    "Fine-tuning needs more labeled examples than we have.",
    "Legal asked about data residency for the hosted API.",
    "Prompting alone failed on the edge cases last quarter.",
    "Can we try the distillation path for cost?",
    "Agree with the plan; let's start with the prerequisites.",
    "The context window is too small for the full manuals.",
    "Please add the safety review before rollout.",
)
INT_RANGES = {
    "corpus_tokens": (1_000, 50_000_000),
    "labeled_examples": (1, 100_000),
    "prompt_tokens": (50, 20_000),
    "monthly_requests": (10, 100_000_000),
    "latency_budget_ms": (50, 20_000),
    "context_window_tokens": (4_000, 2_000_000),
}


# Each batch's rows, in the order their foreign keys need.
TABLES: tuple[tuple[Any, str], ...] = (
    (Assessment, "assessments"),
    (Answer, "answers"),
    (RecommendationSnapshot, "snapshots"),
    (ReviewComment, "comments"),
    (ReviewParticipant, "participants"),
    (ReviewDecision, "decisions"),
)


NOBODY: dict[str, list[str]] = {"deciders": [], "consulted": [], "informed": []}


class DemoDataError(ValueError):
    """The team cannot be seeded (unknown, or nobody in it to be the authors)."""


@dataclass(frozen=True)
class Decided:
    """One profile of the pool: its answers, and the engine's recommendation for it."""

    answers: dict[str, Any]
    profile: Dumped
    recommendation: Dumped
    primary: str
    ruleset: str


def _random_profile(rng: random.Random) -> dict[str, Any]:
    """A valid profile with each field answered with a chance of 0.3 to 0.9."""
    present = rng.choice((0.3, 0.6, 0.9))
    out: dict[str, Any] = {}
    for name, info in FIELDS.items():
        if rng.random() >= present:
            continue
        if info.kind in (ENUM, BOOL):
            out[name] = rng.choice(info.allowed or ())
        elif info.kind == SET:
            out[name] = [v for v in info.allowed or () if rng.random() < 0.3]
        elif info.kind == INT:
            low, high = INT_RANGES.get(name, (1, 1_000_000))
            out[name] = int(low * (high / low) ** rng.random())
    return out


def decided_pool(rng: random.Random, size: int) -> list[Decided]:
    """`size` profiles made into answers and decided by the engine, as the app would."""
    pool = []
    for _ in range(size):
        answers = answers_from_profile(Profile.model_validate(_random_profile(rng)))
        profile = profile_from_answers(answers)
        recommendation = recommend(profile)
        pool.append(
            Decided(
                answers={k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()},
                profile=Dumped(json.dumps(profile.model_dump(mode="json", exclude_none=True))),
                recommendation=Dumped(json.dumps(recommendation.model_dump(mode="json"))),
                primary=recommendation.primary,
                ruleset=recommendation.ruleset,
            )
        )
    return pool


class Dumped(str):
    """A JSON value already encoded (the pool's recommendations, encoded once, not per row)."""


def _bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany on the driver: SQLAlchemy's per-row parameter processing cost more than
    SQLite's inserts. Values are converted as the column types would: JSON encoded, times in
    SQLite's text format."""
    columns = list(rows[0])
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    order = compiled.positiontup or columns
    convert: dict[str, Any] = {}
    for name in order:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            convert[name] = lambda v: v if isinstance(v, Dumped) or v is None else json.dumps(v)
        elif isinstance(column_type, DateTime) and dialect.name == "sqlite":
            convert[name] = lambda v: v and v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if dialect.name == "postgresql":
        # COPY: one stream instead of a round of parsing and planning per row.
        driver = connection.connection.dbapi_connection
        assert driver is not None
        with driver.cursor() as cursor:  # type: ignore[attr-defined]
            names = ", ".join(columns)
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [convert[n](row[n]) if n in convert else row[n] for n in columns]
                    )
        return
    if compiled.positiontup is not None:
        parameters: list[Any] = [
            tuple(convert[n](row[n]) if n in convert else row[n] for n in order) for row in rows
        ]
    else:
        parameters = [
            {n: convert[n](row[n]) if n in convert else row[n] for n in order} for row in rows
        ]
    connection.exec_driver_sql(str(compiled), parameters)


def _members(engine: Engine, team_id: str) -> list[tuple[str, str]]:
    """The team's members and roles; `DemoDataError` when there is no such team or nobody."""
    with unit_of_work(engine, write=False) as session:
        if session.get(Team, team_id) is None:
            raise DemoDataError(f"no team has id {team_id!r}")
        members = session.execute(
            select(User.id, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team_id)
        ).all()
    if not members:
        raise DemoDataError(f"team {team_id!r} has no members to be the authors")
    return [(m.id, m.role) for m in members]


def _batches(n: int) -> Iterator[int]:
    done = 0
    while done < n:
        yield min(BATCH, n - done)
        done += BATCH


def seed(
    engine: Engine, *, team_id: str, assessments: int, seed: int = 13, now: datetime | None = None
) -> float:
    """Add `assessments` assessments to the team; the seconds it took."""
    start = time.perf_counter()
    rng = random.Random(seed)
    members = _members(engine, team_id)
    reviewers = [user for user, role in members if role in ("reviewer", "owner")] or [members[0][0]]
    pool = decided_pool(rng, min(POOL, max(1, assessments)))
    now = now or utcnow()
    statuses, weights = zip(*STATUSES, strict=True)
    key_hash = secret_hash(new_token())  # nobody holds a key to demo data: members reach it
    for size in _batches(assessments):
        rows: dict[str, list[dict[str, Any]]] = {
            "assessments": [],
            "answers": [],
            "snapshots": [],
            "comments": [],
            "participants": [],
            "decisions": [],
        }
        for status in rng.choices(statuses, weights, k=size):
            _one(rng, rows, pool, members, reviewers, team_id, status, key_hash, now)
        with unit_of_work(engine, write=True) as session:
            connection = session.connection()
            if connection.dialect.name == "sqlite":
                # Ids are random, so index pages are hit at random: keep them in memory.
                connection.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB
            for model, key in TABLES:
                if rows[key]:
                    _bulk_insert(connection, model.__table__, rows[key])
    return time.perf_counter() - start


def _one(
    rng: random.Random,
    rows: dict[str, list[dict[str, Any]]],
    pool: list[Decided],
    members: list[tuple[str, str]],
    reviewers: list[str],
    team_id: str,
    status: str,
    key_hash: str,
    now: datetime,
) -> None:
    """The rows of one assessment, appended to `rows`."""
    assessment_id = new_token()
    decided = rng.choice(pool)
    author = rng.choice(members)[0]
    created = now - timedelta(seconds=rng.randrange(730 * 86_400))
    updated = min(now, created + timedelta(seconds=rng.randrange(30 * 86_400)))
    title = f"{rng.choice(PRODUCTS)} {rng.choice(TASKS)} ({rng.choice(TEAMS)})"
    is_decided = status != "in_progress"
    rows["assessments"].append(
        {
            "id": assessment_id,
            "created_at": created,
            "updated_at": updated,
            "ruleset": BANK.version,
            "status": status,
            "title": title,
            "edit_key_hash": key_hash,
            "owner_user_id": None,
            "team_id": team_id,
            "author_id": author,
            "primary_approach": decided.primary if is_decided else None,
        }
    )
    answers = list(decided.answers.items())
    if not is_decided:
        answers = answers[: rng.randrange(1, len(answers) + 1)] if answers else []
    rows["answers"] += [
        {
            "assessment_id": assessment_id,
            "question_id": question,
            "value": value,
            "is_current": True,
            "created_at": created,
            "author_id": author,
        }
        for question, value in answers
    ]
    if is_decided:
        rows["snapshots"].append(
            {
                "assessment_id": assessment_id,
                "ruleset": decided.ruleset,
                "profile": decided.profile,
                "recommendation": decided.recommendation,
                "created_at": updated,
            }
        )
    if status in ("in_progress", "completed"):
        return
    reviewer = rng.choice(reviewers)
    rows["participants"].append(
        {
            "assessment_id": assessment_id,
            "user_id": reviewer,
            "kind": "reviewer",
            "assigned_by": author,
            "assigned_at": updated,
        }
    )
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        rows["comments"].append(
            {
                "assessment_id": assessment_id,
                "author_id": rng.choice((author, reviewer)),
                "question_id": None,
                "body": rng.choice(COMMENTS),
                "revision": len(answers),
                "created_at": updated,
                "updated_at": updated,
                "deleted_at": None,
            }
        )
    if status in ("approved", "changes_requested", "superseded"):
        rows["decisions"].append(
            {
                "assessment_id": assessment_id,
                "revision": len(answers),
                "outcome": "changes_requested" if status == "changes_requested" else "approved",
                "decided_by": reviewer,
                "comment": None,
                "snapshot_id": None,
                "ruleset": BANK.version,
                "participants": NOBODY,
                "created_at": updated,
                "superseded_at": updated if status == "superseded" else None,
                "superseded_by": None,
            }
        )
