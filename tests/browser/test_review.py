"""Team review in real chromium: A completes an assessment and asks B to review it; B comments
on one answer and requests changes; A changes that answer; B sees the diff and approves. The
team's dashboard then filters to it and its MADR decision record downloads. Pages axe-clean."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AXE, _context, axe_violations, screenshot
from tests.browser.test_flow import _answer_all, _finish, _start
from tests.support import require

pytestmark = pytest.mark.browser
PASSWORD = "browser password 13"


def _sign_up(page: Any, live_server: str, email: str) -> None:
    page.goto(live_server + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Sign out").wait_for()


def _axe_clean(page: Any, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, (what, [(v["id"], v["help"]) for v in violations])


def test_two_reviewers_request_changes_then_approve(browser: Any, live_server: str) -> None:
    require(AXE.exists(), "axe-core is not installed (npm ci)")
    # bypass_csp lets the test inject axe-core; the app's own CSP stays as it is.
    contexts = [_context(browser, bypass_csp=True, accept_downloads=True) for _ in range(2)]
    try:
        a, b = (context.new_page() for context in contexts)
        # A: an account, a team, a completed assessment moved into it, an invite for B.
        _sign_up(a, live_server, "review-a@example.org")
        a.goto(live_server + "/teams")
        a.get_by_label("Team name").fill("Review guild")
        a.get_by_role("button", name="Create team").click()
        a.wait_for_url(re.compile(r".*/teams/[A-Za-z0-9_-]+$"))
        team_url = a.url
        a.get_by_label("Role", exact=True).select_option("reviewer")
        a.get_by_role("button", name="Create invitation link").click()
        invite_url = a.locator("#invite-link").input_value()
        _start(a, live_server)
        _answer_all(a)
        _finish(a)
        result_url = a.url
        a.get_by_label("Keep it in", exact=True).select_option(label="Team: Review guild")
        a.get_by_role("button", name="Move it there").click()
        a.locator("#claim strong", has_text="Review guild").wait_for()

        # B joins through the invitation, as a reviewer.
        b.goto(invite_url)
        b.get_by_role("link", name="Create an account to join").click()
        b.get_by_label("Email").fill("review-b@example.org")
        b.get_by_label("Password").fill(PASSWORD)
        b.get_by_role("button", name="Create account").click()
        b.get_by_role("button", name="Join Review guild").click()
        b.wait_for_url(team_url)

        # A asks B for review from the result page's panel.
        a.goto(result_url)
        panel = a.locator("#review-status")
        panel.get_by_role("group", name=re.compile("^Reviewers")).get_by_label(
            "review-b@example.org"
        ).check()
        panel.get_by_role("button", name="Send for review").click()
        a.locator("#review-status .status", has_text="In review").wait_for()
        screenshot(a, "review-result-panel")

        # B: the header counts it, the list leads to the review page.
        b.goto(live_server + "/")
        b.locator("header .count", has_text="1").wait_for()
        b.get_by_role("link", name=re.compile("^Reviews")).click()
        b.wait_for_url(re.compile(r".*/reviews$"))
        b.locator("ul.waiting a").first.click()
        b.wait_for_url(re.compile(r".*/approval$"))
        approval_url = b.url
        _axe_clean(b, "review page")
        first_answer = b.locator(".answer-row").first
        question_anchor = first_answer.get_attribute("id")
        first_answer.locator("summary", has_text="Comment").click()
        first_answer.get_by_label("Comment on this answer").fill("Is this **really** the gap?")
        first_answer.get_by_role("button", name="Comment").click()
        b.locator(f"#{question_anchor} .comment strong", has_text="really").wait_for()
        b.get_by_role("button", name="Request changes").click()
        b.locator("#review-status .status", has_text="Changes requested").wait_for()

        # A sees the comment beside that answer, and changes it.
        a.goto(approval_url)
        row = a.locator(f"#{question_anchor}")
        row.locator(".comment", has_text="really").wait_for()
        before = row.locator(".answer-value").inner_text()
        row.get_by_role("link", name=re.compile("^Change this answer")).click()
        a.wait_for_url(re.compile(r".*/steps/.*"))
        options = a.locator("fieldset input[name=value]")
        checked = next(i for i in range(options.count()) if options.nth(i).is_checked())
        options.nth(0 if checked else 1).check()
        a.get_by_role("button", name="Save and return to review").click()
        a.wait_for_url(re.compile(r".*/review$"))

        # B: the decision list links to what changed since; the diff shows it; B approves.
        b.goto(approval_url)
        b.get_by_role("link", name="What changed since").first.click()
        b.wait_for_url(re.compile(r".*/diff\?.*"))
        changed = b.locator("table.answer-diff tbody tr")
        assert changed.count() == 1
        assert before in changed.first.locator("td.before").inner_text()
        assert b.locator("table.outcome-diff").count() == 1
        screenshot(b, "review-diff")
        _axe_clean(b, "diff page")
        b.goto(approval_url)
        b.get_by_role("button", name=re.compile("^Approve revision")).click()
        b.locator("#review-status .status", has_text="Approved").wait_for()
        log = b.locator(".audit-log").inner_text()
        for action in ("asked for review", "commented", "requested changes", "approved"):
            assert action in log, log
        screenshot(b, "review-approved")

        # The dashboard filters to it, and its MADR decision record downloads.
        b.goto(team_url + "/assessments")
        b.get_by_label("Status").select_option("approved")
        b.get_by_role("button", name="Show").click()
        b.locator("p.meta[role=status]", has_text="1 assessment matches").wait_for()
        rows = b.locator("table.dashboard tbody tr")
        assert rows.count() == 1
        rows.first.get_by_role("link", name=re.compile("^Decision record")).click()
        b.wait_for_url(re.compile(r".*/decision-record$"))
        with b.expect_download() as download_info:
            b.get_by_role("link", name="MADR Markdown").click()
        record = download_info.value
        text = Path(record.path()).read_text(encoding="utf-8")
        assert "review-b@example.org" in text and "accepted" in text.lower()
        _axe_clean(b, "dashboard")
    finally:
        for context in contexts:
            context.close()
