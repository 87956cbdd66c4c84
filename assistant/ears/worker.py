"""The cue spotter in a worker process, so decoding never holds up this process's audio.

PocketSphinx keeps Python's GIL for 10-25 ms per decoding pass. In the session's process that
starves the speaker's and the microphone's PortAudio callbacks (the voice crackles, PulseAudio
logs underruns). In a child process the decoder runs on the other core and this process only
waits on a pipe, which releases the GIL. The child gets segments and gives back verdicts: it
opens no files for writing and no sockets (plain OS pipes, not a multiprocessing socket pair).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from assistant.ears.spotter import SphinxCueSpotter, SpotterConfig, Verdict
from assistant.ears.templates import mfcc
from assistant.ears.vad import Segment
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.errors import DeviceError

_LOGGER = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
"""Loading the model takes about half a second; a loaded machine may take far longer."""
JUDGE_TIMEOUT_S = 10.0
"""A verdict takes under 0.1 s; a child silent this long has hung and is replaced."""


def _serve(requests: Connection, replies: Connection, config: SpotterConfig | None) -> None:
    """The child's loop: ("listen", cues) sets the cues; ("judge", segment) answers a verdict;
    ("learn", (phrase, segment)) keeps a partner's take and answers its features (None when it
    could not); ("teach", (phrase, features)) keeps a take learned by a child before this one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the session's to handle, not ours
    try:
        spotter = SphinxCueSpotter(config)
    except DeviceError as exc:
        replies.send(("error", str(exc)))
        return
    replies.send(("ready", None))
    while True:
        try:
            kind, argument = requests.recv()
        except EOFError:
            return  # the session has gone
        if kind == "listen":
            spotter.listen_for(argument)
        elif kind == "judge":
            try:
                replies.send(("verdict", spotter.judge(argument)))
            except RuntimeError as exc:
                replies.send(("failed", str(exc)))
        elif kind == "learn":
            phrase, segment = argument
            features = mfcc(segment.pcm)
            replies.send(("learned", features if spotter.keep_take(phrase, features) else None))
        elif kind == "teach":
            spotter.keep_take(*argument)
        else:
            return


class SpotterProcess:
    """A `SphinxCueSpotter` in a spawned child process, with the same calls.

    A child that dies or hangs is replaced once per segment; the segment is judged again by the
    new one. Call `close()` to end the child (it also ends with this process)."""

    def __init__(self, config: SpotterConfig | None = None) -> None:
        self.config = config or SpotterConfig()
        self._cues: frozenset[str] = frozenset(CUE_PHRASES)
        self._lock = threading.Lock()
        self._process: Any = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        self._takes: list[tuple[str, np.ndarray]] = []
        """Features of the takes the child has learned, to teach a replacement: features, not
        the audio, which is gone once the child has them (memory only)."""
        self._start()

    @property
    def cues(self) -> frozenset[str]:
        """The cues listened for now."""
        return self._cues

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with audio threads
        child_requests, self._requests = context.Pipe(duplex=False)
        self._replies, child_replies = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(child_requests, child_replies, self.config), name="cue-spotter", daemon=True
        )
        self._process.start()
        child_requests.close()
        child_replies.close()
        kind, message = self._reply(START_TIMEOUT_S, "start")
        if kind != "ready":
            self._stop()
            raise DeviceError(str(message))
        self._requests.send(("listen", self._cues))
        for take in self._takes:
            self._requests.send(("teach", take))

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
        """Restrict decoding to these cues' phrases."""
        with self._lock:
            self._cues = frozenset(cues) & frozenset(CUE_PHRASES)
            try:
                assert self._requests is not None
                self._requests.send(("listen", self._cues))
            except OSError:
                pass  # the child has died: the next judge() replaces it and sends the cues

    def judge(self, segment: Segment) -> Verdict:
        """The child's verdict on one segment (RuntimeError where it cannot give one)."""
        verdict: Verdict = self._ask("judge", segment, "verdict")
        return verdict

    def learn(self, phrase: str, segment: Segment) -> bool:
        """Have the child keep a partner's take of a cue phrase (see `SphinxCueSpotter.learn`)."""
        features: np.ndarray | None = self._ask("learn", (phrase, segment), "learned")
        if features is None:
            return False
        with self._lock:
            self._takes.append((phrase, features))
        return True

    def _ask(self, kind: str, argument: object, answered: str) -> Any:
        """Send one request and return the child's answer, replacing a child that is lost."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    assert self._requests is not None
                    self._requests.send((kind, argument))
                    reply, answer = self._reply(JUDGE_TIMEOUT_S, "answer")
                except OSError:
                    reply, answer = "lost", "the speech recognizer's process has gone"
                if reply == answered:
                    return answer
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
