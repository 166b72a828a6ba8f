"""Every route of the app, swept: someone else's assessment and share links stay out of reach.

The routes come from the app's own table, so a new route is swept without editing this test;
a path parameter the sweep does not know how to fill fails it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.routing import Mount

from app.main import create_app
from app.models import ApiToken, Invite, Job, UserSession, new_token, secret_hash, utcnow
from app.services import accounts
from app.settings import Settings
from app.web.presenters import urls
from tests.web.conftest import bearer, csrf_token, expire, new_assessment, start_assessment

SECRET_TITLE = "Victim plan ZQX-4821"
SECRET_NUMBER = 8_765_432  # the victim's labeled_examples, as stored and as shown
SECRET_TEAM = "Victim team QPW-1937"
OWNER_EMAIL = "victim-owner@example.org"
TEAM_TITLE = "Team plan WRT-5510"  # the team's assessment: its members may see these
TEAM_NUMBER = 7_654_321
SECRET_MODEL = "victim-org/model-QJX-7731"  # the victim's jobs train this
LEAKS = (
    SECRET_TITLE,
    str(SECRET_NUMBER),
    f"{SECRET_NUMBER:,}",
    SECRET_TEAM,
    OWNER_EMAIL,
    SECRET_MODEL,
)
TEAM_LEAKS = (TEAM_TITLE, str(TEAM_NUMBER), f"{TEAM_NUMBER:,}")
# What a member of the victim's team knows, and so may be shown.
MEMBER_KNOWS = (SECRET_TEAM, OWNER_EMAIL, *TEAM_LEAKS)
PASSWORD = "victim password 1"
# Path parameters that name no one's resource, with a value the route accepts.
PUBLIC_PARAMS = {
    "question_id": "gap",
    "slug": "the-gap",
    "kind": "json",
    "recipe_id": "sft-lora",
    "fmt": "trl",
    "comment_id": "1",  # only ever reached through its assessment, checked first
    "delivery_id": "1",  # only ever reached through its team, checked first
}
# Path parameters that name someone's resource: the sweep fills them with the victim's.
PRIVATE_PARAMS = {
    "assessment_id",
    "token",
    "team_id",
    "user_id",
    "invite_token",
    "token_id",
    "session_id",
    "job_id",
}
TEAM_PARAMS = {"team_id", "user_id"}
# Routes that need an account as such: a caller without one may get 401 (it reveals nothing).
NEEDS_ACCOUNT = {
    ("POST", "/api/invites/{invite_token}/accept"),
    ("POST", "/invites/{invite_token}"),
    ("POST", "/account/tokens/{token_id}/revoke"),
    ("POST", "/account/sessions/{session_id}/revoke"),
}
# Routes any member of the team may use: a member is not "without the role" there.
MEMBERS_MAY = {
    ("GET", "/teams/{team_id}"),
    # The team dashboard (issue 13, part B): every member reads it.
    ("GET", "/teams/{team_id}/assessments"),
    ("GET", "/api/teams/{team_id}/assessments"),
}
# Assessment routes only a team's owners may use (a member opening them gets 403).
TEAM_OWNERS_ONLY = {
    ("GET", "/assessments/{assessment_id}/delete"),
    ("GET", "/api/assessments/{assessment_id}/shares"),
}
# Routes that fill a form from `?assessment=ID`: the victim's id there must be a 404.
PREFILLED_FROM_QUERY = {"/recipes/{recipe_id}", "/recipes/{recipe_id}/export/{fmt}"}
# A valid body for the JSON routes that take one other than an answer's.
API_BODIES: dict[str, dict[str, Any]] = {
    "/shares": {"expires_in_days": 7},
    "/invites": {"role": "member"},
    "/claim": {},
    "/review": {"reviewers": []},
    "/decision": {"outcome": "approved"},
    "/comments": {"body": "Commented by the sweep"},
    "/comments/1": {"body": "Edited by the sweep"},
    "/milestones": {"name": "Made by the sweep"},
    "/review-settings": {"allow_self_approval": True},
    "/webhook": {"url": "https://example.org/hook"},
}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Access does not depend on the database; the API tests run both."""
    return sqlite_url


