"""PyAudio (PortAudio), shared by the speaker and the microphone: the only module that imports it."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from assistant.errors import DeviceError

INSTALL_PYAUDIO = (
    "PyAudio is not installed: install PortAudio (`sudo apt-get install portaudio19-dev`, "
    "or just `libportaudio2` for a prebuilt wheel), then `pip install pyaudio`"
)

_STDERR_LOCK = threading.Lock()


def import_pyaudio(purpose: str) -> Any:
    """The pyaudio module; a DeviceError saying what to install when it (or PortAudio) is missing."""
    try:
        import pyaudio
    except ImportError as error:  # also when libportaudio is missing
        raise DeviceError(f"{purpose}: {INSTALL_PYAUDIO}") from error
    return pyaudio


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C-level stderr: PortAudio's ALSA and JACK probes print dozens of lines."""
    with _STDERR_LOCK:  # the speaker and the microphone open from different threads
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield  # no real stderr (e.g. under a test runner's capture): nothing to hide
            return
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
