"""What the pages show: context for each template, built from an assessment's state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from app.decision.bank import (
    BANK,
    NOT_SURE,
    AnswerError,
    Question,
    next_question,
)
from app.decision.profile import APPROACHES, Approach
from app.decision.recommendation import Recommendation
from app.recipes import recipe_for_step
from app.services.assessments import AssessmentState

APPROACH_LABELS = {
    "prompting": "Prompting",
    "long_context": "Long-context prompting",
    "rag": "Retrieval (RAG)",
    "fine_tuning": "Fine-tuning",
    "preference_tuning": "Preference tuning",
    "distillation": "Distillation",
}
APPROACH_SUMMARIES = {
    "prompting": "Sharper instructions, few-shot examples, structured outputs or a stronger model.",
    "long_context": "Put the whole reference material in the prompt, with prompt caching.",
    "rag": "Retrieve the relevant passages from an index of your material for each question.",
    "fine_tuning": "Train the model on input/output demonstrations of the wanted behaviour.",
    "preference_tuning": "Train on preferred-versus-rejected answers (DPO) or a grader's scores.",
    "distillation": "Let a strong teacher model's outputs train a smaller, cheaper student.",
}
PREREQUISITE_LABELS = {
    "build_evals": "Build an eval set and measure a baseline before changing anything.",
    "fix_training_data": "Fix the training data so the examples show exactly the wanted output.",
    "try_prompting_first": "Try prompting seriously first: it is the cheapest fix.",
    "safety_review": "Plan a safety review: changing weights can erode a model's safety behaviour.",
}


class PageNotFound(LookupError):
    """A URL naming a question or recipe that does not exist."""


@dataclass(frozen=True)
class Progress:
    """Where a step stands in the branch actually taken."""

    position: int
    total: int


def step_url(assessment_id: str, question_id: str) -> str:
    """The bookmarkable URL of one step."""
    return f"/assessments/{assessment_id}/steps/{question_id}"


def change_url(assessment_id: str, question_id: str) -> str:
    """The step's URL for changing an answer and coming back to the review."""
    return step_url(assessment_id, question_id) + "?return=review"


def question_or_404(question_id: str) -> Question:
    """The question with that id, or a 404."""
    try:
        return BANK.get(question_id)
    except AnswerError:
        raise PageNotFound(f"there is no question {question_id!r}") from None


def applies(state: AssessmentState, question_id: str) -> bool:
    """Whether the question is on the branch the current answers take."""
    return any(q.id == question_id for q in state.visible)


def resume_url(state: AssessmentState) -> str:
    """The next unanswered step, else the review page."""
    a = state.assessment
    if state.next_question is not None:
        return step_url(a.id, state.next_question)
    return f"/assessments/{a.id}/review"


def url_after(answers: Mapping[str, Any], assessment_id: str, question_id: str) -> str:
    """The step after this one on the branch these answers take, else the review page."""
    following = next_question(answers, after=question_id)
    if following is None:
        return f"/assessments/{assessment_id}/review"
    return step_url(assessment_id, following.id)


def form_error(question: Question, values: list[str]) -> str:
    """What to tell a person whose answer was refused, in the page's own words."""
    unsure = f", or choose “{question.not_sure_label}”" if question.not_sure else ""
    if not any(v.strip() for v in values):
        if question.kind == "number":
            return f"Choose one of the answers or type a number{unsure}."
        if question.kind == "multi":
            return f"Tick at least one answer{unsure}."
        return f"Choose an answer to continue{unsure}."
    if question.kind == "number":
        return "Type a whole number, 0 or more, without units (for example 1500)."
    if question.kind == "multi":
        return "Tick only the answers listed."
    return "Choose one of the answers listed."


def answer_label(question: Question, value: Any) -> str:
    """An answer as the user chose it, in words."""
    if value is None:
        return question.not_sure_label
    labels = {option.value: option.label for option in question.options}
    if isinstance(value, list | tuple):
        return ", ".join(labels.get(v, str(v)) for v in value) or "None of these"
    if value in labels:
        return labels[value]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}" + (f" {question.unit}" if question.unit else "")
    return str(value)


