"""The session machine: every state reachable, every cue acts or is explained, and the flows."""

from __future__ import annotations

from collections import deque

import pytest

from assistant.events import CUES, CueHeard, Event, Say, TimerFinished
from assistant.programme import Programme, load_builtin
from assistant.session import BREAK_TIMER, FLOOR_CUES, PHASE_TIMER, Place, S, Session


def _replay(programme: Programme, saved: Place | None, path: tuple[Event, ...], hears_speech: bool = True) -> Session:
    session = Session(programme, saved_place=saved, hears_speech=hears_speech)
    session.start(0.0)
    for event in path:
        session.handle(event, 1.0)
    return session


_EXPLORED: dict[tuple[str, Place | None], dict[S, tuple[Event, ...]]] = {}


def _explore(programme: Programme, saved: Place | None = None) -> dict[S, tuple[Event, ...]]:
    """Breadth-first over every cue and timer from the start: a shortest event path to each state."""
    if (programme.source, saved) in _EXPLORED:
        return _EXPLORED[programme.source, saved]
    events = [CueHeard(cue) for cue in CUES] + [TimerFinished(PHASE_TIMER), TimerFinished(BREAK_TIMER)]
    start = _replay(programme, saved, ())
    paths: dict[S, tuple[Event, ...]] = {start.state: ()}
    seen = {(start.state, start.place, start.turn)}
    frontier: deque[tuple[Event, ...]] = deque([()])
    while frontier:
        path = frontier.popleft()
        for event in events:
            successor = _replay(programme, saved, (*path, event))
            key = (successor.state, successor.place, successor.turn)
            if key in seen:
                continue
            seen.add(key)
            paths.setdefault(successor.state, (*path, event))
            if successor.state is not S.ENDED:
                frontier.append((*path, event))
    _EXPLORED[programme.source, saved] = paths
    return paths


def test_every_state_is_reachable(small_programme: Programme) -> None:
    reached = set(_explore(small_programme)) | set(_explore(small_programme, saved=Place(1, 1)))
    assert reached == set(S)


@pytest.mark.parametrize("cue", CUES)
def test_every_cue_in_every_state_acts_or_is_explained(small_programme: Programme, cue: str) -> None:
    for state, path in _explore(small_programme, saved=Place(1, 0)).items():
        if state is S.ENDED:
            continue
        session = _replay(small_programme, Place(1, 0), path)
        before = (session.state, session.place, session.turn)
        actions = session.handle(CueHeard(cue), 2.0)
        changed = (session.state, session.place, session.turn) != before
        spoken = [a for a in actions if isinstance(a, Say)]
        assert changed or spoken, f"{cue!r} in {state.value} neither acted nor was explained"


def test_help_names_only_cues_that_act(app) -> None:
    app.cue("help")
    assert app.last_said.startswith("You can say:")
    assert "back" not in app.last_said  # nothing to go back to from the welcome
    assert "next" in app.last_said and "time out" in app.last_said


def test_cue_that_does_not_apply_is_explained(app) -> None:
    app.cue("done")
    assert app.state is S.WELCOME
    assert app.last_said.startswith('"done" does not apply right now')


def test_steps_start_with_their_number_and_title(app) -> None:
    app.cue("next")
    assert app.state is S.STEP_INTRO
    assert app.view.headings[-1] == "Step 1: Turns"
    assert app.last_said.startswith("Step 1: Turns. The first step.")


def test_each_partner_holds_the_floor_in_turn(app) -> None:
    app.cue("next", "next", "next")
    assert app.state is S.SPEAKING
    assert app.last_said == "Ann, go."
    assert app.session.status().floor == "Ann"
    app.wait(20)
    app.cue("done")
    assert app.state is S.SPEAKING and app.last_said == "Ben, go."
    assert app.voice.said[-2] == "Thank you, Ann."
    rounds = app.journal.rounds()
    assert [(r.partner, r.seconds, r.ended_by) for r in rounds] == [("Ann", 20.0, "cue")]


def test_a_turn_that_runs_out_ends_with_a_chime(app) -> None:
    app.cue("next", "next", "next")
    app.wait(59.9)
    assert app.state is S.SPEAKING and app.session.speaker == "Ann"
    app.wait(0.1)
    assert app.session.speaker == "Ben"
    assert "end" in app.voice.chimes
    assert app.journal.rounds()[-1].ended_by == "timer"


def test_reflecting_back_loops_until_the_speaker_says_yes(app) -> None:
    app.cue("next", "skip")  # to step 2
    assert app.state is S.STEP_INTRO and app.session.place == Place(1, 0)
    app.cue("next", "next")
    assert app.state is S.SPEAKING
    app.cue("done")
    assert app.state is S.REFLECTING and app.last_said == "Ben, reflect back to Ann."
    app.cue("done")
    assert app.state is S.CHECKING and app.last_said == "Ann, did Ben get it right?"
    app.cue("no")
    assert app.state is S.REFLECTING
    assert app.voice.said[-2] == "Ben, try again."
    app.wait(30)  # the reflecting time runs out
    assert app.state is S.CHECKING
    app.cue("yes")
    assert app.state is S.SPEAKING and app.session.speaker == "Ben"


