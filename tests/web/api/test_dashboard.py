"""The team dashboard's JSON (filters, search, sort, pages, counts) and the decision-record
exports, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, text, update

from app.models import Assessment, ReviewComment, utcnow
from tests.web.api.test_teams import invite, join, team_of, user

# Answers that make RAG the first step (private knowledge that changes often), and others
# that make it prompting (nothing tried yet).
RAG_ANSWERS = {"gap": "knowledge", "knowledge_kind": "private", "knowledge_change": "daily"}


def _create(client: TestClient, who: dict[str, str], team_id: str, **body: Any) -> str:
    made = client.post("/api/assessments", json={"team": team_id, **body}, headers=who)
    assert made.status_code == 201, made.text
    assessment_id: str = made.json()["id"]
    return assessment_id


def _complete(client: TestClient, who: dict[str, str], assessment_id: str) -> str:
    done = client.post(f"/api/assessments/{assessment_id}/complete", headers=who)
    assert done.status_code == 200, done.text
    primary: str = done.json()["recommendation"]["primary"]
    return primary


def _list(client: TestClient, who: dict[str, str], team_id: str, **query: Any) -> Any:
    found = client.get(f"/api/teams/{team_id}/assessments", params=query, headers=who)
    assert found.status_code == 200, found.text
    return found.json()


def _team(client: TestClient) -> tuple[str, dict[str, str], str, dict[str, str], str]:
    """A team with an owner (ann) and a member (bea): ids and headers."""
    ann_id, ann = user(client, "ann@example.org")
    bea_id, bea = user(client, "bea@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "member"))
    return team_id, ann, ann_id, bea, bea_id


def test_filters_search_sort_pages_and_counts(client: TestClient) -> None:
    team_id, ann, ann_id, bea, bea_id = _team(client)
    rag = _create(client, ann, team_id, title="Support bot knowledge base", answers=RAG_ANSWERS)
    rag_primary = _complete(client, ann, rag)
    other = _create(client, bea, team_id, title="Invoice extraction", answers={"gap": "behavior"})
    other_primary = _complete(client, bea, other)
    draft = _create(client, bea, team_id, title="Draft: legal summaries", answers={"gap": "both"})
    assert rag_primary != other_primary

    everything = _list(client, ann, team_id)
    assert everything["total"] == 3 and everything["pages"] == 1
    assert [i["id"] for i in everything["items"]] == [draft, other, rag]  # newest change first
    counts = everything["counts_by_primary"]
    assert set(counts) == {
        "prompting",
        "long_context",
        "rag",
        "fine_tuning",
        "preference_tuning",
        "distillation",
    }
    assert counts[rag_primary] >= 1 and sum(counts.values()) == 2  # the draft is not decided
    by_id = {i["id"]: i for i in everything["items"]}
    assert by_id[rag]["primary"] == rag_primary and by_id[draft]["primary"] is None
    assert by_id[rag]["author"] == "ann@example.org" and by_id[other]["author_id"] == bea_id

    assert [i["id"] for i in _list(client, ann, team_id, status="in_progress")["items"]] == [draft]
    only_rag = _list(client, ann, team_id, primary=rag_primary)
    assert [i["id"] for i in only_rag["items"]] == [rag] and only_rag["total"] == 1
    assert only_rag["counts_by_primary"] == counts  # the counts ignore the primary filter
    assert {i["id"] for i in _list(client, bea, team_id, author=bea_id)["items"]} == {other, draft}
    assert _list(client, ann, team_id, author=ann_id)["total"] == 1

    # Words of titles, stemmed and as prefixes, all of them required.
    assert [i["id"] for i in _list(client, ann, team_id, q="knowledge")["items"]] == [rag]
    assert [i["id"] for i in _list(client, ann, team_id, q="summary")["items"]] == [draft]
    assert [i["id"] for i in _list(client, ann, team_id, q="invo")["items"]] == [other]
    assert _list(client, ann, team_id, q="support invoice")["total"] == 0
    assert _list(client, ann, team_id, q='"; DROP TABLE assessments; --')["total"] == 0
    assert _list(client, ann, team_id, q='"*:() & |')["total"] == 3  # no words: no filter

    by_title = _list(client, ann, team_id, sort="title")["items"]
    assert [i["title"] for i in by_title] == sorted(i["title"] for i in by_title)
    oldest = _list(client, ann, team_id, sort="created", per_page=1, page=1)
    assert oldest["items"][0]["id"] == rag and oldest["pages"] == 3
    second = _list(client, ann, team_id, sort="created", per_page=1, page=2)
    assert second["items"][0]["id"] == other
    assert _list(client, ann, team_id, page=9)["items"] == []

    # The running counts follow a deletion (and every change of status above).
    assert client.delete(f"/api/assessments/{rag}", headers=ann).status_code == 204
    after = _list(client, ann, team_id)
    assert (
        after["total"] == 2 and after["counts_by_primary"][rag_primary] == counts[rag_primary] - 1
    )
    assert _list(client, ann, team_id, status="completed")["total"] == 1

    today = utcnow().date()
    assert _list(client, ann, team_id, since=today.isoformat())["total"] == 2
    assert _list(client, ann, team_id, until=(today - timedelta(days=1)).isoformat())["total"] == 0


def test_a_rename_and_comments_are_searchable(client: TestClient) -> None:
    team_id, ann, _, _, _ = _team(client)
    first = _create(client, ann, team_id, title="Alpha")
    second = _create(client, ann, team_id, title="Beta")
    renamed = client.patch(f"/api/assessments/{first}", json={"title": "Gamma"}, headers=ann)
    assert renamed.status_code == 200, renamed.text
    assert _list(client, ann, team_id, q="alpha")["total"] == 0
    assert [i["id"] for i in _list(client, ann, team_id, q="gamma")["items"]] == [first]

    now = utcnow()
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        comment_id = connection.execute(
            insert(ReviewComment)
            .values(
                assessment_id=second,
                author_id=None,
                question_id=None,
                body="Latency budget looks optimistic",
                revision=1,
                created_at=now,
                updated_at=now,
            )
            .returning(ReviewComment.id)
        ).scalar_one()
    assert [i["id"] for i in _list(client, ann, team_id, q="optimistic latency")["items"]] == [
        second
    ]
    with engine.begin() as connection:
        connection.execute(
            update(ReviewComment)
            .where(ReviewComment.id == comment_id)
            .values(body="", deleted_at=now)
        )
    assert _list(client, ann, team_id, q="optimistic")["total"] == 0


def test_only_members_see_the_dashboard(client: TestClient) -> None:
    team_id, ann, _, _, _ = _team(client)
    _, outsider = user(client, "out@example.org")
    _create(client, ann, team_id, title="Secret plan")
    for headers in (outsider, {}):
        refused = client.get(f"/api/teams/{team_id}/assessments", headers=headers)
        assert refused.status_code == 404
        assert "Secret" not in refused.text
    assert client.get("/api/teams/no-such-team/assessments", headers=ann).status_code == 404


def test_bad_filters_name_their_field(client: TestClient) -> None:
    team_id, ann, _, _, _ = _team(client)
    for query, field in (
        ({"status": "done"}, "status"),
        ({"primary": "magic"}, "primary"),
        ({"sort": "size"}, "sort"),
        ({"per_page": 1000}, "per_page"),
        ({"page": 0}, "page"),
        ({"since": "2026-02-02", "until": "2026-01-01"}, "until"),
    ):
        refused = client.get(f"/api/teams/{team_id}/assessments", params=query, headers=ann)
        assert refused.status_code == 422, (query, refused.text)
        assert refused.json()["detail"][0]["field"] == field
    bad_date = client.get(f"/api/teams/{team_id}/assessments?since=yesterday", headers=ann)
    assert bad_date.status_code == 422 and "since" in bad_date.text


def test_madr_and_json_decision_records(client: TestClient) -> None:
    team_id, ann, _, bea, _ = _team(client)
    assessment_id = _create(client, ann, team_id, title="Support bot", answers=RAG_ANSWERS)
    primary = _complete(client, ann, assessment_id)

    record = client.get(f"/api/assessments/{assessment_id}/export.md?style=madr", headers=bea)
    assert record.status_code == 200, record.text
    assert record.headers["content-type"].startswith("text/markdown")
    assert 'filename="0000-support-bot.md"' in record.headers["content-disposition"]
    text_ = record.text
    assert text_.startswith("---\nstatus: proposed\ndate: ")
    for heading in (
        "# Support bot",
        "## Context and Problem Statement",
        "## Considered Options",
        "## Decision Outcome",
        "### Consequences",
    ):
        assert f"\n{heading}\n" in text_, heading
    options = text_.split("## Considered Options")[1].split("## Decision Outcome")[0]
    assert options.count("(score ") == 6
    assert "What would change this decision" in text_ or "No single answer change" in text_
    assert "Chosen option: " in text_ and "deciders: " in text_

    as_json = client.get(f"/api/assessments/{assessment_id}/export.json", headers=ann)
    assert as_json.status_code == 200
    document = as_json.json()
    assert document["decision_outcome"]["chosen"] == primary
    assert len(document["considered_options"]) == 6
    assert document["status"] == "completed" and document["madr_status"] == "proposed"
    assert document["answers"]["gap"] == "knowledge"

    assert client.get(f"/api/assessments/{assessment_id}/export.md?style=y").status_code == 422
    _, outsider = user(client, "out@example.org")
    for path in ("export.md?style=madr", "export.json"):
        refused = client.get(f"/api/assessments/{assessment_id}/{path}", headers=outsider)
        assert refused.status_code == 404 and "Support bot" not in refused.text


def test_the_triggers_exist_at_head(client: TestClient) -> None:
    """A later SQLite batch migration that rebuilds a table drops its triggers: this fails."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            names = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            expected = {
                "tr_snapshots_primary",
                "tr_assessments_created",
                "tr_assessments_counted",
                "tr_assessments_uncounted",
                "tr_assessments_recounted",
                "tr_assessments_title",
                "tr_comments_created",
                "tr_comments_changed",
                "tr_search_documents_insert",
                "tr_search_documents_delete",
                "tr_search_documents_update",
                "tr_search_documents_team",
                "tr_assessments_moved",
            }
        else:
            names = connection.execute(
                text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            ).scalars()
            expected = {
                "tr_snapshots_primary",
                "tr_assessments_count",
                "tr_assessments_recount",
                "tr_assessments_title",
                "tr_comments_search",
                "tr_search_documents_team",
                "tr_assessments_moved",
            }
        assert expected <= set(names)


