"""The questionnaire by screen: the journeys of issue 12, the advice panel, the review walk."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.decision.bank import BANK, NOT_SURE, SCREENS
from app.web.presenters import urls
from app.web.presenters.screens import estimate
from tests.web.conftest import HTMX, one, parse

FORM = {"content-type": "application/x-www-form-urlencoded"}

# Each journey: the answers a user gives, by question (form fields); anything else asked is
# answered "Not sure" when offered, else with its first option.
SUPPORT_BOT = {
    "gap": ["behavior"],
    "task_kind": ["conversation"],
    "task_breadth": ["broad"],
    "output_format": ["free_text"],
    "prompting": ["thorough"],
    "best_prompt_result": ["inconsistent"],
    "strong_model_meets_bar": ["no"],
    "eval_set": ["informal"],
    "labeled_examples": {"exact": "about 3,000"},
    "data_matches_target": ["no"],
    "supervision": ["preferences"],
    "monthly_requests": {"exact": "2,000", "unit": "per_day"},
    "deployment": ["hosted_api"],
    "hosted_provider": ["openai"],
    "finetuning_available": ["true"],
}
POLICY_ASSISTANT = {
    "gap": ["knowledge"],
    "task_kind": ["question_answering"],
    "knowledge_kind": ["private"],
    "knowledge_change": ["weekly"],
    "corpus_tokens": {"exact": "40,000", "unit": "pages"},
    "needs_citations": ["true"],
    "prompting": ["basic"],
    "monthly_requests": {"exact": "30k", "unit": "per_month"},
    "risk": ["high"],
}
CLASSIFIER = {
    "gap": ["cost_or_latency"],
    "task_kind": ["extraction_classification"],
    "task_breadth": ["narrow"],
    "prompting": ["thorough"],
    "best_prompt_result": ["meets_bar"],
    "strong_model_meets_bar": ["yes"],
    "eval_set": ["automated"],
    "monthly_requests": {"exact": "2M", "unit": "per_day"},
    "deployment": ["hosted_api"],
    "hosted_provider": ["together"],
    "finetuning_available": ["true"],
}


def _start(client: TestClient) -> tuple[str, str, str]:
    """Start from the start page: (assessment id, first screen URL, CSRF token)."""
    start = one(client.get(urls.home()).text, "form[method=post]")
    token = str(one(start, 'input[name="csrf_token"]')["value"])
    response = client.post(str(start["action"]), data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    return location.split("/")[2], location, token


def _fields(page: Any, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """The form a user fills in on one screen."""
    fields: list[tuple[str, str]] = []
    for fieldset in page.select("fieldset.question"):
        qid = fieldset["id"].removeprefix("q-")
        if "pending" in fieldset.get("class", []) and qid not in answers:
            continue
        given = answers.get(qid)
        if isinstance(given, dict):
            fields.append((f"{qid}.exact", given["exact"]))
            if "unit" in given:
                fields.append((f"{qid}.unit", given["unit"]))
        elif given:
            fields += [(qid, v) for v in given]
        elif fieldset.select_one(f'input[value="{NOT_SURE}"]') is not None:
            fields.append((qid, NOT_SURE))
        else:
            first = fieldset.select_one(f'input[name="{qid}"]')
            fields.append((qid, str(first["value"])))
    return fields


def _walk(client: TestClient, answers: dict[str, Any]) -> tuple[str, list[str], list[Any]]:
    """Answer every screen until the review: (assessment id, screens seen, advice panels)."""
    assessment_id, url, token = _start(client)
    seen: list[str] = []
    panels: list[Any] = []
    while "/screens/" in url:
        assert len(seen) < 10, seen
        page = parse(client.get(url).text)
        panels.append(page.select_one("#advice-so-far"))
        seen.append(urlsplit(url).path.rsplit("/", 1)[1])
        body = [("csrf_token", token), *_fields(page, answers)]
        response = client.post(url, content=urlencode(body), headers=FORM, follow_redirects=False)
        errors = [li.get_text() for li in parse(response.text).select(".error-summary li")]
        assert response.status_code == 303, (url, body, errors)
        url = response.headers["location"]
    assert urlsplit(url).path == urls.review(assessment_id)
    return assessment_id, seen, panels


def _result(client: TestClient, assessment_id: str) -> dict[str, Any]:
    """The current recommendation, through the JSON API."""
    return dict(client.get(f"/api/assessments/{assessment_id}/recommendation").json())


@pytest.mark.parametrize(
    ("answers", "primary"),
    [
        (SUPPORT_BOT, None),
        (POLICY_ASSISTANT, "rag"),
        (CLASSIFIER, "distillation"),
    ],
    ids=["support bot", "policy assistant", "classifier"],
)
def test_each_journey_takes_at_most_seven_screens(
    client: TestClient, answers: dict[str, Any], primary: str | None
) -> None:
    assessment_id, seen, panels = _walk(client, answers)
    assert len(seen) <= 7, seen
    assert len(set(seen)) == len(seen), f"a screen came twice: {seen}"
    assert all(panel is not None for panel in panels), "every screen shows the advice so far"
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    if "corpus_tokens" in answers:
        assert stored["corpus_tokens"] == 24_000_000
    if answers is CLASSIFIER:
        assert stored["monthly_requests"] == 60_000_000
        assert "knowledge_kind" not in stored, "no knowledge questions for cost or latency"
        assert "corpus_tokens" not in stored
    review = parse(client.get(urls.review(assessment_id)).text)
    assert review.select_one(".notice") is None, "nothing left unanswered on the path"
    if primary:
        done = client.post(
            urls.review(assessment_id),
            data={"csrf_token": one(review, 'input[name="csrf_token"]')["value"]},
            follow_redirects=False,
        )
        assert done.status_code == 303
        result = parse(client.get(urls.result(assessment_id)).text)
        assert result.select_one("h1") is not None
        assert _primary(client, assessment_id) == primary


def _primary(client: TestClient, assessment_id: str) -> str:
    """The primary approach the JSON API reports for an assessment."""
    body = client.get(f"/api/assessments/{assessment_id}").json()
    rec = body.get("recommendation") or {}
    return str(rec.get("primary"))


def test_a_knowledge_gap_skips_training_only_questions(client: TestClient) -> None:
    assessment_id, _, _ = _walk(client, POLICY_ASSISTANT)
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    asked_training = {"gpu", "ml_expertise", "finetune_pilot_result", "data_matches_target"}
    assert not asked_training & set(stored), sorted(asked_training & set(stored))


def test_the_advice_panel_updates_and_says_what_the_answer_did(client: TestClient) -> None:
    assessment_id, url, token = _start(client)
    page = parse(client.get(url).text)
    assert one(page, "#advice-so-far .primary").get_text() == "Prompting"
    live = urls.screen_live(assessment_id, SCREENS[0].slug)
    body = urlencode([("csrf_token", token), ("gap", "knowledge"), ("_changed", "gap")])
    response = client.post(live, content=body, headers={**FORM, **HTMX})
    assert response.status_code == 200
    fragment = parse(response.text)
    panel = one(fragment, "#advice-so-far")
    assert panel["hx-swap-oob"] == "true"
    assert "raised" in one(panel, ".effect").get_text()
    # Nothing was stored by the live preview.
    assert client.get(f"/api/assessments/{assessment_id}").json()["answers"] == {}
    # Without JavaScript the next screen shows the effect of the screen just posted.
    body = urlencode([("csrf_token", token), *_fields(page, {"gap": ["knowledge"]})])
    posted = client.post(url, content=body, headers=FORM, follow_redirects=False)
    next_page = parse(client.get(posted.headers["location"]).text)
    effect = next_page.select_one("#advice-so-far .effect")
    assert effect is not None and effect.get_text().startswith("This ")


def test_questions_appear_on_the_same_screen_as_answers_change(client: TestClient) -> None:
    assessment_id, _, token = _start(client)
    for qid, value in (
        ("gap", "behavior"),
        ("prompting", "thorough"),
        ("best_prompt_result", "inconsistent"),
    ):
        step = urls.step(assessment_id, qid)
        client.post(step, data={"csrf_token": token, "value": value}, follow_redirects=False)
    data = next(s for s in SCREENS if s.slug == "data")
    page = parse(client.get(urls.screen(assessment_id, data.slug)).text)
    assert page.select_one("#q-data_matches_target") is not None, "unknown count: it may apply"
    live = urls.screen_live(assessment_id, data.slug)
    none = urlencode([("csrf_token", token), ("labeled_examples", "0")])
    gone = parse(client.post(live, content=none, headers={**FORM, **HTMX}).text)
    assert gone.select_one("#q-data_matches_target") is None
    some = urlencode([("csrf_token", token), ("labeled_examples", "500")])
    shown = parse(client.post(live, content=some, headers={**FORM, **HTMX}).text)
    assert "pending" not in one(shown, "#q-data_matches_target")["class"]


def test_another_number_stays_chosen_while_its_field_is_empty(client: TestClient) -> None:
    """Choosing "Another number" re-renders the screen before anything is typed: the radio
    must come back chosen (it came back cleared, and a browser test then clicked it forever)."""
    assessment_id, _, token = _start(client)
    live = urls.screen_live(assessment_id, "scale-and-limits")
    typed = "#monthly_requests-typed"
    for posted, checked in (("", True), ("1000", False)):
        fields = [("monthly_requests", posted), ("monthly_requests.exact", "")]
        body = urlencode([("csrf_token", token), *fields])
        shown = parse(client.post(live, content=body, headers={**FORM, **HTMX}).text)
        assert one(shown, typed).has_attr("checked") is checked, posted
    fields = [("monthly_requests", ""), ("monthly_requests.exact", "3k")]
    body = urlencode([("csrf_token", token), *fields])
    shown = parse(client.post(live, content=body, headers={**FORM, **HTMX}).text)
    assert one(shown, typed).has_attr("checked")
    assert one(shown, "#monthly_requests-exact")["value"] == "3k"


def test_changing_a_branching_answer_on_the_review_walks_exactly_the_new_questions(
    client: TestClient,
) -> None:
    assessment_id, _, _ = _walk(client, SUPPORT_BOT)
    review = parse(client.get(urls.review(assessment_id)).text)
    change = next(str(a["href"]) for a in review.select("dl.answers a") if "#q-gap" in a["href"])
    url = change.split("#")[0]
    page = parse(client.get(url).text)
    token = one(page, 'input[name="csrf_token"]')["value"]
    fields = [(k, v) for k, v in _fields(page, {}) if not k.startswith("gap")]
    body = urlencode([("csrf_token", token), ("gap", "knowledge"), ("return", "review"), *fields])
    response = client.post(url, content=body, headers=FORM, follow_redirects=False)
    walk = urlsplit(response.headers["location"])
    assert "return=review" in walk.query
    before = set(client.get(f"/api/assessments/{assessment_id}").json()["answers"])
    location, visited = response.headers["location"], list[str]()
    while "/screens/" in location:
        assert len(visited) < 7, visited
        visited.append(urlsplit(location).path.rsplit("/", 1)[1])
        page = parse(client.get(location).text)
        asked = {str(f["id"]).removeprefix("q-") for f in page.select("fieldset.question")}
        assert asked - before, f"{visited[-1]} asks nothing new"
        body = urlencode([("csrf_token", token), ("return", "review"), *_fields(page, {})])
        step = client.post(location, content=body, headers=FORM, follow_redirects=False)
        assert step.status_code == 303, step.text[:1500]
        location = step.headers["location"]
    assert visited[0] in ("knowledge", "more") and len(visited) <= 2, visited
    assert urlsplit(location).path == urls.review(assessment_id)
    again = parse(client.get(urls.review(assessment_id)).text)
    assert again.select_one(".notice") is None, "no question left unanswered"


def test_a_screen_with_a_missing_answer_is_a_422_listing_it(client: TestClient) -> None:
    assessment_id, url, token = _start(client)
    response = client.post(
        url, content=urlencode([("csrf_token", token)]), headers=FORM, follow_redirects=False
    )
    assert response.status_code == 422
    page = parse(response.text)
    assert page.select_one('[role="alert"] a[href="#q-gap"]') is not None
    assert client.get(f"/api/assessments/{assessment_id}").json()["answers"] == {}


def test_the_title_is_asked_on_the_first_screen(client: TestClient) -> None:
    assessment_id, url, token = _start(client)
    page = parse(client.get(url).text)
    body = urlencode(
        [
            ("csrf_token", token),
            ("title", "Support bot tone"),
            *_fields(page, {"gap": ["behavior"]}),
        ]
    )
    assert client.post(url, content=body, headers=FORM, follow_redirects=False).status_code == 303
    assert client.get(f"/api/assessments/{assessment_id}").json()["title"] == "Support bot tone"


def test_start_page_estimates_time_and_screens_and_lists_this_browsers_assessments(
    client: TestClient,
) -> None:
    minutes, count = estimate()
    home = client.get(urls.home()).text
    assert f"about {minutes} minute" in home.lower() and f"{count} screens" in home
    assert count <= 7
    assessment_id, _, _ = _start(client)
    mine = parse(client.get(urls.home()).text).select_one("#my-assessments")
    assert mine is not None
    assert any(assessment_id in a["href"] for a in mine.select("a[href]"))


def test_the_old_step_urls_keep_answering(client: TestClient) -> None:
    assessment_id, _, token = _start(client)
    step = urls.step(assessment_id, "gap")
    assert client.get(step).status_code == 200
    posted = client.post(
        step, data={"csrf_token": token, "value": "behavior"}, follow_redirects=False
    )
    assert posted.status_code == 303


def test_first_screen_weighs_under_30_kb_gzipped(client: TestClient) -> None:
    _, url, _ = _start(client)
    total = 0
    for path in (url, "/static/app.css", "/static/app.js", "/static/vendor/htmx.min.js"):
        with client.stream("GET", path, headers={"accept-encoding": "gzip"}) as response:
            assert response.status_code == 200, path
            total += sum(len(chunk) for chunk in response.iter_raw())
    assert total < 30 * 1024, f"first screen weighs {total} bytes gzipped"


def test_the_cached_advice_panel_cannot_be_changed_by_a_caller() -> None:
    """Every page with the same answers gets the one cached panel: a caller that wrote to it
    would change what later pages show, so it refuses writes, down to its plan."""
    from app.web.presenters import screens

    panel = screens._advice((("gap", "knowledge"),), ("gap",))
    assert panel is screens._advice((("gap", "knowledge"),), ("gap",))
    with pytest.raises(TypeError):
        panel["primary"] = "Distillation"  # type: ignore[index]
    assert isinstance(panel["plan"], tuple)


def test_next_on_an_unchanged_screen_stores_nothing_and_goes_on(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A screen posted again as it was read opens no write: no revision, the same next page.
    A changed answer still goes through the store."""
    from app.services import assessments

    stores: list[dict[str, Any]] = []
    real = assessments.record_answers

    def counted(**kwargs: Any) -> None:
        stores.append(kwargs["values"])
        real(**kwargs)

    monkeypatch.setattr(assessments, "record_answers", counted)
    assessment_id, url, token = _start(client)
    body = urlencode([("csrf_token", token), *_fields(parse(client.get(url).text), SUPPORT_BOT)])
    first = client.post(url, content=body, headers=FORM, follow_redirects=False)
    history = client.get(f"/api/assessments/{assessment_id}/history").json()
    again = client.post(url, content=body, headers=FORM, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert len(stores) == 1
    assert client.get(f"/api/assessments/{assessment_id}/history").json() == history
    assert urlsplit(again.headers["location"]).path == urlsplit(first.headers["location"]).path
    changed = body.replace("gap=behavior", "gap=knowledge")
    assert changed != body
    assert (
        client.post(url, content=changed, headers=FORM, follow_redirects=False).status_code == 303
    )
    assert len(stores) == 2
    assert len(client.get(f"/api/assessments/{assessment_id}/history").json()) > len(history)


def test_a_choice_list_posted_unchanged_is_not_called_a_change(client: TestClient) -> None:
    """A multiple-choice answer read back from the database is a list, a posted one a tuple:
    posting the same choices again must neither store a revision nor tell the next screen
    (`?changed=`) that this answer changed the advice."""
    assessment_id, _, token = _start(client)
    url = urls.screen(assessment_id, "what-you-tried")
    question = BANK.get("already_using")
    choices = [str(o.value) for o in question.options if o.value != NOT_SURE][:2]
    page = parse(client.get(url).text)
    body = urlencode([("csrf_token", token), *_fields(page, {"already_using": choices})])
    first = client.post(url, content=body, headers=FORM, follow_redirects=False)
    assert first.status_code == 303 and "already_using" in first.headers["location"]
    revisions = len(client.get(f"/api/assessments/{assessment_id}/history").json())
    again = client.post(url, content=body, headers=FORM, follow_redirects=False)
    assert again.status_code == 303
    assert "changed=" not in again.headers["location"], again.headers["location"]
    assert len(client.get(f"/api/assessments/{assessment_id}/history").json()) == revisions
