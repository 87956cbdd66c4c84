"""Arithmetic of the cue benchmark (benchmarks/cues.py) that its figures rest on."""

from __future__ import annotations

import pytest

from benchmarks.cues import wilson


def test_wilson_interval_matches_known_values() -> None:
    # Wilson score intervals (z = 1.96), as statistics tables give them.
    assert wilson(0, 50) == (pytest.approx(0.0, abs=1e-9), pytest.approx(7.13, abs=0.01))
    assert wilson(932, 1573) == (pytest.approx(56.8, abs=0.1), pytest.approx(61.7, abs=0.1))
    assert wilson(5, 10) == (pytest.approx(23.7, abs=0.1), pytest.approx(76.3, abs=0.1))
