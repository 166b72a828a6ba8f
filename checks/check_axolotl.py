"""Read every Axolotl export with Axolotl 0.19.0 itself (runs in .venv-checks/axolotl).

python checks/check_axolotl.py OUT: for each export and each documented row layout, Axolotl's
`load_cfg` validates the YAML (AxolotlInputConfig, as `axolotl train` does) and its dataset
loaders tokenize the converted rows with the model's chat template, offline, from the folder the
export would run in. Exits 1 when any export is rejected, loses a row, or trains on nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("AXOLOTL_DO_NOT_TRACK", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
# As `axolotl preprocess` runs: validate and tokenize without starting training. (`axolotl
# train` with DeepSpeed on one GPU first opens an NCCL process group, which needs CUDA.)
os.environ["AXOLOTL_IS_PREPROCESS"] = "1"


# `axolotl train` starts the trainer through `accelerate launch` (its default launcher), which
# sets these for each process; one process on one device here.
LAUNCHER_ENV = {
    "RANK": "0",
    "LOCAL_RANK": "0",
    "WORLD_SIZE": "1",
    "LOCAL_WORLD_SIZE": "1",
    "MASTER_ADDR": "127.0.0.1",
    "MASTER_PORT": "29512",
}


def check(case: dict[str, Any], layout: str, model: str) -> str | None:
    """None when Axolotl validates the export and reads all its rows, else why not."""
    from axolotl.cli.config import load_cfg
    from axolotl.common.datasets import load_datasets, load_preference_datasets

    folder = Path(case["folder"]) / layout
    os.chdir(folder)
    os.environ.update(LAUNCHER_ENV)
    # The only change: the tiny offline model instead of the hub id (a CLI override).
    cfg = load_cfg(str(folder / case["config"]), base_model=model)
    expected = case["expected"]
    problems = []
    if cfg.output_dir != expected["output_dir"]:
        problems.append(f"output_dir {cfg.output_dir}")
    if cfg.learning_rate != expected["learning_rate"]:
        problems.append(f"learning_rate {cfg.learning_rate}")
    if cfg.sequence_len != expected["max_length"]:
        problems.append(f"sequence_len {cfg.sequence_len}")
    if bool(cfg.deepspeed) != expected["deepspeed"]:
        problems.append(f"deepspeed {cfg.deepspeed!r}")
    lines = (folder / case["converted"]).read_text(encoding="utf-8").splitlines()
    total = sum(1 for line in lines if line.strip())
    if cfg.rl:
        meta = load_preference_datasets(cfg=cfg)
        rows = [*meta.train_dataset, *(meta.eval_dataset or [])]
        # The rendered prompt holds the user's words, never the text of a Python list.
        if any("{'role'" in r["prompt"] or "order number" not in r["prompt"] for r in rows):
            problems.append(f"prompt not rendered from messages: {rows[0]['prompt']!r}")
        if any(not r["chosen"].strip() or not r["rejected"].strip() for r in rows):
            problems.append("empty chosen or rejected answer")
    else:
        meta = load_datasets(cfg=cfg)
        rows = [*meta.train_dataset, *(meta.eval_dataset or [])]
        if any(all(label == -100 for label in r["labels"]) for r in rows):
            problems.append("a row trains on no token (no assistant turn found)")
    if len(rows) != total:
        problems.append(f"{len(rows)} of {total} rows loaded")
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
    """Each export in a process of its own, as each `axolotl` run is (no state carries over)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    results = []
    for index, case in enumerate(manifest["cases"]):
        if case["tool"] != "axolotl":
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
            print(f"{'ok  ' if problem is None else 'FAIL'} axolotl {name} {problem or ''}")
    (out / "axolotl-results.json").write_text(json.dumps(results, indent=2))
    failed = sum(not r["ok"] for r in results)
    print(f"axolotl: {len(results) - failed} accepted, {failed} rejected")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    if len(sys.argv) == 4:
        sys.exit(run_one(Path(sys.argv[1]).resolve(), int(sys.argv[2]), sys.argv[3]))
    sys.exit(main(Path(sys.argv[1]).resolve()))
