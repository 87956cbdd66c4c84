"""The latency benchmark's reading of a tap recording (benchmarks/latency.py), on synthetic audio."""

from __future__ import annotations

import numpy as np

from benchmarks.latency import answer_onset, cue_end, find_latency

RATE = 16000


def tone(seconds: float, amplitude: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return amplitude * np.sin(2 * np.pi * hz * t)


def tap(cue_at: float, answer_at: float, total: float = 2.0, noise: float = 30.0) -> np.ndarray:
    """A stereo tap: a noisy 1 s clip with a word (a tone) from `cue_at` to 0.55 s on the left,
    silence, then an answer from `answer_at` on the right."""
    rng = np.random.default_rng(1)
    left, right = np.zeros(int(total * RATE)), np.zeros(int(total * RATE))
    start = int(cue_at * RATE) - int(0.35 * RATE)  # the clip begins 350 ms before the word
    clip = rng.normal(0, noise, RATE)  # the recording's own background noise
    word = tone(0.2, 6000.0)
    word[: RATE // 100] *= np.linspace(0, 1, RATE // 100)  # a soft onset, as speech has
    clip[int(0.35 * RATE) : int(0.55 * RATE)] += word
    left[start : start + RATE] = clip
    right[int(answer_at * RATE) : int((answer_at + 0.5) * RATE)] = tone(0.5, 3000.0, 220.0)
    return np.stack([left, right], axis=1).round().astype(np.int16)


def test_the_cue_ends_with_the_word_not_with_the_recordings_noise() -> None:
    x = tap(cue_at=0.5, answer_at=1.5)
    end = cue_end(x[:, 0])
    assert end is not None
    assert abs(end / RATE - 0.7) <= 0.011  # the word (0.5-0.7 s), to a 10 ms frame; the clip runs to 1.15 s


def test_a_quiet_recording_is_found_too() -> None:
    x = tap(cue_at=0.5, answer_at=1.5).astype(np.float64)
    x[:, 0] *= 0.01  # peak about 60 of 32768, as some of the real clips
    end = cue_end(x.round().astype(np.int16)[:, 0])
    assert end is not None and abs(end / RATE - 0.7) <= 0.011


def test_the_answer_onset_is_the_first_sound_to_the_sample() -> None:
    x = tap(cue_at=0.5, answer_at=1.0)
    onset = answer_onset(x[:, 1])
    assert onset is not None and 0 <= onset - RATE <= 2  # a sine from zero crosses -54 dBFS at once


def test_latency_is_from_cue_end_to_answer_onset() -> None:
    x = tap(cue_at=0.5, answer_at=0.93)
    found = find_latency(x)
    assert found is not None
    end, onset = found
    assert abs((onset - end) / RATE - 0.23) <= 0.011


def test_nothing_is_measured_without_a_cue_an_answer_or_a_quiet_speaker() -> None:
    silent = np.zeros((RATE, 2), np.int16)
    assert cue_end(silent[:, 0]) is None and answer_onset(silent[:, 1]) is None
    assert find_latency(silent) is None
    no_answer = tap(cue_at=0.5, answer_at=1.5)
    no_answer[:, 1] = 0
    assert find_latency(no_answer) is None
    talking_over = tap(cue_at=0.5, answer_at=0.6)  # the speaker was sounding when the cue ended
    assert find_latency(talking_over) is None
