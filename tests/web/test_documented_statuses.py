"""Every API operation answers only statuses its OpenAPI entry documents, whoever calls it.

Schemathesis found two answers no schema declared (a 401 from creating a team and from
accepting an invite with a token that was no longer live). This walk does on purpose what it
found by chance: each operation, with a body its schema accepts, is called by nobody, by a
made-up token, by a stranger, by a team member whose role is too low, and by the owner, and
each answer must be one its entry lists.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.api.test_teams import invite, join, team_of, user


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Which statuses a route answers does not depend on the database."""
    return sqlite_url


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The schema behind a `$ref` (one level at a time)."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _example(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """A small value the schema accepts: required properties only, the first of a choice."""
    schema = _resolve(schema, spec)
    for choice in ("anyOf", "oneOf"):
        if choice in schema:
            options = [s for s in schema[choice] if _resolve(s, spec).get("type") != "null"]
            return _example(options[0], spec)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: _example(properties[name], spec) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return "x" * max(int(schema.get("minLength", 1)), 1)


def _body(operation: dict[str, Any], spec: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _example(content["application/json"]["schema"], spec)


def test_every_operation_answers_only_documented_statuses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    _, owner = user(client, "owner@example.org")
    _, member = user(client, "member@example.org")
    _, stranger = user(client, "stranger@example.org")
    team_id = team_of(client, owner)
    join(client, member, invite(client, owner, team_id, "member"))
    made = client.post("/api/assessments", json={"team": team_id, "title": "Walked"}, headers=owner)
    assert made.status_code == 201, made.text
    ids = {
        "assessment_id": made.json()["id"],
        "team_id": team_id,
        "question_id": "gap",
        "recipe_id": "sft-lora",
        "invite_token": invite(client, owner, team_id, "reviewer"),
        "token": "no-such-token",
        "user_id": "no-such-user",
        "job_id": "no-such-job",
        "comment_id": "1",
        "delivery_id": "1",
    }
    callers = {
        "nobody": {},
        "a made-up token": {"Authorization": "Bearer not-a-real-token"},
        "a stranger": stranger,
        "a member": member,
        "the owner": owner,
    }
    undocumented = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            url = path.format(**{k: v for k, v in ids.items() if "{" + k + "}" in path})
            body = _body(operation, spec)
            for who, headers in callers.items():
                if method == "delete" and who == "the owner":
                    continue  # the walk must not delete what later calls use
                answer = client.request(method.upper(), url, json=body, headers=headers)
                if str(answer.status_code) not in operation["responses"]:
                    undocumented.append(
                        f"{method.upper()} {path} by {who}: {answer.status_code}"
                        f" {answer.text[:120]}"
                    )
    assert not undocumented, "\n".join(undocumented)
