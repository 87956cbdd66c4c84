"""The session: a state machine declared as a table. Pure: events in, actions out, no I/O.

The runner calls `Session.handle(event, now)` and carries out the actions it returns. Time comes
in as an argument, so every exercise can be tested in milliseconds with a fake clock.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from transitions import Machine

from assistant.events import (
    CUES,
    Action,
    CancelTimer,
    Chime,
    CueHeard,
    EndSession,
    Event,
    HoldTimers,
    RecordNotReady,
    RecordRound,
    RecordTimeout,
    ReleaseTimers,
    SaveProgress,
    Say,
    ShowHeading,
    ShowNotice,
    ShowSummary,
    SpeechStarted,
    SpeechStopped,
    StartTimer,
    StopVoice,
    TimerFinished,
    VoiceFinished,
)
from assistant.programme import Exercise, Programme
from assistant.programme.resources import HelpResource


class S(enum.Enum):
    WELCOME = "welcome"
    RESUME_OFFER = "resume offer"
    STEP_INTRO = "step intro"
    NOT_READY = "not ready"
    """A partner said "not yet" to a step that asks whether both agree to go on now."""
    EXERCISE_INTRO = "exercise intro"
    SPEAKING = "speaking"
    """One partner holds the floor; the other listens."""
    REFLECTING = "reflecting"
    """The listener says back what they heard."""
    CHECKING = "checking"
    """The speaker says whether the listener got it right."""
    TALKING = "talking"
    """An open conversation between both partners."""
    PAUSED = "paused"
    BREAK = "break"
    """A time-out: at least the programme's break time."""
    BREAK_OVER = "break over"
    CLOSING = "closing"
    ENDED = "ended"


# Timer names the session starts; the runner reports them back as `TimerFinished(name)`,
# which the session turns into the trigger `<name>_timer`.
PHASE_TIMER = "phase"
HALFWAY_TIMER = "halfway"
WARNING_TIMER = "warning"
SILENCE_TIMER = "silence"
BREAK_TIMER = "break"
TAKE_BACK_TIMER = "take_back"
PHASE_TIMERS = (PHASE_TIMER, HALFWAY_TIMER, WARNING_TIMER, SILENCE_TIMER)
HALFWAY_CHIME_FROM = 60.0
"""Seconds: phases shorter than this get no halfway chime."""
TAKE_BACK_S = 8.0
"""After a turn ended by a spoken cue, its speaker may say "carry on" for this long (from the end
of the next prompt) to take the floor back. The ears hear "I'm done" or "your turn" in ordinary
talk now and then (benchmarks/HISTORY.md, "Cues in real talk"), and a cut-off turn is the
worst of those mistakes; with this it costs a few seconds, not the rest of the turn."""
TAKE_BACK_MIN_S = 20.0
"""A turn taken back has at least this long left, so the sentence that was cut can be finished."""

FLOOR_STATES = (S.SPEAKING, S.REFLECTING, S.TALKING)
EXERCISE_STATES = (S.EXERCISE_INTRO, S.SPEAKING, S.REFLECTING, S.CHECKING, S.TALKING)
GUIDED_STATES = (S.WELCOME, S.RESUME_OFFER, S.STEP_INTRO, S.NOT_READY, *EXERCISE_STATES)
"""States that `pause` and `timeout` can interrupt, and that the couple can come back to."""
LIVE_STATES = (*GUIDED_STATES, S.PAUSED, S.BREAK, S.BREAK_OVER, S.CLOSING)

FLOOR_CUES = frozenset({"done", "pause", "timeout", "stop"})
"""While someone holds the floor the couple is talking to each other, so the ears listen only for
these: words like "next" or "go back" are too common in ordinary conversation."""

BREAK_EXPLAINED_CUES = ("resume", "next", "yes", "done", "skip")
"""During a time-out these only say how long the break still has: it is not cut short."""

