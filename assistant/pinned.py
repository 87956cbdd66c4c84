"""Model files pinned by their SHA-256: checked before an engine loads one, so an altered or
half-written package is named, with how to put it right, instead of being used."""

from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.errors import DeviceError


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read a megabyte at a time (the models are tens of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as model:
        for block in iter(lambda: model.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_pinned(path: Path, sha256: str, what: str, remedy: str) -> None:
    """DeviceError unless the file at `path` (`what`, for the message) has the pinned SHA-256;
    `remedy` says how to put it right."""
    try:
        digest = sha256_of(path)
    except OSError as error:
        raise DeviceError(f"{what} {path} cannot be read: {error}; {remedy}") from error
    if digest != sha256:
        raise DeviceError(
            f"{what} {path} is not the one this assistant was tested with (it has another SHA-256, "
            f"{digest[:12]}..., not {sha256[:12]}...); {remedy}"
        )
