"""The listening pipeline without threads: audio in, VAD, spotter, events out, on the audio timeline."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.ears.spotter import CueSpotter, Detection, Verdict
from assistant.ears.vad import FRAME, RATE, EnergyVad, Segment, VadConfig
from assistant.events import CueHeard, CueUnclear, Event, SpeechStarted, SpeechStopped

_LOGGER = logging.getLogger(__name__)

BARGE_IN_CUES: frozenset[str] = frozenset({"pause", "stop"})
"""Cues acted on while the assistant speaks, when they are not words of the line it says."""


@dataclass(frozen=True)
class Heard:
    """A cue acted on, with where it happened on the audio timeline (seconds into the stream)."""

    detection: Detection
    decided_s: float
    """Stream time at which the decision was made, were the audio arriving live: the segment's
    close, or later when the recognizer (started at the tentative close) was still working."""
    compute_s: float
    """Wall-clock seconds the recognizer took for this segment."""


@dataclass(frozen=True)
class _EarlyVerdict:
    """A verdict on a tentative segment, kept until the segment really closes."""

    key: tuple[float, float, bool, int]
    """Which audio, judged for which listening set (see `CueListener._key`)."""
    verdict: Verdict
    ready_s: float
    """Stream time the verdict was ready: the tentative close plus the recognizer's time."""
    compute_s: float


@dataclass
class _VoiceSpan:
    """Where on the timeline the assistant's voice (and its echo) was in the room, and what it said."""

    start_s: float
    end_s: float
    line: str


