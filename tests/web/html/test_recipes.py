"""Recipe pages over HTTP: catalog, recipes, fragments, prefill, 422s, exports, dataset check."""

from __future__ import annotations

import json

import httpx
import pytest
from bs4 import Tag
from fastapi.testclient import TestClient

from app.recipes import available_formats, get_recipe, list_ids, prepare, render
from app.recipes.hardware import load_hardware
from app.web.presenters import urls
from tests.web.conftest import HTMX, csrf_token, hrefs, new_assessment, one, parse, title

GOOD_SFT = b"\n".join(
    json.dumps(
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
    ).encode()
    for i in range(30)
)


def _token(client: TestClient) -> str:
    """The CSRF token of a recipe page's forms."""
    return csrf_token(client, urls.recipe("sft-lora"))


def _field(page: str, key: str) -> Tag:
    """The <input> or <select> of one parameter field."""
    return one(page, f"#param-{key}")


def _check(client: TestClient, recipe: str, body: bytes, token: str | None) -> httpx.Response:
    data = {"csrf_token": token} if token else {}
    return client.post(
        urls.dataset_check(recipe),
        data={**data, "max_length": "2048", "back": "epochs=2"},
        files={"file": ("train.jsonl", body, "application/jsonl")},
    )


def test_catalog_lists_every_recipe_and_playbook(client: TestClient) -> None:
    page = client.get(urls.recipes())
    assert page.status_code == 200
    entries = {
        str(one(item, "a")["href"]): one(item, "p.help").get_text()
        for item in parse(page.text).select("ul.catalog > li")
    }
    assert entries == {urls.recipe(r): get_recipe(r).summary for r in list_ids()}
    assert urls.recipes_api() in hrefs(page.text)


@pytest.mark.parametrize("recipe_id", list_ids())
def test_every_recipe_page_renders(client: TestClient, recipe_id: str) -> None:
    recipe = get_recipe(recipe_id)
    response = client.get(urls.recipe(recipe_id))
    assert response.status_code == 200
    page = parse(response.text)
    assert one(page, "h1").get_text().endswith(recipe.title)
    assert recipe.when in page.get_text()
    assert page.select_one("#export-eval") is not None  # every entry has an eval starter
    assert urls.recipe_export(recipe_id, "eval") in hrefs(page)
    assert urls.recipe_api(recipe_id) in hrefs(page)
    content = one(page, "#content")
    if recipe.is_training:
        params = one(content, "form.params")
        assert params["method"] == "get" and params["action"] == urls.recipe(recipe_id)
        assert params["hx-trigger"] == "change, submit"
        assert "Assumptions behind these numbers" in page.get_text()
        for fmt in available_formats(recipe):
            assert page.select_one(f"#export-{fmt}") is not None
        upload = one(content, "form.upload")
        assert upload["action"] == urls.dataset_check(recipe_id)
        assert upload["enctype"] == "multipart/form-data"
    else:
        # Playbooks have no training parameters; two take figures from the assessment.
        forms = content.select("form")
        if recipe_id in ("rag-index", "long-context-cache"):
            assert [f["action"] for f in forms] == [urls.recipe(recipe_id) + "#figures"]
        else:
            assert forms == []
        assert "Estimate" not in page.get_text()
    # Copy buttons wait for JavaScript; nothing inline under the strict CSP.
    copy_buttons = page.select("button[data-copy]")
    assert copy_buttons and all(button.has_attr("hidden") for button in copy_buttons)
    assert all(script.has_attr("src") for script in page.select("script"))
    assert page.select("[style]") == []


def test_every_parameter_is_explained_with_a_label(client: TestClient) -> None:
    page = parse(client.get(urls.recipe("distill-logit")).text)
    for key in ("base_model", "params_b", "dataset", "examples", "tokens_per_example", "epochs"):
        assert one(page, f'label.field[for="param-{key}"]').get_text()
        assert one(page, f"#help-{key}").get_text()
    for key in ("max_steps", "max_length", "gpu", "price_per_gpu_hour", "teacher_model"):
        assert page.select_one(f'label[for="param-{key}"]') is not None
    gpus = [str(option["value"]) for option in page.select("#param-gpu option")]
    assert gpus[:2] == ["auto", "cpu"]
    assert set(gpus[2:]) == {g.type for g in load_hardware().gpus}
    assert "Teacher and student must share a tokenizer" in page.get_text()
    assert "Model" in [legend.get_text() for legend in page.select("legend")]
    # Teacher fields only where a teacher exists.
    assert (
        parse(client.get(urls.recipe("sft-lora")).text).select_one("#param-teacher_model") is None
    )


def test_full_page_and_fragment(client: TestClient) -> None:
    url = urls.recipe("sft-lora", "epochs=2&gpu=A100-80GB")
    full = client.get(url)
    assert full.text.startswith("<!doctype html>")
    fragment = client.get(url, headers=HTMX)
    assert parse(fragment.text).select_one("html") is None
    assert title(fragment.text) == "Supervised fine-tuning with LoRA · Adaptation Advisor"
    assert "1 × A100-80GB" in one(fragment.text, "#estimate").get_text()
    assert fragment.headers["hx-push-url"] == url  # the query is the configuration
    assert "HX-Request" in fragment.headers["vary"]
    assert _field(fragment.text, "epochs")["value"] == "2"


