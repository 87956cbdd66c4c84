"""`RenderedVoice`: the assistant's `Voice`, lines rendered by any voice engine and played so they can be cut off."""

from __future__ import annotations

import logging
import threading
import time

from assistant.devices import Clock, Post
from assistant.voice.chimes import CHIME_NAMES, load_chimes
from assistant.voice.pcm import scale
from assistant.voice.player import AudioOut, Clip, Player
from assistant.voice.recorder import SessionRecorder
from assistant.voice.tts import TtsWorker, VoiceSettings

_LOGGER = logging.getLogger(__name__)


class SteadyClock:
    """Monotonic seconds at normal speed: the clock used when none is given."""

    speed = 1.0

    def now(self) -> float:
        """Seconds on `time.monotonic`."""
        return time.monotonic()


class RenderedVoice:
    """Speech and chimes out; every call returns at once (see `assistant.devices.Voice`).

    Two threads do the work: the TTS worker renders lines (or takes them from the cache) into
    clips with whichever engine the settings name, and the player writes clips to `out` in small
    buffers; neither the player nor the cache knows which engine spoke. A clip is queued for the
    player as soon as `say` is called, so order is kept and playing starts while the rest
    of the line is still being rendered.
    """

    def __init__(
        self,
        post: Post,
        out: AudioOut,
        *,
        settings: VoiceSettings | None = None,
        worker: TtsWorker | None = None,
        chimes: dict[str, bytes] | None = None,
        clock: Clock | None = None,
        recorder: SessionRecorder | None = None,
    ) -> None:
        self.settings = settings or VoiceSettings()
        self._clock: Clock = clock or SteadyClock()
        self._recorder = recorder
        self._worker = worker or TtsWorker()
        try:
            self._worker.wait_ready()
            raw_chimes = chimes if chimes is not None else load_chimes()
        except BaseException:
            self._worker.close()
            raise
        # Chimes follow the voice's volume, so one setting makes the whole assistant quieter.
        self._chimes = {name: scale(pcm, self.settings.volume) for name, pcm in raw_chimes.items()}
        self._player = Player(out, post, clock=self._clock, recorder=recorder)
        self._lock = threading.Lock()
        self._closed = False

    def say(self, text: str) -> int:
        """Speak `text` after whatever is queued; returns its number (see `devices.Voice`)."""
        text = " ".join(text.split())
        if not text:
            return self._enqueue(Clip.of("(nothing)", b""))  # still numbered, so still reported
        clip = Clip(text)
        with self._lock:
            number = self._player.enqueue(clip)
            if not self._closed:
                self._worker.render(clip, text, self.settings)
            return number

    def chime(self, name: str) -> int:
        """Play chime `name` ("start", "halfway", "one_minute", "end") after what is queued."""
        pcm = self._chimes.get(name)
        if pcm is None:
            _LOGGER.warning("unknown chime %r (known: %s)", name, ", ".join(CHIME_NAMES))
            pcm = b""
        return self._enqueue(Clip.of(f"chime:{name}", pcm))

    def _enqueue(self, clip: Clip) -> int:
        with self._lock:
            return self._player.enqueue(clip)

    def stop(self) -> None:
        """Cut off the current line and drop everything queued."""
        self._player.stop()

    def close(self) -> None:
        """Stop, end both threads, release the device and finish the recording."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._player.close()
        self._worker.close()
        if self._recorder is not None:
            self._recorder.close()

    def __enter__(self) -> RenderedVoice:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
