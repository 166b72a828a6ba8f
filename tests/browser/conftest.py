"""A live server on a free port and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.main import create_app
from app.migrate import upgrade
from app.settings import PROJECT_ROOT, Settings
from tests.support import require

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    """Debian's chromium: CHROMIUM_PATH, else the usual places."""
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app served by uvicorn in a thread, on its own SQLite file."""
    root = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{root / 'advisor.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, data_dir=root / "data", secret_key="browser"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start for the browser tests"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the session."""
    executable = _chromium_path()
    require(executable is not None, "Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install -e '.[test]')")
        raise
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


def _context(browser: Any, **options: Any) -> Any:
    return browser.new_context(viewport={"width": 1280, "height": 900}, **options)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page with JavaScript on."""
    context = _context(browser)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_nojs(browser: Any) -> Iterator[Any]:
    """A fresh page with JavaScript off."""
    context = _context(browser, java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A 375-px-wide touch screen."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def audit_page(browser: Any) -> Iterator[Any]:
    """A page whose CSP lets the test inject axe-core (the app's own CSP stays strict)."""
    require(AXE.exists(), "axe-core is not installed (npm ci)")
    context = _context(browser, bypass_csp=True)
    yield context.new_page()
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact (not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the current page; the serious and critical violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa', 'best-practice']})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
