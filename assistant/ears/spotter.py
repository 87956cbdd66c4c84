"""The offline cue spotter: keyword spotting verified by a grammar and a free phone loop, on
two PocketSphinx decoders, and the partners' own takes of a cue for what the general model misses."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.ears.aligner import Aligner, PhoneAligner
from assistant.ears.decoder import decode, make_decoder, set_noise_removal
from assistant.ears.templates import VoiceTemplates
from assistant.ears.vad import FRAME, RATE, Segment, level_spread_db
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE, RIVAL_WORDS, grammar_words, normalise

_LOGGER = logging.getLogger(__name__)

FRAMES_PER_SECOND = RATE // FRAME

RESCUABLE = frozenset({"below threshold", "no keyword match", "alignment failed"})
"""Rejections a partner's own take of the phrase may overturn: the grammar named the phrase, and
the segment is short and does not follow talk. Never "not standing apart" ("done with it")."""
LIKE_THE_TAKE = "like the learned take"
"""The reason of a verdict a learned take made a cue."""
ADAPTATION_DIR = Path(__file__).with_name("adaptation")
"""The shipped adaptation of the acoustic model (`benchmarks/adapt_model.py` made it)."""


@dataclass(frozen=True)
class Detection:
    """A cue the spotter accepted in one speech segment."""

    cue: str
    phrase: str
    confidence: float
    """0..1; 0.5 is exactly at the phrase's threshold."""
    score: float
    """The verifier's score (higher is better): the weighed sum, the keyword-vs-phone-loop log
    score or the alignment ratio (by `SpotterConfig.verifier`), or minus a learned take's distance."""
    end_s: float
    """Stream time where the phrase ended."""


@dataclass(frozen=True)
class Evidence:
    """What the weighed verifier measured of the grammar's phrase in one segment."""

    keyword_margin: float | None
    """The keyword score above the phrase's threshold, in `SpotterConfig.margin_unit`s; None
    where the keyword search reported no hit that stands apart (`no_keyword_margin` is used)."""
    weakest_phone: float | None
    """The least per-frame likelihood ratio of one of the phrase's phones against the free phone
    loop over the same frames; None where alignment was not needed or failed."""


@dataclass(frozen=True)
class Verdict:
    """What the spotter made of one segment, accepted or not (the benchmark reads the reasons)."""

    detection: Detection | None
    reason: str
    phrase: str | None = None
    score: float | None = None
    """The verifier's score where it got one (as `Detection.score`)."""
    evidence: Evidence | None = None
    """The weighed verifier's measurements, where it got that far (`benchmarks/fit_verifier.py`)."""
    near: bool = False
    """Rejected, but only just below a threshold: likely a cue said unclearly (see `near_weighed`)."""
    take_distance: float | None = None
    """Distance to the nearest learned take of the phrase, where the model's rejection was
    compared with one (`SpotterConfig.template_distance`)."""


