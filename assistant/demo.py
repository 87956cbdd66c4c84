"""`assistant demo`: a whole short session with a simulated couple, written to one WAV file.

The session runs through the `Runner`, as `assistant run` does, on simulated devices
(`assistant.simulated`): a room where the assistant's voice and the couple's two eSpeak NG voices
are mixed over quiet room noise, a microphone that hears that room, and a clock that moves with
the audio. The ears are the real ones (endpointer and Whisper cue spotter in its worker process):
the couple's cues are not injected, only what the ears hear in the room moves the session on. A
partner whose cue is missed says it again, perhaps another way, and after three misses presses
its key, as a person would.

Pauses that stand for minutes (the rest of a turn, a break) pass `fast` times quicker in the
recording. Nothing of the user's is read or written, only the WAV file and the transcript asked
for: the journal keeps nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from assistant.ears.ears import ListeningEars
from assistant.ears.spotter import CueSpotter
from assistant.ears.vad import RATE
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.errors import AssistantError
from assistant.events import CueHeard
from assistant.keys import CUE_KEYS
from assistant.programme import Exercise, Programme, Step, load_builtin, parse_programme
from assistant.programme.resources import load_help_resources
from assistant.rehearsal import EXPECTED_CUES
from assistant.runner import Runner
from assistant.session import FLOOR_STATES, S, Session, Status
from assistant.simulated import (
    Entry,
    Move,
    Press,
    Room,
    RoomVoice,
    Speech,
    UnkeptJournal,
    Utter,
    Wait,
)
from assistant.ui import Countdown
from assistant.voice.chimes import load_chimes
from assistant.voice.pcm import write_wav
from assistant.voice.tts import TtsWorker, VoiceEngine, VoiceSettings

# ---- the couple ------------------------------------------------------------------------------

COUPLE_VOICES = (VoiceSettings("espeak:en+f3", 140, 0.8), VoiceSettings("espeak:en-us+m3", 130, 0.8))
"""Two eSpeak NG voices: a British woman, and an American man slower than the assistant and with
other formants; both easy to tell from the assistant's voice by ear."""

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


# ---- the couple's timing -------------------------------------------------------------------------

LEAD_IN_S = 1.0
"""Quiet before the first word, so the ears learn the room as they would at the start; and after the last."""
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

Plan = Generator[Move, Entry | None, None]
"""What the couple means to do, move by move; each `Utter` is answered with its transcript entry."""


