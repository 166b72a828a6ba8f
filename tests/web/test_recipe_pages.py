"""Recipe pages over HTTP: catalog, recipes, fragments, prefill, 422s, exports, dataset check."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from app.recipes import available_formats, get_recipe, list_ids, prepare, render
from app.recipes.hardware import load_hardware

HTMX = {"HX-Request": "true"}
GOOD_SFT = b"\n".join(
    json.dumps(
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
    ).encode()
    for i in range(30)
)


def _esc(text: str) -> str:
    """Text as the templates escape it."""
    return str(escape(text))


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Page tests run on SQLite; the API tests cover PostgreSQL."""
    return sqlite_url


def _token(client: TestClient, path: str = "/recipes/sft-lora") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _field(page: str, key: str) -> str:
    """The <input> or <select> tag of one parameter field."""
    match = re.search(rf'<(?:input|select)[^>]*id="param-{key}"[^>]*>', page)
    assert match, f"no field {key}"
    return match.group(0)


def _check(client: TestClient, recipe: str, body: bytes, token: str | None) -> object:
    data = {"csrf_token": token} if token else {}
    return client.post(
        f"/recipes/{recipe}/dataset-check",
        data={**data, "max_length": "2048", "back": "epochs=2"},
        files={"file": ("train.jsonl", body, "application/jsonl")},
    )


def test_catalog_lists_every_recipe_and_playbook(client: TestClient) -> None:
    page = client.get("/recipes")
    assert page.status_code == 200
    for recipe_id in list_ids():
        recipe = get_recipe(recipe_id)
        assert f'href="/recipes/{recipe_id}"' in page.text
        assert _esc(recipe.summary) in page.text


@pytest.mark.parametrize("recipe_id", list_ids())
def test_every_recipe_page_renders(client: TestClient, recipe_id: str) -> None:
    recipe = get_recipe(recipe_id)
    page = client.get(f"/recipes/{recipe_id}")
    assert page.status_code == 200
    text = page.text
    assert _esc(recipe.title) in text
    assert _esc(recipe.when) in text
    assert 'id="export-eval"' in text  # every entry has an eval starter
    assert f'href="/recipes/{recipe_id}/export/eval"' in text
    if recipe.is_training:
        assert f'<form method="get" action="/recipes/{recipe_id}"' in text
        assert 'hx-trigger="change, submit"' in text
        assert "Assumptions behind these numbers" in text
        for fmt in available_formats(recipe):
            assert f'id="export-{fmt}"' in text
        assert 'action="/recipes/' + recipe_id + '/dataset-check"' in text
        assert 'enctype="multipart/form-data"' in text
    else:
        assert "<form" not in text.split('id="content"')[1]  # playbooks have no parameters
        assert "Estimate" not in text
    # Copy buttons wait for JavaScript; nothing inline under the strict CSP.
    assert re.search(r"<button[^>]*data-copy[^>]*hidden", text)
    assert "<script>" not in text and " style=" not in text


def test_every_parameter_is_explained_with_a_label(client: TestClient) -> None:
    text = client.get("/recipes/distill-logit").text
    for key in ("base_model", "params_b", "dataset", "examples", "tokens_per_example", "epochs"):
        assert f'<label class="field" for="param-{key}">' in text
        assert f'id="help-{key}"' in text
    for key in ("max_steps", "max_length", "gpu", "price_per_gpu_hour", "teacher_model"):
        assert f'for="param-{key}"' in text
    gpus = re.findall(r'<option value="([^"]+)"', text)
    assert gpus[:2] == ["auto", "cpu"]
    assert set(gpus[2:]) == {g.type for g in load_hardware().gpus}
    assert "Teacher and student must share a tokenizer" in text
    assert "<legend>Model</legend>" in text
    # Teacher fields only where a teacher exists.
    assert 'id="param-teacher_model"' not in client.get("/recipes/sft-lora").text


