"""The dashboard's running counts (by author, month, status and primary) stay equal to counting
the assessments, whatever is written to them, and every filter's counts sum them right.

The triggers of migration 0008 keep `team_assessment_counts`; these tests write assessments
the ways the app does (insert, a new answer's `updated_at`, a status or author change, a
move between teams, a deletion, an author's account deleted) and compare with GROUP BY.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.decision.profile import APPROACHES
from app.models import ASSESSMENT_STATUSES, Assessment, Team, User, utcnow
from app.models.dashboard import TeamAssessmentCount
from app.services import dashboard, dashboard_counts
from app.storage import unit_of_work

TEAMS = ("t1", "t2")
TITLES = ("Support bot", "support latency", "Invoice extraction", "Zebra", "ärger support", "")
AUTHORS = ("u1", "u2", "u3")
# Month edges on purpose: the first and the last instant of a month, and a leap day.
EDGES = (
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 3, 1, tzinfo=UTC),
    datetime(2024, 2, 29, 12, tzinfo=UTC),
)


def _moment(rng: random.Random) -> datetime:
    """A time in 2024-2026, often on a month's edge."""
    if rng.random() < 0.3:
        return rng.choice(EDGES)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return start + timedelta(seconds=rng.randrange(3 * 365 * 86400))


def _title(rng: random.Random, n: int) -> str | None:
    """A title sharing words with others (for searches), often tied or missing (for the sort)."""
    if n % 11 == 0:
        return None
    return f"{rng.choice(TITLES)} {n % 7}".strip()


def _seed(engine: Engine, rng: random.Random, n: int) -> None:
    with unit_of_work(engine, write=True) as session:
        now = utcnow()
        for team in TEAMS:
            session.add(Team(id=team, name=team, created_at=now))
        for author in AUTHORS:
            session.add(
                User(id=author, email=f"{author}@example.org", password_hash="x", created_at=now)
            )
        session.flush()
        for i in range(n):
            at = _moment(rng)
            session.add(
                Assessment(
                    id=f"a{i}",
                    # Shared words for searches, and titles that tie or are missing for the sort.
                    title=_title(rng, i),
                    status=rng.choice(ASSESSMENT_STATUSES),
                    primary_approach=rng.choice((None, *APPROACHES)),
                    author_id=rng.choice((None, *AUTHORS)),
                    team_id=rng.choice((None, *TEAMS)),
                    ruleset="test",
                    edit_key_hash="x",
                    created_at=at,
                    updated_at=at,
                )
            )


def _change(engine: Engine, rng: random.Random, n: int, steps: int) -> None:
    """Random writes, each in its own transaction, as requests make them."""
    for _ in range(steps):
        target = Assessment.id == f"a{rng.randrange(n)}"
        kind = rng.choice(("answer", "answer", "status", "author", "team", "primary", "delete"))
        changes: dict[str, dict[str, object]] = {
            "answer": {"updated_at": _moment(rng)},
            "status": {"status": rng.choice(ASSESSMENT_STATUSES), "updated_at": _moment(rng)},
            "author": {"author_id": rng.choice((None, *AUTHORS))},
            "team": {"team_id": rng.choice((None, *TEAMS))},
            "primary": {"primary_approach": rng.choice((None, *APPROACHES))},
        }
        with unit_of_work(engine, write=True) as session:
            if kind == "delete":
                session.execute(delete(Assessment).where(target))
            else:
                session.execute(update(Assessment).where(target).values(**changes[kind]))


def _tally_matches_the_table(session: Session) -> None:
    """Every non-zero running count equals counting the assessments (in Python)."""
    counted: Counter[tuple[str | None, ...]] = Counter()
    rows = session.execute(
        select(
            Assessment.team_id,
            Assessment.author_id,
            Assessment.updated_at,
            Assessment.status,
            Assessment.primary_approach,
        ).where(Assessment.team_id.is_not(None))
    )
    for team, author, updated, status, primary in rows:
        month = updated.astimezone(UTC).strftime("%Y-%m")
        counted[(team, author or "", month, status, primary or "")] += 1
    tally = session.execute(
        select(
            TeamAssessmentCount.team_id,
            TeamAssessmentCount.author_id,
            TeamAssessmentCount.month,
            TeamAssessmentCount.status,
            TeamAssessmentCount.primary_approach,
            TeamAssessmentCount.assessments,
        ).where(TeamAssessmentCount.assessments != 0)
    )
    assert {tuple(row[:5]): row[5] for row in tally} == dict(counted)


def _expected(session: Session, team: str, query: dashboard.DashboardQuery) -> dict[str, int]:
    """The counts by primary of a query, counted row by row in Python."""
    counts: dict[str, int] = dict.fromkeys(APPROACHES, 0)
    for status, author, primary, updated in session.execute(
        select(
            Assessment.status,
            Assessment.author_id,
            Assessment.primary_approach,
            Assessment.updated_at,
        ).where(Assessment.team_id == team)
    ):
        day = updated.astimezone(UTC).date()
        if query.status is not None and status != query.status:
            continue
        if query.author is not None and author != query.author:
            continue
        if query.since is not None and day < query.since:
            continue
        if query.until is not None and day > query.until:
            continue
        counts[primary or ""] = counts.get(primary or "", 0) + 1
    return counts


