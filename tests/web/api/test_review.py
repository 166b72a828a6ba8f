"""Team review over the JSON API: who may decide, self-approval, supersede, re-decide under a
new ruleset, diff contents, comments and audit rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.decision.bank import BANK
from app.models import RecommendationSnapshot, utcnow
from tests.web.api.test_teams import invite, join, team_of, user
from tests.web.conftest import bearer, new_assessment

ANSWERS = {"gap": "knowledge", "labeled_examples": 200}


@dataclass
class Team:
    """A team: ann owns it, bea reviews, cy is a member; an outsider is in none."""

    id: str
    ann: dict[str, str]
    bea: dict[str, str]
    cy: dict[str, str]
    outsider: dict[str, str]
    ann_id: str
    bea_id: str
    cy_id: str
    assessment_id: str


@pytest.fixture
def team(client: TestClient) -> Team:
    ann_id, ann = user(client, "ann@example.org")
    bea_id, bea = user(client, "bea@example.org")
    cy_id, cy = user(client, "cy@example.org")
    _, outsider = user(client, "out@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "reviewer"))
    join(client, cy, invite(client, ann, team_id, "member"))
    made = client.post(
        "/api/assessments",
        json={"title": "Support bot", "team": team_id, "answers": ANSWERS},
        headers=ann,
    )
    assert made.status_code == 201, made.text
    return Team(team_id, ann, bea, cy, outsider, ann_id, bea_id, cy_id, made.json()["id"])


def base(t: Team) -> str:
    return f"/api/assessments/{t.assessment_id}"


def actions(client: TestClient, t: Team) -> list[str]:
    log = client.get(f"{base(t)}/audit", headers=t.cy)
    assert log.status_code == 200, log.text
    return [row["action"] for row in log.json()]


def submit(client: TestClient, t: Team, **extra: Any) -> None:
    asked = client.post(f"{base(t)}/review", json={"reviewers": [t.bea_id], **extra}, headers=t.ann)
    assert asked.status_code == 200, asked.text
    assert asked.json() == {"status": "in_review"}


def decide(client: TestClient, t: Team, who: dict[str, str], outcome: str) -> Any:
    return client.post(f"{base(t)}/decision", json={"outcome": outcome}, headers=who)


def test_review_request_changes_then_approve(client: TestClient, team: Team) -> None:
    t = team
    submit(client, t, consulted=[t.cy_id])
    review = client.get(f"{base(t)}/review", headers=t.ann).json()
    assert [p["email"] for p in review["reviewers"]] == ["bea@example.org"]
    assert [p["email"] for p in review["consulted"]] == ["cy@example.org"]

    # A member (no reviewer role) may not decide; an outsider does not see it at all.
    refused = decide(client, t, t.cy, "approved")
    assert refused.status_code == 403 and refused.json()["detail"][0]["field"] == "role"
    assert decide(client, t, t.outsider, "approved").status_code == 404
    assert client.get(f"{base(t)}/audit", headers=t.outsider).status_code == 404

    changes = client.post(
        f"{base(t)}/decision",
        json={"outcome": "changes_requested", "comment": "Count again"},
        headers=t.bea,
    )
    assert changes.json() == {"status": "changes_requested"}
    changed = client.put(f"{base(t)}/answers/labeled_examples", json={"value": 5000}, headers=t.ann)
    assert changed.status_code == 200 and changed.json()["status"] == "changes_requested"
    assert decide(client, t, t.bea, "approved").json() == {"status": "approved"}

    assert actions(client, t) == [
        "review_requested",
        "changes_requested",
        "approved",
    ]
    log = client.get(f"{base(t)}/audit", headers=t.bea).json()
    assert [row["actor"] for row in log] == ["ann@example.org", "bea@example.org"] * 1 + [
        "bea@example.org"
    ]
    assert log[1]["detail"]["comment"] == "Count again"
    assert all(row["at"] for row in log)


def test_who_may_decide_and_bad_outcomes(client: TestClient, team: Team) -> None:
    t = team
    early = decide(client, t, t.bea, "approved")  # nothing asked yet
    assert early.status_code == 409 and early.json()["detail"][0]["field"] == "status"
    submit(client, t)
    bad = client.post(f"{base(t)}/decision", json={"outcome": "merged"}, headers=t.bea)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "outcome"
    assert set(bad.json()["detail"][0]["allowed"]) == {"approved", "changes_requested"}
    # A key holder without an account is no reviewer.
    with TestClient(client.app) as keyholder:
        mine = new_assessment(keyholder, answers=ANSWERS)
        alone = keyholder.post(
            f"/api/assessments/{mine['id']}/review", json={"reviewers": [t.bea_id]}
        )
        assert alone.status_code == 401
        by_key = keyholder.post(
            f"/api/assessments/{mine['id']}/decision",
            json={"outcome": "approved"},
            headers=bearer(mine["edit_key"]),
        )
        assert by_key.status_code == 403
    # Reviewers must be reviewers or owners of the team.
    wrong = client.post(f"{base(t)}/review", json={"reviewers": [t.cy_id]}, headers=t.ann)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "reviewers"
    assert t.bea_id in wrong.json()["detail"][0]["allowed"]


def test_a_user_assessment_outside_a_team_cannot_be_reviewed(
    client: TestClient, team: Team
) -> None:
    own = client.post("/api/assessments", json={"answers": ANSWERS}, headers=team.ann)
    asked = client.post(
        f"/api/assessments/{own.json()['id']}/review",
        json={"reviewers": [team.bea_id]},
        headers=team.ann,
    )
    assert asked.status_code == 409 and asked.json()["detail"][0]["field"] == "assessment_id"


def test_self_approval_is_off_until_an_owner_allows_it(client: TestClient, team: Team) -> None:
    t = team
    # bea gives an answer: she is an author now, and may not approve her own work.
    assert (
        client.put(f"{base(t)}/answers/gap", json={"value": "both"}, headers=t.bea).status_code
        == 200
    )
    submit(client, t)
    own = decide(client, t, t.bea, "approved")
    assert own.status_code == 403 and "another reviewer" in own.json()["detail"][0]["message"]
    # Requesting changes is not approving.
    assert decide(client, t, t.bea, "changes_requested").status_code == 200
    setting = f"/api/teams/{t.id}/review-settings"
    assert client.put(setting, json={"allow_self_approval": True}, headers=t.bea).status_code == 403
    assert (
        client.put(setting, json={"allow_self_approval": True}, headers=t.outsider).status_code
        == 404
    )
    allowed = client.put(setting, json={"allow_self_approval": True}, headers=t.ann)
    assert allowed.status_code == 200 and allowed.json() == {"allow_self_approval": True}
    assert decide(client, t, t.bea, "approved").json() == {"status": "approved"}


def test_an_edit_reopens_and_a_newer_approval_supersedes(client: TestClient, team: Team) -> None:
    t = team
    submit(client, t)
    assert decide(client, t, t.bea, "approved").status_code == 200
    first = client.get(f"{base(t)}/review", headers=t.ann).json()
    approved_revision = first["revision"]

    reopened = client.put(f"{base(t)}/answers/gap", json={"value": "behavior"}, headers=t.ann)
    assert reopened.json()["status"] == "in_progress"
    after_edit = client.get(f"{base(t)}/review", headers=t.ann).json()
    assert after_edit["revision"] == approved_revision + 1
    assert after_edit["decisions"][0]["revision"] == approved_revision
    assert after_edit["decisions"][0]["superseded"] is False  # it stays on its revision

    submit(client, t)
    assert decide(client, t, t.bea, "approved").status_code == 200
    final = client.get(f"{base(t)}/review", headers=t.ann).json()
    old, new = final["decisions"]
    assert old["superseded"] is True and old["revision"] == approved_revision
    assert new["superseded"] is False and new["revision"] == approved_revision + 1
    assert actions(client, t) == [
        "review_requested",
        "approved",
        "reopened",
        "review_requested",
        "approved",
        "approval_superseded",
    ]


def test_revisions_and_diff_contents(client: TestClient, team: Team) -> None:
    t = team
    client.put(f"{base(t)}/answers/gap", json={"value": "behavior"}, headers=t.cy)
    timeline = client.get(f"{base(t)}/revisions", headers=t.bea).json()
    assert [r["revision"] for r in timeline] == [1, 2, 3]
    assert [r["changed"] for r in timeline] == [["gap"], ["labeled_examples"], ["gap"]]
    assert [r["author"] for r in timeline] == ["ann@example.org"] * 2 + ["cy@example.org"]

    found = client.get(f"{base(t)}/diff", params={"from": "2", "to": "current"}, headers=t.bea)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["answers"] == [{"question": "gap", "before": "knowledge", "after": "behavior"}]
    before, after = body["recommendation"]["before"], body["recommendation"]["after"]
    assert set(before) >= {"primary", "plan", "scores"} and before["plan"][0] == before["primary"]
    assert before["scores"] != after["scores"]  # RAG and long context drop out

    empty = client.get(f"{base(t)}/diff", params={"from": "0", "to": "0"}, headers=t.bea).json()
    assert (
        empty["answers"] == []
        and empty["recommendation"]["before"] == empty["recommendation"]["after"]
    )
    for bad in ("9", "x", "m999"):
        refused = client.get(f"{base(t)}/diff", params={"from": bad}, headers=t.bea)
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "from"


def test_milestones_freeze_and_compare(client: TestClient, team: Team) -> None:
    t = team
    made = client.post(f"{base(t)}/milestones", json={"name": "Budget review"}, headers=t.ann)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    again = client.post(f"{base(t)}/milestones", json={"name": "Budget review"}, headers=t.ann)
    assert again.status_code == 409 and again.json()["detail"][0]["field"] == "name"
    client.put(f"{base(t)}/answers/gap", json={"value": "behavior"}, headers=t.ann)
    listed = client.get(f"{base(t)}/milestones", headers=t.cy).json()
    assert [m["name"] for m in listed] == ["Budget review"] and listed[0]["revision"] == 2
    compared = client.get(f"{base(t)}/diff", params={"from": key}, headers=t.cy).json()
    assert compared["answers"] == [{"question": "gap", "before": "knowledge", "after": "behavior"}]
    assert "milestone_created" in actions(client, t)


def test_redecide_under_a_new_ruleset_keeps_the_old_snapshot(
    client: TestClient, team: Team
) -> None:
    t = team
    assert client.post(f"{base(t)}/complete", headers=t.ann).status_code == 200
    assert client.get(f"{base(t)}/ruleset", headers=t.ann).json() == {"upgrade": None}
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session, session.begin():
        stored = session.scalars(
            select(RecommendationSnapshot).where(
                RecommendationSnapshot.assessment_id == t.assessment_id
            )
        ).one()
        old = dict(stored.recommendation)
        other = next(a for a in old["scores"] if a != old["primary"])
        old.update(primary=other, plan=[other], ruleset="2025.1.1")
        session.execute(
            insert(RecommendationSnapshot).values(
                assessment_id=t.assessment_id,
                ruleset="2025.1.1",
                profile=stored.profile,
                recommendation=old,
                created_at=utcnow(),
            )
        )
    upgrade = client.get(f"{base(t)}/ruleset", headers=t.bea).json()["upgrade"]
    assert upgrade["stored_ruleset"] == "2025.1.1" and upgrade["current_ruleset"] == BANK.version
    assert upgrade["primary_changed"] is True and upgrade["stored"]["primary"] == other

    done = client.post(f"{base(t)}/redecide", headers=t.ann).json()["upgrade"]
    assert done["current"]["primary"] != other
    assert client.get(f"{base(t)}/ruleset", headers=t.ann).json() == {"upgrade": None}
    with Session(engine) as session:
        rulesets = session.scalars(
            select(RecommendationSnapshot.ruleset)
            .where(RecommendationSnapshot.assessment_id == t.assessment_id)
            .order_by(RecommendationSnapshot.id)
        ).all()
    assert rulesets == [BANK.version, "2025.1.1", BANK.version]  # the old one is kept
    assert actions(client, t)[-1] == "redecided"
    assert client.post(f"{base(t)}/redecide", headers=t.outsider).status_code == 404


def test_comments_markdown_anchor_history_and_rights(client: TestClient, team: Team) -> None:
    t = team
    url = f"{base(t)}/comments"
    body = "**Check** [this](javascript:alert(1)) <script>alert(2)</script> [ok](https://x.org)"
    made = client.post(url, json={"body": body, "question": "gap"}, headers=t.bea)
    assert made.status_code == 201, made.text
    comment = made.json()
    assert comment["question"] == "gap" and comment["author"] == "bea@example.org"
    html = comment["html"]
    assert "<strong>Check</strong>" in html and 'href="https://x.org"' in html
    assert "<script" not in html and 'href="javascript' not in html
    assert set(comment) >= {"id", "author", "body", "question", "created_at"}

    unknown = client.post(url, json={"body": "x", "question": "nope"}, headers=t.bea)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "question"
    blank = client.post(url, json={"body": "  "}, headers=t.bea)
    assert blank.status_code == 422 and blank.json()["detail"][0]["field"] == "body"

    one = f"{url}/{comment['id']}"
    assert client.patch(one, json={"body": "mine now"}, headers=t.cy).status_code == 403
    assert client.patch(one, json={"body": "Checked"}, headers=t.bea).status_code == 200
    assert client.delete(one, headers=t.cy).status_code == 403
    assert client.delete(one, headers=t.ann).status_code == 204  # a team owner may
    assert client.patch(f"{url}/999999", json={"body": "x"}, headers=t.bea).status_code == 404
    thread = client.get(url, headers=t.cy).json()
    assert len(thread) == 1 and thread[0]["deleted"] is True and thread[0]["body"] == ""
    assert [v["change"] for v in thread[0]["history"]] == ["created", "edited", "deleted"]
    assert thread[0]["history"][1]["body"] == "Checked"
    assert actions(client, t) == ["comment_added", "comment_edited", "comment_deleted"]
    assert client.get(url, headers=t.outsider).status_code == 404


def test_waiting_for_review_list_and_count(client: TestClient, team: Team) -> None:
    t = team
    assert client.get("/api/reviews/waiting", headers=t.bea).json() == []
    submit(client, t)
    waiting = client.get("/api/reviews/waiting", headers=t.bea).json()
    assert [w["id"] for w in waiting] == [t.assessment_id]
    assert client.get("/api/reviews/waiting", headers=t.cy).json() == []
    assert client.get("/api/reviews/waiting").status_code == 401
    decide(client, t, t.bea, "approved")
    assert client.get("/api/reviews/waiting", headers=t.bea).json() == []


def test_the_audit_log_is_append_only_rows(client: TestClient, team: Team) -> None:
    """Every action adds a row; none is ever rewritten (the ids only grow, earlier rows stay)."""
    from app.models import AuditEvent

    t = team
    submit(client, t)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        first = session.execute(select(AuditEvent.id, AuditEvent.detail)).all()
    decide(client, t, t.bea, "changes_requested")
    with Session(engine) as session:
        rows = session.execute(select(AuditEvent.id, AuditEvent.detail)).all()
        count = session.scalar(select(func.count()).select_from(AuditEvent))
    assert rows[: len(first)] == first and count == len(first) + 1


def test_a_claimed_assessment_has_its_claimer_as_author(client: TestClient, team: Team) -> None:
    """Made without an account, then claimed by bea into the team: bea is its author, so the
    dashboard's author filter finds it and bea may not approve it herself."""
    t = team
    made = client.post("/api/assessments", json={"title": "Found it", "answers": ANSWERS})
    assert made.status_code == 201, made.text
    found_id, key = made.json()["id"], made.json()["edit_key"]
    client.cookies.set(f"advisor_key_{found_id}", key)
    claimed = client.post(f"/api/assessments/{found_id}/claim", json={"team": t.id}, headers=t.bea)
    client.cookies.clear()
    assert claimed.status_code == 200, claimed.text

    listed = client.get(f"/api/teams/{t.id}/assessments?author={t.bea_id}", headers=t.cy).json()
    assert [item["id"] for item in listed["items"]] == [found_id]
    assert listed["items"][0]["author_id"] == t.bea_id
    others = client.get(f"/api/teams/{t.id}/assessments?author={t.ann_id}", headers=t.cy).json()
    assert found_id not in [item["id"] for item in others["items"]]

    asked = client.post(
        f"/api/assessments/{found_id}/review", json={"reviewers": [t.bea_id]}, headers=t.ann
    )
    assert asked.status_code == 200, asked.text
    own = client.post(
        f"/api/assessments/{found_id}/decision", json={"outcome": "approved"}, headers=t.bea
    )
    assert own.status_code == 403 and "another reviewer" in own.json()["detail"][0]["message"]
    # Moving it on (to ann's own account, say) keeps the author it has.
    client.cookies.set(f"advisor_key_{found_id}", key)
    again = client.post(f"/api/assessments/{found_id}/claim", json={"team": t.id}, headers=t.ann)
    client.cookies.clear()
    assert again.status_code == 200
    listed = client.get(f"/api/teams/{t.id}/assessments?author={t.bea_id}", headers=t.cy).json()
    assert [item["id"] for item in listed["items"]] == [found_id]
