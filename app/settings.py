"""All configuration in one pydantic-settings class, read from the environment or `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_SECRET_KEY = "dev-only-change-me"


class Settings(BaseSettings):
    """Settings for one app instance; tests build their own instead of touching the environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./advisor.db",
        description="Any SQLAlchemy URL; SQLite by default, PostgreSQL tested.",
    )
    data_dir: Path = Field(
        default=Path("./data"), description="Where job files, datasets and exports live."
    )
    static_dir: Path = PROJECT_ROOT / "static"
    templates_dir: Path = PROJECT_ROOT / "templates"
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description="Signs cookies and CSRF tokens; set a long random value in production.",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long a SQLite writer waits for the write lock."
    )
    sqlite_mmap_bytes: int = Field(
        default=1 << 30,
        ge=0,
        description="SQLite reads up to this much of the database through a shared memory "
        "map (0: off).",
    )
    secure_cookies: bool = False
    # Every database call runs in the thread pool; the pool holds a connection for each thread
    # (and /healthz's own), so a checkout never waits while a thread is free. Fewer threads keep
    # the event loop responsive under CPU-heavy bursts (they all share one GIL): the slowest
    # /healthz during 200 concurrent recipe pages was 0.6-0.75 s at 40 threads, 0.3 s at 16.
    max_threads: int = Field(
        default=16, ge=1, description="Threads running blocking work (requests, database, files)."
    )
    db_pool_size: int = Field(default=20, ge=1, description="Pooled database connections.")
    db_max_overflow: int = Field(default=5, ge=0, description="Connections beyond the pool.")
    db_pool_timeout_s: float = Field(
        default=10.0, gt=0, description="Wait for a pooled connection before answering 503."
    )
    max_in_flight: int = Field(
        default=256, ge=1, description="Requests served at once; more are shed with 503."
    )
    graceful_shutdown_s: float = Field(
        default=5.0, gt=0, description="On SIGTERM, wait this long for requests in flight."
    )
    keep_alive_s: int = Field(
        default=75,
        ge=1,
        le=3600,
        description="Keep an idle client connection open this long (longer than the idle"
        " timeout of a proxy or client in front, or a request sent as it closes is lost).",
    )
    models_dir: Path | None = Field(
        default=None,
        description="A second folder (besides DATA_DIR) that jobs may read local models and "
        "datasets from.",
    )
    local_worker: bool = Field(
        default=True, description="`advisor serve` runs the embedded local job worker."
    )
    ray_address: str | None = Field(
        default=None,
        description="Ray Jobs REST address (e.g. http://127.0.0.1:8265); the Ray runner is "
        "offered only when set.",
    )
    ray_token: str | None = Field(
        default=None, description="Bearer token for the Ray Jobs API, when the head asks for one."
    )
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Let team webhooks post to loopback, private and link-local addresses "
        "(development and tests only: it opens the server's own network to team owners).",
    )

    def uses_default_secret(self) -> bool:
        """Whether cookies and CSRF tokens are signed with the published development key."""
        return self.secret_key == DEFAULT_SECRET_KEY
