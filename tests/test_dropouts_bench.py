"""The dropout benchmark's counting rule, on made-up recordings (no sound server needed)."""

from __future__ import annotations

import numpy as np

from benchmarks.dropouts import dropouts


def tone(n: int) -> np.ndarray:
    return (np.sin(np.arange(n) * 0.3) * 8000 + 0.5).astype(np.int16) | 1  # never exactly zero


def test_gaps_inside_the_tone_count_and_silence_around_it_does_not() -> None:
    quiet = np.zeros(1000, np.int16)
    assert dropouts(np.concatenate([quiet, tone(5000), quiet])) == 0
    gappy = tone(5000)
    gappy[1000:1040] = 0  # 2.5 ms at 16 kHz
    gappy[3000:3003] = 0  # 3 samples: a zero crossing, not a dropout
    gappy[4000:4100] = 0
    assert dropouts(np.concatenate([quiet, gappy, quiet])) == 2


def test_nothing_recorded_means_no_dropouts() -> None:
    assert dropouts(np.zeros(100, np.int16)) == 0
