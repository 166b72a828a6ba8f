"""All configuration in one pydantic-settings class, read from the environment or `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
        default="dev-only-change-me",
        description="Signs cookies and CSRF tokens; set a long random value in production.",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    sqlite_busy_timeout_ms: int = 5000
    secure_cookies: bool = False