def test_the_primary_follows_the_newest_snapshot(client: TestClient) -> None:
    team_id, ann, _, _, _ = _team(client)
    assessment_id = _create(client, ann, team_id, answers=RAG_ANSWERS)
    first = _complete(client, ann, assessment_id)
    changed = client.put(
        f"/api/assessments/{assessment_id}/answers/gap", json={"value": "behavior"}, headers=ann
    )
    assert changed.status_code == 200, changed.text
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT primary_approach FROM assessments WHERE id = :id"), {"id": assessment_id}
        ).scalar_one()
    now = _list(client, ann, team_id)["items"][0]["primary"]
    assert stored == now
    assert Assessment.__tablename__ == "assessments" and first  # the first decision existed


def test_a_search_reads_the_newest_matches_and_says_when_there_are_more(
    client: TestClient, monkeypatch: Any
) -> None:
    """At most SEARCH_LIMIT matching documents are read, the newest first; the total is then
    marked as a lower bound, in the JSON and on the page ("2+")."""
    from app.services import dashboard

    monkeypatch.setattr(dashboard, "SEARCH_LIMIT", 2)
    team_id, ann, _, _, _ = _team(client)
    made = [_create(client, ann, team_id, title=f"Gamma rollout {n}") for n in range(3)]
    _create(client, ann, team_id, title="Other")
    found = _list(client, ann, team_id, q="gamma")
    assert found["total"] == 2 and found["total_capped"] is True
    assert {item["id"] for item in found["items"]} == set(made[1:])  # the newest two
    assert _list(client, ann, team_id, q="other")["total_capped"] is False
    assert _list(client, ann, team_id)["total_capped"] is False
    page = client.get(f"/teams/{team_id}/assessments", params={"q": "gamma"}, headers=ann)
    assert page.status_code == 200 and "2+ assessments match" in page.text
    # A page past the end is empty, not an error.
    assert _list(client, ann, team_id, page=5)["items"] == []


