"""The loss parser: trainer log lines and trainer_state.json into `[step, value]`."""

from __future__ import annotations

import json
from pathlib import Path

from app.jobs.metrics import MAX_POINTS, loss_from_history, loss_from_log, loss_of

# As transformers 5 prints them (values quoted), between progress-bar redraws.
LOG = (
    " 33%|###3      | 1/3 [00:00<00:00,  3.11it/s]   "
    "{'loss': '5.976', 'grad_norm': '1.357', 'learning_rate': '0', 'epoch': '0.32'}\n"
    " 67%|######6   | 2/3 [00:00<00:00] {'loss': '5.963', 'grad_norm': '1.455', 'epoch': '0.64'}\n"
    "{'loss': 5.955, 'epoch': 0.96}\n"
    "{'train_runtime': '0.972', 'train_loss': '5.965', 'epoch': '0.96'}\n"
)


def test_log_lines_give_steps_by_position() -> None:
    assert loss_from_log(LOG) == [[1, 5.976], [2, 5.963], [3, 5.955]]
    assert loss_from_log(LOG, logging_steps=10) == [[10, 5.976], [20, 5.963], [30, 5.955]]


def test_log_noise_is_ignored() -> None:
    noisy = (
        "{'loss': 'nan'}\n{'loss': oops}\n{'eval_loss': 1.0}\nloss 3.2\n{'loss': 1.5, 'step': 40}"
    )
    assert loss_from_log(noisy) == [[40, 1.5]]
    assert loss_from_log("") == []


def test_history_keeps_training_entries_with_steps() -> None:
    history = [
        {"loss": 2.5, "step": 10, "epoch": 0.1},
        {"eval_loss": 2.7, "step": 10},
        {"loss": "2.25", "step": 20},
        {"train_loss": 2.4, "step": 20},
    ]
    assert loss_from_history(history) == [[10, 2.5], [20, 2.25]]


def test_trainer_state_wins_over_the_log_and_the_newest_checkpoint_wins(tmp_path: Path) -> None:
    for step, loss in ((2, 9.0), (10, 1.0)):
        folder = tmp_path / "outputs" / "run" / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        state = {"log_history": [{"loss": loss, "step": step}]}
        (folder / "trainer_state.json").write_text(json.dumps(state))
    assert loss_of(tmp_path, LOG) == [[10, 1.0]]
    assert loss_of(tmp_path / "elsewhere", LOG) == loss_from_log(LOG)


def test_long_curves_are_thinned_keeping_the_last_point() -> None:
    history = [{"loss": 1.0 / (i + 1), "step": i} for i in range(5 * MAX_POINTS + 3)]
    points = loss_from_history(history)
    assert len(points) <= MAX_POINTS + 1
    assert points[0][0] == 0 and points[-1][0] == 5 * MAX_POINTS + 2
