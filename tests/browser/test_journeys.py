"""The three journeys of issue 12 in real chromium, JavaScript on and off: screens, the advice
panel forming as answers change, the review walk, and axe on every screen."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser

SCREEN = re.compile(r".*/assessments/[^/]+/screens/[\w-]+(\?.*)?$")
REVIEW = re.compile(r".*/review$")
NOT_SURE = "not_sure"

# What each user answers, by question; anything else asked gets "Not sure", else its first option.
SUPPORT_BOT: dict[str, Any] = {
    "gap": ["behavior"],
    "task_kind": ["conversation"],
    "task_breadth": ["broad"],
    "output_format": ["free_text"],
    "prompting": ["thorough"],
    "best_prompt_result": ["inconsistent"],
    "strong_model_meets_bar": ["no"],
    "eval_set": ["informal"],
    "labeled_examples": ("about 3,000", None),
    "data_matches_target": ["no"],
    "supervision": ["preferences"],
    "monthly_requests": ("2,000", "per_day"),
    "deployment": ["hosted_api"],
    "hosted_provider": ["openai"],
    "finetuning_available": ["true"],
}
POLICY_ASSISTANT: dict[str, Any] = {
    "gap": ["knowledge"],
    "task_kind": ["question_answering"],
    "knowledge_kind": ["private"],
    "knowledge_change": ["weekly"],
    "corpus_tokens": ("40,000", "pages"),
    "needs_citations": ["true"],
    "prompting": ["basic"],
    "monthly_requests": ("30k", "per_month"),
    "risk": ["high"],
}
CLASSIFIER: dict[str, Any] = {
    "gap": ["cost_or_latency"],
    "task_kind": ["extraction_classification"],
    "task_breadth": ["narrow"],
    "prompting": ["thorough"],
    "best_prompt_result": ["meets_bar"],
    "strong_model_meets_bar": ["yes"],
    "eval_set": ["automated"],
    "monthly_requests": ("2M", "per_day"),
    "deployment": ["hosted_api"],
    "hosted_provider": ["together"],
    "finetuning_available": ["true"],
}


def _settled(page: Any) -> None:
    """Wait until no htmx request is in flight (the live re-render after a change)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _answer_screen(page: Any, answers: dict[str, Any], js: bool) -> None:
    """Answer every question the screen shows, re-reading it after each change (with JS the
    questions re-render, and some appear or go)."""
    done: set[str] = set()
    for _ in range(40):
        ids = page.eval_on_selector_all("fieldset.question", "els => els.map(e => e.id.slice(2))")
        todo = [q for q in ids if q not in done]
        if not todo:
            return
        qid = todo[0]
        done.add(qid)
        given = answers.get(qid)
        if isinstance(given, tuple):
            typed, unit = given
            page.locator(f"#{qid}-typed").check()
            if js:
                _settled(page)
            page.locator(f"#{qid}-exact").fill(typed)
            if unit:
                page.locator(f"#{qid}-unit").select_option(unit)
            else:
                page.locator(f"#{qid}-exact").blur()
        elif given:
            for value in given:
                page.locator(f'input[name="{qid}"][value="{value}"]').check()
                if js:
                    _settled(page)
        elif page.locator(f'input[name="{qid}"][value="{NOT_SURE}"]').count():
            page.locator(f'input[name="{qid}"][value="{NOT_SURE}"]').check()
        else:
            page.locator(f'input[name="{qid}"]').first.check()
        if js:
            _settled(page)
    raise AssertionError("the screen kept changing")


def _walk(page: Any, live_server: str, answers: dict[str, Any], js: bool, name: str) -> list[str]:
    """Start, answer every screen until the review; the screens seen."""
    page.goto(live_server + "/")
    page.get_by_role("button", name="Start an assessment").click()
    page.wait_for_url(SCREEN)
    seen: list[str] = []
    while "/screens/" in page.url:
        assert len(seen) < 9, seen
        seen.append(page.url.split("/screens/")[1].split("?")[0])
        assert page.locator("#advice-so-far").count() == 1, "the advice panel is on every screen"
        _answer_screen(page, answers, js)
        if len(seen) == 1:
            screenshot(page, f"journey-{name}-{'js' if js else 'nojs'}-first")
        before = page.url
        page.get_by_role("button", name="Next").click()
        page.wait_for_function("url => location.href !== url", arg=before)
        page.wait_for_load_state()
        alert = page.locator('[role="alert"]')
        assert alert.count() == 0 or not alert.is_visible(), alert.inner_text()
    page.wait_for_url(REVIEW)
    return seen


