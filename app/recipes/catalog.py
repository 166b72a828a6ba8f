"""The recipe catalog: training recipes and playbooks loaded from versioned TOML beside the code."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.recipes.errors import UnknownRecipe

Kind = Literal["training", "playbook"]
Method = Literal["sft", "dpo", "distillation", "grpo", "classification"]
Adapter = Literal["lora", "qlora", "full"]

# Hyperparameter names a recipe may set; exporters translate them to each trainer's spelling.
HYPER_NAMES = (
    "learning_rate",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "lora_target",
    "quantization",
    "double_quant",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "lr_scheduler_type",
    "warmup_ratio",
    "gradient_checkpointing",
    "sharding",
    "packing",
    "loss_on",
    "dpo_beta",
    "divergence_beta",
    "temperature",
    "max_completion_length",
    "num_generations",
    "rollout_tokens",
    "sampling_temperature",
    "kl_beta",
    "grader",
)


class EvalStarter(BaseModel):
    """A file the user runs with a well-known eval tool."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    tool: str
    filename: str
    command: str
    content: str


class Recipe(BaseModel):
    """One catalog entry: a training recipe (method + adapter + defaults) or a playbook."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    kind: Kind
    title: str
    summary: str
    when: str
    steps: tuple[str, ...]
    eval_starter: str
    method: Method | None = None
    adapter: Adapter | None = None
    dataset_format: str | None = None
    defaults: dict[str, Any] = Field(default_factory=dict)
    hyper: dict[str, Any] = Field(default_factory=dict)
    sources: tuple[str, ...] = ()  # "title: URL" of the public sources behind its claims

    @model_validator(mode="after")
    def _training_fields(self) -> Recipe:
        if self.kind == "training":
            if self.method is None or self.adapter is None or self.dataset_format is None:
                raise ValueError(
                    f"{self.id}: training recipes need method, adapter, dataset_format"
                )
            unknown = set(self.hyper) - set(HYPER_NAMES)
            if unknown:
                raise ValueError(f"{self.id}: unknown hyperparameters {sorted(unknown)}")
        return self

    @property
    def is_training(self) -> bool:
        """True for recipes that train weights."""
        return self.kind == "training"

    @property
    def trains_adapter(self) -> bool:
        """True when the output is a LoRA/QLoRA adapter rather than a full model."""
        return self.adapter in ("lora", "qlora")


class Catalog(BaseModel):
    """All recipes, playbooks, eval starters and field explanations of one catalog version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    explain: dict[str, str]
    recipes: tuple[Recipe, ...]
    starters: dict[str, EvalStarter]

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        ids = [r.id for r in self.recipes]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate recipe ids in catalog")
        for r in self.recipes:
            if r.eval_starter not in self.starters:
                raise ValueError(f"{r.id}: unknown eval starter {r.eval_starter!r}")
            missing = [h for h in r.hyper if h not in self.explain]
            if missing:
                raise ValueError(f"{r.id}: hyperparameters without explanation {missing}")
        return self


def _read_toml(name: str) -> dict[str, Any]:
    text = (
        resources.files("app.recipes").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


@cache
def load_catalog() -> Catalog:
    """Load and validate the catalog data files (cached; raises on an invalid file)."""
    raw = _read_toml("catalog.toml")
    evals = _read_toml("evals.toml")
    starters = {
        sid: EvalStarter(id=sid, **{**body, "content": body["content"].lstrip("\n")})
        for sid, body in evals["starter"].items()
    }
    return Catalog(
        version=raw["version"],
        explain=raw["explain"],
        recipes=tuple(Recipe(**r) for r in raw["recipe"]),
        starters=starters,
    )


def list_ids() -> list[str]:
    """Every recipe and playbook id, in catalog order."""
    return [r.id for r in load_catalog().recipes]


def get_recipe(recipe_id: str) -> Recipe:
    """The recipe with this id, or UnknownRecipe naming it and the known ids."""
    for r in load_catalog().recipes:
        if r.id == recipe_id:
            return r
    raise UnknownRecipe(
        f"unknown recipe {recipe_id!r}; known: {', '.join(list_ids())}", key="recipe"
    )


# Plan steps (approach ids and prerequisite ids of the decision contract) -> catalog ids.
STEP_RECIPES: dict[str, str] = {
    "prompting": "prompt-eval",
    "long_context": "long-context-cache",
    "rag": "rag-index",
    "fine_tuning": "sft-lora",
    "preference_tuning": "dpo-lora",
    "distillation": "distill-teacher-sft",
    "build_evals": "build-evals",
    "try_prompting_first": "prompt-eval",
    "fix_training_data": "sft-lora",
}

# Recommendation `technique` values -> the recipe that implements them.
TECHNIQUE_RECIPES: dict[str, str] = {
    "lora": "sft-lora",
    "qlora": "sft-qlora",
    "full": "sft-full",
    "dpo": "dpo-lora",
    "teacher_outputs": "distill-teacher-sft",
    "logit_kd": "distill-logit",
    "rft": "rft-lora",
}


def recipe_for_step(step: str, technique: str | None = None) -> str | None:
    """The catalog id a plan step (approach or prerequisite) links to, refined by its technique."""
    if technique and technique in TECHNIQUE_RECIPES:
        return TECHNIQUE_RECIPES[technique]
    return STEP_RECIPES.get(step)


load_catalog()  # validate the data files at import: a broken catalog fails fast
