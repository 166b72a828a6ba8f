"""Print how many table cases the engine meets: `python -m tests.decision.agreement [--strip]`.

--strip drops profile fields the running engine's Profile does not know (to score an older
engine on newer cases).
"""

from __future__ import annotations

import sys

from app.decision.engine import recommend
from app.decision.profile import PROFILE_FIELDS, Profile

from .test_table import ALL, _cases, _examples, problems


def main() -> None:
    """Agreement on the shared examples, our cases and the public (sourced) cases."""
    strip = "--strip" in sys.argv
    sourced = {title for title, _, expect in _cases() if "source" in expect}
    groups: dict[str, list[bool]] = {"examples": [], "cases": [], "public": []}
    shared = {title for title, _, _ in _examples()}
    for title, profile, expect in ALL:
        data = {k: v for k, v in profile.items() if not strip or k in PROFILE_FIELDS}
        missed = problems(recommend(Profile.model_validate(data)), expect)
        group = "examples" if title in shared else "public" if title in sourced else "cases"
        groups[group].append(not missed)
        if missed and "-v" in sys.argv:
            print(f"MISS {title}: {missed}")
    for name, hits in groups.items():
        print(f"{name}: {sum(hits)}/{len(hits)}")
    every = [h for hits in groups.values() for h in hits]
    print(f"all: {sum(every)}/{len(every)} = {sum(every) / len(every):.0%}")


if __name__ == "__main__":
    main()
