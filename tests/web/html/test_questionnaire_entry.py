"""Entering answers: the silent losses of issue 12 are gone, units convert, conflicts are 422s."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.decision.bank import NOT_SURE
from app.web.presenters import urls
from tests.web.conftest import one, parse, start_assessment


def _post(client: TestClient, url: str, token: str, fields: list[tuple[str, str]]) -> Any:
    """Post a form whose fields may repeat (checkboxes), as a browser does."""
    return client.post(
        url,
        content=_encode([("csrf_token", token), *fields]),
        headers=_FORM,
        follow_redirects=False,
    )


_FORM = {"content-type": "application/x-www-form-urlencoded"}


def _encode(fields: list[tuple[str, str]]) -> str:
    """urlencoded body with repeated keys kept."""
    from urllib.parse import urlencode

    return urlencode(fields)


def _stored(client: TestClient, assessment_id: str) -> dict[str, Any]:
    """The stored answers, read through the JSON API."""
    return dict(client.get(f"/api/assessments/{assessment_id}").json()["answers"])


@pytest.mark.parametrize("typed", ["3k", "3K", "3,000", "3 000", "about 3,000", "~3000", "3000"])
def test_3k_typed_as_a_count_is_stored_as_3000(client: TestClient, typed: str) -> None:
    """Silent loss 1: "3k" was stored as 3."""
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, "labeled_examples")
    response = _post(client, step, token, [("exact", typed)])
    assert response.status_code == 303, response.text
    assert _stored(client, assessment_id)["labeled_examples"] == 3000


@pytest.mark.parametrize("typed", ["3.5", "three thousand", "3,00", "-5", "1e3", "3k5", "²"])
def test_an_unreadable_count_is_a_422_that_says_what_is_accepted(
    client: TestClient, typed: str
) -> None:
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, "labeled_examples")
    response = _post(client, step, token, [("exact", typed)])
    assert response.status_code == 422
    message = one(response.text, "#value-error").get_text()
    assert "3,000" in message and "3k" in message, message
    assert one(response.text, "input#exact")["value"] == typed
    assert "labeled_examples" not in _stored(client, assessment_id)


def test_a_typed_number_beside_a_different_preset_is_a_conflict(client: TestClient) -> None:
    """Silent loss 2: the typed number silently beat the preset chosen beside it."""
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, "labeled_examples")
    response = _post(client, step, token, [("value", "500"), ("exact", "1234")])
    assert response.status_code == 422
    message = one(response.text, "#value-error").get_text()
    assert "Hundreds" in message and "1234" in message and "keep only one" in message
    assert "labeled_examples" not in _stored(client, assessment_id)
    page = parse(response.text)
    assert page.select_one('input[name="value"][value="500"][checked]') is not None
    # The same number both ways is no conflict.
    same = _post(client, step, token, [("value", "500"), ("exact", "500")])
    assert same.status_code == 303
    assert _stored(client, assessment_id)["labeled_examples"] == 500


def test_an_option_ticked_with_not_sure_is_a_conflict(client: TestClient) -> None:
    """Silent loss 3: ticking an option and "Not sure" stored "not sure" and dropped it."""
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, "already_using")
    response = _post(client, step, token, [("value", "rag"), ("value", NOT_SURE)])
    assert response.status_code == 422
    message = one(response.text, "#value-error").get_text()
    assert "Not sure" in message and "Retrieval" in message
    assert "already_using" not in _stored(client, assessment_id)
    # A number typed beside "Not sure" is the same conflict.
    counted = urls.step(assessment_id, "labeled_examples")
    refused = _post(client, counted, token, [("value", NOT_SURE), ("exact", "40")])
    assert refused.status_code == 422
    assert "labeled_examples" not in _stored(client, assessment_id)


def test_the_json_api_names_a_conflict(client: TestClient) -> None:
    """The conflict is an error body naming the question, for clients of the HTML form too."""
    from app.decision.bank import AnswerError, parse_form_answer

    with pytest.raises(AnswerError) as err:
        parse_form_answer("labeled_examples", ["500"], typed="1234")
    assert err.value.kind == "conflict" and err.value.question_id == "labeled_examples"


@pytest.mark.parametrize(
    ("question", "typed", "unit", "stored"),
    [
        ("corpus_tokens", "40,000", "pages", 24_000_000),
        ("corpus_tokens", "200", "documents", 600_000),
        ("corpus_tokens", "12", "mb", 3_000_000),
        ("corpus_tokens", "150k", "tokens", 150_000),
        ("monthly_requests", "2M", "per_day", 60_000_000),
        ("monthly_requests", "about 60,000", "per_month", 60_000),
        ("latency_budget_ms", "2", "s", 2000),
        ("prompt_tokens", "2", "pages", 1200),
    ],
)
def test_units_people_think_in_are_converted(
    client: TestClient, question: str, typed: str, unit: str, stored: int
) -> None:
    assessment_id, step, token = start_assessment(client)
    _post(client, step, token, [("value", "knowledge")])  # the material questions apply
    response = _post(
        client, urls.step(assessment_id, question), token, [("exact", typed), ("unit", unit)]
    )
    assert response.status_code == 303, response.text
    assert _stored(client, assessment_id)[question] == stored


def test_an_unknown_unit_is_a_422(client: TestClient) -> None:
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, "monthly_requests")
    response = _post(client, step, token, [("exact", "5"), ("unit", "per_fortnight")])
    assert response.status_code == 422
    assert "monthly_requests" not in _stored(client, assessment_id)
