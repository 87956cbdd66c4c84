"""The one loop: takes events from a queue, feeds the session, carries out its actions.

Only this loop touches the session. Devices (voice, ears, keyboard) run on their own threads and
report through `Runner.post`. Waiting is on the queue with a timeout up to the next timer
deadline, so an idle session uses no CPU and no timer drifts.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from dataclasses import dataclass

from assistant.devices import Clock, Ears, Post, Voice
from assistant.events import (
    Action,
    Chime,
    CueHeard,
    CueUnclear,
    DeviceLost,
    EndSession,
    Event,
    QuickExitRequested,
    QuitRequested,
    RecordNotReady,
    RecordRound,
    RecordTimeout,
    SaveProgress,
    Say,
    ShowHeading,
    ShowNotice,
    ShowSummary,
    SpeechStarted,
    SpeechStopped,
    StopVoice,
    TimerFinished,
    VoiceFinished,
    VoiceStarted,
)
from assistant.journal import Journal
from assistant.rehearsal import RehearsalCouple
from assistant.session import BREAK_TIMER, FLOOR_STATES, PHASE_TIMER, Place, S, Session
from assistant.timers import Timers
from assistant.ui import Countdown, View

_LOGGER = logging.getLogger(__name__)

ANSWER_TIMER = "answer"

NO_HINT_STATES = (*FLOOR_STATES, S.BREAK)
"""States where the partners talk to each other rather than to the assistant."""
UNCLEAR_HINT = "Not sure that was a cue. Say it again, or press a key (h lists them)."
UNCLEAR_HINT_GAP_S = 5.0
"""At most one such hint in this many seconds."""


class TextVoice:
    """The voice of `--text` mode: nothing is spoken (the view already shows every line)."""

    def __init__(self, post: Post, numbered_after: int = 0) -> None:
        self._post = post
        self._said = numbered_after
        """The last line's number: a voice taking over from another carries on its count."""

    def say(self, text: str) -> int:
        self._said += 1
        self._post(VoiceStarted())
        self._post(VoiceFinished(self._said))
        return self._said

    def chime(self, name: str) -> int:
        return self.say("")

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class Outcome:
    completed: bool
    """The closing was reached."""
    interrupted: bool = False
    """Ended by Ctrl-C or the end of input rather than a cue."""
    quick_exit: bool = False
    """Ended by the quick exit: print nothing more."""


