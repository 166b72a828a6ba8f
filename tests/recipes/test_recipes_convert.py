"""`advisor dataset convert`: the app's layouts written as Axolotl and LLaMA-Factory read them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.recipes import BadValue, check_lines
from app.recipes.convert import convert_file, converted_path, tool_layouts
from app.recipes_cli import dataset_app

cli = typer.Typer()
cli.add_typer(dataset_app, name="dataset")

SFT = [
    {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "hello"},
        ]
    },
    {"prompt": "q", "completion": "a"},
    {
        "prompt": [{"role": "user", "content": "q2"}],
        "completion": [{"role": "assistant", "content": "a2"}],
    },
]
DPO = [
    {"prompt": "p", "chosen": "good", "rejected": "bad"},
    {
        "prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}],
        "chosen": [{"role": "assistant", "content": "yes"}],
        "rejected": [{"role": "assistant", "content": "no"}],
    },
]


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _read(path: str | Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_sft_becomes_chat_messages_with_a_dataset_info_entry(tmp_path: Path) -> None:
    source = _write(tmp_path / "train.jsonl", SFT)
    result = convert_file(source, tool="llamafactory", method="sft")
    assert result.ok and result.rows == 3
    assert result.output == str(tmp_path / "llamafactory" / "train.jsonl")
    rows = _read(result.output)
    assert rows[0]["messages"][1] == {"role": "user", "content": "hi"}
    assert rows[1] == {
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    }
    info = json.loads((tmp_path / "llamafactory" / "dataset_info.json").read_text())
    assert info["advisor_sft"]["file_name"] == "train.jsonl"
    assert info["advisor_sft"]["formatting"] == "sharegpt"
    assert "ranking" not in info["advisor_sft"]
    assert _read(convert_file(source, tool="axolotl", method="sft").output or "") == rows


def test_dpo_pairs_in_each_tool_layout(tmp_path: Path) -> None:
    source = _write(tmp_path / "prefs.jsonl", DPO)
    lf = _read(convert_file(source, tool="llamafactory", method="dpo").output or "")
    assert lf[0] == {
        "messages": [{"role": "user", "content": "p"}],
        "chosen": {"role": "assistant", "content": "good"},
        "rejected": {"role": "assistant", "content": "bad"},
    }
    assert lf[1]["messages"][0]["role"] == "system"
    ax = _read(convert_file(source, tool="axolotl", method="dpo").output or "")
    assert ax[1]["prompt"][1] == {"role": "user", "content": "q"}
    assert ax[1]["chosen"] == {"role": "assistant", "content": "yes"}
    info = json.loads((tmp_path / "llamafactory" / "dataset_info.json").read_text())
    assert info["advisor_dpo"]["ranking"] is True


def test_entries_are_merged_into_an_existing_dataset_info(tmp_path: Path) -> None:
    (tmp_path / "llamafactory").mkdir()
    (tmp_path / "llamafactory" / "dataset_info.json").write_text('{"mine": {"file_name": "x"}}')
    convert_file(_write(tmp_path / "t.jsonl", SFT), tool="llamafactory", method="sft")
    info = json.loads((tmp_path / "llamafactory" / "dataset_info.json").read_text())
    assert set(info) == {"mine", "advisor_sft"}


def test_lines_a_tool_cannot_read_stop_the_conversion(tmp_path: Path) -> None:
    rows = [
        {"text": "plain"},
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "tool", "content": "b"},
                {"role": "assistant", "content": "c"},
            ]
        },
    ]
    source = _write(tmp_path / "t.jsonl", rows)
    result = convert_file(source, tool="llamafactory", method="sft")
    assert not result.ok and result.output is None
    assert [(e.line, e.code) for e in result.errors] == [(1, "no_roles"), (2, "role_order")]
    assert not (tmp_path / "llamafactory").exists()
    two_turn = [
        {
            "prompt": "p",
            "chosen": [
                {"role": "assistant", "content": "a"},
                {"role": "user", "content": "more"},
                {"role": "assistant", "content": "b"},
            ],
            "rejected": "c",
        }
    ]
    bad = convert_file(_write(tmp_path / "d.jsonl", two_turn), tool="axolotl", method="dpo")
    assert [(e.line, e.code) for e in bad.errors] == [(1, "multi_turn")]


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    source = _write(tmp_path / "t.jsonl", SFT)
    with pytest.raises(BadValue, match="to: expected one of llamafactory, axolotl"):
        convert_file(source, tool="unsloth", method="sft")
    with pytest.raises(BadValue, match="method: expected one of sft, dpo"):
        convert_file(source, tool="axolotl", method="distill")
    with pytest.raises(BadValue, match="replace the original"):
        convert_file(source, tool="axolotl", method="sft", out_dir=tmp_path)


def test_cli_convert_prints_the_summary_and_exits_2_on_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    source = _write(tmp_path / "prefs.jsonl", DPO)
    ok = runner.invoke(
        cli, ["dataset", "convert", str(source), "--to", "axolotl", "--method", "dpo"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["rows"] == 2
    bad = _write(tmp_path / "bad.jsonl", [{"prompt": "p", "chosen": "x", "rejected": "x"}])
    failed = runner.invoke(
        cli, ["dataset", "convert", str(bad), "--to", "axolotl", "--method", "dpo"]
    )
    assert failed.exit_code == 2
    assert json.loads(failed.stdout)["errors"][0]["code"] == "chosen_equals_rejected"


def test_converted_paths_and_tool_layouts() -> None:
    assert converted_path("data/train.jsonl", "axolotl") == "data/axolotl/train.jsonl"
    assert converted_path("train.jsonl", "llamafactory") == "llamafactory/train.jsonl"
    layouts = tool_layouts("sft", {"prompt_completion": 3})
    assert layouts["trl"] == "reads it as is" and layouts["together"] == "reads it as is"
    assert layouts["openai"].startswith("not as is") and "convert" in layouts["axolotl"]
    assert "preferred_output" in tool_layouts("dpo", {"preference": 1})["openai"]


def test_completions_as_message_lists_pass_the_check() -> None:
    report = check_lines([json.dumps(r) for r in DPO], "dpo")
    assert report.ok, report.errors
    assert check_lines([json.dumps(r) for r in SFT], "sft").ok
