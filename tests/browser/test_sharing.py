"""A read-only share link in real chromium: made by the owner, opened by a stranger, revoked."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import _context, screenshot
from tests.browser.test_flow import _answer_all, _finish, _start

pytestmark = pytest.mark.browser


def test_a_share_link_is_read_only_and_dies_when_revoked(
    page: Any, browser: Any, live_server: str
) -> None:
    # A completes an assessment and makes a link from the result page.
    _start(page, live_server)
    _answer_all(page)
    _finish(page)
    result_url = page.url
    step_url = result_url.rsplit("/", 1)[0] + "/steps/gap"
    page.get_by_label("The link expires").select_option("7")
    page.get_by_role("button", name="Create share link").click()
    link_field = page.locator("#share li.share-link input.copy-source").first
    link_field.wait_for()
    share_url = link_field.input_value()
    assert re.match(rf"^{re.escape(live_server)}/s/[A-Za-z0-9_-]{{43}}$", share_url), share_url
    assert page.get_by_role("button", name="Copy link").first.is_visible()  # JavaScript is on
    screenshot(page, "share-owner")

    # A fresh context, with no cookie at all, reads it and can change nothing.
    stranger_context = _context(browser)
    try:
        stranger = stranger_context.new_page()
        response = stranger.goto(share_url)
        assert response is not None and response.status == 200
        assert stranger.locator("h1").inner_text().endswith("first")
        assert stranger.locator("svg.chart rect.bar").count() == 6
        assert stranger.locator("form").count() == 0
        assert stranger.locator("a[href*='/assessments/']").count() == 0
        robots = stranger.locator('meta[name="robots"]').get_attribute("content")
        assert robots == "noindex"
        screenshot(stranger, "share-stranger")
        for address in (step_url, result_url):
            denied = stranger.goto(address)
            assert denied is not None and denied.status == 404, address

        # A revokes the link; the stranger's next visit is a 404.
        page.goto(result_url)
        page.locator("#share li.share-link").first.get_by_role("button", name="Revoke").click()
        page.locator("#share li.share-link.revoked").first.wait_for()
        gone = stranger.goto(share_url)
        assert gone is not None and gone.status == 404
        assert stranger.locator("h1").inner_text() == "Not found"
    finally:
        stranger_context.close()
