"""Share links in the browser, without JavaScript: make, list, open read-only, revoke."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from app.decision.wording import WORDING
from app.web.presenters import urls
from tests.web.conftest import hrefs, new_assessment, one, parse, post_form

ANSWERS = {"gap": "knowledge", "knowledge_change": "weekly", "corpus_tokens": 6_000_000}
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


def _make_link(client: TestClient, assessment_id: str, expires: str = "30") -> str:
    """Create a link through the result page's form; the path of the newest link listed."""
    page = parse(client.get(urls.result(assessment_id)).text)
    form = one(page, "#share form")
    token = str(one(form, 'input[name="csrf_token"]')["value"])
    made = post_form(client, str(form["action"]), token, expires_in_days=expires)
    assert made.status_code == 303
    assert made.headers["location"] == urls.share_section(assessment_id)
    listed = parse(client.get(urls.result(assessment_id)).text)
    newest = one(listed, "#share li.share-link input.copy-source")
    assert newest.has_attr("readonly")
    return urlsplit(str(newest["value"])).path


def test_the_result_page_makes_lists_and_revokes_links(client: TestClient) -> None:
    assessment_id = new_assessment(client, answers=ANSWERS)["id"]
    page = parse(client.get(urls.result(assessment_id)).text)
    choices = [str(o["value"]) for o in page.select("#share select option")]
    assert choices == ["7", "30", "90", "never"]
    path = _make_link(client, assessment_id, "never")
    assert path.startswith("/s/")
    listed = one(client.get(urls.result(assessment_id)).text, "#share li.share-link")
    copy = one(listed, "button[data-copy]")
    assert copy.has_attr("hidden"), "the copy button needs JavaScript: shown by app.js"
    assert "expires never" in listed.get_text() and "opened 0 times" in listed.get_text()

    with TestClient(client.app) as anyone:
        assert anyone.get(path).status_code == 200
    listed = one(client.get(urls.result(assessment_id)).text, "#share li.share-link")
    assert "opened 1 time." in listed.get_text()

    revoke = one(listed, "form")
    token = str(one(revoke, 'input[name="csrf_token"]')["value"])
    assert post_form(client, str(revoke["action"]), token).status_code == 303
    listed = one(client.get(urls.result(assessment_id)).text, "#share li.share-link")
    assert "revoked" in listed.get_text() and listed.select("form, input") == []
    gone = client.get(path)
    assert gone.status_code == 404
    assert gone.text == client.get("/s/" + "A" * 43).text


def test_the_shared_page_is_read_only_and_unindexed(client: TestClient) -> None:
    assessment_id = new_assessment(client, title="Support bot", answers=ANSWERS)["id"]
    path = _make_link(client, assessment_id)
    with TestClient(client.app) as anyone:
        response = anyone.get(path)
    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    assert "noindex" in response.headers["x-robots-tag"]
    page = parse(response.text)
    assert one(page, 'meta[name="robots"]')["content"] == "noindex"
    assert one(page, 'meta[property="og:title"]')["content"] == "Support bot"
    rag = WORDING.approaches["rag"].label
    assert str(one(page, 'meta[property="og:description"]')["content"]).startswith(rag)
    assert one(page, 'meta[name="twitter:card"]')["content"] == "summary"
    assert one(page, "h1").get_text().endswith(f"{rag} first")
    assert page.select("form") == [], "nothing on a shared page changes anything"
    links = hrefs(page)
    assert not [h for h in links if h.startswith(urls.assessment(""))], links
    assert any(h.startswith(urls.recipes() + "/") for h in links), "the recipe link"
    assert len(page.select("svg rect.bar")) == 6
    assert "Knowledge" in one(page, "dl.answers").get_text()


def test_a_title_with_markup_is_inert_wherever_it_shows(client: TestClient) -> None:
    created = new_assessment(client, title=XSS, answers=ANSWERS)
    assessment_id = created["id"]
    path = _make_link(client, assessment_id)
    pages = {
        "result": client.get(urls.result(assessment_id)).text,
        "review": client.get(urls.review(assessment_id)).text,
        "shared": client.get(path).text,
    }
    for name, html in pages.items():
        assert "<script>alert(1)</script>" not in html, name
        assert "<img src=x" not in html, name
        tree = parse(html)
        assert all(s.has_attr("src") and not s.get_text() for s in tree.select("script")), name
        assert tree.select("img") == [], name
        assert not [tag for tag in tree.find_all(True) if tag.has_attr("onerror")], name
    shared = parse(pages["shared"])
    assert one(shared, 'meta[property="og:title"]')["content"] == XSS  # kept as text
    assert XSS in one(shared, "h1").get_text()
    assert XSS in one(parse(pages["result"]), "h1").get_text()


def test_a_refused_form_value_gets_a_page_in_words(client: TestClient) -> None:
    """Without JavaScript a bad field answers a page naming it, not the API's JSON body."""
    assessment_id = new_assessment(client, answers=ANSWERS)["id"]
    page = parse(client.get(urls.result(assessment_id)).text)
    form = one(page, "#share form")
    token = str(one(form, 'input[name="csrf_token"]')["value"])
    refused = post_form(client, str(form["action"]), token, expires_in_days="12")
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    text = parse(refused.text).get_text(" ", strip=True)
    assert "expires_in_days" in text and "allowed: 7, 30, 90, never" in text, text
    assert one(client.get(urls.result(assessment_id)).text, "#share").select("li.share-link") == []
