"""Clocks and named timers on absolute deadlines, so nothing drifts and tests need no sleeping."""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.devices import Clock
from assistant.events import Action, CancelTimer, HoldTimers, ReleaseTimers, StartTimer


class MonotonicClock:
    """The real clock: `time.monotonic`, optionally running `speed` times faster (`--fast N`)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._origin = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self._speed


class FakeClock:
    """A clock you advance by hand: every timing in a test is exact and instant."""

    speed = 1.0

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class _Timer:
    deadline: float | None
    """Clock seconds; None while held."""
    remaining: float
    """Seconds left when held."""
    duration: float
    started: float


class Timers:
    """Named one-shot timers on a clock. The runner asks for the next deadline and what is due.

    Each timer keeps an absolute deadline, so a 20-minute round ends within the clock's own
    resolution of when it should, however many events arrive meanwhile.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._timers: dict[str, _Timer] = {}
        self._held = False

    def _now(self) -> float:
        return self._clock.now()

    def start(self, name: str, seconds: float) -> None:
        now = self._now()
        if self._held:
            self._timers[name] = _Timer(None, seconds, seconds, now)
        else:
            self._timers[name] = _Timer(now + seconds, seconds, seconds, now)

    def cancel(self, name: str) -> None:
        self._timers.pop(name, None)

    def hold(self) -> None:
        """Pause every timer, keeping what is left of each."""
        if self._held:
            return
        now = self._now()
        for timer in self._timers.values():
            if timer.deadline is not None:
                timer.remaining = max(0.0, timer.deadline - now)
                timer.deadline = None
        self._held = True

    def release(self) -> None:
        """Resume held timers with the time they had left."""
        if not self._held:
            return
        now = self._now()
        for timer in self._timers.values():
            if timer.deadline is None:
                timer.deadline = now + timer.remaining
        self._held = False

    def carry_out(self, action: Action) -> bool:
        """Carry out a session's timer action; False if `action` is not about timers."""
        if isinstance(action, StartTimer):
            self.start(action.name, action.seconds)
        elif isinstance(action, CancelTimer):
            self.cancel(action.name)
        elif isinstance(action, HoldTimers):
            self.hold()
        elif isinstance(action, ReleaseTimers):
            self.release()
        else:
            return False
        return True

    @property
    def held(self) -> bool:
        return self._held

    def remaining(self, name: str) -> float | None:
        """Seconds left on a timer, or None if it is not running."""
        timer = self._timers.get(name)
        if timer is None:
            return None
        if timer.deadline is None:
            return timer.remaining
        return max(0.0, timer.deadline - self._now())

    def duration(self, name: str) -> float | None:
        timer = self._timers.get(name)
        return timer.duration if timer else None

    def next_deadline(self) -> float | None:
        deadlines = [t.deadline for t in self._timers.values() if t.deadline is not None]
        return min(deadlines) if deadlines else None

    def pop_due(self) -> list[str]:
        """Names of the timers whose deadline has passed, earliest first; they are removed."""
        now = self._now()
        due = sorted(
            (t.deadline, name) for name, t in self._timers.items() if t.deadline is not None and t.deadline <= now
        )
        for _, name in due:
            del self._timers[name]
        return [name for _, name in due]
