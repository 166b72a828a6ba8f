"""What the "How it decides" page shows: the ladder's rungs, their rules and their sources."""

from __future__ import annotations

from typing import Any

from app.decision.rules import RULES
from app.decision.wording import WORDING
from app.web.presenters import urls


def _source(source_id: str) -> dict[str, str]:
    """A cited source as a title and a link."""
    source = RULES.source[source_id]
    return {"id": source_id, "title": source.title, "url": source.url}


def how_context() -> dict[str, Any]:
    """The rungs in climbing order, how many rules speak for or against each, and every source."""
    rungs = []
    for rung in RULES.rung:
        rules = [r for r in RULES.rule if r.approach in rung.approaches]
        rungs.append(
            {
                "id": rung.id,
                "title": rung.title,
                "does": rung.does,
                "climb_when": rung.climb_when,
                "approaches": [WORDING.approaches[a].label for a in rung.approaches],
                "rules_for": sum(r.weight > 0 for r in rules),
                "rules_against": sum(r.weight < 0 for r in rules),
                "sources": [_source(s) for s in rung.source],
            }
        )
    cited: dict[str, int] = {}
    for rule in RULES.rule:
        for source_id in rule.source:
            cited[source_id] = cited.get(source_id, 0) + 1
    sources = [{**_source(sid), "rules": cited.get(sid, 0)} for sid in RULES.source]
    return {
        "rungs": rungs,
        "sources": sources,
        "rule_count": len(RULES.rule),
        "start_url": urls.home(),
        "ruleset": RULES.ruleset,
    }
