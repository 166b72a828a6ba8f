"""Edit keys in the browser: the creator's cookie, the private link, several keys at once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.credentials import KEY_COOKIE_PREFIX, MAX_KEY_COOKIES
from app.web.presenters import urls
from tests.web.conftest import csrf_token, one, parse, post_form, start_assessment


def _private_link(client: TestClient, assessment_id: str) -> str:
    """The private link the result page offers, as a path with its query."""
    page = parse(client.get(urls.result(assessment_id)).text)
    section = one(page, "section.private")
    assert "private" in section.get_text().lower()
    link = urlsplit(str(one(section, "input#private-link")["value"]))
    assert link.scheme and link.netloc, "a full URL, to paste on another device"
    return f"{link.path}?{link.query}"


def test_the_creator_holds_the_key_and_nobody_else_does(client: TestClient) -> None:
    assessment_id, step, _ = start_assessment(client)
    assert client.get(step).status_code == 200
    assert client.get(urls.result(assessment_id)).status_code == 200
    with TestClient(client.app) as stranger:
        for path in (step, urls.review(assessment_id), urls.result(assessment_id)):
            response = stranger.get(path, follow_redirects=False)
            assert response.status_code == 404, path
            assert one(response.text, "h1").get_text() == "Not found"


def test_the_private_link_moves_the_key_into_a_cookie_and_out_of_the_url(
    settings: Settings,
) -> None:
    app = create_app(settings)
    with TestClient(app) as first, TestClient(app) as second:
        assessment_id, step, token = start_assessment(first)
        post_form(first, step, token, value="knowledge")
        link = _private_link(first, assessment_id)
        assert parse_qs(urlsplit(link).query)["key"]
        mine, _, _ = start_assessment(second)  # the other device has an assessment of its own

        opened = second.get(link, follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == urls.assessment(assessment_id)
        assert opened.headers["referrer-policy"] == "no-referrer"
        assert opened.headers.get_list("referrer-policy") == ["no-referrer"]
        cookie = opened.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()

        final = second.get(link)  # following every redirect, as a browser does
        assert final.status_code == 200
        assert "key=" not in str(final.url)
        assert all("key=" not in str(r.url) for r in final.history[1:])
        assert urlsplit(str(final.url)).path.startswith(urls.assessment(assessment_id))
        # Both keys are held: opening someone's link replaced nothing.
        assert second.get(urls.review(mine)).status_code == 200
        assert second.get(urls.review(assessment_id)).status_code == 200
    app.state.engine.dispose()


def test_a_wrong_key_in_a_private_link_is_a_404_and_sets_nothing(client: TestClient) -> None:
    assessment_id, _, _ = start_assessment(client)
    with TestClient(client.app) as stranger:
        forged = stranger.get(urls.private_link(assessment_id, "x" * 43), follow_redirects=False)
        assert forged.status_code == 404
        assert "set-cookie" not in {k.lower() for k in forged.headers if "key" in k.lower()}
        assert not any(name.startswith(KEY_COOKIE_PREFIX) for name in stranger.cookies)


def test_keys_are_capped_oldest_first(client: TestClient) -> None:
    """Beyond the cap, the keys the browser sent first (the oldest) are dropped."""
    for number in range(MAX_KEY_COOKIES + 2):
        client.cookies.set(f"{KEY_COOKIE_PREFIX}old{number:03}", "k" * 43)
    token = csrf_token(client)
    started = post_form(client, urls.new_assessment(), token)
    assert started.status_code == 303
    set_cookies = started.headers.get_list("set-cookie")
    dropped = sorted(
        c.split("=", 1)[0] for c in set_cookies if "max-age=0" in c.lower() or '=""' in c
    )
    # 42 held + 1 new = 43: the three oldest go.
    assert dropped == [f"{KEY_COOKIE_PREFIX}old{n:03}" for n in range(3)]
    assessment_id = started.headers["location"].split("/")[2]
    assert any(c.startswith(f"{KEY_COOKIE_PREFIX}{assessment_id}=") for c in set_cookies)
