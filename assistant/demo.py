"""`assistant demo`: a whole short session with a simulated couple, written to one WAV file.

Everything happens on one simulated audio timeline, with no sound device and no waiting: the
assistant's lines come from the real eSpeak NG renderer, the couple speaks in two other eSpeak NG
voices, and quiet room noise fills the gaps. The couple's cues are not injected: their audio goes
through the real endpointer and cue spotter, and only what those hear moves the session on. A
partner whose cue is missed says it again, perhaps another way, and after three misses presses
its key, as a person would.

The session is driven directly on a fake clock; pauses that stand for minutes (the rest of a
turn, a break) pass `fast` times quicker in the recording. The demo keeps no journal: nothing of
the user's is read or written, only the WAV file and the transcript asked for.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from assistant.ears.listener import CueListener
from assistant.ears.microphone import resample
from assistant.ears.spotter import SphinxCueSpotter
from assistant.ears.vad import RATE
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.errors import AssistantError, DeviceError
from assistant.events import (
    Action,
    Chime,
    CueHeard,
    EndSession,
    Event,
    LearnTake,
    Say,
    StopVoice,
    TakeHeard,
    TimerFinished,
    VoiceFinished,
)
from assistant.keys import CUE_KEYS
from assistant.programme import Programme, load_builtin, parse_programme
from assistant.programme.resources import load_help_resources
from assistant.rehearsal import EXPECTED_CUES
from assistant.session import FLOOR_STATES, S, Session
from assistant.timers import FakeClock, Timers
from assistant.voice.chimes import load_chimes
from assistant.voice.pcm import RATE as VOICE_RATE
from assistant.voice.pcm import scale, write_wav
from assistant.voice.player import Clip
from assistant.voice.tts import RENDER_TIMEOUT, Renderer, TtsWorker, VoiceSettings

ASSISTANT = "Assistant"

# ---- the couple ------------------------------------------------------------------------------

COUPLE_VOICES = (VoiceSettings("en+f3", 140, 0.8), VoiceSettings("en-us+m3", 130, 0.8))
"""A British woman, and an American man slower than the assistant and with other formants: both
easy to tell from the assistant's en-us by ear."""

PHRASINGS: dict[str, tuple[str, ...]] = {
    "next": ("continue", "next", "next step", "let's begin", "go ahead"),
    "done": ("i'm done", "i'm finished", "your turn", "over to you"),
    "yes": ("yes", "yeah", "okay", "ready"),
    "resume": ("carry on", "resume", "i'm back"),
}
"""Ways a partner says a cue, from `CUE_PHRASES`, in the order they try them after their habit;
"go" is left out, as the recognizer often takes it for "no"."""

HABITS = (("next step", "i'm finished", "yes"), ("continue", "your turn", "yeah"))
"""What each partner says first, as people have their own ways of saying things."""


@dataclass(frozen=True)
class Partner:
    name: str
    voice: VoiceSettings
    habits: tuple[str, ...] = ()

    def phrasings(self, cue: str) -> list[str]:
        """Ways to say `cue`: this partner's habit first, then the others."""
        return sorted(PHRASINGS.get(cue, CUE_PHRASES[cue]), key=lambda phrase: phrase not in self.habits)


Lines = tuple[tuple[str, ...], tuple[str, ...]]
"""A line or two for each partner: the first partner's, then the second's."""

