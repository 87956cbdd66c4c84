"""Audio in: microphone, voice activity, the offline cue spotter and the cue vocabulary."""

from __future__ import annotations

from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE, cue_of

__all__ = ["CUE_PHRASES", "PHRASE_TO_CUE", "cue_of"]
