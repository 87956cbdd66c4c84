"""Working stand-ins for devices, shared by the tests."""

from __future__ import annotations

from assistant.devices import Post
from assistant.events import CueHeard, VoiceFinished, VoiceStarted
from assistant.session import Status
from assistant.ui import Countdown


class FakeVoice:
    """Keeps what it was asked to say; finishes each line at once, unless `talking_slowly`."""

    def __init__(self, post: Post) -> None:
        self._post = post
        self.said: list[str] = []
        self.chimes: list[str] = []
        self.stops = 0
        self.asked = 0
        """Lines and chimes asked for: the last one's number."""
        self.talking_slowly = False
        """Lines play until `finish()` is called, as real speech takes its time."""

    def say(self, text: str) -> int:
        self.said.append(text)
        return self._play()

    def chime(self, name: str) -> int:
        self.chimes.append(name)
        return self._play()

    def finish(self) -> None:
        self._post(VoiceFinished(self.asked))

    def _play(self) -> int:
        self.asked += 1
        self._post(VoiceStarted())
        if not self.talking_slowly:
            self._post(VoiceFinished(self.asked))
        return self.asked

    def stop(self) -> None:
        self.stops += 1

    def close(self) -> None:
        pass


class FakeEars:
    """Remembers what the runner told it."""

    def __init__(self) -> None:
        self.listening: list[frozenset[str]] = []
        self.voice_playing: list[bool] = []
        self.lines: list[str] = []
        self.closed = False

    def listen_for(self, cues: frozenset[str]) -> None:
        self.listening.append(cues)

    def set_voice_playing(self, playing: bool, line: str = "") -> None:
        self.voice_playing.append(playing)
        if playing:
            self.lines.append(line)

    def close(self) -> None:
        self.closed = True


class FakeView:
    def __init__(self) -> None:
        self.headings: list[str] = []
        self.notices: list[str] = []
        self.heard_cues: list[CueHeard] = []
        self.status: Status | None = None
        self.countdown: Countdown | None = None
        self.cleared = False
        self.summaries: list[tuple[str, int, tuple[tuple[str, float], ...]]] = []

    def heading(self, text: str) -> None:
        self.headings.append(text)

    def said(self, text: str) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def heard(self, cue: CueHeard) -> None:
        self.heard_cues.append(cue)

    def update(self, status: Status, countdown: Countdown | None) -> None:
        self.status = status
        self.countdown = countdown

    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None:
        self.summaries.append((title, turns, floor_seconds))

    def clear(self) -> None:
        self.cleared = True

    def close(self) -> None:
        pass