WORDS: dict[str, dict[str, Lines]] = {
    "What trust means to me": {
        "speak": (
            (
                "For me, trust means that what you say and what you do line up, even on ordinary days.",
                "It means I can relax when you are late, without my mind running ahead of me.",
            ),
            (
                "Trust, to me, is hearing the hard things from you first, not from somebody else.",
                "And feeling that I can tell you how I really feel without it being held against me.",
            ),
        ),
    },
    "The sides of intimacy": {
        "speak": (
            (
                "The emotional side matters most to me: being able to tell you when I am sad.",
                "And the physical side, simple closeness, like sitting together in the evening.",
            ),
            (
                "For me it is the intellectual side, talking about ideas and plans late into the night.",
                "And feeling safe to be myself, even when I am tired and grumpy.",
            ),
        ),
    },
    "What broke trust, as I see it": {
        "speak": (
            (
                "When I learned what had been kept from me, I felt I no longer knew what was real.",
                "Since then I have been watching everything, and I hate how tired that makes me.",
            ),
            (
                "I see now that I hid things because I was afraid of the argument, and that made it worse.",
                "I had felt alone for a long time before that, and I never found the words to tell you.",
            ),
        ),
    },
    "An open, patient conversation": {
        "talk": (
            (
                "I did not know how alone you felt back then.",
                "Can we keep talking about this, a little at a time?",
            ),
            (
                "I did not know either, until I said it out loud today.",
                "I would like that, slowly, at our own pace.",
            ),
        ),
    },
    "Speaker and listener": {
        "speak": (
            (
                "I feel lonely when the evenings go by without us really talking.",
                "I need a little time with you each day, even ten minutes, just for us.",
            ),
            (
                "I feel anxious when plans change at the last minute.",
                "I wish we could tell each other early, so neither of us is left waiting.",
            ),
        ),
        "reflect": (
            ("What I heard is that sudden changes of plan make you anxious. Did I get that right?",),
            ("I heard that you feel lonely when our evenings pass without real talk. Is that it?",),
        ),
    },
    "One grudge to work on": {
        "speak": (
            (
                "I am ready to start letting go of the birthday that was forgotten two years ago.",
                "It still stings a little, but I do not want to keep bringing it up.",
            ),
            (
                "I want to let go of how I felt when you told your family before you told me.",
                "I can see you were upset at the time, and I am ready to put that one down.",
            ),
        ),
    },
    "Plan one shared activity": {
        "talk": (
            (
                "How about a walk by the river on Saturday morning?",
                "Nine works for me. We can get coffee on the way back.",
            ),
            (
                "I would like that. Shall we say nine o'clock, before it gets busy?",
                "Then it is a plan. I am looking forward to it.",
            ),
        ),
    },
    "A small daily ritual": {
        "talk": (
            (
                "What if we hug for a moment when one of us comes home?",
                "A hug and one kind word. That sounds doable, even on busy days.",
            ),
            (
                "I like that, and maybe we each say one thing we appreciated that day.",
                "Let us try it every evening this week.",
            ),
        ),
    },
}
"""What the simulated couple says in the exercises of the built-in and the demo programme, in our
own words: gentle and general, never a real couple's."""

ANY_EXERCISE: dict[str, Lines] = {
    "speak": (
        (
            "There is something I have wanted to say for a while, and I am glad we have the time.",
            "I would like us to be gentle with each other while we work this out.",
        ),
        (
            "I have been thinking about this a lot, and I want to be honest with you.",
            "It matters to me that we keep trying, even when it is hard.",
        ),
    ),
    "reflect": (
        ("What I heard is that you want us to keep trying, even when it is hard. Did I get that right?",),
        ("I heard that you want us to be gentle with each other while we work this out. Is that it?",),
    ),
    "talk": (
        ("I am glad we are talking about this.", "Let us keep it gentle, and come back to it another day."),
        ("Me too. It feels easier than I expected.", "I would like that."),
    ),
}
"""Words for exercises of a programme of the user's own."""


def lines_for(exercise: str, phase: str, partner: int) -> tuple[str, ...]:
    """What partner 0 or 1 says when holding the floor in `phase` ("speak", "reflect", "talk")."""
    return WORDS.get(exercise, {}).get(phase, ANY_EXERCISE[phase])[partner]


# ---- the demo programme ------------------------------------------------------------------------

