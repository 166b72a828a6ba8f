"""Every URL that urls.py builds is served by a route, and no template spells out a path."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from starlette.routing import Match

from app.main import create_app
from app.settings import PROJECT_ROOT, Settings
from app.web.presenters import urls

ID = "A" * 27  # as long as the app's ids
# Each builder of urls.py: the arguments to call it with, and the methods its URL takes.
BUILDERS: dict[str, tuple[tuple[Any, ...], dict[str, Any], tuple[str, ...]]] = {
    "home": ((), {}, ("GET",)),
    "how_it_decides": ((), {}, ("GET",)),
    "new_assessment": ((), {}, ("POST",)),
    "assessment": ((ID,), {}, ("GET",)),
    "private_link": ((ID, "K" * 43), {}, ("GET",)),
    "step": ((ID, "gap"), {}, ("GET", "POST")),
    "change": ((ID, "gap"), {}, ("GET",)),
    "screen": ((ID, "the-gap"), {}, ("GET", "POST")),
    "screen_live": ((ID, "the-gap"), {}, ("POST",)),
    "change_screen": ((ID, "the-gap", "gap"), {}, ("GET",)),
    "review": ((ID,), {}, ("GET", "POST")),
    "result": ((ID,), {}, ("GET",)),
    "export": ((ID, "md"), {}, ("GET",)),
    "share_section": ((ID,), {}, ("GET",)),
    "new_share": ((ID,), {}, ("POST",)),
    "revoke_share": ((ID, "T" * 43), {}, ("POST",)),
    "shared": (("T" * 43,), {}, ("GET",)),
    "shared_json": (("T" * 43,), {}, ("GET",)),
    "shares_api": ((ID,), {}, ("GET", "POST")),
    "share_api": ((ID, "T" * 43), {}, ("DELETE",)),
    "recipes": ((), {}, ("GET",)),
    "jobs": (("running",), {}, ("GET",)),
    "new_job": ((), {}, ("POST",)),
    "job": ((ID,), {}, ("GET",)),
    "job_cancel": ((ID,), {}, ("POST",)),
    "job_log": ((ID,), {}, ("GET",)),
    "jobs_api": ((ID,), {}, ("GET", "POST")),
    "job_api": ((ID,), {}, ("GET",)),
    "job_logs_api": ((ID, 20), {}, ("GET",)),
    "job_cancel_api": ((ID,), {}, ("POST",)),
    "demo_assets": (("sft-lora",), {}, ("POST",)),
    "recipe": (("sft-lora", "epochs=2"), {"fragment": "dataset"}, ("GET",)),
    "recipe_for": (("sft-lora", ID), {}, ("GET",)),
    "recipe_export": (("sft-lora", "trl", "epochs=2"), {}, ("GET",)),
    "dataset_check": (("sft-lora",), {}, ("GET", "POST")),
    "recipes_api": ((), {}, ("GET",)),
    "recipe_api": (("sft-lora",), {}, ("GET",)),
    "signup": (("T" * 43,), {}, ("GET", "POST")),
    "signin": ((), {}, ("GET", "POST")),
    "signout": ((), {}, ("POST",)),
    "team": ((ID,), {}, ("GET",)),
    "team_invites": ((ID,), {}, ("POST",)),
    "invite": (("T" * 43,), {}, ("GET", "POST")),
    "claim": ((ID,), {}, ("POST",)),
    "rename": ((ID,), {}, ("POST",)),
    "delete": ((ID,), {}, ("GET", "POST")),
    "claim_section": ((ID,), {}, ("GET",)),
    "teams": ((), {}, ("GET", "POST")),
    "my_assessments": ((), {}, ("GET",)),
    "member_role": ((ID, ID), {}, ("POST",)),
    "member_removal": ((ID, ID), {}, ("POST",)),
    "account": ((), {}, ("GET",)),
    "account_password": ((), {}, ("POST",)),
    "account_tokens": ((), {}, ("POST",)),
    "revoke_api_token": ((ID,), {}, ("POST",)),
    "revoke_session": ((ID,), {}, ("POST",)),
    # Team review (issue 13, part A).
    "approval": ((ID,), {"fragment": "review-status"}, ("GET",)),
    "team_dashboard": ((ID, "status=approved"), {}, ("GET",)),
    "team_assessments_api": ((ID, "q=rag"), {}, ("GET",)),
    "decision_record": ((ID,), {}, ("GET",)),
    "decision_record_page": ((ID,), {}, ("GET",)),
    "team_webhook": ((ID,), {}, ("GET", "POST")),
    "team_webhook_removal": ((ID,), {}, ("POST",)),
    "team_webhook_api": ((ID,), {}, ("GET", "PUT", "DELETE")),
    "webhook_redelivery": ((ID, 7), {}, ("POST",)),
    "webhook_redelivery_api": ((ID, 7), {}, ("POST",)),
    "approval_request": ((ID,), {}, ("POST",)),
    "approval_decision": ((ID,), {}, ("POST",)),
    "comments": ((ID,), {}, ("POST",)),
    "comment_edit": ((ID, 7), {}, ("POST",)),
    "comment_delete": ((ID, 7), {}, ("POST",)),
    "milestones": ((ID,), {}, ("POST",)),
    "redecide": ((ID,), {}, ("POST",)),
    "diff": ((ID, "1", "current"), {}, ("GET",)),
    "reviews": ((), {}, ("GET",)),
    "reviews_count": ((), {}, ("GET",)),
    "review_settings": ((ID,), {}, ("POST",)),
}


def _builders() -> dict[str, Callable[..., str]]:
    """The public functions urls.py defines, by name (`query` encodes and `absolute` prefixes:
    they build no path)."""
    return {
        name: function
        for name, function in inspect.getmembers(urls, inspect.isfunction)
        if function.__module__ == urls.__name__
        and not name.startswith("_")
        and name not in ("query", "absolute")
    }


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app whose routes the URLs must reach; no request is made, so nothing is migrated."""
    database = tmp_path_factory.mktemp("urls") / "db.sqlite"
    return create_app(Settings(database_url=f"sqlite:///{database}"))


