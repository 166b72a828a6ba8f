"""The result's first action, its cost table, printing, and the hosted-API recipe in chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.decision.wording import WORDING
from tests.browser.conftest import ARTIFACTS, axe_violations, screenshot
from tests.support import require_module

pytestmark = pytest.mark.browser
expect = require_module("playwright.sync_api").expect

# A 2M-requests-a-day classifier that a large model already does well, on a hosted API.
CLASSIFIER = {
    "gap": "behavior",
    "strong_model_meets_bar": "yes",
    "monthly_requests": 60_000_000,
    "prompt_tokens": 800,
    "task_kind": "extraction_classification",
    "labeled_examples": 5000,
    "eval_set": "automated",
    "prompting": "thorough",
    "best_prompt_result": "meets_bar",
    "deployment": "hosted_api",
    "finetuning_available": True,
}


def _assessment(page: Any, live_server: str, answers: dict[str, Any]) -> dict[str, Any]:
    """An assessment made through the API, its key handed to this browser by the private link."""
    response = page.request.post(live_server + "/api/assessments", data={"answers": answers})
    assert response.status == 201, response.text()
    created: dict[str, Any] = response.json()
    page.goto(f"{live_server}/assessments/{created['id']}?key={created['edit_key']}")
    recommendation = page.request.get(f"{live_server}/api/assessments/{created['id']}").json()
    created["recommendation"] = recommendation["recommendation"]
    return created


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_result_names_one_first_action(
    page: Any, page_nojs: Any, live_server: str, js: bool
) -> None:
    tab = page if js else page_nojs
    created = _assessment(tab, live_server, CLASSIFIER)
    rec = created["recommendation"]
    tab.goto(f"{live_server}/assessments/{created['id']}/result")
    first = WORDING.approaches[rec["plan"][0]].label
    assert tab.locator("h1").inner_text().endswith(f"{first} first")
    expect(tab.locator("ol.plan > li").first).to_have_class("first-action")
    expect(tab.locator("ol.plan > li.first-action .tag", has_text="start here")).to_be_visible()
    if rec["primary"] != rec["plan"][0]:
        expect(tab.locator("#goal")).to_contain_text(WORDING.approaches[rec["primary"]].label)
    step = tab.locator(f"#step-{rec['plan'][0]}")
    expect(step.locator("dl.step-guide")).to_contain_text("Do first")
    expect(step.locator("dl.step-guide")).to_contain_text("It worked when")
    folded = tab.locator("details.more-reasons").first
    if folded.count():
        hidden = folded.locator("li").first
        expect(hidden).to_be_hidden()
        folded.locator("summary").click()  # <details> opens without JavaScript too
        expect(hidden).to_be_visible()
    screenshot(tab, f"result-first-action-{'js' if js else 'nojs'}")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_the_cost_table_follows_the_typed_volume(
    page: Any, page_nojs: Any, live_server: str, js: bool
) -> None:
    tab = page if js else page_nojs
    created = _assessment(tab, live_server, CLASSIFIER)
    tab.goto(f"{live_server}/assessments/{created['id']}/result")
    costs = tab.locator("#costs")
    expect(costs).to_contain_text("60,000,000 times a month")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    costs.screenshot(path=str(ARTIFACTS / f"result-cost-table-{'js' if js else 'nojs'}.png"))
    rows = tab.locator("table.costs tbody tr")
    assert rows.count() == len(created["recommendation"]["plan"])
    expect(tab.locator("#cost-distillation")).to_contain_text("month 1")
    tab.locator("details.cost-form summary").click()
    tab.get_by_label("Requests per month").fill("3,000")
    tab.get_by_role("button", name="Update the costs").click()
    tab.wait_for_url(re.compile(r".*requests=3%2C000.*"))
    expect(tab.locator("#costs")).to_contain_text("3,000 times a month")
    # A bad value: the error at the field, the last good table still there.
    if not tab.locator("details.cost-form[open]").count():
        tab.locator("details.cost-form summary").click()
    tab.get_by_label("Requests per month").fill("lots")
    tab.get_by_role("button", name="Update the costs").click()
    expect(tab.locator("#cost-error-requests")).to_contain_text("must be a whole number")
    expect(tab.locator("#costs")).to_contain_text("60,000,000 times a month")
    assert tab.locator("table.costs tbody tr").count() == rows.count()
    screenshot(tab, f"result-costs-{'js' if js else 'nojs'}")


def test_the_result_prints_without_navigation_or_forms(page: Any, live_server: str) -> None:
    created = _assessment(page, live_server, CLASSIFIER)
    page.goto(f"{live_server}/assessments/{created['id']}/result")
    expect(page.locator("header.site")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.site")).to_be_hidden()
    expect(page.locator("footer.site")).to_be_hidden()
    expect(page.locator("#manage")).to_be_hidden()
    expect(page.locator("details.cost-form")).to_be_hidden()
    expect(page.locator("table.costs")).to_be_visible()
    expect(page.locator("ol.plan")).to_be_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.emulate_media(media="screen")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_a_hosted_api_user_gets_the_providers_job_first(
    page: Any, page_nojs: Any, live_server: str, js: bool
) -> None:
    tab = page if js else page_nojs
    created = _assessment(tab, live_server, {**CLASSIFIER, "labeled_examples": 2000})
    tab.goto(f"{live_server}/recipes/sft-lora?assessment={created['id']}")
    exports = tab.locator("details.export")
    expect(exports.first).to_have_attribute("id", "format-openai")
    expect(tab.locator("#hosted-cost")).to_contain_text("per million trained tokens")
    expect(tab.locator("#hosted-cost")).to_contain_text("OpenAI")
    assert tab.get_by_label("Training examples").input_value() == "2000"
    tab.get_by_label("Hosted fine-tuning provider").select_option("together")
    if not js:
        tab.get_by_role("button", name="Update the recipe").click()
    expect(tab.locator("#hosted-cost")).to_contain_text("Together AI")
    expect(tab.locator("details.export").first).to_have_attribute("id", "format-together")
    assert "provider=together" in tab.url
    screenshot(tab, f"recipe-hosted-{'js' if js else 'nojs'}")


def test_result_and_hosted_recipe_pass_axe(audit_page: Any, live_server: str) -> None:
    created = _assessment(audit_page, live_server, CLASSIFIER)
    audit_page.goto(f"{live_server}/assessments/{created['id']}/result?requests=lots")
    assert axe_violations(audit_page) == []  # the cost form's error state included
    audit_page.goto(f"{live_server}/recipes/sft-lora?assessment={created['id']}")
    assert axe_violations(audit_page) == []
    audit_page.goto(f"{live_server}/recipes/rag-index?assessment={created['id']}")
    assert axe_violations(audit_page) == []