def test_query_values_change_the_estimate_and_exports(client: TestClient) -> None:
    query = "examples=4000&tokens_per_example=256&epochs=1"
    page = parse(client.get(urls.recipe("sft-lora", query)).text)
    assert "1,024,000" in one(page, "#estimate").get_text()  # trained tokens
    assert urls.recipe_export("sft-lora", "trl", query) in hrefs(page, "a[download]")
    assert "num_train_epochs: 1" in one(page, "#export-trl").get_text()


def test_assessment_prefills_the_form(client: TestClient) -> None:
    created = new_assessment(client, answers={"gpu": "consumer_24gb", "labeled_examples": 2000})
    assessment_id = created["id"]
    response = client.get(urls.recipe_for("sft-lora", assessment_id))
    assert response.status_code == 200
    page = parse(response.text)
    assert _field(response.text, "examples")["value"] == "2000"
    assert one(page, "#param-gpu option[selected]")["value"] == "L4"
    prefilled = one(page, "p.notice")
    assert one(prefilled, "a")["href"] == urls.result(assessment_id)
    assert one(page, 'input[type=hidden][name="assessment"]')["value"] == assessment_id
    # The form's own values win over the assessment's, and downloads carry both.
    query = f"assessment={assessment_id}&examples=500&gpu=L4"
    response = client.get(urls.recipe("sft-lora", query))
    assert _field(response.text, "examples")["value"] == "500"
    kept = [code.get_text() for code in one(response.text, "p.notice").select("code")]
    assert kept == ["gpu"]
    download = client.get(urls.recipe_export("sft-lora", "trl", f"assessment={assessment_id}"))
    recipe, params = prepare("sft-lora", profile={"gpu": "consumer_24gb", "labeled_examples": 2000})
    assert download.text == render(recipe, params, "trl").content
    # The result page's checklist links playbooks with the assessment: a way back, no form.
    playbook = parse(client.get(urls.recipe_for("prompt-eval", assessment_id)).text)
    back = one(playbook, "p.crumbs").select("a")[-1]
    assert back["href"] == urls.result(assessment_id)
    assert back.get_text() == "Back to your recommendation"
    assert "Prefilled" not in playbook.get_text()


def test_unknown_assessment_is_a_404_page(client: TestClient) -> None:
    page = client.get(urls.recipe_for("sft-lora", "nope"))
    assert page.status_code == 404
    assert one(page.text, "h1").get_text() == "Not found"


def test_bad_values_rerender_with_422_next_to_the_field(client: TestClient) -> None:
    page = client.get(urls.recipe("sft-lora", "epochs=-1&examples=many&max_length=4096"))
    assert page.status_code == 422
    text = page.text
    epochs, examples = _field(text, "epochs"), _field(text, "examples")
    assert epochs["value"] == "-1" and epochs["aria-invalid"] == "true"
    assert examples["value"] == "many" and examples["aria-invalid"] == "true"
    assert not _field(text, "max_length").has_attr("aria-invalid")
    assert _field(text, "max_length")["value"] == "4096"  # the valid input is kept too
    # Plain words at the field and in the summary.
    assert one(text, "p.error#error-epochs").get_text() == (
        "Epochs must be a number above 0, at most 100."
    )
    assert one(text, "p.error#error-examples").get_text() == (
        "Training examples must be a whole number from 1 to 100,000,000."
    )
    assert epochs["aria-describedby"] == "help-epochs error-epochs"
    summary = one(text, '.error-summary[role="alert"]')
    assert "#param-examples" in hrefs(summary)
    # The last valid configuration stays visible: the estimate (bad fields at their defaults,
    # the valid max_length kept) and exports whose links leave the bad values out.
    estimate_text = one(text, "#estimate").get_text()
    assert "Trained tokens" in estimate_text and "1,536,000" in estimate_text
    trl = one(text, "#format-trl a[download]")["href"]
    assert "max_length=4096" in trl and "epochs" not in trl and "examples" not in trl
    assert client.get(trl).status_code == 200
    # A model without a size in its name needs params_b: the message sits at that field.
    page = client.get(urls.recipe("sft-lora", "base_model=acme/mystery-model"))
    assert page.status_code == 422
    assert _field(page.text, "params_b")["aria-invalid"] == "true"
    # Unknown keys are named in the summary; fragments keep the 422 for htmx to swap.
    fragment = client.get(urls.recipe("sft-lora", "colour=red"), headers=HTMX)
    assert fragment.status_code == 422
    assert "unknown parameter 'colour'" in one(fragment.text, ".error-summary").get_text()


