"""The simulated room: one timeline for the voice and the couple, heard by the ears, on a clock that moves with it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from assistant.ears.microphone import CHUNK
from assistant.ears.vad import RATE
from assistant.errors import AssistantError
from assistant.events import CueHeard, SpeechStarted, VoiceFinished, VoiceStarted
from assistant.simulated import (
    CHUNK_S,
    LONGEST_SHORTENED_S,
    Entry,
    Move,
    Press,
    Room,
    RoomVoice,
    Speech,
    Utter,
    Wait,
)
from assistant.voice.fakes import FakeRenderer
from assistant.voice.tts import TtsWorker, VoiceSettings


@pytest.fixture
def speech() -> Iterator[Speech]:
    worker = TtsWorker(renderer_factory=FakeRenderer)  # 0.1 s of tone a character
    worker.wait_ready()
    yield Speech(worker)
    worker.close()


def deaf_room(speech: Speech | None = None) -> Room:
    """A room nobody listens to: the room does not wait for the ears."""
    room = Room(speech, fast=10)
    room.microphone.close()
    return room


def loud(room: Room, start: float, end: float) -> bool:
    """Whether the recording is well above the room's noise from `start` to `end` (seconds)."""
    piece = room.recording()[round(start * RATE) : round(end * RATE)].astype(np.int32)
    return len(piece) > 0 and np.abs(piece).max() > 1000


def test_a_wait_for_a_timer_passes_in_a_few_seconds_of_recording() -> None:
    room = deaf_room()
    with pytest.raises(queue.Empty):
        room.events.get(timeout=20 * 60.0)  # a break: nobody speaks until its timer
    assert room.clock.now() == pytest.approx(20 * 60.0)  # the timer is due, not overshot
    assert room.seconds <= LONGEST_SHORTENED_S + CHUNK_S


def test_the_voice_is_announced_before_its_first_sound_and_recorded_as_said(speech: Speech) -> None:
    room = deaf_room(speech)
    voice = RoomVoice(room, speech, VoiceSettings("espeak:en-us"), chimes={})
    voice.say("Hello  there.")
    assert room.events.get(timeout=1.0) == VoiceStarted()
    assert room.seconds == 0.0  # nothing of it heard yet
    assert room.events.get(timeout=10.0) == VoiceFinished(1)
    assert room.seconds == pytest.approx(1.2, abs=CHUNK_S)  # "Hello there." at 0.1 s a character
    assert [(e.at, e.who, e.text) for e in room.entries] == [(0.0, "Assistant", "Hello there.")]
    assert loud(room, 0.0, 1.2) and room.clock.now() == pytest.approx(room.seconds)


def test_a_stop_before_the_voice_began_still_reports_its_end(speech: Speech) -> None:
    room = deaf_room(speech)
    voice = RoomVoice(room, speech, VoiceSettings("espeak:en-us"), chimes={})
    voice.say("Dropped before its first sound.")
    voice.stop()
    assert room.events.get_nowait() == VoiceFinished(1, interrupted=True)
    assert room.entries == []


def test_stopping_the_voice_cuts_it_off(speech: Speech) -> None:
    room = deaf_room(speech)
    voice = RoomVoice(room, speech, VoiceSettings("espeak:en-us"), chimes={})
    voice.say("A long line that will not be finished.")
    voice.say("Never heard.")
    assert room.events.get(timeout=1.0) == VoiceStarted()
    with pytest.raises(queue.Empty):
        room.events.get(timeout=0.5)
    voice.stop()
    assert room.events.get_nowait() == VoiceFinished(2, interrupted=True)  # the queued line dropped too
    with pytest.raises(queue.Empty):
        room.events.get(timeout=0.5)
    assert loud(room, 0.0, 0.5) and not loud(room, 0.5, 1.0)


class Saying:
    """An actor that says "Yes.", waits a second, then presses the key of "yes"."""

    def __init__(self) -> None:
        self.moves: list[Move] = [
            Utter("Ann", "Yes.", VoiceSettings("espeak:en+f3"), meant="yes"),
            Wait(1.0),
            Press("Ann", "yes", "y"),
        ]

    def next_move(self, said: Entry | None) -> Move | None:
        return self.moves.pop(0) if self.moves else None

    def interrupt(self) -> None:
        self.moves = []


def test_what_the_couple_says_and_presses_is_on_the_timeline(speech: Speech) -> None:
    room = deaf_room(speech)
    room.actor = Saying()
    assert room.events.get(timeout=10.0) == CueHeard("yes", source="key")
    # "Yes." (0.4 s), then a second's wait, then the key; a key press makes no sound.
    assert [(e.who, e.text, e.meant) for e in room.entries] == [("Ann", "Yes.", "yes"), ("Ann", "(presses y)", None)]
    assert room.entries[1].at == pytest.approx(1.4, abs=2 * CHUNK_S)
    assert loud(room, 0.0, 0.4) and not loud(room, 0.45, 1.4)
    assert room.entries[0].line() == " 0:00.0  Ann: Yes.   [missed]"


def test_the_room_waits_for_the_ears_and_notes_what_they_heard(speech: Speech) -> None:
    room = Room(speech, fast=10)
    room.actor = Saying()
    chunks: list[int] = []

    def ears() -> None:  # hears a cue in the tenth chunk, after taking its time over it
        while (chunk := room.microphone.read(timeout=0.2)) is not None:
            if len(chunk):
                chunks.append(len(chunk))
            if len(chunks) == 10:
                threading.Event().wait(0.05)
                room.events.put(SpeechStarted())
                room.events.put(CueHeard("yes", phrase="yes", confidence=0.9))

    reader = threading.Thread(target=ears, daemon=True)
    reader.start()
    try:
        assert room.events.get(timeout=10.0) == SpeechStarted()
        assert room.samples == 10 * CHUNK == sum(chunks)  # the room went no further meanwhile
        assert room.events.get_nowait() == CueHeard("yes", phrase="yes", confidence=0.9)
        assert room.entries[0].heard == [CueHeard("yes", phrase="yes", confidence=0.9)]
        assert room.entries[0].line() == ' 0:00.0  Ann: Yes.   [heard: yes ("yes", 0.90)]'
    finally:
        room.microphone.close()
        reader.join(timeout=5.0)


def test_a_room_where_nothing_can_happen_says_it_is_stuck() -> None:
    room = deaf_room()
    with pytest.raises(AssistantError, match="stuck"):
        room.events.get()  # no timer runs, and nobody means to speak
