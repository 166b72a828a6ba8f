"""The job pages without a worker: Run form, live part polling until the end, list, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.models import Job
from app.settings import Settings
from tests.web.conftest import HTMX, csrf_token, new_assessment, one, parse, post_form


@pytest.fixture
def dataset(settings: Settings) -> str:
    """A small SFT file inside the data dir."""
    path = Path(settings.data_dir) / "pages" / "train.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    return str(path)


def _submit(client: TestClient, dataset: str, **body: Any) -> dict[str, Any]:
    made = client.post(
        "/api/jobs",
        json={
            "recipe": "sft-lora",
            "params": {"base_model": "Qwen/Qwen2.5-0.5B", "dataset": dataset, "gpu": "cpu"},
            **body,
        },
    )
    assert made.status_code == 201, made.text
    job: dict[str, Any] = made.json()
    return job


def _finish(client: TestClient, job_id: str) -> None:
    """Record an end as the worker would: status, loss, artifacts."""
    with client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="succeeded",
                exit_code=0,
                metrics={"loss": [[1, 2.5], [2, 2.0], [3, 1.25]]},
                artifacts=[{"path": "outputs/sft-lora/adapter_model.safetensors", "bytes": 2048}],
            )
        )


def test_recipe_page_offers_run_and_the_demo(client: TestClient) -> None:
    page = client.get("/recipes/sft-lora", params={"max_steps": "5", "gpu": "cpu"})
    form = one(page.text, "#run form.run")
    assert form["action"] == "/jobs" and form["method"] == "post"
    hidden = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert hidden["recipe"] == "sft-lora" and hidden["max_steps"] == "5" and hidden["gpu"] == "cpu"
    assert "csrf_token" in hidden
    assert [o["value"] for o in form.select("select[name=runner] option")] == ["local"]
    assert one(page.text, "#use-demo").get_text() == "Use the demo model"
    # A playbook has nothing to run.
    assert parse(client.get("/recipes/prompt-eval").text).select_one("#run") is None
    # Invalid values: no Run button, a reason instead.
    bad = client.get("/recipes/sft-lora", params={"max_steps": "-3"})
    assert parse(bad.text).select_one("#run form.run") is None


def test_job_page_polls_while_running_and_stops_when_done(client: TestClient, dataset: str) -> None:
    job = _submit(client, dataset)
    page = client.get(f"/jobs/{job['id']}")
    assert page.status_code == 200
    live = one(page.text, "#job-live")
    assert live["hx-trigger"] == "every 2s" and live["hx-get"] == f"/jobs/{job['id']}"
    assert "Queued" in one(page.text, ".status").get_text()
    refresh = one(page.text, "noscript meta[http-equiv=refresh]")
    assert refresh["content"] == "5"
    poll = client.get(f"/jobs/{job['id']}", headers={**HTMX, "HX-Target": "job-live"})
    assert poll.text.lstrip().startswith('<div id="job-live"'), poll.text[:200]
    assert "<h1" not in poll.text
    _finish(client, job["id"])
    done = client.get(f"/jobs/{job['id']}", headers={**HTMX, "HX-Target": "job-live"})
    live = one(done.text, "#job-live")
    assert not live.has_attr("hx-trigger"), "a finished job must stop polling"
    assert "Succeeded" in one(done.text, ".status").get_text()
    svg = one(done.text, "svg.loss")
    assert one(svg, "polyline")["points"].count(",") == 3
    assert str(one(svg, "path.markers")["d"]).count("M") == 3  # a marker per point
    assert "1.25" in one(svg, "desc").get_text()
    assert "2.0 KB" in one(done.text, "table.artifacts").get_text()
    full = client.get(f"/jobs/{job['id']}")
    assert parse(full.text).select_one("meta[http-equiv=refresh]") is None


def test_list_filter_and_cancel_from_the_page(client: TestClient, dataset: str) -> None:
    first = _submit(client, dataset)
    second = _submit(client, dataset)
    listed = client.get("/jobs")
    links = [a["href"] for a in parse(listed.text).select("table.jobs a")]
    assert links == [f"/jobs/{second['id']}", f"/jobs/{first['id']}"]  # newest first
    token = csrf_token(client, f"/jobs/{first['id']}")
    cancelled = post_form(client, f"/jobs/{first['id']}/cancel", token)
    assert cancelled.status_code == 303 and cancelled.headers["location"] == f"/jobs/{first['id']}"
    assert client.get(f"/api/jobs/{first['id']}").json()["status"] == "cancelled"
    only = client.get("/jobs", params={"status": "cancelled"})
    assert [a["href"] for a in parse(only.text).select("table.jobs a")] == [f"/jobs/{first['id']}"]
    refused = post_form(client, f"/jobs/{second['id']}/cancel", None)
    assert refused.status_code == 403
    assert client.get(f"/api/jobs/{second['id']}").json()["status"] == "queued"


def test_result_page_lists_the_assessments_jobs(client: TestClient, dataset: str) -> None:
    created = new_assessment(client, answers={"gap": "behavior"})
    job = _submit(client, dataset, assessment=created["id"])
    assert job["assessment"] == created["id"]
    page = client.get(f"/assessments/{created['id']}/result")
    assert [a["href"] for a in parse(page.text).select("#jobs table.jobs a")] == [
        f"/jobs/{job['id']}"
    ]
    by_assessment = client.get("/api/jobs", params={"assessment": created["id"]})
    assert [j["id"] for j in by_assessment.json()] == [job["id"]]
