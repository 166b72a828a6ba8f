"""Which runners this server offers, and the runner object for a name."""

from __future__ import annotations

import importlib
from typing import Any

from app.jobs.runner import Runner
from app.settings import Settings


class RunnerNotConfigured(LookupError):
    """A runner this server does not offer (the Ray runner without RAY_ADDRESS)."""

    def __init__(self, name: str, offered: list[str]) -> None:
        super().__init__(
            f"runner {name!r} is not configured on this server; offered: {', '.join(offered)}"
            + ("" if name != "ray" else " (set RAY_ADDRESS to offer ray)")
        )
        self.name = name
        self.offered = offered


def offered_runners(settings: Settings) -> list[str]:
    """The runners a job may name here: local always, ray when RAY_ADDRESS is set."""
    return ["local", "ray"] if settings.ray_address else ["local"]


def runner_for(name: str, settings: Settings, **options: Any) -> Runner:
    """The runner called `name`; RunnerNotConfigured when this server does not offer it.

    The Ray runner's module is imported only when RAY_ADDRESS is set (and tolerated missing:
    a server without it offers the local runner alone).
    """
    if name not in offered_runners(settings):
        raise RunnerNotConfigured(name, offered_runners(settings))
    if name == "local":
        from app.jobs.local import LocalRunner

        return LocalRunner(settings, **options)
    try:
        module = importlib.import_module("app.jobs.ray")
    except ImportError as exc:  # pragma: no cover - the Ray runner ships in the same package
        raise RunnerNotConfigured(name, ["local"]) from exc
    assert settings.ray_address is not None  # offered only when set
    runner: Runner = module.RayRunner(settings.ray_address, settings.ray_token, **options)
    return runner
