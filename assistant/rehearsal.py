"""A simulated, cooperative couple for `--auto` rehearsals: it answers every prompt with the cue
the step expects, after a pause that stands for thinking or talking."""

from __future__ import annotations

from assistant.session import FLOOR_STATES, S

EXPECTED_CUES: dict[S, str] = {
    S.WELCOME: "next",
    S.RESUME_OFFER: "yes",
    S.STEP_INTRO: "next",
    S.EXERCISE_INTRO: "next",
    S.SPEAKING: "done",
    S.REFLECTING: "done",
    S.CHECKING: "yes",
    S.TALKING: "done",
    S.PAUSED: "resume",
    S.BREAK_OVER: "yes",
}
"""What a cooperative couple says in each state; states left out (a break, the closing) are waited out."""


class RehearsalCouple:
    """Answers after `think_seconds` (or `floor_seconds` while holding the floor), in clock seconds."""

    def __init__(self, think_seconds: float = 2.0, floor_seconds: float = 45.0) -> None:
        self.think_seconds = think_seconds
        self.floor_seconds = floor_seconds

    def answer(self, state: S) -> tuple[float, str] | None:
        """(delay, cue) for a prompt in `state`, or None to wait for a timer."""
        cue = EXPECTED_CUES.get(state)
        if cue is None:
            return None
        return (self.floor_seconds if state in FLOOR_STATES else self.think_seconds), cue
