"""Renaming and deleting an assessment from its result page, with a confirmation page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.api.test_teams import invite, join, team_of, user
from tests.web.conftest import (
    csrf_token,
    new_assessment,
    one,
    post_form,
    signed_in_browser,
)


def test_rename_and_delete_from_the_result_page(client: TestClient) -> None:
    created = new_assessment(client, title="Before", answers={"gap": "both"})
    assessment_id = created["id"]
    page = client.get(urls.result(assessment_id)).text
    form = one(page, f'form[action="{urls.rename(assessment_id)}"]')
    assert one(form, 'input[name="title"]')["value"] == "Before"
    assert one(page, f'a[href="{urls.delete(assessment_id)}"]').get_text() == "Delete"
    token = csrf_token(client, urls.result(assessment_id))
    renamed = post_form(client, urls.rename(assessment_id), token, title="After <b>")
    assert renamed.status_code == 303
    assert renamed.headers["location"] == urls.result(assessment_id)
    assert "After &lt;b&gt;" in client.get(urls.result(assessment_id)).text
    too_long = post_form(client, urls.rename(assessment_id), token, title="x" * 201)
    assert too_long.status_code == 422 and "title" in too_long.text
    confirm = client.get(urls.delete(assessment_id))
    assert confirm.status_code == 200
    assert one(confirm.text, "h1").get_text() == "Delete “After <b>”?"
    assert post_form(client, urls.delete(assessment_id), None).status_code == 403  # no CSRF
    deleted = post_form(client, urls.delete(assessment_id), token)
    assert deleted.status_code == 303 and deleted.headers["location"] == urls.home()
    assert client.get(urls.result(assessment_id)).status_code == 404
    assert client.get(urls.delete(assessment_id)).status_code == 404


def test_signed_in_deleting_goes_to_my_assessments(client: TestClient) -> None:
    created = new_assessment(client)  # an anonymous one, its key in this browser
    signed_in_browser(client, "ann@example.org")
    token = csrf_token(client, urls.delete(created["id"]))
    deleted = post_form(client, urls.delete(created["id"]), token)
    assert deleted.status_code == 303
    assert deleted.headers["location"] == urls.my_assessments()


def test_outsiders_get_404_and_members_403(client: TestClient) -> None:
    created = new_assessment(client, title="Not yours")
    with TestClient(client.app) as outsider:
        new_assessment(outsider)  # a key of its own
        token = csrf_token(outsider)
        for url in (urls.rename(created["id"]), urls.delete(created["id"])):
            refused = post_form(outsider, url, token, title="Taken")
            assert refused.status_code == 404 and "Not yours" not in refused.text
        assert outsider.get(urls.delete(created["id"])).status_code == 404
    assert "Not yours" in client.get(urls.result(created["id"])).text
    _, ann = user(client, "ann@example.org")
    _, bea = user(client, "bea@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "reviewer"))
    made = client.post("/api/assessments", json={"title": "Team's", "team": team_id}, headers=ann)
    team_assessment = made.json()["id"]
    client.cookies.clear()
    assert client.get(urls.delete(team_assessment), headers=bea).status_code == 403
    assert client.get(urls.delete(team_assessment), headers=ann).status_code == 200