# One full journey per JavaScript mode, each on a different path; the three journeys of the
# issue are all walked without a browser in tests/web/html/test_questionnaire_screens.py (the
# same screens, posts and live re-render), and the axe test below walks the policy journey.
def test_journey_with_javascript_then_the_review_walk(page: Any, live_server: str) -> None:
    """The classifier (cost or latency, hosted API): screens, the result's first action, then
    a change on the review that opens questions walks exactly those and comes back."""
    seen = _walk(page, live_server, CLASSIFIER, js=True, name="classifier")
    assert len(seen) <= 7, seen
    assert page.locator(".notice").count() == 0, "nothing left unanswered"
    review = page.url
    page.get_by_role("button", name="See the recommendation").click()
    page.wait_for_url(re.compile(r".*/result$"))
    screenshot(page, "journey-classifier-js-result")
    # The headline is the plan's first rung; a goal reached later is named under it.
    goal = page.locator("#goal")
    lead = page.locator("h1").inner_text() + (goal.inner_text() if goal.count() else "")
    assert "Distillation" in lead, lead

    page.goto(review)
    page.locator('dl.answers a[href*="#q-gap"]').click()
    page.wait_for_url(SCREEN)
    page.locator('input[name="gap"][value="knowledge"]').check()
    _settled(page)
    visited: list[str] = []
    while "/screens/" in page.url:
        assert len(visited) < 4, visited
        visited.append(page.url)
        _answer_screen(page, {}, js=True)
        before = page.url
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_function("url => location.href !== url", arg=before)
        page.wait_for_load_state()
    page.wait_for_url(review)
    assert len(visited) <= 3, visited
    assert page.locator(".notice").count() == 0, "the walk answered every opened question"


def test_journey_without_javascript(page_nojs: Any, live_server: str) -> None:
    """The support bot (behaviour, hosted API): questions that hang on an answer on the same
    screen show their condition and are answered in the same post."""
    seen = _walk(page_nojs, live_server, SUPPORT_BOT, js=False, name="support-bot")
    assert len(seen) <= 7, seen
    assert page_nojs.locator(".notice").count() == 0, "nothing left unanswered"


def test_the_advice_panel_forms_as_answers_change(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_role("button", name="Start an assessment").click()
    page.wait_for_url(SCREEN)
    page.evaluate("window.__sameDocument = true")
    panel = page.locator("#advice-so-far")
    assert panel.locator(".primary").inner_text() == "Prompting"
    page.locator('input[name="gap"][value="knowledge"]').check()
    _settled(page)
    page.locator("#advice-so-far .effect").wait_for()
    assert "raised" in panel.locator(".effect").inner_text()
    page.locator('input[name="gap"][value="cost_or_latency"]').check()
    _settled(page)
    page.wait_for_function(
        "() => !document.querySelector('#advice-so-far .effect').innerText.includes('knowledge')"
    )
    assert page.evaluate("window.__sameDocument") is True, "updated in place, not reloaded"
    screenshot(page, "advice-panel-js")


def test_a_number_typed_while_the_screen_re_renders_is_kept(page: Any, live_server: str) -> None:
    """Choosing "Another number" re-renders the screen; a reader who starts typing before that
    re-render is back keeps the text and the focus (the request carried the empty field)."""
    page.goto(live_server + "/")
    page.get_by_role("button", name="Start an assessment").click()
    page.wait_for_url(SCREEN)
    page.goto(page.url.rsplit("/screens/", 1)[0] + "/screens/scale-and-limits")
    # The reader types once the request has left: in the page, at htmx:beforeRequest.
    page.evaluate(
        """() => document.body.addEventListener("htmx:beforeRequest", () => {
            const field = document.getElementById("monthly_requests-exact");
            field.focus();
            field.value = "2M";
        }, {once: true})"""
    )
    page.locator("#monthly_requests-typed").check()
    _settled(page)
    assert page.locator("#monthly_requests-exact").input_value() == "2M"
    assert page.locator("#monthly_requests-typed").is_checked()
    assert page.evaluate("document.activeElement.id") == "monthly_requests-exact"


def test_axe_finds_no_serious_violation_on_any_screen(audit_page: Any, live_server: str) -> None:
    page = audit_page
    page.goto(live_server + "/")
    page.get_by_role("button", name="Start an assessment").click()
    page.wait_for_url(SCREEN)
    problems = {}
    for _ in range(8):
        if "/screens/" not in page.url:
            break
        name = page.url.split("/screens/")[1].split("?")[0]
        found = axe_violations(page)
        if found:
            problems[name] = [(v["id"], v["impact"], v["help"]) for v in found]
        _answer_screen(page, POLICY_ASSISTANT, js=True)
        before = page.url
        page.get_by_role("button", name="Next").click()
        page.wait_for_function("url => location.href !== url", arg=before)
        page.wait_for_load_state()
    found = axe_violations(page)
    if found:
        problems["review"] = [(v["id"], v["impact"], v["help"]) for v in found]
    assert problems == {}
