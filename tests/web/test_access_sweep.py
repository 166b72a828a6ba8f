"""Every route of the app, swept: someone else's assessment and share links stay out of reach.

The routes come from the app's own table, so a new route is swept without editing this test;
a path parameter the sweep does not know how to fill fails it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from app.main import create_app
from app.settings import Settings
from app.web.presenters import urls
from tests.web.conftest import bearer, expire, new_assessment, start_assessment

SECRET_TITLE = "Victim plan ZQX-4821"
SECRET_NUMBER = 8_765_432  # the victim's labeled_examples, as stored and as shown
LEAKS = (SECRET_TITLE, str(SECRET_NUMBER), f"{SECRET_NUMBER:,}")
# Path parameters that name no one's resource, with a value the route accepts.
PUBLIC_PARAMS = {"question_id": "gap", "kind": "json", "recipe_id": "sft-lora", "fmt": "trl"}
# Path parameters that name someone's resource: the sweep fills them with the victim's.
PRIVATE_PARAMS = {"assessment_id", "token"}
# Routes that fill a form from `?assessment=ID`: the victim's id there must be a 404.
PREFILLED_FROM_QUERY = {"/recipes/{recipe_id}", "/recipes/{recipe_id}/export/{fmt}"}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Access does not depend on the database; the API tests run both."""
    return sqlite_url


@dataclass
class Victim:
    """Someone else's assessment and share links: the ones the outsider must not reach."""

    assessment_id: str
    edit_key: str
    live_token: str | None = None
    dead_tokens: tuple[str, ...] = ()


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
    return victim


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
        body = {"expires_in_days": 7} if url.endswith("/shares") else {"value": "knowledge"}
        if method in ("GET", "DELETE"):
            return client.request(method, url, headers=headers, follow_redirects=False)
        return client.request(method, url, json=body, headers=headers, follow_redirects=False)
    form = {"csrf_token": token, "value": "knowledge", "expires_in_days": "7"}
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    return client.request(method, url, data=form, headers=headers, follow_redirects=False)


def test_no_route_opens_someone_elses_assessment(app: FastAPI, victim: Victim) -> None:
    """An outsider holding a key of their own, by cookie and bearer, meets 404 everywhere."""
    swept = 0
    with TestClient(app) as outsider, TestClient(app) as owner:
        own_id, _, token = start_assessment(outsider)  # a key of its own, in its cookies
        own_key = outsider.cookies[f"advisor_key_{own_id}"]
        for method, path, params in _calls(app):
            private = PRIVATE_PARAMS & set(params)
            recipe_prefill = path in PREFILLED_FROM_QUERY and method == "GET"
            if not private and not recipe_prefill:
                if method == "GET":  # any page could start reading ?assessment=: no leak
                    query = urls.query([(urls.ASSESSMENT_QUERY, victim.assessment_id)])
                    url = _fill(path, PUBLIC_PARAMS) + "?" + query
                    response = _send(outsider, method, url, token, **bearer(own_key))
                    assert not [s for s in LEAKS if s in response.text], url
                continue
            tokens = victim.dead_tokens if "token" in params else ("",)
            for share in tokens:
                values = {**PUBLIC_PARAMS, "assessment_id": victim.assessment_id, "token": share}
                url = _fill(path, values)
                if recipe_prefill:
                    url += "?" + urls.query([(urls.ASSESSMENT_QUERY, victim.assessment_id)])
                response = _send(outsider, method, url, token, **bearer(own_key))
                swept += 1
                assert response.status_code == 404, (method, url, response.status_code)
                for secret in LEAKS:
                    assert secret not in response.text, (method, url, secret)
            # The same addresses do open for the owner: the sweep filled them right.
            if method == "GET":
                owner_values = {
                    **PUBLIC_PARAMS,
                    "assessment_id": victim.assessment_id,
                    "token": victim.live_token or "",
                }
                url = _fill(path, owner_values)
                if recipe_prefill:
                    url += "?" + urls.query([(urls.ASSESSMENT_QUERY, victim.assessment_id)])
                opened = _send(owner, method, url, "", **bearer(victim.edit_key))
                assert opened.status_code < 400, (url, opened.status_code, opened.text[:300])
    assert swept >= 12, f"only {swept} calls swept: is the route table read?"


def test_the_sweep_fails_on_a_parameter_it_cannot_fill() -> None:
    with pytest.raises(AssertionError, match="cannot fill"):
        _fill("/assessments/{assessment_id}/widgets/{widget_id}", {"assessment_id": "a"})
