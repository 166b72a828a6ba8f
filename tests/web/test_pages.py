"""The questionnaire over HTTP: full pages and fragments, 303 chains, 422s, branches, resume."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.decision.bank import BANK, NOT_SURE
from app.main import create_app
from app.settings import Settings

HTMX = {"HX-Request": "true"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Page tests run on SQLite; the API tests cover PostgreSQL."""
    return sqlite_url


def _token(client: TestClient, path: str = "/") -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _start(client: TestClient) -> tuple[str, str, str]:
    """Start an assessment; its id, the first step URL and the CSRF token."""
    token = _token(client)
    response = client.post("/assessments", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    step = response.headers["location"]
    return step.split("/")[2], step, token


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html)
    assert match
    return match.group(1)


def _first_value(question_id: str) -> str:
    question = BANK.get(question_id)
    value = question.options[0].value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def test_start_page_explains_and_offers_a_start(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<form method="post" action="/assessments">' in response.text
    assert "HX-Request" in response.headers["vary"]


def test_full_page_without_htmx_and_fragment_with_it(client: TestClient) -> None:
    _, step, _ = _start(client)
    full = client.get(step)
    assert full.text.startswith("<!doctype html>")
    assert "<progress" in full.text
    fragment = client.get(step, headers=HTMX)
    assert "<html" not in fragment.text
    assert _title(fragment.text).startswith("Step 1 of ")
    assert 'id="progress" hx-swap-oob="true"' in fragment.text
    assert fragment.headers["hx-push-url"] == step
    assert "HX-Request" in fragment.headers["vary"]
    # A history restore needs the whole page again.
    restore = client.get(step, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert restore.text.startswith("<!doctype html>")


def test_answer_posts_redirect_to_the_next_step_then_review_then_result(
    client: TestClient,
) -> None:
    assessment_id, step, token = _start(client)
    seen = []
    for _ in range(len(BANK.questions) + 1):
        if not step.startswith(f"/assessments/{assessment_id}/steps/"):
            break
        question_id = step.rsplit("/", 1)[1]
        seen.append(question_id)
        page = client.get(step)
        assert f"Step {len(seen)} of " in _title(page.text)
        answer = client.post(
            step,
            data={"csrf_token": token, "value": _first_value(question_id)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        step = answer.headers["location"]
    assert step == f"/assessments/{assessment_id}/review"
    assert seen[0] == BANK.questions[0].id
    review = client.get(step)
    assert review.status_code == 200
    done = client.post(step, data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/assessments/{assessment_id}/result"
    result = client.get(done.headers["location"])
    assert result.status_code == 200
    assert "<svg" in result.text and "first</h1>" in result.text


def test_missing_answer_re_renders_with_422_and_keeps_input(client: TestClient) -> None:
    _, step, token = _start(client)
    response = client.post(step, data={"csrf_token": token})
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert 'aria-invalid="true"' in response.text
    fragment = client.post(step, data={"csrf_token": token}, headers=HTMX)
    assert fragment.status_code == 422
    assert "<html" not in fragment.text


def test_invalid_number_keeps_what_was_typed(client: TestClient) -> None:
    numeric = next(q for q in BANK.questions if q.kind == "number" and not q.show_if)
    assessment_id, _, token = _start(client)
    step = f"/assessments/{assessment_id}/steps/{numeric.id}"
    response = client.post(step, data={"csrf_token": token, "exact": "-12abc"})
    assert response.status_code == 422
    assert 'value="-12abc"' in response.text
    for typed in ("²", str(2**63)):  # int() refuses the first; no store keeps the second
        assert client.post(step, data={"csrf_token": token, "exact": typed}).status_code == 422
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert numeric.id not in stored


def test_typed_number_wins_over_a_suggestion(client: TestClient) -> None:
    numeric = next(q for q in BANK.questions if q.kind == "number" and not q.show_if)
    assessment_id, _, token = _start(client)
    step = f"/assessments/{assessment_id}/steps/{numeric.id}"
    suggested = str(numeric.options[0].value)
    client.post(step, data={"csrf_token": token, "value": suggested, "exact": "1234"})
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert stored[numeric.id] == 1234
    assert 'value="1234"' in client.get(step).text


def test_a_multipart_answer_is_read_like_a_urlencoded_one(client: TestClient) -> None:
    """Pages post urlencoded forms; a multipart post (another client) is read the same."""
    multi = next(q for q in BANK.questions if q.kind == "multi" and not q.show_if)
    assessment_id, _, token = _start(client)
    step = f"/assessments/{assessment_id}/steps/{multi.id}"
    chosen = [str(o.value) for o in multi.options[:2]]
    fields = [("csrf_token", token), *(("value", v) for v in chosen)]
    encoded = client.post(step, data={"csrf_token": token, "value": chosen}, follow_redirects=False)
    assert encoded.status_code == 303
    first = client.get(f"/api/assessments/{assessment_id}").json()["answers"][multi.id]
    as_multipart = client.post(
        step, files=[(k, (None, v)) for k, v in fields], follow_redirects=False
    )
    assert as_multipart.status_code == 303, as_multipart.text
    assert as_multipart.headers["location"] == encoded.headers["location"]
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"][multi.id]
    assert stored == first == chosen


def test_a_percent_encoded_form_is_decoded(client: TestClient) -> None:
    """A typed number sent with stray spaces and percent-escapes is still read."""
    numeric = next(q for q in BANK.questions if q.kind == "number" and not q.show_if)
    assessment_id, _, token = _start(client)
    step = f"/assessments/{assessment_id}/steps/{numeric.id}"
    body = f"csrf_token={token}&exact=+1%2C500+&value="
    response = client.post(
        step,
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded; charset=UTF-8"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert client.get(f"/api/assessments/{assessment_id}").json()["answers"][numeric.id] == 1500


def test_changing_an_answer_from_the_review_returns_there_even_after_a_422(
    client: TestClient,
) -> None:
    """The "return to review" choice survives a refused answer."""
    assessment_id, step, token = _start(client)
    change = f"{step}?return=review"
    page = client.get(change).text
    assert 'name="return" value="review"' in page and "Save and return to review" in page
    refused = client.post(step, data={"csrf_token": token, "return": "review"})
    assert refused.status_code == 422
    assert 'name="return" value="review"' in refused.text
    saved = client.post(
        step,
        data={"csrf_token": token, "return": "review", "value": _first_value("gap")},
        follow_redirects=False,
    )
    assert saved.headers["location"] == f"/assessments/{assessment_id}/review"
    assert 'name="return"' not in client.get(step).text


def test_an_oversized_answer_post_is_refused_and_stores_nothing(client: TestClient) -> None:
    """A valid answer padded past the limit, streamed without a length: 413, nothing stored."""
    assessment_id, step, token = _start(client)

    def body() -> Iterator[bytes]:
        yield f"csrf_token={token}&value={_first_value('gap')}&pad=".encode()
        for _ in range(64):  # 64 x 64 KiB: four times the limit, and no Content-Length
            yield b"x" * 65536

    response = client.post(
        step, content=body(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert client.get(f"/api/assessments/{assessment_id}/history").json() == []
    # The same answer without the padding is stored: the 413 above is about size alone.
    ok = client.post(step, data={"csrf_token": token, "value": _first_value("gap")})
    assert ok.status_code == 200
    assert len(client.get(f"/api/assessments/{assessment_id}/history").json()) == 1


def test_not_sure_is_accepted_where_offered(client: TestClient) -> None:
    question = next(q for q in BANK.questions if q.not_sure and not q.show_if)
    assessment_id, _, token = _start(client)
    step = f"/assessments/{assessment_id}/steps/{question.id}"
    response = client.post(
        step, data={"csrf_token": token, "value": NOT_SURE}, follow_redirects=False
    )
    assert response.status_code == 303
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert stored[question.id] is None


def test_branching_skips_and_back_respects_it(client: TestClient) -> None:
    assessment_id, step, token = _start(client)
    client.post(step, data={"csrf_token": token, "value": "behavior"})
    behaviour_ids = [q.id for q in BANK.questions if q.id in _visible(client, assessment_id)]
    client.post(step, data={"csrf_token": token, "value": "knowledge"})
    knowledge_ids = _visible(client, assessment_id)
    assert len(knowledge_ids) > len(behaviour_ids), "knowledge questions are skipped for behaviour"
    skipped = next(q for q in knowledge_ids if q not in behaviour_ids)
    client.post(
        f"/assessments/{assessment_id}/steps/{skipped}",
        data={"csrf_token": token, "value": _first_value(skipped)},
    )
    client.post(step, data={"csrf_token": token, "value": "behavior"})
    state = client.get(f"/api/assessments/{assessment_id}").json()
    assert skipped in state["not_applicable"]
    assert skipped in state["answers"], "answers off the branch are kept"
    review = client.get(f"/assessments/{assessment_id}/review").text
    assert "not applying" in review
    # A step off the branch sends the user back to where they are.
    off = client.get(f"/assessments/{assessment_id}/steps/{skipped}", follow_redirects=False)
    assert off.status_code == 303
    # Back from the second visible step leads to the first.
    second = _visible(client, assessment_id)[1]
    page = client.get(f"/assessments/{assessment_id}/steps/{second}").text
    assert f'href="/assessments/{assessment_id}/steps/{BANK.questions[0].id}">Back' in page


def _visible(client: TestClient, assessment_id: str) -> list[str]:
    review = client.get(f"/assessments/{assessment_id}/review").text
    return re.findall(rf"/assessments/{assessment_id}/steps/(\w+)\?return=review", review)


def test_resume_after_a_new_app_instance(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        assessment_id, step, token = _start(first)
        answer = first.post(
            step, data={"csrf_token": token, "value": "knowledge"}, follow_redirects=False
        )
        next_step = answer.headers["location"]
        cookies = dict(first.cookies)
    with TestClient(create_app(settings), cookies=cookies) as second:
        home = second.get("/").text
        assert f'href="/assessments/{assessment_id}"' in home
        resumed = second.get(f"/assessments/{assessment_id}", follow_redirects=False)
        assert resumed.status_code == 303
        assert resumed.headers["location"] == next_step


def test_forms_need_a_csrf_token(client: TestClient) -> None:
    assessment_id, step, _ = _start(client)
    assert client.post("/assessments").status_code == 403
    refused = client.post(step, data={"csrf_token": "forged", "value": "knowledge"})
    assert refused.status_code == 403
    assert client.get(f"/api/assessments/{assessment_id}").json()["answers"] == {}


def test_unknown_ids_are_404_pages(client: TestClient) -> None:
    assert client.get("/assessments/nope/review").status_code == 404
    _, step, _ = _start(client)
    missing = client.get(step.rsplit("/", 1)[0] + "/no_such_question")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]


def test_exports(client: TestClient) -> None:
    assessment_id, step, token = _start(client)
    client.post(step, data={"csrf_token": token, "value": "knowledge"})
    as_json = client.get(f"/assessments/{assessment_id}/export.json")
    assert as_json.json()["answers"] == {"gap": "knowledge"}
    assert "attachment" in as_json.headers["content-disposition"]
    as_md = client.get(f"/assessments/{assessment_id}/export.md")
    assert as_md.text.startswith("# Adaptation plan: ")
    assert "## The plan, in order" in as_md.text
    assert client.get(f"/assessments/{assessment_id}/export.pdf").status_code == 404


def test_result_links_each_reason_to_its_answer(client: TestClient) -> None:
    assessment_id, step, token = _start(client)
    client.post(step, data={"csrf_token": token, "value": "knowledge"})
    result = client.get(f"/assessments/{assessment_id}/result").text
    assert (
        f'href="/assessments/{assessment_id}/steps/gap?return=review">Change this answer' in result
    )
    assert result.count('<rect class="bar') == 6


def test_first_step_weighs_under_30_kb_gzipped(client: TestClient) -> None:
    _, step, _ = _start(client)
    total = 0
    for path in (step, "/static/app.css", "/static/app.js", "/static/vendor/htmx.min.js"):
        with client.stream("GET", path, headers={"accept-encoding": "gzip"}) as response:
            assert response.status_code == 200, path
            total += sum(len(chunk) for chunk in response.iter_raw())
    assert total < 30 * 1024, f"first step page weighs {total} bytes gzipped"


def test_every_plan_step_and_prerequisite_links_to_a_recipe_page(client: TestClient) -> None:
    answers = {
        "gap": "both",
        "knowledge_kind": "private",
        "corpus_tokens": 10_000_000,
        "labeled_examples": 1500,
        "eval_set": "none",
        "prompting": "thorough",
        "best_prompt_result": "inconsistent",
        "finetuning_available": True,
    }
    assessment_id = client.post("/api/assessments", json={"answers": answers}).json()["id"]
    result = client.get(f"/assessments/{assessment_id}/result").text
    links = set(re.findall(r'href="(/recipes/[\w-]+)\?assessment=', result))
    assert "/recipes/build-evals" in links, "the build_evals prerequisite links its playbook"
    assert len(links) >= 3
    for link in links:
        assert client.get(link).status_code == 200, link
