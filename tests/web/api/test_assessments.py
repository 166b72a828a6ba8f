"""The assessments API on SQLite and PostgreSQL: decide, create, answer, read, and bad input."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.decision.bank import BANK
from app.decision.profile import APPROACHES
from app.web.errors import ErrorBody
from tests.web.conftest import bearer, new_assessment

EXAMPLES = Path(__file__).resolve().parents[2] / "decision" / "data" / "profiles.jsonl"


def _first_choice_question() -> tuple[str, list[str]]:
    """A question with a fixed set of options, and its option values."""
    for question in BANK.questions:
        values = [o.value for o in question.options if o.value is not None]
        if question.kind == "single" and values:
            return question.id, values
    raise AssertionError("the bank has no single-choice question")


def test_recommend_returns_the_contract_fields(client: TestClient) -> None:
    response = client.post(
        "/api/recommend",
        json={"gap": "knowledge", "knowledge_change": "weekly", "corpus_tokens": 6_000_000},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["primary"] == "rag"
    assert set(body["scores"]) == set(APPROACHES)
    for key in (
        "plan",
        "prerequisites",
        "confidence",
        "reasons",
        "what_would_change",
        "technique",
        "recipe",
        "ruleset",
    ):
        assert key in body
    assert body["ruleset"] == BANK.version


def test_recommend_matches_every_shared_example(client: TestClient) -> None:
    for line in EXAMPLES.read_text().splitlines():
        case = json.loads(line)
        body = client.post("/api/recommend", json=case["profile"]).json()
        assert body["primary"] in case["expect"]["primary"], case["title"]


@pytest.mark.parametrize(
    ("profile", "field", "needle"),
    [
        ({"gap": "knowlege"}, "gap", "knowledge, behavior, both, unsure, cost_or_latency"),
        ({"labeled_examples": -3}, "labeled_examples", ">= 0"),
        ({"labeled_examples": "many"}, "labeled_examples", "whole number"),
        ({"needs_citations": "sometimes"}, "needs_citations", "true or false"),
        ({"colour": "blue"}, "colour", "known fields"),
        ({"supervision": ["demonstrations", "vibes"]}, "supervision", "preferences"),
    ],
)
def test_recommend_rejects_bad_profiles_naming_the_field(
    client: TestClient, profile: dict[str, object], field: str, needle: str
) -> None:
    response = client.post("/api/recommend", json=profile)
    assert response.status_code == 422
    [error] = ErrorBody.model_validate(response.json()).detail
    assert error.field == field
    assert needle in error.message
    assert error.type


def test_recommend_rejects_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post(
        "/api/recommend", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_assessment_round_trip(client: TestClient) -> None:
    body = new_assessment(client, title="Support bot")
    assessment_id = body["id"]
    assert len(assessment_id) >= 22  # >= 128 bits in url-safe base64
    assert body["status"] == "in_progress"
    assert body["answers"] == {}
    assert body["next_question"] == BANK.questions[0].id

    answered = client.put(
        f"/api/assessments/{assessment_id}/answers/gap", json={"value": "knowledge"}
    )
    assert answered.status_code == 200
    assert answered.json()["profile"]["gap"] == "knowledge"

    fetched = client.get(f"/api/assessments/{assessment_id}").json()
    assert fetched["answers"]["gap"] == "knowledge"
    assert fetched["recommendation"]["ruleset"] == BANK.version


def test_changing_an_answer_keeps_every_revision(client: TestClient) -> None:
    assessment_id = new_assessment(client)["id"]
    for value in ("knowledge", "behavior", "both"):
        client.put(f"/api/assessments/{assessment_id}/answers/gap", json={"value": value})
    history = client.get(f"/api/assessments/{assessment_id}/history").json()
    assert [h["value"] for h in history if h["question"] == "gap"] == [
        "knowledge",
        "behavior",
        "both",
    ]
    assert client.get(f"/api/assessments/{assessment_id}").json()["answers"]["gap"] == "both"


def test_updated_at_follows_answers_and_completion(client: TestClient) -> None:
    """Every answer and the completion move `updated_at`; it never goes back."""
    created = new_assessment(client)
    assessment_id = created["id"]
    assert created["updated_at"] == created["created_at"]
    seen = [created["updated_at"]]
    for value in ("knowledge", "behavior"):
        answered = client.put(
            f"/api/assessments/{assessment_id}/answers/gap", json={"value": value}
        ).json()
        seen.append(answered["updated_at"])
    history = client.get(f"/api/assessments/{assessment_id}/history").json()
    assert seen[-1] == history[-1]["at"]
    seen.append(client.post(f"/api/assessments/{assessment_id}/complete").json()["updated_at"])
    other = new_assessment(client, answers={"gap": "both"})
    assert client.get(f"/api/assessments/{assessment_id}").json()["updated_at"] == seen[-1]
    assert other["updated_at"] >= other["created_at"]
    parsed = [datetime.fromisoformat(t) for t in seen]
    assert parsed == sorted(parsed) and len(set(parsed)) == len(parsed)


def test_an_invalid_answer_never_replaces_a_stored_one(client: TestClient) -> None:
    question_id, values = _first_choice_question()
    assessment_id = new_assessment(client)["id"]
    client.put(f"/api/assessments/{assessment_id}/answers/{question_id}", json={"value": values[0]})
    bad = client.put(
        f"/api/assessments/{assessment_id}/answers/{question_id}", json={"value": "not-a-value"}
    )
    assert bad.status_code == 422
    [error] = bad.json()["detail"]
    assert error["field"] == question_id
    assert set(values) <= set(error["allowed"])
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert stored[question_id] == values[0]
    history = client.get(f"/api/assessments/{assessment_id}/history").json()
    assert len(history) == 1


def test_an_unknown_question_is_a_422_listing_the_questions(client: TestClient) -> None:
    assessment_id = new_assessment(client)["id"]
    response = client.put(
        f"/api/assessments/{assessment_id}/answers/favourite_colour", json={"value": "blue"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "favourite_colour"
    assert "gap" in error["allowed"]


def test_unknown_assessment_is_404_naming_it(client: TestClient) -> None:
    for response in (
        client.get("/api/assessments/nope"),
        client.put("/api/assessments/nope/answers/gap", json={"value": "knowledge"}),
        client.post("/api/assessments/nope/complete"),
        client.get("/api/assessments/nope/history"),
    ):
        assert response.status_code == 404
        assert response.json() == {
            "detail": [
                {
                    "field": "assessment_id",
                    "message": "no assessment with id 'nope'",
                    "allowed": None,
                    "type": "not_found",
                }
            ]
        }


def test_creating_with_invalid_answers_stores_nothing(client: TestClient) -> None:
    response = client.post("/api/assessments", json={"answers": {"gap": "nonsense"}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "gap"


def test_a_completed_assessment_is_resnapshotted_on_change(client: TestClient) -> None:
    assessment_id = new_assessment(client, answers={"gap": "knowledge"})["id"]
    completed = client.post(f"/api/assessments/{assessment_id}/complete")
    assert completed.status_code == 200
    assert completed.json()["status"] == "completed"
    before = completed.json()["recommendation"]
    changed = client.put(
        f"/api/assessments/{assessment_id}/answers/gap", json={"value": "behavior"}
    ).json()
    # A completed assessment is re-snapshotted on change, so the stored result follows the answers.
    assert changed["profile"]["gap"] == "behavior"
    assert changed["recommendation"] != before


def test_body_limit(client: TestClient) -> None:
    huge = {"title": "x" * 2_000_000}
    assert client.post("/api/assessments", json=huge).status_code == 413


def test_times_come_back_in_utc_with_an_offset(client: TestClient) -> None:
    """Every timestamp the API sends is an RFC 3339 time with its offset, UTC, on both
    databases (SQLite keeps no offset; the column adds it back)."""
    created = client.post("/api/assessments", json={}).json()
    question, values = _first_choice_question()
    headers = bearer(created["edit_key"])
    answered = client.put(
        f"/api/assessments/{created['id']}/answers/{question}",
        json={"value": values[0]},
        headers=headers,
    )
    assert answered.status_code == 200, answered.text
    read = client.get(f"/api/assessments/{created['id']}", headers=headers).json()
    history = client.get(f"/api/assessments/{created['id']}/history", headers=headers).json()
    moments = [created["created_at"], read["created_at"], read["updated_at"]]
    moments += [item["at"] for item in history if "at" in item]
    assert len(moments) >= 3
    for moment in moments:
        parsed = datetime.fromisoformat(moment)
        assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0, moment
