"""The soak benchmark's own arithmetic and its readings of /proc (the soak itself is a benchmark)."""

from __future__ import annotations

import math
import os
import time

import pytest

from benchmarks.soak import Reading, cpu_s, rss_mb, slope_per_hour


def _reading(minutes: float, mb: float) -> Reading:
    return Reading(minutes, {"session": mb}, 0.0, 0, 0)


def test_growth_is_the_slope_after_the_first_reading() -> None:
    # The first reading holds the model's loading: a jump there is not growth.
    readings = [_reading(0, 10.0), _reading(60, 50.0), _reading(120, 53.0), _reading(180, 56.0)]
    assert slope_per_hour(readings, "session") == pytest.approx(3.0)


def test_growth_needs_two_readings_after_the_first() -> None:
    assert math.isnan(slope_per_hour([_reading(0, 10.0), _reading(60, 50.0)], "session"))


def test_memory_and_cpu_are_read_for_a_live_process() -> None:
    assert 1.0 < rss_mb(os.getpid()) < 100_000.0
    sum(i * i for i in range(2_000_000))  # some CPU to count
    # /proc counts in clock ticks (usually 10 ms); Python's own count of the same CPU agrees.
    assert cpu_s(os.getpid()) == pytest.approx(time.process_time(), abs=0.05)
