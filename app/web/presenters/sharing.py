"""What the share pages show: the read-only result, and the owner's list of links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.decision.bank import BANK
from app.decision.wording import WORDING
from app.services.sharing import EXPIRY_DAYS, Share, Shared
from app.web.presenters import urls
from app.web.presenters.questionnaire import answer_label
from app.web.presenters.results import first_action, score_chart

# The choices of the result page's form: days, or "never".
NEVER = "never"
EXPIRY_CHOICES = [(str(days), f"in {days} days") for days in EXPIRY_DAYS] + [(NEVER, "never")]
DEFAULT_EXPIRY = "30"


def expiry_choice(value: str | None) -> int | None:
    """The form's expiry as days, or None for never; `ValueError` for any other value."""
    if value == NEVER:
        return None
    if value in {str(days) for days in EXPIRY_DAYS}:
        return int(value)
    allowed = ", ".join(choice for choice, _ in EXPIRY_CHOICES)
    raise ValueError(f"expires_in_days must be one of: {allowed}")


def _day(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y") if moment else "never"


def manage_context(assessment_id: str, shares: list[Share] | None, base_url: str) -> dict[str, Any]:
    """The result page's share section: the create form and every link with its state; None
    for a team member without the owner's role, who is told who manages them."""
    links = []
    for share in shares or []:
        if share.revoked:
            state = "revoked"
        elif share.expired:
            state = "expired"
        else:
            state = "active"
        shown = share.token is not None and share.live
        links.append(
            {
                "state": state,
                "url": urls.absolute(base_url, urls.shared(share.token))
                if shown and share.token
                else None,
                "created": _day(share.created_at),
                "expires": _day(share.expires_at),
                "opens": share.opens,
                "revoke_url": urls.revoke_share(assessment_id, share.token)
                if share.live and share.token
                else None,
            }
        )
    return {
        "create_url": urls.new_share(assessment_id),
        "choices": EXPIRY_CHOICES,
        "default_choice": DEFAULT_EXPIRY,
        "links": links,
        "allowed": shares is not None,
    }


def shared_context(shared: Shared, base_url: str, token: str) -> dict[str, Any]:
    """The read-only page: answers, plan with reasons, chart, recipe; no way to change any."""
    state, rec = shared.state, shared.recommendation
    # The headline is the step to start with, as on the result page; the goal is named when
    # it comes later in the plan.
    start = first_action(rec)
    first = WORDING.approaches[start]
    plan = [
        {
            "label": WORDING.approaches[approach].label,
            "summary": WORDING.approaches[approach].summary,
            "primary": approach == start,
            "goal": approach == rec.primary and approach != start,
            "technique": rec.technique.get(approach),
            "reasons": [r for r in rec.reasons if r.approach == approach],
        }
        for approach in rec.plan
    ]
    answers = [
        {"question": q.title, "answer": answer_label(q, state.answers[q.id])}
        for q in state.visible
        if q.id in state.answers
    ]
    title = state.assessment.title or "An adaptation plan"
    return {
        "title": title,
        "primary_label": first.label,
        "goal_label": WORDING.approaches[rec.primary].label if rec.primary != start else None,
        "summary": f"{first.label} first: {first.summary}",
        "plan": plan,
        "prerequisites": [WORDING.prerequisites[p].label for p in rec.prerequisites],
        "answers": answers,
        "chart": score_chart(rec.scores, rec.primary),
        "confidence_pct": round(rec.confidence * 100),
        "recipe": rec.recipe,
        "recipe_url": urls.recipe(rec.recipe) if rec.recipe else None,
        "page_url": urls.absolute(base_url, urls.shared(token)),
        "json_url": urls.shared_json(token),
        "ruleset": BANK.version,
    }
