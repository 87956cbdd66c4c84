"""A simulated room, so a whole session runs through the `Runner` with no sound device.

The room is one audio timeline. The assistant's voice (`RoomVoice`) and whoever else speaks in
it (an `Actor`, such as the demo's couple) are mixed there with quiet room noise; every sample
is recorded and heard by the ears through `RoomMicrophone`. The room's clock moves with the
audio, or faster while nothing is heard (a break, the rest of a turn), so nothing depends on
how fast this machine is and the same session gives the same recording.

The runner's own loop drives it all: `RoomQueue` is the runner's event queue, and waiting on it
runs the room until something happens, as waiting on a real queue lets the world go on.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.ears.microphone import CHUNK, resample
from assistant.ears.vad import RATE
from assistant.errors import AssistantError, DeviceError
from assistant.events import CueHeard, Event, RecordRound, VoiceFinished, VoiceStarted
from assistant.journal import Journal
from assistant.session import Place
from assistant.timers import FakeClock
from assistant.voice.pcm import RATE as VOICE_RATE
from assistant.voice.pcm import scale
from assistant.voice.player import Clip
from assistant.voice.tts import FALLBACK_VOICE, RENDER_TIMEOUT, TtsWorker, VoiceEngine, VoiceSettings

ASSISTANT = "Assistant"

CHUNK_S = CHUNK / RATE
"""Seconds of audio the room makes at a time: the microphone's chunk."""
ROOM_NOISE = 8.0
"""RMS of the room's noise, in 16-bit steps: a quiet room."""
LONGEST_SHORTENED_S = 6.0
"""However long a wait on the clock (a twenty-minute break), at most this much in the recording."""
LONGEST_RECORDING_S = 30 * 60.0
"""A session that runs longer than this is stuck: stop rather than fill the memory."""
STUCK_S = 30.0
"""Seconds of a room where nobody speaks, nobody means to and no timer runs: the session is stuck."""
EARS_TIMEOUT_S = 300.0
"""However slow the recognizer (its process is replaced when it hangs), the ears take the next chunk within this."""


@dataclass
class Entry:
    """One line of the transcript: who said what, when (seconds into the recording)."""

    at: float
    who: str
    text: str
    meant: str | None = None
    """The cue a partner meant to give with these words."""
    attempt: int = 1
    """Which try at giving `meant` this was."""
    heard: list[CueHeard] = field(default_factory=list)
    """The cues the ears heard in these words."""
    note: str = ""

    def notes(self) -> str:
        """What the ears made of it: the cues heard (names, phrases, confidences), or that they missed it."""
        notes = [f'heard: {h.cue} ("{h.phrase}", {h.confidence or 0.0:.2f})' for h in self.heard]
        if self.meant is not None and not self.heard:
            notes.append("missed")
        return "; ".join([*notes, *([self.note] if self.note else [])])

    def line(self) -> str:
        minutes, seconds = divmod(self.at, 60)
        notes = self.notes()
        return f"{int(minutes):2d}:{seconds:04.1f}  {self.who}: {self.text}" + (f"   [{notes}]" if notes else "")


# ---- what happens in the room ------------------------------------------------------------------


@dataclass(frozen=True)
class Utter:
    """Someone says `text` in `voice`; the actor is given the transcript's `Entry` for it when done."""

    who: str
    text: str
    voice: VoiceSettings
    meant: str | None = None
    attempt: int = 1


@dataclass(frozen=True)
class Wait:
    """Quiet for `seconds` on the clock, `fast` times shorter in the recording if `shortened`; a
    wait ends early when the assistant starts speaking, or once the ears heard a cue in `heard_in`."""

    seconds: float
    shortened: bool = False
    heard_in: Entry | None = None


@dataclass(frozen=True)
class Press:
    """Someone presses the key of `cue` (it makes no sound)."""

    who: str
    cue: str
    key: str
    note: str = ""


Move = Utter | Wait | Press


class Actor(Protocol):
    """Someone in the room besides the assistant: asked what to do whenever the room is quiet."""

    def next_move(self, said: Entry | None) -> Move | None:
        """The next move, or None to wait for the session; `said` is the entry of the last `Utter`."""

    def interrupt(self) -> None:
        """The assistant began to speak: what was planned is dropped."""


# ---- rendering ---------------------------------------------------------------------------------


