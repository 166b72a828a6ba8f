"""The result page: one first action, step guides, folded reasons, the cost table and its form."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.decision.wording import WORDING
from app.recipes.prices import load_prices
from app.recipes.steps import changeable, step_guide
from app.web.presenters import urls
from app.web.presenters.results import unique_reasons
from tests.web.conftest import new_assessment, one, parse

# A 2M-requests-a-day classifier that a large model already does well.
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


def _result(client: TestClient, answers: dict[str, object], query: str = "") -> tuple[str, str]:
    assessment_id = new_assessment(client, answers=answers)["id"]
    response = client.get(urls.result(assessment_id) + query)
    assert response.status_code == 200
    return assessment_id, response.text


def test_headline_and_plan_order_agree_and_the_goal_is_named(client: TestClient) -> None:
    assessment_id, html = _result(client, CLASSIFIER)
    rec = client.get(f"/api/assessments/{assessment_id}").json()["recommendation"]
    assert rec["plan"][0] != rec["primary"], "the example must exercise a goal after step 1"
    page = parse(html)
    first = WORDING.approaches[rec["plan"][0]].label
    assert one(page, "h1").get_text().endswith(f"{first} first")
    assert one(page, "ol.plan > li").get("class") == ["first-action"]
    goal = one(page, "#goal").get_text()
    assert WORDING.approaches[rec["primary"]].label in goal
    markdown = client.get(urls.export(assessment_id, "md")).text
    assert markdown.startswith(f"# Adaptation plan: {first} first")


def test_each_step_says_what_to_do_how_to_check_and_when_to_move_on(client: TestClient) -> None:
    assessment_id, html = _result(client, CLASSIFIER)
    rec = client.get(f"/api/assessments/{assessment_id}").json()["recommendation"]
    for approach in rec["plan"]:
        guide = one(html, f"#step-{approach} dl.step-guide").get_text()
        expected = step_guide(approach)
        assert expected is not None
        assert expected.first in guide and expected.check in guide and expected.next in guide


def test_reasons_are_unique_for_before_against() -> None:
    reasons = [
        {"text": "Against: it is slow.", "effect": "-"},
        {"text": "The material changes weekly.", "effect": "+"},
        {"text": "the material changes weekly", "effect": "+"},
        {"text": "The material changes weekly; retrieval stays current.", "effect": "+"},
    ]
    kept = unique_reasons(reasons)
    assert [r["effect"] for r in kept] == ["+", "-"]
    assert kept[0]["text"] == "The material changes weekly."


def test_reasons_fold_after_three(client: TestClient) -> None:
    _, html = _result(client, CLASSIFIER)
    page = parse(html)
    for step in page.select("ol.plan > li"):
        shown = step.select(":scope > ul.reasons > li")
        assert len(shown) <= 3
        folded = step.select("details.more-reasons li")
        if folded:
            assert len(shown) == 3
        texts = [li.get_text() for li in step.select("ul.reasons li")]
        assert len(texts) == len(set(texts))


def test_what_would_change_lists_only_answers_the_user_can_change(client: TestClient) -> None:
    assessment_id, html = _result(client, CLASSIFIER)
    rec = client.get(f"/api/assessments/{assessment_id}").json()["recommendation"]
    offered = [c["field"] for c in rec["what_would_change"]]
    page = parse(html)
    heading = next(h for h in page.select("h2") if h.get_text() == "What would change this")
    listed = heading.find_next_sibling()
    assert listed is not None
    text = listed.get_text()
    for field in offered:
        question_title = field  # the page shows the question's title; check by the link instead
        link = urls.change(assessment_id, question_title)
        assert (link in str(listed)) == changeable(field), (field, text)


def test_cost_table_prices_every_plan_step_at_the_stated_volume(client: TestClient) -> None:
    assessment_id, html = _result(client, CLASSIFIER)
    rec = client.get(f"/api/assessments/{assessment_id}").json()["recommendation"]
    page = parse(html)
    rows = page.select("table.costs tbody tr")
    assert [r["id"] for r in rows] == [f"cost-{a}" for a in rec["plan"]]
    strong = load_prices().serving_row("gpt-4.1")
    # 60M requests x (800 prompt x input price + 20 answer tokens x output price).
    baseline = 60_000_000 * (800 * strong.input + 20 * strong.output) / 1e6
    assert f"${baseline:,.2f} a month" in one(page, "#costs").get_text()
    distilled = one(page, "#cost-distillation").get_text()
    assert "month 1" in distilled, "a cheap student pays back in its first month at this volume"
    assert "trained tokens at $5 per million" in distilled
    assert one(page, "#cost-requests")["value"] == "60000000"


def test_cost_form_changes_the_volume_and_prices_without_javascript(client: TestClient) -> None:
    assessment_id, html = _result(client, CLASSIFIER, "?requests=1,000&price_gpt-4-1_in=1")
    page = parse(html)
    assert one(page, "#cost-requests")["value"] == "1000"
    assert one(page, "#cost-price_gpt-4-1_in")["value"] == "1"
    baseline = 1000 * (800 * 1.0 + 20 * load_prices().serving_row("gpt-4.1").output) / 1e6
    assert f"${baseline:,.2f} a month" in one(page, "#costs").get_text()
    form = one(page, "#costs form")
    assert form["method"] == "get" and form["action"].startswith(urls.result(assessment_id))


def test_a_bad_cost_value_keeps_the_last_good_table_and_says_why(client: TestClient) -> None:
    _, html = _result(client, CLASSIFIER, "?requests=lots&price_gpt-4-1_out=-3")
    page = parse(html)
    assert one(page, "#cost-error-requests").get_text() == (
        "Requests per month must be a whole number from 0 to 1,000,000,000,000."
    )
    assert "Output price of GPT-4.1" in one(page, "#cost-error-price_gpt-4-1_out").get_text()
    assert one(page, "#cost-requests")["value"] == "lots"
    assert one(page, "#cost-requests")["aria-invalid"] == "true"
    assert "60,000,000 times a month" in one(page, "#costs").get_text()
    assert page.select("table.costs tbody tr"), "the table stays"


def test_the_costs_follow_the_provider_answered(client: TestClient) -> None:
    _, html = _result(client, {**CLASSIFIER, "hosted_provider": "together"})
    page = parse(html)
    assert one(page, "#cost-provider option[selected]")["value"] == "together"
    row = load_prices().training_row("together")
    assert row is not None
    assert (
        f"at ${row.per_million_tokens:g} per million" in one(page, "#cost-distillation").get_text()
    )
    _, chosen = _result(client, {**CLASSIFIER, "hosted_provider": "together"}, "?provider=openai")
    assert one(parse(chosen), "#cost-provider option[selected]")["value"] == "openai"


def test_self_hosted_with_an_own_gpu_trains_for_nothing(client: TestClient) -> None:
    answers = {**CLASSIFIER, "deployment": "self_hosted", "gpu": "datacenter_80gb"}
    _, html = _result(client, answers)
    page = parse(html)
    assert one(page, "#cost-owned option[selected]")["value"] == "yes"
    assert "own GPU: no hourly cost" in one(page, "#cost-distillation").get_text()
    _, rented = _result(client, answers, "?owned=no")
    assert "rented" in one(rented, "#cost-distillation").get_text()


def test_the_page_links_a_print_stylesheet(client: TestClient) -> None:
    _, html = _result(client, CLASSIFIER)
    link = one(html, 'link[href="/static/print.css"]')
    assert link["media"] == "print"
    css = client.get("/static/print.css")
    assert css.status_code == 200 and "@media print" in css.text


def test_the_shared_page_leads_with_the_same_first_step(client: TestClient) -> None:
    """A share link's reader sees the result page's headline and goal, not the bare primary."""
    assessment_id, html = _result(client, CLASSIFIER)
    created = client.post(urls.shares_api(assessment_id), json={"expires_in_days": 30})
    assert created.status_code == 201, created.text
    with TestClient(client.app) as anyone:
        shared = parse(anyone.get(urls.shared(created.json()["token"])).text)
    rec = client.get(f"/api/assessments/{assessment_id}").json()["recommendation"]
    first = WORDING.approaches[rec["plan"][0]].label
    assert one(shared, "h1").get_text().endswith(f"{first} first")
    assert one(parse(html), "h1").get_text().endswith(f"{first} first")
    assert WORDING.approaches[rec["primary"]].label in shared.get_text()
    assert "goal" in [t.get_text() for t in shared.select("ol.plan .tag")]
