"""PyAudio (PortAudio), shared by the speaker and the microphone: the only module that imports it."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
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
    _silence_alsa_messages()
    return pyaudio


_ALSA_ERROR_HANDLER = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)
_alsa_handler: Any = None


def _silence_alsa_messages() -> None:
    """ALSA prints "underrun occurred" and the like straight to the couple's terminal whenever the
    machine is busy; PortAudio recovers by itself, so those lines only alarm. Once per process."""
    global _alsa_handler
    if _alsa_handler is not None:
        return
    try:
        asound = ctypes.cdll.LoadLibrary(ctypes.util.find_library("asound") or "libasound.so.2")
    except OSError:
        return  # no ALSA (another platform): nothing to silence
    _alsa_handler = _ALSA_ERROR_HANDLER(lambda *_: None)  # kept alive: ALSA holds the pointer
    asound.snd_lib_error_set_handler(_alsa_handler)


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
