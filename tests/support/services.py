"""The local services the tests need (PostgreSQL, Redis) and what to do when one is missing."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import asyncpg
import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def closed_port() -> int:
    """A loopback port nothing listens on (for a service that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable(what: str, why: BaseException) -> NoReturn:
    """Fails under CI (where the service must exist), skips on a developer machine."""
    message = f"{what} is not reachable ({type(why).__name__}: {why})"
    if IN_CI:
        pytest.fail(message + "; CI must provide it")
    pytest.skip(message)


async def truncate_all(url: str) -> None:
    """Empties every table of the PostgreSQL database at ``url`` but Alembic's version."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} CASCADE")
    finally:
        await conn.close()