def test_full_page_and_fragment(client: TestClient) -> None:
    url = "/recipes/sft-lora?epochs=2&gpu=A100-80GB"
    full = client.get(url)
    assert full.text.startswith("<!doctype html>")
    fragment = client.get(url, headers=HTMX)
    assert "<html" not in fragment.text
    assert "<title>Supervised fine-tuning with LoRA · Adaptation Advisor</title>" in fragment.text
    assert 'id="estimate"' in fragment.text
    assert fragment.headers["hx-push-url"] == url  # the query is the configuration
    assert "HX-Request" in fragment.headers["vary"]
    assert "1 × A100-80GB" in fragment.text
    assert _field(fragment.text, "epochs").count('value="2"') == 1


def test_query_values_change_the_estimate_and_exports(client: TestClient) -> None:
    text = client.get("/recipes/sft-lora?examples=4000&tokens_per_example=256&epochs=1").text
    assert "1,024,000" in text  # trained tokens
    assert 'href="/recipes/sft-lora/export/trl?examples=4000&amp;tokens_per_example=256' in text
    assert "num_train_epochs: 1" in text


def test_assessment_prefills_the_form(client: TestClient) -> None:
    created = client.post(
        "/api/assessments", json={"answers": {"gpu": "consumer_24gb", "labeled_examples": 2000}}
    )
    assessment_id = created.json()["id"]
    page = client.get(f"/recipes/sft-lora?assessment={assessment_id}")
    assert page.status_code == 200
    assert 'value="2000"' in _field(page.text, "examples")
    assert '<option value="L4" selected>' in page.text
    assert f'href="/assessments/{assessment_id}/result">your assessment</a>' in page.text
    assert f'<input type="hidden" name="assessment" value="{assessment_id}">' in page.text
    # The form's own values win over the assessment's, and downloads carry both.
    page = client.get(f"/recipes/sft-lora?assessment={assessment_id}&examples=500&gpu=L4")
    assert 'value="500"' in _field(page.text, "examples")
    assert "<code>gpu</code> L4." in page.text and "<code>examples</code>" not in page.text
    download = client.get(f"/recipes/sft-lora/export/trl?assessment={assessment_id}")
    recipe, params = prepare("sft-lora", profile={"gpu": "consumer_24gb", "labeled_examples": 2000})
    assert download.text == render(recipe, params, "trl").content
    # The result page's checklist links playbooks with the assessment: a way back, no form.
    playbook = client.get(f"/recipes/prompt-eval?assessment={assessment_id}").text
    assert f'href="/assessments/{assessment_id}/result">Back to your recommendation' in playbook
    assert "Prefilled" not in playbook


def test_unknown_assessment_is_a_404_page(client: TestClient) -> None:
    page = client.get("/recipes/sft-lora?assessment=nope")
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text


def test_bad_values_rerender_with_422_next_to_the_field(client: TestClient) -> None:
    page = client.get("/recipes/sft-lora?epochs=-1&examples=many&max_length=4096")
    assert page.status_code == 422
    text = page.text
    epochs, examples = _field(text, "epochs"), _field(text, "examples")
    assert 'value="-1"' in epochs and 'aria-invalid="true"' in epochs
    assert 'value="many"' in examples and 'aria-invalid="true"' in examples
    assert "aria-invalid" not in _field(text, "max_length")
    assert 'value="4096"' in _field(text, "max_length")  # the valid input is kept too
    assert re.search(r'<p class="error" id="error-epochs">expected a number', text)
    assert 'aria-describedby="help-epochs error-epochs"' in epochs
    assert 'role="alert"' in text and 'href="#param-examples"' in text
    assert "Fix the marked values to see the estimate." in text
    # A model without a size in its name needs params_b: the message sits at that field.
    page = client.get("/recipes/sft-lora?base_model=acme/mystery-model")
    assert page.status_code == 422
    assert 'aria-invalid="true"' in _field(page.text, "params_b")
    # Unknown keys are named in the summary; fragments keep the 422 for htmx to swap.
    fragment = client.get("/recipes/sft-lora?colour=red", headers=HTMX)
    assert fragment.status_code == 422 and "unknown parameter &#39;colour&#39;" in fragment.text


