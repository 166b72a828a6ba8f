"""Each hosted export is a request its provider's own SDK accepts and sends unchanged, offline.

openai 3.57, together 3.1.1 and fireworks-ai 1.2.30 (the test extra) build the request; an
in-process transport answers instead of the provider, so nothing leaves the machine.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.recipes import available_formats, get_recipe, list_ids, render, resolve_params
from tests.recipes.sdk_types import model_problems, problems, to_python_names
from tests.support import require_module


def _cases(fmt: str) -> list[str]:
    return [rid for rid in list_ids() if fmt in available_formats(get_recipe(rid))]


def _body(recipe_id: str, fmt: str, **overrides: str) -> dict[str, Any]:
    recipe = get_recipe(recipe_id)
    return json.loads(render(recipe, resolve_params(recipe, overrides), fmt).content)


def _capture(httpx_module: Any, reply: dict[str, Any]) -> tuple[Any, list[Any]]:
    """An HTTP client whose transport records each request and answers `reply`."""
    sent: list[Any] = []

    def handle(request: Any) -> Any:
        sent.append(request)
        return httpx_module.Response(200, json=reply)

    return httpx_module.Client(transport=httpx_module.MockTransport(handle)), sent


@pytest.mark.parametrize("recipe_id", _cases("openai"))
def test_openai_sdk_sends_the_export_unchanged(recipe_id: str) -> None:
    openai = require_module("openai")
    from openai.types.fine_tuning import job_create_params

    body = _body(recipe_id, "openai")
    assert problems(body, job_create_params.JobCreateParams) == []
    http, sent = _capture(require_module("httpx2"), {"id": "ftjob-1", "object": "fine_tuning.job"})
    client = openai.OpenAI(api_key="sk-test", base_url="http://sdk.test/v1", http_client=http)
    client.fine_tuning.jobs.create(**body)
    assert sent[0].url.path == "/v1/fine_tuning/jobs"
    assert json.loads(sent[0].content) == body


def test_openai_dpo_names_its_beta() -> None:
    body = _body("dpo-lora", "openai")
    assert body["method"]["type"] == "dpo"
    assert body["method"]["dpo"]["hyperparameters"]["beta"] == 0.1


@pytest.mark.parametrize("recipe_id", _cases("fireworks"))
def test_fireworks_sdk_sends_the_export_unchanged(recipe_id: str) -> None:
    fireworks = require_module("fireworks")
    from fireworks.types import dpo_job_create_params, supervised_fine_tuning_job_create_params

    dpo = get_recipe(recipe_id).method == "dpo"
    params_type = (
        dpo_job_create_params.DpoJobCreateParams
        if dpo
        else supervised_fine_tuning_job_create_params.SupervisedFineTuningJobCreateParams
    )
    body = _body(recipe_id, "fireworks")
    assert problems(body, params_type) == []
    http, sent = _capture(require_module("httpx"), {"name": "accounts/a/jobs/1"})
    client = fireworks.Fireworks(api_key="fw-test", base_url="http://sdk.test", http_client=http)
    resource = client.dpo_jobs if dpo else client.supervised_fine_tuning_jobs
    resource.create(account_id="ACCOUNT_ID", **to_python_names(body, params_type))
    kind = "dpoJobs" if dpo else "supervisedFineTuningJobs"
    assert sent[0].url.path == f"/v1/accounts/ACCOUNT_ID/{kind}"
    assert json.loads(sent[0].content) == body


def test_fireworks_dpo_keeps_model_settings_in_its_training_config() -> None:
    from fireworks.types import dpo_job_create_params

    body = _body("dpo-lora", "fireworks")
    assert body["lossConfig"] == {"method": "DPO", "dpo": {"beta": 0.1}}
    assert body["trainingConfig"]["loraRank"] == 16
    # The body the issue found rejected: model settings at the top level of a DPO job.
    flat = {k: v for k, v in body.items() if k not in ("trainingConfig", "lossConfig")}
    flat |= body["trainingConfig"]
    assert "body.baseModel: unknown to DpoJobCreateParams" in problems(
        flat, dpo_job_create_params.DpoJobCreateParams
    )


def _limits(together: Any) -> Any:
    """Model limits as Together's API would answer them for a model with both kinds of training."""
    from together.types.finetune_model_limits import FinetuneModelLimits

    lora = {"default_rank": 8, "max_batch_size": 96, "max_batch_size_dpo": 48}
    return FinetuneModelLimits.model_validate(
        {
            "default_gradient_accumulation_steps": 1,
            "lora_training": lora
            | {"max_rank": 64, "min_batch_size": 8, "target_modules": ["all-linear"]},
            "full_training": {"max_batch_size": 96, "max_batch_size_dpo": 48, "min_batch_size": 8},
            "max_learning_rate": 1.0,
            "max_num_checkpoints": 10,
            "max_num_epochs": 20,
            "max_num_evals": 10,
            "max_seq_length_dpo": 8192,
            "max_seq_length_sft": 8192,
            "merge_output_lora": False,
            "min_learning_rate": 0.0,
            "min_max_seq_length": 512,
            "model_name": "m",
            "supports_full_training": True,
            "supports_reasoning": False,
            "supports_tools": False,
            "supports_vision": False,
        }
    )