DEMO_PROGRAMME = """
title: A short demo session
partners: [Ann, Ben]
timing: {speak_seconds: 120, reflect_seconds: 60, talk_seconds: 180}
welcome: >
  Welcome, both of you. In this short session I give the floor to one of you at a time,
  and keep time so that each of you is heard.
  Say "your turn" when you have finished speaking. When you are ready, say "next".
closing: That is the end of this short session. Thank you both for listening so well.
steps:
  - title: Listening well
    check_ready: true
    intro: One of you speaks, and the other says back what they heard.
    exercises:
      - title: Speaker and listener
        format: listening
        prompt: Speak from your own side, with "I" statements. The listener does not interrupt.
        turn_prompt: '{speaker}, you have the floor. {listener}, just listen. Say "I''m done" when you have finished.'
        reflect_prompt: '{listener}, tell {speaker} what you heard. Say "I''m done" when you have finished.'
        check_prompt: '{speaker}, did {listener} get it right? Say "yes" or "no".'
        retry_prompt: "That is all right. {speaker}, say what was missed; {listener}, try again."
  - title: A moment together
    intro: Last, plan one small thing to do together this week.
    exercises:
      - title: Plan one shared activity
        format: talk
        prompt: Choose one thing, a day and a time. Say "I'm finished" when you have agreed.
"""
"""Two short steps: a speaker-listener exercise, then an open conversation. The phrases come from
the built-in programme."""


def demo_programme() -> Programme:
    return parse_programme(DEMO_PROGRAMME, "the demo programme", fallback=load_builtin())


# ---- timing --------------------------------------------------------------------------------------

CHUNK = 1600
"""Samples the ears take at a time: 100 ms, as from the microphone."""
ROOM_NOISE = 8.0
"""RMS of the room's noise, in 16-bit steps: a quiet room."""
LEAD_IN_S = 1.0
"""Quiet before the first word, so the ears learn the room as they would at the start."""
THINK_S = 1.0
"""Before a partner answers the assistant: longer than the ears' echo window after our voice."""
BETWEEN_LINES_S = 0.6
BEFORE_CUE_S = 0.8
CUE_WAIT_S = 1.5
"""How long a partner waits for the assistant to react before saying the cue again."""
TRIES = 3
"""Spoken tries before a partner presses the key instead."""
REST_OF_TURN_S = 15.0
"""Clock seconds of a turn that are not written out (more talk, thinking), shortened by `fast`."""
LONGEST_SHORTENED_S = 6.0
"""However long a wait on the clock (a twenty-minute break), at most this much in the recording."""
LONGEST_RECORDING_S = 30 * 60.0
"""A session that runs longer than this is stuck: stop rather than fill the disk."""


@dataclass(frozen=True)
class Pause:
    seconds: float
    """Seconds on the clock; as long in the recording unless `shortened`."""
    shortened: bool = False


@dataclass(frozen=True)
class Talk:
    partner: Partner
    text: str


@dataclass(frozen=True)
class GiveCue:
    partner: Partner
    cue: str


Move = Pause | Talk | GiveCue


