"""The cue spotter: a speech segment, transcribed whole by Whisper, is a cue when the transcript is
one of the phrases listened for now (`vocabulary`), heard with enough confidence.

Only cue-length segments are transcribed, and the transcript stays inside `judge`: a verdict
carries the cue phrase it matched and nothing else of what was said.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.ears.vad import Segment
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE, expected_text, is_echo, match
from assistant.ears.whisper_recognizer import Transcript


@dataclass(frozen=True)
class Detection:
    """A cue the spotter accepted in one speech segment."""

    cue: str
    phrase: str
    confidence: float
    """0..1: how sure the decoder was of the phrase's own words (`phrase_confidence`)."""
    end_s: float
    """Stream time where the phrase ended."""


@dataclass(frozen=True)
class Verdict:
    """What the spotter made of one segment, accepted or not (the benchmark reads the reasons)."""

    detection: Detection | None
    reason: str
    phrase: str | None = None
    """The cue phrase the transcript matched, accepted or not; never other words."""
    confidence: float | None = None
    near: bool = False
    """A phrase listened for, heard with too little confidence: likely a cue said unclearly."""


class Recognizer(Protocol):
    """Speech to words: `WhisperRecognizer`, or a scripted one in tests."""

    def transcribe(self, samples: np.ndarray, before: str | None = None) -> Transcript: ...


class CueSpotter(Protocol):
    def listen_for(self, cues: Iterable[str]) -> None: ...
    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict: ...


@dataclass(frozen=True)
class SpotterConfig:
    """The decision rule (chosen with `benchmarks/cues.py` on real recordings)."""

    max_speech_s: float = 2.0
    """A segment with more speech than this is conversation, not a cue: never transcribed."""
    max_talk_before_s: float = 0.6
    """Talk allowed right before the segment, with no pause between (`Segment.talk_before_s`):
    a cue is said after a pause, not in the middle of a sentence."""
    accept_at: float = 0.45
    """Least confidence of an accepted cue (`phrase_confidence`). On the real clips of
    ../shared/speech any limit from 0.3 to 0.5 hears the same; 0.45 keeps eSpeak NG's garbled
    phrases out (benchmarks/README.md has the curve on 2,481 clips of new speakers)."""
    near_from: float = 0.25
    """A phrase heard with a confidence from here up to `accept_at` is reported as unclear."""
    max_no_speech: float = 0.9
    """Whisper's no-speech probability above which a transcript is taken for noise (told which
    phrases to expect, the decoder rarely gets this unsure)."""


def phrase_confidence(transcript: Transcript, phrase: str, cues: Iterable[str]) -> float:
    """How sure the decoder was of the phrase: its tokens' probabilities up to where the
    transcript first reads as the phrase. What a short input makes it add after that (the phrase
    again, cut off) says nothing of the phrase."""
    for text, tokens in transcript.prefixes():
        if match(text, cues) == phrase:
            return transcript.confidence(tokens)
    return transcript.confidence()


class WhisperCueSpotter:
    """Judges segments with a recognizer (Whisper tiny.en by default, loaded once)."""

    def __init__(self, config: SpotterConfig | None = None, recognizer: Recognizer | None = None) -> None:
        self.config = config or SpotterConfig()
        if recognizer is None:
            from assistant.ears.whisper_recognizer import WhisperRecognizer

            recognizer = WhisperRecognizer()
        self.recognizer = recognizer
        self._lock = threading.Lock()
        self.listen_for(CUE_PHRASES)

    @property
    def cues(self) -> frozenset[str]:
        return self._cues

    def listen_for(self, cues: Iterable[str]) -> None:
        """Accept only these cues' phrases from now on."""
        self._cues = frozenset(cues) & frozenset(CUE_PHRASES)
        self._expected = expected_text(self._cues)
        """What the recognizer is told to expect: the same for every segment until the cues change."""

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        """The verdict on one segment. `own_line`: what the assistant was saying while the segment
        was heard; a transcript made only of its words is the assistant's own voice."""
        config, cues, expected = self.config, self._cues, self._expected
        if segment.truncated or segment.speech_seconds > config.max_speech_s:
            return Verdict(None, "too long")  # conversation: never transcribed
        if segment.talk_before_s > config.max_talk_before_s:
            return Verdict(None, "follows talk")
        if not cues:
            return Verdict(None, "not listening")
        with self._lock:
            transcript = self.recognizer.transcribe(segment.pcm, expected)
        if not transcript.text or transcript.no_speech > config.max_no_speech:
            return Verdict(None, "no speech")
        if own_line is not None and is_echo(transcript.text, own_line):
            return Verdict(None, "own voice")
        phrase = match(transcript.text, cues)
        if phrase is None:
            other = match(transcript.text)
            return Verdict(None, "not listened for" if other else "not a cue", other)
        confidence = round(phrase_confidence(transcript, phrase, cues), 3)
        if confidence < config.accept_at:
            return Verdict(None, "below threshold", phrase, confidence, near=confidence >= config.near_from)
        detection = Detection(PHRASE_TO_CUE[phrase], phrase, confidence, segment.speech_end_s)
        return Verdict(detection, "cue", phrase, confidence)
