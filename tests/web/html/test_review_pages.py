"""The review pages with JavaScript off: every form posts, redirects, and the page shows it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.conftest import api_token, csrf_token, one, parse, post_form, signed_in_browser

XSS = '<script>alert("c")</script>'


@dataclass
class Pair:
    """Two browsers of one team: ann (owner, the author) and bea (reviewer)."""

    ann: TestClient
    bea: TestClient
    bea_id: str
    team_id: str
    assessment_id: str


@pytest.fixture
def pair(client: TestClient) -> Iterator[Pair]:
    signed_in_browser(client, "ann@example.org")
    ann = api_token(client, "ann@example.org")
    team_id = client.post("/api/teams", json={"name": "Platform"}, headers=ann).json()["id"]
    invite = client.post(
        f"/api/teams/{team_id}/invites", json={"role": "reviewer"}, headers=ann
    ).json()
    made = client.post(
        "/api/assessments",
        json={"title": "Support bot", "team": team_id, "answers": {"gap": "knowledge"}},
        headers=ann,
    ).json()
    with TestClient(client.app) as other:
        bea_id = signed_in_browser(other, "bea@example.org")
        bea = api_token(other, "bea@example.org")
        assert other.post(f"/api/invites/{invite['token']}/accept", headers=bea).is_success
        yield Pair(client, other, bea_id, team_id, made["id"])


def test_ask_comment_request_changes_and_see_the_diff(pair: Pair) -> None:
    a, b, assessment_id = pair.ann, pair.bea, pair.assessment_id
    page = a.get(urls.approval(assessment_id))
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    form = one(page.text, ".ask-review form")
    assert form["action"] == urls.approval_request(assessment_id)
    assert [i["value"] for i in form.select('input[name="reviewers"]')] == [pair.bea_id]
    assert not parse(page.text).select(".decision-form")  # ann is no reviewer of her own
    token = csrf_token(a, urls.approval(assessment_id))
    assert (
        post_form(a, urls.approval_request(assessment_id), None, reviewers=pair.bea_id).status_code
        == 403
    )
    asked = post_form(a, urls.approval_request(assessment_id), token, reviewers=pair.bea_id)
    assert asked.status_code == 303
    assert asked.headers["location"] == urls.approval(assessment_id) + "#review-status"

    # bea: waiting in the header's count and on /reviews; she comments beside the answer.
    assert ">1<" in b.get(urls.reviews_count()).text
    assert urls.approval(assessment_id) in b.get(urls.reviews()).text
    btoken = csrf_token(b, urls.approval(assessment_id))
    said = post_form(
        b, urls.comments(assessment_id), btoken, body=f"Is **this** right? {XSS}", question="gap"
    )
    assert said.status_code == 303 and "#comment-" in said.headers["location"]
    shown = b.get(urls.approval(assessment_id)).text
    beside = one(shown, "#q-gap")
    assert "<strong>this</strong>" in str(beside) and not beside.select("script")
    changes = post_form(
        b, urls.approval_decision(assessment_id), btoken, outcome="changes_requested"
    )
    assert changes.status_code == 303
    assert (
        "Changes requested"
        in one(b.get(urls.approval(assessment_id)).text, "#review-status").get_text()
    )

    # ann's result page shows the panel and the comment beside the answer.
    result = a.get(urls.result(assessment_id)).text
    assert "Is" in one(result, "#q-gap").get_text()
    # ann changes the answer; bea sees the diff and approves.
    assert a.put(
        f"/api/assessments/{assessment_id}/answers/gap", json={"value": "behavior"}
    ).is_success
    diff = b.get(urls.diff(assessment_id, "1", "current"))
    assert diff.status_code == 200
    row = one(diff.text, "table.answer-diff tbody tr")
    assert "Knowledge" in row.get_text() or "knowledge" in row.get_text().lower()
    assert one(diff.text, "table.outcome-diff")
    approved = post_form(b, urls.approval_decision(assessment_id), btoken, outcome="approved")
    assert approved.status_code == 303
    log = one(b.get(urls.approval(assessment_id)).text, ".audit-log").get_text()
    for said_it in ("asked for review", "commented", "requested changes", "approved"):
        assert said_it in log
    assert b.get(urls.reviews_count()).text == ""


def test_milestone_and_comment_edit_through_forms(pair: Pair) -> None:
    a, assessment_id = pair.ann, pair.assessment_id
    token = csrf_token(a, urls.approval(assessment_id))
    made = post_form(a, urls.milestones(assessment_id), token, name="Before budget")
    assert made.status_code == 303
    page = a.get(urls.approval(assessment_id)).text
    assert "Before budget" in one(page, "#milestones").get_text()
    said = post_form(a, urls.comments(assessment_id), token, body="first")
    comment_id = int(said.headers["location"].rsplit("-", 1)[1])
    edited = post_form(a, urls.comment_edit(assessment_id, comment_id), token, body="second")
    assert edited.status_code == 303
    shown = one(a.get(urls.approval(assessment_id)).text, f"#comment-{comment_id}")
    assert "second" in shown.get_text() and "History (2 versions)" in shown.get_text()
    gone = post_form(a, urls.comment_delete(assessment_id, comment_id), token)
    assert gone.status_code == 303
    shown = one(a.get(urls.approval(assessment_id)).text, f"#comment-{comment_id}")
    assert "deleted" in shown.get_text()


def test_bad_input_on_a_form_is_a_clear_page(pair: Pair) -> None:
    a, assessment_id = pair.ann, pair.assessment_id
    token = csrf_token(a, urls.approval(assessment_id))
    empty = post_form(a, urls.comments(assessment_id), token, body="  ")
    assert empty.status_code == 422 and "empty" in empty.text
    nobody = post_form(a, urls.approval_request(assessment_id), token)
    assert nobody.status_code == 422 and "reviewer" in nobody.text


def test_a_team_owner_sets_self_approval_from_the_review(pair: Pair) -> None:
    a, b, assessment_id = pair.ann, pair.bea, pair.assessment_id
    form = one(a.get(urls.approval(assessment_id)).text, "#review-settings")
    assert form["action"] == urls.review_settings(pair.team_id)
    assert not parse(b.get(urls.approval(assessment_id)).text).select("#review-settings")
    token = csrf_token(a, urls.approval(assessment_id))
    fields = {str(i["name"]): str(i["value"]) for i in form.select("input[type=hidden]")}
    fields.pop("csrf_token")
    turned = post_form(a, urls.review_settings(pair.team_id), token, **fields)
    assert turned.status_code == 303
    assert turned.headers["location"] == urls.approval(assessment_id, "review-settings")
    shown = one(a.get(urls.approval(assessment_id)).text, "#review-settings").get_text()
    assert "authors may approve their own" in shown
    btoken = csrf_token(b, urls.approval(assessment_id))
    refused = post_form(b, urls.review_settings(pair.team_id), btoken, allow_self_approval="on")
    assert refused.status_code == 403


def test_an_answer_on_the_step_page_reopens_an_approved_assessment(pair: Pair) -> None:
    """The step post runs in the lean transaction: the reopening and its audit row too."""
    a, b, assessment_id = pair.ann, pair.bea, pair.assessment_id
    token = csrf_token(a, urls.approval(assessment_id))
    post_form(a, urls.approval_request(assessment_id), token, reviewers=pair.bea_id)
    btoken = csrf_token(b, urls.approval(assessment_id))
    assert post_form(
        b, urls.approval_decision(assessment_id), btoken, outcome="approved"
    ).is_redirect
    step = csrf_token(a, urls.change(assessment_id, "gap"))
    saved = post_form(a, urls.change(assessment_id, "gap"), step, value="behavior")
    assert saved.status_code == 303
    state = a.get(f"/api/assessments/{assessment_id}").json()
    assert state["status"] == "in_progress" and state["answers"]["gap"] == "behavior"
    log = a.get(f"/api/assessments/{assessment_id}/audit").json()
    assert log[-1]["action"] == "reopened" and log[-1]["actor"] == "ann@example.org"
    revisions = a.get(f"/api/assessments/{assessment_id}/revisions").json()
    assert revisions[-1]["author"] == "ann@example.org"
    review = a.get(f"/api/assessments/{assessment_id}/review").json()
    assert review["decisions"][0]["revision"] == review["revision"] - 1


def test_a_result_decided_under_an_older_ruleset_offers_to_decide_again(
    client: TestClient,
) -> None:
    """Also outside a team: the notice, the diff of both outcomes, and the button."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from app.models import RecommendationSnapshot, utcnow
    from tests.web.conftest import new_assessment

    made = new_assessment(client, answers={"gap": "knowledge"})
    assessment_id = made["id"]
    assert client.post(f"/api/assessments/{assessment_id}/complete").is_success
    assert not parse(client.get(urls.result(assessment_id)).text).select(".notice")
    with Session(client.app.state.engine) as session, session.begin():  # type: ignore[attr-defined]
        stored = session.scalars(
            select(RecommendationSnapshot).where(
                RecommendationSnapshot.assessment_id == assessment_id
            )
        ).one()
        old = {**stored.recommendation, "primary": "rag", "plan": ["rag"], "ruleset": "2025.1.1"}
        session.execute(
            insert(RecommendationSnapshot).values(
                assessment_id=assessment_id,
                ruleset="2025.1.1",
                profile=stored.profile,
                recommendation=old,
                created_at=utcnow(),
            )
        )
    page = client.get(urls.result(assessment_id)).text
    notice = one(page, ".ruleset-upgrade .notice")
    assert "Decided under ruleset 2025.1.1" in notice.get_text()
    assert "instead of rag" in notice.get_text() and one(notice, "table.outcome-diff")
    form = one(notice, "form")
    token = csrf_token(client, urls.result(assessment_id))
    again = post_form(client, str(form["action"]), token, back="result")
    assert again.status_code == 303 and again.headers["location"] == urls.result(assessment_id)
    assert not parse(client.get(urls.result(assessment_id)).text).select(".ruleset-upgrade")
