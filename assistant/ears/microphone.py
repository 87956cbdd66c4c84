"""Audio sources for the ears: the PyAudio microphone and a WAV file standing in for one."""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.ears.vad import RATE
from assistant.ears.wavfile import WavError, read_samples
from assistant.errors import DeviceError
from assistant.portaudio import import_pyaudio, quiet_stderr

CHUNK = 160
"""Samples per read: 10 ms, the endpointer's frame. A cue's end waits on average half a chunk
before the endpointer sees it, and PulseAudio's capture buffer follows the chunk (10 ms here,
20 ms with 320-sample chunks); 100 ms chunks cost about 40 ms more of answer latency
(scripts/bench latency)."""


class AudioSource(Protocol):
    """16 kHz mono int16 audio, read in chunks; `read` blocks and returns None at the end."""

    def read(self, timeout: float) -> np.ndarray | None: ...
    def close(self) -> None: ...


# ---- WAV files -------------------------------------------------------------------------------


def resample(x: np.ndarray, rate: int, to: int = RATE) -> np.ndarray:
    """Resample float audio with a windowed-sinc low-pass (no aliasing when going down)."""
    if rate == to or len(x) == 0:
        return x
    n_out = int(round(len(x) * to / rate))
    if to < rate:
        # Low-pass at 0.45 of the target rate before taking samples.
        cutoff = 0.45 * to / rate
        taps = np.arange(-64, 65)
        kernel = np.sinc(2 * cutoff * taps) * 2 * cutoff * np.hamming(len(taps))
        x = np.convolve(x, kernel / kernel.sum(), mode="same")
    positions = np.arange(n_out) * (rate / to)
    return np.interp(positions, np.arange(len(x)), x)


def read_wav(path: str | Path) -> np.ndarray:
    """A WAV file (integer, float, A-law or mu-law samples, any rate and channels) as 16 kHz
    mono int16; raises DeviceError with the reason if unreadable."""
    try:
        x, rate, channels = read_samples(path)
    except (OSError, WavError) as exc:
        raise DeviceError(f"cannot read {path}: {exc}") from exc
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    x = resample(x, rate)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class WavFileMicrophone:
    """A WAV file played as if it were the microphone (any rate, resampled to 16 kHz)."""

    def __init__(self, path: str | Path, realtime: bool = False, tail_s: float = 0.5) -> None:
        # Trailing silence lets the endpointer close a segment that runs to the end of the file.
        self.samples = np.concatenate([read_wav(path), np.zeros(int(tail_s * RATE), np.int16)])
        self.realtime = realtime
        self._pos = 0
        self._t0: float | None = None
        self._closed = False

    def read(self, timeout: float) -> np.ndarray | None:
        """Next chunk, or None at the end of the file (or after close)."""
        if self._closed or self._pos >= len(self.samples):
            return None
        if self.realtime:
            if self._t0 is None:
                self._t0 = time.monotonic()
            due = self._t0 + (self._pos + CHUNK) / RATE
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, timeout))
        chunk = self.samples[self._pos : self._pos + CHUNK]
        self._pos += len(chunk)
        return chunk

    def close(self) -> None:
        """Stop producing audio."""
        self._closed = True


# ---- PyAudio ---------------------------------------------------------------------------------

STALL_SECONDS = 2.0
"""A live microphone delivers a chunk every 10 ms; this long without one means it is gone."""


class PyAudioMicrophone:
    """The default input device, 16 kHz mono int16, filled by PortAudio's own callback thread."""

    def __init__(self, device_index: int | None = None) -> None:
        pyaudio = import_pyaudio("no microphone support")
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=20 * RATE // CHUNK)  # 20 s
        with quiet_stderr():
            self._pa = pyaudio.PyAudio()
        try:
            if device_index is None:
                try:
                    device_index = int(self._pa.get_default_input_device_info()["index"])
                except OSError as exc:
                    raise DeviceError(
                        "no microphone found: plug one in or check the sound settings (PortAudio sees no input device)"
                    ) from exc
            try:
                self._stream = self._pa.open(
                    format=pyaudio.paInt16,
                    channels=1,
                    rate=RATE,
                    input=True,
                    input_device_index=device_index,
                    frames_per_buffer=CHUNK,
                    stream_callback=self._callback,
                )
            except (OSError, ValueError) as exc:
                raise DeviceError(f"cannot open the microphone at 16 kHz mono: {exc}") from exc
        except DeviceError:
            self._pa.terminate()
            raise
        self._paContinue = pyaudio.paContinue
        self._last_audio = time.monotonic()

    def _callback(self, data: bytes, frames: int, info: Any, status: int) -> tuple[None, int]:
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            pass  # the consumer is behind; dropping audio beats unbounded memory
        return None, self._paContinue

    def read(self, timeout: float) -> np.ndarray | None:
        """Next chunk; an empty array when nothing arrived within `timeout` seconds."""
        if not self._stream.is_active():
            raise DeviceError("the microphone stopped delivering audio")
        try:
            data = self._queue.get(timeout=timeout)
        except queue.Empty:
            # A vanished device often just stops calling back, with no error at all.
            if time.monotonic() - self._last_audio > STALL_SECONDS:
                raise DeviceError("the microphone stopped delivering audio (was it unplugged?)") from None
            return np.zeros(0, np.int16)
        self._last_audio = time.monotonic()
        return np.frombuffer(data, np.int16)

    def close(self) -> None:
        """Stop the stream and release PortAudio."""
        try:
            # Close without stopping: closing an active stream discards its buffers (as
            # Pa_AbortStream), while stopping waits on a device that may be gone and never answer.
            self._stream.close()
        finally:
            self._pa.terminate()
