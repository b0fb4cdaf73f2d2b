"""How long a failed sign-in takes for a known e-mail (wrong password) and for an unknown one,
at the production bcrypt cost; the two medians should match, or the time tells which e-mails
have accounts.

    .venv/bin/python -m bench.login_timing [--tries 7] [--rounds 12]

The app runs in process on a temporary SQLite database, its requests through httpx's ASGI
transport (no network: only the sign-in's own work is timed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from memory.settings import Settings
from web.app import create_app

PASSWORD = "correct horse battery"  # noqa: S105 - the benchmark account


async def _median_ms(client: httpx.AsyncClient, email: str, tries: int) -> float:
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        response = await client.post(
            "/auth/login", json={"email": email, "password": "wrong-password"}
        )
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 401, response.text
    return statistics.median(times)


async def _run(tries: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=Path(work) / "data",
            bcrypt_rounds=rounds,
            rate_limit_login="100000/minute",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                account = {"email": "known@example.com", "password": PASSWORD}
                (await client.post("/auth/register", json=account)).raise_for_status()
                await _median_ms(client, "warm-up@example.com", 1)  # makes the dummy hash
                known = await _median_ms(client, "known@example.com", tries)
                unknown = await _median_ms(client, "unknown@example.com", tries)
    print(f"bcrypt cost {rounds}, {tries} tries each (median of failed sign-ins):")
    print(f"  known e-mail, wrong password  {known:8.1f} ms")
    print(f"  unknown e-mail                {unknown:8.1f} ms")
    print(f"  unknown / known               {unknown / known:8.2f}")


def main() -> None:
    """Parses the options and prints the two medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=7, help="sign-ins timed per case")
    parser.add_argument("--rounds", type=int, default=12, help="BCRYPT_ROUNDS")
    options = parser.parse_args()
    asyncio.run(_run(options.tries, options.rounds))


if __name__ == "__main__":
    main()
