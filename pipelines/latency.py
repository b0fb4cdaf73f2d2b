"""Voice-to-voice latency of a turn, in named parts, as stored on the turn and sent out.

The server's part comes from Pipecat's `UserBotLatencyObserver` breakdown (end of trainee
speech as the VAD places it → the bot's first audio leaving the pipeline) plus the way in:
how late the trainee's audio reached the pipeline (`pipelines.inbound_lag`), which the VAD's
clock cannot see and which grows when the server falls behind. The network and the client's
buffers stay invisible, so the client reports what it heard (end of its own speech → first
bot audio played) and the difference is stored as the transport leg.
"""

from __future__ import annotations

from typing import Any

from pipecat.observers.user_bot_latency_observer import LatencyBreakdown, MeasuredFrom

# Pipecat's contribution keys, grouped into the parts a trainee is shown.
PARTS: dict[str, tuple[str, ...]] = {
    "end_of_turn_ms": ("endpointing_wait", "turn_detection", "turn_completion", "waiting_for_user"),
    "stt_ms": ("transcription",),
    "llm_first_token_ms": (
        "llm_inference",
        "awaiting_speakable_text",
        "llm_tool_call",
        "function_handler",
    ),
    "tts_first_audio_ms": ("sentence_aggregation", "speech_synthesis"),
    "server_output_ms": ("output_transport",),
}
CLIENT_LIMIT_MS = 60_000.0
"""A client's report above this (or negative) is not a latency and is ignored."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def server_breakdown(
    breakdown: LatencyBreakdown, *, inbound_secs: float | None = None
) -> dict[str, Any] | None:
    """A trainee turn's server-side latency in named parts, or None for the greeting.

    Args:
        breakdown: What the latency observer measured for one user-to-bot cycle.
        inbound_secs: How late the trainee's audio reached the pipeline at their end of
            speech; None when the transport cannot tell.

    Returns:
        ``server_ms`` (the total, the way in included) and one entry per part of `PARTS`;
        ``inbound_ms`` is the way in, and time the observer could not attribute is
        ``pipeline_ms``.
    """
    if breakdown.measured_from != MeasuredFrom.USER_SILENCE:
        return None
    inbound = max(0.0, inbound_secs or 0.0)
    parts: dict[str, Any] = {"inbound_ms": _ms(inbound)}
    attributed = 0.0
    for part, keys in PARTS.items():
        seconds = sum(c.duration_secs for c in breakdown.contributions if c.key in keys)
        parts[part] = _ms(seconds)  # 0 when the part took no time (pipecat then omits it)
        attributed += seconds
    parts["pipeline_ms"] = _ms(max(0.0, breakdown.total_secs - attributed))
    parts["server_ms"] = _ms(breakdown.total_secs + inbound)
    return parts


def with_client_report(parts: dict[str, Any], client_ms: float) -> dict[str, Any] | None:
    """Adds what the client measured; the rest of its figure is the transport leg.

    Args:
        parts: The server breakdown of the same turn.
        client_ms: Voice-to-voice as the client heard it.

    Returns:
        The breakdown with ``client_ms`` and ``transport_ms`` (client minus server), or
        None when the report cannot be a latency.
    """
    if not 0 <= client_ms <= CLIENT_LIMIT_MS:
        return None
    server_ms = float(parts.get("server_ms", 0.0))
    return {
        **parts,
        "client_ms": round(client_ms, 1),
        "transport_ms": round(max(0.0, client_ms - server_ms), 1),
    }
