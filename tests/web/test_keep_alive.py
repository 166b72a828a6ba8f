"""`advisor serve` keeps an idle client connection open for KEEP_ALIVE_S (75 s by default).

uvicorn's own default is 5 s: a client or proxy that reuses a connection just as the server
closes it gets no answer at all ("Remote end closed connection without response"). `make
bench`'s load on two instances lost 3 of 9,000 requests that way; none at 75 s.
"""

from __future__ import annotations

import http.client
import secrets
import shutil
import time
from pathlib import Path

import pytest

from tests.serving import Server


def _idle_then_ask(server: Server, idle_s: float) -> int | None:
    """One request, `idle_s` of silence on the same connection, then a second request: its
    status, or None when the server had closed the connection meanwhile."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        assert first.status == 200 and not first.will_close
        time.sleep(idle_s)
        try:
            connection.request("GET", "/healthz")
            second = connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            return None
        second.read()
        return second.status
    finally:
        connection.close()


def _server(migrated_sqlite_template: Path, workdir: Path, **env: str) -> Server:
    workdir.mkdir()
    database = workdir / "advisor.db"
    shutil.copyfile(migrated_sqlite_template, database)
    return Server(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": secrets.token_hex(32),
            "DATA_DIR": str(workdir / "data"),
            "LOCAL_WORKER": "false",
            **env,
        },
        workdir,
    )


@pytest.mark.timeout(120)
def test_an_idle_connection_outlives_uvicorns_five_seconds(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    default = _server(migrated_sqlite_template, tmp_path / "default")
    short = _server(migrated_sqlite_template, tmp_path / "short", KEEP_ALIVE_S="1")
    try:
        default.wait_ready()
        short.wait_ready()
        assert _idle_then_ask(short, 2.5) is None  # the setting is what closes it
        assert _idle_then_ask(default, 6) == 200
    finally:
        default.close()
        short.close()
