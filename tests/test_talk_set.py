"""The builder of the talk sets the cue benchmark measures false cues on (benchmarks/talk_set.py)."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.voice.pcm import write_wav
from benchmarks.talk_set import main

pytestmark = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (apt install sox)")

HEADER = "file,seconds,speaker_or_unknown,corpus,licence,source_repo,source_path,commit\n"


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    done = subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def clone_with_a_recording(clones: Path, seconds: float, rate: int) -> str:
    """A repository `someone/talk` under `clones` whose one commit holds `audio/talk.wav`; its commit."""
    repo = clones / "someone+talk"
    (repo / "audio").mkdir(parents=True)
    samples = np.random.default_rng(1).integers(-3000, 3000, round(seconds * rate)).astype(np.int16)
    write_wav(repo / "audio" / "talk.wav", samples.tobytes(), rate=rate)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a recording")
    return git(repo, "rev-parse", "HEAD")


def listing(tmp_path: Path, row: str) -> Path:
    path = tmp_path / "talk.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    return path


def test_a_listed_file_is_taken_from_its_commit_and_converted_to_what_the_ears_hear(tmp_path: Path) -> None:
    commit = clone_with_a_recording(tmp_path / "clones", seconds=1.5, rate=44100)
    csv = listing(tmp_path, f"set/talk.wav,1.50,someone,corpus,CC0,someone/talk,audio/talk.wav,{commit}")
    assert main([str(csv), str(tmp_path / "built"), "--clones", str(tmp_path / "clones")]) == 0
    with wave.open(str(tmp_path / "built" / "set" / "talk.wav"), "rb") as built:
        assert (built.getframerate(), built.getnchannels(), built.getsampwidth()) == (16000, 1, 2)
        assert built.getnframes() == 24000


def test_a_file_whose_length_differs_from_the_listing_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit = clone_with_a_recording(tmp_path / "clones", seconds=1.5, rate=16000)
    csv = listing(tmp_path, f"set/talk.wav,2.50,someone,corpus,CC0,someone/talk,audio/talk.wav,{commit}")
    assert main([str(csv), str(tmp_path / "built"), "--clones", str(tmp_path / "clones")]) == 1
    assert f"{csv}:2: set/talk.wav lasts 1.50 s, the listing says 2.50" in capsys.readouterr().err


def test_a_missing_clone_is_named_with_the_command_that_brings_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = listing(tmp_path, "set/talk.wav,1.50,someone,corpus,CC0,someone/elsewhere,audio/talk.wav," + "0" * 40)
    (tmp_path / "clones").mkdir()
    assert main([str(csv), str(tmp_path / "built"), "--clones", str(tmp_path / "clones")]) == 1
    err = capsys.readouterr().err
    assert "no clone of someone/elsewhere" in err
    assert "git clone --bare https://github.com/someone/elsewhere" in err
