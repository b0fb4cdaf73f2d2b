"""The whole API fuzzed from its OpenAPI document (`tests/support/api_fuzz.py`), on a small budget:
no 5xx, and every answer as the document says. `bench/fuzz_api.py` runs it longer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from schemathesis.python import asgi

from memory.settings import Settings
from tests.support.api_fuzz import fuzz_app, fuzz_overrides, run_fuzz

EXAMPLES = 10  # per operation and pass: about 950 requests
SEED = 13


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_answer_is_what_the_openapi_document_says(
    make_settings: Callable[..., Settings],
) -> None:
    app = fuzz_app(make_settings(**fuzz_overrides()))
    try:
        report = run_fuzz(app, examples=EXAMPLES, seed_value=SEED)
    finally:
        asgi.shutdown_lifespans()
    # The requests reached the routes: signed in, past validation, at things that exist.
    assert report.requests > 300, report.summary()
    assert {200, 201, 204, 404, 422} <= set(report.statuses), report.summary()
    assert not report.failures, report.summary()
