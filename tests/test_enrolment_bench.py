"""The enrolment benchmark (benchmarks/enrolment.py) runs the session's learning on a tiny set."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np

from assistant.ears.microphone import read_wav
from benchmarks.enrolment import main
from tests.conftest import needs_espeak


def write_take(folder: Path, word: str, speaker: str, take: int, voice: str, speed: int) -> None:
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), word], check=True, capture_output=True)
    quiet = np.round(np.random.default_rng(take).standard_normal(4000) * 20).astype(np.int16)
    samples = np.concatenate([quiet, read_wav(raw), quiet])
    (folder / word).mkdir(exist_ok=True)
    with wave.open(str(folder / word / f"{speaker}_nohash_{take}.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.astype("<i2").tobytes())


@needs_espeak
def test_the_benchmark_learns_first_takes_and_counts_later_ones(tmp_path: Path, capsys) -> None:
    for speaker, voice in (("aaaa1111", "en-us"), ("bbbb2222", "en-gb")):
        for take, speed in enumerate((160, 140, 180)):
            write_take(tmp_path, "yes", speaker, take, voice, speed)
        for word in ("house", "tree"):
            write_take(tmp_path, word, speaker, 0, voice, 160)
    (tmp_path / "raw.wav").unlink()
    assert main([str(tmp_path), "--thresholds", "10,12"]) == 0
    out = capsys.readouterr().out.splitlines()
    summary = json.loads(out[-1])
    assert summary["takes"] == 4 and summary["other_words"] == 4  # two later takes, two other words each
    assert summary["learned"][1] == 2  # each speaker's first "yes" was offered
    assert set(summary["heard"]) == {"alone", "10", "12"}
    # A take can only add to what the model heard alone, and a larger threshold to a smaller one.
    assert summary["heard"]["alone"] <= summary["heard"]["10"] <= summary["heard"]["12"] <= 4
    assert summary["false"]["alone"] <= summary["false"]["10"] <= summary["false"]["12"] <= 4
    assert out[0].startswith("first takes learned:")


@needs_espeak
def test_the_keys_mode_hears_each_speakers_takes_in_order_and_keys_the_misses(tmp_path: Path, capsys) -> None:
    for word, speaker, voice in (("go", "aaaa1111", "en-us+f3"), ("stop", "bbbb2222", "en-us")):
        for take, speed in enumerate((160, 120, 200)):
            write_take(tmp_path, word, speaker, take, voice, speed)
        write_take(tmp_path, "house", speaker, 0, voice, 160)
    (tmp_path / "raw.wav").unlink()
    assert main([str(tmp_path), "--keys"]) == 0
    out = capsys.readouterr().out.splitlines()
    summary = json.loads(out[-1])
    assert summary["takes"] == 6 and summary["other_words"] == 2
    assert summary["heard_by_model"] <= summary["heard"] <= 6
    assert 1 <= summary["keyed_takes"] <= 6 - summary["heard_by_model"]  # only misses teach
    # This voice's "go" is missed by the model; keyed once, its later takes are heard.
    assert summary["heard_by_model_after"] < summary["heard_after"] <= summary["after_a_learned_miss"]
    assert summary["false_by_model"] <= summary["false"] <= 2
    assert out[0].startswith("cue takes heard")


def test_a_folder_without_the_layout_is_refused(tmp_path, capsys) -> None:
    assert main([str(tmp_path)]) == 2
    assert "no clips in the Speech Commands layout" in capsys.readouterr().err
