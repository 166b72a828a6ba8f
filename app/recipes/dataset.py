"""Dataset check for JSONL training files: format, counts, tokens, duplicates, turn errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.recipes.errors import BadValue, DatasetError

METHODS: tuple[str, ...] = ("sft", "dpo", "distill", "grpo")
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_LISTED = 100  # issues listed per kind; counts stay exact
CHARS_PER_TOKEN = 4.0  # rough English average for BPE tokenizers; no tokenizer is loaded
ROLES = {"system", "user", "assistant", "tool"}


class Issue(BaseModel):
    """One problem, tied to its 1-based line number."""

    model_config = ConfigDict(frozen=True)

    line: int
    code: str
    message: str


class DatasetReport(BaseModel):
    """The result of a dataset check."""

    model_config = ConfigDict(frozen=True)

    method: str
    ok: bool
    lines: int
    examples: int
    formats: dict[str, int]
    tokens_total: int
    tokens_mean: float
    tokens_max: int
    error_count: int
    warning_count: int
    errors: list[Issue]
    warnings: list[Issue]
    duplicates: int
    overlong: int
    eval_split: dict[str, Any]
    assumptions: list[str]


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


def _issue(line: int, text: str) -> Issue:
    code, _, message = text.partition(": ")
    return Issue(line=line, code=code, message=message)


def eval_split(examples: int) -> dict[str, Any]:
    """How many examples to hold out for evaluation before training."""
    held = max(min(round(examples * 0.1), 1000), min(50, examples // 4)) if examples else 0
    note = (
        "Hold these out before training (random or stratified by input type), remove their "
        "near-duplicates from the training part, and never train on them."
    )
    if examples < 100:
        note = (
            "Fewer than 100 examples: keep the held-out set anyway, and collect more before "
            "trusting a gain."
        )
    return {"eval_examples": held, "train_examples": examples - held, "note": note}


def check_lines(
    lines: Iterable[bytes | str], method: str, *, max_length: int = 2048
) -> DatasetReport:
    """Check JSONL lines for the method; malformed lines become errors, never exceptions."""
    if method not in METHODS:
        raise BadValue(
            f"method: expected one of {', '.join(METHODS)}, got {method!r}", key="method"
        )
    errors: list[Issue] = []
    warnings: list[Issue] = []
    n_err = n_warn = count = examples = duplicates = overlong = 0
    formats: dict[str, int] = {}
    token_counts: list[int] = []
    seen: dict[str, int] = {}

    def add(target: list[Issue], issue: Issue) -> None:
        if len(target) < MAX_LISTED:
            target.append(issue)

    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            n_err += 1
            add(errors, Issue(line=number, code="malformed", message="not valid UTF-8"))
            continue
        if not text.strip():
            continue
        count += 1
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            n_err += 1
            add(
                errors,
                Issue(
                    line=number,
                    code="malformed",
                    message=f"not valid JSON: {exc.msg} at column {exc.colno}",
                ),
            )
            continue
        if not isinstance(record, dict):
            n_err += 1
            add(
                errors,
                Issue(line=number, code="not_object", message="each line must be a JSON object"),
            )
            continue
        fmt, errs, warns, tokens = _check_record(record, method)
        if fmt != "unknown":
            formats[fmt] = formats.get(fmt, 0) + 1
        for e in errs:
            n_err += 1
            add(errors, _issue(number, e))
        for w in warns:
            n_warn += 1
            add(warnings, _issue(number, w))
        if errs:
            continue
        examples += 1
        token_counts.append(tokens)
        if tokens > max_length:
            overlong += 1
            n_warn += 1
            add(
                warnings,
                Issue(
                    line=number,
                    code="overlong",
                    message=f"about {tokens} tokens, over max_length {max_length}: it will be "
                    f"truncated",
                ),
            )
        digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        if digest in seen:
            duplicates += 1
            n_warn += 1
            add(
                warnings,
                Issue(line=number, code="duplicate", message=f"same as line {seen[digest]}"),
            )
        else:
            seen[digest] = number
    if len(formats) > 1:
        n_warn += 1
        add(
            warnings,
            Issue(line=0, code="mixed_format", message=f"several layouts in one file: {formats}"),
        )
    if count == 0:
        n_err += 1
        add(errors, Issue(line=0, code="empty_file", message="no JSON lines found"))
    total = sum(token_counts)
    return DatasetReport(
        method=method,
        ok=n_err == 0,
        lines=count,
        examples=examples,
        formats=formats,
        tokens_total=total,
        tokens_mean=round(total / len(token_counts), 1) if token_counts else 0.0,
        tokens_max=max(token_counts, default=0),
        error_count=n_err,
        warning_count=n_warn,
        errors=errors,
        warnings=warnings,
        duplicates=duplicates,
        overlong=overlong,
        eval_split=eval_split(examples),
        assumptions=[
            f"Tokens estimated at {CHARS_PER_TOKEN:g} characters per token plus 4 per chat turn; "
            "the model's own tokenizer may differ by 20-30%.",
            f"At most {MAX_LISTED} errors and {MAX_LISTED} warnings are listed; counts are exact.",
        ],
    )


def check_bytes(
    data: bytes, method: str, *, max_length: int = 2048, max_bytes: int = MAX_FILE_BYTES
) -> DatasetReport:
    """Check an uploaded JSONL body (size-limited)."""
    if len(data) > max_bytes:
        raise DatasetError(
            f"dataset: {len(data)} bytes is over the {max_bytes}-byte limit", key="dataset"
        )
    return check_lines(data.split(b"\n"), method, max_length=max_length)


def check_file(
    path: str | Path, method: str, *, max_length: int = 2048, max_bytes: int = MAX_FILE_BYTES
) -> DatasetReport:
    """Check a JSONL file on disk (size-limited), reading it line by line."""
    file = Path(path)
    if not file.is_file():
        raise DatasetError(f"dataset: no such file {str(file)!r}", key="dataset")
    if file.stat().st_size > max_bytes:
        raise DatasetError(f"dataset: {file} is over the {max_bytes}-byte limit", key="dataset")
    with file.open("rb") as handle:
        return check_lines((line.rstrip(b"\r\n") for line in handle), method, max_length=max_length)