def _together_kwargs(recipe_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The recipe as `client.fine_tuning.create` keyword arguments, written from the recipe."""
    recipe = get_recipe(recipe_id)
    h = recipe.hyper
    out: dict[str, Any] = {
        "training_file": body["training_file"],
        "model": recipe.defaults["base_model"],
        "suffix": recipe.id,
        "n_epochs": round(recipe.defaults["epochs"]),
        "max_seq_length": recipe.defaults["max_length"],
        "learning_rate": h["learning_rate"],
        "warmup_ratio": h["warmup_ratio"],
        "lr_scheduler_type": h["lr_scheduler_type"],
        "random_seed": 42,
        "lora": recipe.trains_adapter,
        "training_method": recipe.method,
    }
    if recipe.trains_adapter:
        out |= {"lora_r": h["lora_r"], "lora_alpha": h["lora_alpha"]}
        out["lora_dropout"] = h["lora_dropout"]
    if recipe.method == "dpo":
        out["dpo_beta"] = h["dpo_beta"]
    else:
        out["train_on_inputs"] = False
    return out


def _subset_problems(part: Any, whole: Any, path: str = "body") -> list[str]:
    if isinstance(part, dict) and isinstance(whole, dict):
        return [
            p
            for k, v in part.items()
            for p in (
                _subset_problems(v, whole[k], f"{path}.{k}")
                if k in whole
                else [f"{path}.{k}: the SDK does not send it"]
            )
        ]
    return [] if part == whole else [f"{path}: {part!r} where the SDK sends {whole!r}"]


@pytest.mark.parametrize("recipe_id", _cases("together"))
def test_together_export_is_the_body_its_sdk_builds(recipe_id: str) -> None:
    together = require_module("together")
    from together.lib.resources.fine_tuning import create_finetune_request
    from together.lib.types.fine_tuning import FinetuneRequest

    body = _body(recipe_id, "together")
    assert model_problems(body, FinetuneRequest) == []
    request, *_ = create_finetune_request(
        model_limits=_limits(together), **_together_kwargs(recipe_id, body)
    )
    assert _subset_problems(body, request.model_dump(exclude_none=True)) == []
    if get_recipe(recipe_id).trains_adapter:
        assert body["training_type"]["type"] == "Lora" and body["training_type"]["lora_r"] == 16
    else:
        assert body["training_type"] == {"type": "Full"}


def test_together_rejects_the_old_flat_lora_keys() -> None:
    from together.lib.types.fine_tuning import FinetuneRequest

    body = _body("sft-lora", "together") | {"lora": True, "lora_r": 16}
    assert sorted(model_problems(body, FinetuneRequest)) == [
        "body.lora: unknown to FinetuneRequest",
        "body.lora_r: unknown to FinetuneRequest",
    ]


def test_the_sdk_checks_can_fail() -> None:
    from openai.types.fine_tuning import job_create_params

    body = _body("sft-lora", "openai")
    body["method"]["supervised"]["hyperparameters"]["n_epochs"] = "three"
    body["epochs"] = 3
    found = problems(body, job_create_params.JobCreateParams)
    assert "body.epochs: unknown to JobCreateParams" in found
    assert any(p.startswith("body.method.supervised.hyperparameters.n_epochs") for p in found)
