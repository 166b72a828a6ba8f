"""Read every LLaMA-Factory export with LLaMA-Factory 0.9.5 itself (in .venv-checks/llamafactory).

python checks/check_llamafactory.py OUT: for each export and each documented row layout,
`get_train_args` parses the YAML as `llamafactory-cli train` does, then the tokenizer, template
and `get_dataset` load the converted rows through dataset_info.json, offline, from the folder
the export would run in. Exits 1 when any export is rejected or loses a row.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
import traceback
import types
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
# torchaudio and torchvision have no build for torch 2.13 that loads on its CPU build, so the venv
# goes without them (checks/venv.sh). LLaMA-Factory imports torchaudio at module level for audio
# inputs only, which no recipe has: an empty module stands in for it.
try:
    import torchaudio  # noqa: F401
except ImportError:
    stand_in = types.ModuleType("torchaudio")
    stand_in.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules["torchaudio"] = stand_in


TORCHRUN_ENV = {
    "RANK": "0",
    "LOCAL_RANK": "0",
    "WORLD_SIZE": "1",
    "LOCAL_WORLD_SIZE": "1",
    "MASTER_ADDR": "127.0.0.1",
    "MASTER_PORT": "29511",
}


def launcher_env(command: str) -> None:
    """The environment `llamafactory-cli train` gives the trainer for this Run: line.

    FORCE_TORCHRUN=1 makes the CLI start the trainer under torchrun, which sets the rank
    variables; without it the CLI runs the trainer in its own process, without them.
    """
    for key in ("FORCE_TORCHRUN", *TORCHRUN_ENV):
        os.environ.pop(key, None)
    assignments = [w for w in command.split() if "=" in w and w.split("=")[0].isupper()]
    os.environ.update(dict(a.split("=", 1) for a in assignments))
    if os.environ.get("FORCE_TORCHRUN", "0").lower() in ("1", "true"):
        os.environ.update(TORCHRUN_ENV)


def check(case: dict[str, Any], layout: str, model: str) -> str | None:
    """None when LLaMA-Factory reads the export and all its rows, else why not."""
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    folder = Path(case["folder"]) / layout
    os.chdir(folder)
    launcher_env(case["command"])
    config = yaml.safe_load((folder / case["config"]).read_text(encoding="utf-8"))
    # The only changes: the tiny offline model instead of the hub id, and no bf16 on this CPU.
    config["model_name_or_path"] = model
    config["bf16"] = False
    model_args, data_args, training_args, finetuning_args, _ = get_train_args(config)
    expected = case["expected"]
    problems = []
    if training_args.output_dir != expected["output_dir"]:
        problems.append(f"output_dir {training_args.output_dir}")
    if training_args.learning_rate != expected["learning_rate"]:
        problems.append(f"learning_rate {training_args.learning_rate}")
    if data_args.cutoff_len != expected["max_length"]:
        problems.append(f"cutoff_len {data_args.cutoff_len}")
    if bool(training_args.deepspeed) != expected["deepspeed"]:
        problems.append(f"deepspeed {training_args.deepspeed!r}")
    if not 0 < training_args.warmup_steps < 1:
        problems.append(f"warmup_steps {training_args.warmup_steps} is not a share of the steps")
    tokenizer_module = load_tokenizer(model_args)
    template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
    # As LLaMA-Factory's workflows call it: the DPO workflow loads pairs with stage "rm".
    stage = {"dpo": "rm"}.get(finetuning_args.stage, finetuning_args.stage)
    module = get_dataset(template, model_args, data_args, training_args, stage, **tokenizer_module)
    rows = sum(len(module[k]) for k in ("train_dataset", "eval_dataset") if module.get(k))
    lines = (folder / case["converted"]).read_text(encoding="utf-8").splitlines()
    total = sum(1 for line in lines if line.strip())
    if rows != total:
        problems.append(f"{rows} of {total} rows loaded")
    return "; ".join(problems) or None


def run_one(out: Path, index: int, layout: str) -> int:
    """Check one export in this process and print its verdict as the last line (JSON)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    try:
        problem = check(manifest["cases"][index], layout, manifest["model"])
    except BaseException as exc:  # SystemExit too: the tools' CLI helpers exit on bad input
        traceback.print_exc(limit=int(os.environ.get("CHECK_TRACEBACK", "3")))
        problem = f"{type(exc).__name__}: {str(exc)[:300]}"
    print(json.dumps({"problem": problem}))
    return 0


def main(out: Path) -> int:
    """Each export in a process of its own, as each `llamafactory-cli` run is."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    results = []
    for index, case in enumerate(manifest["cases"]):
        if case["tool"] != "llamafactory":
            continue
        for layout in case["layouts"]:
            name = f"{case['recipe']} ({case['gpu']}, {layout} rows)"
            run = subprocess.run(
                [sys.executable, __file__, str(out), str(index), layout],
                capture_output=True,
                text=True,
                check=False,
            )
            sys.stderr.write(run.stderr)
            lines = run.stdout.strip().splitlines()
            try:
                problem = json.loads(lines[-1])["problem"]
            except (IndexError, ValueError, KeyError):
                problem = f"the check process died (exit {run.returncode})"
            results.append({"case": name, "ok": problem is None, "problem": problem})
            print(f"{'ok  ' if problem is None else 'FAIL'} llamafactory {name} {problem or ''}")
    (out / "llamafactory-results.json").write_text(json.dumps(results, indent=2))
    failed = sum(not r["ok"] for r in results)
    print(f"llamafactory: {len(results) - failed} accepted, {failed} rejected")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    if len(sys.argv) == 4:
        sys.exit(run_one(Path(sys.argv[1]).resolve(), int(sys.argv[2]), sys.argv[3]))
    sys.exit(main(Path(sys.argv[1]).resolve()))
