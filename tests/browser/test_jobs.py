"""Press Run in real chromium: the demo model trains to `succeeded` on the local runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings
from tests.browser.conftest import _free_port, axe_violations, screenshot
from tests.jobs.support import JOB_TIMEOUT_S, demo_assets, start_worker, stop_worker
from tests.support import require_module

pytestmark = [pytest.mark.browser, pytest.mark.training]
expect = require_module("playwright.sync_api").expect


@pytest.fixture(scope="module")
def job_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn with a real `advisor worker` beside it."""
    root = tmp_path_factory.mktemp("job-server")
    url = f"sqlite:///{root / 'advisor.db'}"
    upgrade(url)
    settings = Settings(database_url=url, data_dir=root / "data", secret_key="browser")
    demo_assets(root / "data")  # skips cleanly without the training stack; built once
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    worker = start_worker(url, root / "data")
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    stop_worker(worker)
    server.should_exit = True
    thread.join(timeout=10)


def _run_demo(page: Any, base: str, recipe: str) -> None:
    """Recipe page -> "Use the demo model" -> Run: lands on the job page."""
    page.goto(f"{base}/recipes/{recipe}")
    page.get_by_role("button", name="Use the demo model").click()
    page.wait_for_url(f"**/recipes/{recipe}?**")
    assert "demo/model" in page.get_by_label("Base model (hub id or local path)").input_value()
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_url("**/jobs/*")


def _check_succeeded(page: Any, recipe: str) -> None:
    expect(page.locator(".job-facts .status")).to_contain_text(
        "Succeeded", timeout=JOB_TIMEOUT_S * 1000
    )
    expect(page.locator("svg.loss polyline")).to_have_count(1)
    markers = page.locator("svg.loss path.markers").get_attribute("d") or ""
    assert markers.count("M") >= 3
    expect(page.locator("table.artifacts")).to_contain_text(
        f"outputs/{recipe}/adapter_model.safetensors"
    )
    expect(page.locator("pre.log")).to_contain_text("Training completed")


def test_run_the_demo_with_javascript(page: Any, job_server: str) -> None:
    _run_demo(page, job_server, "sft-lora")
    live = page.locator("#job-live")
    expect(live).to_have_attribute("hx-trigger", "every 2s")
    page.evaluate("window.__sameDocument = true")
    _check_succeeded(page, "sft-lora")
    # The live part was swapped in place (no reload), and it stopped polling by itself.
    assert page.evaluate("window.__sameDocument === true")
    assert live.get_attribute("hx-trigger") is None
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(4500)
    assert not [u for u in requests if "/jobs/" in u], requests
    screenshot(page, "job-succeeded")
    page.goto(job_server + "/jobs")
    expect(page.locator("table.jobs")).to_contain_text("✓ Succeeded")


def test_run_the_demo_without_javascript(page_nojs: Any, job_server: str) -> None:
    """With JavaScript off the job page reloads itself while the job runs (meta refresh)."""
    _run_demo(page_nojs, job_server, "dpo-lora")
    _check_succeeded(page_nojs, "dpo-lora")
    assert page_nojs.locator("meta[http-equiv=refresh]").count() == 0


def test_job_page_has_no_serious_accessibility_violations(audit_page: Any, job_server: str) -> None:
    audit_page.goto(job_server + "/jobs")
    first = audit_page.locator("table.jobs a").first
    if first.count() == 0:
        pytest.skip("no job ran before this test")
    first.click()
    audit_page.wait_for_url("**/jobs/*")
    assert axe_violations(audit_page) == []
