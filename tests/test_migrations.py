"""Alembic migrations up and down on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from memory.db import Database
from memory.models import Base

APP_TABLES = set(Base.metadata.tables)


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(url=database_url)
    try:
        await db.downgrade("base")
        assert not (await _tables(db)) & APP_TABLES
        await db.migrate()
        assert await _tables(db) >= APP_TABLES
        await db.downgrade("base")
        assert not (await _tables(db)) & APP_TABLES
        await db.migrate()
        assert await _tables(db) >= APP_TABLES
    finally:
        await db.close()


async def test_models_and_migrations_agree(database_url: str) -> None:
    """Autogenerate finds nothing to change: the migrations build exactly the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(url=database_url)
    try:
        await db.migrate()
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await db.close()
