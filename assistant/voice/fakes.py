"""Test doubles for the voice package: a speaker made of memory."""

from __future__ import annotations

import threading
import time

import numpy as np

from assistant.voice.pcm import RATE, seconds
from assistant.voice.player import Clip
from assistant.voice.tts import VoiceInfo, VoiceSettings


class FakeAudioOut:
    """A speaker that keeps every buffer written to it, in order.

    `pace` makes it consume audio in simulated time (1.0 is real time, 0.1 ten times faster),
    so a stop can land mid-sentence; `hold()` makes writes wait until `release()`, so a test can
    stop the voice at an exact point without any timing (the held write has been kept).
    """

    def __init__(self, *, pace: float = 0.0) -> None:
        self.pace = pace
        """Real seconds spent per second of audio written."""
        self.buffers: list[bytes] = []
        self.write_times: list[float] = []
        """`time.perf_counter()` of each write, for the benchmark."""
        self.discards = 0
        self.discard_times: list[float] = []
        self.drains = 0
        self.closed = False
        self._cond = threading.Condition()
        self._held = False

    # ---- AudioOut -----------------------------------------------------------------------

    def write(self, pcm: bytes) -> None:
        """Keep `pcm`; then wait while held, and for its simulated duration when paced."""
        with self._cond:
            self.buffers.append(pcm)
            self.write_times.append(time.perf_counter())
            self._cond.notify_all()
            # Like a full device buffer: the write returns once there is room again, that is
            # on release, or when a discard empties the device.
            discards = self.discards
            self._cond.wait_for(lambda: not self._held or self.discards != discards, timeout=30.0)
        if self.pace:
            time.sleep(seconds(pcm) * self.pace)

    def drain(self) -> None:
        """Count it: all was heard at once."""
        with self._cond:
            self.drains += 1
            self._cond.notify_all()

    def discard(self) -> None:
        """Count it: a stop silenced the speaker."""
        with self._cond:
            self.discards += 1
            self.discard_times.append(time.perf_counter())
            self._cond.notify_all()

    def close(self) -> None:
        """Mark closed and let any held write go."""
        with self._cond:
            self.closed = True
            self._held = False
            self._cond.notify_all()

    # ---- for tests ----------------------------------------------------------------------

    def hold(self) -> None:
        """Make writes wait (the device is "busy playing") until `release`."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        """Let writes through again."""
        with self._cond:
            self._held = False
            self._cond.notify_all()

    @property
    def played(self) -> bytes:
        """Everything written, joined."""
        with self._cond:
            return b"".join(self.buffers)

    def wait_for_buffers(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least `count` buffers were written; false on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.buffers) >= count, timeout)


class FakeRenderer:
    """Renders text as a quiet tone, 0.1 s per character, delivered in 0.1 s pieces.

    Deterministic and instant, so tests know exactly what a line sounds like (`pcm_of`).
    """

    def __init__(self) -> None:
        self.rendered: list[str] = []
        self.settings: VoiceSettings | None = None

    @staticmethod
    def pcm_of(text: str) -> bytes:
        """What `text` renders to."""
        frames = int(0.1 * RATE) * len(text)
        tone = 3000 * np.sin(2 * np.pi * 440 * np.arange(frames) / RATE)
        return tone.astype("<i2").tobytes()

    def configure(self, settings: VoiceSettings) -> None:
        """Remember the settings."""
        self.settings = settings

    def render(self, text: str, clip: Clip) -> bool:
        """Stream `pcm_of(text)` into `clip`."""
        self.rendered.append(text)
        pcm = self.pcm_of(text)
        piece = int(0.1 * RATE) * 2
        for start in range(0, len(pcm), piece):
            if clip.cancelled:
                return False
            clip.append(pcm[start : start + piece])
        return True

    def voices(self) -> list[VoiceInfo]:
        """One pretend voice."""
        return [VoiceInfo(id="fake/en", name="Fake English", languages=("en",))]
