"""Audio in: microphone, voice activity, Whisper tiny.en in a worker process, and the cue table."""

from __future__ import annotations

from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE, cue_of

__all__ = ["CUE_PHRASES", "PHRASE_TO_CUE", "cue_of"]
