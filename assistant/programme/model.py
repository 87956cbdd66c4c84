"""The programme as frozen values: what is said, in what order, and for how long."""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("turns", "listening", "talk")
"""turns: each partner holds the floor in turn; listening: speaker, then listener reflects back,
then the speaker checks; talk: an open conversation between both."""


@dataclass(frozen=True)
class Exercise:
    title: str
    format: str
    prompt: str
    turn_prompt: str = ""
    reflect_prompt: str = ""
    check_prompt: str = ""
    retry_prompt: str = ""
    rounds: int = 1
    """How many times each partner holds the floor."""
    speak_seconds: float = 180.0
    reflect_seconds: float = 90.0
    talk_seconds: float = 600.0
    warning_seconds: float = 60.0
    """A spoken warning this long before a turn ends (only in turns long enough to have one)."""
    silence_seconds: float = 20.0
    """After this long without speech, the speaker is asked gently whether they are finished."""

    @property
    def has_turns(self) -> bool:
        return self.format in ("turns", "listening")


@dataclass(frozen=True)
class Step:
    title: str
    intro: str
    exercises: tuple[Exercise, ...]
    check_ready: bool = False
    """Ask whether both partners agree to go on now before this step's exercises."""


@dataclass(frozen=True)
class Programme:
    title: str
    partners: tuple[str, str]
    welcome: str
    closing: str
    safety: str
    """Said at the start of a couple's first session: not therapy, not for violent relationships."""
    steps: tuple[Step, ...]
    phrases: dict[str, str]
    break_seconds: float
    source: str
    """Where it was loaded from, for messages."""

    def phrase(self, key: str, **values: object) -> str:
        """A line from the `phrases` table with its {placeholders} filled in."""
        return self.phrases[key].format(**values)
