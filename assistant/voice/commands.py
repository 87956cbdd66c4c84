"""What the CLI calls: open the voice, `assistant voices`, `assistant say "text"`."""

from __future__ import annotations

import queue
from typing import TextIO

from assistant.devices import Clock, Post, Voice
from assistant.errors import AssistantError, DeviceError
from assistant.events import Event, VoiceFinished
from assistant.portaudio import INSTALL_PYAUDIO
from assistant.voice.chimes import load_chimes
from assistant.voice.espeak_voice import EspeakVoice, SteadyClock
from assistant.voice.player import AudioOut, NullAudioOut
from assistant.voice.pyaudio_out import NO_SPEAKER
from assistant.voice.recorder import SessionRecorder
from assistant.voice.tts import TtsWorker, VoiceSettings

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
) -> Voice:
    """The real voice, started; raises DeviceError if eSpeak NG or (with `play`) a speaker is missing.

    With `play=False` nothing is played but every line is still rendered, so `record_to`
    works without any sound device. A rate or volume out of range is a DeviceError too, so a
    session falls back to text mode instead of crashing.
    """
    try:
        settings = VoiceSettings.of(voice, rate, volume)
    except ValueError as error:
        raise DeviceError(f"voice settings: {error}") from error
    chimes = load_chimes()  # before anything is opened: a missing chime must not leave an empty recording
    worker = TtsWorker()
    recorder: SessionRecorder | None = None
    out: AudioOut | None = None
    try:
        worker.wait_ready()  # eSpeak NG first: its error is the more useful one
        worker.call(lambda renderer: renderer.configure(settings)).result(10.0)
        out = _open_speaker() if play else NullAudioOut()
        clock = clock or SteadyClock()
        if record_to is not None:
            recorder = SessionRecorder(record_to, clock)
        return EspeakVoice(post, out, settings=settings, worker=worker, chimes=chimes, clock=clock, recorder=recorder)
    except BaseException:
        worker.close()
        if out is not None:
            out.close()
        if recorder is not None:
            recorder.close()
        raise


def _open_speaker() -> AudioOut:
    from assistant.voice.pyaudio_out import PyAudioOut  # pyaudio itself is imported only there

    return PyAudioOut()


def voices_command(out: TextIO) -> int:
    """`assistant voices`: list the installed eSpeak NG voices; returns the exit code."""
    worker = TtsWorker()
    try:
        worker.wait_ready()
        voices = worker.call(lambda renderer: renderer.voices()).result(10.0)
    except DeviceError as error:
        out.write(f"{error}\n")
        return 1
    finally:
        worker.close()
    width = max((len(voice.id) for voice in voices), default=2)
    languages = max((len(",".join(voice.languages)) for voice in voices), default=9)
    out.write(f"{'id':<{width}}  {'languages':<{languages}}  name\n")
    for voice in voices:
        out.write(f"{voice.id:<{width}}  {','.join(voice.languages):<{languages}}  {voice.name}\n")
    out.write(
        f"\n{len(voices)} voices. Pick one with --voice ID (a variant too, e.g. en-us+f3); "
        f"the default is {VoiceSettings().voice}.\n"
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
) -> int:
    """`assistant say "text"`: speak one line (to try settings); returns the exit code.

    With no speaker the line is still rendered (and recorded, with `record_to`), and the
    reason is printed once.
    """
    if not text.strip():
        out.write('Nothing to say: give the line in quotes, e.g. assistant say "Hello."\n')
        return 1
    events: queue.Queue[Event] = queue.Queue()
    try:
        try:
            speaker = open_voice(events.put, voice=voice, rate=rate, volume=volume, record_to=record_to)
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
