"""The page view: what the page shows, kept as one snapshot the server streams to the browser.

Like the terminal view it only shows what the runner tells it, and never reads the session. The
runner calls it on its own thread; the server reads `snapshot()` on another, and `listen` lets it
know when something changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from assistant.devices import Clock
from assistant.events import CueHeard
from assistant.programme import Programme
from assistant.rehearsal import EXPECTED_CUES
from assistant.session import FLOOR_STATES, S, Status
from assistant.ui import Countdown, format_clock

CUE_LABELS: dict[str, str] = {
    "next": "Next",
    "repeat": "Say that again",
    "back": "Back",
    "pause": "Pause",
    "resume": "Resume",
    "done": "Your turn",
    "timeout": "Time out",
    "stop": "Stop for today",
    "help": "What can we say?",
    "yes": "Yes",
    "no": "No",
    "skip": "Skip",
    "support": "Help me",
}
"""The words on each cue's button, as a partner would say them."""

SUPPORT_CUE = "support"
"""Always on the page, as its own button: where to find help."""

MAX_NOTICES = 6
CHIME_NOTICE = "chime: "
"""The runner's notice for a chime: the page's countdown shows its marks instead."""


def cue_label(cue: str, state: S | None) -> str:
    """The button's words for `cue` in `state`: "done" ends a talk, "resume" takes a turn back."""
    if cue == "done" and state is S.TALKING:
        return "We're done"
    if cue == "resume" and state in FLOOR_STATES:
        return "Carry on"
    if cue == "no" and state is S.STEP_INTRO:
        return "Not yet"
    return CUE_LABELS.get(cue, cue)


def describe_heard(cue: CueHeard, state: S | None) -> str:
    """ "Heard: your turn" for the voice, "Pressed: ..." for a key or button, "Rehearsal: ..." for --auto."""
    how = {"voice": "Heard", "key": "Pressed", "auto": "Rehearsal"}.get(cue.source, cue.source.capitalize())
    return f"{how}: {cue_label(cue.cue, state).lower()}"


