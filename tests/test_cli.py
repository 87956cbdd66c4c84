"""The command line, end to end in-process and as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.cli import build_parser, main
from assistant.journal import FILE_NAME, Journal
from assistant.programme import load_builtin
from assistant.session import Place

ROOT = Path(__file__).resolve().parents[1]


def _assistant(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_whole_rehearsal_runs_to_the_closing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--text", "--auto", "--fast", "1000", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    programme = load_builtin()
    for number, step in enumerate(programme.steps, start=1):
        assert f"\nStep {number}: {step.title}\n" in out
    assert programme.closing in out
    assert out.index("Step 1:") < out.index("Step 5:") < out.index(programme.closing)


def test_a_rehearsal_as_a_real_process_exits_zero(tmp_path: Path) -> None:
    process = _assistant("run", "--text", "--auto", "--fast", "1000", "--data-dir", str(tmp_path))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Step 5: Rebuild intimate moments" in out


def test_stop_by_key_then_the_next_run_offers_to_resume(tmp_path: Path) -> None:
    # Typed lines stand for key presses: next, skip step 1, next, then stop.
    process = _assistant("run", "--text", "--no-mic", "--data-dir", str(tmp_path), stdin=subprocess.PIPE)
    out, err = process.communicate("n\ns\nn\nq\n", timeout=60)
    assert process.returncode == 0, err
    assert "Stopping here." in out
    journal = Journal(tmp_path, load_builtin().title)
    assert journal.saved_place() == Place(1, 0)
    journal.close()

    process = _assistant("run", "--text", "--auto", "--fast", "1000", "--data-dir", str(tmp_path))
    out, _ = process.communicate(timeout=120)
    assert "Last time you reached step 2, Identify what fractured trust." in out
    assert "Step 1:" not in out and "Step 2: Identify what fractured trust" in out


def test_restart_starts_over(tmp_path: Path) -> None:
    journal = Journal(tmp_path, load_builtin().title)
    journal.save_place(Place(3, 0), (0, 1, 2), finished=False)
    journal.close()
    process = _assistant("run", "--text", "--auto", "--fast", "1000", "--restart", "--data-dir", str(tmp_path))
    out, _ = process.communicate(timeout=120)
    assert "Last time" not in out and "Step 1: Define trust and intimacy" in out


def test_ctrl_c_mid_session_keeps_progress(tmp_path: Path) -> None:
    process = _assistant("run", "--text", "--no-mic", "--data-dir", str(tmp_path), stdin=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("n\ns\nn\nn\n")  # into step 2's first exercise, partner A holds the floor
    process.stdin.flush()
    deadline = time.monotonic() + 60
    seen = ""
    while "the floor is yours" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    assert "the floor is yours" in seen
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "progress is saved" in err
    assert "Traceback" not in err
    journal = Journal(tmp_path, load_builtin().title)
    assert journal.saved_place() == Place(1, 0)
    journal.close()


def test_end_of_input_with_no_microphone_ends_the_session_with_progress(tmp_path: Path) -> None:
    process = _assistant("run", "--text", "--no-mic", "--data-dir", str(tmp_path), stdin=subprocess.DEVNULL)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Welcome." in out


def test_a_broken_programme_is_reported_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("title: x\nsteps: []\n")
    process = _assistant("run", "--text", "--auto", "--programme", str(path), "--data-dir", str(tmp_path))
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip() == f"assistant: {path}, line 2: 'steps' must be a non-empty list"
    assert out == ""


def _commands(parser) -> list[list[str]]:  # noqa: ANN001
    found: list[list[str]] = []
    for action in parser._actions:  # argparse has no public way to list subcommands
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            for name, sub in action.choices.items():
                found.append([name])
                found.extend([name, *rest] for rest in _commands(sub))
    return found


@pytest.mark.parametrize("command", _commands(build_parser()), ids=" ".join)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: assistant " + " ".join(command))
    assert len(out.splitlines()) >= 3


def test_kill_9_mid_round_then_resume_at_that_round(tmp_path: Path) -> None:
    process = _assistant("run", "--text", "--no-mic", "--data-dir", str(tmp_path), stdin=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("n\nn\nn\nd\n")  # step 1, first exercise: Partner A is done, Partner B has the floor
    process.stdin.flush()
    deadline = time.monotonic() + 60
    seen = ""
    while "Partner B, what does trust mean to you?" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    process.kill()  # SIGKILL: no chance to save anything more
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    process = _assistant("run", "--text", "--no-mic", "--data-dir", str(tmp_path), stdin=subprocess.PIPE)
    out, _ = process.communicate("n\ny\nn\nq\n", timeout=60)
    assert "Last time you reached step 1, Define trust and intimacy." in out
    after_resume = out[out.index("Last time") :]
    assert "Partner B, what does trust mean to you?" in after_resume
    assert "Partner A, what does trust mean to you?" not in after_resume


def test_history_export_and_forget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["run", "--text", "--auto", "--fast", "1000", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["history", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "steps 1,2,3,4,5" in out and "completed" in out and "Partner A" in out
    assert "this week" in out and "█" in out

    target = tmp_path / "export.json"
    assert main(["export", str(target), "--data-dir", str(tmp_path)]) == 0
    data = json.loads(target.read_text())
    assert len(data["sessions"]) == 1 and len(data["rounds"]) >= 10
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)

    assert main(["forget", "--yes", "--data-dir", str(tmp_path)]) == 0
    assert "Deleted 1 file(s)" in capsys.readouterr().out
    assert main(["history", "--data-dir", str(tmp_path)]) == 0
    assert "No sessions yet" in capsys.readouterr().out


def test_forget_asks_first(tmp_path: Path) -> None:
    assert main(["run", "--text", "--auto", "--fast", "1000", "--data-dir", str(tmp_path)]) == 0
    process = _assistant("forget", "--data-dir", str(tmp_path), stdin=subprocess.PIPE)
    out, _ = process.communicate("no\n", timeout=30)
    assert "Nothing was deleted." in out
    assert any(tmp_path.iterdir())


def test_escape_twice_is_a_quick_exit(tmp_path: Path) -> None:
    process = _assistant("run", "--text", "--no-mic", "--data-dir", str(tmp_path), stdin=subprocess.PIPE)
    out, err = process.communicate("n\ns\n\x1b\x1b\nn\n", timeout=60)
    assert process.returncode == 0, err
    assert "Stopping here" not in out and err == ""
    journal = Journal(tmp_path, load_builtin().title)
    assert journal.saved_place() == Place(1, 0)
    journal.close()


@pytest.mark.parametrize("reason", ["no microphone found: plug one in (PortAudio sees no input device)", "Gone."])
def test_without_a_microphone_one_plain_sentence_says_so(reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import assistant.ears.commands
    from assistant.cli import _open_ears
    from assistant.errors import DeviceError
    from tests.fakes import FakeView

    def no_microphone(post: object) -> None:
        raise DeviceError(reason)

    monkeypatch.setattr(assistant.ears.commands, "open_ears", no_microphone)
    view = FakeView()
    assert _open_ears(SimpleNamespace(post=lambda event: None, view=view)) is None  # type: ignore[arg-type]
    (notice,) = view.notices
    assert notice[0].isupper() and notice.endswith("Not listening: use the keys shown instead.")
    assert ". Not listening" in notice and ".. " not in notice


def _damaged_journal(data_dir: Path) -> bytes:
    """A journal with one session whose first bytes were then damaged; returns its bytes."""
    journal = Journal(data_dir, load_builtin().title)
    journal.begin_session()
    journal.close()
    path = data_dir / FILE_NAME
    damaged = b"\0" * 16 + path.read_bytes()[16:]
    path.write_bytes(damaged)
    return damaged


def _set_aside(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir() if ".set-aside-" in p.name)


@pytest.mark.parametrize("command", ["history", "export", "run"])
def test_a_command_that_opens_an_unreadable_journal_says_so_once(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    damaged = _damaged_journal(data_dir)
    args = {
        "history": ["history"],
        "export": ["export", str(tmp_path / "export.json")],
        "run": ["run", "--text", "--auto", "--fast", "1000"],
    }[command]

    assert main([*args, "--data-dir", str(data_dir)]) == 0

    out, err = capsys.readouterr()
    (kept,) = _set_aside(data_dir)
    assert kept.read_bytes() == damaged
    assert err.count("assistant: ") == 1
    assert f"Your journal {data_dir / FILE_NAME} is not a journal the assistant can read" in err
    assert f"kept unchanged as {kept.name}" in err
    if command == "history":
        assert out == "No sessions yet.\n"


@pytest.mark.parametrize("command", ["history", "export"])
def test_history_and_export_name_a_journal_set_aside_earlier(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _damaged_journal(tmp_path)
    Journal(tmp_path, load_builtin().title).close()  # as `assistant run` would, earlier
    (kept,) = _set_aside(tmp_path)
    args = ["export", str(tmp_path / "export.json")] if command == "export" else ["history"]

    assert main([*args, "--data-dir", str(tmp_path)]) == 0

    err = capsys.readouterr().err
    assert err == f"assistant: An earlier journal that could not be read is kept unchanged as {kept}.\n"


def test_forget_says_what_could_not_be_read_before_deleting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _damaged_journal(tmp_path)
    Journal(tmp_path, load_builtin().title).close()
    (kept,) = _set_aside(tmp_path)
    _damaged_journal(tmp_path)

    assert main(["forget", "--yes", "--data-dir", str(tmp_path)]) == 0

    out, err = capsys.readouterr()
    assert err == (
        f"assistant: Your journal {tmp_path / FILE_NAME} is not a journal the assistant can read."
        f" An earlier journal that could not be read is kept unchanged as {kept}.\n"
    )
    assert out == f"Deleted 2 file(s) from {tmp_path}.\n"
    assert not any(tmp_path.iterdir())


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"assistant {version('couples-trust-assistant')}\n"


@pytest.mark.parametrize("command", ["run", "say"])
def test_every_option_is_explained_in_a_sentence(command: str) -> None:
    parser = next(
        action.choices[command] for action in build_parser()._actions if isinstance(action.choices, dict)
    )  # argparse has no public way to reach a subcommand's parser
    for action in parser._actions:
        if action.dest == "help":
            continue
        text = action.help or ""
        assert text[:1].isupper() and text.endswith("."), f"{action.option_strings or action.dest}: {text!r}"


@pytest.mark.parametrize(
    "second", ["the chime /x/start.wav is missing, so this copy of the assistant is incomplete.", "No speaker."]
)
def test_a_recording_that_cannot_be_made_is_never_silent(second: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import assistant.voice.commands
    from assistant.cli import _open_voice
    from assistant.errors import DeviceError
    from tests.fakes import FakeView

    def no_voice(post: object, *, play: bool, **settings: object) -> None:
        raise DeviceError("No speaker." if play else second)

    monkeypatch.setattr(assistant.voice.commands, "open_voice", no_voice)
    view = FakeView()
    args = SimpleNamespace(text=False, record_to="s.wav", voice=None, rate=None, volume=None)
    runner = SimpleNamespace(post=lambda event: None, view=view, clock=None)
    _open_voice(args, runner)  # type: ignore[arg-type]
    reasons = [] if second == "No speaker." else [second]
    assert view.notices == [
        "No speaker. Continuing in text mode: the lines are shown instead of spoken.",
        *reasons,
        "Nothing is recorded to s.wav.",
    ]
