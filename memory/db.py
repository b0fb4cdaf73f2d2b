"""Database engine, sessions and schema migrations (Alembic is the only way the schema changes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x43484D50  # an arbitrary constant naming our advisory lock
# Requests hold a connection only while their queries run (web/deps.py), so a wait for one
# this long means the database is overloaded: the request fails fast (503) rather than
# queueing behind SQLAlchemy's default of 30 s.
POOL_TIMEOUT_SECONDS = 10.0
POOL_SIZE = 5  # connections kept open
POOL_MAX_OVERFLOW = 10  # opened beyond those under load, closed when returned


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations, sharing ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


class Database:
    """Owns the async engine and hands out sessions.

    Args:
        url: an async SQLAlchemy URL (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    A pool wait longer than `POOL_TIMEOUT_SECONDS` raises ``sqlalchemy.exc.TimeoutError``
    (the API answers it with 503 and ``Retry-After``).
    """

    def __init__(self, *, url: str) -> None:
        self.url = url
        self.backend = "sqlite" if url.startswith("sqlite") else "postgresql"
        if self.backend == "sqlite":
            db_file = url.split("///", 1)[-1]
            if db_file and db_file != ":memory:":
                Path(db_file).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=POOL_MAX_OVERFLOW,
            pool_timeout=POOL_TIMEOUT_SECONDS,
        )
        if self.backend == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that rolls back if the block raises."""
        async with self.sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    async def migrate(self, revision: str = "head") -> None:
        """Brings the schema up to ``revision`` (app and workers may call this at once)."""
        async with self.engine.begin() as conn:
            await self._lock_migrations(conn)
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))

    async def downgrade(self, revision: str = "base") -> None:
        """Takes the schema down to ``revision``."""
        async with self.engine.begin() as conn:
            await self._lock_migrations(conn)
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), revision))

    async def _lock_migrations(self, conn: AsyncConnection) -> None:
        # On PostgreSQL, processes starting together take turns; SQLite locks the file itself.
        if self.backend == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})

    async def ping(self) -> None:
        """Raises if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Releases every pooled connection."""
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
