"""The phone side of the cue spotter's verification: a free phone loop over a segment, and the
grammar's phrase forced onto the same frames, on a decoder of its own.

Its own decoder is what lets it run beside the keyword search instead of after it: the phone
loop needs only the audio, so it starts as soon as the segment does (`begin`); the alignment
starts as soon as the other decoder's grammar has named the phrase (`align`), while that decoder
goes on to the keyword search, and its result is collected when the verifier needs it
(`alignment`). In the session the two sides run in two processes on two cores (`worker.py`); in
one process, as here, one after the other, with the same passes on each decoder, so both give
the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from assistant.ears.decoder import decode, end_utterance, set_noise_removal

PHONE_LOOP = "_phones"


@dataclass(frozen=True)
class Alignment:
    """The grammar's phrase forced onto a segment's frames, scored against the free phone loop."""

    start: int
    end: int
    """Frames [start, end) of the segment the phrase covers."""
    ratio: float
    """Per-frame log-likelihood ratio of the whole phrase (PocketSphinx score units)."""
    weakest_phone: float
    """The same ratio for the phrase's worst-matching phone."""


class Aligner(Protocol):
    """What the spotter needs of the phone side (`PhoneAligner`, or a process around one)."""

    def begin(self, pcm: bytes, remove_noise: bool) -> None:
        """A new segment (as decoded, see `SphinxCueSpotter._prepare`): its phone loop may start."""

    def align(self, phrase: str) -> None:
        """Force the phrase onto the latest segment (its result may be collected later)."""

    def alignment(self) -> Alignment | None:
        """The latest segment's alignment; None where the phrase could not be forced onto it."""


class PhoneAligner:
    """The phone side on a decoder of its own (`decoder.make_decoder`)."""

    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder
        self._logmath = decoder.get_logmath()
        # A free phone loop (uniform, no phone language model): the "anything else" path.
        decoder.add_allphone_file(PHONE_LOOP, None)
        self._pcm = b""
        self._loop: list[tuple[int, int, float]] | None = None
        """The phone loop's segments of the latest segment: frames [start, end) and score."""
        self._alignment: Alignment | None = None

    def begin(self, pcm: bytes, remove_noise: bool) -> None:
        """Decode the free phone loop over the segment now: it needs no phrase."""
        self._pcm, self._alignment = pcm, None
        set_noise_removal(self._decoder, remove_noise)
        try:
            decode(self._decoder, PHONE_LOOP, pcm)
        except RuntimeError:
            self._loop = None  # then no phrase can be aligned either
            return
        log = self._logmath.log
        self._loop = [(s.start_frame, s.end_frame + 1, float(log(s.ascore))) for s in self._decoder.seg() or []]

    def align(self, phrase: str) -> None:
        self._alignment = self._force(phrase)

    def alignment(self) -> Alignment | None:
        return self._alignment

    def _force(self, phrase: str) -> Alignment | None:
        """Forced alignment of the phrase over the latest segment, against its phone loop."""
        dec, loop = self._decoder, self._loop
        if loop is None:
            return None
        # Two passes: the first finds the words, the second the phone-level scores.
        try:
            dec.set_align_text(phrase)
            dec.start_utt()
            dec.process_raw(self._pcm, full_utt=True)
            dec.end_utt()
            dec.set_alignment()
            dec.start_utt()
            dec.process_raw(self._pcm, full_utt=True)
            dec.end_utt()
            alignment = dec.get_alignment()
        except RuntimeError:
            end_utterance(dec)
            return None
        # Phones are read in the same pass as their word: the entries do not outlive the walk
        # (reading them afterwards crashes PocketSphinx).
        words: list[tuple[int, int, float]] = []
        phones: list[tuple[int, int, float]] = []
        for word in alignment or []:
            if not word.name.startswith(("<", "[")):
                words.append((word.start, word.start + word.duration, float(word.score)))
                phones += [(ph.start, ph.start + ph.duration, float(ph.score)) for ph in word]
        if not words or not phones:
            return None
        a, b = words[0][0], words[-1][1]  # b exclusive

        def loop_score(start: int, end: int) -> float:
            """The phone loop's score over frames [start, end), shared pro rata by its phones."""
            total = 0.0
            for sa, sb, score in loop:
                overlap = min(sb, end) - max(sa, start)
                if overlap > 0:
                    total += score * overlap / (sb - sa)
            return total

        ratio = (sum(score for _, _, score in words) - loop_score(a, b)) / max(b - a, 1)
        weakest = min((score - loop_score(pa, pb)) / max(pb - pa, 1) for pa, pb, score in phones)
        return Alignment(a, b, ratio, weakest)
