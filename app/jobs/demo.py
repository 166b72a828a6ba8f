"""The demo assets: a tiny model, its tokenizer, an SFT set and a preference set, built offline.

A Llama-shaped model of a few hundred thousand parameters and a 400-token BPE tokenizer
trained on a fixed vocabulary: enough for `trl sft|dpo` to run on a laptop CPU in seconds,
which is all the demo path (and the test suite) needs. Needs the train extra.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from typing import Any

TRAIN_EXTRA_HINT = "install the training extra: pip install -e '.[train]'"
TRAINING_MODULES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers")

# Assistant turns sit inside {% generation %} markers so TRL can mask the loss to answers;
# the end-of-turn token is inside them so the model learns to stop.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)
SPECIALS = ["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
WORDS = [
    *("invoice", "refund", "order", "shipping", "account", "password", "reset", "delivery"),
    *("status", "label", "customer", "agent", "polite", "answer", "question", "please"),
    *("thanks", "date", "number", "total", "error"),
]


def missing_training_modules() -> list[str]:
    """The training extra's modules that are not installed (empty when it is)."""
    return [name for name in TRAINING_MODULES if importlib.util.find_spec(name) is None]


def trl_executable() -> Path | None:
    """The `trl` command of this Python environment, if the train extra installed it."""
    candidate = Path(sys.executable).with_name("trl")
    return candidate if candidate.is_file() else None


def _sentence(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def build_tokenizer(directory: Path) -> Any:
    """Train the tiny byte-level BPE tokenizer with a chat template and save it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = [_sentence(rng, 12) for _ in range(2000)]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<|pad|>",
        eos_token="<|im_end|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>", "<|endoftext|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(directory)
    return fast


def build_model(directory: Path, tokenizer: Any, hidden: int) -> int:
    """Save a randomly initialised two-layer Llama with the tokenizer; its parameter count."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return sum(p.numel() for p in model.parameters())


def write_datasets(directory: Path, rows: int = 50) -> dict[str, Path]:
    """The SFT (chat), preference (DPO) and prompt-only (distillation) JSONL files."""
    rng = random.Random(1)
    sft, dpo, prompts = [], [], []
    for _ in range(rows):
        question, answer = _sentence(rng, 6), _sentence(rng, 5)
        sft.append(
            {
                "messages": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer},
                ]
            }
        )
        dpo.append({"prompt": question, "chosen": answer, "rejected": _sentence(rng, 5)})
        prompts.append({"prompt": [{"role": "user", "content": question}]})
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, lines in (("sft", sft), ("dpo", dpo), ("distill", prompts)):
        path = directory / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
        paths[name] = path
    return paths


def build_demo_assets(root: Path, *, teacher: bool = False) -> dict[str, str]:
    """Build (or reuse) the demo under `root`; the paths `advisor demo-assets` prints.

    Reused when already built: the files are deterministic (fixed seeds).
    """
    root = root.resolve()
    model_dir, data_dir = root / "model", root / "data"
    paths = {
        "base_model": str(model_dir),
        "dataset": str(data_dir / "sft.jsonl"),
        "preference_dataset": str(data_dir / "dpo.jsonl"),
    }
    if teacher:
        paths["teacher_model"] = str(root / "teacher")
        paths["prompt_dataset"] = str(data_dir / "distill.jsonl")
    wanted = [model_dir / "config.json", *(Path(p) for k, p in paths.items() if "dataset" in k)]
    if teacher:
        wanted.append(root / "teacher" / "config.json")
    if all(p.is_file() for p in wanted):
        return paths
    missing = missing_training_modules()
    if missing:
        raise RuntimeError(f"the demo needs {', '.join(missing)}: {TRAIN_EXTRA_HINT}")
    tokenizer = build_tokenizer(root / "tokenizer")
    build_model(model_dir, tokenizer, hidden=96)
    if teacher:
        build_model(root / "teacher", tokenizer, hidden=128)
    write_datasets(data_dir)
    return paths
