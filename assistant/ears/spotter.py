"""The offline cue spotter: one PocketSphinx decoder, keyword spotting verified by a grammar."""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from assistant.ears.vad import FRAME, RATE, Segment
from assistant.ears.vocabulary import CUE_PHRASES, GARBAGE_WORDS, PHRASE_TO_CUE, normalise
from assistant.errors import DeviceError

_LOGGER = logging.getLogger(__name__)

FRAMES_PER_SECOND = RATE // FRAME


@dataclass(frozen=True)
class Detection:
    """A cue the spotter accepted in one speech segment."""

    cue: str
    phrase: str
    confidence: float
    """0..1; 0.5 is exactly at the phrase's threshold."""
    score: float
    """Keyword-vs-phone-loop log score from PocketSphinx (higher is better)."""
    end_s: float
    """Stream time where the phrase ended."""


@dataclass(frozen=True)
class Verdict:
    """What the spotter made of one segment, accepted or not (the benchmark reads the reasons)."""

    detection: Detection | None
    reason: str
    phrase: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class SpotterConfig:
    """The decision rule. Scores are PocketSphinx KWS log scores (base 1.0001)."""

    base_threshold: float = -1500.0
    """Threshold for a three-phone phrase; tuned on held-out speakers (see benchmarks/CUES_README.md)."""
    per_phone: float = -100.0
    """Each phone beyond three lowers the threshold: longer phrases collect more score mass but are
    far less confusable; two-phone words ("go", "no") get a stricter threshold."""
    max_speech_s: float = 1.8
    """A segment with more speech than this is conversation, not a cue."""
    max_lead_s: float = 0.6
    """Speech allowed before the phrase inside one segment ("uh, done")."""
    max_trail_s: float = 0.3
    """Speech allowed after the phrase: a cue must end the utterance, so "done with it" is no cue."""
    verifier: str = "both"
    """How a candidate is verified: "kws" (keyword-spotting score), "alignment" (forced
    alignment of the grammar's phrase against a free phone loop over the same frames) or
    "both" (each must pass: on real speech this halves false accepts and keeps more cues)."""
    align_threshold: float = -2.0
    """Alignment verifier: least per-frame log-likelihood ratio (phrase vs phone loop), in
    PocketSphinx score units; two-phone words must beat it by `short_word_margin`."""
    short_word_margin: float = 4.0
    phone_loop_probability: float = 0.1
    """Prior of the keyword spotter's competing phone loop (PocketSphinx `kws_plp`)."""
    garbage_words: bool = False
    """Put ordinary words beside the cues in the grammar (a word-level garbage model). Off:
    with ~250 words one 1 s clip took over 30 s of CPU, hopeless for a 250 ms decision."""
    garbage_weight: float = 1.0
    """JSGF weight of the garbage branch against the cue branch (1 = equal prior)."""
    require_grammar_agreement: bool = True
    """The grammar decode of the same segment must pick the same cue (cuts false accepts ~3x)."""
    target_peak: float = 16000.0
    """Segments are scaled to this peak before decoding, so quiet talkers look like near ones."""
    max_gain: float = 60.0
    dither: float = 4.0
    """RMS of the noise (in LSB, after gain) added before decoding."""


def _model_words(decoder: object, phrase: str) -> bool:
    lookup = decoder.lookup_word  # type: ignore[attr-defined]
    return all(lookup(w) is not None for w in phrase.split())