class Runner:
    def __init__(
        self,
        session: Session,
        *,
        clock: Clock,
        view: View,
        journal: Journal,
        voice: Voice | None = None,
        ears: Ears | None = None,
        couple: RehearsalCouple | None = None,
        events: queue.Queue[Event] | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.view = view
        self.journal = journal
        self.voice: Voice = voice or TextVoice(self.post)
        self.ears = ears
        self.couple = couple
        # A simulation gives a queue whose waiting runs the simulated world (`assistant.simulated`).
        self.events: queue.Queue[Event] = events if events is not None else queue.Queue()
        self.timers = Timers(clock)
        # The rehearsal couple's own timer: a pause holds the session's timers, not its answers.
        self._answers = Timers(clock)
        self._answer: tuple[S, str] | None = None
        self._awaited = 0
        """The number of the last line or chime the voice was asked for (`VoiceFinished.through`)."""
        self._quiet_through = 0
        """The `through` of the last `VoiceFinished` taken as quiet."""
        self._voice_playing = False
        """Between `VoiceStarted` and `VoiceFinished`: our voice is in the room."""
        self._lines: list[str] = []
        """Lines the voice was asked to say that it has not begun: the ears are told them when it
        does (they know their own voice by its words); a line said while it plays is told at once."""
        self._listening: frozenset[str] | None = None
        self._last_hint = -math.inf
        self._ending: EndSession | None = None
        self._quit = False
        self._quick = False

    def post(self, event: Event) -> None:
        """Thread-safe: devices report here."""
        self.events.put(event)

    # ---- running ---------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Run the session to its end; Ctrl-C stops it with progress saved."""
        self.journal.begin_session()
        try:
            self.start()
            while not self.finished:
                try:
                    event = self.events.get(timeout=self._seconds_to_next_deadline())
                except queue.Empty:
                    event = None
                if event is not None:
                    self.dispatch(event)
                self._fire_due_timers()
        except KeyboardInterrupt:
            self.dispatch(QuitRequested())
        finally:
            completed = self._ending.completed if self._ending else False
            self.journal.end_session(completed)
        return Outcome(completed=completed, interrupted=self._quit and not self._quick, quick_exit=self._quick)

    def start(self) -> None:
        self._carry_out(self.session.start(self.clock.now()))
        self._refresh()

    @property
    def _voice_busy(self) -> bool:
        """Something asked of the voice has not yet been played or cut."""
        return self._quiet_through < self._awaited

    @property
    def finished(self) -> bool:
        # After the last words, wait for the voice to finish saying them.
        return self._quit or (self.session.state is S.ENDED and not self._voice_busy)

    def run_until_idle(self) -> None:
        """Handle everything queued and every timer already due, without waiting (for tests)."""
        while True:
            try:
                self.dispatch(self.events.get_nowait())
                continue
            except queue.Empty:
                pass
            if not self._fire_due_timers():
                return

    def _seconds_to_next_deadline(self) -> float | None:
        deadlines = [d for d in (self.timers.next_deadline(), self._answers.next_deadline()) if d is not None]
        if not deadlines:
            return None
        return max(0.0, (min(deadlines) - self.clock.now()) / self.clock.speed)

    def _fire_due_timers(self) -> bool:
        fired = False
        for name in self.timers.pop_due():
            self.dispatch(TimerFinished(name))
            fired = True
        for _ in self._answers.pop_due():
            if self._answer and self._answer[0] is self.session.state:
                self.dispatch(CueHeard(self._answer[1], source="auto"))
            fired = True
        return fired

    # ---- events ----------------------------------------------------------------------------

    def dispatch(self, event: Event) -> None:
        now = self.clock.now()
        if _LOGGER.isEnabledFor(logging.DEBUG):  # names only: never a recognised phrase
            detail = f" {event.cue} by {event.source}" if isinstance(event, CueHeard) else ""
            _LOGGER.debug("%s%s in %s", type(event).__name__, detail, self.session.state.value)
        if isinstance(event, VoiceStarted):
            self._answers.cancel(ANSWER_TIMER)
            self._voice_playing = True
            if self.ears:
                self.ears.set_voice_playing(True, " ".join(self._lines))
            self._lines.clear()
        elif isinstance(event, VoiceFinished) and event.through < self._awaited:
            pass  # the end of an earlier line (or of one cut off) while a newer one is on its way
        elif isinstance(event, VoiceFinished):
            self._quiet_through = event.through
            self._voice_playing = False
            if self.ears:
                self.ears.set_voice_playing(False)
            self._lines.clear()
            self._carry_out(self.session.handle(event, now))
            if self._ending and self.session.state is S.CLOSING:
                self._carry_out(self.session.closing_finished())
        elif isinstance(event, CueHeard):
            self.view.heard(event)
            self._carry_out(self.session.handle(event, now))
        elif isinstance(event, CueUnclear):
            self._hint_unclear(now)
        elif isinstance(event, (TimerFinished, SpeechStarted, SpeechStopped)):
            self._carry_out(self.session.handle(event, now))
        elif isinstance(event, QuitRequested) and self.session.state is not S.ENDED:
            self._carry_out(self.session.handle(CueHeard("stop", source="key"), now))
            self.voice.stop()
            self._quit = True
        elif isinstance(event, QuickExitRequested):
            self._carry_out(self.session.exit_quickly(now))
            self.view.clear()
            self._quit = True
            self._quick = True
        elif isinstance(event, DeviceLost):
            self._lose_device(event)
        self._refresh()

    def _hint_unclear(self, now: float) -> None:
        """A cue may have been missed: say how to go on, where the assistant is waiting for an
        answer. Not while the couple talk to each other, where short words are not meant for it."""
        if self.session.state in NO_HINT_STATES or now - self._last_hint < UNCLEAR_HINT_GAP_S:
            return
        self._last_hint = now
        self.view.notice(UNCLEAR_HINT)

    def _lose_device(self, event: DeviceLost) -> None:
        self.view.notice(event.message)
        if event.device == "microphone" and self.ears:
            # A device that failed may hang when closed: never let it hold up the session.
            threading.Thread(target=self.ears.close, name="close-microphone", daemon=True).start()
            self.ears = None
            self.session.hears_speech = False
        elif event.device == "speaker":
            self.voice.close()
            # Numbered on from the old voice's lines, so a late report of theirs is old news.
            self.voice = TextVoice(self.post, numbered_after=self._awaited)
            self._quiet_through = self._awaited

    def _refresh(self) -> None:
        """After every event: the view, the ears' cue list, and the rehearsal couple's answer."""
        self.view.update(self.session.status(), self._countdown())
        if self.ears:
            cues = self.session.listen_cues()
            if cues != self._listening:
                self.ears.listen_for(cues)
                self._listening = cues
        if self.couple and not self._voice_busy and not self.finished:
            self._plan_answer()

    def _plan_answer(self) -> None:
        state = self.session.state
        if self._answer and self._answer[0] is state and self._answers.remaining(ANSWER_TIMER) is not None:
            return
        answer = self.couple.answer(state) if self.couple else None
        if answer is None:
            self._answer = None
            return
        delay, cue = answer
        self._answer = (state, cue)
        self._answers.start(ANSWER_TIMER, delay)

    def _countdown(self) -> Countdown | None:
        for name in (PHASE_TIMER, BREAK_TIMER):
            remaining = self.timers.remaining(name)
            total = self.timers.duration(name)
            if remaining is not None and total is not None:
                held = self.timers.held
                deadline = None if held else self.clock.now() + remaining
                return Countdown(deadline=deadline, total=total, remaining_when_held=remaining)
        return None

    # ---- actions ---------------------------------------------------------------------------

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if self.timers.carry_out(action):
                continue
            if isinstance(action, Say):
                self.view.said(action.text)
                if self._voice_playing and self.ears:
                    self.ears.set_voice_playing(True, action.text)  # joins the line playing now
                else:
                    self._lines.append(action.text)
                self._awaited = self.voice.say(action.text)
            elif isinstance(action, Chime):
                self.view.notice(f"chime: {action.name}")
                self._awaited = self.voice.chime(action.name)
            elif isinstance(action, StopVoice):
                self.voice.stop()
            elif isinstance(action, ShowHeading):
                self.view.heading(action.text)
            elif isinstance(action, ShowNotice):
                self.view.notice(action.text)
            elif isinstance(action, ShowSummary):
                self.view.summary(action.title, action.turns, action.floor_seconds)
            elif isinstance(action, SaveProgress):
                self.journal.save_place(
                    Place(action.step, action.exercise, action.turn), action.completed_steps, action.finished
                )
            elif isinstance(action, RecordRound):
                self.journal.record_round(action)
            elif isinstance(action, RecordNotReady):
                self.journal.record_not_ready(action.step)
            elif isinstance(action, RecordTimeout):
                self.journal.record_timeout()
            elif isinstance(action, EndSession):
                self._ending = action
            else:  # pragma: no cover - a new action without a handler is a programming error
                raise AssertionError(f"no handler for {action!r}")
