"""ElevenLabs instant voice cloning against a fake `/v1/voices/add`, and sample selection."""

from __future__ import annotations

import email.parser
import email.policy
import io
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.provider_errors import ProviderStatusError, ProviderTimeout
from ingest.providers.elevenlabs_clone import ElevenLabsVoiceCloner, select_clone_samples
from ingest.types import Segment

KEY = "xi-test-key"
RATE = 16_000


def write_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(b"\x01\x00" * int(seconds * RATE))
    return path


def form_parts(request: httpx.Request) -> list[dict[str, Any]]:
    """The multipart/form-data fields of ``request`` (name, filename, type, bytes)."""
    header = request.headers["content-type"]
    assert header.startswith("multipart/form-data; boundary=")
    raw = f"Content-Type: {header}\r\n\r\n".encode() + request.content
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    return [
        {
            "name": part.get_param("name", header="content-disposition"),
            "filename": part.get_filename(),
            "type": part.get_content_type(),
            "data": part.get_payload(decode=True),
        }
        for part in message.iter_parts()
    ]


def fake(
    answers: list[httpx.Response | Exception], samples: list[Path]
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.method == "POST"
        assert request.url.host == "elevenlabs.test"
        assert request.url.path == "/v1/voices/add"
        assert request.headers["xi-api-key"] == KEY
        parts = form_parts(request)
        fields = {p["name"]: p["data"].decode() for p in parts if p["filename"] is None}
        assert fields["name"] == "Champion: Dana"
        assert fields["remove_background_noise"] == "false"
        files = [p for p in parts if p["name"] == "files"]
        assert [f["filename"] for f in files] == [s.name for s in samples]
        for part, sample in zip(files, samples, strict=True):
            assert part["type"] == "audio/wav"
            assert part["data"] == sample.read_bytes()
            with wave.open(io.BytesIO(part["data"]), "rb") as reader:
                assert (reader.getnchannels(), reader.getframerate()) == (1, RATE)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


@pytest.fixture
def samples(tmp_path: Path) -> list[Path]:
    return [write_wav(tmp_path / "sample1.wav", 1.0), write_wav(tmp_path / "sample2.wav", 0.5)]


def cloner(client: httpx.AsyncClient, **kwargs: Any) -> ElevenLabsVoiceCloner:
    return ElevenLabsVoiceCloner(
        api_key=KEY,
        base_url="https://elevenlabs.test",
        http_client=client,
        retry_base_delay=0.001,
        **kwargs,
    )


async def test_clone_uploads_the_samples_and_returns_the_voice_id(samples: list[Path]) -> None:
    answer = httpx.Response(
        200, json={"voice_id": "c38kUX8pkfYO2kHyqfFy", "requires_verification": False}
    )
    client, seen = fake([answer], samples)

    voice_id = await cloner(client).clone(name="Champion: Dana", samples=samples)

    assert voice_id == "c38kUX8pkfYO2kHyqfFy"
    assert len(seen) == 1


async def test_rate_limit_is_retried(samples: list[Path]) -> None:
    busy = {"detail": {"status": "too_many_concurrent_requests", "message": "Too many requests"}}
    client, seen = fake(
        [
            httpx.Response(429, json=busy),
            httpx.Response(503, text="upstream unavailable"),
            httpx.Response(200, json={"voice_id": "v2", "requires_verification": False}),
        ],
        samples,
    )

    assert await cloner(client).clone(name="Champion: Dana", samples=samples) == "v2"
    assert len(seen) == 3


@pytest.mark.parametrize("status", [400, 401])
async def test_client_errors_are_not_retried(samples: list[Path], status: int) -> None:
    detail = {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}
    client, seen = fake([httpx.Response(status, json=detail)], samples)

    with pytest.raises(ProviderStatusError) as caught:
        await cloner(client).clone(name="Champion: Dana", samples=samples)

    assert caught.value.status == status
    assert caught.value.retryable is False
    assert KEY not in str(caught.value)
    assert len(seen) == 1


async def test_timeout_becomes_provider_timeout(samples: list[Path]) -> None:
    client, seen = fake([httpx.WriteTimeout("slow upload")], samples)

    with pytest.raises(ProviderTimeout):
        await cloner(client, attempts=2).clone(name="Champion: Dana", samples=samples)

    assert len(seen) == 2


async def test_no_samples_is_refused_before_any_request() -> None:
    client, seen = fake([httpx.Response(200, json={"voice_id": "x"})], [])

    with pytest.raises(ValueError, match="sample"):
        await cloner(client).clone(name="Champion: Dana", samples=[])

    assert seen == []


def test_select_clone_samples_takes_the_longest_clean_stretches() -> None:
    segments = [
        Segment(0.0, 10.0, "S0", "a ten second intro"),
        Segment(9.0, 12.0, "S1", "talks over the end of it"),  # overlaps: S0's intro is out
        Segment(12.0, 42.0, "S0", "thirty seconds alone"),
        Segment(42.5, 43.5, "S0", "too short"),
        Segment(44.0, 64.0, "S0", "twenty seconds alone"),
        Segment(65.0, 70.0, "S1", "the prospect"),
        Segment(70.0, 120.0, "S0", "fifty seconds alone"),
        Segment(121.0, 126.0, "S0", "   "),  # no speech recognised
    ]

    chosen = select_clone_samples(segments, speaker="S0", max_total_seconds=90.0)

    # 50 s + 30 s, then the 20 s stretch is cut to the 10 s left; in time order.
    assert chosen == [(12.0, 42.0), (44.0, 54.0), (70.0, 120.0)]
    assert sum(end - start for start, end in chosen) == pytest.approx(90.0)


def test_select_clone_samples_skips_a_remainder_too_short_to_use() -> None:
    segments = [Segment(0.0, 89.0, "S0", "long"), Segment(90.0, 100.0, "S0", "more")]

    assert select_clone_samples(segments, speaker="S0", max_total_seconds=90.0) == [(0.0, 89.0)]
    assert select_clone_samples(segments, speaker="S1") == []
