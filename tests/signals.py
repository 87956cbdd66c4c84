"""Test signals at 16 kHz: a tone stands in for a voiced word, noise for a room."""

from __future__ import annotations

import numpy as np

from assistant.ears.vad import RATE


def tone(seconds: float, amplitude: float, freq: float = 300.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def noise(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    return np.round(np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * rms).astype(np.int16)