@dataclass
class Victim:
    """Someone else's assessments, share links, team and invites: the outsider must reach
    none of them, and a member of the team none of what needs a higher role."""

    assessment_id: str
    edit_key: str
    live_token: str | None = None
    dead_tokens: tuple[str, ...] = ()
    owner_id: str = ""
    owner_auth: dict[str, str] = field(default_factory=dict)
    team_id: str = ""
    team_assessment_id: str = ""
    live_invite: str = ""
    dead_invites: tuple[str, ...] = ()
    member_auth: dict[str, str] = field(default_factory=dict)
    api_token_id: str = ""
    session_id: str = ""
    job_ids: tuple[str, ...] = ()  # one on the assessment (its key opens it), one the owner's


def _account(client: TestClient, email: str) -> tuple[str, dict[str, str]]:
    """A new account's id and the header that signs it in."""
    made = client.post("/api/users", json={"email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    token = client.post("/api/tokens", json={"email": email, "password": PASSWORD})
    return made.json()["id"], bearer(token.json()["token"])


def _team(client: TestClient, victim: Victim) -> None:
    """The owner's team, with a member (role member), a team assessment, and invites: one
    used, one expired, one live (for the owner's own check only)."""
    victim.owner_id, victim.owner_auth = _account(client, OWNER_EMAIL)
    _, victim.member_auth = _account(client, "victim-member@example.org")
    owner = victim.owner_auth
    victim.team_id = client.post("/api/teams", json={"name": SECRET_TEAM}, headers=owner).json()[
        "id"
    ]
    invites = f"/api/teams/{victim.team_id}/invites"
    used, expired, live = (
        client.post(invites, json={"role": "member"}, headers=owner).json()["token"]
        for _ in range(3)
    )
    accepted = client.post(f"/api/invites/{used}/accept", headers=victim.member_auth)
    assert accepted.status_code == 200, accepted.text
    with client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            update(Invite)
            .where(Invite.token_hash == secret_hash(expired))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    victim.live_invite, victim.dead_invites = live, (used, expired)
    body = {
        "title": TEAM_TITLE,
        "team": victim.team_id,
        "answers": {"gap": "both", "labeled_examples": TEAM_NUMBER},
    }
    made = client.post("/api/assessments", json=body, headers=owner)
    assert made.status_code == 201, made.text
    victim.team_assessment_id = made.json()["id"]
    with Session(client.app.state.engine) as session, session.begin():  # type: ignore[attr-defined]
        accounts.start_session(session=session, user_id=victim.owner_id, user_agent="victim")
        victim.api_token_id = session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == victim.owner_id)
        ).one()
        victim.session_id = session.scalars(
            select(UserSession.id).where(UserSession.user_id == victim.owner_id)
        ).one()


def _shares(client: TestClient, victim: Victim) -> None:
    """A live link, a revoked one and an expired one (its expiry moved into the past)."""
    base = f"/api/assessments/{victim.assessment_id}/shares"
    made = [client.post(base, json={"expires_in_days": 7}) for _ in range(3)]
    assert all(m.status_code == 201 for m in made), [m.text for m in made]
    live, revoked, expired = (m.json()["token"] for m in made)
    assert client.delete(f"{base}/{revoked}").status_code == 204
    expire(client, expired)
    victim.live_token, victim.dead_tokens = live, (revoked, expired)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def victim(app: FastAPI) -> Victim:
    with TestClient(app) as owner:
        created = new_assessment(
            owner,
            title=SECRET_TITLE,
            answers={"gap": "both", "labeled_examples": SECRET_NUMBER},
        )
        victim = Victim(created["id"], created["edit_key"])
        assert owner.post(f"/api/assessments/{victim.assessment_id}/complete").status_code == 200
        if any("{token}" in path for path, _ in _routes(app.routes)):
            _shares(owner, victim)
        _team(owner, victim)
    _jobs(app, victim)
    return victim


