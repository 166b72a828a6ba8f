"""Teams in real chromium: A makes a team and invites B; B signs up through the invitation
and reaches the team's assessment; C, signed in but not in the team, does not."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import _context, screenshot
from tests.browser.test_flow import _answer_all, _finish, _start

pytestmark = pytest.mark.browser
PASSWORD = "browser password 10"


def _sign_up(page: Any, live_server: str, email: str) -> None:
    page.goto(live_server + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="Sign out").wait_for()


def test_a_team_invite_lets_b_in_and_keeps_c_out(browser: Any, live_server: str) -> None:
    contexts = [_context(browser) for _ in range(3)]
    try:
        a, b, c = (context.new_page() for context in contexts)
        # A signs up, completes an assessment, creates a team and moves the assessment there.
        _sign_up(a, live_server, "a@example.org")
        _start(a, live_server)
        _answer_all(a)
        _finish(a)
        result_url = a.url
        a.goto(live_server + "/teams")
        a.get_by_label("Team name").fill("Fine-tuning guild")
        a.get_by_role("button", name="Create team").click()
        a.wait_for_url(re.compile(r".*/teams/[A-Za-z0-9_-]+$"))
        team_url = a.url
        a.goto(result_url)
        a.get_by_label("Keep it in", exact=True).select_option(label="Team: Fine-tuning guild")
        a.get_by_role("button", name="Move it there").click()
        a.locator("#claim strong", has_text="Fine-tuning guild").wait_for()
        a.goto(team_url)
        a.get_by_role("button", name="Create invitation link").click()
        link = a.locator("#invite-link")
        link.wait_for()
        invite_url = link.input_value()
        assert re.match(rf"^{re.escape(live_server)}/invites/[A-Za-z0-9_-]{{43}}$", invite_url)
        screenshot(a, "team-owner")

        # B opens the invitation, signs up through it and joins.
        b.goto(invite_url)
        b.get_by_role("link", name="Create an account to join").click()
        b.get_by_label("Email").fill("b@example.org")
        b.get_by_label("Password").fill(PASSWORD)
        b.get_by_role("button", name="Create account").click()
        b.get_by_role("button", name="Join Fine-tuning guild").click()
        b.wait_for_url(team_url)
        b.locator(".team-assessments a").first.click()
        b.wait_for_url(re.compile(r".*/assessments/.*"))
        opened = b.goto(result_url)
        assert opened is not None and opened.status == 200
        screenshot(b, "team-member")
        # The invitation is used up.
        again = b.goto(invite_url)
        assert again is not None and again.status == 404

        # C, signed in but in no team, gets 404s.
        _sign_up(c, live_server, "c@example.org")
        for address in (result_url, team_url):
            denied = c.goto(address)
            assert denied is not None and denied.status == 404, address
        c.goto(live_server + "/my/assessments")
        assert c.locator("ul.assessments a").count() == 0
    finally:
        for context in contexts:
            context.close()
