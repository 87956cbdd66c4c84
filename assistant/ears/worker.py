"""The cue spotter in a worker process, so decoding never holds up this process's audio.

A Whisper decode keeps a core busy for tens of milliseconds. In a child process it runs on the
other core while this process only waits on a pipe, and a decoder that hangs or crashes is
replaced without taking the session down. (The PocketSphinx ears made the voice crackle when they
decoded in the session's process; CTranslate2 lets go of the GIL, and `benchmarks/dropouts.py`
now counts no dropouts either way.)

The child gets segments and gives back verdicts. Transcripts never leave it (a verdict names at
most the cue phrase matched), and it opens no file for writing and no socket: plain OS pipes,
not a multiprocessing socket pair.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any

from assistant.ears.spotter import SpotterConfig, Verdict, WhisperCueSpotter
from assistant.ears.vad import Segment
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.errors import DeviceError

_LOGGER = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
"""Loading and checking the model takes about a second; a loaded machine may take far longer."""
JUDGE_TIMEOUT_S = 10.0
"""A verdict takes well under 0.2 s; a child silent this long has hung and is replaced."""


def _serve(requests: Connection, replies: Connection, config: SpotterConfig) -> None:
    """The child's loop: ("listen", cues) sets the cues; ("judge", (segment, own_line)) answers
    ("verdict", Verdict) or ("failed", why). It ends when the other end goes or says "stop"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the session's to handle, not ours
    try:
        spotter = WhisperCueSpotter(config)
    except DeviceError as exc:
        replies.send(("error", str(exc)))
        return
    replies.send(("ready", None))
    while True:
        try:
            kind, argument = requests.recv()
        except EOFError:
            return
        if kind == "listen":
            spotter.listen_for(argument)
        elif kind == "judge":
            try:
                replies.send(("verdict", spotter.judge(*argument)))
            except RuntimeError as exc:
                replies.send(("failed", str(exc)))
        else:
            return


class SpotterProcess:
    """A `WhisperCueSpotter` in a spawned child process, with the same calls.

    A child that dies or hangs is replaced once per segment, and the segment judged again by the
    new one. Call `close()` to end it (it also ends with this process)."""

    def __init__(self, config: SpotterConfig | None = None) -> None:
        self.config = config or SpotterConfig()
        self._cues: frozenset[str] = frozenset(CUE_PHRASES)
        self._lock = threading.Lock()
        self._process: Any = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        self._start()

    @property
    def cues(self) -> frozenset[str]:
        """The cues listened for now."""
        return self._cues

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return None if self._process is None else self._process.pid

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with audio threads
        child_requests, self._requests = context.Pipe(duplex=False)
        self._replies, child_replies = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(child_requests, child_replies, self.config), name="cue-spotter", daemon=True
        )
        self._process.start()
        child_requests.close()  # the child holds them now
        child_replies.close()
        kind, message = self._reply(START_TIMEOUT_S, "start")
        if kind != "ready":
            self._stop()
            raise DeviceError(str(message))
        self._requests.send(("listen", self._cues))

    def _reply(self, timeout: float, doing: str) -> tuple[str, Any]:
        assert self._replies is not None
        try:
            if self._replies.poll(timeout):
                reply: tuple[str, Any] = self._replies.recv()
                return reply
        except (EOFError, OSError):
            pass
        return "lost", f"the speech recognizer's process did not {doing}"

    def listen_for(self, cues: Iterable[str]) -> None:
        """Accept only these cues' phrases."""
        with self._lock:
            self._cues = frozenset(cues) & frozenset(CUE_PHRASES)
            try:
                assert self._requests is not None
                self._requests.send(("listen", self._cues))
            except OSError:
                pass  # the child has died: the next judge() replaces it and sends the cues

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        """The child's verdict on one segment (RuntimeError where it cannot give one)."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    assert self._requests is not None
                    self._requests.send(("judge", (segment, own_line)))
                    reply, answer = self._reply(JUDGE_TIMEOUT_S, "answer")
                except OSError:
                    reply, answer = "lost", "the speech recognizer's process has gone"
                if reply == "verdict":
                    verdict: Verdict = answer
                    return verdict
                if reply == "failed":
                    raise RuntimeError(answer)
                _LOGGER.warning("%s; starting a new one (attempt %d)", answer, attempt)
                self._stop()
                try:
                    self._start()
                except DeviceError as exc:
                    raise RuntimeError(str(exc)) from exc
            raise RuntimeError("the speech recognizer's process keeps failing")

    def _stop(self) -> None:
        if self._requests is not None:
            try:
                self._requests.send(("stop", None))
            except OSError:
                pass
        if self._process is not None:
            self._process.join(timeout=2.0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=2.0)
            self._process.close()
            self._process = None
        for connection in (self._requests, self._replies):
            if connection is not None:
                connection.close()
        self._requests = self._replies = None

    def close(self) -> None:
        """End the child process."""
        with self._lock:
            self._stop()
