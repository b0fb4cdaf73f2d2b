"""When does the trainee's turn end? End-of-turn strategies compared on natural speech.

    .venv/bin/python -m bench.turn_taking [--voices piper slt rms awb] [--beam 1]
        [--full-window] [--model tiny.en] [--show]

Trainee utterances of a sales call (questions, statements, two and three sentences, and
sentences broken off mid-way by a hesitation) are spoken by natural voices
(`tests.support.voices`: Piper joe and flite's voices) and joined by pauses of 0.3-0.8 s.
Each utterance runs, in audio time, through what a call runs: Silero VAD (stop_secs 0.2,
as `pipelines.roleplay_bot`), whisper on each VAD segment the way Pipecat's
`SegmentedSTTService` cuts it (1 s before the VAD start, 0.5 s of silence after), and
smart-turn v3 (Pipecat's bundled model) on the turn's audio at every VAD stop. The decode and
inference times are measured here (one call, idle), so a strategy that waits for the
transcript pays for it as it would live.

Each strategy is replayed on those events. A pause inside an utterance is a **false cut**
when the strategy ends the turn before the VAD hears the trainee again; at the real end the
**added wait** is the time from the last speech sample to the turn's end (so it includes the
VAD's 0.2 s and, for strategies that wait for the words, the decode). Printed: false cuts
over the pauses and the utterances cut at least once, and the added wait p50/p95 over the
utterances that were not cut, also split by how the utterance ends (a question or not).
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.support.voices import speak

RATE = 16_000
VOICES = ("piper", "slt", "rms", "awb")
SPEECH_LEVEL = 300  # |sample| above this is speech when trimming a synthesizer's silences

# A turn: its sentences, and whether a pause inside it falls mid-sentence.
UTTERANCES: tuple[tuple[str, ...], ...] = (
    ("How many drivers do you have on the road today?",),
    ("What does your current process look like?",),
    ("That makes sense.",),
    ("We help fleets cut their fuel costs by about a fifth.",),
    ("Who else should be part of this decision?",),
    ("Would next Tuesday work for a short demo?",),
    ("I understand your concern about the price.",),
    ("Tell me more about that.",),
    ("We work with about forty fleets like yours.", "How do you plan your routes today?"),
    (
        "I hear that a lot.",
        "Most of our customers felt the same before they tried it.",
        "What would make it worth a look for you?",
    ),
    ("That is a fair question.", "The price depends on the number of vehicles."),
    ("Let me make sure I understood.", "Your drivers lose an hour a day on paperwork."),
    (
        "Thanks for your time today.",
        "Could we set up a call with your operations manager next week?",
    ),
    ("We integrate with the tools you already use.", "Setup takes about two weeks."),
    ("What is the biggest problem your team has right now?", "Is it scheduling or fuel?"),
    ("Good question.", "Our contracts run for one year."),
    ("The reason I ask is because", "most teams lose a lot of time on scheduling."),
    ("We could start with", "a small pilot in one region."),
)
PAUSES = (0.3, 0.5, 0.8)
LEVEL = 10_000  # peak of the utterance as the server hears it (int16)
CHUNK = 320  # 20 ms at 16 kHz, as the transport delivers it
VAD_STOP_SECS = 0.2
SEGMENT_PRE_SECS = 1.0  # SegmentedSTTService keeps 1 s before the VAD start
SEGMENT_PAD_SECS = 0.5  # and pads 0.5 s of silence after the stop
SMART_PRE_SECS = 0.5 + 0.2  # smart-turn: pre_speech_ms plus the VAD's start_secs
TAIL_SECS = 4.0


@dataclass
class Stop:
    """One VAD stop inside an utterance and what each component knew there."""

    at: float  # the VAD stop (audio time, s)
    resume: float | None  # the next VAD start, None after the last stop
    text: str  # the turn's words so far (whisper, all segments up to this one)
    text_at: float  # when the last segment's transcript is ready
    complete: float  # smart-turn v3 probability that the turn is complete
    complete_at: float  # when that inference is done


@dataclass
class Utterance:
    """An utterance and its VAD stops."""

    voice: str
    sentences: tuple[str, ...]
    pauses: list[float]
    speech_end: float
    stops: list[Stop] = field(default_factory=list)


Decision = Callable[[Stop], float]
"""A strategy: when (audio time) it would end the turn after this stop, if nothing resumes."""


def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > SPEECH_LEVEL)
    return audio[loud[0] : loud[-1] + 1] if loud.size else audio[:0]


def _join(parts: list[np.ndarray], pauses: list[float]) -> np.ndarray:
    pieces: list[np.ndarray] = []
    for index, part in enumerate(parts):
        pieces.append(_trim(part))
        if index < len(pauses):
            pieces.append(np.zeros(int(pauses[index] * RATE), np.int16))
    return np.concatenate(pieces)


def _vad_events(audio: np.ndarray) -> list[tuple[str, float]]:
    from pipecat.audio.vad.vad_analyzer import VADParams, VADState

    from pipelines.vad import InlineSileroVADAnalyzer

    vad = InlineSileroVADAnalyzer(params=VADParams(stop_secs=VAD_STOP_SECS))
    vad.set_sample_rate(RATE)
    events: list[tuple[str, float]] = []
    speaking = False
    for index in range(0, len(audio) - CHUNK + 1, CHUNK):
        state = vad._run_analyzer(audio[index : index + CHUNK].tobytes())
        now = (index + CHUNK) / RATE
        if state == VADState.SPEAKING and not speaking:
            speaking = True
            events.append(("start", now))
        elif state == VADState.QUIET and speaking:
            speaking = False
            events.append(("stop", now))
    return events


def _analyse(
    voice: str, sentences: tuple[str, ...], parts: list[np.ndarray], pauses: list[float], stt: Any
) -> Utterance:
    speech = _join(parts, pauses).astype(np.float32)
    speech = (speech * (LEVEL / max(1.0, float(np.abs(speech).max())))).astype(np.int16)
    lead = np.zeros(int(0.5 * RATE), np.int16)
    audio = np.concatenate([lead, speech, np.zeros(int(TAIL_SECS * RATE), np.int16)])
    speech_end = (len(lead) + len(speech)) / RATE
    utterance = Utterance(voice, sentences, pauses, speech_end)
    events = _vad_events(audio)
    starts = [t for kind, t in events if kind == "start"]
    stops = [t for kind, t in events if kind == "stop"]
    if not starts:
        return utterance
    turn_start = starts[0]
    words: list[str] = []
    for index, stop in enumerate(stops):
        start = starts[index]
        # The segment keeps up to 1 s before the VAD start, never audio of the last segment.
        begin = max(start - SEGMENT_PRE_SECS, stops[index - 1] if index else 0.0)
        segment = audio[int(begin * RATE) : int(stop * RATE)]
        segment = np.concatenate([segment, np.zeros(int(SEGMENT_PAD_SECS * RATE), np.int16)])
        began = time.perf_counter()
        text = stt.transcribe(segment)
        decode = time.perf_counter() - began
        if text:
            words.append(text)
        turn_audio = audio[max(0, int((turn_start - SMART_PRE_SECS) * RATE)) : int(stop * RATE)]
        began = time.perf_counter()
        probability = stt.smart_turn(turn_audio)
        infer = time.perf_counter() - began
        resume = starts[index + 1] if index + 1 < len(starts) else None
        utterance.stops.append(
            Stop(stop, resume, " ".join(words), stop + decode, probability, stop + infer)
        )
    return utterance


class Engines:
    """The whisper model and the smart-turn model, loaded once."""

    def __init__(self, model: str, beam: int, *, full_window: bool) -> None:
        from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

        from ingest.whisper_models import shared_whisper_models

        self.whisper = shared_whisper_models().get(model, device="cpu", compute_type="int8")
        self.beam = beam
        self.full_window = full_window
        self.turn = LocalSmartTurnAnalyzerV3(sample_rate=RATE)
        self.decodes: list[float] = []

    def transcribe(self, pcm: np.ndarray) -> str:
        """Whisper's text of a segment, as Pipecat's `WhisperSTTService` keeps it."""
        from pipelines.services.whisper.decode import Decoded, decode_segment

        samples = pcm.astype(np.float32) / 32768
        began = time.perf_counter()
        if self.full_window:
            segments, _ = self.whisper.transcribe(samples, language="en", beam_size=self.beam)
            decoded = [Decoded(s.text, s.no_speech_prob) for s in segments]
        else:
            decoded = decode_segment(self.whisper, samples, beam_size=self.beam)
        self.decodes.append(time.perf_counter() - began)
        return " ".join(d.text.strip() for d in decoded if d.no_speech_prob < 0.4).strip()

    def smart_turn(self, pcm: np.ndarray) -> float:
        """Smart-turn v3's probability that the speaker has finished."""
        result = self.turn._predict_endpoint(pcm.astype(np.float32) / 32768)
        return float(result["probability"])


