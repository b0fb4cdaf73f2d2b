"""A property-based fuzz of the whole API from its OpenAPI document, in process (schemathesis).

Every documented operation gets generated requests, signed in as a real user: valid ones and
invalid ones with random ids, then valid ones aimed at a champion and a training session that
exist (so routes answer beyond 404). Each answer must be no 5xx and what the document says:
a documented status, content type, headers and body. The run is repeatable: the same seed
and number of examples send the same requests.

Ingest is faked (`PracticeReadyStep`): an uploaded recording is checked and the champion gets
a transcript, patterns and a scenario, as the real steps would leave them.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete

from ingest.runner import StepContext
from ingest.steps import VerifyMediaStep
from memory.models import Pattern, Scenario, Transcript
from memory.settings import Settings
from tests.support.media import write_audio
from tests.support.training_fakes import SCENARIO
from web.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PASSWORD = "correct horse battery"
REQUEST_TIMEOUT_SECONDS = 30.0
# Operations that end what the aimed requests need, run after all others in this order.
LAST = [("POST", "/training/end"), ("DELETE", "/champions/{champion_id}")]
SEGMENTS = [
    {"start": 0.0, "end": 2.0, "speaker": "S0", "text": "Hi, this is Alex.", "words": []},
    {"start": 2.0, "end": 4.0, "speaker": "S1", "text": "Hello, Dana here.", "words": []},
]


class PracticeReadyStep:
    """Leaves a champion practisable: a transcript, a pattern and a scenario."""

    name = "scenarios"

    async def run(self, ctx: StepContext) -> None:
        """Replaces the champion's transcript, patterns and scenarios with fixed ones."""
        async with ctx.db.session() as session:
            for model in (Transcript, Pattern, Scenario):
                await session.execute(delete(model).where(model.champion_id == ctx.champion_id))
            session.add(Transcript(champion_id=ctx.champion_id, provider="fake", segments=SEGMENTS))
            session.add(
                Pattern(
                    champion_id=ctx.champion_id,
                    category="opening",
                    quote="Hi, this is Alex.",
                    start=0.0,
                    end=2.0,
                    provider="fake",
                )
            )
            session.add(Scenario(champion_id=ctx.champion_id, provider="fake", **SCENARIO))
            await session.commit()


def fuzz_overrides() -> dict[str, Any]:
    """Settings for a fuzzed app: phone providers configured (webhooks check signatures
    rather than answer 503), budgets that let every request through to its route, no speech
    model to load."""
    public_key = (
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    return {
        "stt_provider": "offline",
        "rate_limit_register": "100000/minute",
        "rate_limit_dial_in": "100000/minute",
        "twilio_auth_token": secrets.token_hex(16),
        "telnyx_public_key": base64.b64encode(public_key).decode(),
    }


def fuzz_app(settings: Settings) -> FastAPI:
    """The app with fake ingest (`PracticeReadyStep`)."""
    return create_app(settings, ingest_steps=[VerifyMediaStep(), PracticeReadyStep()])


@dataclass
class Seeded:
    """A signed-in user's header, a champion of theirs, a session on it and one that ended."""

    headers: dict[str, str]
    champion_id: str
    session_id: str
    ended_session_id: str


@dataclass
class Found:
    """One failed check: where, of what kind, and the request that found it."""

    operation: str
    kind: str
    status: int | None
    message: str


@dataclass
class FuzzReport:
    """What a run sent and found."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[Found] = field(default_factory=list)
    seconds: float = 0.0

    def kinds(self) -> Counter[str]:
        """Failures counted by kind (the failed check's title)."""
        return Counter(f.kind for f in self.failures)

    def summary(self) -> str:
        """The figures and each distinct failure, one per line."""
        lines = [
            f"{self.requests} requests in {self.seconds:.1f} s; statuses "
            + ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items())),
            f"{len(self.failures)} failures: "
            + ", ".join(f"{kind}: {n}" for kind, n in self.kinds().most_common()),
        ]
        seen: set[tuple[str, str]] = set()
        for found in self.failures:
            if (found.operation, found.kind) not in seen:
                seen.add((found.operation, found.kind))
                lines.append(f"- {found.operation} [{found.kind}] {found.message}")
        return "\n".join(lines)


