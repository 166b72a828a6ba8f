"""Render every trainer export with its data, for the checkers in .venv-checks (app venv side).

python checks/render_exports.py OUT writes, per recipe and GPU variant, a folder with the
exports as a user saves them (file names as rendered), the dataset in the app's layout (every
layout the page documents, one file each), its conversions, a tiny offline model, and
OUT/manifest.json listing what each checker must read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app.jobs.demo import build_model, build_tokenizer
from app.recipes import available_formats, get_recipe, list_ids, render, resolve_params
from app.recipes.convert import convert_file, converted_path
from app.recipes.errors import RecipeError

TOOLS = ("llamafactory", "axolotl")
USER = "Where is my order number 42?"
ANSWER = "It left the warehouse today."
WORSE = "Orders are not my problem."

# Every row layout the recipe page documents for the method (a file per layout: the tools read
# one layout per file).
LAYOUTS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "sft": {
        "messages": [
            {
                "messages": [
                    {"role": "system", "content": "Answer support questions."},
                    {"role": "user", "content": USER},
                    {"role": "assistant", "content": ANSWER},
                ]
            }
        ],
        "prompt_completion": [{"prompt": USER, "completion": ANSWER}],
        "prompt_completion_messages": [
            {
                "prompt": [{"role": "user", "content": USER}],
                "completion": [{"role": "assistant", "content": ANSWER}],
            }
        ],
    },
    "dpo": {
        "strings": [{"prompt": USER, "chosen": ANSWER, "rejected": WORSE}],
        "messages": [
            {
                "prompt": [{"role": "user", "content": USER}],
                "chosen": [{"role": "assistant", "content": ANSWER}],
                "rejected": [{"role": "assistant", "content": WORSE}],
            }
        ],
    },
}


def _write_rows(path: Path, rows: list[dict[str, Any]], copies: int = 12) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Distinct lines, enough for a 10% validation split.
    lines = [
        json.dumps(json.loads(json.dumps(rows[i % len(rows)]).replace("42", str(40 + i))))
        for i in range(copies)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    model_dir = out / "tiny-model"
    if not (model_dir / "config.json").is_file():
        build_model(model_dir, build_tokenizer(model_dir), hidden=32)
    cases: list[dict[str, Any]] = []
    refused = 0
    for rid in list_ids():
        recipe = get_recipe(rid)
        formats = [f for f in available_formats(recipe) if f in (*TOOLS, "deepspeed")]
        if not recipe.is_training or not any(f in TOOLS for f in formats):
            continue
        for gpu in ("auto", "cpu"):
            folder = out / f"{rid}-{gpu}"
            try:
                params = resolve_params(recipe, {"gpu": gpu})
                rendered = {f: render(recipe, params, f) for f in formats}
            except RecipeError:
                refused += 1  # sft-qlora on cpu: refused by name, as the golden tests check
                continue
            method = "dpo" if recipe.method == "dpo" else "sft"
            # One working folder per layout, as a user runs it: the exports, the data beside.
            for layout, rows in LAYOUTS[method].items():
                for item in rendered.values():
                    (folder / layout / item.filename).parent.mkdir(parents=True, exist_ok=True)
                    (folder / layout / item.filename).write_text(item.content, encoding="utf-8")
                source = folder / layout / params.dataset
                _write_rows(source, rows)
                for tool in TOOLS:
                    result = convert_file(source, tool=tool, method=method)
                    assert result.ok, (rid, layout, tool, result.errors)
            for tool in TOOLS:
                if tool not in rendered:
                    continue
                cases.append(
                    {
                        "recipe": rid,
                        "tool": tool,
                        "gpu": gpu,
                        "method": recipe.method,
                        "adapter": recipe.adapter,
                        "folder": str(folder),
                        "config": rendered[tool].filename,
                        "command": rendered[tool].command,
                        "layouts": list(LAYOUTS[method]),
                        "converted": converted_path(params.dataset, tool),
                        "expected": {
                            "output_dir": params.output_dir,
                            "learning_rate": recipe.hyper["learning_rate"],
                            "max_length": params.max_length,
                            "deepspeed": "deepspeed" in rendered and gpu != "cpu",
                        },
                    }
                )
    manifest = {"model": str(model_dir), "cases": cases, "refused": refused}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    print(f"rendered {len(cases)} trainer exports into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
