"""Timed rounds: chimes, the spoken warning, the silence prompt, speaking time, summaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ProgrammeError
from assistant.events import CueHeard, CueUnclear, DeviceLost, SpeechStarted, SpeechStopped, VoiceFinished, VoiceStarted
from assistant.programme import Programme, load_builtin, load_programme
from assistant.runner import NO_HINT_STATES, UNCLEAR_HINT, UNCLEAR_HINT_GAP_S
from assistant.session import FLOOR_CUES, TAKE_BACK_MIN_S, TAKE_BACK_S, S, Session
from tests.conftest import SMALL_PROGRAMME
from tests.fakes import FakeVoice


@pytest.fixture
def listening_app(make_app, builtin: Programme):
    """The built-in programme at step 3's speaker-listener exercise, with a microphone."""
    app = make_app(builtin)
    app.session.hears_speech = True
    app.cue("next", "skip", "skip", "next", "next")
    assert app.state is S.SPEAKING and app.session.place.step == 2
    return app


@pytest.fixture
def builtin() -> Programme:
    return load_builtin()


def test_a_round_chimes_at_start_halfway_and_warns_a_minute_before_the_end(listening_app) -> None:
    app = listening_app  # a three-minute turn
    assert app.voice.chimes == ["start"]
    app.wait(89.9)
    assert app.voice.chimes == ["start"]
    app.wait(0.1)
    assert app.voice.chimes == ["start", "halfway"]
    app.wait(30)
    assert app.voice.chimes == ["start", "halfway", "one_minute"]
    assert app.last_said == "One minute left."
    app.wait(60)
    assert app.voice.chimes[-2:] == ["end", "start"]  # the end of the turn, the start of reflecting
    assert app.state is S.REFLECTING


def test_short_phases_get_no_halfway_chime_or_warning(app) -> None:
    app.cue("next", "next", "next")  # a one-minute turn: the warning would fall at the start
    app.wait(59)
    assert app.voice.chimes == ["start", "halfway"]
    app.cue("skip", "next", "next", "done")  # into reflecting: 30 seconds
    app.wait(29)
    assert app.voice.chimes[-1] == "start"


def test_a_long_silence_asks_gently_whether_the_speaker_is_done(listening_app) -> None:
    app = listening_app
    app.hear(SpeechStarted())
    app.wait(10)
    app.hear(SpeechStopped(seconds=10))
    app.wait(19.9)
    assert "If you have finished" not in app.last_said
    app.hear(SpeechStarted())  # speaking again resets the silence
    app.wait(5)
    app.hear(SpeechStopped(seconds=5))
    app.wait(20)
    assert app.last_said == 'Take all the time you need, Partner A. If you have finished, say "I\'m done".'
    app.cue("done")
    rounds = app.journal.rounds()
    assert rounds[-1].spoken_seconds == 15
    assert rounds[-1].seconds == pytest.approx(54.9)


def test_without_a_microphone_there_is_no_silence_prompt(app) -> None:
    app.cue("next", "next", "next")
    app.wait(50)
    assert all("If you have finished" not in line for line in app.voice.said)
    app.cue("done")
    assert app.journal.rounds()[-1].spoken_seconds is None


def test_the_exercise_and_the_session_end_with_a_summary(app) -> None:
    app.cue("next", "next", "next")
    app.wait(40)
    app.cue("done")
    app.wait(60)  # Ben's turn runs out
    assert app.view.summaries == [("Each in turn", 2, (("Ann", 40.0), ("Ben", 60.0)))]
    assert app.voice.said[-2] == "That was 2 turns. Ann had the floor for 40 seconds, and Ben for one minute."
    app.cue("next", "next")  # step 2: the listening exercise
    app.wait(50)
    app.cue("done", "done", "yes")
    app.wait(10)
    app.cue("done", "done", "yes", "skip")
    assert app.state is S.ENDED
    title, turns, floor = app.view.summaries[-1]
    assert (title, turns) == ("Today", 4) and floor == (("Ann", 90.0), ("Ben", 70.0))
    assert app.voice.said[-2] == (
        "Today you took 4 turns. Ann held the floor for 2 minutes in all, and Ben for one minute."
    )


