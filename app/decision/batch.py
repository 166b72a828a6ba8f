"""JSON in, JSON out: the engine behind `advisor recommend --profile` and `--batch`."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pydantic import ValidationError

from app.decision.engine import VALUES, decide, profile_values
from app.decision.errors import Problem, ProfileError
from app.decision.profile import Profile
from app.decision.render import to_json


def parse_profile(text: str | bytes, line: int | None = None) -> Profile:
    """Validate one profile given as JSON; raise ProfileError naming the field and values."""
    try:
        return Profile.model_validate_json(text)
    except ValidationError as exc:
        raise ProfileError.from_validation(exc, line) from None


def recommend_json(text: str | bytes) -> str:
    """One profile as JSON -> its recommendation as one JSON line (no trailing newline)."""
    return to_json(decide(profile_values(parse_profile(text))))


def recommend_batch_json(lines: Iterable[str | bytes]) -> Iterator[str]:
    """One recommendation JSON line per non-blank input line, in order; blank lines are skipped.

    Raises ProfileError (with .line, 1-based) at the first invalid line; the lines before it
    have already been yielded, so a caller that streams output keeps them.
    """
    # Locals, and the validator without its wrapper frame: this loop runs per line.
    validate = Profile.__pydantic_validator__.validate_json
    values, dec, render = VALUES, decide, to_json
    for number, line in enumerate(lines, 1):
        try:
            profile = validate(line)
        except ValidationError as exc:
            if not line or line.isspace():
                continue  # blank lines are rare: test for them only when a line fails
            raise ProfileError.from_validation(exc, number) from None
        yield render(dec(values(profile.__dict__)))


# A task of about 2,000 profiles: large enough that handing it to a process costs little.
CHUNK_BYTES = 1 << 20


def line_ranges(path: Path, chunk_bytes: int = CHUNK_BYTES) -> list[tuple[int, int]]:
    """Byte ranges covering the file, each about `chunk_bytes` long and ending at a line end."""
    ranges = []
    with path.open("rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        start = 0
        while start < size:
            stream.seek(min(start + chunk_bytes, size))
            stream.readline()  # on to the end of the line the cut fell in
            ranges.append((start, stream.tell()))
            start = stream.tell()
    return ranges


Failure = tuple[list[Problem], int]  # (problems, line number within the range)


def _decide_range(task: tuple[Path, int, int]) -> tuple[str, int, Failure | None]:
    """One range of a batch file -> (its output lines, its line count, its first failure)."""
    path, start, end = task
    with path.open("rb") as stream:
        stream.seek(start)
        lines = stream.read(end - start).splitlines()
    out: list[str] = []
    try:
        out.extend(recommend_batch_json(lines))
    except ProfileError as exc:
        return "".join(x + "\n" for x in out), len(lines), (exc.problems, exc.line or 0)
    out.append("")
    return "\n".join(out), len(lines), None


def default_jobs() -> int:
    """One process per CPU this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def recommend_file_json(path: Path, *, jobs: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """The recommendations of a JSONL file as blocks of newline-ended lines, in input order.

    With more than one job the file's line ranges are decided in a pool of processes (the
    engine is CPU-bound, and one process uses one core). Like `recommend_batch_json`, an
    invalid line raises ProfileError naming it, after every line before it has been yielded.
    """
    ranges = line_ranges(path, chunk_bytes)
    if jobs <= 1 or len(ranges) < 2:
        for start, end in ranges:
            text, _, failure = _decide_range((path, start, end))
            yield text
            if failure:
                raise ProfileError(failure[0], failure[1])
        return
    # fork shares the compiled engine with the workers; elsewhere they import it anew.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(min(jobs, len(ranges)), mp_context=context)
    done = 0  # lines in the ranges already yielded
    try:  # a worker that dies raises BrokenProcessPool here rather than hanging the batch
        for text, count, failure in pool.map(_decide_range, [(path, s, e) for s, e in ranges]):
            yield text
            if failure:
                raise ProfileError(failure[0], done + failure[1])
            done += count
    finally:
        pool.shutdown(cancel_futures=True)
