"""The terminal view: what the assistant says, the step, who holds the floor, a countdown, the cues.

On a terminal it is a live `rich` panel; elsewhere (a pipe, a log, a test) it is plain lines.
The view only shows: it never decides anything and never touches the session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from assistant.devices import Clock
from assistant.events import CueHeard
from assistant.journal import PastSession, floor_by_week
from assistant.keys import CUE_KEYS
from assistant.session import Status


@dataclass(frozen=True)
class Countdown:
    """A running timer as the view sees it; remaining time is worked out when drawn."""

    deadline: float | None
    """Clock seconds; None while the timer is held."""
    total: float
    remaining_when_held: float = 0.0

    def remaining(self, clock: Clock) -> float:
        if self.deadline is None:
            return self.remaining_when_held
        return max(0.0, self.deadline - clock.now())


class View(Protocol):
    def heading(self, text: str) -> None: ...
    def said(self, text: str) -> None: ...
    def notice(self, text: str) -> None: ...
    def heard(self, cue: CueHeard) -> None: ...
    def update(self, status: Status, countdown: Countdown | None) -> None: ...
    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None: ...
    def clear(self) -> None:
        """The quick exit: leave nothing of the session on the screen."""

    def close(self) -> None: ...


class ViewGroup:
    """Several views at once (the terminal and the page): every call goes to each, in order."""

    def __init__(self, *views: View) -> None:
        self.views = views

    def heading(self, text: str) -> None:
        for view in self.views:
            view.heading(text)

    def said(self, text: str) -> None:
        for view in self.views:
            view.said(text)

    def notice(self, text: str) -> None:
        for view in self.views:
            view.notice(text)

    def heard(self, cue: CueHeard) -> None:
        for view in self.views:
            view.heard(cue)

    def update(self, status: Status, countdown: Countdown | None) -> None:
        for view in self.views:
            view.update(status, countdown)

    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None:
        for view in self.views:
            view.summary(title, turns, floor_seconds)

    def clear(self) -> None:
        for view in self.views:
            view.clear()

    def close(self) -> None:
        for view in self.views:
            view.close()


def format_clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def cue_legend(cues: tuple[str, ...]) -> str:
    return "  ".join(f"{cue} [{CUE_KEYS[cue]}]" if cue in CUE_KEYS else cue for cue in cues)


BAR_WIDTH = 30


def summary_lines(title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> list[str]:
    """A small bar chart of who held the floor for how long, in plain text."""
    longest = max((seconds for _, seconds in floor_seconds), default=0.0) or 1.0
    width = max(len(name) for name, _ in floor_seconds)
    lines = [f"{title}: {turns} turns"]
    for name, seconds in floor_seconds:
        bar = "█" * round(BAR_WIDTH * seconds / longest)
        lines.append(f"  {name:<{width}}  {bar:<{BAR_WIDTH}}  {format_clock(seconds)}")
    return lines


def describe_heard(cue: CueHeard) -> str:
    how = {"voice": f'heard "{cue.phrase}"' if cue.phrase else "heard", "key": "key", "auto": "rehearsal"}
    return f"{cue.cue} ({how.get(cue.source, cue.source)})"


class PlainView:
    """Plain lines, for pipes, logs and `--text` runs that are not on a terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._last_status: Status | None = None

    def heading(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False)

    def said(self, text: str) -> None:
        self._console.print(f"  Assistant: {text}", markup=False, highlight=False, soft_wrap=True)

    def notice(self, text: str) -> None:
        self._console.print(f"  ({text})", markup=False, highlight=False)

    def heard(self, cue: CueHeard) -> None:
        self._console.print(f"  > {describe_heard(cue)}", markup=False, highlight=False)

    def update(self, status: Status, countdown: Countdown | None) -> None:
        if status == self._last_status or not status.valid_cues:
            return
        self._last_status = status
        parts = []
        if status.floor:
            parts.append(f"{status.floor} {'have' if status.floor == 'both of you' else 'has'} the floor")
        if countdown:
            parts.append(f"timer {format_clock(countdown.total)}")
        parts.append(f"say or press: {cue_legend(status.valid_cues)}")
        self._console.print(f"  [{'; '.join(parts)}]", markup=False, highlight=False, soft_wrap=True)

    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None:
        for line in summary_lines(title, turns, floor_seconds):
            self._console.print(line, markup=False, highlight=False)

    def clear(self) -> None:
        pass  # not a terminal: there is no screen to clear

    def close(self) -> None:
        pass


