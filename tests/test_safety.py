"""The safety a couple in crisis needs: the first-session note, readiness checks, where to find help."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import ProgrammeError
from assistant.events import CueHeard, Say, ShowNotice
from assistant.programme import load_builtin
from assistant.programme.resources import FILE_NAME, HelpResource, load_help_resources
from assistant.session import Place, S, Session

RESOURCES = (HelpResource("Emergency services", "999", "if anyone is in danger now"),)


def _said(actions) -> list[str]:  # noqa: ANN001
    return [a.text for a in actions if isinstance(a, Say)]


def test_the_first_session_begins_with_the_safety_note() -> None:
    first = Session(load_builtin(), first_session=True).start(0)
    later = Session(load_builtin(), first_session=False).start(0)
    note = _said(first)[0]
    assert "not therapy" in note and "violence, threats, or fear" in note and '"time out"' in note
    assert note not in _said(later)


def test_steps_two_and_four_ask_whether_both_agree_to_go_on() -> None:
    programme = load_builtin()
    assert [step.check_ready for step in programme.steps] == [False, True, False, True, False]
    session = Session(programme)
    session.start(0)
    session.handle(CueHeard("next"), 0)
    said = _said(session.handle(CueHeard("skip"), 0))  # to step 2
    assert said[-1].endswith('Do you both agree to go on with this step now? Say "yes", or "not yet".')


def test_not_yet_offers_to_stop_or_take_a_break_and_is_remembered(make_app) -> None:
    app = make_app(load_builtin())
    app.cue("next", "skip", "no")
    assert app.state is S.NOT_READY
    assert "You can stop here for today, take a break, or skip this step" in app.last_said
    assert set(app.session.valid_cues()) >= {"stop", "timeout", "skip", "yes"}
    app.cue("timeout")
    assert app.state is S.BREAK
    app.wait(1200)
    app.cue("yes")
    assert app.state is S.NOT_READY  # back to the question, not past it
    app.cue("stop")
    assert app.journal.saved_place() == Place(1, 0)
    rows = app.journal._db.execute("SELECT step FROM not_ready").fetchall()
    assert rows == [(1,), (1,)]


def test_help_me_gives_where_to_find_help_at_any_moment() -> None:
    session = Session(load_builtin(), help_resources=RESOURCES)
    session.start(0)
    for cue in ("next", "next", "next"):
        session.handle(CueHeard(cue), 0)
    assert session.state is S.SPEAKING
    actions = session.handle(CueHeard("support", source="key"), 0)
    assert session.state is S.SPEAKING  # the round goes on
    assert "Emergency services: 999, if anyone is in danger now." in _said(actions)[0]
    assert ShowNotice("Emergency services: 999, if anyone is in danger now.") in actions


@pytest.mark.parametrize("ending", ["stop", "closing"])
def test_every_session_ends_with_where_to_find_help(ending: str) -> None:
    session = Session(load_builtin(), help_resources=RESOURCES)
    session.start(0)
    if ending == "stop":
        actions = session.handle(CueHeard("stop"), 0)
    else:
        session.handle(CueHeard("next"), 0)
        for _ in range(5):
            actions = session.handle(CueHeard("skip"), 0)
        assert session.state is S.CLOSING
    assert any("Emergency services: 999" in text for text in _said(actions))


def test_help_resources_by_country_and_a_users_own_file(tmp_path: Path) -> None:
    assert load_help_resources("GB")[0].contact == "999"
    assert load_help_resources("US")[2].contact == "call or text 988"
    assert load_help_resources("ZZ") == load_help_resources("default")
    (tmp_path / FILE_NAME).write_text("default:\n  - {name: My therapist, contact: '0123', when: any time}\n")
    assert load_help_resources("GB", tmp_path) == (HelpResource("My therapist", "0123", "any time"),)
    (tmp_path / FILE_NAME).write_text("default: [\n")
    with pytest.raises(ProgrammeError, match=FILE_NAME):
        load_help_resources(None, tmp_path)


def test_the_session_on_screen_ends_with_help(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "--text", "--auto", "--fast", "1000", "--country", "GB", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    closing = out.index(load_builtin().closing)
    assert out.index("(Samaritans: 116 123, if either of you is in crisis.)") > closing