def step_context(
    state: AssessmentState,
    question: Question,
    *,
    submitted: list[str] | None,
    error: str | None,
    returning: bool = False,
) -> dict[str, Any]:
    """Context of one step page: the question, the answer so far, progress and Back.

    `returning`: the user came from the review page, and saving goes back there.
    """
    ids = [q.id for q in state.visible]
    position = ids.index(question.id) + 1 if question.id in ids else len(ids)
    back = step_url(state.assessment.id, ids[position - 2]) if position > 1 else "/"
    if submitted is not None:
        chosen = submitted
    elif question.id in state.answers:
        chosen = _form_values(state.answers[question.id])
    else:
        chosen = []
    options = _options(question.id)
    listed = {value for value, _ in options}
    exact = next((c for c in chosen if c not in listed and c != NOT_SURE), "")
    return {
        "assessment": state.assessment,
        "question": question,
        "chosen": chosen,
        "exact": exact,
        "options": options,
        "not_sure_value": NOT_SURE,
        "answered": question.id in state.answers,
        "error": error,
        "returning": returning,
        "progress": Progress(position, len(ids)),
        "back_url": back,
        "action": step_url(state.assessment.id, question.id),
        "ruleset": BANK.version,
    }


@cache
def _options(question_id: str) -> tuple[tuple[str, str], ...]:
    """A question's choices as (form value, label): the same on every render of its page."""
    return tuple((_form_value(o.value), o.label) for o in BANK.get(question_id).options)


