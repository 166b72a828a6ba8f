"""At most seven screens and the review on every path: generated users walk the screens,
answering whatever each shows (re-read after every answer, as the live re-render does)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.decision.bank import SCREENS, Question
from app.web.presenters import urls
from app.web.presenters.screens import FIRST, MORE, open_questions, screen_or_404, shown, url_after
from tests.decision.strategies import _EDGES

AID = "bench"


def _answer(data: st.DataObject, q: Question) -> Any:
    """Any answer the screen accepts, "Not sure" included where offered."""
    choices: list[Any] = [] if not q.not_sure else [None]
    if q.kind == "multi":
        return data.draw(
            st.one_of(
                st.just(None) if q.not_sure else st.nothing(),
                st.lists(st.sampled_from(q.values), unique=True).map(tuple),
            )
        )
    if q.kind == "number":
        return data.draw(st.sampled_from([*choices, *q.values, *_EDGES]))
    return data.draw(st.sampled_from([*choices, *q.values]))


def _walk(data: st.DataObject) -> tuple[list[str], dict[str, Any]]:
    answers: dict[str, Any] = {}
    screen = FIRST
    seen: list[str] = []
    while True:
        seen.append(screen.slug)
        assert len(seen) <= len(SCREENS) + 1, seen
        for _ in range(40):
            todo = [s.question for s in shown(screen, answers) if not s.pending]
            todo = [q for q in todo if q.id not in answers]
            if not todo:
                break
            answers[todo[0].id] = _answer(data, todo[0])
        target = url_after(answers, AID, screen, returning=False)
        if target == urls.review(AID):
            return seen, answers
        screen = screen_or_404(target.split("/screens/")[1].split("?")[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_path_takes_at_most_seven_screens_then_the_review(data: st.DataObject) -> None:
    seen, answers = _walk(data)
    assert len(seen) <= 7, seen
    assert len(set(seen)) == len(seen), f"a screen came twice: {seen}"
    assert seen[0] == FIRST.slug
    assert MORE.slug not in seen[:-1], "the 'more' screen comes last if at all"
    assert open_questions(answers) == [], "the review is reached with nothing left to ask"