NUMBERS = {"1": "one", "2": "two", "40": "forty"}


def _words(text: str) -> list[str]:
    cleaned = "".join(c if c.isalnum() or c in " '" else " " for c in text.lower())
    return [NUMBERS.get(w, w) for w in cleaned.split()]


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """(word edits from ``reference`` to ``heard``, words in ``reference``)."""
    ref, hyp = _words(reference), _words(heard)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1], len(ref)


def _ends_sentence(text: str) -> bool:
    from pipelines.turn_stop import sounds_unfinished

    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] in ".?!" and not sounds_unfinished(stripped)


def strategies() -> dict[str, Decision]:
    """The strategies compared, by name."""
    from pipelines.turn_stop import sounds_unfinished

    def timeout(secs: float) -> Decision:
        return lambda s: max(s.at + secs, s.text_at)

    def smart(fallback: float) -> Decision:
        return lambda s: (
            max(s.complete_at, s.text_at) if s.complete > 0.5 else max(s.at + fallback, s.text_at)
        )

    def sentence_end(hold: float) -> Decision:
        return lambda s: s.text_at + (hold if sounds_unfinished(s.text) else 0.0)

    def words_and_smart(quick: float, slow: float) -> Decision:
        def decide(s: Stop) -> float:
            done = s.complete > 0.5 and _ends_sentence(s.text)
            return max(s.at + (quick if done else slow), s.text_at)

        return decide

    def question_or_wait(quick: float, slow: float) -> Decision:
        def decide(s: Stop) -> float:
            asked = s.text.rstrip().endswith("?") and s.complete > 0.5
            return max(s.at + (quick if asked else slow), s.text_at)

        return decide

    def punctuation(question: float, statement: float, unfinished: float) -> Decision:
        def decide(s: Stop) -> float:
            text = s.text.rstrip()
            if sounds_unfinished(text) or text[-1:] not in (".", "?", "!"):
                wait = unfinished
            else:
                wait = question if text.endswith("?") else statement
            return max(s.at + wait, s.text_at)

        return decide

    return {
        "speech timeout 0.4 s (today, whisper)": timeout(0.4),
        "speech timeout 0.6 s": timeout(0.6),
        "speech timeout 0.8 s": timeout(0.8),
        "speech timeout 1.0 s": timeout(1.0),
        "smart-turn v3, fallback 3 s (default)": smart(3.0),
        "smart-turn v3, fallback 1.0 s": smart(1.0),
        "sentence end, hold 0.7 s (sphinx today)": sentence_end(0.7),
        "words+smart-turn: 0.2 s if both done, else 0.8 s": words_and_smart(0.2, 0.8),
        "words+smart-turn: 0.3 s if both done, else 1.0 s": words_and_smart(0.3, 1.0),
        "question+smart-turn: 0.2 s, else 1.0 s": question_or_wait(0.2, 1.0),
        "words: ? 0.2 s, . 0.8 s, unfinished 1.2 s": punctuation(0.2, 0.8, 1.2),
        "words: ? 0.2 s, . 1.0 s, unfinished 1.2 s": punctuation(0.2, 1.0, 1.2),
        "words: ? 0.3 s, . 1.0 s, unfinished 1.5 s": punctuation(0.3, 1.0, 1.5),
        "words: ? 0.2 s, . 1.0 s, unfinished 1.5 s (chosen)": punctuation(0.2, 1.0, 1.5),
    }