class SimulatedCouple:
    """Two partners who do what each prompt asks: a line or two on the floor, then the cue.

    They follow the session as a couple would, through what the runner shows (a `View`), and act
    in the room (an `Actor`): whenever the room is quiet they are asked for their next move.
    """

    def __init__(self, programme: Programme, partners: tuple[Partner, Partner]) -> None:
        self.programme = programme
        self.partners = partners
        self.status: Status | None = None
        self._moment: tuple[object, ...] = ()
        self._speaker = 0
        """The partner who held the floor last: they say whether they were understood."""
        self._answers = 0
        self._floors_talked: set[tuple[object, ...]] = set()
        self._plan: Plan | None = None

    # ---- the view: where the session is -------------------------------------------------------

    def update(self, status: Status, countdown: Countdown | None) -> None:
        moment = (status.state, status.step_number, status.exercise_title, status.floor)
        if moment != self._moment:  # the session moved on: the couple thinks again
            self._moment = moment
            self.interrupt()
        self.status = status
        if status.state is S.SPEAKING and status.floor in self.programme.partners:
            self._speaker = self.programme.partners.index(status.floor)

    def heading(self, text: str) -> None:
        pass

    def said(self, text: str) -> None:
        pass

    def notice(self, text: str) -> None:
        pass

    def heard(self, cue: CueHeard) -> None:
        pass

    def summary(self, title: str, turns: int, floor_seconds: tuple[tuple[str, float], ...]) -> None:
        pass

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass

    # ---- the actor: what they do --------------------------------------------------------------

    def interrupt(self) -> None:
        if self._plan is not None:
            self._plan.close()
            self._plan = None

    def next_move(self, said: Entry | None) -> Move | None:
        """The next move of the plan, or of a new one once it is done; None to wait (a break, the closing)."""
        if self._plan is not None:
            try:
                return self._plan.send(said)
            except StopIteration:
                self._plan = None
        self._plan = self.plan()
        return next(self._plan, None) if self._plan is not None else None

    def plan(self) -> Plan | None:
        """What to do in the session's state now, or None to wait."""
        status = self.status
        if status is None:
            return None
        if status.state in FLOOR_STATES:
            return self._hold_floor(status)
        cue = {S.NOT_READY: "yes"}.get(status.state) or EXPECTED_CUES.get(status.state)
        if cue is None:
            return None
        if status.state is S.STEP_INTRO and self._step(status).check_ready:
            cue = "yes"  # the step asks whether both agree to go on: answer as asked
        if status.state is S.CHECKING:
            partner = self.partners[self._speaker]  # the speaker says whether they were understood
        else:
            partner = self.partners[self._answers % 2]  # the two take turns answering prompts
            self._answers += 1
        return self._answer(partner, cue)

    def _answer(self, partner: Partner, cue: str) -> Plan:
        yield Wait(THINK_S)
        yield from self._give_cue(partner, cue)

    def _hold_floor(self, status: Status) -> Plan:
        moment, exercise = self._moment, self._exercise(status)
        names = self.programme.partners
        closer = names.index(status.floor) if status.floor in names else 0  # talking: the first closes
        yield Wait(THINK_S)
        # Each phase is talked through once: after an interruption (a chime) only the cue is left.
        if moment not in self._floors_talked:
            self._floors_talked.add(moment)
            if status.state is S.TALKING:
                first, second = (lines_for(exercise.title, "talk", partner) for partner in (0, 1))
                talk = [(self.partners[i % 2], line) for i, line in enumerate(_interleave(first, second))]
            else:
                phase = "speak" if status.state is S.SPEAKING else "reflect"
                talk = [(self.partners[closer], line) for line in lines_for(exercise.title, phase, closer)]
            for partner, line in talk:
                yield Utter(partner.name, line, partner.voice)
                yield Wait(BETWEEN_LINES_S)
            # The rest of the turn, not written out; shorter than the silence after which the
            # assistant asks whether the speaker has finished.
            yield Wait(min(REST_OF_TURN_S, 0.6 * exercise.silence_seconds), shortened=True)
        yield Wait(BEFORE_CUE_S)
        yield from self._give_cue(self.partners[closer], "done")

    def _give_cue(self, partner: Partner, cue: str) -> Plan:
        for attempt, phrase in enumerate(partner.phrasings(cue)[:TRIES], start=1):
            said = yield Utter(partner.name, _sentence(phrase), partner.voice, meant=cue, attempt=attempt)
            assert said is not None
            yield Wait(CUE_WAIT_S, heard_in=said)
            if said.heard:
                return
        yield Press(partner.name, cue, CUE_KEYS[cue], note=f"key: {cue}, after {TRIES} misses")

    def _step(self, status: Status) -> Step:
        return self.programme.steps[(status.step_number or 1) - 1]

    def _exercise(self, status: Status) -> Exercise:
        return next(e for e in self._step(status).exercises if e.title == status.exercise_title)


def _interleave(first: tuple[str, ...], second: tuple[str, ...]) -> list[str]:
    return [line for pair in zip(first, second, strict=True) for line in pair]


def _sentence(phrase: str) -> str:
    """A cue phrase as said: "i'm done" becomes "I'm done."."""
    words = phrase.split()
    words = [word.replace("i'm", "I'm") if word.startswith("i'm") else word for word in words]
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


# ---- the demo --------------------------------------------------------------------------------------


@dataclass
class Demo:
    """One session with the simulated couple, played: its transcript, recording and tallies."""

    programme: Programme
    partners: tuple[Partner, Partner]
    voice: VoiceSettings
    """The assistant's."""
    fast: float
    entries: list[Entry]
    recording: np.ndarray
    """16 kHz mono samples of the whole conversation."""
    clock_seconds: float
    """How long the session took on its own clock."""
    completed: bool
    """The closing was reached."""

    @property
    def seconds(self) -> float:
        """Length of the recording."""
        return len(self.recording) / RATE

    @property
    def heard(self) -> int:
        """Cues the ears heard as meant."""
        return sum(1 for entry in self.entries for cue in entry.heard if cue.cue == entry.meant)

    @property
    def repeated(self) -> int:
        """Cues said again because the ears missed them."""
        return sum(1 for entry in self.entries if entry.meant is not None and entry.attempt > 1)

    @property
    def keys(self) -> int:
        """Cues given by key after `TRIES` misses."""
        return sum(1 for entry in self.entries if entry.text.startswith("(presses "))

    @property
    def stray(self) -> list[str]:
        """Cues the ears heard that were not meant (names only)."""
        return [cue.cue for entry in self.entries for cue in entry.heard if cue.cue != entry.meant]