@dataclass(frozen=True)
class SpotterConfig:
    """The decision rule. Scores are PocketSphinx KWS log scores (base 1.0001)."""

    base_threshold: float = -1550.0
    """Keyword-score threshold for a three-phone phrase (tuned with `benchmarks/cues.py --compare`)."""
    per_phone: float = -150.0
    """Each phone beyond three lowers the threshold: longer phrases collect more score mass but are
    far less confusable; two-phone words ("go", "no") get a stricter threshold."""
    kws_tail_s: float = 0.15
    """Quiet appended to a segment before keyword spotting: PocketSphinx reports a keyword only
    `kws_delay` (10) frames after it ends, so a phrase ending at the segment's end was never reported."""
    max_speech_s: float = 1.8
    """A segment with more speech than this is conversation, not a cue."""
    max_lead_s: float = 0.6
    """Speech allowed before the phrase ("uh, done"): inside its segment, plus the talk the
    segment follows without a pause (`Segment.talk_before_s`)."""
    max_trail_s: float = 0.3
    """Speech allowed after the phrase: a cue must end the utterance, so "done with it" is no cue."""
    verifier: str = "weighed"
    """How the grammar's phrase is verified: "kws" (its keyword-spotting score), "alignment"
    (forced alignment of the phrase against a free phone loop over the same frames), "both"
    (each must pass its own threshold: the rule until 2026-12-02) or "weighed" (the keyword
    margin and the weakest phone's ratio added with weights fitted on real clips: on 111
    speakers it was not fitted on it heard 456 of 726 cues instead of 439 with "both", and took
    22 of 1,251 other words for cues instead of 33; benchmarks/HISTORY.md, "Weighing the
    evidence")."""
    margin_unit: float = 200.0
    """Keyword-score units per unit of `Evidence.keyword_margin`."""
    weakest_phone_weight: float = 0.051
    no_keyword_margin: float = 0.0
    accept_at: float = 0.07
    """The weighed verifier accepts when keyword_margin + weakest_phone_weight * weakest_phone
    reaches this. The weight and the margin given to a phrase the keyword search lost are a
    logistic regression's, fitted on the 124 adapted speakers' clips of the Speech Commands v0.02
    test set; the threshold let 1.5% of their other words through (`benchmarks/fit_verifier.py`).
    A phrase the keyword search lost is then judged by its phones: often a real cue that the
    search's beam pruned."""
    weighed_logit_scale: float = 0.95
    """The regression's weight of the keyword margin: confidence = logistic(scale * (sum - accept_at))."""
    weakest_phone_cap: float = 17.0
    """No phone's ratio was above 13.6 on those clips (17 leaves room), so a keyword margin too
    low for even such a phone to lift is rejected without waiting for the alignment (which the
    phone side has started anyway, beside the keyword search: see `aligner.py`)."""
    align_threshold: float = -2.0
    """Alignment verifier: least per-frame log-likelihood ratio (phrase vs phone loop), in
    PocketSphinx score units; two-phone words must beat it by `short_word_margin`."""
    short_word_margin: float = 2.0
    alignment_alone_min_phones: int = 5
    """A phrase this long that the keyword search reports no hit for is judged by alignment alone..."""
    alignment_alone_margin: float = 3.0
    """...and must then beat the alignment threshold by this much."""
    near_kws: float = 150.0
    near_alignment: float = 1.0
    near_weighed: float = 0.75
    """A rejection by less than these (keyword score, alignment ratio, weighed sum) is a near miss:
    on the real clips, half the missed cues and a tenth of other short words while a state awaits
    an answer (for the first two; the third is the first in margin units)."""
    phone_loop_probability: float = 0.1
    """Prior of the keyword spotter's competing phone loop (PocketSphinx `kws_plp`)."""
    noise_removal_below_db: float = 33.0
    """PocketSphinx's spectral noise subtraction is used only for segments whose speech stands less
    than this far above their quiet (`level_spread_db`): it rescues words in a noisy room, but in
    a quiet one it ate into soft words (on real clips never tuned on, 62% -> 75% of cues heard
    with it off there; see README). 0 never uses it, infinity always does."""
    target_peak: float = 16000.0
    """Segments are scaled to this peak before decoding, so quiet talkers look like near ones."""
    max_gain: float = 60.0
    dither: float = 4.0
    """RMS of the noise (in LSB, after gain) added before decoding."""
    mllr: Path | None = ADAPTATION_DIR / "mllr_matrix"
    """An MLLR transform of the acoustic model's means, applied as the decoder loads: fitted on
    half the speakers of the Speech Commands v0.02 test set (crowd-recorded laptop and phone
    microphones), it heard 4.5 more of 100 cues of the other half, with fewer false accepts
    (benchmarks/HISTORY.md, "Adapting the acoustic model"). None decodes with the model as
    shipped."""
    template_distance: float = 8.75
    """A rejected segment whose grammar phrase has a partner's own take (`learn`) is that phrase
    after all when its distance to the take (`templates.dtw_distance`) is below this. Tuned on
    half the v0.02 test speakers for at most one more false accept in 1,000 of their other words;
    on the other half it heard 11.4 more of 100 later takes of a learned word
    (benchmarks/HISTORY.md, "Learning each partner's ...")."""

    def weighed_sum(self, keyword_margin: float | None, weakest_phone: float) -> float:
        """The weighed verifier's evidence added up (`accept_at` or more is a cue)."""
        margin = self.no_keyword_margin if keyword_margin is None else keyword_margin
        return margin + self.weakest_phone_weight * weakest_phone

    def may_pass(self, keyword_margin: float | None) -> bool:
        """Whether any phone ratio seen on real clips could lift this margin to `accept_at`."""
        return self.weighed_sum(keyword_margin, self.weakest_phone_cap) >= self.accept_at


