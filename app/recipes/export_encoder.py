"""The encoder student as a runnable script: transformers' Trainer with a classification head."""

from __future__ import annotations

from string import Template

from app.recipes.catalog import Recipe
from app.recipes.params import RecipeParams

# No trainer CLI trains a sequence classifier from a config file, so the export is a script:
# plain transformers, the same hyperparameters the page explains, every value at the top.
_SCRIPT = Template('''\
"""Encoder student: a sequence classifier trained on the teacher's labels.

Recipe ${recipe} from the Adaptation Advisor. Data: one {"text": ..., "label": ...} per line,
the label being the teacher's answer. Needs: pip install "transformers>=4.48" datasets accelerate
torch. Run: python ${filename}
"""

import json
from pathlib import Path

from datasets import load_dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainingArguments,
)

BASE_MODEL = ${base_model}  # ModernBERT- or DeBERTa-class encoder (hub id or local folder)
DATASET = ${dataset}
OUTPUT_DIR = ${output_dir}
MAX_LENGTH = ${max_length}  # tokens kept per input; longer inputs are truncated
EPOCHS = ${epochs}
MAX_STEPS = ${max_steps}  # -1: epochs apply
HELD_OUT = 0.1  # share kept apart for accuracy and macro-F1
USE_CPU = ${use_cpu}


def macro_f1(gold: list[int], guess: list[int]) -> float:
    """Mean F1 over the labels: every label counts the same, however rare."""
    scores = []
    for label in sorted(set(gold) | set(guess)):
        right = sum(1 for g, p in zip(gold, guess) if g == p == label)
        predicted, actual = guess.count(label), gold.count(label)
        if right:
            precision, recall = right / predicted, right / actual
            scores.append(2 * precision * recall / (precision + recall))
        else:
            scores.append(0.0)
    return sum(scores) / len(scores)


def main() -> None:
    rows = load_dataset("json", data_files=DATASET, split="train")
    labels = sorted({str(label) for label in rows["label"]})
    label2id = {label: index for index, label in enumerate(labels)}
    rows = rows.map(lambda row: {"labels": label2id[str(row["label"])]})
    split = rows.train_test_split(test_size=HELD_OUT, seed=42)
    tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL)

    def tokenize(batch: dict) -> dict:
        return tokenizer(batch["text"], truncation=True, max_length=MAX_LENGTH)

    train, held = (
        split[name].map(tokenize, batched=True, remove_columns=["text", "label"])
        for name in ("train", "test")
    )
    model = AutoModelForSequenceClassification.from_pretrained(
        BASE_MODEL,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=label2id,
    )
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id

    def metrics(prediction: tuple) -> dict:
        logits, gold = prediction
        guess = logits.argmax(-1).tolist()
        gold = gold.tolist()
        accuracy = sum(1 for g, p in zip(gold, guess) if g == p) / len(gold)
        return {"accuracy": accuracy, "macro_f1": macro_f1(gold, guess)}

    args = TrainingArguments(
        output_dir=OUTPUT_DIR,
        num_train_epochs=EPOCHS,
        max_steps=MAX_STEPS,
        learning_rate=${learning_rate},
        per_device_train_batch_size=${batch},
        per_device_eval_batch_size=${batch},
        gradient_accumulation_steps=${accumulation},
        lr_scheduler_type=${scheduler},
        warmup_steps=${warmup},  # below 1: a share of the steps
        eval_strategy="epoch",
        save_strategy="no",
        logging_steps=10,
        report_to="none",
        use_cpu=USE_CPU,
        bf16=not USE_CPU,
        seed=42,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=held,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=metrics,
    )
    trainer.train()
    result = trainer.evaluate()
    trainer.save_model(OUTPUT_DIR)
    tokenizer.save_pretrained(OUTPUT_DIR)
    Path(OUTPUT_DIR, "heldout_metrics.json").write_text(json.dumps(result, indent=2) + "\\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
''')


def script_filename(recipe: Recipe) -> str:
    """The exported script's file name."""
    return f"{recipe.id}.train.py"


def run_command(recipe: Recipe) -> str:
    """The command that runs the exported script."""
    return f"python {script_filename(recipe)}"


def train_script(recipe: Recipe, params: RecipeParams) -> str:
    """The training script with the parameters and hyperparameters filled in."""
    h = recipe.hyper
    cpu = params.gpu == "cpu"
    return _SCRIPT.substitute(
        recipe=recipe.id,
        filename=script_filename(recipe),
        base_model=repr(params.base_model),
        dataset=repr(params.dataset),
        output_dir=repr(params.output_dir),
        max_length=params.max_length,
        epochs=f"{params.epochs:g}",
        max_steps=params.max_steps or -1,
        use_cpu=cpu,
        learning_rate=h["learning_rate"],
        batch=h["per_device_train_batch_size"],
        accumulation=h["gradient_accumulation_steps"],
        scheduler=repr(h["lr_scheduler_type"]),
        warmup=h["warmup_ratio"],
    )
