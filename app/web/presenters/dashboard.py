"""What the team dashboard and the webhook page show."""

from __future__ import annotations

from typing import Any

from app.decision.bank import BANK
from app.decision.profile import APPROACHES
from app.decision.wording import WORDING
from app.models import ASSESSMENT_STATUSES
from app.services.dashboard import SORTS, Dashboard
from app.services.webhooks import Webhook
from app.web.presenters import urls

SORT_LABELS = {
    "-updated": "Changed, newest first",
    "updated": "Changed, oldest first",
    "-created": "Created, newest first",
    "created": "Created, oldest first",
    "title": "Title, A to Z",
    "-title": "Title, Z to A",
}
STATUS_LABELS = {status: status.replace("_", " ") for status in ASSESSMENT_STATUSES}


def _filters(found: Dashboard) -> list[tuple[str, str]]:
    """The dashboard's query as (key, value) pairs, without the page and defaults."""
    q = found.query
    values = {
        "status": q.status,
        "primary": q.primary,
        "author": q.author,
        "q": q.q,
        "since": q.since.isoformat() if q.since else None,
        "until": q.until.isoformat() if q.until else None,
        "sort": None if q.sort == "-updated" else q.sort,
    }
    return [(key, value) for key, value in values.items() if value]


def counts_chart(counts: dict[str, int], selected: str | None) -> dict[str, Any]:
    """Geometry of the small bar chart of assessments by primary approach."""
    track, row, bar = 200, 22, 12
    most = max(counts.values(), default=0) or 1
    bars = [
        {
            "approach": approach,
            "label": WORDING.approaches[approach].label,
            "count": counts.get(approach, 0),
            "width": round(track * counts.get(approach, 0) / most, 1),
            "y": index * row,
            "selected": approach == selected,
        }
        for index, approach in enumerate(APPROACHES)
    ]
    return {
        "bars": bars,
        "label_width": 130,
        "track": track,
        "bar": bar,
        "height": len(bars) * row,
        "width": 130 + track + 60,
    }


def dashboard_context(found: Dashboard) -> dict[str, Any]:
    """Context of a team's dashboard page."""
    q = found.query
    filters = _filters(found)
    here = urls.query(filters)

    def page_url(page: int) -> str:
        return urls.team_dashboard(found.team_id, urls.query([*filters, ("page", str(page))]))

    return {
        "ruleset": BANK.version,
        "team": {"id": found.team_id, "name": found.team_name, "url": urls.team(found.team_id)},
        "is_owner": found.role == "owner",
        "webhook_url": urls.team_webhook(found.team_id),
        "action": urls.team_dashboard(found.team_id),
        "api_url": urls.team_assessments_api(found.team_id, here),
        "query": {
            "status": q.status or "",
            "primary": q.primary or "",
            "author": q.author or "",
            "q": q.q or "",
            "since": q.since.isoformat() if q.since else "",
            "until": q.until.isoformat() if q.until else "",
            "sort": q.sort,
        },
        "filtered": bool(filters),
        "statuses": list(STATUS_LABELS.items()),
        "approaches": [(a, WORDING.approaches[a].label) for a in APPROACHES],
        "authors": found.members,
        "sorts": [(s, SORT_LABELS[s]) for s in SORTS],
        "items": [
            {
                "title": item.title or "Untitled assessment",
                "url": urls.assessment(item.id),
                "status": STATUS_LABELS.get(item.status, item.status),
                "status_id": item.status,
                "primary": WORDING.approaches[item.primary].label
                if item.primary in WORDING.approaches
                else "not decided yet",
                "author": item.author or "unknown",
                "updated_at": item.updated_at,
                "record_url": urls.decision_record_page(item.id),
            }
            for item in found.items
        ],
        "total": found.total,
        "total_capped": found.total_capped,
        "page": q.page,
        "pages": found.pages,
        # This very view (filters, sort and page): what the address bar shows after htmx.
        "view_url": page_url(q.page) if q.page > 1 else urls.team_dashboard(found.team_id, here),
        "previous_url": page_url(q.page - 1) if q.page > 1 else None,
        "next_url": page_url(q.page + 1) if q.page < found.pages else None,
        "chart": counts_chart(found.counts_by_primary, q.primary),
    }


def webhook_context(
    hook: Webhook, *, error: str | None = None, url_value: str | None = None
) -> dict[str, Any]:
    """Context of a team's webhook page (owners)."""
    return {
        "ruleset": BANK.version,
        "team": {"id": hook.team_id, "name": hook.team_name, "url": urls.team(hook.team_id)},
        "hook": hook,
        "url_value": url_value if url_value is not None else (hook.url or ""),
        "action": urls.team_webhook(hook.team_id),
        "remove_url": urls.team_webhook_removal(hook.team_id),
        "redeliver_urls": {
            d.id: urls.webhook_redelivery(hook.team_id, d.id) for d in hook.deliveries
        },
        "error": error,
    }