def seed(app: FastAPI) -> Seeded:
    """Signs up a user who has a ready champion (uploaded, faked ingest) and two sessions on
    it, one ended."""
    with asgi.get_client(app) as client:
        email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
        credentials = {"email": email, "password": PASSWORD}
        _ok(client.post("/auth/register", json=credentials))
        token = _ok(client.post("/auth/login", json=credentials)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with tempfile.TemporaryDirectory() as folder:
            wav = write_audio(Path(folder) / "call.wav", seconds=1.0)
            with wav.open("rb") as file:
                upload = client.post("/upload", headers=headers, files={"file": file})
        champion_id = _ok(upload).json()["champion_id"]
        # The event stream ends when the ingest job does.
        events = _ok(client.get(f"/champions/{champion_id}/events", headers=headers))
        assert '"status": "completed"' in events.text, events.text
        sessions = [
            _ok(client.post("/training/start", headers=headers, json={"champion_id": champion_id}))
            for _ in range(2)
        ]
        active, ended = (started.json()["session_id"] for started in sessions)
        _ok(client.post("/training/end", headers=headers, json={"session_id": ended}))
        return Seeded(headers, champion_id, active, ended)


def _ok(response: requests.Response) -> requests.Response:
    assert response.status_code < 300, f"{response.status_code} {response.text[:500]}"
    return response


def run_fuzz(app: FastAPI, *, examples: int, seed_value: int = 0) -> FuzzReport:
    """Fuzzes every documented operation of ``app`` (its lifespan started and left running:
    end it with ``schemathesis.python.asgi.shutdown_lifespans()``).

    Args:
        app: the app, as `fuzz_app` builds it.
        examples: the most requests per operation and pass: random ids, invalid input, aimed
            at the seeded champion and session, and at the ended session (where there is one)
        seed_value: the generator's seed; a run is repeatable for one seed.
    """
    started = time.perf_counter()
    seeded = seed(app)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    report = FuzzReport()
    for operation in sorted(_operations(schema), key=_order):
        ended = {"session_id": seeded.ended_session_id}
        passes: list[tuple[schemathesis.GenerationMode, Callable[[Any], bool]]] = [
            (schemathesis.GenerationMode.POSITIVE, _unchanged),
            (schemathesis.GenerationMode.NEGATIVE, _unchanged),
            (schemathesis.GenerationMode.POSITIVE, _aim(_ids(seeded))),
            (schemathesis.GenerationMode.POSITIVE, _aim(ended, only_aimed=True)),
        ]
        for mode, adjust in passes:
            for case in _cases(operation.as_strategy(mode), examples, seed_value):
                if adjust(case):
                    _send(case, seeded.headers, report)
    report.seconds = time.perf_counter() - started
    return report


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def _order(operation: Any) -> tuple[int, str, str]:
    key = (operation.method.upper(), operation.path)
    return (LAST.index(key) + 1 if key in LAST else 0, operation.path, operation.method)


def _cases(strategy: Any, examples: int, seed_value: int) -> list[Any]:
    """Up to ``examples`` cases drawn from ``strategy``, the same ones for the same seed."""
    drawn: list[Any] = []

    @hypothesis.seed(seed_value)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(strategy)
    def draw(case: Any) -> None:
        drawn.append(case)

    # Unsatisfiable: nothing of this kind to generate (e.g. invalid input without any input).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        draw()
    return drawn


def _unchanged(_case: Any) -> bool:
    return True


def _ids(seeded: Seeded) -> dict[str, str]:
    return {"champion_id": seeded.champion_id, "session_id": seeded.session_id}


def _aim(ids: dict[str, str], *, only_aimed: bool = False) -> Callable[[Any], bool]:
    """Points a case's ids (path or body) at ``ids``; the case is to be sent unless
    ``only_aimed`` and it names none of them."""

    def aim(case: Any) -> bool:
        aimed = False
        for container in (case.path_parameters, case.body):
            if isinstance(container, dict):
                for name in ids.keys() & container.keys():
                    container[name] = ids[name]
                    aimed = True
        return aimed or not only_aimed

    return aim


def _send(case: Any, headers: dict[str, str], report: FuzzReport) -> None:
    label = f"{case.operation.method.upper()} {case.operation.path}"
    report.requests += 1
    try:
        response = case.call(headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)
    except Exception as exc:  # the app raised out of the ASGI call: a 500 for a client
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = f"{exc!r} at {where.filename}:{where.lineno} | {_curl(case)}"
        report.failures.append(Found(label, f"raised {type(exc).__name__}", None, message))
        return
    report.statuses[response.status_code] += 1
    report.by_operation.setdefault(label, Counter())[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        for failure in group.exceptions:
            message = f"{failure.message} | answer {response.text[:200]!r} | {_curl(case)}"
            report.failures.append(Found(label, failure.title, response.status_code, message))


def _curl(case: Any) -> str:
    """The request as a curl command, without the bearer token."""
    return str(case.as_curl_command(headers={"Authorization": "Bearer ..."}))[:800]