def play_demo(
    programme: Programme,
    *,
    fast: float = 10.0,
    out: TextIO | None = None,
    spotter: CueSpotter | None = None,
    engines: Callable[[], VoiceEngine] | None = None,
) -> Demo:
    """Play the whole session with the simulated couple, through the runner and the ears.

    `spotter`: the ears' cue spotter (default: Whisper in its worker process); `engines`: the
    voice engines (default: all of them). Raises DeviceError when a voice or the ears cannot start.
    """
    worker = TtsWorker(renderer_factory=engines) if engines is not None else TtsWorker()
    try:
        worker.wait_ready()  # raises DeviceError naming what to install
        speech = Speech(worker)
        voice = speech.loadable(VoiceSettings())  # the assistant's own voice, as `run` speaks
        first, second = (
            Partner(name, settings, habits)
            for name, settings, habits in zip(programme.partners, COUPLE_VOICES, HABITS, strict=True)
        )
        couple = SimulatedCouple(programme, (first, second))
        printed = _Printer(out)
        room = Room(speech, fast=fast, on_entry=printed.entry)
        room.actor = couple
        session = Session(programme, help_resources=load_help_resources(), hears_speech=True)
        runner = Runner(
            session, clock=room.clock, view=couple, journal=UnkeptJournal(programme.title), events=room.events
        )
        runner.voice = RoomVoice(room, speech, voice, load_chimes())
        # Ears that stop (a lost recognizer) leave the room going on without them.
        ears = ListeningEars(room.microphone, runner.post, spotter=spotter, on_end=room.microphone.close)
        try:
            runner.ears = ears.start()
            room.pass_quiet(LEAD_IN_S)
            outcome = runner.run()
            room.pass_quiet(LEAD_IN_S)
        finally:
            ears.close()
        printed.flush()
    finally:
        worker.close()
    return Demo(
        programme,
        couple.partners,
        voice,
        fast,
        room.entries,
        room.recording(),
        room.clock.now(),
        outcome.completed,
    )


class _Printer:
    """Prints each transcript line once the next begins, so a cue's line carries what was heard."""

    def __init__(self, out: TextIO | None) -> None:
        self._out = out
        self._last: Entry | None = None

    def entry(self, entry: Entry) -> None:
        self.flush()
        self._last = entry

    def flush(self) -> None:
        if self._out is not None and self._last is not None:
            print(self._last.line(), file=self._out, flush=True)
        self._last = None


# ---- files ---------------------------------------------------------------------------------------


def transcript(demo: Demo) -> str:
    """The whole conversation, one utterance a line, with a header and the tallies."""
    voices = ", ".join(f"{p.name} ({p.voice.voice}, {p.voice.rate} words a minute)" for p in demo.partners)
    ended = "at the closing" if demo.completed else "before the closing"
    stray = demo.stray
    lines = [
        f"# assistant demo: {demo.programme.title!r}, with a simulated couple: {voices}.",
        f"# The assistant speaks {demo.voice.voice} at {demo.voice.rate} words a minute. The couple's words are",
        "# scripted; their cues went through the recognizer, and only what it heard moved the session on.",
        f"# Waits and the rest of each turn pass {demo.fast:g} times faster than on the session's clock.",
        "# time  who: what was said   [for cues, what the recognizer heard]",
        *(entry.line() for entry in demo.entries),
        f"# The session ended {ended}: {_minutes(demo.seconds)} of recording, "
        f"{_minutes(demo.clock_seconds)} on the session's clock.",
        f"# Cues: {demo.heard} heard by the recognizer, {demo.repeated} said again after a miss, "
        f"{demo.keys} given by key after {TRIES} misses, {len(stray)} heard that were not meant"
        + (f" ({', '.join(stray)})." if stray else "."),
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
    demo = play_demo(programme, fast=fast, out=out)
    try:
        write_wav(targets[0], demo.recording.astype("<i2").tobytes(), rate=RATE)  # as the ears hear it
        targets[1].write_text(transcript(demo), encoding="utf-8")
    except OSError as error:
        raise AssistantError(f"cannot write the demo's files: {error}") from None
    print(
        f"Wrote {targets[0]} ({_minutes(demo.seconds)}, 16 kHz mono) and {targets[1]}. "
        f"Cues: {demo.heard} heard by the recognizer, {demo.keys} given by key.",
        file=out,
    )
    return 0
