"""One question asks one thing: options another question asks are not offered again, and
assessments saved with them still load, show them and keep them when re-posted."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from app.decision.bank import BANK, SCREEN_OF
from app.web.presenters import urls
from tests.web.conftest import new_assessment, one, parse

FORM = {"content-type": "application/x-www-form-urlencoded"}
# Answers saved before ruleset 2026.12.3, with the two options no longer offered.
OLD: dict[str, Any] = {
    "gap": "behavior",
    "prompting": "thorough",
    "best_prompt_result": "inconsistent",
    "already_using": ["prompting", "rag"],
    "labeled_examples": 500,
    "data_matches_target": "yes",
    "supervision": ["demonstrations", "grader"],
}


def _offered(page: Any, qid: str) -> list[str]:
    return [str(i["value"]) for i in one(page, f"#q-{qid}").select(f'input[name="{qid}"]')]


def test_the_bank_says_which_question_asks_a_hidden_option() -> None:
    hidden = {
        (q.id, o.value): str(o.offered_by)
        for q in BANK.questions
        for o in q.options
        if not o.offered
    }
    assert hidden == {
        ("supervision", "demonstrations"): "labeled_examples",
        ("already_using", "prompting"): "prompting",
    }
    for (qid, _), by in hidden.items():
        assert BANK.get(by).section == BANK.get(qid).section, "asked on the same screen"


def test_a_new_assessment_is_not_asked_twice(client: TestClient) -> None:
    created = new_assessment(client, answers={"gap": "behavior", "labeled_examples": 500})
    for qid, value in (("supervision", "demonstrations"), ("already_using", "prompting")):
        url = urls.screen(created["id"], SCREEN_OF[qid].slug)
        page = parse(client.get(url).text)
        offered = _offered(page, qid)
        assert value not in offered and "not_sure" in offered
    data = parse(client.get(urls.screen(created["id"], SCREEN_OF["supervision"].slug)).text)
    assert "scores an answer without a person" in one(data, "#supervision-help").get_text()


def test_an_old_assessment_loads_shows_and_keeps_its_answers(client: TestClient) -> None:
    created = new_assessment(client, answers=OLD)
    aid = created["id"]
    assert client.get(urls.review(aid)).status_code == 200
    review = client.get(urls.review(aid)).text
    assert "Demonstrations: good example answers" in review
    assert "An engineered prompt" in review
    before = client.get(f"/api/assessments/{aid}/recommendation").json()
    for qid in ("supervision", "already_using"):
        url = urls.screen(aid, SCREEN_OF[qid].slug, returning=True)
        page = parse(client.get(url).text)
        form = one(page, "form[method=post]")
        ticked = [str(i["value"]) for i in form.select(f'input[name="{qid}"][checked]')]
        assert ticked == list(OLD[qid]), "the old answer is shown as it was"
        # Re-post the screen as rendered (every checked input; "Not sure" to questions the old
        # assessment was never asked): nothing is lost.
        body = [
            (str(i["name"]), str(i.get("value", "")))
            for i in form.select("input[name]")
            if i.get("type") not in ("checkbox", "radio", "text") or i.has_attr("checked")
        ]
        for fieldset in form.select("fieldset.question:not(.pending)"):
            if not fieldset.select("input[checked]"):  # questions not answered before
                values = [str(i["value"]) for i in fieldset.select("input[type=radio]")]
                answer = "not_sure" if "not_sure" in values else values[-1]
                body.append((str(fieldset["id"]).removeprefix("q-"), answer))
        posted = client.post(url, content=urlencode(body), headers=FORM, follow_redirects=False)
        assert posted.status_code == 303, posted.text
    stored = client.get(f"/api/assessments/{aid}").json()["answers"]
    assert stored["supervision"] == OLD["supervision"]
    assert stored["already_using"] == OLD["already_using"]
    assert client.get(f"/api/assessments/{aid}/recommendation").json() == before
