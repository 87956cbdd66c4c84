"""Text to PCM with eSpeak NG through pyttsx3, on one worker thread that alone owns the engine.

pyttsx3's own playback on Linux shells out to `aplay` and cannot be interrupted, and its
`save_to_file` prints to stdout and buffers a whole utterance. So pyttsx3 loads and
initialises libespeak-ng and sets voice, rate and volume, and we take the samples from its
eSpeak NG driver's synth callback: they stream into a `Clip` while the player plays them.
This module is the only one that imports pyttsx3.
"""

from __future__ import annotations

import ctypes
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from assistant.errors import DeviceError
from assistant.voice.cache import RenderCache, cache_key
from assistant.voice.pcm import RATE, resample
from assistant.voice.player import Clip

_LOGGER = logging.getLogger(__name__)

DEFAULT_VOICE = "en-us"
DEFAULT_RATE = 150
"""Words per minute: calm, a little slower than eSpeak's 175."""
DEFAULT_VOLUME = 0.9

RENDER_TIMEOUT = 30.0
"""Seconds one utterance may take to render before we give up on it."""

INSTALL_ESPEAK = "eSpeak NG is not installed: install the package `espeak-ng` (e.g. `sudo apt-get install espeak-ng`)"
INSTALL_PYTTSX3 = "pyttsx3 is not installed: run `pip install pyttsx3`"

_T = TypeVar("_T")


@dataclass(frozen=True)
class VoiceSettings:
    """How the assistant sounds."""

    voice: str = DEFAULT_VOICE
    """Any eSpeak NG voice name or identifier (`assistant voices`), optionally `+variant`."""
    rate: int = DEFAULT_RATE
    """Words per minute."""
    volume: float = DEFAULT_VOLUME
    """0.0 to 1.0."""

    @classmethod
    def of(cls, voice: str | None, rate: int | None, volume: float | None) -> VoiceSettings:
        """Settings with defaults for whatever is None; raises ValueError for nonsense."""
        settings = cls(
            voice=voice or DEFAULT_VOICE,
            rate=DEFAULT_RATE if rate is None else int(rate),
            volume=DEFAULT_VOLUME if volume is None else float(volume),
        )
        if not 80 <= settings.rate <= 450:
            raise ValueError(f"rate must be 80 to 450 words per minute, not {settings.rate}")
        if not 0.0 <= settings.volume <= 1.0:
            raise ValueError(f"volume must be between 0.0 and 1.0, not {settings.volume}")
        return settings

    def key(self, text: str) -> str:
        """Cache key of `text` spoken with these settings."""
        return cache_key(text, self.voice, self.rate, self.volume)


@dataclass(frozen=True)
class VoiceInfo:
    """One installed eSpeak NG voice."""

    id: str
    name: str
    languages: tuple[str, ...]


class Renderer(Protocol):
    """Turns text into PCM at `pcm.RATE`; used only from the TTS worker thread."""

    def configure(self, settings: VoiceSettings) -> None: ...
    def render(self, text: str, clip: Clip) -> bool:
        """Append the samples of `text` to `clip`; true if all came. The worker finishes the clip."""

    def voices(self) -> list[VoiceInfo]: ...