def talk_with_a_pause(app) -> None:
    """Thirty seconds on the floor, a pause of a hundred, twenty more."""
    app.wait(30)
    app.cue("pause")
    app.wait(100)
    app.cue("resume")
    app.wait(20)


def test_a_break_and_a_pause_keep_the_round_figures(listening_app) -> None:
    app = listening_app
    talk_with_a_pause(app)
    app.cue("done")
    assert app.journal.rounds()[-1].seconds == pytest.approx(150)  # pause time counted on the clock
    assert app.runner.timers.remaining("phase") == pytest.approx(90)  # reflecting has started afresh


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('turn_prompt: "{speaker}, go."}', 'turn_prompt: "{speaker}, go.", warning_seconds: 60}', "must be shorter"),
        ('turn_prompt: "{speaker}, go."}', 'turn_prompt: "{speaker}, go.", silence_seconds: 0}', "more than 0"),
        ('turn_prompt: "{speaker}, go."}', 'turn_prompt: "{speaker}, go.", rounds: 0}', "at least 1"),
    ],
)
def test_impossible_times_are_rejected(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(SMALL_PROGRAMME.replace(old, new))
    with pytest.raises(ProgrammeError, match=message) as caught:
        load_programme(path)
    assert caught.value.line == 11


def test_more_rounds_give_each_partner_more_turns(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        SMALL_PROGRAMME.replace('turn_prompt: "{speaker}, go."}', 'turn_prompt: "{speaker}, go.", rounds: 2}')
    )
    session = Session(load_programme(path))
    session.start(0)
    from assistant.events import CueHeard

    speakers = []
    for cue in ("next", "next", "next"):
        session.handle(CueHeard(cue), 0)
    while session.state is S.SPEAKING and len(speakers) < 10:
        speakers.append(session.speaker)
        session.handle(CueHeard("done"), 0)
    assert speakers == ["Ann", "Ben", "Ann", "Ben"]


def test_a_turn_starts_once_its_prompt_has_been_said(app) -> None:
    app.cue("next", "next")
    app.voice.talking_slowly = True
    app.cue("next")
    assert app.state is S.SPEAKING and app.runner.timers.remaining("phase") is None
    app.wait(8)  # the prompt takes eight seconds to say
    app.voice.finish()
    app.wait(0)
    assert app.runner.timers.remaining("phase") == pytest.approx(60)
    app.wait(30)
    app.cue("done")
    assert app.journal.rounds()[-1].seconds == pytest.approx(30)


def test_the_late_end_of_an_earlier_line_does_not_start_the_turn(app) -> None:
    """The voice reports from its own thread: the end of the line before the prompt (or of one
    cut off by a stop) can arrive after the prompt was asked for, and must not be taken for it."""
    app.cue("next", "next")
    app.voice.talking_slowly = True
    app.cue("next")
    assert app.state is S.SPEAKING and app.voice.asked >= 2
    app.hear(VoiceFinished(app.voice.asked - 1))
    assert app.runner.timers.remaining("phase") is None
    app.wait(8)
    app.voice.finish()
    app.wait(0)
    assert app.runner.timers.remaining("phase") == pytest.approx(60)


def test_the_late_end_of_a_line_cut_by_stop_does_not_cut_the_goodbye(app) -> None:
    """The session ends once its last words are said: the end of the line "stop" cut off, arriving
    after the goodbye was asked for, must not end it (and close the voice) mid-goodbye."""
    app.voice.talking_slowly = True
    app.cue("next")
    cut = app.voice.asked
    app.cue("stop")
    assert app.state is S.ENDED and app.voice.asked > cut and not app.runner.finished
    app.hear(VoiceFinished(cut, interrupted=True))
    assert not app.runner.finished
    app.voice.finish()
    app.runner.run_until_idle()
    assert app.runner.finished


def test_a_lost_speaker_leaves_the_text_voice_to_finish_the_prompt(app) -> None:
    app.cue("next", "next")
    app.voice.talking_slowly = True
    app.cue("next")  # the turn's prompt is playing when the speaker goes
    old_voice = app.voice
    app.hear(DeviceLost("speaker", "The speaker stopped working: unplugged."))
    assert "The speaker stopped working: unplugged." in app.view.notices
    assert app.runner.timers.remaining("phase") is None  # the prompt was never heard out
    app.cue("repeat")  # said again, in text this time: then the turn starts
    assert app.runner.voice is not old_voice
    assert app.runner.timers.remaining("phase") == pytest.approx(60)
    app.hear(VoiceFinished(old_voice.asked, interrupted=True))  # the old voice's late report
    assert app.runner.timers.remaining("phase") == pytest.approx(60)


def test_a_likely_missed_cue_gets_a_hint_while_the_assistant_waits_for_an_answer(app) -> None:
    assert app.state not in NO_HINT_STATES
    app.hear(CueUnclear())
    app.hear(CueUnclear())  # straight after: not shown twice
    assert app.view.notices.count(UNCLEAR_HINT) == 1
    app.wait(UNCLEAR_HINT_GAP_S)
    app.hear(CueUnclear())
    assert app.view.notices.count(UNCLEAR_HINT) == 2


def test_no_hint_while_the_partners_talk_to_each_other(listening_app) -> None:
    assert listening_app.state in NO_HINT_STATES
    listening_app.hear(CueUnclear())
    assert UNCLEAR_HINT not in listening_app.view.notices


def spoken(app, cue: str) -> None:
    """A cue the ears heard (a key press is never a misheard one)."""
    app.hear(CueHeard(cue, source="voice"))


def test_a_spoken_im_done_can_be_taken_back_with_carry_on(listening_app) -> None:
    app = listening_app  # Partner A has a three-minute turn
    app.wait(30)
    spoken(app, "done")  # heard in the middle of Partner A's talk
    assert app.state is S.REFLECTING
    assert 'Not finished, Partner A? Say "carry on" (or press c) to take the floor back.' in app.view.notices
    assert app.session.listen_cues() == FLOOR_CUES | {"resume"}
    spoken(app, "resume")  # "carry on"
    assert app.state is S.SPEAKING and app.session.speaker == "Partner A"
    assert app.last_said == "Sorry, Partner A, I moved on too soon. The floor is yours again."
    assert app.runner.timers.remaining("phase") == pytest.approx(150)  # the rest of the turn
    assert app.session.listen_cues() == FLOOR_CUES
    app.wait(150)
    assert app.state is S.REFLECTING  # the turn ran out as it would have
    turns = [(r.phase, r.partner, r.seconds, r.ended_by) for r in app.journal.rounds()]
    assert turns == [("speak", "Partner A", 30, "cue"), ("speak", "Partner A", 150, "timer")]


def test_the_floor_can_be_taken_back_only_for_a_moment(listening_app) -> None:
    app = listening_app
    app.wait(30)
    spoken(app, "done")
    app.wait(TAKE_BACK_S - 0.1)
    assert "resume" in app.session.listen_cues()
    app.wait(0.2)
    assert "resume" not in app.session.listen_cues()
    spoken(app, "resume")  # as a key press would be: said not to apply now
    assert app.state is S.REFLECTING
    assert app.last_said.startswith('"resume" does not apply right now.')


def test_a_turn_ended_by_a_key_press_cannot_be_taken_back(listening_app) -> None:
    app = listening_app
    app.wait(30)
    app.cue("done")
    assert app.state is S.REFLECTING and "resume" not in app.session.listen_cues()
    assert not any("carry on" in notice for notice in app.view.notices)
    app.cue("resume")
    assert app.state is S.REFLECTING


def test_a_turn_taken_back_keeps_the_time_it_had_left_after_a_pause(listening_app) -> None:
    app = listening_app
    talk_with_a_pause(app)
    spoken(app, "done")
    spoken(app, "resume")
    assert app.runner.timers.remaining("phase") == pytest.approx(130)  # 180 less the 50 spoken


def test_a_turn_cut_at_its_very_end_gets_a_little_time_back(listening_app) -> None:
    app = listening_app
    app.wait(175)
    spoken(app, "done")
    spoken(app, "resume")
    assert app.runner.timers.remaining("phase") == pytest.approx(TAKE_BACK_MIN_S)


def test_in_turns_without_reflecting_the_speaker_before_takes_the_floor_back(app) -> None:
    app.cue("next", "next", "next")  # Ann's one-minute turn, then Ben's
    app.wait(20)
    spoken(app, "done")
    assert app.state is S.SPEAKING and app.session.speaker == "Ben"
    spoken(app, "resume")
    assert app.session.speaker == "Ann" and app.runner.timers.remaining("phase") == pytest.approx(40)
    spoken(app, "done")
    spoken(app, "done")  # Ben's was the last turn: the exercise is over, nothing to take back
    assert app.state is not S.SPEAKING and app.session.take_back is None


def test_a_turn_taken_back_twice_keeps_counting_down(listening_app) -> None:
    app = listening_app
    app.wait(30)
    spoken(app, "done")
    spoken(app, "resume")  # 150 s left
    app.wait(100)
    spoken(app, "done")
    spoken(app, "resume")
    assert app.runner.timers.remaining("phase") == pytest.approx(50)


def test_a_turn_taken_back_still_counts_as_one_turn(app) -> None:
    app.cue("next", "next", "next")
    app.wait(20)
    spoken(app, "done")  # misheard
    spoken(app, "resume")
    app.wait(20)
    app.cue("done")
    app.wait(60)  # Ben's turn runs out
    assert app.view.summaries == [("Each in turn", 2, (("Ann", 40.0), ("Ben", 60.0)))]
    assert app.voice.said[-2] == "That was 2 turns. Ann had the floor for 40 seconds, and Ben for one minute."


def test_the_ears_listen_for_carry_on_only_while_the_turn_can_be_taken_back(listening_app) -> None:
    app = listening_app
    app.wait(30)
    spoken(app, "done")
    assert app.ears.listening[-1] == FLOOR_CUES | {"resume"}  # the runner passed the window on
    app.wait(TAKE_BACK_S)
    assert app.ears.listening[-1] == FLOOR_CUES  # and closed it when its timer ran out


class OnceStartedVoice(FakeVoice):
    """Like the real player: one `VoiceStarted` for a run of lines, however many queue up."""

    def __init__(self, post) -> None:  # noqa: ANN001 - the runner's post
        super().__init__(post)
        self.talking_slowly = True
        self._playing = False

    def _play(self) -> int:
        self.asked += 1
        if not self._playing:
            self._playing = True
            self._post(VoiceStarted())
        return self.asked

    def finish(self) -> None:
        self._playing = False
        super().finish()


def test_the_ears_know_every_line_said_while_the_voice_plays(app) -> None:
    """A line queued behind one already playing is told to the ears too, or its echo would be
    taken for a partner (the player posts `VoiceStarted` once for a run of lines)."""
    app.voice = app.runner.voice = OnceStartedVoice(app.runner.post)
    app.cue("help")  # its answer starts playing
    told_before = len(app.ears.lines)
    app.cue("next")  # more lines, while the first still plays
    assert app.voice.said[-1] not in " ".join(app.ears.lines[:told_before])
    assert app.voice.said[-1] in " ".join(app.ears.lines[told_before:])
    app.voice.finish()
    app.runner.run_until_idle()
    assert app.ears.voice_playing[-1] is False
