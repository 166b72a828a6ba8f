"""The recipes API through the app factory: its middleware, error handlers and body limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.recipes import list_ids
from app.web.errors import ErrorBody
from app.web.uploads import MAX_UPLOAD_BYTES


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The recipes API stores nothing: SQLite will do."""
    return sqlite_url


def _detail(response: httpx.Response) -> dict[str, Any]:
    """The one problem of a 422, checked against the error body."""
    assert response.status_code == 422, response.text
    [problem] = ErrorBody.model_validate(response.json()).detail
    return problem.model_dump()


def test_list_show_render_estimate(client: TestClient) -> None:
    assert client.get("/api/recipes").json() == list_ids()
    shown = client.get("/api/recipes/sft-lora", params={"examples": "200"}).json()
    params = {p["key"]: p for p in shown["params"]}
    assert params["examples"]["value"] == 200 and params["examples"]["explanation"]
    assert all(h["explanation"] for h in shown["hyperparameters"])
    assert "trl" in shown["formats"]
    r = client.get(
        "/api/recipes/sft-lora/render", params={"format": "trl", "gpu": "cpu", "download": "1"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    assert "use_cpu: true" in r.text and "sft-lora.trl.yaml" in r.headers["content-disposition"]
    r = client.get("/api/recipes/dpo-lora/render", params={"format": "together"})
    assert r.json()["training_method"] == {"method": "dpo", "dpo_beta": 0.1}
    est = client.get("/api/recipes/sft-full/estimate", params={"gpu": "H100"}).json()
    assert est["gpu"]["type"] == "H100" and est["gpu"]["count"] >= 2 and est["assumptions"]


def test_playbook_eval_starter(client: TestClient) -> None:
    r = client.get("/api/recipes/rag-index/render", params={"format": "eval"})
    assert r.status_code == 200 and "recall@" in r.text and "ragas" in r.text


@pytest.mark.parametrize(
    ("url", "params", "field", "kind"),
    [
        ("/api/recipes/nope", {}, "recipe", "unknown_recipe"),
        ("/api/recipes/nope/render", {}, "recipe", "unknown_recipe"),
        ("/api/recipes/sft-lora/render", {"format": "docx"}, "format", "unknown_format"),
        ("/api/recipes/sft-lora/estimate", {"lr": "1"}, "lr", "unknown_key"),
        ("/api/recipes/sft-lora/estimate", {"gpu": "v100"}, "gpu", "value_error"),
        ("/api/recipes/sft-lora/render", {"epochs": "zero"}, "epochs", "value_error"),
        ("/api/recipes/distill-logit/render", {"format": "openai"}, "format", "not_available"),
        ("/api/recipes/build-evals/estimate", {}, "recipe", "not_available"),
    ],
)
def test_422_names_the_problem(
    client: TestClient, url: str, params: dict[str, str], field: str, kind: str
) -> None:
    detail = _detail(client.get(url, params=params))
    assert detail["field"] == field and detail["type"] == kind and detail["message"]


def test_dataset_check_json_file_and_raw(client: TestClient) -> None:
    good = [{"prompt": "p", "chosen": "a", "rejected": "b"}]
    r = client.post("/api/recipes/dataset-check", params={"method": "dpo"}, json=good)
    assert r.status_code == 200 and r.json()["examples"] == 1
    upload = {"file": ("train.jsonl", b'{"messages": []}\nnot json\n', "application/jsonl")}
    r = client.post("/api/recipes/dataset-check", params={"method": "sft"}, files=upload)
    assert r.status_code == 422
    problems = ErrorBody.model_validate(r.json()).detail
    assert [d.field for d in problems] == ["line 1", "line 2"]
    assert r.json()["report"]["error_count"] == 2
    raw = json.dumps({"prompt": "p"}).encode()
    r = client.post(
        "/api/recipes/dataset-check?method=distill",
        content=raw,
        headers={"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200 and r.json()["ok"]


def test_dataset_check_rejects_bad_method_body_and_size(client: TestClient) -> None:
    assert (
        _detail(client.post("/api/recipes/dataset-check?method=ppo", json=[]))["field"] == "method"
    )
    assert _detail(client.post("/api/recipes/dataset-check", json={"a": 1}))["field"] == "body"
    big = b"x" * (MAX_UPLOAD_BYTES + 1)
    r = client.post(
        "/api/recipes/dataset-check", content=big, headers={"content-type": "text/plain"}
    )
    assert r.status_code == 413
    [problem] = ErrorBody.model_validate(r.json()).detail
    assert problem.field == "file" and str(MAX_UPLOAD_BYTES) in problem.message


def test_a_json_body_under_the_limit_is_measured_as_received(client: TestClient) -> None:
    """Non-ASCII text is not re-encoded as \\u escapes and then refused as too big."""
    text = "训练数据的一个例子" * 40
    turns = [{"role": "user", "content": text}, {"role": "assistant", "content": "好"}]
    records = [{"messages": turns}] * 2600
    body = json.dumps(records, ensure_ascii=False).encode()
    assert len(body) < MAX_UPLOAD_BYTES < len(json.dumps(records))  # as received vs escaped
    r = client.post(
        "/api/recipes/dataset-check",
        content=body,
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text[:300]
    assert r.json()["examples"] == 2600


def test_dataset_check_takes_files_over_the_app_body_limit(client: TestClient) -> None:
    line = json.dumps({"prompt": "x" * 200, "completion": "y"}).encode() + b"\n"
    data = line * 8000  # about 1.8 MB: over the app's 1 MB default, under the 5 MB upload limit
    ok = client.post(
        "/api/recipes/dataset-check?method=sft",
        content=data,
        headers={"content-type": "application/jsonl"},  # JSONL, not a JSON array
    )
    assert ok.status_code == 200, ok.text[:200]
    assert ok.json()["examples"] == 8000
    assert client.post("/api/assessments", json={"title": "x" * 1_100_000}).status_code == 413
