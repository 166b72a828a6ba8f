"""How the review shows: comments' Markdown made safe, and the review's JSON and page contexts.

A comment is rendered by markdown-it-py with raw HTML off, then cleaned by nh3 (Ammonia) to an
allow-list of tags, attributes and URL schemes: neither a `<script>` typed in a comment nor a
`javascript:` link survives, whichever of the two would have let it through (docs/adr/0012).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from app.decision.bank import BANK
from app.services.comments import Comment
from app.services.review_state import ReviewState
from app.services.revisions import Diff, RulesetUpgrade
from app.web.presenters import urls

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
STATUS_LABELS = {
    "in_progress": "In progress",
    "completed": "Completed",
    "in_review": "In review",
    "approved": "Approved",
    "changes_requested": "Changes requested",
    "superseded": "Superseded",
}
ACTION_LABELS = {
    "review_requested": "asked for review",
    "approved": "approved",
    "changes_requested": "requested changes",
    "approval_superseded": "superseded an earlier approval",
    "reopened": "changed an answer of the approved assessment (new revision)",
    "comment_added": "commented",
    "comment_edited": "edited a comment",
    "comment_deleted": "deleted a comment",
    "milestone_created": "created a milestone",
    "redecided": "decided again under the current ruleset",
}


def markdown(body: str) -> Markup:
    """A comment's Markdown as safe HTML: rendered without raw HTML, then sanitised."""
    html = _MD.render(body or "")
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # nh3 has cleaned it to the allow-list above


def question_title(question_id: str | None) -> str:
    """A question's title for an anchor, or its id if the bank no longer has it."""
    if question_id is None:
        return "the whole assessment"
    found = next((q for q in BANK.questions if q.id == question_id), None)
    return question_id if found is None else found.title


def shown_value(question_id: str, value: Any) -> str:
    """An answer as the questionnaire labels it (the option's label), else as given."""
    if value is None:
        return "—"
    found = next((q for q in BANK.questions if q.id == question_id), None)
    label = found.label_for(value) if found is not None else None
    if label is not None:
        return label
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def review_json(state: ReviewState) -> dict[str, Any]:
    """The review as the API shows it."""

    def people(persons: list[Any]) -> list[dict[str, str]]:
        return [{"user_id": p.user_id, "email": p.email} for p in persons]

    return {
        "status": state.viewer.status,
        "revision": state.revision,
        "reviewers": people(state.reviewers),
        "consulted": people(state.consulted),
        "informed": people(state.informed),
        "allow_self_approval": state.allow_self_approval,
        "decisions": [
            {
                "id": d.id,
                "outcome": d.outcome,
                "by": d.by,
                "comment": d.comment,
                "revision": d.revision,
                "ruleset": d.ruleset,
                "at": d.at.isoformat(),
                "superseded": d.superseded_at is not None,
                "superseded_at": None if d.superseded_at is None else d.superseded_at.isoformat(),
            }
            for d in state.decisions
        ],
    }


def upgrade_json(upgrade: RulesetUpgrade | None) -> dict[str, Any]:
    """A ruleset upgrade as the API shows it (`upgrade`: null when the stored one is current)."""
    if upgrade is None:
        return {"upgrade": None}
    return {
        "upgrade": {
            "stored_ruleset": upgrade.stored_ruleset,
            "current_ruleset": upgrade.current_ruleset,
            "primary_changed": upgrade.primary_changed,
            "stored": upgrade.stored.as_json(),
            "current": upgrade.current.as_json(),
        }
    }


def thread_by_question(thread: list[Comment]) -> dict[str | None, list[Comment]]:
    """The thread grouped by the question each comment is anchored to (None: general)."""
    grouped: dict[str | None, list[Comment]] = defaultdict(list)
    for comment in thread:
        grouped[comment.question].append(comment)
    return dict(grouped)


def answer_rows(
    answers: dict[str, Any], thread: list[Comment], assessment_id: str
) -> list[dict[str, Any]]:
    """Each answered question with its value and the comments anchored beside it."""
    grouped = thread_by_question(thread)
    rows = []
    for question in BANK.questions:
        if question.id not in answers and question.id not in grouped:
            continue
        rows.append(
            {
                "id": question.id,
                "title": question.title,
                "value": shown_value(question.id, answers.get(question.id)),
                "comments": grouped.get(question.id, []),
                "change": urls.change(assessment_id, question.id),
                "anchor": f"q-{question.id}",
            }
        )
    return rows


def diff_context(assessment_id: str, found: Diff) -> dict[str, Any]:
    """The diff page: changed answers side by side, and the change in the recommendation."""
    return {
        "assessment_id": assessment_id,
        "diff": found,
        "changes": [
            {
                "question": c.question,
                "title": c.title,
                "before": shown_value(c.question, c.before),
                "after": shown_value(c.question, c.after),
            }
            for c in found.answers
        ],
        "approval_url": urls.approval(assessment_id),
        "result_url": urls.result(assessment_id),
    }
