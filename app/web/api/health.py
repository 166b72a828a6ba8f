"""Liveness: 200 once the database answers, promptly even while the app is saturated."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from app.storage import loop

router = APIRouter(tags=["health"])

HEALTH_THREADS = 2


def _ping(engine: Engine) -> None:
    """One round trip to the database."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_without_waiting(engine: Engine) -> bool:
    """On SQLite, one statement on the loop's connection (it cannot wait); False if it would.

    Under a burst the loop's queue is the wait: a thread hop would queue the check twice.
    """
    if not loop.serves(engine):
        return False
    try:
        with loop.loop_unit_of_work(engine, write=False) as lean:
            lean.connection.execute("SELECT 1").fetchall()
    except loop.WouldWait:
        return False
    return True


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Answer 200 when a query on the database succeeds, 503 otherwise."""
    try:
        if _ping_without_waiting(request.app.state.engine):
            return JSONResponse({"status": "ok"})
        # Health checks have threads of their own (`app.state.health_threads`): they must not
        # queue behind requests waiting for the thread pool; the database pool keeps
        # connections to spare for them.
        with anyio.fail_after(5):
            await anyio.to_thread.run_sync(
                _ping,
                request.app.state.engine,
                limiter=request.app.state.health_threads,
                abandon_on_cancel=True,
            )
    except Exception as exc:  # any driver error or a time-out means "not ready"
        return JSONResponse(
            {"status": "unavailable", "error": type(exc).__name__},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    return JSONResponse({"status": "ok"})
