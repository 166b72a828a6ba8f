"""The questionnaire over HTTP: full pages and fragments, 303 chains, 422s, branches, resume."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from app.decision.bank import BANK, NOT_SURE
from app.main import create_app
from app.settings import Settings
from app.web.presenters import urls
from tests.web.conftest import (
    HTMX,
    first_value,
    hrefs,
    one,
    parse,
    post_form,
    start_assessment,
    title,
)


def test_start_page_explains_and_offers_a_start(client: TestClient) -> None:
    response = client.get(urls.home())
    assert response.status_code == 200
    start = one(response.text, "form[method=post]")
    assert start["action"] == urls.new_assessment()
    assert "HX-Request" in response.headers["vary"]


def test_full_page_without_htmx_and_fragment_with_it(client: TestClient) -> None:
    _, step, _ = start_assessment(client)
    full = client.get(step)
    assert full.text.startswith("<!doctype html>")
    assert parse(full.text).select_one("progress") is not None
    fragment = client.get(step, headers=HTMX)
    assert parse(fragment.text).select_one("html") is None
    assert title(fragment.text).startswith("Step 1 of ")
    assert one(fragment.text, "#progress")["hx-swap-oob"] == "true"
    assert fragment.headers["hx-push-url"] == step
    assert "HX-Request" in fragment.headers["vary"]
    # A history restore needs the whole page again.
    restore = client.get(step, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert restore.text.startswith("<!doctype html>")


def test_answer_posts_redirect_to_the_next_step_then_review_then_result(
    client: TestClient,
) -> None:
    assessment_id, step, token = start_assessment(client)
    seen = []
    for _ in range(len(BANK.questions) + 1):
        if not step.startswith(urls.step(assessment_id, "")):
            break
        question_id = step.rsplit("/", 1)[1]
        seen.append(question_id)
        page = client.get(step)
        assert f"Step {len(seen)} of " in title(page.text)
        answer = post_form(client, step, token, value=first_value(question_id))
        assert answer.status_code == 303, answer.text
        step = answer.headers["location"]
    assert step == urls.review(assessment_id)
    assert seen[0] == BANK.questions[0].id
    review = client.get(step)
    assert review.status_code == 200
    assert one(review.text, "form[method=post]")["action"] == urls.review(assessment_id)
    done = post_form(client, step, token)
    assert done.status_code == 303
    assert done.headers["location"] == urls.result(assessment_id)
    result = parse(client.get(done.headers["location"]).text)
    assert result.select_one("svg") is not None
    assert one(result, "h1").get_text().endswith("first")


def test_missing_answer_re_renders_with_422_and_keeps_input(client: TestClient) -> None:
    _, step, token = start_assessment(client)
    response = post_form(client, step, token)
    assert response.status_code == 422
    page = parse(response.text)
    assert page.select_one('[role="alert"]') is not None
    assert page.select('[aria-invalid="true"]')
    fragment = client.post(step, data={"csrf_token": token}, headers=HTMX)
    assert fragment.status_code == 422
    assert parse(fragment.text).select_one("html") is None


def test_the_step_page_links_to_the_review_and_its_own_resume_link(client: TestClient) -> None:
    assessment_id, step, _ = start_assessment(client)
    page = parse(client.get(step).text)
    links = hrefs(page)
    assert urls.review(assessment_id) in links
    resume = one(page, "a.url")
    assert resume["href"] == resume.get_text() == urls.assessment(assessment_id)


def test_invalid_number_keeps_what_was_typed(client: TestClient) -> None:
    numeric = next(q for q in BANK.questions if q.kind == "number" and not q.show_if)
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, numeric.id)
    response = post_form(client, step, token, exact="-12abc")
    assert response.status_code == 422
    assert one(response.text, "input#exact")["value"] == "-12abc"
    for typed in ("²", str(2**63)):  # int() refuses the first; no store keeps the second
        assert post_form(client, step, token, exact=typed).status_code == 422
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert numeric.id not in stored


def test_a_typed_number_is_stored_and_shown_again(client: TestClient) -> None:
    numeric = next(q for q in BANK.questions if q.kind == "number" and not q.show_if)
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, numeric.id)
    post_form(client, step, token, exact="1234")
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert stored[numeric.id] == 1234
    assert one(client.get(step).text, "input#exact")["value"] == "1234"


def test_a_multipart_answer_is_read_like_a_urlencoded_one(client: TestClient) -> None:
    """Pages post urlencoded forms; a multipart post (another client) is read the same."""
    multi = next(q for q in BANK.questions if q.kind == "multi" and not q.show_if)
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, multi.id)
    chosen = [str(o.value) for o in multi.options[:2]]
    fields = [("csrf_token", token), *(("value", v) for v in chosen)]
    encoded = post_form(client, step, token, value=chosen)
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
    assessment_id, _, token = start_assessment(client)
    step = urls.step(assessment_id, numeric.id)
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
    assessment_id, step, token = start_assessment(client)
    change = urls.change(assessment_id, BANK.questions[0].id)
    page = parse(client.get(change).text)
    assert one(page, 'input[name="return"]')["value"] == "review"
    assert one(page, "button[type=submit]").get_text() == "Save and return to review"
    refused = post_form(client, step, token, **{"return": "review"})
    assert refused.status_code == 422
    assert one(refused.text, 'input[name="return"]')["value"] == "review"
    saved = post_form(client, step, token, value=first_value("gap"), **{"return": "review"})
    assert saved.headers["location"] == urls.review(assessment_id)
    assert parse(client.get(step).text).select_one('input[name="return"]') is None


def test_an_oversized_answer_post_is_refused_and_stores_nothing(client: TestClient) -> None:
    """A valid answer padded past the limit, streamed without a length: 413, nothing stored."""
    assessment_id, step, token = start_assessment(client)

    def body() -> Iterator[bytes]:
        yield f"csrf_token={token}&value={first_value('gap')}&pad=".encode()
        for _ in range(64):  # 64 x 64 KiB: four times the limit, and no Content-Length
            yield b"x" * 65536

    response = client.post(
        step, content=body(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert client.get(f"/api/assessments/{assessment_id}/history").json() == []
    # The same answer without the padding is stored: the 413 above is about size alone.
    ok = client.post(step, data={"csrf_token": token, "value": first_value("gap")})
    assert ok.status_code == 200
    assert len(client.get(f"/api/assessments/{assessment_id}/history").json()) == 1


def test_not_sure_is_accepted_where_offered(client: TestClient) -> None:
    question = next(q for q in BANK.questions if q.not_sure and not q.show_if)
    assessment_id, _, token = start_assessment(client)
    response = post_form(client, urls.step(assessment_id, question.id), token, value=NOT_SURE)
    assert response.status_code == 303
    stored = client.get(f"/api/assessments/{assessment_id}").json()["answers"]
    assert stored[question.id] is None


def test_branching_skips_and_back_respects_it(client: TestClient) -> None:
    assessment_id, step, token = start_assessment(client)
    post_form(client, step, token, value="behavior")
    behaviour_ids = [q.id for q in BANK.questions if q.id in _visible(client, assessment_id)]
    post_form(client, step, token, value="knowledge")
    knowledge_ids = _visible(client, assessment_id)
    assert len(knowledge_ids) > len(behaviour_ids), "knowledge questions are skipped for behaviour"
    skipped = next(q for q in knowledge_ids if q not in behaviour_ids)
    post_form(client, urls.step(assessment_id, skipped), token, value=first_value(skipped))
    post_form(client, step, token, value="behavior")
    state = client.get(f"/api/assessments/{assessment_id}").json()
    assert skipped in state["not_applicable"]
    assert skipped in state["answers"], "answers off the branch are kept"
    review = parse(client.get(urls.review(assessment_id)).text)
    assert "not applying" in [tag.get_text() for tag in review.select(".tag")]
    # A step off the branch sends the user back to where they are.
    off = client.get(urls.step(assessment_id, skipped), follow_redirects=False)
    assert off.status_code == 303
    # Back from the second visible step leads to the first.
    second = _visible(client, assessment_id)[1]
    page = parse(client.get(urls.step(assessment_id, second)).text)
    back = next(a for a in page.select("a.button") if a.get_text() == "Back")
    assert back["href"] == urls.step(assessment_id, BANK.questions[0].id)


def _visible(client: TestClient, assessment_id: str) -> list[str]:
    """The questions on the branch taken, read from the review page's change links."""
    review = client.get(urls.review(assessment_id)).text
    changes = [urlsplit(href) for href in hrefs(review, "dl.answers a[href]")]
    # Change links open the question's screen, scrolled to it (#q-<question id>).
    return [link.fragment.removeprefix("q-") for link in changes if link.query == "return=review"]