class Speech:
    """Renders lines with the voice engines, as the room hears them (16 kHz); each line once."""

    def __init__(self, worker: TtsWorker) -> None:
        self._worker = worker
        self._rendered: dict[tuple[str, VoiceSettings], np.ndarray] = {}

    def loadable(self, settings: VoiceSettings) -> VoiceSettings:
        """`settings` if its engine loads here, else eSpeak NG's at the same rate and volume."""
        try:
            self._worker.call(lambda engine: engine.configure(settings)).result(RENDER_TIMEOUT)
            return settings
        except DeviceError:
            return VoiceSettings(FALLBACK_VOICE, settings.rate, settings.volume)

    def samples(self, text: str, settings: VoiceSettings) -> np.ndarray:
        """`text` said with `settings`; raises DeviceError if it cannot be rendered."""
        key = (text, settings)
        if key not in self._rendered:

            def render(engine: VoiceEngine) -> bytes:
                engine.configure(settings)
                clip = Clip(text)
                if not engine.render(text, clip):
                    raise DeviceError(f"the voice did not finish rendering {text[:40]!r}")
                return clip.pcm()

            self._rendered[key] = to_room(self._worker.call(render).result(RENDER_TIMEOUT + 10.0))
        return self._rendered[key]


def to_room(pcm: bytes) -> np.ndarray:
    """The voice's 22 050 Hz samples at the ears' 16 kHz."""
    samples = resample(np.frombuffer(pcm, "<i2").astype(np.float64), VOICE_RATE, RATE)
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


# ---- the room ----------------------------------------------------------------------------------


@dataclass
class _Sound:
    samples: np.ndarray
    entry: Entry
    """Logged, with its time, when the first sample is heard."""
    played: int = 0


@dataclass
class _Waiting:
    until: float
    """Clock seconds."""
    move: Wait