class CueSpotter(Protocol):
    """What the listener needs of a spotter (`SphinxCueSpotter`, or `SpotterProcess` around one)."""

    def listen_for(self, cues: Iterable[str]) -> None: ...

    def judge(self, segment: Segment) -> Verdict: ...

    def learn(self, phrase: str, segment: Segment) -> bool: ...


def _model_words(decoder: object, phrase: str) -> bool:
    lookup = decoder.lookup_word  # type: ignore[attr-defined]
    return all(lookup(w) is not None for w in phrase.split())


class SphinxCueSpotter:
    """Decides whether a speech segment is one of the cues being listened for.

    Two `pocketsphinx.Decoder`s are kept alive. The first holds, per listening set, a grammar of
    the valid phrases and the common words they sound like (which names the phrase a segment
    would be) and a keyword search of each phrase (against a phone loop). The second, the phone
    side (`aligner.PhoneAligner`, or the process `worker.py` runs it in), decodes a free phone
    loop and forces the grammar's phrase onto the same frames: a second likelihood ratio. A
    segment is a cue only when the grammar's phrase passes the verifier and stands apart.
    """

    def __init__(self, config: SpotterConfig | None = None, aligner: Aligner | None = None) -> None:
        self.config = config or SpotterConfig()
        self._lock = threading.Lock()
        self._decoder = make_decoder(self.config.mllr, self.config.phone_loop_probability)
        self._logmath = self._decoder.get_logmath()
        self._aligner = aligner or PhoneAligner(make_decoder(self.config.mllr, self.config.phone_loop_probability))
        """The phone side: given, it may run elsewhere (`worker.py`); else on a decoder of ours."""
        self._grammars: dict[frozenset[str], str] = {}
        self._choices: dict[tuple[str, ...], str] = {}
        """Grammars of `forced_choice`, by their words (a benchmark's, never the session's)."""
        self._phones: dict[str, int] = {}
        self._keyword_searches: dict[str, str] = {}
        known = [p for p in PHRASE_TO_CUE if _model_words(self._decoder, p)]
        for phrase in set(PHRASE_TO_CUE) - set(known):
            _LOGGER.warning("cue phrase %r has a word the dictionary lacks; skipped", phrase)
        for n, phrase in enumerate(known):
            self._phones[phrase] = sum(len(self._decoder.lookup_word(w).split()) for w in phrase.split())
            # One keyword search per phrase, so a phrase's score is never hidden by an
            # overlapping hit of a shorter one ("done" inside "I'm done").
            self._keyword_searches[phrase] = f"kws{n}"
            self._decoder.add_keyphrase(f"kws{n}", phrase)
        self._cues: frozenset[str] = frozenset()
        self.listen_for(frozenset(CUE_PHRASES))
        self.templates = VoiceTemplates()
        """The partners' own takes, for this session only (see `learn`)."""

    # ---- listening set ---------------------------------------------------------------------

    @property
    def cues(self) -> frozenset[str]:
        """The cues listened for now."""
        return self._cues

    def listen_for(self, cues: Iterable[str]) -> None:
        """Restrict decoding to these cues' phrases (a grammar is built once per set, then cached)."""
        wanted = frozenset(cues) & frozenset(CUE_PHRASES)
        unknown = frozenset(cues) - wanted
        if unknown:
            # A cue without phrases is keyboard-only; listening goes on for the rest.
            _LOGGER.info("no spoken phrases for cue(s) %s", ", ".join(sorted(unknown)))
        with self._lock:
            self._cues = wanted
            if wanted and wanted not in self._grammars:
                words = [w for w in grammar_words(wanted) if w in self._phones or w in RIVAL_WORDS]
                self._grammars[wanted] = self._add_grammar([w for w in words if _model_words(self._decoder, w)])

    def _add_grammar(self, phrases: list[str]) -> str:
        """A grammar that must pick one of `phrases`, added to the decoder; returns its name."""
        name = f"fsg{len(self._grammars) + len(self._choices)}"
        self._decoder.add_jsgf_string(name, "#JSGF V1.0;\ngrammar cues;\npublic <cue> = " + " | ".join(phrases) + ";\n")
        return name

    # ---- decisions -------------------------------------------------------------------------

    def threshold(self, phrase: str) -> float:
        """Score a phrase must reach to be accepted."""
        cfg = self.config
        return cfg.base_threshold + cfg.per_phone * (self._phones.get(phrase, 3) - 3)

    @property
    def removes_noise(self) -> bool:
        """Whether the latest segment was decoded with spectral noise subtraction."""
        return bool(self._decoder.config["remove_noise"])

    def learn(self, phrase: str, segment: Segment) -> bool:
        """Keep a partner's take of a cue phrase (in memory): a later segment the model rejects
        but its grammar names as this phrase is accepted when it sounds like the take. False when
        the segment holds too little sound to learn from."""
        with self._lock:
            return self.templates.add(phrase, segment.pcm)

    def keep_take(self, phrase: str, features: np.ndarray | None) -> bool:
        """Keep a take already turned into features (`templates.mfcc`); False for None."""
        with self._lock:
            return self.templates.add_features(phrase, features)

    def judge(self, segment: Segment) -> Verdict:
        """Decide on one segment; the verdict says why when it is not a cue."""
        verdict = self._judge_by_model(segment)
        if verdict.detection is None and verdict.reason in RESCUABLE and verdict.phrase in self.templates:
            return self._judge_by_take(segment, verdict)
        return verdict

    def _judge_by_take(self, segment: Segment, rejected: Verdict) -> Verdict:
        """The model's rejection, overturned when the segment sounds like a partner's own take."""
        assert rejected.phrase is not None
        with self._lock:
            distance = self.templates.distance(rejected.phrase, segment.pcm)
        if distance is None:
            return rejected
        margin = self.config.template_distance - distance
        if margin <= 0:
            return dataclasses.replace(rejected, take_distance=distance)  # the model's reason stands
        cue = PHRASE_TO_CUE[rejected.phrase]
        confidence = round(1.0 / (1.0 + math.exp(-margin)), 3)
        det = Detection(cue, rejected.phrase, confidence, -distance, segment.speech_end_s)
        return Verdict(det, LIKE_THE_TAKE, rejected.phrase, -distance, take_distance=distance)

    def _judge_by_model(self, segment: Segment) -> Verdict:
        """The general acoustic model's decision."""
        cfg = self.config
        if segment.truncated or segment.speech_seconds > cfg.max_speech_s:
            return Verdict(None, "too long")
        if segment.talk_before_s > cfg.max_lead_s:
            return Verdict(None, "follows talk")  # the stand-apart rule could never pass: skip decoding
        with self._lock:
            if not self._cues:
                return Verdict(None, "not listening")
            pcm = self._prepare(segment.pcm)
            if pcm is None:
                return Verdict(None, "silence")
            remove_noise = level_spread_db(segment.pcm) < cfg.noise_removal_below_db
            set_noise_removal(self._decoder, remove_noise)
            # The phone side needs no phrase: it starts on the segment now (in the session, on
            # the other core while the grammar below decodes).
            self._aligner.begin(pcm, remove_noise)
            # The grammar names the best-matching phrase; it is forced to pick one, so it says
            # *which* cue it would be, never *whether*.
            decode(self._decoder, self._grammars[self._cues], pcm)
            hyp = self._decoder.hyp()
            phrase = normalise(hyp.hypstr) if hyp is not None else ""
            cue = PHRASE_TO_CUE.get(phrase)
            if phrase in RIVAL_WORDS:
                return Verdict(None, "sounds like another word", phrase)
            if cue is None or phrase not in self._phones:
                return Verdict(None, "grammar heard nothing", phrase or None)
            # The phone side aligns the phrase meanwhile, on the other core in the session,
            # whether or not the verifier will need it: waiting for the keyword search first
            # would put the alignment after it again.
            self._aligner.align(phrase)
            if cfg.verifier == "alignment":
                return self._verify_by_alignment(segment, phrase, cue)
            # Keyword spotting says *whether*: the phrase's path against a free phone loop.
            rng = np.random.default_rng(len(pcm))
            tail = np.round(rng.standard_normal(round(cfg.kws_tail_s * RATE)) * cfg.dither).astype(np.int16)
            decode(self._decoder, self._keyword_searches[phrase], pcm + tail.tobytes())
            log = self._logmath.log
            hits = [(float(log(s.prob)), s.start_frame, s.end_frame) for s in (self._decoder.seg() or [])]
        standing = [(score, b) for score, a, b in hits if self._stands_apart(segment, a, b)]
        if cfg.verifier == "weighed":
            return self._weigh(segment, phrase, cue, max(standing)[0] if standing else None)
        if not standing:
            if self._phones[phrase] >= cfg.alignment_alone_min_phones and cfg.verifier == "both":
                # The keyword search often loses long phrases to its beam ("time out", "over to
                # you") though they are the least confusable: the alignment ratio decides alone.
                with self._lock:
                    return self._verify_by_alignment(segment, phrase, cue, cfg.alignment_alone_margin)
            return Verdict(None, "no keyword match", phrase)
        score, b = max(standing)
        margin = score - self.threshold(phrase)
        if margin < 0:
            return Verdict(None, "below threshold", phrase, score, near=margin > -cfg.near_kws)
        if cfg.verifier == "both":
            # Second opinion only for what passed the first: silence and chatter stay cheap.
            with self._lock:
                second = self._verify_by_alignment(segment, phrase, cue)
            if second.detection is None:
                return second
        confidence = 1.0 / (1.0 + math.exp(-margin / 200.0))
        end_s = segment.start_s + (b + 1) / FRAMES_PER_SECOND
        return Verdict(Detection(cue, phrase, round(confidence, 3), score, end_s), "accepted", phrase, score)

    def forced_choice(self, samples: np.ndarray, words: Iterable[str]) -> str | None:
        """The phrase of `words` the model finds likeliest in `samples`, with no way to say none
        (None where it decodes nothing; the first words of a phrase, "not" of "not yet", where
        its search ended inside one). Prepared as `judge` prepares a segment. This is the
        model's best case, not a spotter: `benchmarks/ceiling.py` uses it to bound what any
        verifier built on these likelihoods could hear."""
        key = tuple(w for w in dict.fromkeys(words) if _model_words(self._decoder, w))
        with self._lock:
            if key not in self._choices:
                self._choices[key] = self._add_grammar(list(key))
            pcm = self._prepare(samples)
            if pcm is None:
                return None
            set_noise_removal(self._decoder, level_spread_db(samples) < self.config.noise_removal_below_db)
            decode(self._decoder, self._choices[key], pcm)
            hyp = self._decoder.hyp()
        return normalise(hyp.hypstr) if hyp is not None and hyp.hypstr else None

    def _stands_apart(self, segment: Segment, a: int, b: int) -> bool:
        """The stand-apart rule: a phrase over frames [a, b] of the segment must be (nearly) all
        the speech of its utterance, so a cue ends it ("done with it" is no cue) and does not
        come straight out of a sentence ("... and then I was done")."""
        cfg = self.config
        speech_a = round((segment.speech_start_s - segment.start_s) * FRAMES_PER_SECOND)
        speech_b = round((segment.speech_end_s - segment.start_s) * FRAMES_PER_SECOND)
        trail_ok = (speech_b - b) <= cfg.max_trail_s * FRAMES_PER_SECOND
        lead = (a - speech_a) + segment.talk_before_s * FRAMES_PER_SECOND
        return trail_ok and lead <= cfg.max_lead_s * FRAMES_PER_SECOND

    def _prepare(self, samples: np.ndarray) -> bytes | None:
        """The segment as the decoder should hear it: scaled to a common peak, lightly dithered."""
        cfg = self.config
        x = samples.astype(np.float64)
        peak = float(np.abs(x).max()) if len(x) else 0.0
        if peak <= 0.0:
            return None
        gain = min(cfg.target_peak / peak, cfg.max_gain)
        # A little fixed noise: digitally silent gaps (synthetic or gated audio) otherwise
        # give log-energy features of minus infinity and derail cepstral mean normalisation.
        dither = np.random.default_rng(len(x)).standard_normal(len(x)) * cfg.dither
        return np.clip(x * gain + dither, -32768, 32767).astype(np.int16).tobytes()

    def _weigh(self, segment: Segment, phrase: str, cue: str, keyword: float | None) -> Verdict:
        """The weighed verifier: the keyword margin plus the weakest phone's ratio, weighted. One
        mismatched phone ("dog" for "done") sinks a phrase that scores well as a whole."""
        cfg = self.config
        measured = None if keyword is None else (keyword - self.threshold(phrase)) / cfg.margin_unit
        if not cfg.may_pass(measured):
            return Verdict(None, "below threshold", phrase, evidence=Evidence(measured, None))
        with self._lock:
            aligned = self._aligner.alignment()
        if aligned is None:
            return Verdict(None, "alignment failed", phrase, evidence=Evidence(measured, None))
        evidence = Evidence(measured, aligned.weakest_phone)
        total = cfg.weighed_sum(measured, aligned.weakest_phone)
        if not self._stands_apart(segment, aligned.start, aligned.end):
            return Verdict(None, "not standing apart", phrase, total, evidence=evidence)
        above = total - cfg.accept_at
        if above < 0:
            near = above > -cfg.near_weighed
            return Verdict(None, "below threshold", phrase, total, near=near, evidence=evidence)
        confidence = 1.0 / (1.0 + math.exp(-cfg.weighed_logit_scale * above))
        end_s = segment.start_s + aligned.end / FRAMES_PER_SECOND
        det = Detection(cue, phrase, round(confidence, 3), total, end_s)
        return Verdict(det, "accepted", phrase, total, evidence=evidence)

    def _verify_by_alignment(self, segment: Segment, phrase: str, cue: str, stricter_by: float = 0.0) -> Verdict:
        """Likelihood ratio of the grammar's phrase against a free phone loop, frame for frame."""
        cfg = self.config
        aligned = self._aligner.alignment()
        if aligned is None:
            return Verdict(None, "alignment failed", phrase)
        if not self._stands_apart(segment, aligned.start, aligned.end):
            return Verdict(None, "not standing apart", phrase, aligned.ratio)
        threshold = cfg.align_threshold + stricter_by
        if self._phones.get(phrase, 3) <= 2:
            threshold += cfg.short_word_margin
        margin = aligned.ratio - threshold
        if margin < 0:
            return Verdict(None, "below threshold", phrase, aligned.ratio, near=margin > -cfg.near_alignment)
        confidence = 1.0 / (1.0 + math.exp(-margin / 2.0))
        end_s = segment.start_s + aligned.end / FRAMES_PER_SECOND
        det = Detection(cue, phrase, round(confidence, 3), aligned.ratio, end_s)
        return Verdict(det, "accepted", phrase, aligned.ratio)

    def close(self) -> None:
        """Nothing to release beyond the decoder, which Python frees; kept for symmetry."""
