"""Word error rate of each speech recogniser on sales sentences in several voices, and its cost.

    .venv/bin/python -m bench.stt_accuracy [--engines sphinx tiny.en base] [--limit 30]

Thirty fixed sales sentences (discovery questions, objections, closes) are spoken by natural
voices (the packaged Piper voice, flite's slt, awb and rms) and, for contrast, one espeak-ng
voice (`tests.support.speech`, cached on disk). Each utterance is decoded wideband (16 kHz) and as
phone audio (down to 8 kHz, through G.711 mu-law and back, up to 16 kHz as calls give it to
the recognisers) by each engine in turn, each engine in its own process:

* ``sphinx``: pocketsphinx with the ingest decoder (`ingest.sphinx_worker`);
* ``tiny.en`` and ``base``: faster-whisper with the packaged models, int8, beam 5, word
  timestamps and VAD filter, as ingest runs it.

Printed: WER per voice and condition, all natural voices together, the espeak voice apart;
the real-time factor (decode time over audio time, model loading excluded) and the peak
memory (resident set) of the engine's process. Figures, not checks: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES = [
    # Discovery questions.
    "Walk me through how your team handles onboarding today.",
    "What happens when a new hire makes a mistake in their first week?",
    "How much time does your manager spend on training each month?",
    "Who else is involved when you choose a new vendor?",
    "What would have to be true for you to switch this quarter?",
    "How are you measuring the cost of those delays right now?",
    "What did you try last year, and why did it not stick?",
    "If you could fix one thing in your process, what would it be?",
    "How many people are on the warehouse floor during peak season?",
    "What does a good outcome look like for you by the end of the year?",
    # Objections.
    "Honestly, that sounds expensive for a team of our size.",
    "Our budget is already committed until the next fiscal year.",
    "We are happy with our current provider and the contract runs until March.",
    "I do not have time to roll out another tool right now.",
    "Send me some information and I will get back to you.",
    "My director would never approve this without a business case.",
    "We tried something like this before and nobody used it.",
    "Your competitor offered us the same thing for half the price.",
    "I am worried about how long the implementation will take.",
    "It is not the right time, maybe after the holidays.",
    # Value statements and closes.
    "Most customers see a return on their investment within ninety days.",
    "We cut onboarding time by forty percent for a logistics company last spring.",
    "If we start a pilot next week, your team could be live before the end of the month.",
    "Does Thursday at ten work for a call with your finance director?",
    "Shall I send the agreement over today so we can lock in this pricing?",
    "What would stop you from signing the order form by Friday?",
    "Let us schedule a thirty minute demo with the people who will use it every day.",
    "Can we agree on a two week trial with three success criteria?",
    "If I can get the setup fee waived, are you ready to move forward?",
    "Great, I will book the kickoff meeting and send you the invite this afternoon.",
]
ENGINES = ("sphinx", "tiny.en", "base")
CONDITIONS = ("wide", "phone")
RATE, PHONE_RATE = 16_000, 8_000
MU = 255.0


def _voices() -> list[Any]:
    from ingest.espeak import EspeakVoice
    from tests.support.speech import FliteVoice, PiperVoice

    return [
        PiperVoice("joe"),
        FliteVoice("slt"),
        FliteVoice("awb"),
        FliteVoice("rms"),
        EspeakVoice(variant="m3", pitch=40),
    ]


def mu_law_round_trip(samples: np.ndarray) -> np.ndarray:
    """int16 audio through 8-bit G.711 mu-law quantisation and back (the phone network's)."""
    x = np.clip(samples.astype(np.float64) / 32768.0, -1.0, 1.0)
    encoded = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    quantised = np.round((encoded + 1) / 2 * 255) / 255 * 2 - 1  # 256 levels
    decoded = np.sign(quantised) * ((1 + MU) ** np.abs(quantised) - 1) / MU
    return np.clip(np.round(decoded * 32767), -32768, 32767).astype(np.int16)


def phone(samples: np.ndarray) -> np.ndarray:
    """16 kHz int16 speech as a phone call delivers it to a recogniser: 8 kHz mu-law, 16 kHz."""
    import soxr

    narrow = soxr.resample(samples.astype(np.float32), RATE, PHONE_RATE)
    narrow = np.clip(np.round(narrow), -32768, 32767).astype(np.int16)
    wide = soxr.resample(mu_law_round_trip(narrow).astype(np.float32), PHONE_RATE, RATE)
    return np.clip(np.round(wide), -32768, 32767).astype(np.int16)


def _write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _decode_all(engine: str, folder: Path) -> dict[str, Any]:
    """Child process: decodes every WAV in ``folder`` with ``engine``; figures as a dict."""
    files = sorted(folder.glob("*.wav"))
    baseline = _peak_rss_mb()
    if engine == "sphinx":
        from ingest import sphinx_worker

        sphinx_worker.init_decoder()

        def decode(path: Path, seconds: float) -> str:
            return sphinx_worker.decode_block(str(path), [(0.0, seconds)])[0][0]
    else:
        from faster_whisper import WhisperModel

        from ingest.packaged_models import installed_model

        folder_of_model = installed_model(engine)
        if folder_of_model is None:
            raise SystemExit(f"the whisper model {engine} is not installed")
        model = WhisperModel(str(folder_of_model), device="cpu", compute_type="int8")

        def decode(path: Path, seconds: float) -> str:
            found, _info = model.transcribe(
                str(path), language="en", beam_size=5, word_timestamps=True, vad_filter=True
            )
            return " ".join(segment.text.strip() for segment in found)

    loaded = _peak_rss_mb()
    heard: dict[str, str] = {}
    busy = audio = 0.0
    for path in files:
        with wave.open(str(path), "rb") as reader:
            seconds = reader.getnframes() / reader.getframerate()
        started = time.perf_counter()
        heard[path.stem] = decode(path, seconds)
        busy += time.perf_counter() - started
        audio += seconds
    return {
        "heard": heard,
        "rtf": busy / audio,
        "baseline_mb": baseline,
        "loaded_mb": loaded,
        "peak_mb": _peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--limit", type=int, default=len(SENTENCES), help="sentences to use")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # child process: one engine over one folder, figures as JSON
        print(json.dumps(_decode_all(args.child[0], Path(args.child[1]))))
        return

    from tests.support.speech import speak, voice_label
    from tests.support.wer import normalize, word_errors

    sentences = SENTENCES[: args.limit]
    voices = _voices()
    labels = [voice_label(v) for v in voices]
    said: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cc-stt-bench-") as work:
        folder = Path(work)
        made = time.perf_counter()
        samples_total = 0
        for v, voice in enumerate(voices):
            for s, samples in enumerate(speak(sentences, voice, sample_rate=RATE)):
                for condition in CONDITIONS:
                    key = f"{condition}-{v}-{s:02d}"
                    audio = samples if condition == "wide" else phone(samples)
                    _write_wav(folder / f"{key}.wav", audio)
                    said[key] = sentences[s]
                    samples_total += len(audio)
        seconds = samples_total / RATE
        print(
            f"{len(said)} utterances, {seconds / 60:.1f} min of audio "
            f"({len(sentences)} sentences x {len(voices)} voices x {len(CONDITIONS)}), "
            f"made in {time.perf_counter() - made:.0f} s; {os.cpu_count()} CPUs"
        )
        results: dict[str, dict[str, Any]] = {}
        for engine in args.engines:
            started = time.perf_counter()
            child = subprocess.run(
                [sys.executable, "-m", "bench.stt_accuracy", "--child", engine, str(folder)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[engine] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"  {engine}: decoded in {time.perf_counter() - started:.0f} s")

    def rate(engine: str, condition: str, voice_ids: list[int]) -> float:
        errors = words = 0
        for key, text in said.items():
            cond, v, _s = key.split("-")
            if cond == condition and int(v) in voice_ids:
                reference = normalize(text)
                errors += word_errors(reference, normalize(results[engine]["heard"][key]))
                words += len(reference)
        return errors / max(words, 1)

    natural = [i for i, label in enumerate(labels) if not label.startswith("espeak")]
    robotic = [i for i in range(len(labels)) if i not in natural]
    header = ["engine", *labels, "all natural", "espeak", "RTF", "peak memory (loaded model)"]
    print("\nWER wideband / phone (8 kHz mu-law)\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for engine, figures in results.items():
        cells = [engine]
        for group in [[i] for i in range(len(labels))] + [natural, robotic]:
            cells.append(" / ".join(f"{rate(engine, c, group):.1%}" for c in CONDITIONS))
        cells.append(f"{figures['rtf']:.3f}")
        cells.append(f"{figures['peak_mb']:.0f} MB ({figures['loaded_mb']:.0f} MB)")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