@pytest.mark.parametrize("recipe_id", list_ids())
def test_exports_download_what_render_returns(client: TestClient, recipe_id: str) -> None:
    recipe = get_recipe(recipe_id)
    for fmt in available_formats(recipe):
        for query, overrides in (("", {}), ("?epochs=2&max_length=1024", {"epochs": "2"})):
            if query and not recipe.is_training:
                continue
            if overrides:
                overrides = {"epochs": "2", "max_length": "1024"}
            expected = render(recipe, prepare(recipe_id, overrides)[1], fmt)
            response = client.get(f"/recipes/{recipe_id}/export/{fmt}{query}")
            assert response.status_code == 200, (recipe_id, fmt, response.text)
            assert response.text == expected.content
            assert response.headers["content-type"].startswith(expected.media_type)
            filename = expected.filename.rsplit("/", 1)[-1]
            assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'


def test_unknown_recipe_format_or_value(client: TestClient) -> None:
    assert client.get("/recipes/nope").status_code == 404
    assert "unknown recipe" in client.get("/recipes/nope").text.lower()
    assert client.get("/recipes/nope/export/trl").status_code == 404
    missing = client.get("/recipes/sft-lora/export/docx")
    assert missing.status_code == 404
    assert "available formats: trl, axolotl, llamafactory" in missing.text
    assert "<h1>Not found</h1>" in missing.text
    assert client.get("/recipes/sft-qlora/export/openai").status_code == 404  # no such method
    assert client.get("/recipes/prompt-eval/export/trl").status_code == 404
    bad = client.get("/recipes/sft-lora/export/trl?gpu=TPU")
    assert bad.status_code == 422
    assert bad.text.startswith("gpu: expected one of auto, cpu")


def test_dataset_check_reports_a_good_file(client: TestClient) -> None:
    token = _token(client)
    body = GOOD_SFT + b"\n" + GOOD_SFT.split(b"\n")[0]  # one duplicate line
    response = _check(client, "sft-lora", body, token)
    assert response.status_code == 200
    text = response.text
    assert "No errors in train.jsonl" in text
    assert "<dt>Duplicates</dt><dd>1</dd>" in text
    assert "Line 31: same as line 1" in text
    assert "hold out" in text and "Tokens (estimate)" in text
    assert 'href="/recipes/sft-lora?epochs=2"' in text  # back to the configured recipe


def test_dataset_check_malformed_file_is_a_422_listing_first_errors(client: TestClient) -> None:
    token = _token(client)
    lines = [b"{not json", b"[1, 2]", b'{"prompt": "p", "chosen": "a", "rejected": "a"}']
    lines += [b"oops"] * 30
    response = _check(client, "dpo-lora", b"\n".join(lines), token)
    assert response.status_code == 422
    text = response.text
    assert "Line 1: not valid JSON" in text
    assert "Line 2: each line must be a JSON object" in text
    assert "chosen and rejected are identical" in text
    assert "the first 20" in text
    assert text.count("<li>Line ") <= 20
    binary = _check(client, "distill-logit", b"\xff\xfe\x00garbage", token)
    assert binary.status_code == 422 and "not valid UTF-8" in binary.text
    empty = _check(client, "sft-lora", b"", token)
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text


def test_dataset_check_needs_the_csrf_token(client: TestClient) -> None:
    assert _check(client, "sft-lora", GOOD_SFT, None).status_code == 403
    assert _check(client, "sft-lora", GOOD_SFT, "forged").status_code == 403
    # A playbook has no dataset; a reload of the result lands back on the form.
    assert _check(client, "prompt-eval", GOOD_SFT, _token(client)).status_code == 404
    back = client.get("/recipes/sft-lora/dataset-check", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/recipes/sft-lora#dataset"