def test_resume_after_a_new_app_instance(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        assessment_id, step, token = start_assessment(first)
        post_form(first, step, token, value="knowledge")
        # Resuming opens the first screen still asking something: the rest of the first one.
        next_step = urls.screen(assessment_id, "the-gap")
        cookies = dict(first.cookies)
    with TestClient(create_app(settings), cookies=cookies) as second:
        home = second.get(urls.home()).text
        assert urls.assessment(assessment_id) in hrefs(home)
        resumed = second.get(urls.assessment(assessment_id), follow_redirects=False)
        assert resumed.status_code == 303
        assert resumed.headers["location"] == next_step


def test_forms_need_a_csrf_token(client: TestClient) -> None:
    assessment_id, step, _ = start_assessment(client)
    assert client.post(urls.new_assessment()).status_code == 403
    refused = post_form(client, step, "forged", value="knowledge")
    assert refused.status_code == 403
    assert client.get(f"/api/assessments/{assessment_id}").json()["answers"] == {}


def test_unknown_ids_are_404_pages(client: TestClient) -> None:
    assert client.get(urls.review("nope")).status_code == 404
    assessment_id, _, _ = start_assessment(client)
    missing = client.get(urls.step(assessment_id, "no_such_question"))
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert one(missing.text, "h1").get_text() == "Not found"


def test_first_step_weighs_under_30_kb_gzipped(client: TestClient) -> None:
    _, step, _ = start_assessment(client)
    total = 0
    for path in (step, "/static/app.css", "/static/app.js", "/static/vendor/htmx.min.js"):
        with client.stream("GET", path, headers={"accept-encoding": "gzip"}) as response:
            assert response.status_code == 200, path
            total += sum(len(chunk) for chunk in response.iter_raw())
    assert total < 30 * 1024, f"first step page weighs {total} bytes gzipped"