def _jobs(app: FastAPI, victim: Victim) -> None:
    """Two queued jobs (no worker runs here): one on the victim's assessment, one of the
    victim's user without an assessment."""
    with Session(app.state.engine) as session, session.begin():
        for assessment_id, owner in ((victim.assessment_id, None), (None, victim.owner_id)):
            job = Job(
                id=new_token(),
                recipe="sft-lora",
                params={"base_model": SECRET_MODEL, "dataset": "train.jsonl"},
                runner="local",
                external_id=None,
                status="queued",
                assessment_id=assessment_id,
                owner_user_id=owner,
                created_at=utcnow(),
                artifacts=[],
                metrics={},
                cancel_requested=False,
            )
            session.add(job)
            victim.job_ids += (job.id,)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) for every route, inside included routers too."""
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps routers included
        if included is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, Mount):
            assert route.path == "/static", f"unknown mount {route.path}: sweep it"
        else:
            yield prefix + str(route.path), route


def _calls(app: FastAPI) -> Iterator[tuple[str, str, list[str]]]:
    """(method, path template, its parameters) for every route of the app but static files."""
    for path, route in _routes(app.routes):
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                yield method, path, PARAM.findall(path)


def _fill(path: str, values: dict[str, str]) -> str:
    unknown = set(PARAM.findall(path)) - set(values)
    assert not unknown, f"the sweep cannot fill {sorted(unknown)} in {path}: teach it"
    return PARAM.sub(lambda m: values[m.group(1)], path)


def _send(client: TestClient, method: str, url: str, token: str, **headers: str) -> Any:
    """One request with a plausible body: a valid answer, share or form, so that only access
    can refuse it."""
    if url.startswith("/api/"):
        body: dict[str, Any] = {"value": "knowledge"}
        for ending, plausible in API_BODIES.items():
            if url.endswith(ending):
                body = plausible
        if method == "PATCH" and "/comments/" not in url:  # a rename
            body = {"title": "Renamed by the sweep"}
        if method in ("GET", "DELETE"):
            return client.request(method, url, headers=headers, follow_redirects=False)
        return client.request(method, url, json=body, headers=headers, follow_redirects=False)
    form = {
        "csrf_token": token,
        "value": "knowledge",
        "expires_in_days": "7",
        "role": "member",
        "title": "Renamed by the sweep",
        "body": "Commented by the sweep",
        "name": "Made by the sweep",
        "outcome": "approved",
        "reviewers": "someone",
    }
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    return client.request(method, url, data=form, headers=headers, follow_redirects=False)


def _fillings(victim: Victim, kind: str, params: list[str]) -> Iterator[dict[str, str]]:
    """Each way to fill a route's private parameters with the victim's resources."""
    shares = victim.dead_tokens if "token" in params else ("",)
    invites = victim.dead_invites if "invite_token" in params else ("",)
    assessments = [victim.assessment_id]
    if kind != "member":  # a member of the team may open the team's assessment
        assessments.append(victim.team_assessment_id)
    jobs = victim.job_ids if "job_id" in params else ("",)
    for assessment_id in assessments if "assessment_id" in params else [""]:
        for share, invite, job_id in itertools.product(shares, invites, jobs):
            yield {
                **PUBLIC_PARAMS,
                "assessment_id": assessment_id,
                "token": share,
                "team_id": victim.team_id,
                "user_id": victim.owner_id,
                "invite_token": invite,
                "token_id": victim.api_token_id,
                "session_id": victim.session_id,
                "job_id": job_id,
            }


def _expected(kind: str, method: str, path: str, params: list[str]) -> set[int]:
    """The answers a caller of this kind may get: never a success, never a redirect."""
    if kind in ("anonymous", "outsider") and (method, path) in NEEDS_ACCOUNT:
        return {401}
    if kind == "member" and TEAM_PARAMS & set(params):
        return {403}  # in the team, without the owner's role
    return {404}


def _callers(app: FastAPI, victim: Victim) -> Iterator[tuple[str, TestClient, str, dict[str, str]]]:
    """(kind, client, CSRF token, headers) for each kind of caller that must be refused.

    outsider: holds an edit key of its own, in its cookies and as its bearer token;
    signed-in: the same cookies, signed in with an account of its own;
    anonymous: no credentials at all; member: in the victim's team, role member.
    """
    with (
        TestClient(app) as outsider,
        TestClient(app) as signed_in,
        TestClient(app) as anonymous,
        TestClient(app) as member,
    ):
        own_id, _, token = start_assessment(outsider)
        own_key = outsider.cookies[f"advisor_key_{own_id}"]
        yield "outsider", outsider, token, bearer(own_key)
        signed_in.cookies = outsider.cookies
        _, own_account = _account(signed_in, "outsider@example.org")
        yield "signed-in", signed_in, token, own_account
        yield "anonymous", anonymous, csrf_token(anonymous), {}
        yield "member", member, csrf_token(member), victim.member_auth


def test_no_route_opens_someone_elses_resources(app: FastAPI, victim: Victim) -> None:
    """Anonymous, outsiders (with a key or an account of their own) and members without the
    role meet 404 (or 403, or 401 where an account as such is needed) everywhere."""
    swept = 0
    for kind, client, token, headers in _callers(app, victim):
        # A member knows the team's name and its members: not a leak to them.
        leaks = [s for s in (*LEAKS, *TEAM_LEAKS) if kind != "member" or s not in MEMBER_KNOWS]
        for method, path, params in _calls(app):
            private = PRIVATE_PARAMS & set(params)
            recipe_prefill = path in PREFILLED_FROM_QUERY and method == "GET"
            if not private and not recipe_prefill:
                if method == "GET":  # any page could start reading ?assessment=: no leak
                    query = urls.query([(urls.ASSESSMENT_QUERY, victim.assessment_id)])
                    url = _fill(path, PUBLIC_PARAMS) + "?" + query
                    response = _send(client, method, url, token, **headers)
                    assert not [s for s in leaks if s in response.text], (kind, url)
                continue
            if kind == "member" and (method, path) in MEMBERS_MAY:
                continue
            for values in _fillings(victim, kind, params):
                url = _fill(path, values)
                if recipe_prefill:
                    url += "?" + urls.query([(urls.ASSESSMENT_QUERY, victim.assessment_id)])
                response = _send(client, method, url, token, **headers)
                swept += 1
                expected = _expected(kind, method, path, params)
                assert response.status_code in expected, (kind, method, url, response.status_code)
                for secret in leaks:
                    assert secret not in response.text, (kind, method, url, secret)
    assert swept >= 4 * 12, f"only {swept} calls swept: is the route table read?"
    with TestClient(app) as owner:  # the DELETE and rename calls above changed nothing
        for assessment_id, auth in (
            (victim.assessment_id, bearer(victim.edit_key)),
            (victim.team_assessment_id, victim.owner_auth),
        ):
            kept = owner.get(f"/api/assessments/{assessment_id}", headers=auth)
            assert kept.status_code == 200, kept.text
            assert kept.json()["title"] in (SECRET_TITLE, TEAM_TITLE)


def test_the_sweep_filled_the_routes_right(app: FastAPI, victim: Victim) -> None:
    """The same addresses do open for the victim: the refusals above were access, not typos."""
    with TestClient(app) as owner:
        for method, path, params in _calls(app):
            if method != "GET" or not PRIVATE_PARAMS & set(params):
                continue
            values = {
                **PUBLIC_PARAMS,
                "assessment_id": victim.assessment_id,
                "token": victim.live_token or "",
                "team_id": victim.team_id,
                "user_id": victim.owner_id,
                "invite_token": victim.live_invite,
                "token_id": victim.api_token_id,
                "session_id": victim.session_id,
                "job_id": victim.job_ids[0],
            }
            url = _fill(path, values)
            if path in PREFILLED_FROM_QUERY:
                url += "?" + urls.query([(urls.ASSESSMENT_QUERY, victim.assessment_id)])
            headers = bearer(victim.edit_key)
            if TEAM_PARAMS & set(params) or "invite_token" in params:
                headers = victim.owner_auth
            opened = _send(owner, method, url, "", **headers)
            assert opened.status_code < 400, (url, opened.status_code, opened.text[:300])
            if "assessment_id" in params and (method, path) in TEAM_OWNERS_ONLY:
                url = _fill(path, {**values, "assessment_id": victim.team_assessment_id})
                opened = _send(owner, method, url, "", **victim.owner_auth)
                assert opened.status_code < 400, (url, opened.status_code, opened.text[:300])
                refused = _send(owner, method, url, "", **victim.member_auth)
                assert refused.status_code == 403, (url, refused.status_code)
            elif "assessment_id" in params:  # and the team's assessment, for its member
                url = _fill(path, {**values, "assessment_id": victim.team_assessment_id})
                opened = _send(owner, method, url, "", **victim.member_auth)
                assert opened.status_code < 400, (url, opened.status_code, opened.text[:300])


def test_the_sweep_fails_on_a_parameter_it_cannot_fill() -> None:
    with pytest.raises(AssertionError, match="cannot fill"):
        _fill("/assessments/{assessment_id}/widgets/{widget_id}", {"assessment_id": "a"})
