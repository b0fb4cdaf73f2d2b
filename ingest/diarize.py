"""Offline diarization for single-channel recordings: who spoke each speech region.

Each region is described by its median pitch and mean MFCCs; two-means clustering splits
the regions into two voices when the clusters are clearly apart (silhouette score), and
otherwise everything stays one speaker. Crude next to a diarization model, but it needs
none, runs in milliseconds, and separates clearly different voices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.extract import read_wav
from ingest.vad import SpeechRegion
from ingest.voice import frame_pitches

RATE = 16_000
N_FFT = 512
HOP = 160
N_MELS = 26
N_MFCC = 13
MIN_SILHOUETTE = 0.3
MIN_SHARE = 0.08  # the smaller voice must hold at least this share of the speech time
MAX_SECONDS_PER_REGION = 6.0


def _mel_filterbank() -> np.ndarray:
    def hz_to_mel(hz: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + hz / 700)

    mels = np.linspace(hz_to_mel(np.array(60.0)), hz_to_mel(np.array(RATE / 2)), N_MELS + 2)
    bins = np.floor((N_FFT + 1) * (700 * (10 ** (mels / 2595) - 1)) / RATE).astype(int)
    bank = np.zeros((N_MELS, N_FFT // 2 + 1))
    for m in range(1, N_MELS + 1):
        left, centre, right = bins[m - 1], bins[m], bins[m + 1]
        if centre > left:
            bank[m - 1, left:centre] = (np.arange(left, centre) - left) / (centre - left)
        if right > centre:
            bank[m - 1, centre:right] = (right - np.arange(centre, right)) / (right - centre)
    return bank


_FILTERS = _mel_filterbank()
_DCT = np.cos(np.pi / N_MELS * (np.arange(N_MELS) + 0.5)[None, :] * np.arange(N_MFCC)[:, None])


def mfcc_mean(samples: np.ndarray) -> np.ndarray:
    """Mean MFCCs (without c0, so loudness does not count) of the voiced frames."""
    if samples.size < N_FFT:
        return np.zeros(N_MFCC - 1)
    signal = samples.astype(np.float64) / 32768
    frames = np.lib.stride_tricks.sliding_window_view(signal, N_FFT)[::HOP] * np.hanning(N_FFT)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energy = power.sum(axis=1)
    voiced = power[energy > 0.1 * np.median(energy)] if energy.size else power
    if not voiced.size:  # digital silence: nothing to describe
        return np.zeros(N_MFCC - 1)
    log_mel = np.log(voiced @ _FILTERS.T + 1e-10)
    return (log_mel @ _DCT.T)[:, 1:].mean(axis=0)


def region_features(path: Path, regions: list[SpeechRegion]) -> np.ndarray:
    """One feature row per region: log median pitch (weighted up) and mean MFCCs."""
    rows = []
    for region in regions:
        end = min(region.end, region.start + MAX_SECONDS_PER_REGION)
        samples = read_wav(path, region.start, end)
        pitches = frame_pitches(samples)
        pitch = float(np.log(np.median(pitches))) if pitches.size >= 3 else np.nan
        rows.append(np.concatenate([[pitch], mfcc_mean(samples)]))
    features = np.asarray(rows, dtype=np.float64)
    if features.size and np.isnan(features[:, 0]).all():
        features[:, 0] = 0.0
    elif features.size:
        features[np.isnan(features[:, 0]), 0] = np.nanmedian(features[:, 0])
    return features


def _two_means(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    # Deterministic start: the two points furthest apart along the first principal axis.
    centred = points - points.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    projection = centred @ axis
    centres = points[[int(np.argmin(projection)), int(np.argmax(projection))]]
    labels = np.zeros(len(points), dtype=int)
    for _ in range(50):
        distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
        new = distances.argmin(axis=1)
        if (new == labels).all() and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if (labels == k).any():
                centres[k] = np.average(points[labels == k], axis=0, weights=weights[labels == k])
    return labels


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette score of a two-cluster labelling (-1..1; higher is better apart)."""
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    scores = []
    for index, label in enumerate(labels):
        same = labels == label
        same[index] = False
        other = labels != label
        if not same.any() or not other.any():
            continue
        a, b = distances[index, same].mean(), distances[index, other].mean()
        scores.append((b - a) / max(a, b, 1e-12))
    return float(np.mean(scores)) if scores else 0.0


def label_speakers(features: np.ndarray, durations: np.ndarray) -> list[str]:
    """ "S0"/"S1" per region when two voices are clearly apart, else "S0" for all.

    "S0" is whoever speaks first.
    """
    count = len(features)
    if count < 4:
        return ["S0"] * count
    spread = features.std(axis=0)
    points = (features - features.mean(axis=0)) / np.where(spread > 1e-9, spread, 1.0)
    points[:, 0] *= 2.0  # pitch is the most telling single feature
    labels = _two_means(points, durations)
    share = min(durations[labels == 0].sum(), durations[labels == 1].sum()) / durations.sum()
    if share < MIN_SHARE or silhouette(points, labels) < MIN_SILHOUETTE:
        return ["S0"] * count
    first = labels[0]
    return ["S0" if label == first else "S1" for label in labels]


def diarize(path: Path, regions: list[SpeechRegion]) -> list[str]:
    """The speaker label of each region of a single-channel recording."""
    if not regions:
        return []
    durations = np.array([r.duration for r in regions])
    return label_speakers(region_features(path, regions), durations)
