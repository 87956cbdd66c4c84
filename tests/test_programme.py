"""The programme loader: the built-in file, and broken files named by file and line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.cli import main, programme_check_command
from assistant.errors import ProgrammeError
from assistant.programme import load_builtin, load_programme
from tests.conftest import SMALL_PROGRAMME


def test_builtin_programme_has_the_five_steps() -> None:
    programme = load_builtin()
    assert [step.title for step in programme.steps] == [
        "Define trust and intimacy",
        "Identify what fractured trust",
        "Practise healthy communication",
        "Practise forgiveness",
        "Rebuild intimate moments",
    ]
    assert all(step.intro and step.exercises for step in programme.steps)
    assert "not a therapist" in programme.welcome and "recorded" in programme.welcome


def test_builtin_intimacy_exercise_names_all_five_sides() -> None:
    prompt = load_builtin().steps[0].exercises[1].prompt
    for side in ("emotional", "spiritual", "intellectual", "psychological", "physical"):
        assert side in prompt


def test_a_users_programme_may_leave_out_the_phrases(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(SMALL_PROGRAMME)
    programme = load_programme(path)
    assert programme.partners == ("Ann", "Ben")
    assert programme.phrase("paused") == load_builtin().phrase("paused")
    assert programme.steps[0].exercises[0].speak_seconds == 60


BROKEN = [
    # (what to change in the small programme, line named, words in the message)
    (("format: turns, prompt: Take turns.", "format: turnz, prompt: Take turns."), 11, "must be one of turns"),
    (("timing: {speak_seconds: 60", "timing: {speak_seconds: -5"), 4, "more than 0 seconds"),
    (("timing: {speak_seconds: 60", "timing: {speak_seconds: soon"), 4, "number of seconds"),
    (('turn_prompt: "{speaker}, go."', 'turn_prompt: "{speeker}, go."'), 11, "{speeker}"),
    (("    intro: The second step.\n", ""), 12, "needs 'intro'"),
    (("  prompt: Speak and listen.\n", "  prompt: Speak.\n        colour: blue\n"), 19, "unknown key 'colour'"),
    (("partners: [Ann, Ben]", "partners: [Ann]"), 3, "two names"),
    (("welcome: Welcome to the test.", "welcome: [Welcome"), 6, "not valid YAML"),
    (("        reflect_prompt: \"{listener}, reflect back to {speaker}.\"\n", ""), 16, "needs 'reflect_prompt'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "line", "words"), BROKEN)
def test_a_broken_file_names_the_file_and_line(tmp_path: Path, change: tuple[str, str], line: int, words: str) -> None:
    old, new = change
    assert old in SMALL_PROGRAMME
    path = tmp_path / "broken.yaml"
    path.write_text(SMALL_PROGRAMME.replace(old, new, 1))
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{path}, line {line}: ")


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ProgrammeError, match="cannot be read"):
        load_programme(tmp_path / "nowhere.yaml")


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    with pytest.raises(ProgrammeError, match="empty"):
        load_programme(tmp_path / "empty.yaml")


def test_check_command_accepts_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(SMALL_PROGRAMME)
    out = io.StringIO()
    assert programme_check_command(str(path), out) == 0
    assert "OK" in out.getvalue() and "2 steps, 3 exercises" in out.getvalue()


def test_check_command_reports_a_broken_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(SMALL_PROGRAMME.replace("format: talk", "format: chat"))
    assert main(["programme", "check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"assistant: {path}, line 23: ")
