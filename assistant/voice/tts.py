"""The voice engine protocol, the settings that pick a voice, and the one thread that renders.

A voice engine (`VoiceEngine`) turns text into 16-bit PCM at `pcm.RATE`, streaming it into a
`Clip` sentence by sentence. Each real engine is one module named for its technology:
`hibari_voice` (a small neural voice), `piper_voice` (Piper), `espeak_voice` (eSpeak NG through
pyttsx3); `engines.Engines` puts them behind one `VoiceEngine`, picking by the `engine:voice`
name in the settings. The player, the cache, the chimes and the recorder only ever see PCM.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, TypeVar

from assistant.errors import DeviceError
from assistant.voice.cache import RenderCache, cache_key
from assistant.voice.pcm import without_leading_silence
from assistant.voice.player import Clip

_LOGGER = logging.getLogger(__name__)

ENGINES: dict[str, str] = {"hibari": "heart", "piper": "joe", "espeak": "en-us"}
"""Every engine's name and its default voice, the most natural first (`benchmarks/voice.py`)."""
DEFAULT_VOICE = "hibari:heart"
"""The most intelligible bundled voice as our own recognizer hears it (`benchmarks/voice.py`)."""
FALLBACK_VOICE = "espeak:en-us"
"""What speaks when a neural engine cannot load: eSpeak NG is a system library, always small."""
DEFAULT_RATE = 150
"""Words per minute: calm, a little slower than most engines' own pace."""
DEFAULT_VOLUME = 0.9

RENDER_TIMEOUT = 30.0
"""Seconds one utterance may take to render before we give up on it."""

FIRST_PIECE_WORDS = 6
"""A line's first sentence longer than this is rendered in two: up to its first comma, then the rest."""

ENGINE_LOCK = threading.Lock()
"""Held around every use of an engine: eSpeak NG is one state per process, shared by all workers."""

_T = TypeVar("_T")


OFFLINE_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "ORT_DISABLE_TELEMETRY": "1"}
"""Set before a neural engine imports its libraries. onnxruntime 1.32 from PyPI starts Microsoft's
telemetry on import, writing a device id to ~/.cache/Microsoft/DeveloperTools unless told not to;
hub libraries would fetch models unless told to stay offline."""


def keep_offline() -> None:
    """Tell onnxruntime and the hub libraries, before they are imported, never to phone home."""
    os.environ.update(OFFLINE_ENVIRONMENT)


def stream_into(clip: Clip, chunks: Iterable[bytes]) -> bool:
    """Append an engine's chunks of a line to `clip`, from its first sound on: the neural engines
    begin every line with about 0.3 s of silence, which only delayed each answer (it was most of
    the time from a spoken cue to the reply: benchmarks/README.md). False once the clip is cancelled."""
    sounding = False
    for pcm in chunks:
        if clip.cancelled:
            return False
        if not sounding:
            pcm = without_leading_silence(pcm)
            sounding = bool(pcm)
            if not sounding:
                continue
        clip.append(pcm)
    return not clip.cancelled


def pieces(text: str) -> list[str]:
    """`text` as the engine should render it: a long first sentence is cut after its first clause.

    Neural engines render a sentence at a time, and a long one takes long, so the first sound
    waits for it; a short clause first is heard at once, and the rest is ready before it ends.
    """
    match = re.search(r"[.!?](?=\s)", text)
    first_sentence = text if match is None else text[: match.end()]
    if len(first_sentence.split()) <= FIRST_PIECE_WORDS:
        return [text]
    clause = re.search(r"[,;:\u2014](?=\s)", first_sentence)
    if clause is None:
        return [text]
    head, rest = text[: clause.end()], text[clause.end() :].strip()
    return [head, rest] if rest else [head]


class NoSuchVoice(DeviceError):
    """An engine has no voice by that name: a wrong `--voice`, not a machine that cannot speak."""


def split_voice(name: str) -> tuple[str, str]:
    """`engine:voice` as (engine, voice); a bare engine name means its default voice, any other
    bare name is an eSpeak NG voice (`en+f3`), as before there were other engines."""
    engine, colon, voice = name.partition(":")
    if colon:
        return engine, voice or ENGINES.get(engine, "")
    if name in ENGINES:
        return name, ENGINES[name]
    return "espeak", name


@dataclass(frozen=True)
class VoiceSettings:
    """How the assistant sounds."""

    voice: str = DEFAULT_VOICE
    """`engine:voice` (`assistant voices` lists them); a bare name is an eSpeak NG voice."""
    rate: int = DEFAULT_RATE
    """Words per minute."""
    volume: float = DEFAULT_VOLUME
    """0.0 to 1.0."""

    @classmethod
    def of(cls, voice: str | None, rate: int | None, volume: float | None) -> VoiceSettings:
        """Settings with defaults for whatever is None; raises ValueError for nonsense."""
        engine, name = split_voice(voice or DEFAULT_VOICE)
        if engine not in ENGINES:
            raise ValueError(f"no voice engine {engine!r}; the engines are {', '.join(ENGINES)}")
        settings = cls(
            voice=f"{engine}:{name}",
            rate=DEFAULT_RATE if rate is None else int(rate),
            volume=DEFAULT_VOLUME if volume is None else float(volume),
        )
        if not 80 <= settings.rate <= 450:
            raise ValueError(f"rate must be 80 to 450 words per minute, not {settings.rate}")
        if not 0.0 <= settings.volume <= 1.0:
            raise ValueError(f"volume must be between 0.0 and 1.0, not {settings.volume}")
        return settings

    @property
    def engine(self) -> str:
        """The engine's name: `hibari`, `piper`, `espeak`."""
        return split_voice(self.voice)[0]

    @property
    def engine_voice(self) -> str:
        """The voice's name within its engine: `heart`, `joe`, `en+f3`."""
        return split_voice(self.voice)[1]

    def key(self, text: str) -> str:
        """Cache key of `text` spoken with these settings."""
        engine, name = split_voice(self.voice)
        return cache_key(text, f"{engine}:{name}", self.rate, self.volume)


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...]


class VoiceEngine(Protocol):
    """Turns text into PCM at `pcm.RATE`; used only from the TTS worker thread."""

    def configure(self, settings: VoiceSettings) -> None:
        """Use these settings for what is rendered next; raises DeviceError for a voice it lacks."""

    def render(self, text: str, clip: Clip) -> bool:
        """Append the samples of `text` to `clip`, sentence by sentence; true if all came.

        Stops early, returning false, once the clip is cancelled. The worker finishes the clip.
        """

    def voices(self) -> list[VoiceInfo]:
        """Every voice it can speak with, offline."""


def _all_engines() -> VoiceEngine:
    from assistant.voice.engines import Engines  # the engines import their libraries only when used

    return Engines()


@dataclass
class _Job:
    clip: Clip
    text: str
    settings: VoiceSettings


class TtsWorker:
    """The one thread that drives the voice engines: renders clips in order, runs other engine calls."""

    def __init__(
        self,
        cache: RenderCache | None = None,
        renderer_factory: Callable[[], VoiceEngine] = _all_engines,
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

    def call(self, function: Callable[[VoiceEngine], _T]) -> Future[_T]:
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
            with ENGINE_LOCK:
                self._renderer: VoiceEngine = self._factory()
        except BaseException as error:  # handed to `wait_ready`
            self._ready.set_exception(error)
            return
        self._ready.set_result(None)
        while (job := self._queue.get()) is not None:
            with ENGINE_LOCK:
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
