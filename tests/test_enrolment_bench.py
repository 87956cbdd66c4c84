"""Arithmetic of the enrolment measurement (benchmarks/enrolment.py): features and distances."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.enrolment import dtw_distance, main, mfcc
from tests.signals import noise, tone


def test_features_cover_the_sound_and_not_the_quiet_around_it() -> None:
    quiet = noise(0.5, 3.0)
    word = np.concatenate([quiet, tone(0.4, 8000.0, 300.0) + noise(0.4, 3.0, 1), quiet])
    features = mfcc(word)
    assert features is not None and features.shape[1] == 24  # cepstra 1-12 and their deltas
    assert 40 <= len(features) <= 50  # 0.4 s of 10 ms frames, and a few frames either side
    assert np.allclose(features[:, :12].mean(axis=0), 0.0, atol=1e-9)  # the utterance's mean removed
    assert mfcc(tone(0.03, 8000.0)) is None  # too short to compare


def two_notes(first_hz: float, second_hz: float, seconds_each: float, seed: int) -> np.ndarray:
    """A stand-in for a word whose sound changes half-way: one note, then another."""
    notes = np.concatenate([tone(seconds_each, 8000.0, first_hz), tone(seconds_each, 8000.0, second_hz)])
    return notes + noise(2 * seconds_each, 30.0, seed)


def test_the_distance_forgives_speed_but_not_a_different_sound() -> None:
    word = mfcc(two_notes(300.0, 1500.0, 0.2, 1))
    said_slowly = mfcc(two_notes(300.0, 1500.0, 0.3, 2))
    another_word = mfcc(two_notes(1500.0, 300.0, 0.2, 3))
    assert word is not None and said_slowly is not None and another_word is not None
    assert dtw_distance(word, word) == 0.0
    assert dtw_distance(word, said_slowly) < dtw_distance(word, another_word) / 2
    assert dtw_distance(word, another_word) == pytest.approx(dtw_distance(another_word, word))


def test_a_folder_without_the_layout_is_refused(tmp_path, capsys) -> None:
    assert main([str(tmp_path)]) == 2
    assert "no clips in the Speech Commands layout" in capsys.readouterr().err