def _form_value(value: Any) -> str:
    """One answer value as its form field carries it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _form_values(value: Any) -> list[str]:
    """A stored answer as the strings its form fields would carry."""
    if value is None:
        return [NOT_SURE]
    if isinstance(value, list | tuple):
        return [_form_value(v) for v in value]
    return [_form_value(value)]


def review_context(state: AssessmentState) -> dict[str, Any]:
    """Context of the review page: answers on the branch by section, and those not applying."""
    a = state.assessment
    sections: dict[str, list[dict[str, Any]]] = {}
    for question in state.visible:
        sections.setdefault(question.section, []).append(
            {
                "question": question,
                "answered": question.id in state.answers,
                "answer": answer_label(question, state.answers.get(question.id)),
                "edit": change_url(a.id, question.id),
            }
        )
    stale = [
        {"question": BANK.get(q), "answer": answer_label(BANK.get(q), state.answers[q])}
        for q in state.not_applicable
    ]
    return {
        "assessment": a,
        "sections": list(sections.items()),
        "stale": stale,
        "missing": sum(1 for q in state.visible if q.id not in state.answers),
        "ruleset": BANK.version,
    }


def _question_for_field() -> dict[str, str]:
    """Which question sets each profile field, so a reason can link to its answer."""
    return {question.field: question.id for question in BANK.questions}


QUESTION_FOR_FIELD = _question_for_field()


def result_context(state: AssessmentState, rec: Recommendation) -> dict[str, Any]:
    """Context of the result page: plan with reasons, checklist, chart, what would change."""
    a = state.assessment

    def change_link(field: str) -> str | None:
        question_id = QUESTION_FOR_FIELD.get(field)
        return change_url(a.id, question_id) if question_id else None

    plan = []
    for approach in rec.plan:
        reasons = [
            {"text": r.text, "effect": r.effect, "link": change_link(r.field)}
            for r in rec.reasons
            if r.approach == approach
        ]
        plan.append(
            {
                "id": approach,
                "label": APPROACH_LABELS[approach],
                "summary": APPROACH_SUMMARIES[approach],
                "primary": approach == rec.primary,
                "technique": rec.technique.get(approach),
                "recipe": recipe_for_step(approach, rec.technique.get(approach)),
                "reasons": reasons,
            }
        )
    others = [
        {"text": r.text, "link": change_link(r.field)}
        for r in rec.reasons
        if r.approach is not None and r.approach not in rec.plan and r.effect == "-"
    ]
    prerequisites = [
        {"id": p, "text": PREREQUISITE_LABELS[p], "recipe": recipe_for_step(p)}
        for p in rec.prerequisites
    ]
    prerequisite_reasons = [
        {"text": r.text, "link": change_link(r.field)} for r in rec.reasons if r.effect == "!"
    ]
    changes = [
        {
            "field": c.field,
            "question": BANK.get(QUESTION_FOR_FIELD[c.field])
            if c.field in QUESTION_FOR_FIELD
            else None,
            "to": c.to,
            "primary": APPROACH_LABELS[c.primary],
            "link": change_link(c.field),
        }
        for c in rec.what_would_change
    ]
    for change in changes:
        question = change["question"]
        change["to_label"] = answer_label(question, change["to"]) if question else str(change["to"])
    return {
        "assessment": a,
        "rec": rec,
        "primary_label": APPROACH_LABELS[rec.primary],
        "plan": plan,
        "others": others,
        "prerequisites": prerequisites,
        "prerequisite_reasons": prerequisite_reasons,
        "changes": changes,
        "chart": score_chart(rec.scores, rec.primary),
        "confidence_pct": round(rec.confidence * 100),
        "confidence_word": _confidence_word(rec.confidence),
        "recipe": rec.recipe,
        "ruleset": BANK.version,
    }


def _confidence_word(confidence: float) -> str:
    """Confidence in a word."""
    if confidence >= 0.75:
        return "high"
    if confidence >= 0.5:
        return "medium"
    return "low"


def score_chart(scores: Mapping[Approach, float], primary: Approach) -> dict[str, Any]:
    """Geometry of the bar chart of the six scores: a label above each bar, the value beside it."""
    track_width, bar_height, row_height = 290, 16, 46
    bars = []
    for index, approach in enumerate(APPROACHES):
        score = max(0.0, min(1.0, scores.get(approach, 0.0)))
        bars.append(
            {
                "label": APPROACH_LABELS[approach],
                "percent": round(score * 100),
                "width": round(track_width * score, 1),
                "y": index * row_height,
                "primary": approach == primary,
            }
        )
    return {
        "bars": bars,
        "track_width": track_width,
        "bar_height": bar_height,
        "bar_top": 20,
        "width": track_width + 50,
        "height": len(bars) * row_height,
    }


def export_json(state: AssessmentState, rec: Recommendation) -> str:
    """The assessment, answers, profile and recommendation as pretty JSON."""
    a = state.assessment
    document = {
        "id": a.id,
        "title": a.title,
        "status": a.status,
        "ruleset": a.ruleset,
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
        "answers": state.answers,
        "not_applicable": list(state.not_applicable),
        "profile": state.profile.model_dump(mode="json", exclude_none=True),
        "recommendation": rec.model_dump(mode="json"),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export_markdown(state: AssessmentState, rec: Recommendation) -> str:
    """The result as a Markdown document to paste into a design doc or ticket."""
    context = result_context(state, rec)
    lines = [
        f"# Adaptation plan: {context['primary_label']} first",
        "",
        f"Assessment `{state.assessment.id}` · rules {rec.ruleset} · "
        f"confidence {context['confidence_pct']}% ({context['confidence_word']})",
        "",
    ]
    if context["prerequisites"]:
        lines += ["## Before you start", ""]
        lines += [f"- [ ] {p['text']}" for p in context["prerequisites"]]
        lines.append("")
    lines += ["## The plan, in order", ""]
    for number, step in enumerate(context["plan"], 1):
        technique = f" ({step['technique']})" if step["technique"] else ""
        lines.append(f"{number}. **{step['label']}**{technique}: {step['summary']}")
        lines += [f"   - {r['text']}" for r in step["reasons"]]
    lines += ["", "## Scores", "", "| approach | score |", "|---|---|"]
    lines += [f"| {b['label']} | {b['percent']} |" for b in context["chart"]["bars"]]
    if context["changes"]:
        lines += ["", "## What would change this", ""]
        lines += [
            f"- If *{c['question'].title if c['question'] else c['field']}* were "
            f"**{c['to_label']}**, the first step would be {c['primary']}."
            for c in context["changes"]
        ]
    lines += ["", "## Answers", ""]
    for question in state.visible:
        if question.id in state.answers:
            lines.append(
                f"- {question.title}: {answer_label(question, state.answers[question.id])}"
            )
    if rec.recipe:
        lines += ["", f"Recipe: `{rec.recipe}`"]
    return "\n".join(lines) + "\n"
