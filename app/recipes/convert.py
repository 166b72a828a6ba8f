"""Dataset conversion from the app's JSONL layouts to the layouts Axolotl and LLaMA-Factory read.

The exports of those two trainers read the converted file: chat `messages` for SFT, and for DPO
the prompt as messages with one chosen and one rejected assistant message. LLaMA-Factory also
needs the dataset registered by name in a dataset_info.json beside the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.recipes.dataset import Issue, check_lines
from app.recipes.dataset_records import _text_of
from app.recipes.errors import BadValue, DatasetError

TOOLS: tuple[str, ...] = ("llamafactory", "axolotl")
CONVERT_METHODS: tuple[str, ...] = ("sft", "dpo")
# Which layouts each export's tool reads as they are (check formats); "convert" means the export
# reads the file `advisor dataset convert` writes. Hosted DPO needs the provider's own layout.
READS: dict[str, dict[str, tuple[str, ...]]] = {
    "sft": {
        "trl": ("messages", "prompt_completion", "text"),
        "axolotl": (),
        "llamafactory": (),
        "openai": ("messages",),
        "together": ("messages", "prompt_completion", "text"),
        "fireworks": ("messages",),
    },
    "dpo": {
        "trl": ("preference",),
        "axolotl": (),
        "llamafactory": (),
        "openai": (),
        "together": (),
        "fireworks": (),
    },
    "distill": {"trl": ("prompts",)},
}
HOSTED_PREFERENCE = (
    "the provider's preference layout: input.messages, preferred_output, non_preferred_output"
)
_LF_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "observation_tag": "tool",
    "system_tag": "system",
}


class Converted(BaseModel):
    """What a conversion wrote, or the lines that stopped it."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    tool: str
    method: str
    rows: int
    output: str | None
    dataset_info: str | None
    errors: list[Issue]


def llamafactory_name(method: str) -> str:
    """The dataset's name in dataset_info.json, which the LLaMA-Factory export names."""
    return "advisor_" + ("dpo" if method == "dpo" else "sft")


def converted_path(dataset: str, tool: str) -> str:
    """Where the converted file goes: a folder named after the tool beside the original."""
    folder, _, name = dataset.rpartition("/")
    return f"{folder}/{tool}/{name}" if folder else f"{tool}/{name}"


LAYOUT_NAMES = {
    "messages": "`messages` chat lines",
    "prompt_completion": "`prompt`/`completion` lines",
    "text": "`text` lines",
    "preference": "`prompt`/`chosen`/`rejected` lines",
    "prompts": "prompt-only lines",
}


def layouts_read(method: str, tool: str) -> str:
    """What one export's tool reads for the method, in a sentence for the recipe page."""
    reads = READS.get(method, {}).get(tool)
    if tool in TOOLS and method in CONVERT_METHODS:
        return (
            f"the file `advisor dataset convert FILE --to {tool} --method {method}` writes "
            "from the lines above"
        )
    if reads:
        return ", ".join(LAYOUT_NAMES[r] for r in reads) + ", as they are"
    if method == "dpo":
        return HOSTED_PREFERENCE
    return "no layout of the app's: see the tool's documentation"


def tool_layouts(method: str, formats: dict[str, int]) -> dict[str, str]:
    """Per export tool: whether it reads the checked file's layouts as they are."""
    out: dict[str, str] = {}
    for tool, reads in READS.get(method, {}).items():
        found = set(formats)
        if tool in TOOLS:
            out[tool] = f"convert first: advisor dataset convert FILE --to {tool} --method {method}"
        elif not reads and method == "dpo":
            out[tool] = f"not as is: needs {HOSTED_PREFERENCE}"
        elif found <= set(reads):
            out[tool] = "reads it as is"
        else:
            out[tool] = f"not as is: reads only {', '.join(reads)} lines"
    return out