class SphinxCueSpotter:
    """Decides whether a speech segment is one of the cues being listened for.

    One `pocketsphinx.Decoder` is kept alive. Per listening set it holds a grammar of the valid
    phrases (which names the phrase a segment would be) and a keyword search of the same phrases
    (each against a phone loop); a free phone loop and forced alignment give a second likelihood
    ratio. A segment is a cue only when the grammar's phrase passes both ratios and stands apart.
    """

    def __init__(self, config: SpotterConfig | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise DeviceError("the speech recognizer is missing: install it with `pip install pocketsphinx`") from exc
        self.config = config or SpotterConfig()
        self._lock = threading.Lock()
        self._decoder = pocketsphinx.Decoder(lm=None, loglevel="FATAL", kws_plp=self.config.phone_loop_probability)
        self._logmath = self._decoder.get_logmath()
        # A free phone loop (uniform, no phone language model): the "anything else" path.
        self._decoder.add_allphone_file("_phones", None)
        self._searches: dict[frozenset[str], tuple[str, str, list[str]]] = {}
        self._phones: dict[str, int] = {}
        known = [p for p in PHRASE_TO_CUE if _model_words(self._decoder, p)]
        for phrase in set(PHRASE_TO_CUE) - set(known):
            _LOGGER.warning("cue phrase %r has a word the dictionary lacks; skipped", phrase)
        for phrase in known:
            self._phones[phrase] = sum(len(self._decoder.lookup_word(w).split()) for w in phrase.split())
        self._cues: frozenset[str] = frozenset()
        self.listen_for(frozenset(CUE_PHRASES))

    # ---- listening set ---------------------------------------------------------------------

    @property
    def cues(self) -> frozenset[str]:
        """The cues listened for now."""
        return self._cues

    def listen_for(self, cues: Iterable[str]) -> None:
        """Restrict decoding to these cues' phrases (searches are built once per set, then cached)."""
        wanted = frozenset(cues) & frozenset(CUE_PHRASES)
        unknown = frozenset(cues) - wanted
        if unknown:
            # A cue without phrases is keyboard-only; listening goes on for the rest.
            _LOGGER.info("no spoken phrases for cue(s) %s", ", ".join(sorted(unknown)))
        with self._lock:
            self._cues = wanted
            if wanted and wanted not in self._searches:
                self._searches[wanted] = self._build(wanted, len(self._searches))

    def _build(self, cues: frozenset[str], n: int) -> tuple[str, str, list[str]]:
        phrases = [p for c, ps in CUE_PHRASES.items() if c in cues for p in ps if p in self._phones]
        # A permissive KWS threshold: every candidate is reported with its score and the
        # decision (per-phrase threshold) is ours, so it can be tuned without re-decoding.
        fd, keyfile = tempfile.mkstemp(prefix="assistant-cues-", suffix=".kws")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for phrase in phrases:
                    f.write(f"{phrase} /1e-40/\n")
            kws_name, fsg_name = f"kws{n}", f"fsg{n}"
            self._decoder.add_kws(kws_name, keyfile)  # read now; the file is not needed later
        finally:
            os.unlink(keyfile)
        grammar = "#JSGF V1.0;\ngrammar cues;\n"
        garbage = self._garbage(phrases)
        if self.config.garbage_words and garbage:
            # Cue phrases compete with ordinary words: other speech matches those instead.
            w = self.config.garbage_weight
            grammar += f"public <top> = /1/ <cue> | /{w}/ <other>+;\n"
            grammar += "<other> = " + " | ".join(garbage) + ";\n"
            grammar += "<cue> = " + " | ".join(phrases) + ";\n"
        else:
            grammar += "public <cue> = " + " | ".join(phrases) + ";\n"
        self._decoder.add_jsgf_string(fsg_name, grammar)
        return kws_name, fsg_name, phrases

    def _garbage(self, phrases: list[str]) -> list[str]:
        """Competing words: the garbage list plus other cues' words, minus sound-alikes of ours."""
        lookup = self._decoder.lookup_word
        ours = {w for p in phrases for w in p.split()}
        our_sounds = {lookup(w) for w in ours}
        others = {w for p in PHRASE_TO_CUE for w in p.split()} - ours
        words = sorted(set(GARBAGE_WORDS) | others)
        return [w for w in words if w not in ours and lookup(w) is not None and lookup(w) not in our_sounds]

    # ---- decisions -------------------------------------------------------------------------

    def threshold(self, phrase: str) -> float:
        """Score a phrase must reach to be accepted."""
        cfg = self.config
        return cfg.base_threshold + cfg.per_phone * (self._phones.get(phrase, 3) - 3)

    def _reset(self) -> None:
        """Leave the decoder out of any half-finished utterance after a failed pass."""
        try:
            self._decoder.end_utt()
        except RuntimeError:
            pass  # there was no open utterance: nothing to close

    def _decode(self, search: str, pcm: bytes) -> None:
        self._decoder.activate_search(search)
        try:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
        except RuntimeError:
            self._reset()  # so the next segment starts clean
            raise

    def judge(self, segment: Segment) -> Verdict:
        """Decide on one segment; the verdict says why when it is not a cue."""
        cfg = self.config
        if segment.truncated or segment.speech_seconds > cfg.max_speech_s:
            return Verdict(None, "too long")
        with self._lock:
            if not self._cues:
                return Verdict(None, "not listening")
            kws_name, fsg_name, phrases = self._searches[self._cues]
            x = segment.pcm.astype(np.float64)
            peak = float(np.abs(x).max()) if len(x) else 0.0
            if peak <= 0.0:
                return Verdict(None, "silence")
            gain = min(cfg.target_peak / peak, cfg.max_gain)
            # A little fixed noise: digitally silent gaps (synthetic or gated audio) otherwise
            # give log-energy features of minus infinity and derail cepstral mean normalisation.
            dither = np.random.default_rng(len(x)).standard_normal(len(x)) * cfg.dither
            pcm = np.clip(x * gain + dither, -32768, 32767).astype(np.int16).tobytes()
            # The grammar names the best-matching phrase; it is forced to pick one, so it says
            # *which* cue it would be, never *whether*.
            self._decode(fsg_name, pcm)
            hyp = self._decoder.hyp()
            said = normalise(hyp.hypstr) if hyp is not None else ""
            cue = PHRASE_TO_CUE.get(said)
            if cue is None and cfg.require_grammar_agreement:
                return Verdict(None, "grammar heard nothing")
            if cfg.verifier == "alignment":
                return self._verify_by_alignment(segment, pcm, said, cue)
            # Keyword spotting says *whether*: each phrase's path against a free phone loop
            # over the same frames, a likelihood ratio per phrase.
            self._decode(kws_name, pcm)
            log = self._logmath.log
            hits = [
                (float(log(s.prob)), normalise(s.word), s.start_frame, s.end_frame) for s in (self._decoder.seg() or [])
            ]
        speech_a = round((segment.speech_start_s - segment.start_s) * FRAMES_PER_SECOND)
        speech_b = round((segment.speech_end_s - segment.start_s) * FRAMES_PER_SECOND)
        best: tuple[float, float, str, int] | None = None
        for score, phrase, a, b in hits:
            if phrase not in self._phones:
                continue
            if cfg.require_grammar_agreement and PHRASE_TO_CUE[phrase] != cue:
                continue
            # Stand-apart rule: the phrase must be (nearly) all the speech in the segment.
            if (speech_b - b) > cfg.max_trail_s * FRAMES_PER_SECOND:
                continue
            if (a - speech_a) > cfg.max_lead_s * FRAMES_PER_SECOND:
                continue
            margin = score - self.threshold(phrase)
            if best is None or margin > best[0]:
                best = (margin, score, phrase, b)
        if best is None:
            return Verdict(None, "no keyword match", said or None)
        margin, score, phrase, b = best
        cue = PHRASE_TO_CUE[phrase]
        if margin < 0:
            return Verdict(None, "below threshold", phrase, score)
        if cfg.verifier == "both" and said:
            # Second opinion only for what passed the first: silence and chatter stay cheap.
            with self._lock:
                second = self._verify_by_alignment(segment, pcm, said, cue)
            if second.detection is None:
                return second
        confidence = 1.0 / (1.0 + math.exp(-margin / 200.0))
        end_s = segment.start_s + (b + 1) / FRAMES_PER_SECOND
        return Verdict(Detection(cue, phrase, round(confidence, 3), score, end_s), "accepted", phrase, score)

    def _verify_by_alignment(self, segment: Segment, pcm: bytes, phrase: str, cue: str | None) -> Verdict:
        """Likelihood ratio of the grammar's phrase against a free phone loop, frame for frame."""
        cfg = self.config
        if cue is None:
            return Verdict(None, "grammar heard nothing")
        dec = self._decoder
        # Two passes: the first finds the words, the second the phone-level scores.
        try:
            dec.set_align_text(phrase)
            dec.start_utt()
            dec.process_raw(pcm, full_utt=True)
            dec.end_utt()
            dec.set_alignment()
            dec.start_utt()
            dec.process_raw(pcm, full_utt=True)
            dec.end_utt()
            alignment = dec.get_alignment()
        except RuntimeError:
            # The phrase cannot be forced onto this audio (too short, say): not this phrase.
            self._reset()
            return Verdict(None, "alignment failed", phrase)
        words = [w for w in (alignment or []) if not w.name.startswith(("<", "["))]
        if not words:
            return Verdict(None, "alignment failed", phrase)
        a = words[0].start
        b = words[-1].start + words[-1].duration  # exclusive
        phrase_score = float(sum(w.score for w in words))
        self._decode("_phones", pcm)
        log = self._logmath.log
        loop_score = 0.0
        for seg in dec.seg() or []:
            sa, sb = seg.start_frame, seg.end_frame + 1
            overlap = min(sb, b) - max(sa, a)
            if overlap > 0:
                loop_score += float(log(seg.ascore)) * overlap / (sb - sa)
        frames = max(b - a, 1)
        ratio = (phrase_score - loop_score) / frames
        speech_a = round((segment.speech_start_s - segment.start_s) * FRAMES_PER_SECOND)
        speech_b = round((segment.speech_end_s - segment.start_s) * FRAMES_PER_SECOND)
        if (speech_b - b) > cfg.max_trail_s * FRAMES_PER_SECOND or (a - speech_a) > cfg.max_lead_s * FRAMES_PER_SECOND:
            return Verdict(None, "not standing apart", phrase, ratio)
        threshold = cfg.align_threshold
        if self._phones.get(phrase, 3) <= 2:
            threshold += cfg.short_word_margin
        margin = ratio - threshold
        if margin < 0:
            return Verdict(None, "below threshold", phrase, ratio)
        confidence = 1.0 / (1.0 + math.exp(-margin / 2.0))
        end_s = segment.start_s + b / FRAMES_PER_SECOND
        det = Detection(cue, phrase, round(confidence, 3), ratio, end_s)
        return Verdict(det, "accepted", phrase, ratio)

    def close(self) -> None:
        """Nothing to release beyond the decoder, which Python frees; kept for symmetry."""
