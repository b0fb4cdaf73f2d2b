"""The phone serializer: each provider's protocol in and out, junk skipped, ``stop`` ends."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pipecat.frames.frames import (
    CancelWorkerFrame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
)

from memory.settings import Settings
from pipelines.phone_serializer import event_of
from tests.support.phone_client import (
    MALFORMED,
    PHONE_RATE,
    PhoneCall,
    TelnyxCall,
    TwilioCall,
    ulaw_decode,
    ulaw_encode,
)
from web.telephony.streams import CALL_INPUT_SAMPLE_RATE, StreamStart, read_start, serializer_for

CALLS: dict[str, type[PhoneCall]] = {"twilio": TwilioCall, "telnyx": TelnyxCall}


def tone(seconds: float, rate: int = PHONE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


@pytest.mark.parametrize("provider", ["twilio", "telnyx"])
async def test_the_provider_protocol_in_and_out(provider: str) -> None:
    call = CALLS[provider]()
    start = StreamStart(provider, call.stream_id, call.call_id)  # type: ignore[arg-type]
    serializer = serializer_for(start, Settings(_env_file=None))  # type: ignore[call-arg]
    await serializer.setup(SimpleNamespace(audio_in_sample_rate=CALL_INPUT_SAMPLE_RATE))  # type: ignore[arg-type]

    for junk in MALFORMED:
        assert await serializer.deserialize(junk) is None, junk
    assert serializer.skipped > 0

    key = await serializer.deserialize(json.dumps(call.dtmf_message("7")))
    assert isinstance(key, InputDTMFFrame) and key.button.value == "7"
    hang_up = await serializer.deserialize(json.dumps(call.stop_message()))
    assert isinstance(hang_up, CancelWorkerFrame)

    # 8 kHz mu-law in, 16 kHz PCM into the call.
    sent = tone(0.4)
    samples = 0
    for offset in range(0, sent.size, 160):
        payload = base64.b64encode(ulaw_encode(sent[offset : offset + 160])).decode()
        frame = await serializer.deserialize(json.dumps(call.media_message(payload)))
        if frame is not None:
            assert isinstance(frame, InputAudioRawFrame)
            assert frame.sample_rate == CALL_INPUT_SAMPLE_RATE
            samples += len(frame.audio) // 2
    assert samples > 0.8 * sent.size * CALL_INPUT_SAMPLE_RATE / PHONE_RATE

    # The call's audio out as the provider's media messages, and "clear" on interruption.
    out = tone(0.2)
    message: dict[str, Any] = json.loads(
        str(await serializer.serialize(OutputAudioRawFrame(out.tobytes(), PHONE_RATE, 1)))
    )
    assert message["event"] == "media" and call.is_ours(message)
    heard = ulaw_decode(base64.b64decode(message["media"]["payload"]))
    assert heard.size == out.size
    assert np.abs(heard.astype(np.int32) - out).max() < 400  # mu-law's step at this level
    clear = json.loads(str(await serializer.serialize(InterruptionFrame())))
    assert clear["event"] == "clear"


async def test_a_message_nested_too_deep_is_unreadable_not_a_crash() -> None:
    deep = '{"event": "start", "x": ' + "[" * 5_000 + "]" * 5_000 + "}"
    assert event_of(deep) is None
    assert event_of('{"event": "media"}') == "media"

    class Socket:
        def __init__(self) -> None:
            self.messages = [{"type": "websocket.receive", "text": deep}]
            self.messages.append({"type": "websocket.disconnect"})

        async def receive(self) -> dict[str, str]:
            return self.messages.pop(0)

    assert await read_start(Socket(), "twilio") is None  # type: ignore[arg-type]
