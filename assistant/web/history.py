"""The history page's content: past sessions and minutes on the floor week by week, per partner.

What `ui.history_lines` prints in the terminal, as plain JSON values for `static/history.js` to
draw with the same bars as the session's closing chart. Numbers and dates only, as the journal
keeps; the page asks for it once.
"""

from __future__ import annotations

import time
from typing import Any

from assistant.journal import PastSession, floor_by_week

WEEKS = 8
"""As many weeks as the terminal's chart shows, this week first."""


def minutes_text(seconds: float) -> str:
    """ "12 min", "2.5 min": whole minutes once there are ten of them."""
    minutes = seconds / 60
    return f"{minutes:.0f} min" if round(minutes, 1) >= 10 else f"{minutes:.1f} min"


def week_label(age: int) -> str:
    """ "This week" (the last seven days), "1 week ago", "3 weeks ago"."""
    if age == 0:
        return "This week"
    return f"{age} week{'s' if age != 1 else ''} ago"


def history_page(sessions: list[PastSession], now: float, weeks: int = WEEKS) -> dict[str, Any]:
    """The weekly chart (this week first, a bar per partner) and the sessions (newest first)."""
    by_week = floor_by_week(sessions, now, weeks)
    # Sessions come oldest first, so this is the order in which partners first held the floor.
    partners = list(dict.fromkeys(name for week in reversed(by_week) for name in week))
    longest = max((seconds for week in by_week for seconds in week.values()), default=0.0) or 1.0
    chart = [{"label": week_label(age), "rows": _bars(week, partners, longest)} for age, week in enumerate(by_week)]
    return {"weeks": chart, "sessions": [_session(past) for past in reversed(sessions)]}


def _bars(week: dict[str, float], partners: list[str], longest: float) -> list[dict[str, Any]]:
    """A bar per partner, in the same order every week; none in a week with no time on the floor."""
    if not any(week.values()):
        return []  # the page says so in words
    bars = []
    for name in partners:
        seconds = week.get(name, 0.0)
        bars.append({"name": name, "minutes": minutes_text(seconds), "share": round(seconds / longest, 3)})
    return bars


def _session(past: PastSession) -> dict[str, Any]:
    when = time.localtime(past.started_at)
    steps = ", ".join(str(step) for step in past.steps)
    details = [
        minutes_text(past.minutes * 60),
        f"step{'s' if len(past.steps) != 1 else ''} {steps}" if steps else "no step begun",
        "completed" if past.completed else "stopped",
    ]
    if past.timeouts:
        details.append(f"{past.timeouts} time-out{'s' if past.timeouts != 1 else ''}")
    return {
        "when": f"{time.strftime('%a', when)} {when.tm_mday} {time.strftime('%b %Y, %H:%M', when)}",
        "details": " · ".join(details),
        "floor": ", ".join(f"{name} {minutes_text(seconds)}" for name, seconds in past.floor_seconds.items()),
    }
