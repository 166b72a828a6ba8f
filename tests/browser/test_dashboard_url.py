"""The team dashboard in real chromium: filtering and paging go through htmx (no full page
load), and the address bar then holds a URL that reproduces the view; that URL, loaded
without htmx, gives the same page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser
PASSWORD = "browser password 13"


def _team_with_history(live_server: str) -> str:
    """A user with a team of 45 assessments (through the API); the dashboard's URL."""
    with httpx.Client(base_url=live_server) as api:
        made = api.post("/api/users", json={"email": "dash@example.org", "password": PASSWORD})
        assert made.status_code == 201, made.text
        token = api.post("/api/tokens", json={"email": "dash@example.org", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        team_id = api.post("/api/teams", json={"name": "Dash team"}, headers=auth).json()["id"]
        for n in range(45):
            title = f"{'Alpha' if n % 2 else 'Beta'} plan {n:02d}"
            created = api.post(
                "/api/assessments", json={"team": team_id, "title": title}, headers=auth
            )
            assert created.status_code == 201, created.text
    return f"{live_server}/teams/{team_id}/assessments"


def _view(page: Any) -> tuple[str, list[str]]:
    """What the page shows: the status line and the rows' titles."""
    status = page.locator("p.meta[role=status]").inner_text()
    titles = page.locator("table.dashboard tbody tr td:first-child").all_inner_texts()
    return status, titles


def _same_document(page: Any) -> bool:
    """Whether the page is still the document the test marked (htmx swapped, no reload)."""
    return bool(page.evaluate("() => window.__dashboardMarker === 1"))


def test_filters_and_pages_keep_a_url_that_reproduces_the_view(page: Any, live_server: str) -> None:
    dashboard = _team_with_history(live_server)
    page.goto(live_server + "/signin")
    page.get_by_label("Email").fill("dash@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    page.goto(dashboard)
    page.evaluate("() => { window.__dashboardMarker = 1 }")

    # Filter: a search and a sort, through htmx.
    page.get_by_label("Search titles and comments").fill("alpha")
    page.get_by_label("Sort").select_option("title")
    page.get_by_role("button", name="Show").click()
    page.locator("p.meta[role=status]", has_text="22 assessments match").wait_for()
    page.wait_for_url(re.compile(r".*[?&]q=alpha"))
    assert _same_document(page), "the filter form reloaded the page instead of using htmx"
    query = dict(parse_qsl(urlsplit(page.url).query))
    assert query == {"q": "alpha", "sort": "title"}, page.url  # no empty fields
    filtered = _view(page)
    assert filtered[1][0] == "Alpha plan 01" and len(filtered[1]) == 20

    # Page 2 of that, through htmx.
    page.get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r".*[?&]page=2"))
    page.locator("nav.pager span", has_text="Page 2 of 2").wait_for()
    assert _same_document(page)
    assert dict(parse_qsl(urlsplit(page.url).query)) == {"q": "alpha", "sort": "title", "page": "2"}
    second = _view(page)
    assert second[1] == ["Alpha plan 41", "Alpha plan 43"], second

    # The address bar's URL, loaded afresh (no htmx), shows the same page.
    page.reload()
    assert not _same_document(page)
    assert _view(page) == second
    # And going back restores the first filtered page's URL and view.
    page.go_back()
    page.wait_for_url(re.compile(r"^(?!.*page=2).*[?&]q=alpha"))
    page.locator("nav.pager span", has_text="Page 1 of 2").wait_for()
    assert _view(page) == filtered
