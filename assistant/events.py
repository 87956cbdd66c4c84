"""The small vocabulary that flows through the runner.

Events are facts reported by devices, timers and the keyboard (past tense or nouns).
Actions are requests the session machine makes of the runner (imperatives).
Both are frozen dataclasses: plain values, safe to pass between threads.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every cue the session understands, by name. The ears map spoken phrases to these names,
# the keyboard maps keys to them, and the rehearsal couple answers with them.
CUES: tuple[str, ...] = (
    "next",
    "repeat",
    "back",
    "pause",
    "resume",
    "done",
    "timeout",
    "stop",
    "help",
    "yes",
    "no",
    "skip",
    "support",
)
"""`support` ("help me") is where to find help: helplines and emergency numbers."""


# ---- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """Base of everything posted to the runner's queue."""


@dataclass(frozen=True)
class CueHeard(Event):
    """A partner gave a cue, by voice, key or (in a rehearsal) the simulated couple."""

    cue: str
    source: str = "voice"
    """One of "voice", "key", "auto"."""
    phrase: str | None = None
    """The phrase recognised, for the view only; never stored."""
    confidence: float | None = None


@dataclass(frozen=True)
class TimerFinished(Event):
    """A timer started by `StartTimer` reached its deadline."""

    name: str


@dataclass(frozen=True)
class VoiceStarted(Event):
    """The assistant's voice began playing an utterance (the ears must not react to it)."""


@dataclass(frozen=True)
class VoiceFinished(Event):
    """The assistant's voice finished, or was stopped; nothing of ours is playing now.

    Lines and chimes are numbered in the order they were asked for (`Voice.say` returns the
    number). A device reports from its own thread, so this can arrive after the next line was
    asked for: a `through` lower than the last number asked for is old news, not quiet.
    """

    through: int
    """Every line and chime up to this number has been played or cut."""
    interrupted: bool = False


@dataclass(frozen=True)
class SpeechStarted(Event):
    """Voice activity: someone in the room began speaking."""


@dataclass(frozen=True)
class SpeechStopped(Event):
    """Voice activity: the room went quiet again."""

    seconds: float = 0.0
    """How long the speech just ended lasted."""


@dataclass(frozen=True)
class CueUnclear(Event):
    """Short speech the recognizer matched to a cue it listens for, but not surely enough to act
    on: often a cue it missed. It carries no words (the couple's speech is never kept)."""


@dataclass(frozen=True)
class DeviceLost(Event):
    """A device stopped working; the session goes on without it."""

    device: str
    """"microphone" or "speaker"."""
    message: str


@dataclass(frozen=True)
class QuitRequested(Event):
    """Ctrl-C or the end of keyboard input: end now, keeping progress."""


@dataclass(frozen=True)
class QuickExitRequested(Event):
    """Escape twice: leave at once, silently, keep progress and clear the screen."""


# ---- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """Base of everything the session machine asks the runner to do."""


@dataclass(frozen=True)
class Say(Action):
    """Speak this text (or print it in text mode)."""

    text: str


@dataclass(frozen=True)
class Chime(Action):
    """Play a short chime: "start", "halfway", "one_minute", "end"."""

    name: str


@dataclass(frozen=True)
class StopVoice(Action):
    """Cut off whatever the voice is saying (barge-in)."""


@dataclass(frozen=True)
class StartTimer(Action):
    """Start (or restart) the named timer; `TimerFinished(name)` arrives after `seconds`."""

    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer(Action):
    name: str


@dataclass(frozen=True)
class HoldTimers(Action):
    """Pause every running timer, keeping its remaining time."""


@dataclass(frozen=True)
class ReleaseTimers(Action):
    """Resume timers held by `HoldTimers`."""


@dataclass(frozen=True)
class ShowHeading(Action):
    """A heading for the view: the start of a step or exercise."""

    text: str


@dataclass(frozen=True)
class ShowNotice(Action):
    """A short line for the view that is not spoken."""

    text: str


@dataclass(frozen=True)
class SaveProgress(Action):
    """Remember where the couple is, so a later run can resume here."""

    step: int
    exercise: int
    completed_steps: tuple[int, ...] = ()
    finished: bool = False
    """The closing was reached: the next run starts from the beginning."""
    turn: int = 0
    """The turn within the exercise, when a partner holds the floor."""


@dataclass(frozen=True)
class RecordRound(Action):
    """Keep the numbers of one timed phase: never words, never audio."""

    step: int
    exercise: int
    phase: str
    """"speak", "reflect" or "talk"."""
    partner: str | None
    seconds: float
    ended_by: str
    """"cue", "timer" or "timeout"."""
    spoken_seconds: float | None = None
    """Voice activity heard during the phase, where the microphone could tell."""
    continues: bool = False
    """The rest of a turn taken back after a misheard "I'm done": the same turn as the round
    before, so summaries do not count it again (the journal keeps both parts, unmarked)."""


@dataclass(frozen=True)
class ShowSummary(Action):
    """A short summary on screen: seconds each partner held the floor, drawn as bars."""

    title: str
    turns: int
    floor_seconds: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class RecordNotReady(Action):
    """A partner said "not yet" to a step that checks both agree to go on (kept: the step only)."""

    step: int


@dataclass(frozen=True)
class RecordTimeout(Action):
    """A time-out was taken (counted in the journal)."""


@dataclass(frozen=True)
class EndSession(Action):
    """The session is over; `completed` is true when the closing was reached."""

    completed: bool
