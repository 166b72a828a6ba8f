"""What the result page and the exports show: the plan, its reasons, the chart, the checklist."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.decision.bank import BANK
from app.decision.profile import APPROACHES, Approach
from app.decision.recommendation import Recommendation
from app.decision.wording import WORDING
from app.recipes import recipe_for_step
from app.recipes.steps import changeable, step_guide
from app.services.assessments import AssessmentState
from app.services.ownership import ClaimChoices
from app.web.presenters import urls
from app.web.presenters.questionnaire import answer_label


def _question_for_field() -> dict[str, str]:
    """Which question sets each profile field, so a reason can link to its answer."""
    return {question.field: question.id for question in BANK.questions}


QUESTION_FOR_FIELD = _question_for_field()


def result_context(
    state: AssessmentState, rec: Recommendation, *, base_url: str = ""
) -> dict[str, Any]:
    """Context of the result page: plan with reasons, checklist, chart, what would change."""
    a = state.assessment
    private = urls.private_link(a.id, state.edit_key) if state.edit_key else None

    def change_link(field: str) -> str | None:
        question_id = QUESTION_FOR_FIELD.get(field)
        return urls.change(a.id, question_id) if question_id else None

    def recipe_link(recipe_id: str | None) -> str | None:
        return urls.recipe_for(recipe_id, a.id) if recipe_id else None

    first = first_action(rec)
    plan = []
    for approach in rec.plan:
        reasons = unique_reasons(
            [
                {"text": r.text, "effect": r.effect, "link": change_link(r.field)}
                for r in rec.reasons
                if r.approach == approach
            ]
        )
        recipe = recipe_for_step(approach, rec.technique.get(approach))
        plan.append(
            {
                "id": approach,
                "label": WORDING.approaches[approach].label,
                "summary": WORDING.approaches[approach].summary,
                "primary": approach == rec.primary,
                "first": approach == first,
                "keep": approach in rec.keep,
                "technique": rec.technique.get(approach),
                "recipe": recipe,
                "recipe_url": recipe_link(recipe),
                "reasons": reasons[:SHOWN_REASONS],
                "more_reasons": reasons[SHOWN_REASONS:],
                "guide": step_guide(approach),
                "also": _also(approach, state.profile.task_kind, a.id),
            }
        )
    others = [
        {"text": r.text, "link": change_link(r.field)}
        for r in rec.reasons
        if r.approach is not None and r.approach not in rec.plan and r.effect == "-"
    ]
    prerequisites = [
        {
            "id": p,
            "text": WORDING.prerequisites[p].label,
            "recipe_url": recipe_link(recipe_for_step(p)),
        }
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
            "primary": WORDING.approaches[c.primary].label,
            "link": change_link(c.field),
        }
        for c in rec.what_would_change
        if changeable(c.field)
    ]
    for change in changes:
        question = change["question"]
        change["to_label"] = answer_label(question, change["to"]) if question else str(change["to"])
    return {
        "assessment": a,
        "rec": rec,
        "primary_label": WORDING.approaches[rec.primary].label,
        "first_label": WORDING.approaches[first].label,
        "goal_differs": first != rec.primary,
        "plan": plan,
        "others": others,
        "prerequisites": prerequisites,
        "prerequisite_reasons": prerequisite_reasons,
        "changes": changes,
        "chart": score_chart(rec.scores, rec.primary),
        "confidence_pct": round(rec.confidence * 100),
        "confidence_word": _confidence_word(rec.confidence),
        "recipe": rec.recipe,
        "recipe_url": recipe_link(rec.recipe),
        "result_url": urls.result(a.id),
        "private_url": urls.absolute(base_url, private) if private else None,
        "exports": {kind: urls.export(a.id, kind) for kind in EXPORTS},
        "review_url": urls.review(a.id),
        "ruleset": BANK.version,
    }


# A second recipe beside a step's own, for tasks it suits better (a label, not free text).
ALSO_RECIPES = {("distillation", "extraction_classification"): "encoder-student"}


def _also(approach: str, task_kind: str | None, assessment_id: str) -> dict[str, str] | None:
    """The other recipe offered beside a step's own, with its link, or None."""
    recipe = ALSO_RECIPES.get((approach, task_kind or ""))
    if recipe is None:
        return None
    return {"id": recipe, "url": urls.recipe_for(recipe, assessment_id)}


