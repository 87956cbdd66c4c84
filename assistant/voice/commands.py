"""What the CLI calls: open the voice, `assistant voices`, `assistant say "text"`."""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Callable
from typing import TextIO

from assistant.devices import Clock, Post, Voice
from assistant.errors import AssistantError, DeviceError
from assistant.events import Event, VoiceFinished
from assistant.portaudio import INSTALL_PYAUDIO
from assistant.voice.chimes import load_chimes
from assistant.voice.engines import Engines
from assistant.voice.player import AudioOut, NullAudioOut
from assistant.voice.pyaudio_out import NO_SPEAKER
from assistant.voice.recorder import SessionRecorder
from assistant.voice.rendered import RenderedVoice, SteadyClock
from assistant.voice.tts import (
    DEFAULT_VOICE,
    ENGINE_LOCK,
    ENGINES,
    FALLBACK_VOICE,
    NoSuchVoice,
    TtsWorker,
    VoiceSettings,
    split_voice,
)

SAY_TIMEOUT = 300.0
"""Seconds `assistant say` waits for its line to finish playing."""


def open_voice(
    post: Post,
    *,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
    record_to: str | None = None,
    clock: Clock | None = None,
    play: bool = True,
    notice: Callable[[str], None] | None = None,
    engines: Callable[[], Engines] = Engines,
) -> Voice:
    """The real voice, started; raises DeviceError if no engine or (with `play`) no speaker works.

    If a neural engine cannot load, `notice` is told once and eSpeak NG speaks instead, at the
    same rate and volume. With `play=False` nothing is played but every line is still rendered,
    so `record_to` works without any sound device. A rate or volume out of range is a
    DeviceError too, so a session falls back to text mode instead of crashing.
    """
    try:
        settings = VoiceSettings.of(voice, rate, volume)
    except ValueError as error:
        raise DeviceError(f"voice settings: {error}") from error
    chimes = load_chimes()  # before anything is opened: a missing chime must not leave an empty recording
    worker = TtsWorker(renderer_factory=engines)
    recorder: SessionRecorder | None = None
    out: AudioOut | None = None
    try:
        worker.wait_ready()
        # The engine first: its error is the more useful one.
        settings = _settings_that_load(worker, settings, notice)
        out = _open_speaker() if play else NullAudioOut()
        clock = clock or SteadyClock()
        if record_to is not None:
            recorder = SessionRecorder(record_to, clock)
        return RenderedVoice(post, out, settings=settings, worker=worker, chimes=chimes, clock=clock, recorder=recorder)
    except BaseException:
        worker.close()
        if out is not None:
            out.close()
        if recorder is not None:
            recorder.close()
        raise


LOAD_TIMEOUT = 60.0
"""Seconds an engine may take to load its voice (a cold disk, a slow machine)."""


def _settings_that_load(
    worker: TtsWorker, settings: VoiceSettings, notice: Callable[[str], None] | None
) -> VoiceSettings:
    """`settings` if its engine loads, else eSpeak NG's (said once through `notice`)."""
    try:
        worker.call(lambda engine: engine.configure(settings)).result(LOAD_TIMEOUT)
        return settings
    except NoSuchVoice:
        raise
    except DeviceError as error:
        if settings.engine == split_voice(FALLBACK_VOICE)[0]:
            raise
        fallback = dataclasses.replace(settings, voice=FALLBACK_VOICE)
        worker.call(lambda engine: engine.configure(fallback)).result(LOAD_TIMEOUT)
        if notice is not None:
            notice(f"The voice {settings.voice} cannot speak here ({str(error).rstrip('.')}); using eSpeak NG instead.")
        return fallback


def once(notice: Callable[[str], None]) -> Callable[[str], None]:
    """`notice`, but each message only the first time (a voice may be opened twice: no speaker)."""
    said: set[str] = set()

    def tell(message: str) -> None:
        if message not in said:
            said.add(message)
            notice(message)

    return tell


def _open_speaker() -> AudioOut:
    from assistant.voice.pyaudio_out import PyAudioOut  # pyaudio itself is imported only there

    return PyAudioOut()


def voices_command(out: TextIO, engines: Callable[[], Engines] = Engines) -> int:
    """`assistant voices`: every engine's voices as `engine:voice`; returns the exit code."""
    found = []
    problems = []
    all_engines = engines()
    for name in ENGINES:
        try:
            with ENGINE_LOCK:  # eSpeak NG is one state per process: not while a worker renders
                found.extend(all_engines.voices_of(name))
        except DeviceError as error:
            problems.append(f"{name}: {error}")
    if not found:
        out.write("".join(f"{problem}\n" for problem in problems))
        return 1
    width = max(len(voice.id) for voice in found)
    languages = max(len(",".join(voice.languages)) for voice in found)
    out.write(f"{'voice':<{width}}  {'languages':<{languages}}  name\n")
    for voice in found:
        out.write(f"{voice.id:<{width}}  {','.join(voice.languages):<{languages}}  {voice.name}\n")
    for problem in problems:
        out.write(f"\nNot available: {problem}\n")
    out.write(
        f"\n{len(found)} voices. Pick one with --voice ENGINE:VOICE (an eSpeak NG variant too, e.g. "
        f"espeak:en-us+f3); the default is {DEFAULT_VOICE}.\n"
    )
    return 0


def say_command(
    text: str,
    out: TextIO,
    *,
    voice: str | None = None,
    rate: int | None = None,
    volume: float | None = None,
    record_to: str | None = None,
    engines: Callable[[], Engines] = Engines,
) -> int:
    """`assistant say "text"`: speak one line (to try settings); returns the exit code.

    With no speaker the line is still rendered (and recorded, with `record_to`), and the
    reason is printed once.
    """
    if not text.strip():
        out.write('Nothing to say: give the line in quotes, e.g. assistant say "Hello."\n')
        return 1
    events: queue.Queue[Event] = queue.Queue()

    def show(message: str) -> None:
        out.write(f"{message}\n")

    notice = once(show)
    try:
        try:
            speaker = open_voice(
                events.put, voice=voice, rate=rate, volume=volume, record_to=record_to, notice=notice, engines=engines
            )
        except DeviceError as error:
            if not (str(error).startswith(NO_SPEAKER) or INSTALL_PYAUDIO in str(error)):
                raise
            out.write(f"{str(error).rstrip('.')}. Showing the text instead.\n")
            speaker = open_voice(
                events.put,
                voice=voice,
                rate=rate,
                volume=volume,
                record_to=record_to,
                play=False,
                notice=notice,
                engines=engines,
            )
    except (AssistantError, ValueError) as error:
        out.write(f"{error}\n")
        return 1
    out.write(f"{text}\n")
    try:
        speaker.say(text)
        finished = _wait_for(events, VoiceFinished, SAY_TIMEOUT)
    finally:
        speaker.close()
    if record_to is not None:
        out.write(f"Recorded to {record_to}\n")
    return 0 if finished else 1


def _wait_for(events: queue.Queue[Event], kind: type[Event], timeout: float) -> bool:
    """Wait for an event of type `kind`; false on timeout."""
    try:
        while True:
            if isinstance(events.get(timeout=timeout), kind):
                return True
    except queue.Empty:
        return False