class Room:
    """The timeline: mixes what is said, records it, lets the ears hear it, and moves the clock."""

    def __init__(
        self, speech: Speech | None = None, *, fast: float = 10.0, on_entry: Callable[[Entry], None] | None = None
    ) -> None:
        self.speech = speech
        """Renders what the actor says."""
        self.clock = FakeClock()
        self.fast = fast
        """Waits the actor asks to shorten, and waits for a timer, pass this many times faster."""
        self.events = RoomQueue(self)
        """The runner's event queue (`Runner(events=...)`)."""
        self.microphone = RoomMicrophone()
        self.actor: Actor | None = None
        self.entries: list[Entry] = []
        self._on_entry = on_entry
        self._noise = np.random.default_rng(0)  # fixed: the same session gives the same recording
        self._chunks: list[np.ndarray] = []
        self.samples = 0
        self._voice: deque[_Sound] = deque()
        self._voice_on = False
        self._spoken = 0
        """Lines and chimes the assistant was asked to say: the last one's number."""
        self._other: _Sound | None = None
        self._said: Entry | None = None
        self._last_said: Entry | None = None
        self._waiting: _Waiting | None = None
        self._idle_rate: float | None = None
        self._stuck_s = 0.0

    @property
    def seconds(self) -> float:
        """Length of the recording so far."""
        return self.samples / RATE

    def recording(self) -> np.ndarray:
        """16 kHz mono samples of everything heard in the room."""
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)

    # ---- the assistant's voice (called by `RoomVoice`, on the runner's thread) ---------------

    def speak(self, text: str, samples: np.ndarray) -> int:
        """The assistant says `text` after whatever it is saying now; returns the line's number."""
        self._voice.append(_Sound(samples, Entry(0.0, ASSISTANT, text)))
        self._spoken += 1
        return self._spoken

    def stop_voice(self) -> None:
        """Cut the assistant off and drop what it was going to say."""
        pending = self._voice_on or bool(self._voice)  # cut, or dropped before it began
        self._voice.clear()
        self._voice_on = False
        if pending:
            self.events.put(VoiceFinished(self._spoken, interrupted=True))

    def heard(self, cue: CueHeard) -> None:
        """The ears heard `cue`: note it on what was said last by someone other than the assistant."""
        if cue.source == "voice" and self._last_said is not None:
            self._last_said.heard.append(cue)

    # ---- time ----------------------------------------------------------------------------

    def pass_quiet(self, seconds: float) -> None:
        """Quiet for `seconds`, with nobody asked to act (before and after the session)."""
        for _ in range(round(seconds / CHUNK_S)):
            self._play(CHUNK_S)

    def step(self, deadline: float | None) -> None:
        """What happens next: the voice starting or stopping, a key pressed, or one chunk of audio.
        `deadline`: the runner's next timer, in clock seconds; the clock does not jump past it."""
        if self.seconds > LONGEST_RECORDING_S:
            raise AssistantError(f"the session did not end within {LONGEST_RECORDING_S / 60:.0f} minutes of audio")
        # The voice starts and stops between chunks, so the runner (and through it the ears)
        # knows of it before its first sound is heard.
        if self._voice and not self._voice_on:
            self._voice_on = True
            self._waiting = None
            if self.actor is not None:
                self.actor.interrupt()
            self.events.put(VoiceStarted())
            return
        if self._voice_on and not self._voice:
            self._voice_on = False
            self.events.put(VoiceFinished(self._spoken))
            return
        if self._waiting is not None and self._wait_over(self._waiting):
            self._waiting = None
        if self._other is None and not self._voice_on and self._waiting is None and self.actor is not None:
            said, self._said = self._said, None
            move = self.actor.next_move(said)
            if isinstance(move, Press):
                self._log(Entry(self.seconds, move.who, f"(presses {move.key})", note=move.note))
                self.events.put(CueHeard(move.cue, source="key"))
                return
            if isinstance(move, Utter):
                entry = Entry(0.0, move.who, move.text, move.meant, move.attempt)
                self._other = _Sound(self._speech_of(move), entry)
            elif isinstance(move, Wait):
                self._waiting = _Waiting(self.clock.now() + move.seconds, move)
        self._play(self._clock_seconds(deadline))

    def _speech_of(self, move: Utter) -> np.ndarray:
        assert self.speech is not None, "the room needs `speech` to render what is said in it"
        return self.speech.samples(move.text, move.voice)

    def _wait_over(self, waiting: _Waiting) -> bool:
        heard_in = waiting.move.heard_in
        return self.clock.now() >= waiting.until - 1e-9 or (heard_in is not None and bool(heard_in.heard))

    def _clock_seconds(self, deadline: float | None) -> float:
        """Clock seconds the next chunk stands for."""
        now = self.clock.now()
        if self._voice_on or self._other is not None:
            rate, until = 1.0, None
        elif self._waiting is not None:
            rate = self.fast if self._waiting.move.shortened else 1.0
            until = self._waiting.until
        else:
            # Nobody speaks or means to: wait for the next timer, in at most LONGEST_SHORTENED_S.
            if deadline is None:
                self._stuck_s += CHUNK_S
                if self._stuck_s > STUCK_S:
                    raise AssistantError("the session is stuck: nobody speaks, nobody means to, and no timer runs")
                return CHUNK_S
            if self._idle_rate is None:
                self._idle_rate = max(self.fast, (deadline - now) / LONGEST_SHORTENED_S)
            self._stuck_s = 0.0
            return min(CHUNK_S * self._idle_rate, max(deadline - now, 0.0))
        self._idle_rate = None
        self._stuck_s = 0.0
        seconds = CHUNK_S * rate
        if rate > 1.0:  # land on the end of the wait or the timer, not past it
            ends = [t for t in (until, deadline) if t is not None]
            seconds = min([seconds, *(max(t - now, 0.0) for t in ends)])
        return seconds

    def _play(self, clock_seconds: float) -> None:
        """One chunk: the voice and whoever speaks, over the room's noise."""
        mixed = self._noise.standard_normal(CHUNK) * ROOM_NOISE
        filled = 0
        while self._voice and filled < CHUNK:
            filled += self._take(self._voice[0], mixed, filled)
            if self._voice[0].played >= len(self._voice[0].samples):
                self._voice.popleft()
        if self._other is not None:
            self._take(self._other, mixed, 0)
            if self._other.played >= len(self._other.samples):
                self._said = self._other.entry
                self._other = None
        heard = np.clip(mixed, -32768, 32767).round().astype(np.int16)
        self._chunks.append(heard)
        self.samples += CHUNK
        self.microphone.hear(heard)
        self.clock.advance(clock_seconds)

    def _take(self, sound: _Sound, into: np.ndarray, offset: int) -> int:
        """Mix the next samples of `sound` into `into` from `offset`; returns how many."""
        if sound.played == 0 and sound.entry.text:  # a line with no words leaves no trace
            sound.entry.at = (self.samples + offset) / RATE
            self._log(sound.entry)
            if sound.entry.who != ASSISTANT:
                self._last_said = sound.entry
        piece = sound.samples[sound.played : sound.played + CHUNK - offset]
        into[offset : offset + len(piece)] += piece
        sound.played += len(piece)
        return max(len(piece), 1)

    def _log(self, entry: Entry) -> None:
        self.entries.append(entry)
        if self._on_entry is not None:
            self._on_entry(entry)


