"""The listening pipeline without threads: audio in, VAD, spotter, events out, on the audio timeline."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.ears.spotter import RESCUABLE, CueSpotter, Detection, Verdict
from assistant.ears.vad import FRAME, RATE, EnergyVad, Segment, VadConfig
from assistant.ears.vocabulary import PHRASE_TO_CUE
from assistant.events import CueHeard, CueUnclear, Event, SpeechStarted, SpeechStopped, TakeHeard

_LOGGER = logging.getLogger(__name__)

BARGE_IN_CUES: frozenset[str] = frozenset({"pause", "stop"})
KEYS_TEACH_NOT: frozenset[str] = frozenset({"timeout", "stop"})
"""Cues a key never teaches (`CueListener.cue_keyed`): every take is a chance for talk to sound
like it, and a false "time out" costs a twenty-minute break, a false "stop" the session. The keys
stay the sure way to give them."""


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


@dataclass(frozen=True)
class _Miss:
    """The latest segment the model rejected although its grammar named a phrase: a key pressed
    for that phrase's cue straight after says what it was (`CueListener.cue_keyed`)."""

    phrase: str
    segment: Segment


@dataclass
class CueListener:
    """Feeds 16 kHz mono int16 audio through the endpointer and the spotter, posting events."""

    spotter: CueSpotter
    post: Callable[[Event], None]
    vad: EnergyVad = field(default_factory=lambda: EnergyVad(VadConfig()))
    echo_hangover_s: float = 0.35
    """Room echo of our own voice dies out within this after playback stops."""
    barge_in: bool = True
    """Act on "pause"/"stop" while our voice plays, where that can be told apart from our own
    voice: only once the microphone has been found not to hear the speaker (see `echo_free`)."""
    echo_onset_frames: int = 60
    """Frames (600 ms) after our voice starts in which the microphone's echo of it is judged: a
    partner rarely starts talking exactly then, so loud frames there are the speaker's echo."""
    max_echo_fraction: float = 0.2
    """Loud frames allowed in that window for the room to count as echo-free."""
    min_pause_s: float = 0.3
    """A cue is said to the assistant after a pause: speech starting sooner than this after the
    couple's talk continues that talk (`Segment.talk_before_s`). Pauses between words inside a
    sentence are mostly shorter; most false cues in real continuous speech came that soon after
    other words (benchmarks/HISTORY.md, "Larger tests"). The pause is measured from the
    endpointer's speech start, which may lie up to 40 ms before the true onset."""
    min_talk_s: float = 0.12
    """Speech shorter than this (a breath, a click, a lip smack before speaking) neither starts
    nor extends a run of talk, so it cannot chain a cue said after a real pause onto the talk
    before it (in-context test, README: 5 more of 399 cues heard after a 0.4 s pause, no more
    false cues in real talk)."""
    close_call_below: float = 0.66
    """A cue heard with a confidence below this is a close call: its segment stays open for
    `close_call_wait_s` more quiet, and speech resuming meanwhile joins it, so the phrase is
    judged again with the words that follow it, and a phrase inside a sentence rarely passes.
    Most false cues in real talk are close calls cut off by a breath (benchmarks/HISTORY.md,
    "Close calls wait a little longer"); about a quarter of real cues are too, and they are
    decided that much later. 0: no cue waits."""
    close_call_wait_s: float = 0.1
    learning: str | None = None
    """A cue whose next take the couple says is to be learned (`learn_next`), or None."""
    key_teaches_within_s: float = 10.0
    """A key pressed this soon after a missed phrase of its cue makes that phrase a take: time
    to see that nothing happened and reach for the keyboard. Anything said meanwhile replaces
    the miss, so a longer wait risks little."""
    max_keyed_takes: int = 2
    """Takes learned from keys, per phrase: one for each partner. Nearly all of the gain comes
    with the first (on the v0.02 speakers, 3 takes heard 4 more cues of 1,573 than 1), and each
    one more is one more chance for talk to sound like a take (benchmarks/HISTORY.md, "Learning
    from the keys")."""
    keyed_takes: dict[str, int] = field(default_factory=dict)
    """Takes learned from keys so far, by phrase (a benchmark hands one count to many listeners)."""
    on_verdict: Callable[[Segment, Verdict], None] | None = None
    clock: Callable[[], float] = time.perf_counter
    """Wall clock that times the recognizer (tests pass a fake one)."""
    heard: list[Heard] = field(default_factory=list)
    _buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    _voice_spans: list[list[float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _announced: bool = False
    _onset: list[int] = field(default_factory=list)
    """Frames heard, and loud ones, since our current line started (while within the window)."""
    _onset_fractions: deque[float] = field(default_factory=lambda: deque(maxlen=3))
    _early: _EarlyVerdict | None = None
    """The verdict on the latest tentative segment, used if that segment closes unchanged."""
    _listening: int = 0
    """Counts changes of the listening set, so a verdict from before a change is not used."""
    _talk: tuple[float, float] | None = None
    """The couple's latest run of talk: where its speech started and ended (pauses in it shorter
    than `min_pause_s`); None after our own voice."""
    _miss: _Miss | None = None
    """Held for `key_teaches_within_s` at most, in memory, then dropped with its audio."""
    _keyed: str | None = None
    """A cue given by key, to be learned from `_miss` on the listening thread."""

    @property
    def now_s(self) -> float:
        """Seconds of audio consumed so far."""
        return self.vad.frames_seen * FRAME / RATE

    def listen_for(self, cues: frozenset[str]) -> None:
        """Only these cues are acted on from now."""
        self._listening += 1
        self.spotter.listen_for(cues)

    def learn_next(self, cue: str | None) -> None:
        """Learn the next take of `cue` said to the ears (None: stop waiting for one). Each take
        heard is reported as `TakeHeard`; a take that is another cue is acted on instead."""
        self.learning = cue

    def cue_keyed(self, cue: str) -> None:
        """A partner gave `cue` by key. If the couple's latest segment was a phrase of that cue
        which the model rejected, it is learned as a take: the key says what the ears missed.
        Safe from any thread; the learning happens on the listening thread."""
        with self._lock:
            self._keyed = cue

    def _learn_from_key(self) -> None:
        """Learn the latest miss where a key named its cue; drop a miss held too long."""
        with self._lock:
            cue, self._keyed = self._keyed, None
        miss = self._miss
        if miss is None:
            return
        if self.now_s - miss.segment.end_s > self.key_teaches_within_s:
            self._miss = None
            return
        if cue is None:
            return
        self._miss = None
        learned_before = self.keyed_takes.get(miss.phrase, 0)
        if PHRASE_TO_CUE.get(miss.phrase) != cue or cue in KEYS_TEACH_NOT or learned_before >= self.max_keyed_takes:
            return
        if self._keep_take(miss.phrase, miss.segment):
            self.keyed_takes[miss.phrase] = learned_before + 1
            _LOGGER.debug("learned a take of cue %s from its key", cue)

    def set_voice_playing(self, playing: bool) -> None:
        """Mark the stretch of the timeline where our own voice is in the room."""
        with self._lock:
            now = self.now_s
            if playing:
                if not self._voice_spans or self._voice_spans[-1][1] != math.inf:
                    self._voice_spans.append([now, math.inf])
                    self._onset = [0, 0]
            elif self._voice_spans and self._voice_spans[-1][1] == math.inf:
                self._voice_spans[-1][1] = now + self.echo_hangover_s
            # Spans that ended long ago cannot overlap a segment any more.
            self._voice_spans = [s for s in self._voice_spans if s[1] > now - 10.0]

    @property
    def echo_free(self) -> bool:
        """True when the microphone barely heard the starts of our last lines (headphones, a far
        speaker or echo cancellation upstream): then speech during our voice is the couple's,
        and "pause" or "stop" in it may cut the voice off. Unknown until one line has started."""
        fractions = list(self._onset_fractions)
        return bool(fractions) and max(fractions) < self.max_echo_fraction

    def _note_echo(self, voiced: bool) -> None:
        """Count one frame of the start of our current line."""
        if not self._onset or self._onset[0] >= self.echo_onset_frames:
            return
        self._onset[0] += 1
        self._onset[1] += voiced
        if self._onset[0] == self.echo_onset_frames:
            self._onset_fractions.append(self._onset[1] / self.echo_onset_frames)

    def _is_ours(self, segment: Segment) -> bool:
        """Whether the segment's speech overlaps our own voice (or its echo). From the speech's
        onset, as `SpeechStarted` judges it, not the segment's start: its pre-roll may reach back
        into the echo hangover although the partner only began after it, as anyone answering a
        prompt straight away does."""
        return self._voice_overlaps(segment.speech_start_s, segment.end_s)

    def _voice_overlaps(self, start_s: float, end_s: float) -> bool:
        with self._lock:
            return any(a < end_s and start_s < b for a, b in self._voice_spans)

    def feed(self, pcm: np.ndarray) -> None:
        """Consume samples (any length); events are posted as segments close."""
        self._learn_from_key()
        data = np.concatenate([self._buffer, pcm.astype(np.int16, copy=False)])
        n = len(data) // FRAME * FRAME
        self._buffer = data[n:]
        for i in range(0, n, FRAME):
            segment = self.vad.process(data[i : i + FRAME])
            with self._lock:
                if self._voice_spans and self._voice_spans[-1][1] == math.inf:  # our voice plays now
                    self._note_echo(self.vad.last_voiced)
            if self.vad.in_speech and not self._announced:
                self._announced = True
                if not self._voice_overlaps(self.vad.speech_start_s, math.inf):
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

    def _may_act_on(self, ours: bool) -> bool:
        """Speech overlapping our own voice (`ours`) is only acted on where barge-in can tell it apart."""
        return not ours or (self.barge_in and self.echo_free)

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

    def _keep_take(self, phrase: str, segment: Segment) -> bool:
        """Have the spotter learn a take; a recognizer that fails here must not end listening."""
        try:
            return self.spotter.learn(phrase, segment)
        except RuntimeError:
            _LOGGER.exception("the recognizer could not learn a take")
            return False

    def _judge(self, segment: Segment) -> tuple[Verdict, float]:
        """The spotter's verdict and the wall-clock seconds it took."""
        started = self.clock()
        try:
            verdict = self.spotter.judge(segment)
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
        if self._may_act_on(self._is_ours(tentative)):
            key = self._key(tentative, self._listening)  # before judging: the set may change meanwhile
            verdict, compute = self._judge(self._follows_talk(tentative))
            self._early = _EarlyVerdict(key, verdict, tentative.end_s + compute, compute)
            if verdict.detection is not None and verdict.detection.confidence < self.close_call_below:
                self.vad.wait_longer(round(self.close_call_wait_s * RATE / FRAME))

    def _segment(self, segment: Segment) -> None:
        self._announced = False
        early, self._early = self._early, None
        ours = self._is_ours(segment)
        if not ours:
            self.post(SpeechStopped(seconds=round(segment.speech_seconds, 2)))
        if not self._may_act_on(ours):
            self._talk = None  # our own voice's echo is not the couple's talk (defensive:
            # the echo hangover already keeps answers well apart from earlier talk)
            if self.on_verdict is not None:
                self.on_verdict(segment, Verdict(None, "own voice"))
            return
        # The run of talk changes only here, so an early verdict saw the same talk before it.
        judged = self._follows_talk(segment)
        if early is not None and early.key == self._key(segment, self._listening):
            verdict, ready_s, compute = early.verdict, early.ready_s, early.compute_s
        else:
            verdict, compute = self._judge(judged)
            ready_s = segment.end_s + compute
        self._note_talk(segment)
        det = verdict.detection
        if det is not None and ours and det.cue not in BARGE_IN_CUES:
            verdict = Verdict(None, "own voice", verdict.phrase, verdict.score)
            det = None
        if self.on_verdict is not None:
            self.on_verdict(judged, verdict)
        if self.learning is not None and not ours and self._learn(segment, verdict):
            self._miss = None  # a take asked for is learned there or not at all, never from a key
            return
        self._note_miss(segment, verdict, ours)
        if det is None:
            if not ours and verdict.near:
                self.post(CueUnclear())  # a phrase scored just too low: say so, so nobody waits
            return
        self.heard.append(Heard(det, max(segment.end_s, ready_s), compute))
        self.post(CueHeard(det.cue, source="voice", phrase=det.phrase, confidence=det.confidence))

    def _note_miss(self, segment: Segment, verdict: Verdict, ours: bool) -> None:
        """Keep the segment if a key may yet say it was the phrase the grammar named. Any other
        segment of the couple's replaces it: a key then answers that, not the miss."""
        if segment.speech_seconds < self.min_talk_s:
            return  # a breath between the miss and the key changes nothing
        missed = not ours and verdict.detection is None and verdict.reason in RESCUABLE
        self._miss = _Miss(verdict.phrase, segment) if missed and verdict.phrase else None

    def _learn(self, segment: Segment, verdict: Verdict) -> bool:
        """Learn a take of the awaited cue from this segment; False to act on it as usual (it was
        another cue, or a breath too short to be a take)."""
        det = verdict.detection
        if segment.speech_seconds < self.min_talk_s or (det is not None and det.cue != self.learning):
            return False
        phrase = verdict.phrase or ""
        # The grammar named one of the cue's phrases, and the phrase was all that was said.
        learnable = PHRASE_TO_CUE.get(phrase) == self.learning and (det is not None or verdict.reason in RESCUABLE)
        learned = learnable and self._keep_take(phrase, segment)
        if learned:
            self.learning = None
        self.post(TakeHeard(learned=learned))
        return True
