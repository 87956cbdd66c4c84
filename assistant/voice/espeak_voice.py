"""`EspeakEngine`: text to PCM with eSpeak NG through pyttsx3, its many languages and voices.

pyttsx3's own playback on Linux shells out to `aplay` and cannot be interrupted, and its
`save_to_file` prints to stdout and buffers a whole utterance. So pyttsx3 loads and
initialises libespeak-ng and sets voice, rate and volume, and we take the samples from its
eSpeak NG driver's synth callback: they stream into a `Clip` while the player plays them.
This module is the only one that imports pyttsx3.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any

from assistant.errors import DeviceError
from assistant.voice.pcm import RATE, resample
from assistant.voice.player import Clip
from assistant.voice.tts import RENDER_TIMEOUT, NoSuchVoice, VoiceInfo, VoiceSettings

_LOGGER = logging.getLogger(__name__)

INSTALL_ESPEAK = "eSpeak NG is not installed: install the package `espeak-ng` (e.g. `sudo apt-get install espeak-ng`)"
INSTALL_PYTTSX3 = "pyttsx3 is not installed: run `pip install pyttsx3`"


class EspeakEngine:
    """pyttsx3's eSpeak NG driver, used to render text into clips; not thread safe.

    eSpeak NG is global to the process (one library state, one synth callback), so there is
    one engine per process (`shared`), and workers take `tts.ENGINE_LOCK` around every use of it.
    """

    _shared: EspeakEngine | None = None

    @classmethod
    def shared(cls) -> EspeakEngine:
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
        voice = settings.engine_voice
        try:
            self._driver.setProperty("voice", voice)
        except ValueError as error:
            raise NoSuchVoice(f"eSpeak NG has no voice {voice!r}; `assistant voices` lists them") from error
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
