"""The "How it decides" page: the ladder's rungs and the sources of the rules."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.decision.rules import RULES
from app.web.presenters import urls
from tests.web.conftest import hrefs, one, parse


def test_the_ladder_and_every_source_are_shown(client: TestClient) -> None:
    response = client.get(urls.how_it_decides())
    assert response.status_code == 200
    page = parse(response.text)
    rungs = [li["id"] for li in page.select("ol.ladder > li")]
    assert rungs == [f"rung-{rung.id}" for rung in RULES.rung]
    assert rungs[:2] == ["rung-measure", "rung-prompting"]
    links = hrefs(page, "ul.sources a[href]")
    assert links == [source.url for source in RULES.source.values()]
    cited = {s for rule in RULES.rule for s in rule.source}
    assert {RULES.source[s].url for s in cited} <= set(links)
    assert RULES.ruleset in page.get_text()


def test_the_header_and_the_start_page_link_to_it(client: TestClient) -> None:
    start = parse(client.get(urls.home()).text)
    assert urls.how_it_decides() in hrefs(one(start, "header nav"))
    assert urls.how_it_decides() in hrefs(one(start, "main"))


def test_htmx_gets_the_fragment(client: TestClient) -> None:
    fragment = client.get(urls.how_it_decides(), headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and "ladder" in fragment
