"""The interruptible player: one thread that alone writes PCM to the output device.

Utterances arrive as `Clip`s, in order, possibly before their audio exists: the TTS worker
fills a clip while the player is already playing its first buffers. The player writes small
buffers (`pcm.CHUNK_SECONDS`), so a `stop()` is heard within a buffer or two.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

from assistant.devices import Clock, Post
from assistant.events import DeviceLost, VoiceFinished, VoiceStarted
from assistant.voice.pcm import CHUNK_BYTES

_LOGGER = logging.getLogger(__name__)

_WAIT = 0.05
"""Seconds a blocked read waits before looking at the stop flag again."""


class AudioOut(Protocol):
    """A blocking 16-bit mono PCM output at `pcm.RATE`.

    The player thread calls every method; `discard` may also come from the thread that asked
    for a stop, and must then also release a `write` blocked waiting for room.
    """

    def write(self, pcm: bytes) -> None:
        """Hand over samples; may block until the device has room for them."""

    def drain(self) -> None:
        """Wait until everything written has been heard."""

    def discard(self) -> None:
        """Drop whatever was written but not yet heard (a stop)."""

    def close(self) -> None: ...


class NullAudioOut:
    """No speaker: takes every buffer at once (text mode that still renders, e.g. to record)."""

    def write(self, pcm: bytes) -> None:
        """Drop the samples."""

    def drain(self) -> None:
        """Nothing is ever pending."""

    def discard(self) -> None:
        """Nothing is ever pending."""

    def close(self) -> None:
        """Nothing to release."""


class Clip:
    """The PCM of one utterance or chime, possibly still being rendered; thread safe."""

    def __init__(self, label: str, pcm: bytes | None = None) -> None:
        self.label = label
        self._cond = threading.Condition()
        self._data = bytearray(pcm or b"")
        self._complete = pcm is not None
        self._cancelled = False
        self.error: str | None = None
        self.generation = 0
        """Set by the player: clips queued before a stop belong to an older generation."""
        self.number = 0
        """Set by the player: its place in the order clips were queued (from 1)."""

    @classmethod
    def of(cls, label: str, pcm: bytes) -> Clip:
        """A clip whose audio is all there (cached speech, a chime)."""
        return cls(label, pcm)

    def append(self, pcm: bytes) -> None:
        """Add rendered samples at the end."""
        with self._cond:
            self._data += pcm
            self._cond.notify_all()

    def finish(self, error: str | None = None) -> None:
        """No more samples will come (`error` says why, if rendering failed)."""
        with self._cond:
            self._complete = True
            self.error = error
            self._cond.notify_all()

    def cancel(self) -> None:
        """Nobody wants this clip any more: stop rendering and playing it."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    @property
    def cancelled(self) -> bool:
        """True once `cancel` was called."""
        return self._cancelled

    @property
    def complete(self) -> bool:
        """True once rendering ended (successfully or not)."""
        return self._complete

    def pcm(self) -> bytes:
        """Every sample rendered so far."""
        with self._cond:
            return bytes(self._data)

    def read(self, offset: int, size: int, timeout: float) -> bytes | None:
        """Up to `size` bytes from `offset`: b"" at the end, None if none came within `timeout`."""
        with self._cond:
            # Wait for a whole buffer unless the clip is complete: short writes would cost latency.
            self._cond.wait_for(
                lambda: self._complete or self._cancelled or len(self._data) - offset >= size,
                timeout,
            )
            if self._cancelled:
                return b""
            available = len(self._data) - offset
            if available <= 0:
                return b"" if self._complete else None
            if available < size and not self._complete:
                return None
            size = min(size, available)
            return bytes(self._data[offset : offset + size])


class Recorder(Protocol):
    """Receives what the player plays (see `recorder.SessionRecorder`)."""

    def begin(self, at: float) -> None: ...
    def write(self, pcm: bytes) -> None: ...
    def end(self, at: float) -> None: ...


_CLOSE = Clip("close")


