"""Each partner's own way of saying a cue: a template the spotter can compare a missed cue with.

The acoustic model is trained on other voices, and misses about two in five cue words said by
speakers it has never heard (README, "Figures"). One take of a phrase from the partner
themself is a better model of their next take than any general one. The comparison is dynamic
time warping of MFCCs, as in the speaker-dependent word recognizers that came before hidden
Markov models. Templates live in memory only, for one session: they are features of the
couple's voices, and nothing of their voices is ever written to disk.
"""

from __future__ import annotations

import numpy as np

from assistant.ears.vad import RATE

WINDOW, HOP, FFT = 400, 160, 512
"""25 ms frames every 10 ms at 16 kHz."""
MIN_FRAMES = 5
MEL_FLOOR_DB = 45.0
"""Band energies are floored this far under the utterance's loudest, so the quiet between and
around the sounds (room noise, which differs from take to take) weighs little in the distance.
Tuned on half the v0.02 test speakers, judged on the other half (benchmarks/HISTORY.md,
"Learning each partner's ..."): 4.0 more points of takes heard without it, 11.4 with it, for
about one false accept more in 1,000 other words either way."""


def _mel_filters(bands: int = 26) -> np.ndarray:
    def mel(hz: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + hz / 700)

    edges_mel = np.linspace(mel(np.array(64.0)), mel(np.array(7600.0)), bands + 2)
    edges = np.floor((FFT + 1) * 700 * (10 ** (edges_mel / 2595) - 1) / RATE).astype(int)
    filters = np.zeros((bands, FFT // 2 + 1))
    for i in range(bands):
        low, mid, high = edges[i], edges[i + 1], edges[i + 2]
        filters[i, low:mid] = (np.arange(low, mid) - low) / max(mid - low, 1)
        filters[i, mid:high] = (high - np.arange(mid, high)) / max(high - mid, 1)
    return filters


MEL = _mel_filters()
DCT = np.cos(np.pi * np.arange(13)[:, None] * (2 * np.arange(26)[None, :] + 1) / 52)


def mfcc(samples: np.ndarray, trim_db: float = 35.0) -> np.ndarray | None:
    """Cepstra 1-12 and their deltas per frame, the utterance's mean removed (so the microphone's
    colour and the level cancel out), with the quiet more than `trim_db` under the loudest frame
    cut from both ends and band energies floored at `MEL_FLOOR_DB`. None for less than
    `MIN_FRAMES` frames of sound."""
    x = samples.astype(np.float64)
    x = np.append(x[:1], x[1:] - 0.97 * x[:-1])  # pre-emphasis
    n = 1 + (len(x) - WINDOW) // HOP
    if n < MIN_FRAMES:
        return None
    frames = x[np.arange(WINDOW)[None, :] + HOP * np.arange(n)[:, None]] * np.hamming(WINDOW)
    power = np.abs(np.fft.rfft(frames, FFT)) ** 2 / FFT
    energy = 10 * np.log10(power.sum(axis=1) + 1e-9)
    loud = np.flatnonzero(energy > energy.max() - trim_db)
    speech = power[max(loud[0] - 3, 0) : loud[-1] + 4]
    if len(speech) < MIN_FRAMES or energy.max() <= 0.0:
        return None
    bands = speech @ MEL.T + 1e-9
    bands = np.maximum(bands, bands.max() * 10 ** (-MEL_FLOOR_DB / 10))
    cepstra = np.log(bands) @ DCT.T
    cepstra -= cepstra.mean(axis=0)
    return np.hstack([cepstra[:, 1:], np.gradient(cepstra, axis=0)[:, 1:]])


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Cost of the cheapest monotonic alignment of two feature sequences, per step of the path
    (n + m), with Euclidean frame distances. It is only asked for segments the recognizer has
    already rejected (see `VoiceTemplates`): about 1.5 ms for two one-second takes, where
    working it out cell by cell took 5 ms."""
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))
    n, m = len(a), len(b)
    # The cheapest path to a cell comes from the cell above, the one to its left or the one
    # diagonally before: all lie on the two anti-diagonals before the cell's own. So the cells
    # are worked out one anti-diagonal at a time, each a single vector step. Row k of
    # `diagonals` holds the costs of the cells (i, k - i), by i (inf off the matrix).
    k = np.arange(n + m - 1)[:, None]
    i = np.arange(n)[None, :]
    j = k - i
    diagonals = np.where((j >= 0) & (j < m), cost[i, np.clip(j, 0, m - 1)], np.inf)
    # Totals to the cells of the two anti-diagonals before, by row 0..n of the padded matrix
    # (row 0 and column 0 are the path's start: 0 at its corner, inf elsewhere).
    before = np.full(n + 1, np.inf)
    before[0] = 0.0
    last = np.full(n + 1, np.inf)
    cheapest = np.empty(n)
    for row in diagonals:
        np.minimum(last[:-1], last[1:], out=cheapest)  # from above or from the left
        np.minimum(cheapest, before[:-1], out=cheapest)  # or diagonally
        here = np.empty(n + 1)
        here[0] = np.inf
        np.add(row, cheapest, out=here[1:])
        before, last = last, here
    return float(last[n] / (n + m))


class VoiceTemplates:
    """Takes of cue phrases, by phrase: the couple's own voices, in memory only."""

    def __init__(self) -> None:
        self._takes: dict[str, list[np.ndarray]] = {}

    def __contains__(self, phrase: object) -> bool:
        return phrase in self._takes

    def __len__(self) -> int:
        return sum(len(takes) for takes in self._takes.values())

    def add(self, phrase: str, samples: np.ndarray) -> bool:
        """Keep a take of `phrase`; False (nothing kept) when it holds too little sound."""
        return self.add_features(phrase, mfcc(samples))

    def add_features(self, phrase: str, features: np.ndarray | None) -> bool:
        """Keep a take already turned into features (`mfcc`); False for None."""
        if features is None:
            return False
        self._takes.setdefault(phrase, []).append(features)
        return True

    def distance(self, phrase: str, samples: np.ndarray) -> float | None:
        """How far `samples` lie from the nearest take of `phrase`; None without a take or sound."""
        takes = self._takes.get(phrase)
        features = mfcc(samples) if takes else None
        if not takes or features is None:
            return None
        return min(dtw_distance(take, features) for take in takes)

    def clear(self) -> None:
        """Forget every take."""
        self._takes.clear()
