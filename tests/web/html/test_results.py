"""The result page and the assessment's downloads over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from app.decision.wording import WORDING
from app.web.presenters import urls
from tests.web.conftest import hrefs, new_assessment, one, parse, post_form, start_assessment

MANY_STEPS = {
    "gap": "both",
    "knowledge_kind": "private",
    "corpus_tokens": 10_000_000,
    "labeled_examples": 1500,
    "eval_set": "none",
    "prompting": "thorough",
    "best_prompt_result": "inconsistent",
    "finetuning_available": True,
}


def test_exports(client: TestClient) -> None:
    assessment_id, step, token = start_assessment(client)
    post_form(client, step, token, value="knowledge")
    result = parse(client.get(urls.result(assessment_id)).text)
    downloads = hrefs(result, "a[download]")
    assert downloads == [urls.export(assessment_id, "json"), urls.export(assessment_id, "md")]
    as_json = client.get(downloads[0])
    assert as_json.json()["answers"] == {"gap": "knowledge"}
    assert "attachment" in as_json.headers["content-disposition"]
    as_md = client.get(downloads[1])
    assert as_md.text.startswith("# Adaptation plan: ")
    assert "## The plan, in order" in as_md.text
    assert client.get(urls.export(assessment_id, "pdf")).status_code == 404


def test_result_links_each_reason_to_its_answer(client: TestClient) -> None:
    assessment_id, step, token = start_assessment(client)
    post_form(client, step, token, value="knowledge")
    result = parse(client.get(urls.result(assessment_id)).text)
    changes = [a["href"] for a in result.select("a") if a.get_text() == "Change this answer"]
    assert urls.change(assessment_id, "gap") in changes
    assert len(result.select("rect.bar")) == 6
    shared = one(result, "a.url")
    assert shared["href"] == shared.get_text() == urls.result(assessment_id)
    assert urls.review(assessment_id) in hrefs(result)


def test_the_plan_uses_the_wording_file(client: TestClient) -> None:
    assessment_id = new_assessment(client, answers=MANY_STEPS)["id"]
    recommendation = client.get(f"/api/assessments/{assessment_id}").json()["recommendation"]
    result = parse(client.get(urls.result(assessment_id)).text)
    # The headline names the plan's first rung: the page never says one thing and lists another.
    first = WORDING.approaches[recommendation["plan"][0]]
    assert one(result, "h1").get_text().endswith(f"{first.label} first")
    assert "start here" in one(result, "ol.plan > li.first-action").get_text()
    plan = [item.get_text() for item in result.select("ol.plan > li")]
    for approach, item in zip(recommendation["plan"], plan, strict=True):
        words = WORDING.approaches[approach]
        assert item.strip().startswith(words.label) and words.summary in item
    checklist = [item.get_text() for item in result.select("ul.checklist > li")]
    for prerequisite, item in zip(recommendation["prerequisites"], checklist, strict=True):
        assert item.strip().startswith(WORDING.prerequisites[prerequisite].label)


def test_every_plan_step_and_prerequisite_links_to_a_recipe_page(client: TestClient) -> None:
    assessment_id = new_assessment(client, answers=MANY_STEPS)["id"]
    result = client.get(urls.result(assessment_id)).text
    recipe_links = {
        urlsplit(href) for href in hrefs(result) if href.startswith(urls.recipes() + "/")
    }
    assert all(parse_qs(link.query) == {"assessment": [assessment_id]} for link in recipe_links)
    pages = {link.path for link in recipe_links}
    assert urls.recipe("build-evals") in pages, "the build_evals prerequisite links its playbook"
    assert len(pages) >= 3
    for page in pages:
        assert client.get(page).status_code == 200, page
