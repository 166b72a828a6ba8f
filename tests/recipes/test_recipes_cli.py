"""The recipe and dataset CLI through typer's CliRunner, mounted as the main CLI mounts it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from app.recipes import list_ids
from app.recipes_cli import dataset_app, recipe_app

cli = typer.Typer()
cli.add_typer(recipe_app, name="recipe")
cli.add_typer(dataset_app, name="dataset")
runner = CliRunner()


def test_list_render_estimate() -> None:
    result = runner.invoke(cli, ["recipe", "list"])
    assert result.exit_code == 0 and json.loads(result.stdout) == list_ids()
    result = runner.invoke(
        cli, ["recipe", "render", "sft-lora", "--format", "trl", "--set", "epochs=1"]
    )
    assert result.exit_code == 0 and "num_train_epochs: 1.0" in result.stdout
    assert result.stdout.startswith("# Supervised fine-tuning with LoRA")
    result = runner.invoke(cli, ["recipe", "estimate", "sft-full", "--set", "gpu=H100"])
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["gpu"]["type"] == "H100" and data["gpu"]["count"] >= 2
    result = runner.invoke(cli, ["recipe", "show", "dpo-lora"])
    assert result.exit_code == 0 and json.loads(result.stdout)["id"] == "dpo-lora"


def test_hosted_render_keeps_notes_off_stdout() -> None:
    result = runner.invoke(cli, ["recipe", "render", "sft-lora", "--format", "openai"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["method"]["type"] == "supervised"
    assert "note:" in result.stderr


def test_errors_name_what_is_wrong_and_exit_2() -> None:
    cases = [
        (["recipe", "render", "nope"], "'nope'"),
        (["recipe", "render", "sft-lora", "--format", "docx"], "'docx'"),
        (["recipe", "estimate", "sft-lora", "--set", "lr=1"], "'lr'"),
        (["recipe", "estimate", "sft-lora", "--set", "examples=lots"], "examples"),
        (["recipe", "render", "sft-qlora", "--format", "openai"], "not available on openai"),
        (["recipe", "render", "sft-qlora", "--set", "gpu=cpu"], "gpu"),
    ]
    for argv, words in cases:
        result = runner.invoke(cli, argv)
        assert result.exit_code == 2, argv
        assert words in result.stderr, (argv, result.stderr)
        assert result.stdout == ""


def test_dataset_check_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n")
    result = runner.invoke(cli, ["dataset", "check", str(good), "--method", "dpo"])
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    result = runner.invoke(cli, ["dataset", "check", str(bad), "--method", "sft"])
    assert result.exit_code == 2 and json.loads(result.stdout)["errors"][0]["line"] == 1
    result = runner.invoke(cli, ["dataset", "check", str(good), "--method", "ppo"])
    assert result.exit_code == 2 and "ppo" in result.stderr
    result = runner.invoke(cli, ["dataset", "check", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2 and "no such file" in result.stderr