class _Panel:
    """Drawn afresh on every refresh, so the countdown moves without the runner polling."""

    def __init__(self, view: RichView) -> None:
        self._view = view

    def __rich__(self) -> RenderableType:
        view = self._view
        status = view.status
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        if status is not None:
            if status.step_number:
                grid.add_row("Step", f"{status.step_number}: {status.step_title}")
            if status.exercise_title:
                grid.add_row("Exercise", status.exercise_title)
            grid.add_row("Floor", status.floor or "-")
            if view.countdown is not None:
                remaining = view.countdown.remaining(view.clock)
                total = view.countdown.total
                bar = ProgressBar(total=total, completed=total - remaining, width=30)
                held = " (paused)" if view.countdown.deadline is None else ""
                grid.add_row("Time left", Group(bar, Text(format_clock(remaining) + held)))
            grid.add_row("Say or press", Text(cue_legend(status.valid_cues), style="cyan"))
        grid.add_row("Last heard", view.last_heard or "-")
        return Panel(grid, title=view.title, border_style="blue")


class RichView:
    """A live panel at the bottom of the terminal, with what was said scrolling above it."""

    def __init__(self, console: Console, clock: Clock, title: str) -> None:
        self.clock = clock
        self.title = title
        self.status: Status | None = None
        self.countdown: Countdown | None = None
        self.last_heard: str | None = None
        self._console = console
        self._live = Live(_Panel(self), console=console, refresh_per_second=4, transient=False)
        self._live.start()

    def heading(self, text: str) -> None:
        self._console.print(Text(text, style="bold magenta"))

    def said(self, text: str) -> None:
        self._console.print(Text(text), soft_wrap=False)

    def notice(self, text: str) -> None:
        self._console.print(Text(text, style="yellow"))

    def heard(self, cue: CueHeard) -> None:
        self.last_heard = describe_heard(cue)

    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None:
        lines = summary_lines(title, turns, floor_seconds)
        self._console.print(Text(lines[0], style="bold"))
        for line in lines[1:]:
            self._console.print(Text(line, style="green"))

    def update(self, status: Status, countdown: Countdown | None) -> None:
        self.status = status
        self.countdown = countdown
        self._live.refresh()

    def clear(self) -> None:
        self._live.stop()
        self._console.clear()
        self._console.clear_live()

    def close(self) -> None:
        self._live.stop()


def make_view(clock: Clock, title: str, console: Console | None = None) -> View:
    """A live panel on a terminal, plain lines elsewhere."""
    console = console or Console(highlight=False)
    if console.is_terminal and not console.is_dumb_terminal:
        return RichView(console, clock, title)
    return PlainView(console)


def history_lines(sessions: list[PastSession], now: float, weeks: int = 8) -> list[str]:
    """Past sessions, one line each, then minutes on the floor per week as a small bar chart."""
    if not sessions:
        return ["No sessions yet."]
    lines = []
    for past in sessions:
        day = time.strftime("%Y-%m-%d %H:%M", time.localtime(past.started_at))
        steps = ",".join(str(s) for s in past.steps) or "-"
        floor = ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in past.floor_seconds.items()) or "-"
        ending = "completed" if past.completed else "stopped"
        breaks = f", {past.timeouts} time-out{'s' if past.timeouts != 1 else ''}" if past.timeouts else ""
        lines.append(f"{day}  {past.minutes:5.1f} min  steps {steps:<9}  floor: {floor}  ({ending}{breaks})")
    totals = [sum(week.values()) / 60 for week in reversed(floor_by_week(sessions, now, weeks))]
    longest = max(totals) or 1.0
    lines.append("")
    lines.append("Minutes on the floor, week by week (this week last):")
    for index, minutes in enumerate(totals):
        label = "this week" if index == weeks - 1 else f"{weeks - 1 - index} weeks ago".replace("1 weeks", "1 week")
        lines.append(f"  {label:>11}  {'█' * round(BAR_WIDTH * minutes / longest):<{BAR_WIDTH}}  {minutes:.0f}")
    return lines
