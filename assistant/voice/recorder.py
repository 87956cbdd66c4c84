"""`--record-to`: everything the assistant says or chimes, in order, with the real gaps."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

from assistant.devices import Clock
from assistant.errors import DeviceError
from assistant.voice.pcm import RATE, SAMPLE_WIDTH, silence


class SessionRecorder:
    """Writes played clips to one 16-bit mono WAV, separated by the silences between them.

    A gap is measured on the session clock from the end of one clip to the start of the next,
    and divided by the clock's speed: with `--fast 60` a two-minute round becomes two seconds
    of silence, while speech keeps its natural length. Clips never overlap; the file starts
    with the first sound.
    """

    def __init__(self, path: str | Path, clock: Clock) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_end: float | None = None
        self.frames = 0
        """Frames written so far."""
        try:
            # Open the file first: a Wave_write that failed to open complains when collected.
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as error:
            raise DeviceError(f"cannot write the recording {self.path}: {error}") from error
        self._wav: wave.Wave_write | None = wave.open(self._file, "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(SAMPLE_WIDTH)
        self._wav.setframerate(RATE)

    def begin(self, at: float) -> None:
        """A clip starts sounding at clock time `at`: write the silence since the last one."""
        with self._lock:
            if self._last_end is not None:
                gap = max(0.0, at - self._last_end) / max(self._clock.speed, 1e-9)
                while gap > 0:  # in pieces: a long break must not need one huge buffer
                    self._write(silence(min(gap, 10.0)))
                    gap -= 10.0
            self._last_end = at

    def write(self, pcm: bytes) -> None:
        """Samples of the current clip, as they are played."""
        with self._lock:
            self._write(pcm)

    def end(self, at: float) -> None:
        """The current clip ended (or was cut off) at clock time `at`."""
        with self._lock:
            self._last_end = at

    def close(self) -> None:
        """Finish the WAV header; later writes are ignored."""
        with self._lock:
            if self._wav is not None:
                try:
                    self._wav.close()
                finally:
                    self._wav = None
                    self._file.close()

    @property
    def seconds(self) -> float:
        """Length of the recording so far."""
        return self.frames / RATE

    def _write(self, pcm: bytes) -> None:
        if self._wav is None or not pcm:
            return
        self._wav.writeframes(pcm)
        self.frames += len(pcm) // SAMPLE_WIDTH