TRANSITIONS: list[dict[str, object]] = [
    # Welcome, and an offer to resume where the couple left off.
    {"trigger": ["next", "yes", "skip"], "source": S.WELCOME, "dest": S.RESUME_OFFER, "conditions": "has_saved_place"},
    {"trigger": ["next", "yes", "skip"], "source": S.WELCOME, "dest": S.STEP_INTRO, "before": "go_to_start"},
    {"trigger": ["yes", "next"], "source": S.RESUME_OFFER, "dest": S.STEP_INTRO, "conditions": "saved_at_step_start", "before": "go_to_saved_place"},
    {"trigger": ["yes", "next"], "source": S.RESUME_OFFER, "dest": S.EXERCISE_INTRO, "before": "go_to_saved_place"},
    {"trigger": "no", "source": S.RESUME_OFFER, "dest": S.STEP_INTRO, "before": "go_to_start"},
    # Moving through steps and exercises.
    {"trigger": ["next", "yes"], "source": [S.STEP_INTRO, S.NOT_READY], "dest": S.EXERCISE_INTRO, "before": "go_to_first_exercise"},
    {"trigger": "no", "source": S.STEP_INTRO, "dest": S.NOT_READY, "conditions": "step_checks_ready"},
    {"trigger": "skip", "source": [S.STEP_INTRO, S.NOT_READY], "dest": None, "after": "finish_step"},
    {"trigger": "back", "source": S.STEP_INTRO, "dest": S.STEP_INTRO, "conditions": "has_previous_step", "before": "go_to_previous_step"},
    {"trigger": "back", "source": S.STEP_INTRO, "dest": None, "after": "say_first_step"},
    {"trigger": ["next", "yes"], "source": S.EXERCISE_INTRO, "dest": S.SPEAKING, "conditions": "exercise_has_turns", "before": "go_to_first_turn"},
    {"trigger": ["next", "yes"], "source": S.EXERCISE_INTRO, "dest": S.TALKING},
    {"trigger": "back", "source": S.EXERCISE_INTRO, "dest": S.STEP_INTRO},
    {"trigger": "back", "source": [S.SPEAKING, S.REFLECTING, S.CHECKING, S.TALKING], "dest": S.EXERCISE_INTRO, "before": "end_phase_early"},
    {"trigger": "skip", "source": list(EXERCISE_STATES), "dest": None, "before": "end_phase_early", "after": "finish_exercise"},
    # A partner holds the floor; then, in a listening exercise, the other reflects back.
    {"trigger": ["done", "next"], "source": S.SPEAKING, "dest": None, "after": "end_turn_by_cue"},
    {"trigger": "phase_timer", "source": S.SPEAKING, "dest": None, "after": "end_turn_by_timer"},
    {"trigger": "turn_finished", "source": S.SPEAKING, "dest": S.REFLECTING, "conditions": "exercise_has_reflecting"},
    {"trigger": "turn_finished", "source": [S.SPEAKING, S.CHECKING], "dest": S.SPEAKING, "conditions": "more_turns", "before": "go_to_next_turn"},
    {"trigger": "turn_finished", "source": [S.SPEAKING, S.CHECKING], "dest": None, "after": "finish_exercise"},
    {"trigger": "resume", "source": [S.SPEAKING, S.REFLECTING], "dest": None, "conditions": "can_take_back_turn", "after": "take_back_turn"},
    {"trigger": "take_back_timer", "source": list(LIVE_STATES), "dest": None, "after": "close_take_back"},
    {"trigger": ["done", "next"], "source": S.REFLECTING, "dest": S.CHECKING, "before": "end_reflecting_by_cue"},
    {"trigger": "phase_timer", "source": S.REFLECTING, "dest": S.CHECKING, "before": "end_reflecting_by_timer"},
    {"trigger": "yes", "source": S.CHECKING, "dest": None, "after": "accept_reflection"},
    {"trigger": "no", "source": S.CHECKING, "dest": S.REFLECTING, "before": "say_retry"},
    # An open conversation.
    {"trigger": ["done", "next"], "source": S.TALKING, "dest": None, "after": "end_talk_by_cue"},
    {"trigger": "phase_timer", "source": S.TALKING, "dest": None, "after": "end_talk_by_timer"},
    # The end of an exercise leads to the next exercise, the next step, or the closing.
    {"trigger": "exercise_finished", "source": list(EXERCISE_STATES), "dest": S.EXERCISE_INTRO, "conditions": "more_exercises", "before": "go_to_next_exercise"},
    {"trigger": "exercise_finished", "source": list(EXERCISE_STATES), "dest": None, "after": "finish_step"},
    {"trigger": "step_finished", "source": [S.STEP_INTRO, S.NOT_READY, *EXERCISE_STATES], "dest": S.STEP_INTRO, "conditions": "more_steps", "before": "go_to_next_step"},
    {"trigger": "step_finished", "source": [S.STEP_INTRO, S.NOT_READY, *EXERCISE_STATES], "dest": S.CLOSING},
    # Within a phase: chimes, warnings, and what the microphone hears.
    {"trigger": "halfway_timer", "source": list(FLOOR_STATES), "dest": None, "after": "chime_halfway"},
    {"trigger": "warning_timer", "source": list(FLOOR_STATES), "dest": None, "after": "warn_time_left"},
    {"trigger": "silence_timer", "source": S.SPEAKING, "dest": None, "after": "ask_if_finished"},
    {"trigger": "speech_started", "source": list(FLOOR_STATES), "dest": None, "after": "note_speech_started"},
    {"trigger": "speech_stopped", "source": list(FLOOR_STATES), "dest": None, "after": "note_speech_stopped"},
    # Holding on, and time-outs.
    {"trigger": "pause", "source": list(GUIDED_STATES), "dest": S.PAUSED, "before": "remember_paused_place"},
    {"trigger": ["resume", "next", "yes"], "source": S.PAUSED, "dest": None, "after": "come_back_from_pause"},
    {"trigger": "timeout", "source": [*GUIDED_STATES, S.PAUSED], "dest": S.BREAK, "before": "remember_break_place"},
    {"trigger": list(BREAK_EXPLAINED_CUES), "source": S.BREAK, "dest": None, "after": "say_break_running"},
    {"trigger": "break_timer", "source": S.BREAK, "dest": S.BREAK_OVER},
    {"trigger": ["yes", "resume", "next"], "source": S.BREAK_OVER, "dest": None, "after": "come_back_from_break"},
    {"trigger": "no", "source": S.BREAK_OVER, "dest": None, "after": "extend_break"},
    # Always available.
    {"trigger": "repeat", "source": list(LIVE_STATES), "dest": None, "after": "say_again"},
    {"trigger": "help", "source": list(LIVE_STATES), "dest": None, "after": "say_help"},
    {"trigger": "support", "source": list(LIVE_STATES), "dest": None, "conditions": "has_help_resources", "after": "say_help_resources"},
    {"trigger": "stop", "source": list(LIVE_STATES), "dest": S.ENDED, "before": "stop_here"},
    {"trigger": "closing_said", "source": S.CLOSING, "dest": S.ENDED},
    {"trigger": "quick_exit", "source": list(LIVE_STATES), "dest": S.ENDED, "before": "leave_at_once"},
]  # fmt: skip