# Reasons shown per plan step before the rest fold away.
SHOWN_REASONS = 3


def first_action(rec: Recommendation) -> Approach:
    """The step to start with: the plan's first rung not already in production.

    The engine's `primary` is the rung to invest in most and may come later in the plan (RAG
    before fine-tuning); the page's headline follows the plan's order so the two never disagree.
    """
    return next(
        (a for a in rec.plan if a not in rec.keep), rec.plan[0] if rec.plan else rec.primary
    )


def _normalised(text: str) -> str:
    """A reason's words without case, punctuation or spacing, to spot near-duplicates."""
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())


def unique_reasons(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reasons without repeats (same words, or one inside another), for before against."""
    kept: list[dict[str, Any]] = []
    seen: list[str] = []
    for reason in reasons:
        words = _normalised(reason["text"])
        if any(words == other or words in other or other in words for other in seen):
            continue
        seen.append(words)
        kept.append(reason)
    order = {"+": 0, "-": 1}
    return sorted(kept, key=lambda r: order.get(r["effect"], 2))


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
                "label": WORDING.approaches[approach].label,
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
        f"# Adaptation plan: {context['first_label']} first",
        "",
        f"Assessment `{state.assessment.id}` · rules {rec.ruleset} · "
        f"confidence {context['confidence_pct']}% ({context['confidence_word']})",
        "",
    ]
    if context["goal_differs"]:
        lines += [f"The goal is {context['primary_label']}; the plan reaches it in order.", ""]
    if context["prerequisites"]:
        lines += ["## Before you start", ""]
        lines += [f"- [ ] {p['text']}" for p in context["prerequisites"]]
        lines.append("")
    lines += ["## The plan, in order", ""]
    for number, step in enumerate(context["plan"], 1):
        technique = f" ({step['technique']})" if step["technique"] else ""
        lines.append(f"{number}. **{step['label']}**{technique}: {step['summary']}")
        if step["guide"]:
            lines.append(f"   - First: {step['guide'].first}")
            lines.append(f"   - It worked when: {step['guide'].check}")
            lines.append(f"   - Next rung: {step['guide'].next}")
        for r in step["reasons"] + step["more_reasons"]:
            lines.append(f"   - {'For' if r['effect'] == '+' else 'Against'}: {r['text']}")
    lines += ["", "## Scores", "", "| approach | score |", "|---|---|"]
    lines += [f"| {b['label']} | {b['percent']} |" for b in context["chart"]["bars"]]
    if context["changes"]:
        lines += ["", "## What would change this", ""]
        lines += [
            f"- If *{c['question'].title if c['question'] else c['field']}* were "
            f"**{c['to_label']}**, the approach to invest in would be {c['primary']}."
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


# Each download of an assessment: its writer and media type, by the URL's extension.
EXPORTS = {
    "json": (export_json, "application/json"),
    "md": (export_markdown, "text/markdown; charset=utf-8"),
}


def claim_context(
    assessment_id: str, choices: ClaimChoices | None, *, has_key: bool
) -> dict[str, Any]:
    """The result page's "keep it in your account or a team" section."""
    return {
        "url": urls.claim(assessment_id),
        "signin_url": urls.signin(),
        "signup_url": urls.signup(),
        "signed_in": choices is not None,
        "has_key": has_key,
        "owner": choices.owner if choices else "nobody",
        "team_name": choices.team_name if choices else None,
        "teams": choices.teams if choices else [],
    }


def manage_context(assessment_id: str, title: str | None) -> dict[str, Any]:
    """The result page's rename form and delete link, and the delete confirmation page."""
    return {
        "title": title or "",
        "rename_url": urls.rename(assessment_id),
        "delete_url": urls.delete(assessment_id),
        "result_url": urls.result(assessment_id),
    }


def delete_context(assessment_id: str, title: str | None) -> dict[str, Any]:
    """The page that asks before deleting an assessment."""
    return {"ruleset": BANK.version, "manage": manage_context(assessment_id, title)}
