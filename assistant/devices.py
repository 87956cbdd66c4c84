"""The small protocols every device sits behind, so the same session runs on real or fake parts.

Device threads never touch the session: they report through a `post` callable that puts an
`Event` on the runner's queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from assistant.events import Event

Post = Callable[[Event], None]


class Voice(Protocol):
    """Speech and chimes out. Every call returns at once.

    `say` posts `VoiceStarted` when sound begins and `VoiceFinished` when it ends or is stopped.
    Utterances queue up and play in order; `stop` cuts the current one and drops the queue.
    `say` and `chime` return the utterance's number (1, 2, 3, ... for this voice), which
    `VoiceFinished.through` reaches once it and everything before it has played or been cut.
    """

    def say(self, text: str) -> int: ...
    def chime(self, name: str) -> int: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class Ears(Protocol):
    """Microphone, voice activity and cue spotting, on their own thread.

    Posts `CueHeard(cue, source="voice", ...)`, `SpeechStarted` and `SpeechStopped`,
    and `DeviceLost("microphone", ...)` if the microphone goes away.
    """

    def listen_for(self, cues: frozenset[str]) -> None:
        """Only these cues are worth acting on now; an empty set means listen for none."""

    def set_voice_playing(self, playing: bool, line: str = "") -> None:
        """The assistant's own voice is (or stopped) playing `line`: what is heard of it is not a cue."""

    def close(self) -> None: ...


class Clock(Protocol):
    """Seconds on a monotonic scale. `assistant.timers` has the real, fast and fake clocks."""

    def now(self) -> float: ...

    @property
    def speed(self) -> float:
        """How many clock seconds pass in one real second (1 normally, N with `--fast N`)."""