class Player:
    """Plays clips in order on its own thread; posts `VoiceStarted`/`VoiceFinished`.

    `VoiceFinished.through` names the last clip played or cut, so the session can tell the end
    of a line it is still waiting for from the end of one before it (see `events.VoiceFinished`).
    """

    def __init__(
        self,
        out: AudioOut,
        post: Post,
        *,
        clock: Clock | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self._out = out
        self._post = post
        self._clock = clock
        self._recorder = recorder
        self._queue: queue.Queue[Clip] = queue.Queue()
        self._lock = threading.Lock()
        self._current: Clip | None = None
        self._generation = 0
        self._queued = 0
        """Clips queued so far; the last one's number."""
        self._cut_through = 0
        """The last clip a stop cut or dropped."""
        self._reported = 0
        """The `through` of the last `VoiceFinished` posted."""
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="voice-player", daemon=True)
        self._thread.start()

    def enqueue(self, clip: Clip) -> int:
        """Play `clip` after everything queued before it; returns its number."""
        with self._lock:
            self._queued += 1
            clip.number = self._queued
            clip.generation = self._generation
            if not self._closed:
                self._queue.put(clip)
                return clip.number
        clip.cancel()  # closed: never played, but whoever waits for it hears of its end
        self._finished(clip.number, interrupted=True)
        return clip.number

    def stop(self) -> None:
        """Cut the current clip and drop the queue; returns at once."""
        with self._lock:
            self._generation += 1
            self._cut_through = self._queued
            current = self._current
            if current is not None:
                current.cancel()
            self._cancel_queued()
        if current is not None:
            # Silence now rather than when the player's blocked write returns (a device may
            # take big blocks); the player discards again once it sees the cancelled clip.
            self._safely(self._out.discard)

    def close(self, timeout: float = 2.0) -> None:
        """Stop, end the thread and release the device."""
        with self._lock:
            self._closed = True
        self.stop()
        self._queue.put(_CLOSE)
        self._thread.join(timeout)
        if self._thread.is_alive():
            _LOGGER.warning("voice player did not stop within %.1f s", timeout)

    def _cancel_queued(self) -> None:
        dropped = None
        while True:
            try:
                clip = self._queue.get_nowait()
            except queue.Empty:
                break
            if clip is _CLOSE:
                self._queue.put(_CLOSE)  # closing wins over stopping
                return
            clip.cancel()
            dropped = clip
        if dropped is not None:
            # The player sees the last one, cancelled, and reports the quiet even if it was
            # between two clips when the stop came.
            self._queue.put(dropped)

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else 0.0

    def _run(self) -> None:
        playing = False  # VoiceStarted posted, VoiceFinished not yet
        try:
            while True:
                clip = self._queue.get()
                if clip is _CLOSE:
                    break
                with self._lock:
                    live = not clip.cancelled and clip.generation == self._generation
                    if live:
                        self._current = clip
                    else:
                        clip.cancel()
                if live:
                    try:
                        playing = self._play(clip, playing)
                    except Exception:  # a bug here must not leave the voice mute for the session
                        _LOGGER.exception("could not play %r", clip.label)
                        clip.cancel()
                    with self._lock:
                        self._current = None
                if clip.cancelled:
                    with self._lock:  # a stop cut this clip and dropped everything queued with it
                        through = max(clip.number, self._cut_through)
                    self._finished(through, interrupted=True)
                    playing = False
                elif self._queue.empty():
                    if playing:
                        self._safely(self._out.drain)
                    # A stop during the drain still counts as the end of an uninterrupted queue.
                    # A clip with no sound at all (its rendering failed) also ends here.
                    self._finished(clip.number, interrupted=False)
                    playing = False
        finally:
            with self._lock:
                through = self._queued
            self._finished(through, interrupted=True)  # only if something was left unreported
            self._safely(self._out.close)

    def _finished(self, through: int, *, interrupted: bool) -> None:
        """Post `VoiceFinished` once for each new stretch of quiet (from the player's thread, or
        from `enqueue` once closed)."""
        with self._lock:
            if through <= self._reported:
                return
            self._reported = through
        self._post(VoiceFinished(through, interrupted=interrupted))

    def _play(self, clip: Clip, playing: bool) -> bool:
        """Write `clip` buffer by buffer; returns whether VoiceStarted is now posted."""
        offset = 0
        began = False
        while not clip.cancelled:
            chunk = clip.read(offset, CHUNK_BYTES, _WAIT)
            if chunk is None:
                continue  # still rendering
            if not chunk:
                break
            if not began:
                began = True
                if not playing:
                    self._post(VoiceStarted())
                    playing = True
                self._record("begin", self._now())
            self._safely(self._out.write, chunk)  # on failure it carries on without sound
            self._record("write", chunk)
            offset += len(chunk)
        if clip.cancelled and began:
            self._safely(self._out.discard)
        if began:
            self._record("end", self._now())
        if clip.error:
            _LOGGER.warning("could not speak %r: %s", clip.label, clip.error)
        return playing

    def _record(self, method: str, argument: float | bytes) -> None:
        """Pass on to the recorder; if it fails (a full disk), stop recording, keep speaking."""
        if self._recorder is None:
            return
        try:
            getattr(self._recorder, method)(argument)
        except Exception:
            _LOGGER.exception("recording failed; the session goes on without it")
            self._recorder = None

    def _safely(self, method: Callable[..., None], *args: bytes) -> bool:
        """Call a device method; on failure switch to no sound, tell the runner, keep going."""
        try:
            method(*args)
        except Exception as error:  # noqa: BLE001 - any device failure must not end the session
            _LOGGER.exception("speaker failed")
            if not isinstance(self._out, NullAudioOut):
                self._out = NullAudioOut()
                self._post(DeviceLost("speaker", f"The speaker stopped working: {error}"))
            return False
        return True