class PageView:
    """The state of the page, changed by the runner through the `View` interface."""

    def __init__(self, clock: Clock, programme: Programme) -> None:
        self._clock = clock
        self._programme = programme
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._heading = ""
        self._caption: list[str] = []
        self._notices: list[str] = []
        self._heard: str | None = None
        self._status: Status | None = None
        self._countdown: Countdown | None = None
        self._summary: dict[str, Any] | None = None
        self._cleared = False
        self._ended = False
        self._version = 0

    # ---- the View interface, called by the runner ------------------------------------------

    def heading(self, text: str) -> None:
        with self._lock:
            self._heading = text
            self._summary = None  # a new exercise or step: the last one's chart has been seen
        self._changed()

    def said(self, text: str) -> None:
        with self._lock:
            self._caption = [*self._caption[-1:], text]
        self._changed()

    def notice(self, text: str) -> None:
        if text.startswith(CHIME_NOTICE):
            return
        with self._lock:
            self._notices = [*self._notices, text][-MAX_NOTICES:]
        self._changed()

    def heard(self, cue: CueHeard) -> None:
        with self._lock:
            # Called before the session acts on the cue: the status is still the one it was given in.
            self._heard = describe_heard(cue, self._status.state if self._status else None)
        self._changed()

    def update(self, status: Status, countdown: Countdown | None) -> None:
        with self._lock:
            if status == self._status and countdown == self._countdown:
                return
            if self._status is not None and status.state is not self._status.state:
                self._notices = []
            self._status = status
            self._countdown = countdown
        self._changed()

    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None:
        longest = max((seconds for _, seconds in floor_seconds), default=0.0) or 1.0
        rows = [
            {"name": name, "clock": format_clock(seconds), "share": round(seconds / longest, 3)}
            for name, seconds in floor_seconds
        ]
        with self._lock:
            self._summary = {"title": title, "turns": turns, "rows": rows}
        self._changed()

    def clear(self) -> None:
        """The quick exit: forget everything shown; the page goes blank."""
        with self._lock:
            self._cleared = True
            self._heading, self._caption, self._notices, self._heard = "", [], [], None
            self._status, self._countdown, self._summary = None, None, None
        self._changed()

    def close(self) -> None:
        """The session is over: what was said leaves the page; the chart may stay."""
        with self._lock:
            self._ended = True
            self._caption, self._notices, self._heard = [], [], None
        self._changed()

    # ---- for the server ------------------------------------------------------------------------

    def listen(self, changed: Callable[[], None]) -> Callable[[], None]:
        """Call `changed` (on the runner's thread) after every change; returns how to stop."""
        with self._lock:
            self._listeners.append(changed)

        def stop() -> None:
            with self._lock:
                if changed in self._listeners:
                    self._listeners.remove(changed)

        return stop

    @property
    def ended(self) -> bool:
        return self._ended

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows now, as plain JSON values; the countdown as of this moment."""
        with self._lock:
            if self._cleared:
                return {"version": self._version, "cleared": True, "ended": self._ended}
            status = self._status
            return {
                "version": self._version,
                "cleared": False,
                "ended": self._ended,
                "title": self._programme.title,
                "heading": self._heading,
                "state": status.state.name.lower() if status else None,
                "steps": self._steps(status),
                "step": f"Step {status.step_number}: {status.step_title}" if status and status.step_number else None,
                "exercise": status.exercise_title if status else "",
                "floor": self._floor(status),
                "countdown": self._countdown_now(status),
                "caption": list(self._caption),
                "notices": list(self._notices),
                "heard": self._heard,
                "cues": self._cues(status),
                "support": CUE_LABELS[SUPPORT_CUE],
                "summary": self._summary,
            }

    # ---- helpers -------------------------------------------------------------------------------

    def _changed(self) -> None:
        with self._lock:
            self._version += 1
            listeners = list(self._listeners)
        for changed in listeners:
            changed()

    def _steps(self, status: Status | None) -> list[dict[str, str]]:
        """Each step of the programme, as done, current or to come."""
        finished = status is not None and status.state in (S.CLOSING, S.ENDED)
        current = status.step_number if status and status.step_number else None
        steps = []
        for number, step in enumerate(self._programme.steps, start=1):
            if finished or (current is not None and number < current):
                where = "done"
            elif number == current:
                where = "current"
            else:
                where = "to come"
            steps.append({"number": str(number), "title": step.title, "where": where})
        return steps

    def _floor(self, status: Status | None) -> dict[str, str] | None:
        """Who holds the floor, in words, and what the other partner does meanwhile."""
        if status is None or not status.floor or status.state is S.ENDED:
            return None
        if status.state is S.TALKING:
            return {"who": "Both of you have the floor", "note": "talking together"}
        others = [name for name in self._programme.partners if name != status.floor]
        other = others[0] if others else "your partner"
        if status.state is S.REFLECTING:
            return {"who": f"{status.floor} has the floor", "note": f"saying back what {other} said"}
        return {"who": f"{status.floor} has the floor", "note": f"{other} listens"}

    def _countdown_now(self, status: Status | None) -> dict[str, Any] | None:
        countdown = self._countdown
        if countdown is None or status is None or status.state is S.ENDED:
            return None
        if status.state is S.BREAK:
            label = "Time out: back together in"
        elif status.state is S.PAUSED or countdown.deadline is None:
            label = "Paused"
        else:
            label = "Time left"
        return {
            "label": label,
            "remaining": round(countdown.remaining(self._clock), 3),
            "total": countdown.total,
            "running": countdown.deadline is not None,
            "speed": self._clock.speed,
        }

    @staticmethod
    def _cues(status: Status | None) -> list[dict[str, Any]]:
        """A button for each cue valid now; the one a couple most likely wants comes first."""
        if status is None:
            return []
        likely = EXPECTED_CUES.get(status.state)
        if status.state is S.STEP_INTRO and "no" in status.valid_cues:
            likely = "yes"  # the step asks whether both agree to go on: "yes" or "not yet"
        cues = sorted((cue for cue in status.valid_cues if cue != SUPPORT_CUE), key=lambda cue: cue != likely)
        return [{"cue": cue, "label": cue_label(cue, status.state), "primary": cue == likely} for cue in cues]