class SimulatedCouple:
    """Decides what the couple does next: a line or two on the floor, then the cue the step asks for."""

    def __init__(self, partners: tuple[Partner, Partner]) -> None:
        self.partners = partners
        self._floors_talked: set[tuple[S, int]] = set()
        self._answers = 0

    def plan(self, session: Session) -> list[Move] | None:
        """What to do in the session's state now, or None to wait (a break, the closing)."""
        state = session.state
        if state in FLOOR_STATES:
            return self._hold_floor(session)
        if state is S.LEARNING:  # each says "your turn" when asked, as the programme asks
            return [Pause(THINK_S), Talk(self.partners[session.learning_from], "Your turn.")]
        cue = {S.NOT_READY: "yes"}.get(state) or EXPECTED_CUES.get(state)
        if cue is None:
            return None
        if state is S.STEP_INTRO and session.programme.steps[session.place.step].check_ready:
            cue = "yes"  # the step asks whether both agree to go on: answer as asked
        if state is S.CHECKING:
            partner = self.partners[session.turn % 2]  # the speaker says whether they were understood
        else:
            partner = self.partners[self._answers % 2]  # the two take turns answering prompts
            self._answers += 1
        return [Pause(THINK_S), GiveCue(partner, cue)]

    def _hold_floor(self, session: Session) -> list[Move]:
        exercise = session.exercise
        assert exercise is not None
        speaker, listener = session.turn % 2, (session.turn + 1) % 2
        closer = {S.SPEAKING: speaker, S.REFLECTING: listener, S.TALKING: 0}[session.state]
        moves: list[Move] = [Pause(THINK_S)]
        # Each phase is talked through once: after an interruption (a timer) only the cue is left.
        phase = (session.state, len(session.rounds))
        if phase not in self._floors_talked:
            self._floors_talked.add(phase)
            if session.state is S.TALKING:
                first, second = (lines_for(exercise.title, "talk", partner) for partner in (0, 1))
                talk = [(self.partners[i % 2], line) for i, line in enumerate(_interleave(first, second))]
            else:
                phase_name = "speak" if session.state is S.SPEAKING else "reflect"
                talk = [(self.partners[closer], line) for line in lines_for(exercise.title, phase_name, closer)]
            moves += [Talk(partner, line) for partner, line in talk]
            # The rest of the turn, not written out; shorter than the silence after which the
            # assistant asks whether the speaker has finished.
            moves.append(Pause(min(REST_OF_TURN_S, 0.6 * exercise.silence_seconds), shortened=True))
        return [*moves, Pause(BEFORE_CUE_S), GiveCue(self.partners[closer], "done")]


def _interleave(first: tuple[str, ...], second: tuple[str, ...]) -> list[str]:
    return [line for pair in zip(first, second, strict=True) for line in pair]


# ---- the recording -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of the transcript: who said what, when (seconds into the recording)."""

    at: float
    who: str
    text: str
    note: str = ""
    """For cues: what the recognizer heard, or that it missed it."""

    def line(self) -> str:
        minutes, seconds = divmod(self.at, 60)
        note = f"   [{self.note}]" if self.note else ""
        return f"{int(minutes):2d}:{seconds:04.1f}  {self.who}: {self.text}{note}"


