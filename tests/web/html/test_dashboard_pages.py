"""The team dashboard's page, the webhook page (forms that work with JavaScript off) and the
decision record's printable page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.api.test_teams import invite, join, team_of, user
from tests.web.conftest import HTMX, api_token, csrf_token, one, parse, post_form, signed_in_browser

XSS_TITLE = '<script>alert("d")</script> Support bot'


def _team(client: TestClient) -> tuple[str, dict[str, str], str]:
    """A signed-in owner's team with two assessments (one decided): its id, the owner's API
    header and the decided assessment's id."""
    signed_in_browser(client, "owner@example.org")
    owner = api_token(client, "owner@example.org")
    team_id = client.post("/api/teams", json={"name": "Platform"}, headers=owner).json()["id"]
    body = {"title": XSS_TITLE, "team": team_id, "answers": {"gap": "knowledge"}}
    decided = client.post("/api/assessments", json=body, headers=owner).json()["id"]
    assert client.post(f"/api/assessments/{decided}/complete", headers=owner).status_code == 200
    draft = {"title": "Invoice extraction", "team": team_id}
    assert client.post("/api/assessments", json=draft, headers=owner).status_code == 201
    return team_id, owner, decided


def test_the_dashboard_page_lists_filters_and_charts(client: TestClient) -> None:
    team_id, _, decided = _team(client)
    team_page = client.get(urls.team(team_id)).text
    assert urls.team_dashboard(team_id) in team_page and urls.team_webhook(team_id) in team_page
    page = client.get(urls.team_dashboard(team_id))
    assert page.status_code == 200
    tree = parse(page.text)
    rows = tree.select("table.dashboard tbody tr")
    assert len(rows) == 2
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    chart = one(page.text, "svg.counts[role=img]")
    assert "Assessments by first approach" in chart.get_text()
    form = one(page.text, "form.dashboard-filters")
    assert form["method"] == "get" and form["action"] == urls.team_dashboard(team_id)
    for name in ("q", "status", "primary", "author", "since", "until", "sort"):
        assert form.select_one(f'[name="{name}"]') is not None, name
    links = [str(a["href"]) for a in tree.select("table.dashboard a")]
    assert "Platform" in one(page.text, "h1").get_text()
    assert urls.decision_record_page(decided) in links

    searched = client.get(urls.team_dashboard(team_id, "q=invoice"))
    assert len(parse(searched.text).select("table.dashboard tbody tr")) == 1
    assert "Invoice extraction" in searched.text
    fragment = client.get(urls.team_dashboard(team_id, "status=completed"), headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert len(parse(fragment.text).select("table.dashboard tbody tr")) == 1

    refused = client.get(urls.team_dashboard(team_id, "status=nope"))
    assert refused.status_code == 422 and "Status: must be one of" in refused.text
    refused = client.get(urls.team_dashboard(team_id, "since=soon"))
    assert refused.status_code == 422 and "Since: must be a date" in refused.text


def test_the_author_filter_lists_the_teams_members_only(client: TestClient) -> None:
    """The team's name and its members come from one statement (`team_dashboard`): every
    member once, by email, and nobody from another team."""
    team_id, owner, _ = _team(client)
    _, zoe = user(client, "zoe@example.org")
    join(client, zoe, invite(client, owner, team_id))
    _, bob = user(client, "bob@example.org")
    team_of(client, bob, name="Elsewhere")
    form = one(client.get(urls.team_dashboard(team_id)).text, "form.dashboard-filters")
    options = [o.get_text(strip=True) for o in form.select('select[name="author"] option')]
    assert [o for o in options if "@" in o] == ["owner@example.org", "zoe@example.org"]


def test_outsiders_do_not_see_the_dashboard(client: TestClient) -> None:
    team_id, _, decided = _team(client)
    with TestClient(client.app) as outsider:
        for path in (urls.team_dashboard(team_id), urls.decision_record_page(decided)):
            assert outsider.get(path).status_code == 404
        signed_in_browser(outsider, "out@example.org")
        for path in (
            urls.team_dashboard(team_id),
            urls.decision_record_page(decided),
            urls.team_webhook(team_id),
        ):
            refused = outsider.get(path)
            assert refused.status_code == 404 and "Support bot" not in refused.text


def test_the_webhook_page_sets_shows_once_and_removes(client: TestClient) -> None:
    team_id, _, _ = _team(client)
    path = urls.team_webhook(team_id)
    token = csrf_token(client, path)

    def set_url(address: str) -> Any:
        return client.post(path, data={"csrf_token": token, "url": address})

    refused = set_url("ftp://example.org/hook")
    assert refused.status_code == 422 and "Url: must be an http://" in refused.text
    made = set_url("https://hooks.example.org/advisor")
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = str(one(made.text, "#webhook-secret")["value"])
    assert len(secret) >= 32
    again = client.get(path).text
    assert secret not in again and "https://hooks.example.org/advisor" in again
    assert client.post(path, data={"url": "https://x.org/"}).status_code == 403  # no CSRF
    removed = post_form(client, urls.team_webhook_removal(team_id), token)
    assert removed.status_code == 303 and removed.headers["location"] == path
    assert "hooks.example.org" not in client.get(path).text


def test_the_decision_record_page_prints(client: TestClient) -> None:
    _, _, decided = _team(client)
    page = client.get(urls.decision_record_page(decided))
    assert page.status_code == 200
    tree = parse(page.text)
    pairs = zip(tree.select("dt"), tree.select("dd"), strict=True)
    facts = {dt.get_text(): dd.get_text() for dt, dd in pairs}
    assert facts["Status"] == "proposed" and "Deciders" in facts
    headings = [h.get_text() for h in tree.select("article.decision-record h2")]
    assert headings[:3] == [
        "Context and Problem Statement",
        "Considered Options",
        "Decision Outcome",
    ]
    assert "<script>alert" not in page.text
    downloads = [str(a["href"]) for a in tree.select("p.actions a[download]")]
    assert downloads == [urls.decision_record(decided, "md"), urls.decision_record(decided, "json")]
    printed = one(page.text, 'link[rel=stylesheet][media="print"]')
    assert printed["href"] == "/static/print.css"
    css = client.get("/static/print.css")
    assert css.status_code == 200 and "@page" in css.text and ".decision-record" in css.text


def test_htmx_pushes_the_url_of_the_view(client: TestClient) -> None:
    """After htmx filters or pages, the address bar gets the view's own URL: its filters,
    sort and page, without the empty fields the form sends (the browser test loads it)."""
    team_id, _, _ = _team(client)
    path = urls.team_dashboard(team_id)
    asked = client.get(path, params={"q": "bot", "status": "", "sort": "title"}, headers=HTMX)
    assert asked.status_code == 200
    assert asked.headers["HX-Push-Url"] == f"{path}?q=bot&sort=title"
    paged = client.get(path, params={"q": "", "page": "1"}, headers=HTMX)
    assert paged.headers["HX-Push-Url"] == path
    refused = client.get(path, params={"status": "nope"}, headers=HTMX)
    assert refused.status_code == 422 and refused.headers["HX-Push-Url"] == path