def _messages(value: Any, role: str) -> list[dict[str, str]]:
    """A string or a message list as role/content messages with text content."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return [{"role": m["role"], "content": _text_of(m["content"]) or ""} for m in value]


def _one_answer(value: Any, field: str) -> dict[str, str]:
    """A chosen or rejected answer as one assistant message."""
    messages = _messages(value, "assistant")
    if len(messages) != 1 or messages[0]["role"] != "assistant":
        raise ValueError(f"multi_turn: `{field}` must be one assistant answer for this tool")
    return messages[0]


def _alternates(messages: list[dict[str, str]], *, ends_with_user: bool) -> None:
    """LLaMA-Factory's sharegpt rule: optional system first, then user and assistant in turn."""
    turns = messages[1:] if messages and messages[0]["role"] == "system" else messages
    for i, m in enumerate(turns):
        allowed = ("user", "tool") if i % 2 == 0 else ("assistant",)
        if m["role"] not in allowed:
            raise ValueError(
                f"role_order: turn {i} is {m['role']}; LLaMA-Factory needs user (or tool) and "
                "assistant turns in alternation after an optional system message"
            )
    if bool(len(turns) % 2) != ends_with_user:
        last = "user" if ends_with_user else "assistant"
        raise ValueError(f"role_order: LLaMA-Factory needs the messages to end with {last}")


def convert_record(record: dict[str, Any], method: str, tool: str) -> dict[str, Any]:
    """One checked line in the tool's layout; ValueError('code: message') when it has none."""
    if method == "sft":
        if "messages" in record:
            messages = _messages(record["messages"], "user")
        elif "prompt" in record and "completion" in record:
            prompt = _messages(record["prompt"], "user")
            messages = prompt + _messages(record["completion"], "assistant")
        else:
            raise ValueError(
                f"no_roles: `text` lines carry no roles; the {tool} export trains on chat "
                "messages (the trl export reads text lines)"
            )
        if tool == "llamafactory":
            _alternates(messages, ends_with_user=False)
        return {"messages": messages}
    prompt = _messages(record["prompt"], "user")
    chosen = _one_answer(record["chosen"], "chosen")
    rejected = _one_answer(record["rejected"], "rejected")
    if tool == "llamafactory":
        _alternates(prompt, ends_with_user=True)
        return {"messages": prompt, "chosen": chosen, "rejected": rejected}
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def dataset_info_entry(method: str, file_name: str) -> dict[str, Any]:
    """LLaMA-Factory's dataset_info.json entry for a converted file."""
    columns = {"messages": "messages"}
    entry: dict[str, Any] = {"file_name": file_name, "formatting": "sharegpt"}
    if method == "dpo":
        entry["ranking"] = True
        columns |= {"chosen": "chosen", "rejected": "rejected"}
    return entry | {"columns": columns, "tags": dict(_LF_TAGS)}


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename, so a failed write leaves the old file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def convert_file(
    source: str | Path, *, tool: str, method: str, out_dir: str | Path | None = None
) -> Converted:
    """Check the file, then write it in the tool's layout (nothing is written if a line fails)."""
    if tool not in TOOLS:
        raise BadValue(f"to: expected one of {', '.join(TOOLS)}, got {tool!r}", key="to")
    if method not in CONVERT_METHODS:
        raise BadValue(
            f"method: expected one of {', '.join(CONVERT_METHODS)} (the {tool} exports train "
            f"those), got {method!r}",
            key="method",
        )
    file = Path(source)
    if not file.is_file():
        raise DatasetError(f"dataset: no such file {str(file)!r}", key="dataset")
    lines = file.read_bytes().split(b"\n")
    report = check_lines(lines, method)
    errors = list(report.errors)
    rows: list[dict[str, Any]] = []
    if report.ok:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                rows.append(convert_record(json.loads(raw), method, tool))
            except ValueError as exc:
                code, _, message = str(exc).partition(": ")
                errors.append(Issue(line=number, code=code, message=message))
    if errors:
        return Converted(
            ok=False,
            tool=tool,
            method=method,
            rows=0,
            output=None,
            dataset_info=None,
            errors=errors,
        )
    target_dir = Path(out_dir) if out_dir is not None else file.parent / tool
    target = target_dir / file.name
    if target.resolve() == file.resolve():
        raise BadValue("out: the converted file would replace the original", key="out")
    _write_atomic(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    info_path = None
    if tool == "llamafactory":
        info_file = target_dir / "dataset_info.json"
        info = json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else {}
        info[llamafactory_name(method)] = dataset_info_entry(method, file.name)
        _write_atomic(info_file, json.dumps(info, indent=2) + "\n")
        info_path = str(info_file)
    return Converted(
        ok=True,
        tool=tool,
        method=method,
        rows=len(rows),
        output=str(target),
        dataset_info=info_path,
        errors=[],
    )
