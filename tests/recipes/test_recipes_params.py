"""Parameter validation, config.json parameter counts and the profile mapping."""

from __future__ import annotations

import json

import pytest

from app.decision.profile import Profile
from app.recipes import (
    PARAM_KEYS,
    BadValue,
    UnknownKey,
    UnknownRecipe,
    get_recipe,
    params_from_config,
    params_from_profile,
    parse_assignments,
    resolve_params,
)
from app.recipes.params import params_from_name

LLAMA_31_8B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "tie_word_embeddings": False,
}
QWEN25_05B = {
    "model_type": "qwen2",
    "hidden_size": 896,
    "num_hidden_layers": 24,
    "intermediate_size": 4864,
    "vocab_size": 151936,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "tie_word_embeddings": True,
}


def test_keys_are_the_contract() -> None:
    assert PARAM_KEYS == (
        "base_model",
        "params_b",
        "dataset",
        "examples",
        "tokens_per_example",
        "epochs",
        "max_steps",
        "max_length",
        "gpu",
        "price_per_gpu_hour",
        "teacher_model",
        "teacher_params_b",
        "output_dir",
    )


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("examples", "many", ["examples", "integer"]),
        ("examples", "0", ["examples"]),
        ("epochs", "-1", ["epochs"]),
        ("max_length", "8", ["max_length", "16"]),
        ("gpu", "v100", ["gpu", "H100", "cpu", "auto"]),
        ("params_b", "nan", ["params_b"]),
        ("price_per_gpu_hour", "-2", ["price_per_gpu_hour"]),
        ("dataset", "../etc/passwd", ["dataset", ".."]),
        ("tokens_per_example", "1.5", ["tokens_per_example"]),
    ],
)
def test_bad_values_name_the_key_and_allowed(key: str, value: str, words: list[str]) -> None:
    with pytest.raises(BadValue) as info:
        resolve_params(get_recipe("sft-lora"), {key: value})
    assert info.value.key == key
    for word in words:
        assert word in info.value.message


def test_unknown_key_and_recipe() -> None:
    with pytest.raises(UnknownKey) as info:
        resolve_params(get_recipe("sft-lora"), {"lr": "1"})
    assert "'lr'" in info.value.message and "base_model" in info.value.message
    with pytest.raises(UnknownKey):
        parse_assignments(["nope=1"])
    with pytest.raises(BadValue):
        parse_assignments(["epochs"])
    with pytest.raises(UnknownRecipe, match="sft-lora"):
        get_recipe("sft-lorax")


def test_values_are_coerced_and_optional_ones_cleared() -> None:
    p = resolve_params(
        get_recipe("sft-lora"),
        parse_assignments(
            ["examples=250", "epochs=2", "gpu=h100", "max_steps=none", "price_per_gpu_hour=3.5"]
        ),
    )
    assert (p.examples, p.epochs, p.gpu, p.max_steps, p.price_per_gpu_hour) == (
        250,
        2.0,
        "H100",
        None,
        3.5,
    )


def test_config_json_parameter_counts() -> None:
    assert params_from_config(LLAMA_31_8B) == pytest.approx(8.03, abs=0.01)
    assert params_from_config(QWEN25_05B) == pytest.approx(0.494, abs=0.005)
    with pytest.raises(BadValue, match="params_b"):
        params_from_config({"hidden_size": 8})


def test_params_b_from_a_local_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config.json").write_text(json.dumps(QWEN25_05B))
    local = {"base_model": str(tmp_path)}
    p = resolve_params(get_recipe("sft-lora"), local, local_files=True)
    assert p.params_source == "config.json" and p.params_b == pytest.approx(0.494, abs=0.005)
    given = resolve_params(get_recipe("sft-lora"), {**local, "params_b": "0.5"}, local_files=True)
    assert given.params_b == 0.5 and given.params_source == "given"
    # Web requests do not read the server's files: the path is just a name without a size.
    with pytest.raises(BadValue, match="no size in its name") as info:
        resolve_params(get_recipe("sft-lora"), local)
    assert "config.json" not in info.value.message


def test_params_b_from_the_name_or_an_error() -> None:
    assert params_from_name("Qwen/Qwen2.5-0.5B-Instruct") == 0.5
    assert params_from_name("meta-llama/Llama-3.1-70B") == 70
    assert params_from_name("org/some-model") is None
    with pytest.raises(BadValue, match="params_b"):
        resolve_params(get_recipe("sft-lora"), {"base_model": "org/some-model"})


def test_distillation_needs_a_teacher() -> None:
    with pytest.raises(BadValue) as info:
        resolve_params(get_recipe("distill-logit"), {"teacher_model": "none"})
    assert info.value.key == "teacher_model"


def test_profile_mapping_dict_and_model() -> None:
    data = {
        "labeled_examples": 300,
        "gpu": "consumer_24gb",
        "task_kind": "code",
        "deployment": "on_device",
    }
    mapped = params_from_profile(data)
    assert mapped == params_from_profile(Profile(**data))
    assert mapped["examples"] == 300 and mapped["gpu"] == "L4"
    assert mapped["tokens_per_example"] == 1024 and mapped["params_b"] == 1.5
    p = resolve_params(get_recipe("sft-lora"), {"epochs": "1"}, base=mapped)
    assert p.examples == 300 and p.epochs == 1 and p.base_model.startswith("Qwen/")
    assert p.params_b == 1.5
    assert params_from_profile({}) == {}


def test_a_model_chosen_over_the_profiles_keeps_its_own_size() -> None:
    """The profile's 1.5B size goes with its model; another model is sized from its own name."""
    mapped = params_from_profile({"deployment": "on_device"})
    own = {"base_model": "meta-llama/Llama-3.1-70B-Instruct"}
    p = resolve_params(get_recipe("sft-lora"), own, base=mapped)
    assert p.params_b == 70 and p.params_source == "name"
    sized = resolve_params(get_recipe("sft-lora"), {**own, "params_b": "8"}, base=mapped)
    assert sized.params_b == 8 and sized.params_source == "given"


def test_empty_values_keep_defaults_and_prepare_layers_profile() -> None:
    from app.recipes import prepare

    p = resolve_params(get_recipe("sft-lora"), {"examples": "", "max_steps": " "})
    assert p.examples == 1000 and p.max_steps is None
    recipe, params = prepare("dpo-lora", {"epochs": "2"}, profile={"labeled_examples": 40})
    assert recipe.id == "dpo-lora" and params.examples == 40 and params.epochs == 2
