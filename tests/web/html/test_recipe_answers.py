"""The recipe page follows the answers: hosted provider first, owned GPU, playbook figures."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.recipes.prices import load_prices
from app.web.presenters import urls
from app.web.presenters.recipe_answers import plain_error
from tests.web.conftest import csrf_token, new_assessment, one, parse

HOSTED = {
    "gap": "behavior",
    "deployment": "hosted_api",
    "finetuning_available": True,
    "labeled_examples": 2000,
    "prompt_tokens": 800,
    "task_kind": "extraction_classification",
}


def _page(client: TestClient, recipe_id: str, answers: dict[str, object], query: str = "") -> str:
    assessment_id = new_assessment(client, answers=answers)["id"]
    url = urls.recipe_for(recipe_id, assessment_id) + (f"&{query}" if query else "")
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize("provider", ["openai", "together", "fireworks"])
def test_hosted_users_get_the_providers_job_first_with_its_token_price(
    client: TestClient, provider: str
) -> None:
    query = "" if provider == "openai" else f"provider={provider}"
    page = parse(_page(client, "sft-lora", HOSTED, query))
    first = page.select("#exports ~ details.export")[0]
    assert first["id"] == f"format-{provider}"
    assert first.has_attr("open")
    price = load_prices().training_row(provider)
    assert price is not None
    # 2,000 examples x (800 x 0.25 + 20) tokens x 3 epochs, priced per million.
    tokens = 2000 * 220 * 3
    hosted = one(page, "#hosted-cost").get_text()
    assert f"{tokens:,}" in hosted
    assert f"${tokens * price.per_million_tokens / 1e6:,.2f}" in hosted
    assert one(page, "#param-provider option[selected]")["value"] == provider


@pytest.mark.parametrize("answered", ["together", "fireworks"])
def test_the_provider_answered_opens_the_recipe_on_its_job(
    client: TestClient, answered: str
) -> None:
    page = parse(_page(client, "sft-lora", {**HOSTED, "hosted_provider": answered}))
    first = page.select("#exports ~ details.export")[0]
    assert first["id"] == f"format-{answered}"
    assert first.has_attr("open")
    assert one(page, "#param-provider option[selected]")["value"] == answered
    price = load_prices().training_row(answered)
    assert price is not None
    tokens = 2000 * 220 * 3
    cost = f"${tokens * price.per_million_tokens / 1e6:,.2f}"
    assert cost in one(page, "#hosted-cost").get_text()


def test_the_query_overrides_the_provider_answered(client: TestClient) -> None:
    answers = {**HOSTED, "hosted_provider": "together"}
    page = parse(_page(client, "sft-lora", answers, "provider=fireworks"))
    assert page.select("#exports ~ details.export")[0]["id"] == "format-fireworks"
    # "None: we run it ourselves" in the select: TRL first, no token price.
    page = parse(_page(client, "sft-lora", answers, "provider="))
    assert page.select("#exports ~ details.export")[0]["id"] == "format-trl"
    assert page.select_one("#hosted-cost") is None


def test_another_provider_falls_back_to_openai_and_says_so(client: TestClient) -> None:
    answers = {**HOSTED, "hosted_provider": "other"}
    page = parse(_page(client, "sft-lora", answers))
    assert page.select("#exports ~ details.export")[0]["id"] == "format-openai"
    assert "another provider" in one(page, "#note-provider").get_text()
    # Once a provider is chosen on the page, nothing stands in for it.
    page = parse(_page(client, "sft-lora", answers, "provider=openai"))
    assert page.select_one("#note-provider") is None
    page = parse(_page(client, "sft-lora", {**HOSTED, "hosted_provider": "together"}))
    assert page.select_one("#note-provider") is None


def test_self_hosted_users_get_trl_first_and_an_owned_gpu_is_free(client: TestClient) -> None:
    answers = {**HOSTED, "deployment": "self_hosted", "gpu": "consumer_24gb"}
    page = parse(_page(client, "sft-lora", answers))
    assert page.select("#exports ~ details.export")[0]["id"] == "format-trl"
    assert page.select_one("#hosted-cost") is None
    assert one(page, "#param-owned option[selected]")["value"] == "yes"
    assert one(page, "#param-price_per_gpu_hour")["value"] == "0"
    assert "Cost$0.00" in one(page, "#estimate").get_text().replace("\n", "")
    rented = parse(_page(client, "sft-lora", answers, "owned=no"))
    assert "Cost$0.00" not in one(rented, "#estimate").get_text().replace("\n", "")


def test_the_assessment_prefills_examples_and_lengths(client: TestClient) -> None:
    page = parse(_page(client, "sft-lora", HOSTED))
    assert one(page, "#param-examples")["value"] == "2000"
    assert one(page, "#param-tokens_per_example")["value"] == "220"
    assert one(page, "#param-max_length")["value"] == "1024"


def test_rag_playbook_sizes_the_index_from_the_material(client: TestClient) -> None:
    answers = {"gap": "knowledge", "corpus_tokens": 20_000_000}
    page = parse(_page(client, "rag-index", answers))
    figures = one(page, "#rag-figures").get_text()
    chunks = -(-(20_000_000 - 64) // 448)
    assert f"{chunks:,}" in figures
    embedding = load_prices().embedding[0]
    assert f"${chunks * 512 * embedding.per_million_tokens / 1e6:,.2f}" in figures
    assert f"{round(chunks * embedding.dimensions * 4 / 1e6, 1)} MB of vectors" in figures
    assert one(page, "#figure-corpus_tokens")["value"] == "20000000"


def test_long_context_playbook_shows_tokens_and_the_cache_saving(client: TestClient) -> None:
    answers = {"gap": "knowledge", "corpus_tokens": 100_000, "monthly_requests": 30_000}
    page = parse(_page(client, "long-context-cache", answers, "prompt_tokens=1000"))
    figures = one(page, "#long-figures").get_text()
    assert "101,000" in figures
    row = load_prices().serving_row("gpt-4.1")
    saving = 30_000 * 100_000 * (row.input - row.cached_input) / 1e6
    assert f"saves ${saving:,.2f}" in figures
    bad = parse(_page(client, "long-context-cache", answers, "requests=often"))
    assert "Requests per month must be a whole number" in one(bad, "#figure-error-requests").text
    # The figures stay, at the assessment's volume, while the bad value is marked.
    assert "at 30,000 requests" in one(bad, "#long-figures").get_text()


@pytest.mark.parametrize(
    ("label", "message", "plain"),
    [
        (
            "Epochs",
            "epochs: expected a number in (0.0, 100.0], got '-1'",
            "Epochs must be a number above 0, at most 100.",
        ),
        (
            "Max length (tokens)",
            "max_length: expected an integer from 16 to 1048576, got 'x'",
            "Max length (tokens) must be a whole number from 16 to 1,048,576.",
        ),
        (
            "Price per GPU-hour (USD)",
            "price_per_gpu_hour: expected a number in [0.0, 10000.0], got '-2'",
            "Price per GPU-hour (USD) must be a number from 0, at most 10,000.",
        ),
        ("Base model", "params_b: cannot tell the size", "params_b: cannot tell the size"),
    ],
)
def test_plain_errors(label: str, message: str, plain: str) -> None:
    assert plain_error(label, message) == plain


def _upload(client: TestClient, body: bytes, name: str = "train.jsonl") -> str:
    token = csrf_token(client, urls.recipe("sft-lora"))
    response = client.post(
        urls.dataset_check("sft-lora"),
        data={"csrf_token": token, "max_length": "2048", "back": "epochs=2&examples=10"},
        files={"file": (name, body, "application/octet-stream")},
    )
    return response.text


def test_the_checked_files_figures_feed_the_estimate_in_one_click(client: TestClient) -> None:
    line = b'{"prompt": "' + b"word " * 40 + b'", "completion": "' + b"x" * 40 + b'"}\n'
    page = parse(_upload(client, line * 12))
    link = one(page, "a#use-figures")["href"]
    assert link == urls.recipe(
        "sft-lora", "epochs=2&examples=12&tokens_per_example=60", fragment="estimate"
    )
    configured = parse(client.get(link).text)
    assert one(configured, "#param-examples")["value"] == "12"
    assert "Trained tokens1,440" in one(configured, "#estimate").get_text()  # 12 x 60 x 2 epochs


def test_the_check_page_names_empty_csv_and_bom_files(client: TestClient) -> None:
    empty = parse(_upload(client, b""))
    assert one(empty, "#dataset-file-error").get_text().startswith("train.jsonl is empty")
    csv = parse(_upload(client, b"prompt,response\nhi,there\n", "train.csv"))
    assert "looks like CSV" in one(csv, ".error-summary").get_text()
    bom = parse(_upload(client, b"\xef\xbb\xbf" + b'{"prompt": "a", "completion": "b"}\n'))
    assert "byte-order mark" in " ".join(li.get_text() for li in bom.select("ul.issues li"))
