"""Learning each partner's "your turn" after the welcome: asked in turn, asked again, skipped."""

from __future__ import annotations

import pytest

from assistant.events import CueHeard, DeviceLost, SpeechStarted, SpeechStopped, TakeHeard, VoiceFinished
from assistant.session import LEARN_TRIES, LEARN_WAIT_S, LEARNED_CUE, Place, S, Session


@pytest.fixture
def learning_app(make_app, small_programme):
    """The small programme with a microphone on, just past the welcome."""
    app = make_app(small_programme)
    app.session.hears_speech = True
    app.cue("next")
    assert app.state is S.LEARNING
    return app


def test_with_a_microphone_each_partner_is_asked_for_im_done_in_turn(learning_app) -> None:
    app = learning_app
    assert 'Ann, please say "your turn".' in app.last_said
    assert app.ears.learning == [LEARNED_CUE]
    app.hear(TakeHeard(learned=True))
    assert app.state is S.LEARNING
    assert app.last_said == 'Thank you. Ben, please say "your turn".'
    app.hear(TakeHeard(learned=True))
    assert app.voice.said[-2] == "Thank you both."
    assert app.state is S.STEP_INTRO and app.last_said.startswith("Step 1")
    assert app.ears.learning[-1] is None  # the ears stop waiting for a take


def test_while_learning_the_ears_listen_for_the_cue_and_the_ways_out(learning_app) -> None:
    cues = learning_app.session.listen_cues()
    assert {LEARNED_CUE, "skip", "stop", "timeout"} <= cues
    assert learning_app.ears.listening[-1] == cues


def test_a_take_that_was_something_else_is_asked_for_again_then_given_up(learning_app) -> None:
    app = learning_app
    for _ in range(LEARN_TRIES - 1):
        app.hear(TakeHeard(learned=False))
        assert app.last_said == 'I did not quite catch that. Ann, please say just "your turn".'
    app.hear(TakeHeard(learned=False))
    assert app.voice.said[-2] == "Never mind, Ann. I will listen for it as usual."
    assert app.last_said == 'Ben, please say "your turn".'


def test_quiet_after_the_asking_asks_again_but_not_while_someone_speaks(learning_app) -> None:
    app = learning_app
    asked = len(app.voice.said)
    app.wait(LEARN_WAIT_S - 1)
    app.hear(SpeechStarted())  # the take is on its way: the wait starts again
    app.wait(LEARN_WAIT_S - 1)
    app.hear(SpeechStopped(seconds=0.05))  # only a breath: no take came of it
    app.wait(LEARN_WAIT_S - 0.1)
    assert len(app.voice.said) == asked
    app.wait(0.1)
    assert app.last_said.startswith("I did not quite catch that. Ann")


def test_speech_that_never_ends_as_a_take_does_not_leave_it_waiting(learning_app) -> None:
    app = learning_app
    app.hear(SpeechStarted())  # and no end reported (the ears judged it our own echo)
    app.wait(LEARN_WAIT_S)
    assert app.last_said.startswith("I did not quite catch that. Ann")


def test_the_wait_starts_once_the_asking_has_been_said(learning_app) -> None:
    app = learning_app
    app.voice.talking_slowly = True
    app.hear(TakeHeard(learned=True))  # Ben is asked, slowly
    app.wait(LEARN_WAIT_S + 1)
    assert app.last_said.startswith("Thank you. Ben")
    app.voice.finish()
    app.runner.run_until_idle()
    app.wait(LEARN_WAIT_S)
    assert app.last_said.startswith("I did not quite catch that. Ben")


def test_a_lost_microphone_ends_the_learning_at_the_next_wait(learning_app) -> None:
    app = learning_app
    app.hear(DeviceLost("microphone", "the microphone was unplugged"))
    app.wait(LEARN_WAIT_S)
    assert app.state is S.STEP_INTRO


def test_skip_goes_on_without_learning(learning_app) -> None:
    app = learning_app
    app.cue("skip")
    assert app.state is S.STEP_INTRO
    assert app.ears.learning[-1] is None


def test_a_pause_while_learning_asks_again_after_it(learning_app) -> None:
    app = learning_app
    app.cue("pause")
    assert app.state is S.PAUSED and app.ears.learning[-1] is None
    app.cue("resume")
    assert app.state is S.LEARNING
    assert app.ears.learning[-1] == LEARNED_CUE
    assert app.voice.said[-2:] == ["Let's carry on.", 'Ann, please say "your turn".']


def test_without_a_microphone_there_is_nothing_to_learn(app) -> None:
    app.cue("next")
    assert app.state is S.STEP_INTRO
    assert app.ears.learning == []


def test_after_learning_a_saved_place_is_offered(make_app, small_programme) -> None:
    app = make_app(small_programme, saved=Place(1, 0))
    app.session.hears_speech = True
    app.cue("next")
    app.hear(TakeHeard(learned=True))
    app.hear(TakeHeard(learned=True))
    assert app.state is S.RESUME_OFFER


def test_a_take_heard_outside_learning_changes_nothing(small_programme) -> None:
    session = Session(small_programme, hears_speech=True)
    session.start(0.0)
    assert session.handle(TakeHeard(learned=True), 1.0) == []
    assert session.state is S.WELCOME
    session.handle(VoiceFinished(), 2.0)
    assert session.state is S.WELCOME


def test_every_cue_given_by_key_is_passed_to_the_ears_and_no_spoken_one(learning_app) -> None:
    """So that the ears can learn a phrase they had just missed (`CueListener.cue_keyed`)."""
    app = learning_app
    app.cue("skip")
    app.hear(CueHeard("repeat", source="voice", phrase="repeat that", confidence=0.9))
    assert app.ears.keyed == ["next", "skip"]  # "next" was the welcome's
