"""The chimes that mark a round: small WAVs shipped in the package, made by `scripts/make_chimes`."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import DeviceError
from assistant.voice.pcm import read_wav

CHIME_NAMES: tuple[str, ...] = ("start", "halfway", "one_minute", "end")

CHIME_FOLDER = Path(__file__).with_name("audio")
"""Where the chimes are: package data, so an installed assistant has them wherever it runs."""


def chime_path(name: str, folder: Path = CHIME_FOLDER) -> Path:
    """The WAV file of chime `name`; raises DeviceError if it is unknown or missing."""
    if name not in CHIME_NAMES:
        raise DeviceError(f"unknown chime {name!r}; the chimes are {', '.join(CHIME_NAMES)}")
    path = folder / f"{name}.wav"
    if not path.is_file():
        raise DeviceError(
            f"the chime {path} is missing, so this copy of the assistant is incomplete: reinstall it"
            " (in a clone of the repository, scripts/make_chimes makes the chimes)."
        )
    return path


def load_chimes(folder: Path = CHIME_FOLDER) -> dict[str, bytes]:
    """PCM of every chime at `pcm.RATE`; raises DeviceError if one is missing."""
    return {name: read_wav(chime_path(name, folder)) for name in CHIME_NAMES}