def test_a_search_reads_only_its_own_teams_documents(client: TestClient, monkeypatch: Any) -> None:
    """Another team's newer matches take none of the `SEARCH_LIMIT`: a small team's search
    finds its assessments however many other teams wrote the same word since, and a moved
    assessment is searched in its new team only."""
    from app.services import dashboard

    monkeypatch.setattr(dashboard, "SEARCH_LIMIT", 2)
    team_id, ann, _, _, _ = _team(client)
    mine = _create(client, ann, team_id, title="Gamma rollout")
    _, oda = user(client, "oda@example.org")
    other_team = team_of(client, oda)
    join(client, oda, invite(client, ann, team_id))
    # Made with a key and claimed into oda's team: she may move it later.
    keyed = client.post("/api/assessments", json={"title": "Gamma rollout, keyed"}).json()
    client.cookies.set(f"advisor_key_{keyed['id']}", keyed["edit_key"])
    claim = f"/api/assessments/{keyed['id']}/claim"
    assert client.post(claim, json={"team": other_team}, headers=oda).status_code == 200
    theirs = [_create(client, oda, other_team, title=f"Gamma rollout {n}") for n in range(3)]
    commented = client.post(
        f"/api/assessments/{theirs[0]}/comments", json={"body": "gamma again"}, headers=oda
    )
    assert commented.status_code == 201, commented.text

    found = _list(client, ann, team_id, q="gamma")
    assert [item["id"] for item in found["items"]] == [mine]
    assert found["total"] == 1 and found["total_capped"] is False
    assert _list(client, oda, other_team, q="gamma")["total_capped"] is True

    assert client.post(claim, json={"team": team_id}, headers=oda).status_code == 200
    found = _list(client, ann, team_id, q="gamma")
    assert {item["id"] for item in found["items"]} == {mine, keyed["id"]}
    theirs_now = _list(client, oda, other_team, q="gamma")["items"]
    assert keyed["id"] not in {item["id"] for item in theirs_now}
