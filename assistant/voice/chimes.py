"""The chimes that mark a round: small WAVs in `audio/`, made by `scripts/make_chimes`."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import DeviceError
from assistant.voice.pcm import read_wav

CHIME_NAMES: tuple[str, ...] = ("start", "halfway", "one_minute", "end")


def audio_folders() -> tuple[Path, ...]:
    """Where chimes are looked for: package data first, then `audio/` at the repository root."""
    here = Path(__file__).resolve().parent
    return (here / "audio", here.parents[1] / "audio")


def chime_path(name: str) -> Path:
    """The WAV file of chime `name`; raises DeviceError if it is unknown or missing."""
    if name not in CHIME_NAMES:
        raise DeviceError(f"unknown chime {name!r}; the chimes are {', '.join(CHIME_NAMES)}")
    for folder in audio_folders():
        path = folder / f"{name}.wav"
        if path.is_file():
            return path
    raise DeviceError(f"chime {name!r} is missing from {audio_folders()[-1]}; run scripts/make_chimes")


def load_chimes() -> dict[str, bytes]:
    """PCM of every chime at `pcm.RATE`."""
    return {name: read_wav(chime_path(name)) for name in CHIME_NAMES}
