"""Checks of one training example (a JSON object) per method: layout, turns, rough tokens."""

from __future__ import annotations

from typing import Any

CHARS_PER_TOKEN = 4.0  # rough English average for BPE tokenizers; no tokenizer is loaded
ROLES = {"system", "user", "assistant", "tool"}
# Keys other tools use for the answer; the check names the rename instead of a bare "missing".
ANSWER_KEYS = ("response", "output", "answer", "target")
# The same for a classifier's input and label.
TEXT_KEYS = ("input", "sentence", "prompt", "content")
LABEL_KEYS = ("labels", "category", "class", "target", "answer")


def _tokens(text: str) -> int:
    return max(1, round(len(text) / CHARS_PER_TOKEN)) if text else 0


def _text_of(content: Any) -> str | None:
    """Message content as text: a string, or a list of {type: text, text: ...} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    return None


def _check_messages(
    messages: Any, field: str, *, need_last: str | None, answers: bool = False
) -> tuple[list[str], int]:
    """Problems with a chat message list (messages as 'code: text') and its token estimate.

    `answers` marks a completion (chosen, rejected, completion): it continues a prompt, so it
    may start with the assistant's turn.
    """
    if not isinstance(messages, list) or not messages:
        return [f"bad_type: `{field}` must be a non-empty list of messages"], 0
    problems: list[str] = []
    tokens = 0
    previous: str | None = "user" if answers else None
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            problems.append(f"bad_type: {field}[{i}] needs `role` and `content`")
            continue
        role, text = message["role"], _text_of(message["content"])
        if role not in ROLES:
            problems.append(
                f"unknown_role: {field}[{i}] role {role!r}; allowed: {', '.join(sorted(ROLES))}"
            )
        if text is None:
            problems.append(f"bad_type: {field}[{i}] content must be text")
            continue
        if not text.strip() and not message.get("tool_calls"):
            problems.append(f"empty_turn: {field}[{i}] ({role}) is empty")
        tokens += _tokens(text) + 4  # a few tokens of role markup per turn
        if role == "system" and i > 0:
            problems.append(f"role_order: {field}[{i}] system message after the start")
        elif role == "user" and previous == "user":
            problems.append(f"role_order: {field}[{i}] two user turns in a row")
        elif role == "assistant" and previous in (None, "system", "assistant"):
            problems.append(
                f"role_order: {field}[{i}] assistant turn without a user turn before it"
            )
        previous = role
    if need_last and previous != need_last and not any(p.startswith("bad_type") for p in problems):
        problems.append(
            f"role_order: `{field}` must end with a {need_last} turn, ends with {previous}"
        )
    return problems, tokens


def _check_text(value: Any, field: str) -> tuple[list[str], int]:
    if not isinstance(value, str):
        return [f"bad_type: `{field}` must be a string"], 0
    if not value.strip():
        return [f"empty_turn: `{field}` is empty"], 0
    return [], _tokens(value)


def _check_record(record: dict[str, Any], method: str) -> tuple[str, list[str], list[str], int]:
    """(format, errors, warnings, tokens) of one JSON object for the method."""
    errs: list[str]
    warns: list[str]
    if method == "classify":
        return _check_labelled(record)
    if method == "sft":
        if "messages" in record:
            errs, tokens = _check_messages(record["messages"], "messages", need_last="assistant")
            return "messages", errs, [], tokens
        if "prompt" in record and "completion" in record:
            e1, t1 = (
                _check_text(record["prompt"], "prompt")
                if isinstance(record["prompt"], str)
                else _check_messages(record["prompt"], "prompt", need_last="user")
            )
            e2, t2 = (
                _check_text(record["completion"], "completion")
                if isinstance(record["completion"], str)
                else _check_messages(
                    record["completion"], "completion", need_last="assistant", answers=True
                )
            )
            return "prompt_completion", e1 + e2, [], t1 + t2
        if "text" in record:
            errs, tokens = _check_text(record["text"], "text")
            return "text", errs, [], tokens
        for answer_key in ANSWER_KEYS:
            if answer_key in record and ("prompt" in record or "instruction" in record):
                asked = "prompt" if "prompt" in record else "instruction"
                return (
                    "unknown",
                    [
                        f"missing_field: has `{asked}` and `{answer_key}`; the trainers read "
                        f"`prompt` and `completion`: rename `{answer_key}` to `completion`"
                        + (" and `instruction` to `prompt`" if asked == "instruction" else "")
                    ],
                    [],
                    0,
                )
        return "unknown", ["missing_field: needs `messages`, or `prompt` and `completion`"], [], 0
    if method == "dpo":
        missing = [k for k in ("prompt", "chosen", "rejected") if k not in record]
        if missing:
            return (
                "unknown",
                [f"missing_field: needs prompt, chosen, rejected (missing {', '.join(missing)})"],
                [],
                0,
            )
        errs, warns, tokens = [], [], 0
        for key, last in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
            value = record[key]
            e, t = (
                _check_text(value, key)
                if isinstance(value, str)
                else _check_messages(value, key, need_last=last, answers=key != "prompt")
            )
            errs += e
            tokens += t
        if record["chosen"] == record["rejected"]:
            errs.append(
                "chosen_equals_rejected: chosen and rejected are identical; the pair teaches "
                "nothing"
            )
        return "preference", errs, warns, tokens
    if method == "grpo":
        return _check_graded(record)
    # distill: prompts only; the teacher (or the student, on-policy) writes the answers.
    prompt = record.get("prompt", record.get("messages"))
    if prompt is None:
        return (
            "unknown",
            ["missing_field: needs `prompt` (a string or a list of messages ending with user)"],
            [],
            0,
        )
    warns = (
        ["answers_ignored: answers in the line are ignored for distillation"]
        if ("completion" in record or "chosen" in record)
        else []
    )
    if isinstance(prompt, str):
        errs, tokens = _check_text(prompt, "prompt")
    else:
        errs, tokens = _check_messages(prompt, "prompt", need_last="user")
    return "prompts", errs, warns, tokens


def _check_graded(record: dict[str, Any]) -> tuple[str, list[str], list[str], int]:
    """GRPO: a prompt the policy answers and the reference `solution` the grader checks."""
    missing = [k for k in ("prompt", "solution") if k not in record]
    if missing:
        return (
            "unknown",
            [f"missing_field: needs prompt and solution (missing {', '.join(missing)})"],
            [],
            0,
        )
    prompt = record["prompt"]
    errs, tokens = (
        _check_text(prompt, "prompt")
        if isinstance(prompt, str)
        else _check_messages(prompt, "prompt", need_last="user")
    )
    solution = record["solution"]
    if isinstance(solution, int | float) and not isinstance(solution, bool):
        solution = str(solution)  # a number is a fine reference answer; the grader compares text
    e, _ = _check_text(solution, "solution")
    warns = (
        ["answers_ignored: the policy writes its own answers; completion/chosen are ignored"]
        if ("completion" in record or "chosen" in record)
        else []
    )
    return "graded", errs + e, warns, tokens


def _check_labelled(record: dict[str, Any]) -> tuple[str, list[str], list[str], int]:
    """Classifier lines: the input `text` and the teacher's `label` (a string or a number)."""
    problems: list[str] = []
    for key, others in (("text", TEXT_KEYS), ("label", LABEL_KEYS)):
        if key not in record:
            found = next((k for k in others if k in record), None)
            rename = f"; rename `{found}` to `{key}`" if found else ""
            problems.append(f"missing_field: needs `text` and `label` (no `{key}`{rename})")
    if problems:
        return "unknown", problems, [], 0
    errs, tokens = _check_text(record["text"], "text")
    label = record["label"]
    if isinstance(label, bool) or not isinstance(label, str | int) or str(label).strip() == "":
        errs.append("bad_type: `label` must be a non-empty string or an integer")
    return "labelled", errs, [], tokens
