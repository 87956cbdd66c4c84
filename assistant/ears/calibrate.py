"""Room-noise calibration: how loud the quiet room is, so speech is judged against it."""

from __future__ import annotations

import time

import numpy as np

from assistant.ears.microphone import AudioSource
from assistant.ears.vad import FRAME, RATE, VadConfig, frame_levels


def noise_floor_db(samples: np.ndarray) -> float:
    """The room's noise level: the 20th percentile of 10 ms frame levels (speech is ignored)."""
    n = len(samples) // FRAME
    if n == 0:
        raise ValueError("no audio to calibrate on")
    return float(np.percentile(frame_levels(samples), 20))


def speech_threshold_db(floor_db: float, config: VadConfig | None = None) -> float:
    """The level a frame must exceed to count as speech in a room with this floor."""
    cfg = config or VadConfig()
    return max(floor_db + cfg.on_db, cfg.min_level_db)


def measure(source: AudioSource, seconds: float) -> float:
    """Read `seconds` of audio from the source and return its noise floor in dB."""
    chunks: list[np.ndarray] = []
    got = 0
    deadline = time.monotonic() + seconds + 2.0
    while got < seconds * RATE and time.monotonic() < deadline:
        chunk = source.read(timeout=0.2)
        if chunk is None:
            break
        chunks.append(chunk)
        got += len(chunk)
    if not chunks:
        raise ValueError("the microphone delivered no audio")
    return noise_floor_db(np.concatenate(chunks))