def _replay(utterance: Utterance, decide: Decision) -> tuple[int, float | None]:
    """(pauses cut, added wait after the real end or None when the turn was cut)."""
    cuts = 0
    for stop in utterance.stops:
        end = decide(stop)
        if stop.resume is None:
            return cuts, (end - utterance.speech_end if cuts == 0 else None)
        if end < stop.resume:
            cuts += 1
    return cuts, None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voices", nargs="+", default=list(VOICES))
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument(
        "--full-window",
        action="store_true",
        help="decode with faster-whisper's 30 s window (as Pipecat's WhisperSTTService) instead "
        "of the live service's fitted window",
    )
    parser.add_argument("--show", action="store_true", help="print each utterance's stops")
    args = parser.parse_args()

    engines = Engines(args.model, args.beam, full_window=args.full_window)
    utterances: list[Utterance] = []
    for v, voice in enumerate(args.voices):
        spoken = {s: speak(s, voice) for u in UTTERANCES for s in u}
        for u, sentences in enumerate(UTTERANCES):
            pauses = [PAUSES[(u + v + k) % len(PAUSES)] for k in range(len(sentences) - 1)]
            parts = [spoken[s] for s in sentences]
            utterances.append(_analyse(voice, sentences, parts, pauses, engines))
    if args.show:
        for u in utterances:
            print(f"{u.voice:10} pauses {u.pauses} end {u.speech_end:.2f}")
            for s in u.stops:
                resume = f"{s.resume:.2f}" if s.resume is not None else "-"
                print(f"   stop {s.at:.2f} resume {resume} p={s.complete:.2f} "
                      f"text+{s.text_at - s.at:.2f} {s.text!r}")  # fmt: skip

    pauses = sum(len(u.sentences) - 1 for u in utterances)
    multi = [u for u in utterances if len(u.sentences) > 1]
    split = sum(max(0, len(u.stops) - len(u.sentences)) for u in utterances)
    edits = total = 0
    for u in utterances:
        if u.stops:
            e, n = word_errors(" ".join(u.sentences), u.stops[-1].text)
        else:
            e, n = word_errors(" ".join(u.sentences), "")
        edits, total = edits + e, total + n
    print(f"whisper WER over the utterances (all segments joined): {edits / total:.1%}")
    print(
        f"{len(utterances)} utterances ({len(multi)} with {pauses} pauses) by "
        f"{', '.join(args.voices)}; whisper {args.model} beam {args.beam}"
        f"{' (30 s window)' if args.full_window else ''}: decode p50 "
        f"{statistics.median(engines.decodes) * 1000:.0f} ms p95 "
        f"{_pct(engines.decodes, 0.95) * 1000:.0f} ms; VAD stops inside a sentence: "
        f"{split}"
    )
    print(
        f"{'strategy':<52} {'cut pauses':>11} {'cut turns':>10} {'wait p50':>9} {'p95':>6}"
        f" {'? p50':>7} {'. p50':>7}"
    )
    for name, decide in strategies().items():
        cut_pauses = 0
        cut_turns = 0
        waits: list[float] = []
        by_end: dict[bool, list[float]] = {True: [], False: []}
        for u in utterances:
            cuts, wait = _replay(u, decide)
            cut_pauses += cuts
            cut_turns += cuts > 0
            if wait is not None:
                waits.append(wait * 1000)
                by_end[u.sentences[-1].endswith("?")].append(wait * 1000)
        asked, told = (statistics.median(by_end[k]) if by_end[k] else 0 for k in (True, False))
        print(
            f"{name:<52} {cut_pauses:>5}/{pauses:<5} {cut_turns:>4}/{len(utterances):<5}"
            f" {statistics.median(waits):>6.0f} ms {_pct(waits, 0.95):>4.0f}"
            f" {asked:>7.0f} {told:>7.0f}"
        )


if __name__ == "__main__":
    main()
