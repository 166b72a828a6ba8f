"""An assessment's decision record as MADR Markdown, ready for a repository's `docs/decisions/`,
and the same record as JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from app.decision.bank import BANK
from app.decision.profile import APPROACHES
from app.decision.wording import WORDING
from app.services.decision_record import DecisionRecord
from app.web.presenters import urls
from app.web.presenters.questionnaire import answer_label
from app.web.presenters.results import QUESTION_FOR_FIELD
from app.web.presenters.review import markdown

_SLUG = re.compile(r"[^a-z0-9]+")


def filename(record: DecisionRecord, kind: str) -> str:
    """A name to save it under: MADR's `NNNN-title.md` without the number, which the repo
    assigns (`0000-` marks it as still to be numbered)."""
    title = record.state.assessment.title or f"adaptation plan {record.state.assessment.id[:8]}"
    slug = _SLUG.sub("-", title.lower()).strip("-")[:60] or "adaptation-plan"
    return f"0000-{slug}.{kind}"


def _answers(record: DecisionRecord) -> list[tuple[str, str]]:
    """The answers on the branch taken, as (question, answer) in the questionnaire's order."""
    answers = record.state.answers
    return [
        (q.title, answer_label(q, answers[q.id])) for q in record.state.visible if q.id in answers
    ]


def _change_text(field: str, to: Any, primary: str) -> str:
    """One "what would change this" line in words."""
    question_id = QUESTION_FOR_FIELD.get(field)
    if question_id is None:
        return f"if {field} were {to}, the first step would be {primary}"
    question = BANK.get(question_id)
    answer = answer_label(question, to)
    return f"if *{question.title}* were **{answer}**, the first step would be {primary}"


def _people(names: list[str]) -> str:
    return ", ".join(names) if names else "(none named)"


def madr(record: DecisionRecord) -> str:
    """The record in MADR's template: front matter, context, options, outcome, consequences."""
    a, rec = record.state.assessment, record.recommendation
    primary = WORDING.approaches[rec.primary].label
    title = a.title or f"Adapt the model with {primary} first"
    lines = [
        "---",
        f"status: {record.madr_status}",
        f"date: {record.decided_at.date().isoformat()}",
        f"deciders: {_people(record.deciders)}",
        f"consulted: {_people(record.consulted)}",
        f"informed: {_people(record.informed)}",
        "---",
        "",
        f"# {title}",
        "",
        "## Context and Problem Statement",
        "",
        "Our LLM falls short and we must choose how to adapt it: prompting, long context, RAG,"
        " fine-tuning, preference tuning or distillation. What we know, as answered in the"
        f" Adaptation Advisor (assessment `{a.id}`, rules {rec.ruleset}):",
        "",
    ]
    lines += [f"- {question}: {answer}" for question, answer in _answers(record)]
    lines += ["", "## Considered Options", ""]
    ranked = sorted(APPROACHES, key=lambda approach: -rec.scores.get(approach, 0.0))
    for approach in ranked:
        score = round(rec.scores.get(approach, 0.0) * 100)
        lines.append(f"- {WORDING.approaches[approach].label} (score {score} of 100)")
    lines += [
        "",
        "## Decision Outcome",
        "",
        f'Chosen option: "{primary}", because it scored highest for what we answered'
        f" (confidence {round(rec.confidence * 100)}%):",
        "",
    ]
    reasons = [r for r in rec.reasons if r.approach == rec.primary]
    lines += [f"- {'For' if r.effect == '+' else 'Against'}: {r.text}" for r in reasons]
    if len(rec.plan) > 1:
        plan = ", then ".join(WORDING.approaches[step].label for step in rec.plan)
        lines += ["", f"The plan, in order: {plan}."]
    if rec.recipe:
        lines += ["", f"Starting recipe: `{rec.recipe}`."]
    lines += ["", "### Consequences", ""]
    if rec.prerequisites:
        lines += [
            f"- Before we start, we must: {WORDING.prerequisites[p].label}"
            for p in rec.prerequisites
        ]
    else:
        lines.append("- Nothing must be done before we start.")
    if rec.what_would_change:
        lines += ["", "What would change this decision:", ""]
        lines += [
            f"- {_change_text(c.field, c.to, WORDING.approaches[c.primary].label)}"
            for c in rec.what_would_change
        ]
    else:
        lines += ["", "No single answer change would change the first step."]
    if record.decisions:
        lines += ["", "## More Information", "", "Review:", ""]
        for d in record.decisions:
            outcome = d.outcome.replace("_", " ")
            by = d.by or "a former member"
            superseded = " (superseded)" if d.superseded else ""
            note = f": {d.comment}" if d.comment else ""
            lines.append(
                f"- {d.at.date().isoformat()}, revision {d.revision}: {outcome} by {by}"
                f"{superseded}{note}"
            )
    return "\n".join(lines) + "\n"


def record_json(record: DecisionRecord) -> str:
    """The record as JSON: the same content as the MADR file, as data."""
    a, rec = record.state.assessment, record.recommendation
    document = {
        "id": a.id,
        "title": a.title,
        "status": record.status,
        "madr_status": record.madr_status,
        "date": record.decided_at.date().isoformat(),
        "deciders": record.deciders,
        "consulted": record.consulted,
        "informed": record.informed,
        "ruleset": rec.ruleset,
        "context": [{"question": q, "answer": answer} for q, answer in _answers(record)],
        "answers": record.state.answers,
        "considered_options": [
            {
                "approach": approach,
                "label": WORDING.approaches[approach].label,
                "score": rec.scores.get(approach, 0.0),
            }
            for approach in APPROACHES
        ],
        "decision_outcome": {
            "chosen": rec.primary,
            "plan": list(rec.plan),
            "confidence": rec.confidence,
            "reasons": [
                r.model_dump(mode="json") for r in rec.reasons if r.approach == rec.primary
            ],
            "recipe": rec.recipe,
        },
        "consequences": {
            "prerequisites": list(rec.prerequisites),
            "what_would_change": [c.model_dump(mode="json") for c in rec.what_would_change],
        },
        "decisions": [
            {
                "outcome": d.outcome,
                "by": d.by,
                "comment": d.comment,
                "revision": d.revision,
                "at": d.at.isoformat(),
                "superseded": d.superseded,
            }
            for d in record.decisions
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def page_context(record: DecisionRecord) -> dict[str, Any]:
    """Context of the decision record's page: its front matter as facts, its body as HTML
    (rendered like a comment: no raw HTML, sanitised), and the downloads."""
    text = madr(record)
    _, front, body = text.split("---\n", 2)
    facts = [tuple(line.split(": ", 1)) for line in front.strip().splitlines()]
    a = record.state.assessment
    return {
        "ruleset": BANK.version,
        "title": a.title or "Decision record",
        "facts": facts,
        "body": markdown(body),
        "downloads": {
            "MADR Markdown": urls.decision_record(a.id, "md"),
            "JSON": urls.decision_record(a.id, "json"),
        },
        "result_url": urls.result(a.id),
        "filename": filename(record, "md"),
    }
