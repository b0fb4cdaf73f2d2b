"""DeepgramTranscriber against a fake `/v1/listen` that checks the request we send."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from ingest.provider_errors import (
    ProviderConnectionError,
    ProviderStatusError,
    ProviderTimeout,
)
from ingest.providers.deepgram import DeepgramTranscriber
from ingest.types import ExtractedAudio

RATE = 16_000
KEY = "dg-test-key"


def write_wav(path: Path, seconds: float, *, freq: float) -> np.ndarray:
    """A 16 kHz mono int16 tone; returns its samples."""
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (8000 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())
    return samples


def word(text: str, start: float, end: float, speaker: int, punctuated: str) -> dict[str, Any]:
    return {
        "word": text,
        "start": start,
        "end": end,
        "confidence": 0.98,
        "speaker": speaker,
        "speaker_confidence": 0.61,
        "punctuated_word": punctuated,
    }


def metadata(channels: int) -> dict[str, Any]:
    return {
        "transaction_key": "deprecated",
        "request_id": "5b1c7c4e-2b2a-4c39-8a4e-4b9f4cf3e2a1",
        "sha256": "154e291ecfa8be6ab8343560bcc109008fa7853eb5372533e8efdefc9b504c33",
        "created": "2025-05-12T15:10:31.274Z",
        "duration": 6.4,
        "channels": channels,
        "models": ["2187e11a-3532-4498-b076-81fa530bdd49"],
        "model_info": {
            "2187e11a-3532-4498-b076-81fa530bdd49": {
                "name": "general-nova-3",
                "version": "2025-04-17.21547",
                "arch": "nova-3",
            }
        },
    }


HELLO = [word("hi", 0.08, 0.32, 0, "Hi,"), word("this", 0.32, 0.5, 0, "this")]
HELLO += [word("is", 0.5, 0.62, 0, "is"), word("dana", 0.62, 1.1, 0, "Dana.")]
PRICE = [word("it's", 1.9, 2.1, 1, "It's"), word("too", 2.1, 2.3, 1, "too")]
PRICE += [word("expensive", 2.3, 2.9, 1, "expensive.")]

DIARIZED = {
    "metadata": metadata(1),
    "results": {
        "channels": [
            {
                "alternatives": [
                    {
                        "transcript": "hi this is dana it's too expensive",
                        "confidence": 0.97,
                        "words": HELLO + PRICE,
                    }
                ]
            }
        ],
        "utterances": [
            {
                "start": 0.08,
                "end": 1.1,
                "confidence": 0.97,
                "channel": 0,
                "transcript": "Hi, this is Dana.",
                "words": HELLO,
                "speaker": 0,
                "id": "0b8c2a57-4f0e-4f0c-9d4e-1f3c8a0f5b11",
            },
            {
                "start": 1.9,
                "end": 2.9,
                "confidence": 0.95,
                "channel": 0,
                "transcript": "It's too expensive.",
                "words": PRICE,
                "speaker": 1,
                "id": "7e5d8f21-3a3c-41b5-a0c2-2b6f0e9d4c22",
            },
        ],
    },
}


def read_wav(body: bytes) -> tuple[int, int, np.ndarray]:
    """Channels, sample rate and interleaved samples of a WAV body (fails if not a WAV)."""
    with wave.open(io.BytesIO(body), "rb") as reader:
        assert reader.getsampwidth() == 2
        frames = reader.readframes(reader.getnframes())
        assert len(frames) == reader.getnframes() * reader.getnchannels() * 2
        return reader.getnchannels(), reader.getframerate(), np.frombuffer(frames, "<i2")


def fake(
    responses: list[httpx.Response | Exception], *, check: Callable[[httpx.Request], None]
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client whose transport checks each request and replays ``responses`` in order."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        check(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def check_common(request: httpx.Request) -> None:
    assert request.method == "POST"
    assert request.url.host == "deepgram.test"
    assert request.url.path == "/v1/listen"
    assert request.headers["authorization"] == f"Token {KEY}"
    assert request.headers["content-type"] == "audio/wav"
    params = request.url.params
    assert params["model"] == "nova-3"
    for flag in ("punctuate", "smart_format", "utterances"):
        assert params[flag] == "true"


def transcriber(client: httpx.AsyncClient, **kwargs: Any) -> DeepgramTranscriber:
    return DeepgramTranscriber(
        api_key=KEY,
        base_url="https://deepgram.test",
        http_client=client,
        retry_base_delay=0.001,
        **kwargs,
    )


@pytest.fixture
def mono(tmp_path: Path) -> tuple[ExtractedAudio, np.ndarray]:
    samples = write_wav(tmp_path / "channel0.wav", 3.0, freq=220)
    return ExtractedAudio(RATE, 3.0, [tmp_path / "channel0.wav"]), samples


async def test_mono_recording_is_diarized_and_parsed(
    mono: tuple[ExtractedAudio, np.ndarray],
) -> None:
    audio, samples = mono

    def check(request: httpx.Request) -> None:
        check_common(request)
        assert request.url.params["diarize"] == "true"
        assert "multichannel" not in request.url.params
        assert "language" not in request.url.params
        channels, rate, body = read_wav(request.content)
        assert (channels, rate) == (1, RATE)
        assert np.array_equal(body, samples)

    client, seen = fake([httpx.Response(200, json=DIARIZED)], check=check)
    result = await transcriber(client).transcribe(audio)

    assert len(seen) == 1
    assert result.provider == "deepgram"
    assert [(s.speaker, s.text) for s in result.segments] == [
        ("S0", "Hi, this is Dana."),
        ("S1", "It's too expensive."),
    ]
    first = result.segments[0]
    assert (first.start, first.end) == (0.08, 1.1)
    assert [w.word for w in first.words] == ["Hi,", "this", "is", "Dana."]
    assert (first.words[-1].start, first.words[-1].end) == (0.62, 1.1)


async def test_stereo_call_is_sent_multichannel_and_channels_are_speakers(
    tmp_path: Path,
) -> None:
    # Longer than one streamed chunk, and the right channel is shorter (padded with silence).
    left = write_wav(tmp_path / "channel0.wav", 10.0, freq=220)
    right = write_wav(tmp_path / "channel1.wav", 9.5, freq=440)
    audio = ExtractedAudio(RATE, 10.0, [tmp_path / "channel0.wav", tmp_path / "channel1.wav"])

    def check(request: httpx.Request) -> None:
        check_common(request)
        assert request.url.params["multichannel"] == "true"
        assert request.url.params["language"] == "en-US"
        channels, rate, body = read_wav(request.content)
        assert (channels, rate) == (2, RATE)
        assert np.array_equal(body[0::2], left)
        assert np.array_equal(body[1::2][: right.size], right)
        assert not body[1::2][right.size :].any()

    response = json.loads(json.dumps(DIARIZED))
    response["metadata"] = metadata(2)
    for utterance, channel in zip(response["results"]["utterances"], (1, 0), strict=True):
        utterance["channel"] = channel
        utterance["speaker"] = 0  # diarization restarts per channel; the channel decides
    client, _ = fake([httpx.Response(200, json=response)], check=check)
    progress: list[float] = []

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    result = await transcriber(client, language="en-US").transcribe(audio, on_progress=on_progress)

    assert [(s.speaker, s.text) for s in result.segments] == [
        ("S1", "Hi, this is Dana."),
        ("S0", "It's too expensive."),
    ]
    assert result.language == "en-US"
    # The upload (two chunks of the 10 s body) is the first half; the transcript completes it.
    assert progress == [pytest.approx(0.4), 0.5, 1.0]


async def test_words_are_grouped_by_speaker_when_utterances_are_missing(
    mono: tuple[ExtractedAudio, np.ndarray],
) -> None:
    response = json.loads(json.dumps(DIARIZED))
    del response["results"]["utterances"]
    response["results"]["channels"][0]["detected_language"] = "en"
    client, _ = fake([httpx.Response(200, json=response)], check=check_common)

    result = await transcriber(client).transcribe(mono[0])

    assert [(s.speaker, s.text, s.start, s.end) for s in result.segments] == [
        ("S0", "Hi, this is Dana.", 0.08, 1.1),
        ("S1", "It's too expensive.", 1.9, 2.9),
    ]
    assert result.language == "en"


async def test_rate_limit_and_unavailable_are_retried(
    mono: tuple[ExtractedAudio, np.ndarray],
) -> None:
    error = {"err_code": "TOO_MANY_REQUESTS", "err_msg": "Too many requests.", "request_id": "r1"}

    def check(request: httpx.Request) -> None:
        check_common(request)
        assert read_wav(request.content)[0] == 1  # a full body on every attempt

    client, seen = fake(
        [
            httpx.Response(429, json=error),
            httpx.Response(503, text="Service Unavailable"),
            httpx.Response(200, json=DIARIZED),
        ],
        check=check,
    )
    progress: list[float] = []

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    result = await transcriber(client).transcribe(mono[0], on_progress=on_progress)

    assert len(seen) == 3
    assert progress == [0.5, 1.0]  # the retried uploads do not report again
    assert len(result.segments) == 2


@pytest.mark.parametrize("status", [400, 401])
async def test_client_errors_are_not_retried(
    mono: tuple[ExtractedAudio, np.ndarray], status: int
) -> None:
    body = {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials.", "request_id": "r2"}
    client, seen = fake([httpx.Response(status, json=body)], check=check_common)

    with pytest.raises(ProviderStatusError) as caught:
        await transcriber(client).transcribe(mono[0])

    assert caught.value.status == status
    assert caught.value.retryable is False
    assert KEY not in str(caught.value)
    assert len(seen) == 1


async def test_timeout_becomes_provider_timeout_after_retries(
    mono: tuple[ExtractedAudio, np.ndarray],
) -> None:
    client, seen = fake([httpx.ReadTimeout("slow")], check=check_common)

    with pytest.raises(ProviderTimeout):
        await transcriber(client, attempts=2).transcribe(mono[0])

    assert len(seen) == 2


async def test_unreachable_host_becomes_connection_error(
    mono: tuple[ExtractedAudio, np.ndarray],
) -> None:
    client, _ = fake([httpx.ConnectError("refused")], check=check_common)

    with pytest.raises(ProviderConnectionError) as caught:
        await transcriber(client, attempts=1).transcribe(mono[0])

    assert caught.value.retryable is True


async def test_channel_files_must_be_16_bit_mono(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(b"\0" * 400)
    client, seen = fake([httpx.Response(200, json=DIARIZED)], check=check_common)

    with pytest.raises(ValueError, match="mono"):
        await transcriber(client).transcribe(ExtractedAudio(RATE, 0.1, [path]))

    assert seen == []
