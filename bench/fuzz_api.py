"""Fuzzes the whole API from its OpenAPI document, longer than the test suite does.

    .venv/bin/python -m bench.fuzz_api [--examples 50] [--seed 0] [--database postgresql]

The app runs in process (schemathesis over ASGI) with fake ingest, on a fresh SQLite file or a
fresh PostgreSQL database (``TEST_POSTGRES_DSN``, dropped afterwards). Every operation gets up
to ``--examples`` requests in each of three passes (valid input, invalid input, valid input
aimed at a champion and session that exist), signed in as a real user. Prints the requests
made, the time, the statuses per operation and the failures by kind (a 5xx, an undocumented
status, content type or header, a body that breaks its schema), then each distinct failure
with the request that found it. Exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from pathlib import Path

import asyncpg
from schemathesis.python import asgi

from memory.settings import Settings
from tests.support.api_fuzz import FuzzReport, fuzz_app, fuzz_overrides, run_fuzz

PG_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _settings(folder: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=folder / "data",
        database_url=database_url,
        jwt_secret=secrets.token_urlsafe(48),
        bcrypt_rounds=4,
        rate_limit_upload="1000/hour",
        rate_limit_analyze="1000/hour",
        rate_limit_training="10000/minute",
        rate_limit_login="10000/minute",
        **fuzz_overrides(),
    )


def _print(report: FuzzReport) -> None:
    print("statuses per operation:")
    for label, statuses in sorted(report.by_operation.items()):
        counts = " ".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
        print(f"  {label:<58} {counts}")
    print(report.summary())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=50, help="per operation and pass")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cc-fuzz-"))
    name = f"cc_fuzz_{os.getpid()}_{secrets.token_hex(4)}"
    if args.database == "postgresql":
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        database_url = f"{base}/{name}"
    else:
        database_url = f"sqlite+aiosqlite:///{folder / 'fuzz.db'}"
    try:
        app = fuzz_app(_settings(folder, database_url))
        try:
            report = run_fuzz(app, examples=args.examples, seed_value=args.seed)
        finally:
            asgi.shutdown_lifespans()
    finally:
        if args.database == "postgresql":
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    _print(report)
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