class EspeakRenderer:
    """pyttsx3's eSpeak NG driver, used to render text into clips; not thread safe.

    eSpeak NG is global to the process (one library state, one synth callback), so there is
    one renderer per process (`shared`), and workers take `LOCK` around every use of it.
    """

    LOCK = threading.Lock()
    _shared: EspeakRenderer | None = None

    @classmethod
    def shared(cls) -> EspeakRenderer:
        """The process's renderer, made on first use; raises DeviceError if eSpeak NG is missing."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def __init__(self) -> None:
        try:
            import pyttsx3
        except ImportError as error:
            raise DeviceError(INSTALL_PYTTSX3) from error
        try:
            # pyttsx3 loads libespeak-ng when its driver module is imported.
            from pyttsx3.drivers import _espeak
            from pyttsx3.drivers.espeak import EspeakDriver

            self._engine: Any = pyttsx3.init("espeak")
        except (ImportError, OSError, RuntimeError) as error:
            raise DeviceError(INSTALL_ESPEAK) from error
        self._espeak: Any = _espeak
        # The driver's static setProperty applies settings at once. Engine.setProperty would
        # queue them for runAndWait, whose loop in pyttsx3 2.99 never ends without an utterance.
        self._driver: Any = EspeakDriver
        self._settings: VoiceSettings | None = None
        self._rate = RATE
        """eSpeak NG's output rate: 22050 Hz for its own voices, other rates are resampled."""
        self._serial = 0
        self._jobs: dict[int, tuple[Clip, threading.Event]] = {}
        self._jobs_lock = threading.Lock()
        # eSpeak NG calls this from its own thread (pyttsx3 opens it in retrieval mode).
        # It replaces the driver's callback, which would hand finished audio to `aplay`.
        _espeak.SetSynthCallback(self._on_synth)

    def configure(self, settings: VoiceSettings) -> None:
        """Use these settings for what is rendered next; raises DeviceError for an unknown voice."""
        if settings == self._settings:
            return  # eSpeak NG keeps them between utterances
        self._settings = None
        try:
            self._driver.setProperty("voice", settings.voice)
        except ValueError as error:
            raise DeviceError(f"eSpeak NG has no voice {settings.voice!r}; `assistant voices` lists them") from error
        self._driver.setProperty("rate", settings.rate)
        self._driver.setProperty("volume", settings.volume)
        self._rate = self._sample_rate()
        self._settings = settings

    def _sample_rate(self) -> int:
        """eSpeak NG's current output rate (pyttsx3 drops the one `espeak_Initialize` returns)."""
        function = getattr(self._espeak.dll, "espeak_ng_GetSampleRate", None)
        if function is None:
            return RATE  # an old libespeak: its voices are all 22050 Hz
        function.restype = ctypes.c_int
        rate = int(function())
        return rate if rate > 0 else RATE

    def render(self, text: str, clip: Clip, timeout: float = RENDER_TIMEOUT) -> bool:
        """Stream the samples of `text` into `clip`; false if cancelled or timed out.

        Raises DeviceError if eSpeak NG refuses the text. The clip is left open: the worker
        caches the whole sound before finishing it, so a replay right after is a cache hit.
        """
        done = threading.Event()
        with self._jobs_lock:
            self._serial += 1
            serial = self._serial
            self._jobs[serial] = (clip, done)
        try:
            flags = self._espeak.ENDPAUSE | self._espeak.CHARS_UTF8
            status = self._espeak.Synth(text.encode("utf-8"), flags=flags, user_data=serial)
            if status != 0:
                raise DeviceError(f"eSpeak NG refused the text (error {status})")
            waited = 0.0
            while not done.wait(0.01):
                waited += 0.01
                if clip.cancelled or waited > timeout:
                    self._espeak.Cancel()  # returns once eSpeak NG has stopped
                    return False
            return not clip.cancelled
        finally:
            with self._jobs_lock:
                self._jobs.pop(serial, None)

    def voices(self) -> list[VoiceInfo]:
        """Every installed voice."""
        found = []
        for voice in self._engine.getProperty("voices"):
            languages = tuple(str(code) for code in (voice.languages or ()) if code)
            found.append(VoiceInfo(id=str(voice.id), name=str(voice.name), languages=languages))
        return sorted(found, key=lambda voice: voice.id)

    def _on_synth(self, wav: Any, samples: int, events: Any) -> int:
        """eSpeak NG hands over a buffer of samples and events; return 1 to abort."""
        try:
            serial = int(events[0].user_data or 0)
            with self._jobs_lock:
                job = self._jobs.get(serial)
            if job is None:
                return 1  # a cancelled or timed-out render
            clip, done = job
            if clip.cancelled:
                return 1
            if samples > 0:
                clip.append(resample(ctypes.string_at(wav, samples * 2), self._rate, RATE))
            index = 0
            while events[index].type != self._espeak.EVENT_LIST_TERMINATED:
                if events[index].type == self._espeak.EVENT_MSG_TERMINATED:
                    done.set()
                index += 1
            return 0
        except Exception:  # an exception must not cross back into C
            _LOGGER.exception("eSpeak NG callback failed")
            return 1


@dataclass
class _Job:
    clip: Clip
    text: str
    settings: VoiceSettings


class TtsWorker:
    """The one thread that drives eSpeak NG: renders clips in order, runs other engine calls."""

    def __init__(
        self,
        cache: RenderCache | None = None,
        renderer_factory: Callable[[], Renderer] = EspeakRenderer.shared,
    ) -> None:
        self.cache = cache if cache is not None else RenderCache()
        self._factory = renderer_factory
        self._queue: queue.Queue[_Job | Callable[[], None] | None] = queue.Queue()
        self._ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="voice-tts", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the engine is up; raises DeviceError if it could not start."""
        self._ready.result(timeout)

    def render(self, clip: Clip, text: str, settings: VoiceSettings) -> None:
        """Fill `clip` with `text` spoken with `settings` (from the cache when possible)."""
        self._queue.put(_Job(clip, text, settings))

    def call(self, function: Callable[[Renderer], _T]) -> Future[_T]:
        """Run `function(renderer)` on the worker thread, in turn with the renders."""
        future: Future[_T] = Future()

        def job() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(self._renderer))
                except BaseException as error:  # handed to the caller through the future
                    future.set_exception(error)

        self._queue.put(job)
        return future

    def close(self, timeout: float = 2.0) -> None:
        """Finish the thread after the jobs already queued."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            with EspeakRenderer.LOCK:
                self._renderer: Renderer = self._factory()
        except BaseException as error:  # handed to `wait_ready`
            self._ready.set_exception(error)
            return
        self._ready.set_result(None)
        while (job := self._queue.get()) is not None:
            with EspeakRenderer.LOCK:
                if isinstance(job, _Job):
                    self._render(job)
                else:
                    job()

    def _render(self, job: _Job) -> None:
        if job.clip.cancelled:
            return
        key = job.settings.key(job.text)
        cached = self.cache.get(key)
        if cached is not None:
            job.clip.append(cached)
            job.clip.finish()
            return
        try:
            self._renderer.configure(job.settings)
            if self._renderer.render(job.text, job.clip):
                self.cache.put(key, job.clip.pcm())
                job.clip.finish()
            else:
                job.clip.finish(error=None if job.clip.cancelled else "rendering timed out")
        except Exception as error:  # noqa: BLE001 - one bad line must not silence the rest
            _LOGGER.exception("could not render %r", job.text)
            job.clip.finish(error=str(error))
