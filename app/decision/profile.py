"""The profile the engine decides on: every field of the decision contract, all optional."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

Approach = Literal[
    "prompting", "long_context", "rag", "fine_tuning", "preference_tuning", "distillation"
]
APPROACHES: tuple[Approach, ...] = get_args(Approach)

Prerequisite = Literal["build_evals", "fix_training_data", "try_prompting_first", "safety_review"]
PREREQUISITES: tuple[Prerequisite, ...] = get_args(Prerequisite)

Gap = Literal["knowledge", "behavior", "both", "unsure", "cost_or_latency"]
KnowledgeKind = Literal["general", "private", "post_cutoff", "long_tail"]
KnowledgeChange = Literal["static", "monthly", "weekly", "daily"]
PromptingLevel = Literal["not_tried", "basic", "thorough"]
PromptResult = Literal["meets_bar", "inconsistent", "fails"]
EvalSet = Literal["none", "informal", "automated"]
Supervision = Literal["demonstrations", "preferences", "grader"]
OutputFormat = Literal["free_text", "structured", "custom_language"]
YesNoUnknown = Literal["yes", "no", "unknown"]
TaskKind = Literal[
    "extraction_classification",
    "generation",
    "reasoning",
    "conversation",
    "code",
    "question_answering",
]
TaskBreadth = Literal["narrow", "broad"]
Deployment = Literal["hosted_api", "self_hosted", "on_device"]
Expertise = Literal["none", "some", "strong"]
Gpu = Literal["none", "consumer_24gb", "datacenter_80gb", "multi_gpu"]
Risk = Literal["low", "medium", "high"]
DomainLanguage = Literal["general", "jargon", "low_resource_language"]
TeacherAccess = Literal["hosted_outputs", "open_weights"]
Languages = Literal["one", "several"]
PilotResult = Literal["not_run", "beats_baseline", "no_gain"]
HostedProvider = Literal["openai", "together", "fireworks", "other"]

Count = Annotated[StrictInt, Field(ge=0)]


class Profile(BaseModel):
    """What is known about the team's gap; a missing field means "unknown"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gap: Gap | None = None
    knowledge_kind: KnowledgeKind | None = None
    knowledge_change: KnowledgeChange | None = None
    corpus_tokens: Count | None = None
    needs_citations: StrictBool | None = None
    prompting: PromptingLevel | None = None
    best_prompt_result: PromptResult | None = None
    eval_set: EvalSet | None = None
    labeled_examples: Count | None = None
    supervision: tuple[Supervision, ...] | None = None
    output_format: OutputFormat | None = None
    prompt_tokens: Count | None = None
    monthly_requests: Count | None = None
    latency_budget_ms: Count | None = None
    strong_model_meets_bar: YesNoUnknown | None = None
    task_kind: TaskKind | None = None
    task_breadth: TaskBreadth | None = None
    deployment: Deployment | None = None
    finetuning_available: StrictBool | None = None
    ml_expertise: Expertise | None = None
    gpu: Gpu | None = None
    risk: Risk | None = None
    domain_language: DomainLanguage | None = None
    data_matches_target: YesNoUnknown | None = None
    already_using: tuple[Approach, ...] | None = None
    # Optional fields added in ruleset 2026.12.1 (see the question bank for their meaning).
    context_window_tokens: Count | None = None
    teacher_access: TeacherAccess | None = None
    data_residency: StrictBool | None = None
    languages: Languages | None = None
    tool_use: StrictBool | None = None
    finetune_pilot_result: PilotResult | None = None
    # Added in ruleset 2026.12.3: read by the recipe page only (its first export), never the rules.
    hosted_provider: HostedProvider | None = None


PROFILE_FIELDS: tuple[str, ...] = tuple(Profile.model_fields)
