"""Energy voice-activity detection with an adaptive noise floor, in 10 ms frames."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

RATE = 16000
FRAME = 160
"""Samples per VAD frame (10 ms at 16 kHz), the same frame rate as the recognizer."""


def frame_db(frame: np.ndarray) -> float:
    """Level of one frame in dB relative to 1 LSB RMS (so digital silence is about 0 dB)."""
    x = frame.astype(np.float64)
    x = x - x.mean()  # DC offsets of cheap microphones would otherwise look like speech
    return 10.0 * math.log10(float(np.dot(x, x)) / max(len(x), 1) + 1.0)


def frame_levels(samples: np.ndarray) -> np.ndarray:
    """`frame_db` of each whole 10 ms frame, all at once."""
    n = len(samples) // FRAME
    frames = samples[: n * FRAME].astype(np.float64).reshape(n, FRAME)
    frames -= frames.mean(axis=1, keepdims=True)
    return 10.0 * np.log10((frames * frames).mean(axis=1) + 1.0)


@dataclass
class VadConfig:
    """Thresholds of the endpointer; levels in dB above the noise floor."""

    on_db: float = 11.0
    """A frame this far above the floor counts as voiced."""
    off_db: float = 7.0
    """Speech continues while frames stay this far above the floor."""
    min_level_db: float = 22.0
    """Absolute floor of the voiced threshold (about RMS 12 of 32768): dithering never triggers."""
    onset_frames: int = 3
    """Voiced frames needed (within the last `onset_frames + 2`) to start a segment."""
    release_db: float = 30.0
    """Inside speech a frame also has to come within this much of the segment's peak to
    continue it, so a word's fading end ("yes"'s "s") or a loud talker's reverberant tail does
    not hold the segment open: the rule `benchmarks/cues.py` uses for where a spoken word ends.
    At 30 dB instead of 35 the answer to a cue came 15 ms sooner (median) and its p95 fell from
    315 to 207 ms; V002TEST's cues 1,511 (was 1,510), other words taken for cues 43 (was 39: a
    few lose a weak final consonant, "left" heard as "yes"); ../shared 19/20 (was 18); false
    floor cues in real talk 2 (was 3). benchmarks/HISTORY.md has the runs."""
    hangover_frames: int = 10
    """Quiet frames that end a segment: 100 ms bridges stop closures and most gaps between words."""
    tail_frames: int = 3
    """Quiet kept in a segment's audio after its last voiced frame. Once this much quiet has
    passed, the segment as it would close is offered as `tentative`, so the recognizer can decide
    while the rest of the hangover confirms the end (the decision then costs no extra wait). 30 ms
    leaves the recognizer's ~60 ms inside the 100 ms hangover; on V002TEST it hears as many cues as
    50 ms did, but loses a "stop" whose "p" comes after a long closure (benchmarks/HISTORY.md)."""
    preroll_frames: int = 25
    """Audio kept before the onset, so weak initial consonants reach the decoder."""
    max_frames: int = 600
    """Segments are cut here (6 s); anything this long is conversation, not a cue."""


@dataclass
class Segment:
    """A stretch of speech found by the endpointer."""

    pcm: np.ndarray
    """int16 samples: pre-roll, speech and `tail_frames` of the quiet after it."""
    start_s: float
    """Stream time of the first sample of `pcm`."""
    speech_start_s: float
    speech_end_s: float
    """Stream time where the last voiced frame ended."""
    end_s: float
    """Stream time at which the segment was closed (or, for a tentative one, would close now)."""
    truncated: bool = False
    """The segment hit `max_frames` and was cut: it is long speech, not a cue."""
    talk_before_s: float = 0.0
    """Span (first speech start to last speech end) of the couple's run of talk this segment
    follows with no real pause between; 0 after a pause. Set by the listener, which knows which
    speech was our own voice: a phrase here continues that talk."""

    @property
    def speech_seconds(self) -> float:
        """Seconds from the first to the last voiced frame."""
        return self.speech_end_s - self.speech_start_s


@dataclass
class EnergyVad:
    """Streaming endpointer: feed int16 frames of `FRAME` samples; it returns closed segments."""

    config: VadConfig = field(default_factory=VadConfig)
    floor_db: float | None = None
    """Current noise-floor estimate; None until the first frames arrive (or calibration sets it)."""
    frames_seen: int = 0
    in_speech: bool = False
    last_voiced: bool = False
    """Whether the latest frame was loud enough to count as voiced."""
    tentative: Segment | None = None
    """Set by the frame after which `tail_frames` of quiet have passed inside speech: the open
    segment as it will close unless speech resumes (the same audio, start and speech end)."""
    _history: list[np.ndarray] = field(default_factory=list)
    _levels: list[float] = field(default_factory=list)
    _seg_frames: list[np.ndarray] = field(default_factory=list)
    _seg_start: int = 0
    _speech_start: int = 0
    _last_voiced: int = 0
    _peak_db: float = 0.0
    _extra_hangover: int = 0
    """Quiet frames the open segment waits beyond the hangover (`wait_longer`)."""

    @property
    def speech_start_s(self) -> float:
        """Stream time where the open segment's speech started (meaningful while `in_speech`)."""
        return self._speech_start * FRAME / RATE

    def wait_longer(self, frames: int) -> None:
        """Keep the open segment open for `frames` more quiet frames than the hangover, so
        speech that resumes in them joins it instead of starting a segment of its own. The wait
        is for the current quiet only: it ends when speech resumes."""
        self._extra_hangover = max(self._extra_hangover, frames)

    def calibrate(self, floor_db: float) -> None:
        """Start from a measured room-noise level instead of learning it from the stream."""
        self.floor_db = floor_db

    def threshold_db(self) -> float:
        """The level a frame must exceed to count as voiced now."""
        floor = self.floor_db if self.floor_db is not None else 0.0
        return max(floor + self.config.on_db, self.config.min_level_db)

    def _update_floor(self, level: float) -> None:
        # Fall fast, rise slowly (about 3 dB per second) so speech does not lift the floor,
        # yet a louder room (fan switched on) is learnt within seconds.
        if self.floor_db is None:
            self.floor_db = level
        elif level < self.floor_db:
            self.floor_db += 0.3 * (level - self.floor_db)
        elif not self.in_speech:
            self.floor_db += min(0.03, 0.05 * (level - self.floor_db))

    def process(self, frame: np.ndarray) -> Segment | None:
        """Take one frame; return a segment when one has just closed."""
        cfg = self.config
        index = self.frames_seen
        self.frames_seen += 1
        self.tentative = None
        level = frame_db(frame)
        self._update_floor(level)
        floor = self.floor_db if self.floor_db is not None else level
        voiced = level > max(floor + cfg.on_db, cfg.min_level_db)
        self.last_voiced = voiced
        still = level > max(floor + cfg.off_db, cfg.min_level_db - 4.0)
        self._levels.append(level)
        if not self.in_speech:
            self._history.append(frame)
            if len(self._history) > cfg.preroll_frames:
                del self._history[0]
            del self._levels[: -(cfg.onset_frames + 2)]
            recent = self._levels[-(cfg.onset_frames + 2) :]
            n_voiced = sum(1 for lv in recent if lv > max(floor + cfg.on_db, cfg.min_level_db))
            if voiced and n_voiced >= cfg.onset_frames:
                self.in_speech = True
                self._seg_frames = list(self._history)
                self._seg_start = index + 1 - len(self._seg_frames)
                self._speech_start = index - len(recent) + 1
                self._last_voiced = index
                self._peak_db = level
                self._history = []
            return None
        self._seg_frames.append(frame)
        self._peak_db = max(self._peak_db, level)
        if still and level > self._peak_db - cfg.release_db:
            self._last_voiced = index
            # Speech resumed: a wait asked for the quiet before it is spent, and the joined
            # segment's own end is judged afresh (`wait_longer` again where it is still unsure).
            self._extra_hangover = 0
        quiet_for = index - self._last_voiced
        too_long = len(self._seg_frames) >= cfg.max_frames
        hangover = cfg.hangover_frames + self._extra_hangover
        if quiet_for >= hangover or too_long:
            return self._close(index, truncated=too_long and quiet_for < hangover)
        if quiet_for == min(cfg.tail_frames, cfg.hangover_frames - 1):
            self.tentative = self._segment(index, truncated=False)
        return None

    def _segment(self, index: int, truncated: bool) -> Segment:
        """The open segment, closed at frame `index`."""
        keep = self._last_voiced + 1 + self.config.tail_frames - self._seg_start
        frames = self._seg_frames[:keep]
        pcm = np.concatenate(frames) if frames else np.zeros(0, np.int16)
        return Segment(
            pcm=pcm,
            start_s=self._seg_start * FRAME / RATE,
            speech_start_s=self._speech_start * FRAME / RATE,
            speech_end_s=(self._last_voiced + 1) * FRAME / RATE,
            end_s=(index + 1) * FRAME / RATE,
            truncated=truncated,
        )

    def _close(self, index: int, truncated: bool) -> Segment:
        seg = self._segment(index, truncated)
        self.in_speech = False
        self._extra_hangover = 0
        self._seg_frames = []
        self._levels = []
        self._history = []
        return seg

    def flush(self) -> Segment | None:
        """End of stream: close a segment that is still open."""
        if self.in_speech:
            return self._close(self.frames_seen - 1, truncated=False)
        return None


def segments(samples: np.ndarray, vad: EnergyVad | None = None) -> Iterator[Segment]:
    """The segments an endpointer closes in a stretch of 16 kHz int16 audio, in order."""
    vad = vad or EnergyVad()
    for i in range(0, len(samples) - FRAME + 1, FRAME):
        closed = vad.process(samples[i : i + FRAME])
        if closed is not None:
            yield closed