@pytest.mark.parametrize("recipe_id", list_ids())
def test_exports_download_what_render_returns(client: TestClient, recipe_id: str) -> None:
    recipe = get_recipe(recipe_id)
    for fmt in available_formats(recipe):
        for query, overrides in (("", {}), ("epochs=2&max_length=1024", {"epochs": "2"})):
            if query and not recipe.is_training:
                continue
            if overrides:
                overrides = {"epochs": "2", "max_length": "1024"}
            expected = render(recipe, prepare(recipe_id, overrides)[1], fmt)
            response = client.get(urls.recipe_export(recipe_id, fmt, query))
            assert response.status_code == 200, (recipe_id, fmt, response.text)
            assert response.text == expected.content
            assert response.headers["content-type"].startswith(expected.media_type)
            filename = expected.filename.rsplit("/", 1)[-1]
            assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'


def test_unknown_recipe_format_or_value(client: TestClient) -> None:
    unknown = client.get(urls.recipe("nope"))
    assert unknown.status_code == 404
    assert "unknown recipe" in one(unknown.text, '[role="alert"]').get_text().lower()
    assert client.get(urls.recipe_export("nope", "trl")).status_code == 404
    missing = client.get(urls.recipe_export("sft-lora", "docx"))
    assert missing.status_code == 404
    assert "available formats: trl, axolotl, llamafactory" in missing.text
    assert one(missing.text, "h1").get_text() == "Not found"
    # No such method on a hosted API, and no training export of a playbook.
    assert client.get(urls.recipe_export("sft-qlora", "openai")).status_code == 404
    assert client.get(urls.recipe_export("prompt-eval", "trl")).status_code == 404
    bad = client.get(urls.recipe_export("sft-lora", "trl", "gpu=TPU"))
    assert bad.status_code == 422
    assert bad.text.startswith("gpu: expected one of auto, cpu")


def test_dataset_check_reports_a_good_file(client: TestClient) -> None:
    token = _token(client)
    body = GOOD_SFT + b"\n" + GOOD_SFT.split(b"\n")[0]  # one duplicate line
    response = _check(client, "sft-lora", body, token)
    assert response.status_code == 200
    page = parse(response.text)
    assert one(page, "h1").get_text().endswith("No errors in train.jsonl")
    report = {
        one(row, "dt").get_text(): one(row, "dd").get_text()
        for row in page.select("dl.estimate > div")
    }
    assert report["Duplicates"] == "1"
    assert report["Eval split"].startswith("hold out") and "Tokens (estimate)" in report
    warnings = [item.get_text() for item in page.select("ul.issues > li")]
    assert any(warning.startswith("Line 31: same as line 1") for warning in warnings)
    # Back to the configured recipe.
    assert one(page, "p.crumbs a")["href"] == urls.recipe("sft-lora", "epochs=2")


def test_dataset_check_malformed_file_is_a_422_listing_first_errors(client: TestClient) -> None:
    token = _token(client)
    lines = [b"{not json", b"[1, 2]", b'{"prompt": "p", "chosen": "a", "rejected": "a"}']
    lines += [b"oops"] * 30
    response = _check(client, "dpo-lora", b"\n".join(lines), token)
    assert response.status_code == 422
    summary = one(response.text, '.error-summary[role="alert"]')
    issues = [item.get_text() for item in summary.select("ul.issues > li")]
    assert issues[0].startswith("Line 1: not valid JSON")
    assert issues[1].startswith("Line 2: each line must be a JSON object")
    assert any("chosen and rejected are identical" in issue for issue in issues)
    assert "the first 20" in one(summary, "h2").get_text()
    assert len(issues) == 20
    binary = _check(client, "distill-logit", b"\xff\xfe\x00garbage", token)
    assert binary.status_code == 422 and "not valid UTF-8" in binary.text
    empty = _check(client, "sft-lora", b"", token)
    assert empty.status_code == 422
    assert one(empty.text, "#dataset-file")["aria-invalid"] == "true"


def test_dataset_check_needs_the_csrf_token(client: TestClient) -> None:
    assert _check(client, "sft-lora", GOOD_SFT, None).status_code == 403
    assert _check(client, "sft-lora", GOOD_SFT, "forged").status_code == 403
    # A playbook has no dataset; a reload of the result lands back on the form.
    assert _check(client, "prompt-eval", GOOD_SFT, _token(client)).status_code == 404
    back = client.get(urls.dataset_check("sft-lora"), follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == urls.recipe("sft-lora", fragment="dataset")


def test_pages_say_which_layouts_each_export_reads(client: TestClient) -> None:
    page = parse(client.get(urls.recipe("dpo-lora")).text)
    reads = {
        one(row, "dt").get_text(): one(row, "dd").get_text()
        for row in page.select("#layouts-read > div")
    }
    assert reads["TRL CLI config (YAML)"] == "reads prompt/chosen/rejected lines, as they are"
    assert "--to llamafactory --method dpo" in reads["LLaMA-Factory config (YAML)"]
    assert "preferred_output" in reads["OpenAI fine-tuning job (JSON)"]
    # The report of an uploaded file says, per export, whether it reads the file as it is.
    report = parse(_check(client, "sft-lora", GOOD_SFT, _token(client)).text)
    verdicts = {
        one(row, "dt").get_text(): one(row, "dd").get_text()
        for row in report.select("#tool-layouts > div")
    }
    assert verdicts["TRL CLI config (YAML)"] == "reads it as is"
    assert verdicts["Axolotl config (YAML)"].startswith("convert first: advisor dataset convert")
