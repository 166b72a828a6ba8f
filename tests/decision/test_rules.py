"""The ruleset loader rejects bad data with a message that says where and why."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from app.decision.compiler import compile_ruleset
from app.decision.rules import RULES_PATH, RulesError, RulesetData, parse_rules


def _data() -> dict[str, Any]:
    return tomllib.loads(RULES_PATH.read_text(encoding="utf-8"))


def test_real_ruleset_loads_and_compiles() -> None:
    """The shipped file is valid and compiles."""
    data = parse_rules(_data())
    assert isinstance(data, RulesetData)
    assert data.ruleset == "2026.12.3"
    assert compile_ruleset(data).version == data.ruleset


_GAP_RULE = "lc-knowledge-gap"  # a rule with one condition, on the gap


def _first_rule(d: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in d["rule"] if r["id"] == _GAP_RULE)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: _first_rule(d)["when"][0].update(field="gapp"),
            [_GAP_RULE, "unknown profile field 'gapp'", "known fields"],
        ),
        (
            lambda d: _first_rule(d)["when"][0].update({"in": ["knowlege"]}),
            [
                "'knowlege' is not allowed",
                "allowed values: knowledge, behavior, both, unsure, cost_or_latency",
            ],
        ),
        (lambda d: _first_rule(d).update(approach="retrieval"), ["approach", "retrieval"]),
        (lambda d: _first_rule(d)["when"][0].update(lt=5), ["give exactly one of"]),
        (lambda d: _first_rule(d)["when"][0].update(colour="red"), ["colour"]),
        (
            lambda d: _first_rule(d).update(when=[{"field": "corpus_tokens", "contains": "x"}]),
            ["does not support 'contains'"],
        ),
        (
            lambda d: _first_rule(d).update(when=[{"field": "labeled_examples", "lt": -3}]),
            ["-3 is not allowed"],
        ),
        (lambda d: _first_rule(d).update(reason="Because {field}"), ["{value}"]),
        (lambda d: _first_rule(d).update(weight=0.12345), ["more than 3 decimals"]),
        (lambda d: _first_rule(d).update(field="risk"), ["not used in the rule's conditions"]),
        (lambda d: d["rule"].append(copy.deepcopy(d["rule"][0])), ["used twice"]),
        (lambda d: _first_rule(d).update(source="nowhere"), ["unknown source(s): nowhere"]),
        (lambda d: _first_rule(d).pop("source"), ["source", "Field required"]),
        (lambda d: d["source"]["qi2023"].update(url="ftp://x"), ["url"]),
        (
            lambda d: d["plan"]["companion"][1].update(if_fired=["rag-citations"]),
            ["if_fired 'rag-citations' is no rule of long_context"],
        ),
        (lambda d: d["plan"]["keep"][0].update(when=[{"field": "gap", "eq": "both"}]), ["keep"]),
        (lambda d: d["whatif"].update(never=["colour"]), ["unknown profile field 'colour'"]),
        (lambda d: d["base"].pop("rag"), ["[base] lacks approaches: rag"]),
        (lambda d: d["technique_default"].update(fine_tuning="ia3"), ["no recipe", "ia3"]),
        (lambda d: d["prerequisite"][0].update(id="pray"), ["prerequisite.0", "pray"]),
        (lambda d: d.update(ruleset="latest"), ["ruleset"]),
        (lambda d: d.update(extra_table={"x": 1}), ["extra_table"]),
    ],
)
def test_bad_rules_are_rejected(mutate: Any, expected: list[str]) -> None:
    """Each kind of mistake is caught at load time with a readable message."""
    data = _data()
    mutate(data)
    with pytest.raises(RulesError) as err:
        parse_rules(data, "rules.toml")
    message = str(err.value)
    assert message.startswith("rules.toml: invalid ruleset")
    for part in expected:
        assert part in message, (part, message)


def test_conditions_compile_to_the_same_truth_as_test() -> None:
    """The generated source of every condition agrees with its slow evaluator."""
    from app.decision.compiler import build, var
    from app.decision.fields import FIELDS

    samples: dict[str, list[Any]] = {
        name: [None, *(info.allowed or [0, 9, 10, 199999, 200000, 10**7])]
        for name, info in FIELDS.items()
    }
    samples["supervision"] = [None, (), ("preferences",), ("demonstrations", "grader")]
    samples["already_using"] = [None, (), ("rag",), ("fine_tuning", "rag")]
    for rule in parse_rules(_data()).rule:
        for cond in rule.when:
            consts: dict[str, Any] = {}
            src = cond.source(var(cond.field), consts)
            fn = build("t", [f"def t({var(cond.field)}):", f"    return bool({src})"], consts)
            for value in samples[cond.field]:
                assert fn(value) == cond.test(value), (rule.id, cond, value)
