"""The questionnaire in real chromium: JavaScript on and off, keyboard only, axe, small screens."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser

STEP = re.compile(r".*/assessments/[^/]+/steps/\w+$")
SCREEN = re.compile(r".*/assessments/[^/]+/screens/[\w-]+$")
MAX_STEPS = 40


def _start(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_role("button", name="Start an assessment").click()
    page.wait_for_url(SCREEN)
    # The start opens the first screen (test_journeys.py walks those); this file walks the
    # per-question step pages, which keep answering.
    page.goto(page.url.split("/screens/")[0] + "/steps/gap")
    page.wait_for_url(STEP)


def _answer_all(page: Any, shots: str | None = None) -> int:
    """Pick the first answer on every step until the review page; the number of steps."""
    steps = 0
    while "/steps/" in page.url:
        steps += 1
        assert steps < MAX_STEPS, "the questionnaire does not end"
        heading = page.locator("h1").inner_text()
        assert f"Step {steps} of" in heading, heading
        assert page.title().startswith(f"Step {steps} of")
        if shots and steps <= 2:
            screenshot(page, f"{shots}-step-{steps}")
        before = page.url
        page.locator("fieldset input[name=value]").first.check()
        page.get_by_role("button", name="Next").click()
        page.wait_for_function("url => location.href !== url", arg=before)
        page.wait_for_load_state()
    return steps


def _finish(page: Any) -> None:
    page.wait_for_url(re.compile(r".*/review$"))
    page.get_by_role("button", name="See the recommendation").click()
    page.wait_for_url(re.compile(r".*/result$"))
    assert page.locator("h1").inner_text().endswith("first")
    assert page.locator("svg.chart rect.bar").count() == 6


def test_whole_flow_with_javascript(page: Any, live_server: str) -> None:
    _start(page, live_server)
    screenshot(page, "js-first-step")
    # With htmx, the step swaps in place: the page is not reloaded.
    page.evaluate("window.__sameDocument = true")
    steps = _answer_all(page, shots="js")
    assert steps >= 10
    assert page.evaluate("window.__sameDocument") is True, "htmx should swap, not reload"
    screenshot(page, "js-review")
    _finish(page)
    screenshot(page, "js-result")
    # The progress bar was swapped out of band and is gone on the result page.
    assert page.locator("#progress progress").count() == 0


def test_whole_flow_without_javascript(page_nojs: Any, live_server: str) -> None:
    page = page_nojs
    _start(page, live_server)
    steps = _answer_all(page, shots="nojs")
    assert steps >= 10
    screenshot(page, "nojs-review")
    _finish(page)
    screenshot(page, "nojs-result")


def test_error_is_announced_and_focused(page: Any, live_server: str) -> None:
    _start(page, live_server)
    page.get_by_role("button", name="Next").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Choose an answer" in alert.inner_text()
    page.wait_for_function("document.activeElement.getAttribute('aria-invalid') === 'true'")
    screenshot(page, "js-error")


def test_back_returns_to_the_previous_step_with_the_answer_kept(
    page: Any, live_server: str
) -> None:
    _start(page, live_server)
    first = page.url
    page.locator("input[value=behavior]").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_function("url => location.href !== url", arg=first)
    second = page.evaluate("location.href")
    page.get_by_role("link", name="Back").click()
    _wait_for_href(page, first)
    assert page.locator("input[value=behavior]").is_checked()
    # The browser's own Back button shows the true page again (a refresh on history miss).
    page.evaluate("history.back()")
    _wait_for_href(page, second)
    page.locator("h1", has_text="Step 2 of").wait_for()


def test_keyboard_only(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    _tab_to(page, "Start an assessment")
    page.keyboard.press("Enter")
    page.wait_for_url(SCREEN)
    page.goto(page.url.split("/screens/")[0] + "/steps/gap")
    page.wait_for_url(STEP)
    for _ in range(3):
        before = page.url
        page.keyboard.press("Tab")
        for _ in range(10):
            if page.evaluate("document.activeElement.name") == "value":
                break
            page.keyboard.press("Tab")
        page.keyboard.press("Space")
        _tab_to(page, "Next")
        page.keyboard.press("Enter")
        page.wait_for_function("url => location.href !== url", arg=before)
    assert "Step 4 of" in page.locator("h1").inner_text()
    # Focus is visible: the focused element draws an outline.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def _wait_for_href(page: Any, url: str) -> None:
    """Wait until the address bar shows `url` (htmx pushes history without a page load)."""
    page.wait_for_function("url => location.href === url", arg=url)


def _tab_to(page: Any, text: str) -> None:
    for _ in range(40):
        if page.evaluate("(document.activeElement.innerText || '').trim()") == text:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {text!r} with Tab")


def test_axe_finds_no_serious_violation_on_any_page(audit_page: Any, live_server: str) -> None:
    page = audit_page
    visited = {}
    page.goto(live_server + "/")
    visited["start"] = axe_violations(page)
    page.get_by_role("button", name="Start an assessment").click()
    page.wait_for_url(SCREEN)
    visited["screen"] = axe_violations(page)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("alert").wait_for()
    visited["screen with error"] = axe_violations(page)
    page.goto(page.url.split("/screens/")[0] + "/steps/gap")
    page.wait_for_url(STEP)
    visited["step"] = axe_violations(page)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("alert").wait_for()
    visited["step with error"] = axe_violations(page)
    review = page.url.rsplit("/steps/", 1)[0] + "/review"
    page.goto(review)
    visited["review"] = axe_violations(page)
    page.get_by_role("button", name="See the recommendation").click()
    page.wait_for_url(re.compile(r".*/result$"))
    visited["result"] = axe_violations(page)
    page.goto(live_server + "/assessments/nope/review")
    visited["not found"] = axe_violations(page)
    problems = {
        name: [(v["id"], v["impact"], v["help"]) for v in found]
        for name, found in visited.items()
        if found
    }
    assert problems == {}


def test_small_screen_has_no_sideways_scroll(phone_page: Any, live_server: str) -> None:
    page = phone_page
    _start(page, live_server)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "phone-step")
    page.goto(page.url.rsplit("/steps/", 1)[0] + "/result")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "phone-result")
