"""The cue spotter in worker processes, so decoding never holds up this process's audio.

PocketSphinx keeps Python's GIL for 10-25 ms per decoding pass. In the session's process that
starves the speaker's and the microphone's PortAudio callbacks (the voice crackles, PulseAudio
logs underruns). In child processes the decoders run on other cores and this process only
waits on a pipe, which releases the GIL.

Two children: the spotter, and its phone side (`aligner.PhoneAligner`), which the spotter hands
each segment before decoding it. So the phone side's passes (the free phone loop, then the
forced alignment of the phrase the grammar names) run beside the spotter's (grammar, keyword
search) instead of after them, and a verdict takes about half as long: that was most of what a
cue's answer waited for after the endpointer's hangover (README, "How fast it answers a spoken
cue"). Each decoder gets the same passes in the same order as in one process, so the verdicts
are the same. The children get segments and give back verdicts: they open no files for writing
and no sockets (plain OS pipes, not a multiprocessing socket pair).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import numpy as np

from assistant.ears.aligner import Alignment, PhoneAligner
from assistant.ears.decoder import make_decoder
from assistant.ears.spotter import SphinxCueSpotter, SpotterConfig, Verdict
from assistant.ears.templates import mfcc
from assistant.ears.vad import Segment
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.errors import DeviceError

_LOGGER = logging.getLogger(__name__)
_Made = TypeVar("_Made")

START_TIMEOUT_S = 60.0
"""Loading the model takes about half a second; a loaded machine may take far longer."""
JUDGE_TIMEOUT_S = 10.0
"""A verdict takes under 0.1 s; a child silent this long has hung and is replaced."""


class _AlignerLost(Exception):
    """The phone side's process has gone: the spotter's child ends, and both are replaced."""


class _RemoteAligner:
    """The phone side in its own process, as the spotter's child sees it: `begin` and `align`
    return at once (the phone loop and the alignment run there meanwhile); `alignment` waits
    for the answer."""

    def __init__(self, requests: Connection, replies: Connection) -> None:
        self._requests, self._replies = requests, replies
        self._pending = False
        """An alignment was asked for and its answer not yet read."""
        self._alignment: Alignment | None = None

    def ready(self) -> tuple[str, Any]:
        """The phone side's first word: ("ready", None) or ("error", why)."""
        return self._receive(START_TIMEOUT_S)

    def begin(self, pcm: bytes, remove_noise: bool) -> None:
        self.alignment()  # an answer the last verdict did not need is read, so none is left over
        self._alignment = None
        self._send(("begin", (pcm, remove_noise)))

    def align(self, phrase: str) -> None:
        self._send(("align", phrase))
        self._pending = True

    def alignment(self) -> Alignment | None:
        if self._pending:
            kind, alignment = self._receive(JUDGE_TIMEOUT_S)
            if kind != "aligned":
                raise _AlignerLost
            self._pending, self._alignment = False, alignment
        return self._alignment

    def _send(self, message: tuple[str, Any]) -> None:
        try:
            self._requests.send(message)
        except OSError as exc:
            raise _AlignerLost from exc

    def _receive(self, timeout: float) -> tuple[str, Any]:
        try:
            if self._replies.poll(timeout):
                reply: tuple[str, Any] = self._replies.recv()
                return reply
        except (EOFError, OSError) as exc:
            raise _AlignerLost from exc
        raise _AlignerLost  # silent this long: hung


def _ready(replies: Connection, make: Callable[[], _Made]) -> _Made | None:
    """Make a child's part of the recognizer and say whether that worked: ("ready", None), or
    ("error", why) and None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the session's to handle, not ours
    try:
        made = make()
    except DeviceError as exc:
        replies.send(("error", str(exc)))
        return None
    replies.send(("ready", None))
    return made


def _requests(requests: Connection) -> Iterator[tuple[str, Any]]:
    """A child's requests, until the other end has gone."""
    while True:
        try:
            yield requests.recv()
        except EOFError:
            return


def _serve_aligner(requests: Connection, replies: Connection, config: SpotterConfig) -> None:
    """The phone side's loop: ("begin", (pcm, remove_noise)) decodes the phone loop of a new
    segment and answers nothing; ("align", phrase) answers ("aligned", Alignment or None)."""
    aligner = _ready(replies, lambda: PhoneAligner(make_decoder(config.mllr, config.phone_loop_probability)))
    if aligner is None:
        return
    for kind, argument in _requests(requests):
        if kind == "begin":
            aligner.begin(*argument)
        elif kind == "align":
            aligner.align(argument)
            replies.send(("aligned", aligner.alignment()))
        else:
            return


def _serve(requests: Connection, replies: Connection, config: SpotterConfig, phone_side: _RemoteAligner) -> None:
    """The spotter child's loop: ("listen", cues) sets the cues; ("judge", segment) answers a
    verdict; ("learn", (phrase, segment)) keeps a partner's take and answers its features (None
    when it could not); ("teach", (phrase, features)) keeps a take learned by a child before this
    one. It ends when the phone side's process is lost: this process then replaces both."""

    def make() -> SphinxCueSpotter:
        try:
            kind, message = phone_side.ready()
        except _AlignerLost:
            kind, message = "lost", "the speech recognizer's phone side did not start"
        if kind != "ready":
            raise DeviceError(str(message))
        return SphinxCueSpotter(config, aligner=phone_side)

    spotter = _ready(replies, make)
    if spotter is None:
        return
    for kind, argument in _requests(requests):
        try:
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
        except _AlignerLost:
            return


class SpotterProcess:
    """A `SphinxCueSpotter` in spawned child processes (itself and its phone side), with the
    same calls.

    Children that die or hang are replaced once per segment; the segment is judged again by the
    new ones. Call `close()` to end them (they also end with this process)."""

    def __init__(self, config: SpotterConfig | None = None) -> None:
        self.config = config or SpotterConfig()
        self._cues: frozenset[str] = frozenset(CUE_PHRASES)
        self._lock = threading.Lock()
        self._processes: list[Any] = []
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

    @property
    def pids(self) -> dict[str, int]:
        """The children's process ids by name: "cue-spotter" and its phone side "cue-phones"."""
        return {process.name: process.pid for process in self._processes}

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with audio threads
        child_requests, self._requests = context.Pipe(duplex=False)
        self._replies, child_replies = context.Pipe(duplex=False)
        # The spotter's child talks to its phone side directly: this process is not in between.
        side_requests, to_side = context.Pipe(duplex=False)
        from_side, side_replies = context.Pipe(duplex=False)
        phone_side = context.Process(
            target=_serve_aligner, args=(side_requests, side_replies, self.config), name="cue-phones", daemon=True
        )
        spotter = context.Process(
            target=_serve,
            args=(child_requests, child_replies, self.config, _RemoteAligner(to_side, from_side)),
            name="cue-spotter",
            daemon=True,
        )
        self._processes = [phone_side, spotter]
        for process in self._processes:
            process.start()
        for end in (child_requests, child_replies, side_requests, side_replies, to_side, from_side):
            end.close()  # the children hold them now
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
        for process in reversed(self._processes):
            # The spotter's child ends on "stop", then its phone side as the spotter's pipe closes.
            process.join(timeout=2.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=2.0)
            process.close()
        self._processes = []
        for connection in (self._requests, self._replies):
            if connection is not None:
                connection.close()
        self._requests = self._replies = None

    def close(self) -> None:
        """End the child processes."""
        with self._lock:
            self._stop()