def test_every_builder_is_checked() -> None:
    assert set(_builders()) == set(BUILDERS)


@pytest.mark.parametrize("name", BUILDERS)
def test_each_url_is_served_by_a_route(app: FastAPI, name: str) -> None:
    args, kwargs, methods = BUILDERS[name]
    url = urlsplit(_builders()[name](*args, **kwargs))
    for method in methods:
        scope = {"type": "http", "method": method, "path": url.path, "root_path": ""}
        matches = [route.matches(scope)[0] for route in app.router.routes]
        assert Match.FULL in matches, f"{method} {url.path} is served by no route"


def test_recipe_urls_keep_the_query_and_encode_the_assessment() -> None:
    assert urls.recipe_for("sft-lora", None) == "/recipes/sft-lora"
    assert urls.recipe_for("sft-lora", "a b") == "/recipes/sft-lora?assessment=a+b"
    assert urls.recipe("sft-lora", "epochs=2", fragment="dataset") == (
        "/recipes/sft-lora?epochs=2#dataset"
    )
    assert urls.query([("gpu", "L4"), ("epochs", "2")]) == "gpu=L4&epochs=2"


@pytest.mark.parametrize(
    "template", sorted((PROJECT_ROOT / "templates").rglob("*.html")), ids=lambda p: p.name
)
def test_no_template_spells_out_an_app_path(template: Any) -> None:
    """Templates print the URLs their context carries; only urls.py knows the paths."""
    source = template.read_text()
    for path in ('"/assessments', '"/recipes', '"/api/'):
        assert path not in source, f"{template.name} hard-codes {path[1:]}"
