"""Digest of the engine's output, to show a hot-path shortcut changes no byte (ADR 0009).

Usage: python bench/engine_digest.py   (run it before and after the change; compare)

Prints the SHA-256 of the batch JSON lines of 60,000 seeded profiles (the bench's generator,
seeds 7 and 99) and of the Recommendation model dumps of the first 5,000.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.decision.batch import parse_profile, recommend_batch_json
from app.decision.engine import recommend
from bench.engine_bench import make_lines


def main() -> None:
    """Print the two digests."""
    lines = make_lines(30_000, seed=7) + make_lines(30_000, seed=99)
    batch = hashlib.sha256()
    for out in recommend_batch_json(lines):
        batch.update(out.encode() + b"\n")
    models = hashlib.sha256()
    for line in lines[:5_000]:
        models.update(recommend(parse_profile(line)).model_dump_json().encode())
    print(f"batch JSON {batch.hexdigest()}\nmodel dumps {models.hexdigest()}")


if __name__ == "__main__":
    main()