@dataclass
class CueListener:
    """Feeds 16 kHz mono int16 audio through the endpointer and the spotter, posting events."""

    spotter: CueSpotter
    post: Callable[[Event], None]
    vad: EnergyVad = field(default_factory=lambda: EnergyVad(VadConfig()))
    echo_hangover_s: float = 0.35
    """Room echo of our own voice dies out within this after playback stops."""
    barge_in: bool = True
    """Act on "pause"/"stop" heard while our voice plays, when they are not words of its line."""
    min_pause_s: float = 0.3
    """A cue is said to the assistant after a pause: speech starting sooner than this after the
    couple's talk continues that talk (`Segment.talk_before_s`). Pauses between words inside a
    sentence are mostly shorter. Measured from the endpointer's speech start, which may lie up
    to 40 ms before the true onset."""
    min_talk_s: float = 0.12
    """Speech shorter than this (a breath, a click, a lip smack before speaking) neither starts
    nor extends a run of talk, so it cannot chain a cue said after a real pause onto the talk
    before it."""
    close_call_below: float = 0.0
    """A cue heard with a confidence below this is a close call: its segment stays open for
    `close_call_wait_s` more quiet, and speech resuming meanwhile joins it, so the phrase is
    judged again with the words that follow it. 0: no cue waits (benchmarks/README.md)."""
    close_call_wait_s: float = 0.1
    on_verdict: Callable[[Segment, Verdict], None] | None = None
    clock: Callable[[], float] = time.perf_counter
    """Wall clock that times the recognizer (tests pass a fake one)."""
    heard: list[Heard] = field(default_factory=list)
    _buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    _voice_spans: list[_VoiceSpan] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _announced: bool = False
    _early: _EarlyVerdict | None = None
    """The verdict on the latest tentative segment, used if that segment closes unchanged."""
    _listening: int = 0
    """Counts changes of the listening set, so a verdict from before a change is not used."""
    _talk: tuple[float, float] | None = None
    """The couple's latest run of talk: where its speech started and ended (pauses in it shorter
    than `min_pause_s`); None after our own voice."""

    @property
    def now_s(self) -> float:
        """Seconds of audio consumed so far."""
        return self.vad.frames_seen * FRAME / RATE

    def listen_for(self, cues: frozenset[str]) -> None:
        """Only these cues are acted on from now."""
        self._listening += 1
        self.spotter.listen_for(cues)

    def set_voice_playing(self, playing: bool, line: str = "") -> None:
        """Mark the stretch of the timeline where our own voice is in the room, and its words."""
        with self._lock:
            now = self.now_s
            open_span = self._voice_spans[-1] if self._voice_spans and self._voice_spans[-1].end_s == math.inf else None
            if playing:
                if open_span is None:
                    self._voice_spans.append(_VoiceSpan(now, math.inf, line))
                elif line:
                    open_span.line = f"{open_span.line} {line}"
            elif open_span is not None:
                open_span.end_s = now + self.echo_hangover_s
            # Spans that ended long ago cannot overlap a segment any more.
            self._voice_spans = [s for s in self._voice_spans if s.end_s > now - 10.0]

    def _own_line(self, segment: Segment) -> str | None:
        """The words our voice said while the segment's speech was heard; None if it was quiet.
        From the speech's onset, as `SpeechStarted` judges it, not the segment's start: its
        pre-roll may reach back into the echo hangover although the partner only began after it."""
        return self._voice_during(segment.speech_start_s, segment.end_s)

    def _voice_during(self, start_s: float, end_s: float) -> str | None:
        with self._lock:
            lines = [s.line for s in self._voice_spans if s.start_s < end_s and start_s < s.end_s]
        return " ".join(lines) if lines else None

    def feed(self, pcm: np.ndarray) -> None:
        """Consume samples (any length); events are posted as segments close."""
        data = np.concatenate([self._buffer, pcm.astype(np.int16, copy=False)])
        n = len(data) // FRAME * FRAME
        self._buffer = data[n:]
        for i in range(0, n, FRAME):
            segment = self.vad.process(data[i : i + FRAME])
            if self.vad.in_speech and not self._announced:
                self._announced = True
                if self._voice_during(self.vad.speech_start_s, math.inf) is None:
                    self.post(SpeechStarted())
            if self.vad.tentative is not None:
                self._judge_early(self.vad.tentative)
            if segment is not None:
                self._segment(segment)

    def finish(self) -> None:
        """End of stream: decide on a segment still open."""
        segment = self.vad.flush()
        if segment is not None:
            self._segment(segment)

    def _continues_talk(self, segment: Segment) -> bool:
        """Whether the segment starts without a pause after the couple's latest run of talk."""
        return self._talk is not None and segment.speech_start_s - self._talk[1] < self.min_pause_s

    def _follows_talk(self, segment: Segment) -> Segment:
        """The segment with the talk it follows without a pause (`Segment.talk_before_s`)."""
        if self._talk is None or not self._continues_talk(segment):
            return segment
        return dataclasses.replace(segment, talk_before_s=self._talk[1] - self._talk[0])

    def _note_talk(self, segment: Segment) -> None:
        """Extend or start the run of talk with a closed segment the couple said."""
        if segment.speech_seconds < self.min_talk_s:
            return  # too short to be talk
        if self._talk is not None and self._continues_talk(segment):
            self._talk = (self._talk[0], segment.speech_end_s)
        else:
            self._talk = (segment.speech_start_s, segment.speech_end_s)

    def _judge(self, segment: Segment, own_line: str | None) -> tuple[Verdict, float]:
        """The spotter's verdict and the wall-clock seconds it took."""
        started = self.clock()
        try:
            verdict = self.spotter.judge(segment, own_line)
        except RuntimeError:
            # One bad segment must not end listening: log it and treat it as no cue.
            _LOGGER.exception("the recognizer failed on a %.1f s segment", segment.speech_seconds)
            verdict = Verdict(None, "recognizer error")
        return verdict, self.clock() - started

    @staticmethod
    def _key(segment: Segment, listening: int) -> tuple[float, float, bool, int]:
        """Equal keys: the same audio judged for the same cues."""
        return (segment.start_s, segment.speech_end_s, segment.truncated, listening)

    def _judge_early(self, tentative: Segment) -> None:
        """Decide on a segment as it will close unless speech resumes: the recognizer's time then
        overlaps the rest of the hangover instead of following it. Wasted when speech resumes."""
        self._early = None
        own_line = self._own_line(tentative)
        if own_line is not None and not self.barge_in:
            return
        key = self._key(tentative, self._listening)  # before judging: the set may change meanwhile
        verdict, compute = self._judge(self._follows_talk(tentative), own_line)
        self._early = _EarlyVerdict(key, verdict, tentative.end_s + compute, compute)
        if verdict.detection is not None and verdict.detection.confidence < self.close_call_below:
            self.vad.wait_longer(round(self.close_call_wait_s * RATE / FRAME))

    def _segment(self, segment: Segment) -> None:
        self._announced = False
        early, self._early = self._early, None
        own_line = self._own_line(segment)
        ours = own_line is not None
        if not ours:
            self.post(SpeechStopped(seconds=round(segment.speech_seconds, 2)))
        else:
            self._talk = None  # our own voice's echo is not the couple's talk
        if ours and not self.barge_in:
            if self.on_verdict is not None:
                self.on_verdict(segment, Verdict(None, "own voice"))
            return
        # The run of talk changes only here, so an early verdict saw the same talk before it.
        judged = self._follows_talk(segment)
        if early is not None and early.key == self._key(segment, self._listening):
            verdict, ready_s, compute = early.verdict, early.ready_s, early.compute_s
        else:
            verdict, compute = self._judge(judged, own_line)
            ready_s = segment.end_s + compute
        if not ours:
            self._note_talk(segment)
        det = verdict.detection
        if det is not None and ours and det.cue not in BARGE_IN_CUES:
            verdict = Verdict(None, "own voice", verdict.phrase, verdict.confidence)
            det = None
        if self.on_verdict is not None:
            self.on_verdict(judged, verdict)
        if det is None:
            if not ours and verdict.near:
                self.post(CueUnclear())  # a phrase heard with too little confidence: say so, so nobody waits
            return
        self.heard.append(Heard(det, max(segment.end_s, ready_s), compute))
        self.post(CueHeard(det.cue, source="voice", phrase=det.phrase, confidence=det.confidence))
