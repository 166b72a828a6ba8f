"""The team dashboard: a team's saved assessments, filtered, searched, sorted and paged.

Team members only: `access.require_team` decides (outsiders and the signed-out 404). Every
filter and sort reads an index that starts with `team_id` (migration 0006); the full-text
search reads SQLite's FTS5 table or PostgreSQL's GIN index over the team's search documents,
which triggers keep in step with titles, comments and teams (docs/adr/0013, 0020). The counts
by primary approach without a search are in `dashboard_counts`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    TextualSelect,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from app.decision.profile import APPROACHES
from app.models import ASSESSMENT_STATUSES, Assessment, Membership, Team, User
from app.models.dashboard import SearchDocument
from app.services.access import Caller, require_team
from app.services.dashboard_counts import counts_by_primary, moments, updated_between

Sort = Literal["-updated", "updated", "-created", "created", "title", "-title"]
SORTS: tuple[Sort, ...] = get_args(Sort)
PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
MAX_TERMS = 8  # words of a search; more only slow it down
# A search reads at most this many matching documents (titles and comments), the newest
# first: a common word matches thousands, and counting and sorting them all cost more than
# the budget (docs/adr/0017). The page says when the total is "at least".
SEARCH_LIMIT = 1_000
# Letters and digits: FTS5 and tsquery both read punctuation (and `_` in tsquery) as syntax.
_WORD = re.compile(r"[^\W_]+")
_SORT_COLUMNS = {"updated": Assessment.updated_at, "created": Assessment.created_at}
# What a listed assessment shows (`DashboardItem`, the author's email joined in `_items`).
_ITEM_COLUMNS = (
    Assessment.id,
    Assessment.title,
    Assessment.status,
    Assessment.primary_approach,
    Assessment.author_id,
    User.email,
    Assessment.ruleset,
    Assessment.created_at,
    Assessment.updated_at,
)


class DashboardError(ValueError):
    """A filter the dashboard does not know (422, naming the query field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DashboardQuery:
    """What the dashboard is asked for; `DashboardError` names a value it does not allow."""

    status: str | None = None
    primary: str | None = None
    author: str | None = None
    q: str | None = None
    since: date | None = None
    until: date | None = None
    sort: str = "-updated"
    page: int = 1
    per_page: int = PER_PAGE

    def __post_init__(self) -> None:
        allowed = {
            "status": (self.status, ASSESSMENT_STATUSES),
            "primary": (self.primary, APPROACHES),
            "sort": (self.sort, SORTS),
        }
        for name, (value, values) in allowed.items():
            if value is not None and value not in values:
                raise DashboardError(name, f"must be one of {', '.join(values)}")
        if not 1 <= self.page <= MAX_PAGE:
            # Past this the row offset overflows the databases' 64-bit integers (a 500).
            raise DashboardError("page", f"must be from 1 to {MAX_PAGE:,}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise DashboardError("per_page", f"must be from 1 to {MAX_PER_PAGE}")
        if self.since and self.until and self.since > self.until:
            raise DashboardError("until", "must be on or after since")

    @property
    def terms(self) -> list[str]:
        """The words searched for, lowercased; all must occur (each as a word's start)."""
        return _WORD.findall((self.q or "").lower())[:MAX_TERMS]


@dataclass(frozen=True)
class DashboardItem:
    """One assessment as the dashboard lists it."""

    id: str
    title: str | None
    status: str
    primary: str | None
    author_id: str | None
    author: str | None
    ruleset: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Dashboard:
    """One page of a team's assessments, the total matching, and the counts by primary."""

    team_id: str
    team_name: str
    role: str
    query: DashboardQuery
    items: list[DashboardItem]
    total: int
    counts_by_primary: dict[str, int]
    members: list[tuple[str, str]] = field(default_factory=list)  # (user id, email)
    total_capped: bool = False  # a search matched more than SEARCH_LIMIT documents

    @property
    def pages(self) -> int:
        """How many pages the matching assessments fill (at least one)."""
        return max(1, math.ceil(self.total / self.query.per_page))


@dataclass(frozen=True)
class Page:
    """What `matching` finds: one page of assessments, how many match, the counts by primary
    approach (without the primary filter), and whether a search was cut at `SEARCH_LIMIT`."""

    items: list[DashboardItem]
    total: int
    counts: dict[str, int]
    capped: bool = False


def _documents(session: Session, team_id: str, terms: list[str]) -> Select[Any] | TextualSelect:
    """The team's newest `SEARCH_LIMIT` documents holding every term (each as a word's
    start): their assessments' ids, as a statement to read from."""
    if session.get_bind().dialect.name == "sqlite":
        # Each term quoted (no FTS5 syntax gets through) and a prefix: "rev" finds "review".
        # Newest first is the full-text index's own order (rowid): no match is scored. The
        # CROSS JOIN keeps that order outermost: each match, newest first, is then looked up
        # by id for its team, until enough are the team's.
        expression = " ".join(f'"{term}"*' for term in terms)
        return (
            text(
                "SELECT d.assessment_id FROM search_documents_fts"
                " CROSS JOIN search_documents AS d ON d.id = search_documents_fts.rowid"
                " WHERE search_documents_fts MATCH :terms AND d.team_id = :team"
                " ORDER BY search_documents_fts.rowid DESC LIMIT :limit"
            )
            .bindparams(terms=expression, team=team_id, limit=SEARCH_LIMIT)
            .columns(assessment_id=String)
        )
    return (
        select(SearchDocument.assessment_id)
        .where(SearchDocument.team_id == team_id, postgres_match(terms))
        # `id + 0`: ordered by the bare id, PostgreSQL walks the primary key backwards,
        # computing each document's tsvector until enough match (0.7 s for a common word),
        # instead of taking the GIN index's matches and keeping the newest (20 ms).
        .order_by((SearchDocument.id + 0).desc())
        .limit(SEARCH_LIMIT)
    )


def postgres_match(terms: list[str]) -> ColumnElement[bool]:
    """The documents holding every term, in the GIN index's own expression (migration 0006),
    so that the index answers it."""
    document = func.to_tsvector(literal_column("'english'::regconfig"), SearchDocument.body)
    query = func.to_tsquery(
        literal_column("'english'::regconfig"), " & ".join(f"{term}:*" for term in terms)
    )
    return document.op("@@")(query)


def _filters(session: Session, team_id: str, query: DashboardQuery) -> list[ColumnElement[bool]]:
    """The team, status and author filters (not the search, the dates nor the primary)."""
    team: ColumnElement[bool] = Assessment.team_id == team_id
    if query.terms and session.get_bind().dialect.name == "sqlite":
        # A search reads the matching assessments by id. SQLite, without statistics, would
        # rather walk the whole team in the team's index and test each row against the
        # matches; a function of the column takes that index out of its choice.
        team = func.coalesce(Assessment.team_id, "") == team_id
    filters: list[ColumnElement[bool]] = [team]
    if query.status is not None:
        filters.append(Assessment.status == query.status)
    if query.author is not None:
        filters.append(Assessment.author_id == query.author)
    return filters


def _order(sort: str) -> list[Any]:
    """The ORDER BY of a sort; the id breaks ties so that pages never overlap."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    column = Assessment.title if key == "title" else _SORT_COLUMNS[key]
    if descending:
        return [column.desc(), Assessment.id.desc()]
    return [column.asc(), Assessment.id.asc()]


def matching(session: Session, team_id: str, query: DashboardQuery) -> Page:
    """One page of the team's assessments matching `query`. No access check: the caller has
    made it (`team_assessments`, or the bench's floor)."""
    filters = _filters(session, team_id, query)
    conditions = [*filters, *updated_between(*moments(query.since, query.until))]
    if query.terms:
        return _searched(session, team_id, conditions, query)
    by_primary = counts_by_primary(
        session,
        team_id=team_id,
        filters=filters,
        status=query.status,
        author=query.author,
        since=query.since,
        until=query.until,
    )
    counts, total = _tally(by_primary, query.primary)
    if query.primary is not None:
        conditions = [*conditions, Assessment.primary_approach == query.primary]
    offset = (query.page - 1) * query.per_page
    if offset >= total:
        return Page([], total, counts)
    # A deferred join: the page's ids from an index alone, then those rows (docs/adr/0017).
    page = (
        select(Assessment.id)
        .where(*conditions)
        .order_by(*_order(query.sort))
        .limit(query.per_page)
        .offset(offset)
        .subquery("page")
    )
    details = select(*_ITEM_COLUMNS).join(page, page.c.id == Assessment.id)
    return Page(_items(session, details, query.sort), total, counts)


def _searched(
    session: Session, team_id: str, conditions: list[ColumnElement[bool]], query: DashboardQuery
) -> Page:
    """`matching` for a search, in one statement: the team's matching documents (at most
    `SEARCH_LIMIT`), their assessments meeting `conditions` ranked in the sort's order, and
    from those the counts by primary and the page's ids; then the page's rows. Only those
    few rows reach Python: a thousand ids sent back and forth cost more than the queries
    (docs/adr/0020)."""
    found = _documents(session, team_id, query.terms).cte("found")
    primary = func.coalesce(Assessment.primary_approach, "").label("primary")
    rank = func.row_number().over(order_by=_order(query.sort)).label("rank")
    matched = (
        select(Assessment.id, primary, rank)
        .where(*conditions, Assessment.id.in_(select(found.c.assessment_id)))
        .cte("matched")
    )
    chosen = select(matched.c.id, matched.c.rank)
    if query.primary is not None:
        chosen = chosen.where(matched.c.primary == query.primary)
    page = (
        chosen.order_by(matched.c.rank)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
        .subquery("page")
    )
    rows = session.execute(
        union_all(
            select(literal("count"), matched.c.primary, func.count()).group_by(matched.c.primary),
            select(literal("page"), page.c.id, page.c.rank),
            select(literal("documents"), literal(""), func.count()).select_from(found),
        )
    )
    by_primary: Counter[str] = Counter()
    page_ids: list[str] = []
    documents = 0
    for kind, key, number in rows:
        if kind == "count":
            by_primary[key] = number
        elif kind == "page":
            page_ids.append(key)  # `_items` puts them in the sort's order
        else:
            documents = number
    counts, total = _tally(by_primary, query.primary)
    capped = documents >= SEARCH_LIMIT
    if not page_ids:
        return Page([], total, counts, capped)
    details = select(*_ITEM_COLUMNS).where(Assessment.id.in_(page_ids))
    return Page(_items(session, details, query.sort), total, counts, capped)


def _tally(by_primary: Mapping[str, int], primary: str | None) -> tuple[dict[str, int], int]:
    """The counts for every approach (0 when none), and how many match: the chosen primary's,
    or all of them ('' for not decided yet included)."""
    counts: dict[str, int] = {approach: by_primary.get(approach, 0) for approach in APPROACHES}
    total = by_primary.get(primary, 0) if primary is not None else sum(by_primary.values())
    return counts, total


def _items(session: Session, details: Select[*tuple[Any, ...]], sort: str) -> list[DashboardItem]:
    """The page's rows, with their authors' emails, in the sort's order; `details` is
    `_ITEM_COLUMNS` selected for the page's assessments."""
    rows = session.execute(
        details.outerjoin(User, User.id == Assessment.author_id).order_by(*_order(sort))
    )
    return [DashboardItem(*row) for row in rows]


def team_assessments(
    *, session: Session, caller: Caller, team_id: str, query: DashboardQuery
) -> Dashboard:
    """One page of the team's assessments matching `query`, for one of its members (the
    API's: without the team's name and members, which only the page shows)."""
    member = require_team(session=session, caller=caller, team_id=team_id, role="member")
    found = matching(session, team_id, query)
    return Dashboard(
        team_id=team_id,
        team_name="",
        role=member.role or "member",
        query=query,
        items=found.items,
        total=found.total,
        counts_by_primary=found.counts,
        total_capped=found.capped,
    )


def team_dashboard(
    *, session: Session, caller: Caller, team_id: str, query: DashboardQuery
) -> Dashboard:
    """`team_assessments` with the team's name and its members (the author filter), read in
    one statement: the dashboard page's."""
    found = team_assessments(session=session, caller=caller, team_id=team_id, query=query)
    rows = session.execute(
        select(Team.name, User.id, User.email)
        .outerjoin(Membership, Membership.team_id == Team.id)
        .outerjoin(User, User.id == Membership.user_id)
        .where(Team.id == team_id)
        .order_by(User.email)
    ).all()
    members = [(user_id, email) for _, user_id, email in rows if user_id is not None]
    return replace(found, team_name=rows[0].name if rows else "", members=members)