class RoomQueue(queue.Queue[Event]):
    """The runner's event queue in a simulated room: while the runner waits for an event, the room
    goes on, one chunk at a time, until one comes or the wait is over on the room's clock.

    The room's clock reports `speed` 1, so the runner's timeouts are clock seconds."""

    def __init__(self, room: Room) -> None:
        super().__init__()
        self._room = room

    def put(self, item: Event, block: bool = True, timeout: float | None = None) -> None:
        if isinstance(item, CueHeard):
            self._room.heard(item)  # from the ears' thread, while the room waits for them
        super().put(item, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Event:
        if not block:
            return super().get(block=False)
        clock = self._room.clock
        deadline = None if timeout is None else clock.now() + timeout
        while True:
            try:
                return super().get(block=False)
            except queue.Empty:
                pass
            if deadline is not None and clock.now() >= deadline:
                raise queue.Empty
            self._room.step(deadline)


# ---- devices -----------------------------------------------------------------------------------


class RoomMicrophone:
    """An `AudioSource` that hears the room: each chunk is handed to the ears, and the room goes on
    only once they have dealt with it (and posted what they heard in it)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._chunk: np.ndarray | None = None
        self._busy = False
        self._closed = False

    def hear(self, chunk: np.ndarray) -> None:
        """The room's side: hand over `chunk`, and wait until the ears are done with it."""
        with self._cond:
            if self._closed:
                return
            self._chunk = chunk
            self._cond.notify_all()
            if not self._cond.wait_for(
                lambda: self._closed or (self._chunk is None and not self._busy), timeout=EARS_TIMEOUT_S
            ):
                raise DeviceError(f"the ears took no audio for {EARS_TIMEOUT_S:.0f} s")

    def read(self, timeout: float) -> np.ndarray | None:
        """The ears' side: the next chunk (empty if none came within `timeout`), None once closed."""
        with self._cond:
            self._busy = False  # back for more: done with the last chunk
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._closed or self._chunk is not None, timeout)
            if self._closed:
                return None
            chunk, self._chunk = self._chunk, None
            if chunk is None:
                return np.zeros(0, np.int16)
            self._busy = True
            return chunk

    def close(self) -> None:
        """Stop: the ears read no more, and the room no longer waits for them."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class RoomVoice:
    """The assistant's `Voice` in the room: each line rendered when asked for, and played on the
    room's timeline; the room posts `VoiceStarted` and `VoiceFinished`."""

    def __init__(self, room: Room, speech: Speech, settings: VoiceSettings, chimes: dict[str, bytes]) -> None:
        self.settings = settings
        self._room = room
        self._speech = speech
        # Chimes follow the voice's volume, as with the real voice.
        self._chimes = {name: to_room(scale(pcm, settings.volume)) for name, pcm in chimes.items()}

    def say(self, text: str) -> int:
        text = " ".join(text.split())  # one transcript line each
        return self._room.speak(text, self._speech.samples(text, self.settings) if text else np.zeros(0, np.int16))

    def chime(self, name: str) -> int:
        return self._room.speak(f"(chime: {name})", self._chimes[name])

    def stop(self) -> None:
        self._room.stop_voice()

    def close(self) -> None:
        pass


class UnkeptJournal(Journal):
    """The runner's journal when nothing may be kept: every record is dropped, nothing is opened."""

    def __init__(self, programme: str) -> None:  # the parent's would open a file: none here
        self.programme = programme
        self.notice = None
        self.kept = None
        self.session_id = None

    def saved_place(self) -> Place | None:
        return None

    def forget_place(self) -> None:
        pass

    def begin_session(self) -> None:
        pass

    def end_session(self, completed: bool) -> None:
        pass

    def save_place(self, place: Place, completed_steps: tuple[int, ...], finished: bool) -> None:
        pass

    def record_round(self, record: RecordRound) -> None:
        pass

    def record_not_ready(self, step: int) -> None:
        pass

    def has_sessions(self) -> bool:
        return False

    def record_timeout(self) -> None:
        pass

    def rounds(self) -> list[RecordRound]:
        return []

    def close(self) -> None:
        pass
