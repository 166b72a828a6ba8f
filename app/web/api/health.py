"""Liveness: 200 once the database answers, promptly even while the app is saturated."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

router = APIRouter(tags=["health"])

HEALTH_THREADS = 2


def _ping(engine: Engine) -> None:
    """One round trip to the database."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Answer 200 when a query on the database succeeds, 503 otherwise."""
    try:
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
