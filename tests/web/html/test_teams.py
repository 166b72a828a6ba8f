"""Team and invitation pages: join through a link (signing up on the way), see the team."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.conftest import (
    api_token,
    csrf_token,
    one,
    parse,
    post_form,
    signed_in_browser,
)
from tests.web.html.test_accounts import sign_up

XSS_TEAM = '<script>alert("t")</script>'
XSS_EMAIL = '"><img/src=x/onerror=alert(1)>@example.org'


def _team(client: TestClient) -> tuple[str, dict[str, str]]:
    signed_in_browser(client, "owner@example.org")
    owner = api_token(client, "owner@example.org")
    team = client.post("/api/teams", json={"name": XSS_TEAM}, headers=owner).json()
    body = {"title": "Team plan", "team": team["id"]}
    assert client.post("/api/assessments", json=body, headers=owner).status_code == 201
    return team["id"], owner


def test_invite_through_the_page_then_sign_up_and_join(client: TestClient) -> None:
    team_id, _ = _team(client)
    page = client.get(urls.team(team_id)).text
    form = one(page, f'form[action="{urls.team_invites(team_id)}"]')
    made = post_form(client, str(form["action"]), csrf_token(client, urls.team(team_id)))
    assert made.status_code == 201 and made.headers["referrer-policy"] == "no-referrer"
    link = str(one(made.text, "#invite-link")["value"])
    invite_path = "/" + link.split("/", 3)[3]
    with TestClient(client.app) as newcomer:
        offer = newcomer.get(invite_path)
        assert offer.status_code == 200 and offer.headers["cache-control"] == "no-store"
        assert XSS_TEAM in one(offer.text, "h1").get_text()
        assert not parse(offer.text).select("main script")
        signup_link = one(offer.text, "main a.button")["href"]
        token = invite_path.rsplit("/", 1)[1]
        assert signup_link == urls.signup(token)
        assert sign_up(newcomer, XSS_EMAIL, invite=token) == urls.invite(token)
        accept_form = one(newcomer.get(invite_path).text, "main form")
        joined = post_form(newcomer, str(accept_form["action"]), csrf_token(newcomer, invite_path))
        assert joined.status_code == 303 and joined.headers["location"] == urls.team(team_id)
        team_page = newcomer.get(urls.team(team_id)).text
        assert [a.get_text() for a in parse(team_page).select(".team-assessments a")] == [
            "Team plan"
        ]
        assert XSS_EMAIL in parse(team_page).select(".members .email")[1].get_text()
        assert not parse(team_page).select("main img, main script")
        # The invitation is used up.
        assert newcomer.get(invite_path).status_code == 404
        # Members see the team, but only owners invite.
        assert parse(team_page).select_one(f'form[action="{urls.team_invites(team_id)}"]') is None
        refused = post_form(
            newcomer, urls.team_invites(team_id), csrf_token(newcomer, urls.signin())
        )
        assert refused.status_code == 403


def test_outsiders_and_forged_forms_are_refused(client: TestClient) -> None:
    team_id, owner = _team(client)
    invite = client.post(
        f"/api/teams/{team_id}/invites", json={"role": "member"}, headers=owner
    ).json()
    for token in (None, "forged"):
        assert post_form(client, urls.team_invites(team_id), token).status_code == 403
    with TestClient(client.app) as outsider:
        signed_in_browser(outsider, "out@example.org")
        assert outsider.get(urls.team(team_id)).status_code == 404
        assert post_form(outsider, urls.invite(invite["token"]), None).status_code == 403
        token = csrf_token(outsider, urls.invite(invite["token"]))
        assert post_form(outsider, urls.team_invites(team_id), token).status_code == 404
    with TestClient(client.app) as anonymous:
        page = anonymous.get(urls.invite(invite["token"])).text
        assert parse(page).select_one("main form") is None  # sign up or in first
        token = csrf_token(anonymous, urls.signin())
        assert post_form(anonymous, urls.invite(invite["token"]), token).status_code == 401


def test_create_a_team_from_the_teams_page(client: TestClient) -> None:
    signed_in_browser(client, "tia@example.org")
    token = csrf_token(client, urls.teams())
    assert post_form(client, urls.teams(), token, name="  ").status_code == 422
    made = post_form(client, urls.teams(), token, name=XSS_TEAM)
    assert made.status_code == 303 and made.headers["location"].startswith("/teams/")
    listed = parse(client.get(urls.teams()).text).select("ul.teams a")
    assert [a.get_text() for a in listed] == [XSS_TEAM]
    assert not parse(client.get(urls.teams()).text).select("main script")
    assert post_form(client, urls.teams(), None, name="x").status_code == 403
    with TestClient(client.app) as anonymous:
        assert anonymous.get(urls.teams()).status_code == 401


def _team_id(client: TestClient) -> str:
    return str(client.get("/api/me").json()["teams"][0]["id"])


def test_my_assessments_signed_in_and_anonymous(client: TestClient) -> None:
    _team(client)
    with TestClient(client.app) as elsewhere:  # made anonymously: it has a key to hold
        held_id = elsewhere.post("/api/assessments", json={"title": "Kept by key"}).json()
    client.cookies.set(f"advisor_key_{held_id['id']}", held_id["edit_key"])
    page = parse(client.get(urls.my_assessments()).text)
    titles = [a.get_text() for a in page.select("ul.assessments a")]
    assert titles == ["Team plan", "Kept by key"]
    assert "Kept by key" not in client.get(urls.team(_team_id(client))).text
    with TestClient(client.app) as anonymous:
        empty = parse(anonymous.get(urls.my_assessments()).text)
        assert not empty.select("ul.assessments a")
        anonymous.cookies.set(f"advisor_key_{held_id['id']}", "not the key")
        assert not parse(anonymous.get(urls.my_assessments()).text).select("ul.assessments a")
        anonymous.cookies.set(f"advisor_key_{held_id['id']}", held_id["edit_key"])
        shown = parse(anonymous.get(urls.my_assessments()).text).select("ul.assessments a")
        assert [a.get_text() for a in shown] == ["Kept by key"]


def test_owners_change_roles_and_remove_members_leave_and_the_last_owner_stays(
    client: TestClient,
) -> None:
    team_id, owner = _team(client)
    invite = client.post(f"/api/teams/{team_id}/invites", json={"role": "member"}, headers=owner)
    with TestClient(client.app) as member:
        member_id = signed_in_browser(member, "mem@example.org")
        token = csrf_token(member, urls.signin())
        assert post_form(member, urls.invite(invite.json()["token"]), token).status_code == 303
        owner_id = client.get("/api/me").json()["id"]
        # A member changes nobody's role and removes nobody else.
        promote = post_form(member, urls.member_role(team_id, member_id), token, role="owner")
        assert promote.status_code == 403
        assert post_form(member, urls.member_removal(team_id, owner_id), token).status_code == 403
        # The owner promotes the member to reviewer, then the member leaves.
        owner_token = csrf_token(client, urls.team(team_id))
        changed = post_form(
            client, urls.member_role(team_id, member_id), owner_token, role="reviewer"
        )
        assert changed.status_code == 303
        assert member.get("/api/me").json()["teams"][0]["role"] == "reviewer"
        left = post_form(member, urls.member_removal(team_id, member_id), token)
        assert left.status_code == 303 and left.headers["location"] == urls.teams()
        assert member.get(urls.team(team_id)).status_code == 404
    # The last owner can neither step down nor leave.
    for url, fields in (
        (urls.member_role(team_id, owner_id), {"role": "member"}),
        (urls.member_removal(team_id, owner_id), {}),
    ):
        refused = post_form(client, url, owner_token, **fields)
        assert refused.status_code == 422
        assert "needs an owner" in one(refused.text, "[role=alert]").get_text()
    assert post_form(client, urls.member_removal(team_id, owner_id), None).status_code == 403
