"""The speaker through PyAudio (PortAudio): the only module that imports pyaudio."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from assistant.errors import DeviceError
from assistant.portaudio import import_pyaudio, quiet_stderr
from assistant.voice.pcm import RATE, SAMPLE_WIDTH, resample

_LOGGER = logging.getLogger(__name__)

NO_SPEAKER = "No sound output device found, so the assistant cannot speak aloud"

LEAD = 0.06
"""Seconds of sound queued ahead of the device before `write` blocks: enough to ride out
scheduling hiccups, little enough that a stop is heard at once."""


BUFFER_SECONDS = 0.01
"""PortAudio's buffer; PulseAudio's playback buffer follows it (25 ms with 10 ms buffers, 58 ms
with 20 ms), and an answer's first sound waits on both: 10 ms took the voice's share of the cue
to answer latency from 72 to 44 ms (`scripts/bench latency`). Our callback runs in Python and
needs the GIL. With the PocketSphinx ears, which decoded in this process, `benchmarks/dropouts.py`
counted 12-18 dropouts (1-5 ms of silence, heard as clicks) in 6 s of tone. Whisper's decoder
(CTranslate2) lets go of the GIL: on 2026-12-06 no configuration dropped out (20 s of tone, 10
or 20 ms buffers, decoding here or in the worker), not even with both cores kept busy by two
other processes."""


class PyAudioOut:
    """PyAudio in callback mode behind a blocking `write`, so a stop is heard at once.

    The stream runs for the whole session and plays silence when there is nothing to say:
    starting and stopping a PortAudio stream per utterance costs up to seconds of start-up
    latency on some hosts (ALSA's PulseAudio plugin). `write` queues at most `LEAD` seconds
    ahead of the device; `discard` empties that queue, so only the device's own buffer (a
    few tens of milliseconds) still sounds after a stop.
    """

    def __init__(self, device_index: int | None = None) -> None:
        pyaudio = import_pyaudio("no sound output")
        self._continue = pyaudio.paContinue
        self._cond = threading.Condition()
        self._pending = bytearray()
        """Device-rate PCM waiting for the callback."""
        self._closed = False
        with quiet_stderr():
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
            rates = [RATE, int(float(info.get("defaultSampleRate", 48000)))]
            self._stream, self.device_rate = self._open(pyaudio, rates, device_index)
        except (OSError, ValueError) as error:
            self._pa.terminate()
            raise DeviceError(f"{NO_SPEAKER} ({error}).") from error
        self._lead_bytes = int(LEAD * self.device_rate) * SAMPLE_WIDTH
        self._stream.start_stream()

    def _open(self, pyaudio: Any, rates: list[int], index: int | None) -> tuple[Any, int]:
        """Open at the first rate the device takes (eSpeak's own, ideally)."""
        last: Exception | None = None
        for rate in dict.fromkeys(rates):
            try:
                with quiet_stderr():
                    stream = self._pa.open(
                        format=pyaudio.paInt16,
                        channels=1,
                        rate=rate,
                        output=True,
                        output_device_index=index,
                        frames_per_buffer=int(rate * BUFFER_SECONDS),
                        start=False,
                        stream_callback=self._callback,
                    )
                return stream, rate
            except (OSError, ValueError) as error:
                last = error
        assert last is not None
        raise last

    def _callback(self, _in: bytes | None, frames: int, _time: Any, _status: int) -> tuple[bytes, int]:
        """PortAudio's thread asks for `frames` frames: what is pending, padded with silence."""
        size = frames * SAMPLE_WIDTH
        with self._cond:
            out = bytes(self._pending[:size])
            del self._pending[:size]
            self._cond.notify_all()
        return out + bytes(size - len(out)), self._continue

    @property
    def output_latency(self) -> float:
        """Seconds the device itself buffers (still heard after a `discard`), as PortAudio reports."""
        return float(self._stream.get_output_latency())

    def write(self, pcm: bytes) -> None:
        """Queue `pcm` for the device; blocks while more than `LEAD` seconds are queued."""
        data = resample(pcm, RATE, self.device_rate)
        with self._cond:
            if not self._stream.is_active():
                raise OSError("the output stream stopped")
            self._pending += data
            # Generous timeout: the callback drains LEAD seconds in LEAD seconds of real time.
            if not self._cond.wait_for(lambda: len(self._pending) <= self._lead_bytes or self._closed, timeout=2.0):
                raise OSError("the sound device stopped taking audio")

    def drain(self) -> None:
        """Wait until the device has taken everything and played its own buffer."""
        with self._cond:
            self._cond.wait_for(lambda: not self._pending or self._closed, timeout=2.0)
        time.sleep(min(self.output_latency, 0.2))

    def discard(self) -> None:
        """Drop everything queued: silence follows within the device's own buffer."""
        with self._cond:
            self._pending.clear()
            self._cond.notify_all()

    def close(self) -> None:
        """Release the stream and PortAudio."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()
        try:
            self._stream.stop_stream()
            self._stream.close()
        finally:
            self._pa.terminate()
