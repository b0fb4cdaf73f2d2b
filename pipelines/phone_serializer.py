"""A telephony provider's frame serializer that bad input cannot break and that hears hang-ups.

Pipecat's `TwilioFrameSerializer` and `TelnyxFrameSerializer` do the protocol work (base64
mu-law audio both ways, DTMF into `InputDTMFFrame`, ``clear`` on interruptions). Two gaps are
closed here, around whichever of them is wrapped:

- A frame they cannot read (invalid UTF-8, JSON that is not an object, a payload that is not
  base64, fields of the wrong type) raises inside them, and the websocket transport's receive
  loop stops at the first exception, which would end the call. Here such a frame is logged
  (statically: never its content) and skipped, like an unknown event type.
- The provider's ``stop`` event (the caller hung up, or the call was redirected) becomes a
  `CancelWorkerFrame`, so the call ends at once even if the provider is slow to close the
  socket; it travels down the pipeline to the worker, which cancels it as a hang-up does.
"""

from __future__ import annotations

import json

from loguru import logger
from pipecat.frames.frames import CancelWorkerFrame, Frame
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.serializers.base_serializer import FrameSerializer

HANG_UP_REASON = "the caller hung up"


class PhoneFrameSerializer(FrameSerializer):
    """Wraps a provider's serializer: malformed frames are skipped, ``stop`` ends the call.

    Args:
        inner: the provider's serializer (Twilio, Telnyx).
    """

    def __init__(self, inner: FrameSerializer) -> None:
        super().__init__()
        self.inner = inner
        self.skipped = 0

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]
        """Sets up the provider's serializer (pipecat's serializers take the pipeline's
        setup where other base objects take a task manager)."""
        await self.inner.setup(setup)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        """The provider's message for ``frame`` (None when it has none)."""
        return await self.inner.serialize(frame)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        """The frame a provider's message carries; None for anything else or unreadable.

        Args:
            data: one websocket message.
        """
        event = event_of(data)
        if event is None:
            self._skip()
            return None
        if event == "stop":
            return CancelWorkerFrame(reason=HANG_UP_REASON)
        try:
            return await self.inner.deserialize(data)
        except Exception:
            self._skip()
            return None

    def _skip(self) -> None:
        """Counts an unreadable frame; logs the first and then every hundredth."""
        self.skipped += 1
        if self.skipped == 1 or self.skipped % 100 == 0:
            logger.warning(f"skipped {self.skipped} unreadable telephony frames so far")
        return None


def event_of(data: str | bytes) -> str | None:
    """The ``event`` of a provider's message; None when it is not a JSON object with one.

    Args:
        data: one websocket message.
    """
    try:
        message = json.loads(data)
    except (ValueError, TypeError, RecursionError):  # RecursionError: nested too deep
        return None
    if not isinstance(message, dict):
        return None
    event = message.get("event")
    return event if isinstance(event, str) else None
