"""Making a PocketSphinx decoder the way the cue spotter needs it, for each of its two sides."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from assistant.errors import DeviceError

_LOGGER = logging.getLogger(__name__)


def make_decoder(mllr: Path | None, phone_loop_probability: float) -> Any:
    """A decoder of the wheel's English model, with the MLLR transform where one is given. A
    damaged install (the transform missing or unreadable) decodes with the model as shipped, a
    little worse, and says so."""
    try:
        import pocketsphinx
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DeviceError("the speech recognizer is missing: install it with `pip install pocketsphinx`") from exc
    # A permissive keyword threshold: every candidate is reported with its score and the
    # decision (per-phrase threshold) is ours, so it can be tuned without re-decoding.
    options: dict[str, Any] = dict(lm=None, loglevel="FATAL", kws_plp=phone_loop_probability, kws_threshold=1e-40)
    if mllr is not None:
        if not mllr.is_file():
            _LOGGER.warning("%s is missing: decoding with the unadapted acoustic model", mllr)
        else:
            try:
                return pocketsphinx.Decoder(mllr=str(mllr), **options)
            except RuntimeError:
                _LOGGER.warning("%s could not be read: decoding with the unadapted acoustic model", mllr)
    return pocketsphinx.Decoder(**options)


def set_noise_removal(decoder: Any, on: bool) -> None:
    """Switch spectral noise subtraction for the next decodes. The model's feat.params overrides
    this option when the decoder is made, so it is set afterwards, re-making the front end only."""
    if decoder.config["remove_noise"] != on:
        decoder.config["remove_noise"] = on
        decoder.reinit_feat()


def end_utterance(decoder: Any) -> None:
    """Leave the decoder out of any half-finished utterance after a failed pass."""
    try:
        decoder.end_utt()
    except RuntimeError:
        pass  # there was no open utterance: nothing to close


def decode(decoder: Any, search: str, pcm: bytes) -> None:
    """One whole-utterance pass of `search` over `pcm` (RuntimeError where PocketSphinx fails;
    the decoder is then left ready for the next pass)."""
    decoder.activate_search(search)
    try:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
    except RuntimeError:
        end_utterance(decoder)
        raise