class Room:
    """The recording and what the ears hear, at once: every sample goes to both, in 100 ms chunks.

    The clock moves with the audio, or `fast` times quicker while time is shortened.
    `after_chunk` runs after every chunk, to handle what the ears heard and the timers due.
    """

    def __init__(self, listener: CueListener, clock: FakeClock, fast: float, after_chunk: Callable[[], None]) -> None:
        self._listener = listener
        self._clock = clock
        self.fast = fast
        self._after_chunk = after_chunk
        self._noise = np.random.default_rng(0)  # fixed: the same demo gives the same recording
        self.chunks: list[np.ndarray] = []
        self.samples = 0

    @property
    def seconds(self) -> float:
        """Length of the recording so far."""
        return self.samples / RATE

    def play(self, sound: np.ndarray) -> None:
        """`sound` in the room, at its own length."""
        for start in range(0, len(sound), CHUNK):
            piece = sound[start : start + CHUNK]
            self._write(piece, len(piece) / RATE)

    def pause(self, seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        """Quiet for `seconds`, or until `until()` comes true."""
        self._quiet(seconds, seconds, until)

    def pass_time(self, seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        """`seconds` go by on the clock, `fast` times shorter in the recording."""
        self._quiet(min(seconds / self.fast, LONGEST_SHORTENED_S), seconds, until)

    def _quiet(self, recorded: float, clock_seconds: float, until: Callable[[], bool]) -> None:
        chunks = max(1, round(recorded * RATE / CHUNK))
        for _ in range(chunks):
            if until():
                return
            self._write(np.zeros(CHUNK, np.int16), clock_seconds / chunks)

    def _write(self, sound: np.ndarray, clock_seconds: float) -> None:
        noise = self._noise.standard_normal(len(sound)) * ROOM_NOISE
        heard = np.clip(sound.astype(np.float64) + noise, -32768, 32767).round().astype(np.int16)
        self.chunks.append(heard)
        self.samples += len(heard)
        self._listener.feed(heard)
        self._clock.advance(clock_seconds)
        self._after_chunk()


def _to_room(pcm: bytes) -> np.ndarray:
    """The voice's 22 050 Hz samples at the ears' 16 kHz."""
    samples = resample(np.frombuffer(pcm, "<i2").astype(np.float64), VOICE_RATE, RATE)
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


# ---- the demo --------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    entries: list[Entry]
    recording: np.ndarray
    """16 kHz mono samples of the whole conversation."""
    clock_seconds: float
    """How long the session took on its own clock."""
    completed: bool
    """The closing was reached."""
    heard: int = 0
    """Cues the recognizer heard as meant."""
    repeated: int = 0
    """Cues said again because the recognizer missed them."""
    keys: int = 0
    """Cues given by key after `TRIES` misses."""
    stray: list[str] = field(default_factory=list)
    """Cues the recognizer heard that were not meant (names only)."""

    @property
    def seconds(self) -> float:
        """Length of the recording."""
        return len(self.recording) / RATE


class Demo:
    """One session with the simulated couple, from the welcome to the end."""

    def __init__(
        self,
        programme: Programme,
        *,
        worker: TtsWorker,
        spotter: SphinxCueSpotter,
        fast: float = 10.0,
        out: TextIO | None = None,
    ) -> None:
        self.voice = VoiceSettings()
        first, second = (
            Partner(name, voice, habits)
            for name, voice, habits in zip(programme.partners, COUPLE_VOICES, HABITS, strict=True)
        )
        self.partners = (first, second)
        self.couple = SimulatedCouple(self.partners)
        self.clock = FakeClock()
        self.timers = Timers(self.clock)
        self.session = Session(programme, help_resources=load_help_resources(), hears_speech=True)
        self._worker = worker
        self._events: deque[Event] = deque()
        self.listener = CueListener(spotter, self._events.append)
        self.room = Room(self.listener, self.clock, fast, self._after_chunk)
        self._chimes = {name: _to_room(scale(pcm, self.voice.volume)) for name, pcm in load_chimes().items()}
        self._voice_queue: deque[Say | Chime] = deque()
        self._listening: frozenset[str] | None = None
        self._ending: EndSession | None = None
        self._heard: list[CueHeard] = []
        self._takes: list[TakeHeard] = []
        self._out = out
        self.result = DemoResult([], np.zeros(0, np.int16), 0.0, completed=False)

    def run(self) -> DemoResult:
        """Play the whole session; returns the transcript, the recording and the tallies."""
        self.room.pause(LEAD_IN_S)
        self._carry_out(self.session.start(self.clock.now()))
        while self.session.state is not S.ENDED or self._voice_queue:
            if self.room.seconds > LONGEST_RECORDING_S:
                raise AssistantError(f"the demo did not end within {LONGEST_RECORDING_S / 60:.0f} minutes of audio")
            if self._voice_queue:
                self._speak()
            elif not self._couple_moves():
                self._wait_for_timer()
        self.room.pause(LEAD_IN_S)
        self.result.recording = np.concatenate(self.room.chunks)
        self.result.clock_seconds = self.clock.now()
        self.result.completed = bool(self._ending and self._ending.completed)
        return self.result

    # ---- the assistant ---------------------------------------------------------------------

    def _speak(self) -> None:
        """Say everything queued, marked to the ears as our own voice (as the runner does)."""
        self.listener.set_voice_playing(True)
        while self._voice_queue:
            action = self._voice_queue.popleft()
            if isinstance(action, Chime):
                self._log(Entry(self.room.seconds, ASSISTANT, f"(chime: {action.name})"))
                self.room.play(self._chimes[action.name])
            elif text := " ".join(action.text.split()):  # one transcript line each
                self._log(Entry(self.room.seconds, ASSISTANT, text))
                self.room.play(self._render(text, self.voice))
        self.listener.set_voice_playing(False)
        self._handle(VoiceFinished())
        if self._ending and self.session.state is S.CLOSING:
            self._carry_out(self.session.closing_finished())

    def _render(self, text: str, settings: VoiceSettings) -> np.ndarray:
        def render(renderer: Renderer) -> bytes:
            renderer.configure(settings)
            clip = Clip(text)
            if not renderer.render(text, clip):
                raise DeviceError(f"eSpeak NG did not finish rendering {text[:40]!r}")
            return clip.pcm()

        return _to_room(self._worker.call(render).result(RENDER_TIMEOUT + 10.0))

    # ---- the session -------------------------------------------------------------------------

    def _after_chunk(self) -> None:
        while self._events:
            event = self._events.popleft()
            if isinstance(event, CueHeard):
                self._heard.append(event)
            elif isinstance(event, TakeHeard):
                self._takes.append(event)
            self._handle(event)
        for name in self.timers.pop_due():
            self._handle(TimerFinished(name))

    def _handle(self, event: Event) -> None:
        self._carry_out(self.session.handle(event, self.clock.now()))

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if self.timers.carry_out(action):
                continue
            if isinstance(action, Say | Chime):
                self._voice_queue.append(action)
            elif isinstance(action, StopVoice):
                self._voice_queue.clear()  # the couple never talks over the voice: nothing plays now
            elif isinstance(action, LearnTake):
                self.listener.learn_next(action.cue)
            elif isinstance(action, EndSession):
                self._ending = action
            # Progress, rounds and what the screen shows are the journal's and the view's: none here.
        cues = self.session.listen_cues()
        if cues != self._listening:
            self.listener.listen_for(cues)
            self._listening = cues

    def _wait_for_timer(self) -> None:
        deadline = self.timers.next_deadline()
        if deadline is None:
            raise AssistantError(f"the demo is stuck in {self.session.state.value}: nobody speaks and no timer runs")
        state = self.session.state
        # A millisecond past the deadline: the timer fires within the last chunk.
        self.room.pass_time(deadline - self.clock.now() + 0.001, until=lambda: self._moved_on(state))

    def _moved_on(self, state: S) -> bool:
        return bool(self._voice_queue) or self.session.state is not state

    # ---- the couple --------------------------------------------------------------------------

    def _couple_moves(self) -> bool:
        """Play the couple's next moves; false when they have nothing to do in this state."""
        moves = self.couple.plan(self.session)
        if moves is None:
            return False
        phase = (self.session.state, len(self.session.rounds))
        for move in moves:
            if self._voice_queue or (self.session.state, len(self.session.rounds)) != phase:
                break  # the session moved on (a timer, a cue heard): the couple thinks again
            if isinstance(move, Pause):
                if move.shortened:
                    self.room.pass_time(move.seconds)
                else:
                    self.room.pause(move.seconds)
            elif isinstance(move, Talk):
                self._say(move.partner, move.text, BETWEEN_LINES_S, meant=None)
            else:
                self._give_cue(move.partner, move.cue)
        return True

    def _give_cue(self, partner: Partner, cue: str) -> None:
        phase = (self.session.state, len(self.session.rounds))
        for tries, phrase in enumerate(partner.phrasings(cue)[:TRIES]):
            if self._say(partner, _sentence(phrase), CUE_WAIT_S, meant=cue):
                return
            if self._voice_queue or (self.session.state, len(self.session.rounds)) != phase:
                return  # something else moved the session on
            if tries + 1 < TRIES:
                self.result.repeated += 1
        key = CUE_KEYS[cue]
        self._log(Entry(self.room.seconds, partner.name, f"(presses {key})", f"key: {cue}, after {TRIES} misses"))
        self.result.keys += 1
        self._handle(CueHeard(cue, source="key"))

    def _say(self, partner: Partner, text: str, wait: float, meant: str | None) -> bool:
        """`partner` says `text`, then waits up to `wait` seconds; true if the ears heard a cue."""
        start, heard_before, takes_before = self.room.seconds, len(self._heard), len(self._takes)
        self.room.play(self._render(text, partner.voice))
        self.room.pause(wait, until=lambda: len(self._heard) > heard_before or bool(self._voice_queue))
        heard = self._heard[heard_before:]
        notes = [f'heard: {h.cue} ("{h.phrase}", {h.confidence:.2f})' for h in heard]
        notes += ["learned" if take.learned else "not learned" for take in self._takes[takes_before:]]
        for h in heard:
            if h.cue == meant:
                self.result.heard += 1
            else:
                self.result.stray.append(h.cue)
        if meant is not None and not heard:
            notes.append("missed")
        self._log(Entry(start, partner.name, text, "; ".join(notes)))
        return bool(heard)

    def _log(self, entry: Entry) -> None:
        self.result.entries.append(entry)
        if self._out is not None:
            print(entry.line(), file=self._out, flush=True)


def _sentence(phrase: str) -> str:
    """A cue phrase as said: "i'm done" becomes "I'm done."."""
    words = phrase.split()
    words = [word.replace("i'm", "I'm") if word.startswith("i'm") else word for word in words]
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


# ---- files ---------------------------------------------------------------------------------------


def transcript(demo: Demo) -> str:
    """The whole conversation, one utterance a line, with a header and the tallies."""
    result = demo.result
    voices = ", ".join(f"{p.name} ({p.voice.voice}, {p.voice.rate} words a minute)" for p in demo.partners)
    ended = "at the closing" if result.completed else "before the closing"
    lines = [
        f"# assistant demo: {demo.session.programme.title!r}, with a simulated couple: {voices}.",
        f"# The assistant speaks {demo.voice.voice} at {demo.voice.rate} words a minute. The couple's words are",
        "# scripted; their cues went through the recognizer, and only what it heard moved the session on.",
        f"# Waits and the rest of each turn pass {demo.room.fast:g} times faster than on the session's clock.",
        "# time  who: what was said   [for cues, what the recognizer heard]",
        *(entry.line() for entry in result.entries),
        f"# The session ended {ended}: {_minutes(result.seconds)} of recording, "
        f"{_minutes(result.clock_seconds)} on the session's clock.",
        f"# Cues: {result.heard} heard by the recognizer, {result.repeated} said again after a miss, "
        f"{result.keys} given by key after {TRIES} misses, {len(result.stray)} heard that were not meant"
        + (f" ({', '.join(result.stray)})." if result.stray else "."),
    ]
    return "\n".join(lines) + "\n"


def _minutes(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def demo_command(wav: str, transcript_file: str, programme: Programme, *, fast: float, out: TextIO) -> int:
    """`assistant demo`: play the session, write the WAV and the transcript; returns the exit code."""
    targets = [Path(wav), Path(transcript_file)]
    for target in targets:
        if not target.parent.is_dir():  # say so now, not after the whole session
            raise AssistantError(f"cannot write {target}: there is no folder {target.parent}")
    worker = TtsWorker()
    try:
        worker.wait_ready()  # raises DeviceError naming what to install
        spotter = SphinxCueSpotter()
        try:
            demo = Demo(programme, worker=worker, spotter=spotter, fast=fast, out=out)
            result = demo.run()
        finally:
            spotter.close()
    finally:
        worker.close()
    try:
        write_wav(targets[0], result.recording.astype("<i2").tobytes(), rate=RATE)  # as the ears hear it
        targets[1].write_text(transcript(demo), encoding="utf-8")
    except OSError as error:
        raise AssistantError(f"cannot write the demo's files: {error}") from None
    print(
        f"Wrote {targets[0]} ({_minutes(result.seconds)}, 16 kHz mono) and {targets[1]}. "
        f"Cues: {result.heard} heard by the recognizer, {result.keys} given by key.",
        file=out,
    )
    return 0