@dataclass(frozen=True)
class Place:
    """Where in the programme the couple is (0-based indices)."""

    step: int = 0
    exercise: int = 0
    turn: int = 0
    """Only in saved places: the turn a session was in when it ended, to resume there."""


@dataclass(frozen=True)
class Status:
    """What the view shows: a snapshot, so the view never reads the machine itself."""

    state: S
    step_number: int | None
    step_title: str
    exercise_title: str
    floor: str | None
    """Who holds the floor now, if anyone."""
    valid_cues: tuple[str, ...]


@dataclass(frozen=True)
class TakeBack:
    """A turn a spoken cue ended, which its speaker can still take back (see `TAKE_BACK_S`)."""

    turn: int
    seconds_left: float
    state: S
    """Where the cue led: taking back is possible only while the session is still there."""
    window_open: bool = False
    """The next prompt has been said and the `TAKE_BACK_TIMER` runs."""


class Session:
    """The model the `transitions` machine drives; its callbacks only append actions."""

    # Added by `transitions.Machine`; declared for readers and type checkers.
    state: S
    trigger: Callable[..., bool]
    may_trigger: Callable[..., bool]

    def __init__(
        self,
        programme: Programme,
        saved_place: Place | None = None,
        hears_speech: bool = False,
        help_resources: tuple[HelpResource, ...] = (),
        first_session: bool = False,
    ) -> None:
        self.programme = programme
        self.saved_place = saved_place
        self.help_resources = help_resources
        self.first_session = first_session
        """Nothing is known of earlier sessions: begin with the safety note."""
        self.hears_speech = hears_speech
        """Voice activity is reported (a microphone is on): time speech, ask after long silences."""
        self.spoken_seconds = 0.0
        self.phase_waiting: float | None = None
        """Seconds of a phase whose prompt is still being said; its timers start after it."""
        self.rounds: list[RecordRound] = []
        """This session's rounds, for the summaries (numbers only)."""
        self.place = Place()
        self.turn = 0
        """Index of the current turn in an exercise: partner `turn % 2` holds the floor."""
        self.resume_turn = 0
        self.completed_steps: set[int] = set()
        self.phase_started = 0.0
        self.phase_seconds = 0.0
        """How long the current phase runs (its timer, once its prompt has been said)."""
        self.phase_paused = 0.0
        """Seconds the current phase spent paused: its timers stood still meanwhile."""
        self.phase_continues = False
        """The current phase is the rest of a turn taken back (`RecordRound.continues`)."""
        self.paused_at = 0.0
        self.cue_by_voice = False
        """Whether the cue being handled was spoken (a key press is never misheard)."""
        self.take_back: TakeBack | None = None
        self.return_to: S | None = None
        """Where `resume` (after a pause) or `yes` (after a break) leads back to."""
        self.said_before_pause: list[Action] = []
        self.break_ends = 0.0
        self.last_said: list[Action] = []
        self.now = 0.0
        self._out: list[Action] = []
        self.machine = Machine(
            model=self,
            states=S,
            transitions=_one_trigger_each(TRANSITIONS),
            initial=S.WELCOME,
            queued=True,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    # ---- the runner's interface ------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The actions that open the session."""
        self.now = now
        if self.first_session:
            self._emit(Say(self.programme.safety))
        self._say_fresh(Say(self.programme.welcome))
        return self._take()

    def handle(self, event: Event, now: float) -> list[Action]:
        """Feed one event; returns what the runner should do."""
        self.now = now
        if self.state is S.ENDED:
            return []
        if isinstance(event, CueHeard):
            self.cue_by_voice = event.source == "voice"
            if self.accepts(event.cue):
                self.trigger(event.cue)
            else:
                self._explain(event.cue)
        elif isinstance(event, TimerFinished):
            if self.may_trigger(f"{event.name}_timer"):
                self.trigger(f"{event.name}_timer")
        elif isinstance(event, SpeechStarted):
            if self.may_trigger("speech_started"):
                self.trigger("speech_started")
        elif isinstance(event, SpeechStopped):
            if self.may_trigger("speech_stopped"):
                self.trigger("speech_stopped", event.seconds)
        elif isinstance(event, VoiceFinished):
            self._start_waiting_phase()
            self._open_take_back_window()
        return self._take()

    def closing_finished(self) -> list[Action]:
        """The closing words were said: the session is complete."""
        if self.state is S.CLOSING:
            self.trigger("closing_said")
        return self._take()

    def accepts(self, cue: str) -> bool:
        """True when `cue` does something in the current state (explanations don't count)."""
        return cue in CUES and self.may_trigger(cue) and not self._only_explains(cue)

    def valid_cues(self) -> tuple[str, ...]:
        return tuple(cue for cue in CUES if self.accepts(cue))

    def listen_cues(self) -> frozenset[str]:
        """The cues worth listening for by voice now."""
        valid = frozenset(self.valid_cues())
        if self.state in FLOOR_STATES:
            return valid & (FLOOR_CUES | {"resume"} if self.can_take_back_turn() else FLOOR_CUES)
        return valid

    @property
    def exercise(self) -> Exercise | None:
        if self.state not in EXERCISE_STATES and self.return_to not in EXERCISE_STATES:
            return None
        return self.programme.steps[self.place.step].exercises[self.place.exercise]

    @property
    def speaker(self) -> str:
        return self.programme.partners[self.turn % 2]

    @property
    def listener(self) -> str:
        return self.programme.partners[(self.turn + 1) % 2]

    def status(self) -> Status:
        at_step = self.state not in (S.WELCOME, S.RESUME_OFFER, S.CLOSING, S.ENDED)
        step = self.programme.steps[self.place.step]
        exercise = self.exercise
        floor = {S.SPEAKING: self.speaker, S.REFLECTING: self.listener, S.TALKING: "both of you"}.get(self.state)
        return Status(
            state=self.state,
            step_number=self.place.step + 1 if at_step else None,
            step_title=step.title if at_step else "",
            exercise_title=exercise.title if exercise else "",
            floor=floor,
            valid_cues=self.valid_cues(),
        )

    # ---- conditions ------------------------------------------------------------------------

    def has_saved_place(self) -> bool:
        return self.saved_place is not None and self.saved_place != Place()

    def saved_at_step_start(self) -> bool:
        return self.saved_place is not None and self.saved_place.exercise == 0 and self.saved_place.turn == 0

    def has_help_resources(self) -> bool:
        return bool(self.help_resources)

    def can_take_back_turn(self) -> bool:
        return self.take_back is not None and self.take_back.state is self.state

    def step_checks_ready(self) -> bool:
        return self.programme.steps[self.place.step].check_ready

    def has_previous_step(self) -> bool:
        return self.place.step > 0

    def exercise_has_turns(self) -> bool:
        return self._current_exercise().has_turns

    def exercise_has_reflecting(self) -> bool:
        return self._current_exercise().format == "listening"

    def more_turns(self) -> bool:
        return self.turn + 1 < 2 * self._current_exercise().rounds

    def more_exercises(self) -> bool:
        return self.place.exercise + 1 < len(self.programme.steps[self.place.step].exercises)

    def more_steps(self) -> bool:
        return self.place.step + 1 < len(self.programme.steps)

    # ---- moving about ----------------------------------------------------------------------

    def go_to_start(self) -> None:
        self.place = Place()

    def go_to_saved_place(self) -> None:
        assert self.saved_place is not None
        self.place = Place(self.saved_place.step, self.saved_place.exercise)
        self.resume_turn = self.saved_place.turn
        self.completed_steps.update(range(self.saved_place.step))

    def go_to_first_exercise(self) -> None:
        self.place = Place(self.place.step, 0)

    def go_to_next_exercise(self) -> None:
        self.place = Place(self.place.step, self.place.exercise + 1)

    def go_to_next_step(self) -> None:
        self.place = Place(self.place.step + 1, 0)

    def go_to_previous_step(self) -> None:
        self.place = Place(self.place.step - 1, 0)

    def go_to_first_turn(self) -> None:
        self.turn, self.resume_turn = self.resume_turn, 0

    def go_to_next_turn(self) -> None:
        self.turn += 1

    def finish_exercise(self) -> None:
        self._summarise("exercise_summary", self._current_exercise().title, [
            r for r in self.rounds if (r.step, r.exercise) == (self.place.step, self.place.exercise)
        ])  # fmt: skip
        self.trigger("exercise_finished")

    def finish_step(self) -> None:
        self.completed_steps.add(self.place.step)
        self.trigger("step_finished")

    # ---- entering states: what the couple hears ---------------------------------------------

    def on_enter_STEP_INTRO(self) -> None:
        step = self.programme.steps[self.place.step]
        heading = self.programme.phrase("step_heading", number=self.place.step + 1, title=step.title)
        self._save_progress()
        self._emit(ShowHeading(heading.rstrip(".")))
        ask = self.programme.phrase("ready_check" if step.check_ready else "begin_exercise")
        self._say_fresh(Say(f"{heading} {step.intro} {ask}"))

    def on_enter_NOT_READY(self) -> None:
        self._emit(RecordNotReady(self.place.step))
        self._say_fresh(Say(self.programme.phrase("not_ready")))

    def on_enter_EXERCISE_INTRO(self) -> None:
        exercise = self._current_exercise()
        self._save_progress()
        self._emit(ShowHeading(exercise.title))
        self._say_fresh(Say(f"{exercise.title}. {exercise.prompt} {self.programme.phrase('begin_exercise')}"))

    def on_enter_SPEAKING(self) -> None:
        exercise = self._current_exercise()
        self._save_progress()  # a crash from here on resumes at this turn
        self._start_phase(exercise.speak_seconds, self._fill(exercise.turn_prompt))

    def on_enter_REFLECTING(self) -> None:
        exercise = self._current_exercise()
        self._start_phase(exercise.reflect_seconds, self._fill(exercise.reflect_prompt))

    def on_enter_TALKING(self) -> None:
        seconds = self._current_exercise().talk_seconds
        self._start_phase(seconds, self.programme.phrase("talk_start", minutes=_minutes(seconds)))

    def on_enter_CHECKING(self) -> None:
        self._say_fresh(Say(self._fill(self._current_exercise().check_prompt)))

    def on_enter_RESUME_OFFER(self) -> None:
        assert self.saved_place is not None
        step = self.programme.steps[self.saved_place.step]
        self._say_fresh(Say(self.programme.phrase("resume_offer", number=self.saved_place.step + 1, title=step.title)))

    def on_enter_PAUSED(self) -> None:
        self._emit(StopVoice(), HoldTimers())
        self._say_fresh(Say(self.programme.phrase("paused")))

    def on_enter_BREAK(self) -> None:
        seconds = self.programme.break_seconds
        self.break_ends = self.now + seconds
        resume_at = time.strftime("%H:%M", time.localtime(time.time() + seconds))
        self._emit(StopVoice(), RecordTimeout(), StartTimer(BREAK_TIMER, seconds))
        self._say_fresh(Say(self.programme.phrase("timeout_start", resume_at=resume_at, minutes=_minutes(seconds))))

    def on_enter_BREAK_OVER(self) -> None:
        self._emit(Chime("end"))
        self._say_fresh(Say(self.programme.phrase("timeout_over")))

    def on_enter_CLOSING(self) -> None:
        self._emit(
            ShowHeading(self.programme.title), SaveProgress(0, 0, tuple(sorted(self.completed_steps)), finished=True)
        )
        self._summarise("session_summary", "Today", self.rounds)
        self._say_fresh(Say(self.programme.closing))
        self.say_help_resources()
        self._emit(EndSession(completed=True))

    def on_enter_WELCOME(self) -> None:
        self._say_fresh(Say(self.programme.welcome))

    # ---- ending phases ---------------------------------------------------------------------

    def end_turn_by_cue(self) -> None:
        turn, left = self.turn, self._seconds_left()
        # Where `turn_finished` leads (the machine queues it): a floor of this exercise, or on.
        then = S.REFLECTING if self.exercise_has_reflecting() else S.SPEAKING if self.more_turns() else None
        self._end_phase("speak", self.speaker, "cue")
        if self.cue_by_voice and then is not None:
            self.take_back = TakeBack(turn, max(left, TAKE_BACK_MIN_S), then)
            self._emit(ShowNotice(f'Not finished, {self.speaker}? Say "carry on" (or press c) to take the floor back.'))
        self._emit(Say(self._fill(self.programme.phrases["turn_over"])))
        self.trigger("turn_finished")

    def _open_take_back_window(self) -> None:
        """The prompt after a spoken "I'm done" has been said: the speaker's moment to object."""
        if self.take_back is not None and not self.take_back.window_open and self.can_take_back_turn():
            self.take_back = replace(self.take_back, window_open=True)
            self._emit(StartTimer(TAKE_BACK_TIMER, TAKE_BACK_S))

    def take_back_turn(self) -> None:
        """ "Carry on" straight after a spoken "I'm done": it was misheard, so the floor goes back
        to the speaker for the rest of their turn. The part before stays recorded as a round."""
        assert self.take_back is not None
        back, self.take_back = self.take_back, None
        self._emit(StopVoice(), *(CancelTimer(name) for name in (*PHASE_TIMERS, TAKE_BACK_TIMER)))
        self.turn = back.turn
        self.machine.set_state(S.SPEAKING, model=self)
        self._save_progress()
        self._start_phase(back.seconds_left, self._fill(self.programme.phrases["turn_back"]))
        self.phase_continues = True

    def close_take_back(self) -> None:
        self.take_back = None

    def end_turn_by_timer(self) -> None:
        self._end_phase("speak", self.speaker, "timer")
        self._emit(Chime("end"), Say(self._fill(self.programme.phrases["time_up"])))
        self.trigger("turn_finished")

    def end_reflecting_by_cue(self) -> None:
        self._end_phase("reflect", self.listener, "cue")

    def end_reflecting_by_timer(self) -> None:
        self._end_phase("reflect", self.listener, "timer")
        self._emit(Chime("end"))

    def accept_reflection(self) -> None:
        self._emit(Say(self._fill(self.programme.phrases["good_reflection"])))
        self.trigger("turn_finished")

    def say_retry(self) -> None:
        self._emit(Say(self._fill(self._current_exercise().retry_prompt)))

    def end_talk_by_cue(self) -> None:
        self._end_phase("talk", None, "cue")
        self._emit(Say(self.programme.phrase("talk_over")))
        self.trigger("exercise_finished")

    def end_talk_by_timer(self) -> None:
        self._end_phase("talk", None, "timer")
        self._emit(Chime("end"), Say(self.programme.phrase("talk_over")))
        self.trigger("exercise_finished")

    def end_phase_early(self) -> None:
        self._record_cut_phase("cue")

    # ---- within a phase ---------------------------------------------------------------------

    def chime_halfway(self) -> None:
        self._emit(Chime("halfway"))

    def warn_time_left(self) -> None:
        warning = self._current_exercise().warning_seconds
        self._emit(
            Chime("one_minute"), Say(self.programme.phrase("warning", remaining=_spoken_duration(warning).capitalize()))
        )

    def ask_if_finished(self) -> None:
        self._emit(Say(self._fill(self.programme.phrases["still_speaking"])))

    def note_speech_started(self) -> None:
        self._emit(CancelTimer(SILENCE_TIMER))

    def note_speech_stopped(self, seconds: float = 0.0) -> None:
        self.spoken_seconds += seconds
        if self.state is S.SPEAKING:
            self._emit(StartTimer(SILENCE_TIMER, self._current_exercise().silence_seconds))

    # ---- pauses, breaks, stopping ----------------------------------------------------------

    def remember_paused_place(self) -> None:
        self.paused_at = self.now
        self.return_to = self.state
        self.said_before_pause = self.last_said

    def come_back_from_pause(self) -> None:
        # Straight back into the state without entering it again: the round keeps its remaining time.
        assert self.return_to is not None
        self.machine.set_state(self.return_to, model=self)
        self.return_to = None
        self.phase_paused += self.now - self.paused_at
        self.last_said = self.said_before_pause
        self._emit(ReleaseTimers(), Say(self.programme.phrase("resumed")))

    def remember_break_place(self) -> None:
        if self.state is S.PAUSED:
            self._emit(ReleaseTimers())
        else:
            self.return_to = self.state
        # A phase cut short by a time-out is kept as it stood, and starts afresh after the break.
        self._record_cut_phase("timeout")

    def say_break_running(self) -> None:
        minutes = max(1, math.ceil((self.break_ends - self.now) / 60))
        self._emit(Say(self.programme.phrase("timeout_running", minutes=minutes)))

    def extend_break(self) -> None:
        # Back into the break without its opening speech; the place to return to stays the same.
        seconds = self.programme.break_seconds
        self.machine.set_state(S.BREAK, model=self)
        self.break_ends = self.now + seconds
        self._emit(StartTimer(BREAK_TIMER, seconds))
        self._say_fresh(Say(self.programme.phrase("timeout_extend", minutes=_minutes(seconds))))

    def come_back_from_break(self) -> None:
        # After a break the interrupted part starts afresh: its prompt is said and its timer restarted.
        assert self.return_to is not None
        state, self.return_to = self.return_to, None
        self.machine.set_state(state, model=self)
        self._emit(Say(self.programme.phrase("resumed")))
        getattr(self, f"on_enter_{state.name}")()

    def exit_quickly(self, now: float) -> list[Action]:
        """Leave at once and say nothing: progress is kept, the screen is cleared by the runner."""
        self.now = now
        if self.state is not S.ENDED:
            self.trigger("quick_exit")
        return self._take()

    def leave_at_once(self) -> None:
        self._record_cut_phase("cue")
        self._halt()
        if self.state is not S.CLOSING:
            self._save_progress()
        self._emit(EndSession(completed=self.state is S.CLOSING))

    def _record_cut_phase(self, ended_by: str) -> None:
        """A phase cut short (directly, or while paused in it) is kept with the time it had."""
        if self.state in FLOOR_STATES:
            self._end_phase(self._phase_name(), self._floor_partner(), ended_by)
        elif self.state is S.PAUSED and self.return_to in FLOOR_STATES:
            self._end_phase(self._phase_name(self.return_to), self._floor_partner(self.return_to), ended_by)

    def _halt(self) -> None:
        """Silence the voice and every timer."""
        self._emit(StopVoice(), *(CancelTimer(name) for name in (*PHASE_TIMERS, BREAK_TIMER)))

    def stop_here(self) -> None:
        if self.state is S.CLOSING:  # already complete and saved: just stop talking
            self._emit(StopVoice())
            return
        self._record_cut_phase("cue")
        self._halt()
        self._save_progress()
        self._emit(Say(self.programme.phrase("stopping")))
        self.say_help_resources()
        self._emit(EndSession(completed=False))

    # ---- repeat, help and explanations -----------------------------------------------------

    def say_again(self) -> None:
        self._emit(StopVoice(), *self.last_said)

    def say_help(self) -> None:
        self._emit(Say(self.programme.phrase("help", cues=_spoken_list(self.valid_cues()))))

    def say_help_resources(self) -> None:
        if not self.help_resources:
            return
        lines = [resource.spoken() for resource in self.help_resources]
        self._emit(*(ShowNotice(line) for line in lines))
        self._emit(Say(" ".join([self.programme.phrase("help_resources"), *lines])))

    def say_first_step(self) -> None:
        self._emit(Say(self.programme.phrase("first_step")))

    def _only_explains(self, cue: str) -> bool:
        """Cues whose only effect here is to explain why they don't apply (e.g. `back` at step 1)."""
        return (cue == "back" and self.state is S.STEP_INTRO and not self.has_previous_step()) or (
            self.state is S.BREAK and cue in BREAK_EXPLAINED_CUES
        )

    def _explain(self, cue: str) -> None:
        if self.may_trigger(cue):  # explanation-only transitions say their own piece
            self.trigger(cue)
            return
        self._emit(Say(self.programme.phrase("not_now", cue=cue, cues=_spoken_list(self.valid_cues()))))

    # ---- helpers ---------------------------------------------------------------------------

    def _current_exercise(self) -> Exercise:
        return self.programme.steps[self.place.step].exercises[self.place.exercise]

    def _start_phase(self, seconds: float, prompt: str) -> None:
        """A chime and the prompt. The phase's time starts once the prompt has been said, so
        the assistant's own words never eat into a partner's turn."""
        self.phase_started = self.now
        self.phase_seconds = seconds
        self.phase_paused = 0.0
        self.phase_continues = False
        self.spoken_seconds = 0.0
        self.phase_waiting = seconds
        self._emit(Chime("start"))
        self._say_fresh(Say(prompt))

    def _start_waiting_phase(self) -> None:
        """The voice went quiet: start the timers of a phase whose prompt has now been said."""
        if self.phase_waiting is None or self.state not in FLOOR_STATES:
            return  # nothing waiting, or paused in the middle of the prompt: wait for the resume
        seconds, self.phase_waiting = self.phase_waiting, None
        warning = self._current_exercise().warning_seconds
        self.phase_started = self.now
        self.phase_paused = 0.0
        self._emit(StartTimer(PHASE_TIMER, seconds))
        if seconds >= HALFWAY_CHIME_FROM:
            self._emit(StartTimer(HALFWAY_TIMER, seconds / 2))
        if seconds > 2 * warning:  # else the warning would come at or before halfway
            self._emit(StartTimer(WARNING_TIMER, seconds - warning))
        if self.hears_speech and self.state is S.SPEAKING:
            self._emit(StartTimer(SILENCE_TIMER, self._current_exercise().silence_seconds))

    def _seconds_left(self) -> float:
        """What the current phase's timer has left (all of it while its prompt is being said)."""
        if self.phase_waiting is not None:
            return self.phase_waiting
        return self.phase_seconds - (self.now - self.phase_started - self.phase_paused)

    def _end_phase(self, phase: str, partner: str | None, ended_by: str) -> None:
        self.phase_waiting = None
        self.take_back = None  # whatever ends a phase also ends the chance to take the one before back
        record = RecordRound(
            step=self.place.step,
            exercise=self.place.exercise,
            phase=phase,
            partner=partner,
            seconds=round(self.now - self.phase_started, 3),
            ended_by=ended_by,
            spoken_seconds=round(self.spoken_seconds, 3) if self.hears_speech else None,
            continues=self.phase_continues,
        )
        self.rounds.append(record)
        self._emit(*(CancelTimer(name) for name in (*PHASE_TIMERS, TAKE_BACK_TIMER)), record)

    def _summarise(self, phrase: str, title: str, rounds: list[RecordRound]) -> None:
        """Minutes each partner held the floor: said, and shown as bars."""
        turns = [r for r in rounds if r.phase == "speak" and r.partner]
        if not turns:
            return
        first, second = self.programme.partners
        floor = {name: sum(r.seconds for r in turns if r.partner == name) for name in (first, second)}
        count = sum(not r.continues for r in turns)
        self._emit(
            ShowSummary(title, count, tuple(floor.items())),
            Say(
                self.programme.phrase(
                    phrase,
                    turns=count,
                    first=first,
                    first_time=_spoken_duration(floor[first]),
                    second=second,
                    second_time=_spoken_duration(floor[second]),
                )
            ),
        )

    def _phase_name(self, state: S | None = None) -> str:
        return {S.SPEAKING: "speak", S.REFLECTING: "reflect", S.TALKING: "talk"}[state or self.state]

    def _floor_partner(self, state: S | None = None) -> str | None:
        return {S.SPEAKING: self.speaker, S.REFLECTING: self.listener}.get(state or self.state)

    def _fill(self, text: str) -> str:
        return text.format(speaker=self.speaker, listener=self.listener)

    def _save_progress(self) -> None:
        in_turn = self.state in (S.SPEAKING, S.REFLECTING, S.CHECKING) or self.return_to in (
            S.SPEAKING,
            S.REFLECTING,
            S.CHECKING,
        )
        turn = self.turn if in_turn else 0
        self._emit(SaveProgress(self.place.step, self.place.exercise, tuple(sorted(self.completed_steps)), turn=turn))

    def _say_fresh(self, say: Say) -> None:
        """Say something that `repeat` should say again."""
        self.last_said = [say]
        self._emit(say)

    def _emit(self, *actions: Action) -> None:
        self._out.extend(actions)

    def _take(self) -> list[Action]:
        out, self._out = self._out, []
        return out


def _one_trigger_each(table: list[dict[str, object]]) -> list[dict[str, object]]:
    """The table lists cues that act alike on one row; `transitions` wants one trigger a row."""
    return [
        {**row, "trigger": trigger}
        for row in table
        for trigger in (row["trigger"] if isinstance(row["trigger"], list) else [row["trigger"]])
    ]


def _spoken_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{round(seconds)} seconds"
    minutes = round(seconds / 60)
    return "one minute" if minutes == 1 else f"{minutes} minutes"


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def _spoken_list(cues: tuple[str, ...]) -> str:
    words = [cue.replace("timeout", "time out") for cue in cues]
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)
