"""The speaker through PyAudio (PortAudio): the only module that imports pyaudio."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from assistant.errors import DeviceError
from assistant.voice.pcm import CHUNK_BYTES, RATE, SAMPLE_WIDTH, resample

_LOGGER = logging.getLogger(__name__)

INSTALL_PYAUDIO = (
    "PyAudio is not installed: install PortAudio (`sudo apt-get install portaudio19-dev`, "
    "or just `libportaudio2` for a prebuilt wheel), then `pip install pyaudio`"
)
NO_SPEAKER = "No sound output device found, so the assistant cannot speak aloud"

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C-level stderr: PortAudio's ALSA and JACK probes print dozens of lines."""
    with _STDERR_LOCK:
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


def _import_pyaudio() -> Any:
    try:
        import pyaudio
    except ImportError as error:  # also when libportaudio is missing
        raise DeviceError(INSTALL_PYAUDIO) from error
    return pyaudio


class PyAudioOut:
    """A blocking PyAudio output stream, written in small buffers so a stop is quick."""

    def __init__(self, device_index: int | None = None) -> None:
        pyaudio = _import_pyaudio()
        with _quiet_stderr():
            self._pa: Any = pyaudio.PyAudio()
        try:
            info = (
                self._pa.get_device_info_by_index(device_index)
                if device_index is not None
                else self._pa.get_default_output_device_info()
            )
            if int(info.get("maxOutputChannels", 0)) < 1:
                raise OSError("not an output device")
            self.device_name = str(info.get("name", "?"))
            self._stream, self.device_rate = self._open(pyaudio, info, device_index)
        except (OSError, ValueError) as error:
            self._pa.terminate()
            raise DeviceError(f"{NO_SPEAKER} ({error}).") from error
        self._running = False

    def _open(self, pyaudio: Any, info: dict[str, Any], index: int | None) -> tuple[Any, int]:
        """Open at eSpeak's rate if the device takes it, else at the device's own rate."""
        rates = [RATE, int(float(info.get("defaultSampleRate", 48000)))]
        last: Exception | None = None
        for rate in dict.fromkeys(rates):
            try:
                with _quiet_stderr():
                    stream = self._pa.open(
                        format=pyaudio.paInt16,
                        channels=1,
                        rate=rate,
                        output=True,
                        output_device_index=index,
                        frames_per_buffer=CHUNK_BYTES // SAMPLE_WIDTH,
                        start=False,
                    )
                return stream, rate
            except (OSError, ValueError) as error:
                last = error
        assert last is not None
        raise last

    def write(self, pcm: bytes) -> None:
        """Hand `pcm` to PortAudio; blocks while its buffer is full."""
        if not self._running:
            self._stream.start_stream()
            self._running = True
        self._stream.write(resample(pcm, RATE, self.device_rate), exception_on_underflow=False)

    def drain(self) -> None:
        """Wait until PortAudio has played everything written."""
        if self._running:
            self._stream.stop_stream()  # Pa_StopStream plays out pending buffers first
            self._running = False

    def discard(self) -> None:
        """Drop buffered audio at once."""
        if not self._running:
            return
        self._running = False
        # PyAudio's Stream has no abort(); Pa_AbortStream drops pending buffers instead of
        # playing them out like stop_stream() does. Fall back to stop_stream() if it moves.
        from pyaudio import _portaudio  # type: ignore[attr-defined]

        abort = getattr(_portaudio, "abort_stream", None)
        raw = getattr(self._stream, "_stream", None)
        if abort is not None and raw is not None:
            abort(raw)
        else:
            self._stream.stop_stream()

    def close(self) -> None:
        """Release the stream and PortAudio."""
        try:
            self.discard()
            self._stream.close()
        finally:
            self._pa.terminate()
