from __future__ import annotations

import pytest

from assistant.timers import FakeClock, MonotonicClock, Timers


def test_timers_fire_at_their_deadline_in_order() -> None:
    clock = FakeClock()
    timers = Timers(clock)
    timers.start("late", 10)
    timers.start("early", 5)
    assert timers.next_deadline() == 5
    clock.advance(4.999)
    assert timers.pop_due() == []
    clock.advance(6)
    assert timers.pop_due() == ["early", "late"]
    assert timers.next_deadline() is None


def test_a_held_timer_keeps_its_remaining_time() -> None:
    clock = FakeClock()
    timers = Timers(clock)
    timers.start("round", 180)
    clock.advance(100)
    timers.hold()
    clock.advance(1000)
    assert timers.pop_due() == [] and timers.next_deadline() is None
    assert timers.remaining("round") == pytest.approx(80)
    timers.release()
    clock.advance(79.9)
    assert timers.pop_due() == []
    clock.advance(0.1)
    assert timers.pop_due() == ["round"]


def test_a_timer_started_while_held_waits_for_release() -> None:
    clock = FakeClock()
    timers = Timers(clock)
    timers.hold()
    timers.start("x", 1)
    clock.advance(5)
    assert timers.pop_due() == []
    timers.release()
    clock.advance(1)
    assert timers.pop_due() == ["x"]


def test_restarting_or_cancelling_a_timer() -> None:
    clock = FakeClock()
    timers = Timers(clock)
    timers.start("x", 1)
    timers.start("x", 3)
    clock.advance(2)
    assert timers.pop_due() == []
    timers.cancel("x")
    clock.advance(5)
    assert timers.pop_due() == [] and timers.remaining("x") is None


def test_a_fast_clock_runs_faster_than_real_time() -> None:
    fast = MonotonicClock(speed=1000)
    assert fast.speed == 1000
    first = fast.now()
    second = fast.now()
    assert second >= first >= 0
    with pytest.raises(ValueError):
        MonotonicClock(speed=0)
