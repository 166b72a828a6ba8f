"""Dataset check for JSONL training files: format, counts, tokens, duplicates, turn errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.recipes.dataset_records import CHARS_PER_TOKEN, _check_record
from app.recipes.errors import BadValue, DatasetError

METHODS: tuple[str, ...] = ("sft", "dpo", "distill", "grpo", "classify")
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_LISTED = 100  # issues listed per kind; counts stay exact
UTF8_BOM = b"\xef\xbb\xbf"
_NON_SPACE = re.compile(rb"\S")
EMPTY_HINT = (
    "no JSON lines found: the file is empty; it needs one JSON object per line, for example "
    '{"prompt": "...", "completion": "..."}'
)


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
        add(errors, Issue(line=0, code="empty_file", message=EMPTY_HINT))
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
    hints: list[Issue] = []
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
        hints.append(
            Issue(
                line=1,
                code="utf8_bom",
                message="the file starts with a UTF-8 byte-order mark; it is skipped here, but "
                "some loaders read it as part of the first line: save as UTF-8 without BOM",
            )
        )
    first = first_line(data)
    if looks_like_csv(first):
        shown = first[:80].decode("utf-8", "replace")
        return _whole_file_error(
            method,
            "csv",
            f"this looks like CSV (first line {shown!r}), not JSONL: save one JSON object per "
            "line, e.g. with pandas: pd.read_csv(path).to_json(out, orient='records', "
            "lines=True)",
        )
    report = check_lines(data.split(b"\n"), method, max_length=max_length)
    if not hints:
        return report
    return report.model_copy(
        update={
            "warnings": hints + report.warnings,
            "warning_count": report.warning_count + len(hints),
        }
    )


def _whole_file_error(method: str, code: str, message: str) -> DatasetReport:
    """A report whose one error is about the whole file (line 0)."""
    empty = check_lines([], method)
    return empty.model_copy(
        update={"errors": [Issue(line=0, code=code, message=message)], "error_count": 1}
    )


def first_line(data: bytes) -> bytes:
    """The first non-blank line, stripped, found without splitting the whole body."""
    found = _NON_SPACE.search(data)
    if found is None:
        return b""
    end = data.find(b"\n", found.start())
    return data[found.start() : end if end >= 0 else len(data)].strip()


def looks_like_csv(first_line: bytes) -> bool:
    """A first line that is not JSON but has separators: a CSV (or TSV) header or row."""
    if not first_line or first_line[:1] in (b"{", b"["):
        return False
    return b"," in first_line or b"\t" in first_line or b";" in first_line


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
        head = handle.read(64 * 1024)
    if head.startswith(UTF8_BOM) or looks_like_csv(first_line(head)):
        return check_bytes(file.read_bytes(), method, max_length=max_length, max_bytes=max_bytes)
    with file.open("rb") as handle:
        return check_lines((line.rstrip(b"\r\n") for line in handle), method, max_length=max_length)
