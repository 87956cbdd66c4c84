from __future__ import annotations

import io

from rich.console import Console

from assistant.events import CueHeard
from assistant.session import S, Status
from assistant.timers import FakeClock
from assistant.ui import Countdown, PlainView, RichView, make_view

STATUS = Status(
    state=S.SPEAKING,
    step_number=3,
    step_title="Practise healthy communication",
    exercise_title="Speaker and listener",
    floor="Partner A",
    valid_cues=("done", "pause", "stop"),
)


def test_plain_view_prints_lines() -> None:
    out = io.StringIO()
    view = PlainView(Console(file=out, width=60))
    view.heading("Step 3: Practise healthy communication")
    view.said("Partner A, you have the floor.")
    view.update(STATUS, Countdown(deadline=180, total=180))
    view.update(STATUS, Countdown(deadline=180, total=180))  # unchanged: not printed twice
    view.heard(CueHeard("done", phrase="i'm done"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Step 3: Practise healthy communication"
    assert lines[1] == "  Assistant: Partner A, you have the floor."
    assert lines[2] == "  [Partner A has the floor; timer 3:00; say or press: done [d]  pause [p]  stop [q]]"
    assert lines[3] == '  > done (heard "i\'m done")'
    assert len(lines) == 4


def test_rich_view_shows_step_floor_countdown_and_cues() -> None:
    out = io.StringIO()
    clock = FakeClock()
    console = Console(file=out, width=70, force_terminal=True, color_system=None)
    view = RichView(console, clock, "Rebuilding trust together")
    clock.advance(60)
    view.heard(CueHeard("pause", source="key"))
    view.update(STATUS, Countdown(deadline=180, total=180))
    view.close()
    text = out.getvalue()
    assert "Step" in text and "3: Practise healthy communication" in text
    assert "Partner A" in text
    assert "2:00" in text  # two minutes left of three
    assert "done [d]" in text
    assert "pause (key)" in text


def test_make_view_degrades_to_plain_lines_off_a_terminal() -> None:
    view = make_view(FakeClock(), "Title", Console(file=io.StringIO()))
    assert isinstance(view, PlainView)