def _queries(rng: random.Random) -> list[dashboard.DashboardQuery]:
    """Every kind of date range (none, open ends, whole months, partial months, within one
    month, one day, a month's last day), with and without a status or an author."""
    ranges: list[tuple[date | None, date | None]] = [
        (None, None),
        (date(2026, 1, 1), None),
        (None, date(2025, 12, 31)),
        (date(2025, 3, 1), date(2025, 8, 31)),
        (date(2025, 3, 15), date(2025, 8, 10)),
        (date(2026, 2, 3), date(2026, 2, 20)),
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2025, 12, 31), date(2025, 12, 31)),
        (date(2024, 2, 29), None),
        (None, date(2024, 2, 28)),
    ]
    for _ in range(10):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(3 * 365))
        ranges.append((start, start + timedelta(days=rng.randrange(400))))
    queries = []
    for since, until in ranges:
        for status, author in (
            (None, None),
            ("completed", None),
            (None, "u1"),
            ("in_review", "u2"),
        ):
            queries.append(
                dashboard.DashboardQuery(status=status, author=author, since=since, until=until)
            )
    return queries


def _check(url: str, seed: int) -> None:
    rng = random.Random(seed)
    engine = create_engine(url)
    try:
        _seed(engine, rng, n=300)
        with unit_of_work(engine, write=False) as session:
            _tally_matches_the_table(session)
        _change(engine, rng, n=300, steps=400)
        with unit_of_work(engine, write=True) as session:
            session.execute(delete(User).where(User.id == "u3"))  # its assessments lose an author
        with unit_of_work(engine, write=False) as session:
            _tally_matches_the_table(session)
            for team in TEAMS:
                for query in _queries(rng):
                    found = dashboard.matching(session, team, query)
                    expected = _expected(session, team, query)
                    assert found.counts == {a: expected[a] for a in APPROACHES}, query
                    assert found.total == sum(expected.values()), query
    finally:
        engine.dispose()


def test_counts_follow_every_write(database_url: str) -> None:
    _check(database_url, seed=13)


def _searches(rng: random.Random) -> list[dashboard.DashboardQuery]:
    """Searches with every other filter, sort and page size, a primary among them."""
    found = []
    for _ in range(60):
        found.append(
            dashboard.DashboardQuery(
                q=rng.choice(("support", "invoice", "bot 3", "zebra", "nothing")),
                status=rng.choice((None, "completed", "in_review")),
                author=rng.choice((None, "u1")),
                primary=rng.choice((None, "rag", "fine_tuning")),
                since=rng.choice((None, date(2025, 3, 15))),
                sort=rng.choice(dashboard.SORTS),
                page=rng.choice((1, 1, 2, 3)),
                per_page=rng.choice((1, 3, 20)),
            )
        )
    return found


def _page_as_sql_orders_it(
    session: Session, team: str, query: dashboard.DashboardQuery
) -> tuple[list[str], int, dict[str, int]]:
    """The page, total and counts of a search as two plain statements give them: a GROUP BY
    for the counts, ORDER BY ... LIMIT ... OFFSET for the page (the database's own order)."""
    since, until = dashboard_counts.moments(query.since, query.until)
    documents = dashboard._documents(session, team, query.terms).subquery()
    filters = [
        *dashboard._filters(session, team, query),
        *dashboard_counts.updated_between(since, until),
        Assessment.id.in_(select(documents.c.assessment_id)),
    ]
    primary = func.coalesce(Assessment.primary_approach, "")
    grouped = dict(
        session.execute(select(primary, func.count()).where(*filters).group_by(primary)).all()
    )
    if query.primary is not None:
        filters.append(Assessment.primary_approach == query.primary)
    total = int(session.scalar(select(func.count()).where(*filters).select_from(Assessment)) or 0)
    key = dashboard._order(query.sort)
    ids = session.scalars(
        select(Assessment.id)
        .where(*filters)
        .order_by(*key)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    ).all()
    return list(ids), total, {a: int(grouped.get(a, 0)) for a in APPROACHES}


def test_a_search_pages_and_counts_as_plain_statements_would(database_url: str) -> None:
    """A search counts and pages its matches in one statement: the same page, in the same
    order (the database's collation, ties and missing titles included), total and counts as
    the plain statements give."""
    rng = random.Random(14)
    engine = create_engine(database_url)
    try:
        _seed(engine, rng, n=300)
        with unit_of_work(engine, write=False) as session:
            for query in _searches(rng):
                found = dashboard.matching(session, "t1", query)
                expected = _page_as_sql_orders_it(session, "t1", query)
                got = ([item.id for item in found.items], found.total, found.counts)
                assert got == expected, query
                assert found.capped is False, query
    finally:
        engine.dispose()
