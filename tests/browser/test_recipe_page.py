"""The recipe page in real chromium: live re-render with htmx, the same without JavaScript, axe."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import axe_violations, screenshot
from tests.support import require_module

pytestmark = pytest.mark.browser
expect = require_module("playwright.sync_api").expect


def _estimate(page: Any) -> str:
    text: str = page.locator("#estimate").inner_text()
    return text


def test_parameters_rerender_live_with_javascript(page: Any, live_server: str) -> None:
    page.goto(live_server + "/recipes/sft-lora")
    assert "1 × L4" in _estimate(page)
    page.evaluate("window.__sameDocument = true")
    gpu = page.get_by_label("GPU type")
    gpu.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    gpu.focus()
    gpu.select_option("A100-80GB")
    expect(page.locator("#estimate")).to_contain_text("A100-80GB")
    # The user stays where they were: same field focused, same scroll position.
    assert page.evaluate("document.activeElement.id") == "param-gpu"
    assert abs(page.evaluate("window.scrollY") - before) < 50
    assert re.search(r"[?&]gpu=A100-80GB", page.url), "the configured recipe has its own URL"
    page.get_by_label("Training examples").fill("4000")
    page.get_by_label("Training examples").press("Tab")  # a change event
    expect(page.locator("#estimate")).to_contain_text("6,144,000")
    assert page.evaluate("window.__sameDocument") is True, "htmx should swap, not reload"
    assert "examples=4000" in page.url
    # The download link carries the configuration; copy buttons appear with JavaScript.
    link = page.locator("#format-trl a[download]")
    assert "gpu=A100-80GB" in (link.get_attribute("href") or "")
    assert page.locator("#format-trl button[data-copy]").is_visible()
    screenshot(page, "recipe-js")


def test_bad_value_shows_the_error_at_the_field(page: Any, live_server: str) -> None:
    page.goto(live_server + "/recipes/sft-lora")
    page.get_by_label("Epochs").fill("-1")
    page.get_by_role("button", name="Update the recipe").click()
    page.locator("#error-epochs").wait_for()
    assert page.get_by_label("Epochs").input_value() == "-1"
    expect(page.get_by_label("Epochs")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Some values need fixing")
    # The script moves focus after the swap settles: wait for it rather than race it.
    page.wait_for_function("document.activeElement?.id === 'params-submit'")
    # Fixing the value brings the estimate back, still without a reload.
    page.get_by_label("Epochs").fill("1")
    page.get_by_role("button", name="Update the recipe").click()
    # The last good estimate stayed on the page all along: wait for the error to go instead.
    expect(page.locator("#error-epochs")).to_have_count(0)
    expect(page.locator("#estimate")).to_contain_text("Trained tokens")


def test_parameters_submit_without_javascript(page_nojs: Any, live_server: str) -> None:
    page = page_nojs
    page.goto(live_server + "/recipes/dpo-lora")
    assert page.locator("button[data-copy]").first.is_hidden()  # nothing to copy with
    page.get_by_label("GPU type").select_option("H100")
    page.get_by_label("Epochs").fill("2")
    page.get_by_role("button", name="Update the recipe").click()
    page.wait_for_url(re.compile(r".*/recipes/dpo-lora\?.*epochs=2"))
    assert "H100" in _estimate(page)
    assert page.get_by_label("Epochs").input_value() == "2"
    screenshot(page, "recipe-nojs")


def test_dataset_upload_shows_the_report(page: Any, live_server: str, tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join([json.dumps(good)] * 3 + ["{broken"]) + "\n")
    page.goto(live_server + "/recipes/sft-lora")
    page.get_by_label("JSONL file to check").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("alert").wait_for()
    assert "Line 4: not valid JSON" in page.get_by_role("alert").inner_text()
    assert page.locator("h1").inner_text().endswith("train.jsonl has errors")
    screenshot(page, "recipe-dataset-check")


@pytest.mark.parametrize("recipe_id", ["sft-lora", "distill-logit", "rag-index"])
def test_recipe_pages_pass_axe(audit_page: Any, live_server: str, recipe_id: str) -> None:
    audit_page.goto(live_server + f"/recipes/{recipe_id}?epochs=0")
    if recipe_id == "rag-index":
        audit_page.goto(live_server + f"/recipes/{recipe_id}")
    assert axe_violations(audit_page) == []  # the 422 form state included
    audit_page.goto(live_server + f"/recipes/{recipe_id}")
    assert axe_violations(audit_page) == []
    screenshot(audit_page, f"recipe-{recipe_id}")


def test_catalog_and_phone_width(phone_page: Any, live_server: str) -> None:
    phone_page.goto(live_server + "/recipes")
    assert phone_page.locator("ul.catalog li").count() >= 10
    phone_page.goto(live_server + "/recipes/sft-lora")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at 375 px ({width} px)"
    screenshot(phone_page, "recipe-phone")
