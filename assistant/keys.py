"""The keyboard: one key per cue, always available as a fallback to speaking."""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, TextIO

from assistant.devices import Post
from assistant.events import CueHeard, QuickExitRequested, QuitRequested

QUICK_EXIT_KEY = "\x1b"
"""Escape twice: leave at once, silently, and clear the screen."""

KEY_CUES: dict[str, str] = {
    "n": "next",
    " ": "next",
    "r": "repeat",
    "b": "back",
    "p": "pause",
    "c": "resume",
    "d": "done",
    "t": "timeout",
    "q": "stop",
    "h": "help",
    "?": "help",
    "y": "yes",
    "x": "no",
    "s": "skip",
    "!": "support",
}
"""Key to cue. `n` is next, so "no" is `x`."""

CUE_KEYS: dict[str, str] = {}
for _key, _cue in KEY_CUES.items():
    CUE_KEYS.setdefault(_cue, "space" if _key == " " else _key)


def cue_for_key(key: str) -> str | None:
    return KEY_CUES.get(key.lower()) if key else None


def cue_for_line(line: str) -> str | None:
    """A typed line (when input is not a terminal): a key, or a cue's name such as "done"."""
    word = line.strip().lower()
    if word in CUE_KEYS:
        return word
    return cue_for_key(word[:1]) if len(word) == 1 else None


class KeyboardReader:
    """Reads keys on a daemon thread and posts `CueHeard(source="key")`.

    On a terminal each key press counts at once (cbreak mode keeps Ctrl-C working); otherwise each
    line is a key or a cue's name. At the end of input it posts `QuitRequested` if told to.
    """

    def __init__(self, post: Post, stream: TextIO | None = None, quit_at_end: bool = False) -> None:
        self._post = post
        self._stream = stream or sys.stdin
        self._quit_at_end = quit_at_end
        self._interactive = self._stream.isatty()
        self._saved_terminal: list[Any] | None = None
        self._thread = threading.Thread(target=self._run, name="keyboard", daemon=True)

    def start(self) -> None:
        if self._interactive:
            import termios
            import tty

            # Set and restored from the main thread: the reading thread may never return.
            fd = self._stream.fileno()
            self._saved_terminal = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        self._thread.start()

    def close(self) -> None:
        if self._saved_terminal is not None:
            import termios

            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved_terminal)
            self._saved_terminal = None

    def _run(self) -> None:
        escapes = 0
        while True:
            text = self._stream.read(1) if self._interactive else self._stream.readline()
            if not text:
                break
            # Escape twice in a row (on a line: two escape characters) is the quick exit.
            escapes = escapes + 1 if text == QUICK_EXIT_KEY else 0
            if escapes == 2 or text.strip("\n") == QUICK_EXIT_KEY * 2:
                self._post(QuickExitRequested())
                return
            cue = cue_for_key(text) if self._interactive else cue_for_line(text)
            if cue:
                self._post(CueHeard(cue, source="key"))
        if self._quit_at_end:
            self._post(QuitRequested())
