"""The app factory: `create_app(settings)` wires storage, middleware and routers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.services import webhook_sender
from app.settings import Settings
from app.storage import make_engine
from app.web import error_handlers, openapi
from app.web.api import accounts as accounts_api
from app.web.api import assessments as assessments_api
from app.web.api import dashboard as dashboard_api
from app.web.api import health
from app.web.api import jobs as jobs_api
from app.web.api import recipes as recipes_api
from app.web.api import review as review_api
from app.web.api import sharing as sharing_api
from app.web.api import teams as teams_api
from app.web.html import accounts as account_pages
from app.web.html import dashboard as dashboard_pages
from app.web.html import jobs as job_pages
from app.web.html import questionnaire, results, sharing
from app.web.html import recipes as recipe_pages
from app.web.html import review as review_pages
from app.web.html import teams as team_pages
from app.web.middleware.body_limit import BodyLimit
from app.web.middleware.compression import Gzip
from app.web.middleware.content_type import JsonBodiesOnly
from app.web.middleware.load_shedding import LoadShedding
from app.web.middleware.nul_guard import RefuseNul
from app.web.middleware.security import SecurityHeaders
from app.web.rendering import Pages
from app.web.uploads import UPLOAD_LIMITS


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Compile the templates, then move everything loaded out of the garbage collector's sight.

    The rules, the question bank and the templates live as long as the process; scanning them
    in every full collection shows up as long pauses in the tail latency under load.
    """
    settings: Settings = app.state.settings
    # Sync endpoints and every database call share this pool of threads; the connection pool
    # is sized above it, so a thread never waits for a connection.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.max_threads
    app.state.health_threads = anyio.CapacityLimiter(health.HEALTH_THREADS)
    app.state.pages.preload()
    gc.collect()
    gc.freeze()
    # Webhook deliveries are posted by a thread of their own, after the commit (ADR 0014).
    sender = webhook_sender.WebhookSender(
        app.state.engine, allow_private=settings.webhook_allow_private_targets
    )
    sender.start()
    yield
    sender.stop()
    app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build one app instance around its own settings and database engine."""
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="Adaptation Advisor",
        version="0.1.0",
        summary="Which fix closes your LLM's gap: prompting, long context, RAG, "
        "fine-tuning, preference tuning or distillation.",
        # No `max_body_size`: Starlette's limiter answers its 413 in plain text and overrides
        # the app's answer; BodyLimit below answers in the app's words.
        # Swagger UI and ReDoc load scripts from a CDN and inline: neither fits the CSP nor an
        # offline install. The schema itself is served at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.pages = Pages(settings.templates_dir)

    # The questionnaire first: routes are matched in order, and its steps are the hot path.
    app.router.routes.extend(questionnaire.STEP_ROUTES)
    app.include_router(questionnaire.router)
    app.include_router(results.router)
    # `/s/{token}.json` ahead of the page at `/s/{token}`, which would match it too.
    app.include_router(sharing_api.shared_router)
    app.include_router(sharing.router)
    app.include_router(sharing_api.router)
    app.include_router(health.router)
    app.include_router(assessments_api.router)
    app.include_router(recipes_api.router)
    app.include_router(accounts_api.router)
    app.include_router(teams_api.router)
    app.include_router(jobs_api.router)
    app.include_router(review_api.router)
    app.include_router(recipe_pages.router)
    app.include_router(account_pages.router)
    app.include_router(team_pages.router)
    app.include_router(job_pages.router)
    app.include_router(review_pages.router)
    app.include_router(dashboard_api.router)
    app.include_router(dashboard_pages.router)
    settings.static_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")

    error_handlers.install(app)
    openapi.install(app)
    app.add_middleware(RefuseNul, max_body_bytes=settings.max_body_bytes)
    # Outside the NUL guard, which reads the body first; uploads have their own, larger limit.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        respond=error_handlers.too_large,
        larger=UPLOAD_LIMITS,
    )
    app.add_middleware(JsonBodiesOnly)
    app.add_middleware(Gzip, minimum_size=500)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.add_middleware(LoadShedding, limit=settings.max_in_flight)
    return app
