"""A process-wide pool of pocketsphinx decoders for live sessions.

A decoder costs ~0.3 s to create and ~96 MB of memory, so sessions borrow one for their
lifetime and hand it back at the end, and the next session reuses it. The pool creates
decoders only when none is idle and keeps at most ``max_idle`` of them; decoders handed back
beyond that are dropped and their memory freed.

pocketsphinx holds the GIL while it builds a decoder, so running the build in a worker thread
keeps the event loop's code out of the way but does not let it run in parallel; call
`DecoderPool.prewarm` at server start so that no session pays for a build.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from loguru import logger

LIVE_DECODER_CONFIG: dict[str, Any] = {
    "samprate": 16000,
    # Without the flat-lexicon second pass end_utt() takes ~5 ms instead of ~120 ms of
    # GIL-held time, which would otherwise stall every session in the process.
    "fwdflat": False,
    "bestpath": True,
    # Capping active HMMs and word exits per frame cuts decode time by ~40%.
    "maxhmmpf": 2000,
    "maxwpf": 5,
    "loglevel": "FATAL",
}
"""Decoder settings for live decoding: 16 kHz input, single-pass search."""

DecoderFactory = Callable[[], Any]


def create_live_decoder() -> Any:
    """Builds a pocketsphinx decoder with `LIVE_DECODER_CONFIG` (blocking, ~0.3 s)."""
    from pocketsphinx import Decoder

    return Decoder(**LIVE_DECODER_CONFIG)


class DecoderPool:
    """Lends pocketsphinx decoders to sessions and takes them back.

    Safe to share between event loops and threads. A decoder handed back is reset to the
    model's initial cepstral mean, so every session starts from the same acoustic state
    whichever caller used the decoder before.
    """

    def __init__(self, *, max_idle: int = 4, factory: DecoderFactory = create_live_decoder):
        """Creates an empty pool.

        Args:
            max_idle: How many idle decoders to keep for reuse (at least 0).
            factory: Builds one decoder; called in a worker thread.

        Raises:
            ValueError: ``max_idle`` is negative.
        """
        if max_idle < 0:
            raise ValueError("max_idle must be at least 0")
        self._max_idle = max_idle
        self._factory = factory
        self._idle: list[Any] = []
        # The cepstral mean of a freshly built decoder; one factory builds them all alike.
        self._initial_cmn: str | None = None
        self._lock = threading.Lock()
        self._created = 0
        self._warming = 0  # decoders being built by prewarm

    @property
    def created(self) -> int:
        """How many decoders this pool has built so far."""
        return self._created

    @property
    def idle(self) -> int:
        """How many decoders are waiting to be reused."""
        with self._lock:
            return len(self._idle)

    def lend_idle(self) -> Any | None:
        """An idle decoder, at once, or None when every decoder is lent.

        Returns:
            A decoder that is not in an utterance (give it back with `release`), or None.
        """
        with self._lock:
            return self._idle.pop() if self._idle else None

    async def acquire(self) -> Any:
        """Lends a decoder: an idle one if there is one, else a new one.

        Returns:
            A decoder that is not in an utterance. Give it back with `release`.

        Raises:
            Exception: Whatever the factory raises (e.g. a missing model).
        """
        with self._lock:
            if self._idle:
                return self._idle.pop()
        decoder = await asyncio.to_thread(self._build)
        logger.debug("Created a pocketsphinx decoder for the pool")
        return decoder

    def release(self, decoder: Any) -> None:
        """Takes back a decoder that is not in an utterance, for the next session.

        Args:
            decoder: A decoder lent by `acquire`.
        """
        try:
            if self._initial_cmn is not None:
                decoder.set_cmn(self._initial_cmn)
        except RuntimeError:
            logger.warning("Dropping a pocketsphinx decoder that could not be reset")
            return
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(decoder)

    async def prewarm(self, count: int) -> None:
        """Builds decoders until ``count`` are idle (capped at ``max_idle``); callers that
        prewarm at the same time do not build the same decoders twice.

        Args:
            count: How many idle decoders to have ready.
        """
        with self._lock:
            missing = max(0, min(count, self._max_idle) - len(self._idle) - self._warming)
            self._warming += missing
        try:
            for _ in range(missing):
                decoder = await asyncio.to_thread(self._build)
                with self._lock:
                    self._warming -= 1
                    missing -= 1
                self.release(decoder)
        finally:
            with self._lock:
                self._warming -= missing

    def clear(self) -> None:
        """Drops every idle decoder, freeing its memory."""
        with self._lock:
            self._idle = []

    def _build(self) -> Any:
        decoder = self._factory()
        cmn = decoder.get_cmn()
        with self._lock:
            self._created += 1
            if self._initial_cmn is None:
                self._initial_cmn = cmn
        return decoder


_default_pool: DecoderPool | None = None
_default_lock = threading.Lock()


def default_pool() -> DecoderPool:
    """The process-wide pool that `SphinxSTTService` uses unless given another."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = DecoderPool()
        return _default_pool