def test_pause_holds_the_round_and_resume_keeps_its_remaining_time(app) -> None:
    app.cue("next", "next", "next")
    app.wait(45)
    app.cue("pause")
    assert app.state is S.PAUSED
    app.wait(600)  # a long pause does not eat into the round
    assert app.state is S.PAUSED
    app.cue("resume")
    assert app.state is S.SPEAKING and app.session.speaker == "Ann"
    assert app.runner.timers.remaining(PHASE_TIMER) == pytest.approx(15)
    app.wait(15)
    assert app.session.speaker == "Ben"


def test_repeat_after_pause_repeats_the_turn_prompt(app) -> None:
    app.cue("next", "next", "next", "pause", "resume", "repeat")
    assert app.last_said == "Ann, go."


def test_timeout_takes_a_break_then_starts_the_part_afresh(app) -> None:
    app.cue("next", "next", "next")
    app.wait(30)
    app.cue("timeout")
    assert app.state is S.BREAK
    assert "twenty minutes" in app.last_said
    app.cue("resume")  # too early: explained, not obeyed
    assert app.state is S.BREAK and app.last_said == "The break has 10 more minutes. Give yourselves that time."
    app.wait(600)
    assert app.state is S.BREAK_OVER
    app.cue("no")
    assert app.state is S.BREAK
    app.wait(600)
    app.cue("yes")
    assert app.state is S.SPEAKING and app.last_said == "Ann, go."
    assert app.runner.timers.remaining(PHASE_TIMER) == pytest.approx(60)
    assert [r.ended_by for r in app.journal.rounds()] == ["timeout"]


def test_stop_ends_cleanly_and_keeps_the_place(app) -> None:
    app.cue("next", "next")
    assert app.state is S.EXERCISE_INTRO
    app.cue("stop")
    assert app.state is S.ENDED
    assert app.last_said.startswith("Stopping here.")
    assert app.journal.saved_place() == Place(0, 0)


def test_a_later_session_offers_to_resume(make_app, small_programme) -> None:
    app = make_app(small_programme, saved=Place(1, 1))
    app.cue("next")
    assert app.state is S.RESUME_OFFER
    assert "step 2, Listening" in app.last_said
    app.cue("yes")
    assert app.state is S.EXERCISE_INTRO and app.session.place == Place(1, 1)


def test_declining_to_resume_starts_from_the_beginning(make_app, small_programme) -> None:
    app = make_app(small_programme, saved=Place(1, 0))
    app.cue("next", "no")
    assert app.state is S.STEP_INTRO and app.session.place == Place(0, 0)


def test_back_and_skip_move_between_steps(app) -> None:
    app.cue("next")
    app.cue("back")
    assert app.last_said == "This is already the first step."
    app.cue("skip")
    assert app.session.place == Place(1, 0)
    app.cue("back")
    assert app.session.place == Place(0, 0) and app.state is S.STEP_INTRO


def test_the_whole_programme_reaches_the_closing(app) -> None:
    app.cue("next")
    answers = {S.STEP_INTRO: "next", S.EXERCISE_INTRO: "next", S.SPEAKING: "done", S.REFLECTING: "done",
               S.CHECKING: "yes", S.TALKING: "done"}  # fmt: skip
    for _ in range(100):
        if app.state is S.ENDED:
            break
        app.cue(answers[app.state])
    assert app.state is S.ENDED
    assert app.voice.said[-1] == "Goodbye from the test."
    assert app.journal.saved_place() is None  # finished: the next run starts afresh


def test_while_someone_holds_the_floor_the_ears_listen_only_for_floor_cues(app) -> None:
    assert "next" in app.ears.listening[-1]
    app.cue("next", "next", "next")
    assert app.ears.listening[-1] == FLOOR_CUES


def test_the_ears_know_when_the_voice_plays(app) -> None:
    assert app.ears.voice_playing[:2] == [True, False]


def test_builtin_programme_runs_with_every_format() -> None:
    programme = load_builtin()
    formats = {exercise.format for step in programme.steps for exercise in step.exercises}
    assert formats == {"turns", "listening", "talk"}
    assert len(programme.steps) == 5


def test_progress_is_saved_at_each_turn_and_resumes_there(make_app, small_programme) -> None:
    app = make_app(small_programme)
    app.cue("next", "next", "next", "done")  # Ben now holds the floor
    assert app.journal.saved_place() == Place(0, 0, turn=1)
    later = make_app(small_programme)  # as if the process had died here
    later.cue("next", "yes")
    assert later.state is S.EXERCISE_INTRO
    later.cue("next")
    assert later.state is S.SPEAKING and later.session.speaker == "Ben"


def test_quick_exit_leaves_at_once_silently_and_keeps_the_place(app) -> None:
    from assistant.events import QuickExitRequested

    app.cue("next", "next", "next")
    app.wait(12)
    said_before = len(app.voice.said)
    app.hear(QuickExitRequested())
    assert app.state is S.ENDED
    assert len(app.voice.said) == said_before and app.voice.stops >= 1
    assert app.view.cleared
    assert app.journal.saved_place() == Place(0, 0)
    assert app.journal.rounds()[-1].seconds == 12
