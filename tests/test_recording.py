"""A whole rehearsal recorded with --record-to: real eSpeak NG speech, gaps that match the script."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from assistant.cli import main
from tests.conftest import needs_espeak

pytestmark = needs_espeak

PROGRAMME = """
title: Recording test
partners: [Ann, Ben]
welcome: Welcome.
closing: Goodbye.
steps:
  - title: Turns
    intro: One step.
    exercises:
      - {title: Each in turn, format: turns, prompt: Take turns., turn_prompt: "{speaker}, go.", speak_seconds: 30}
"""
FAST = 10.0


def _silences(path: Path, longer_than: float) -> list[float]:
    """Lengths in seconds of the stretches of digital silence longer than `longer_than`."""
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    frame = rate // 100  # 10 ms
    loud = np.abs(samples[: len(samples) // frame * frame].reshape(-1, frame)).max(axis=1) > 64
    stretches, run = [], 0
    for is_loud in loud:
        if is_loud:
            if run * 0.01 > longer_than:
                stretches.append(run * 0.01)
            run = 0
        else:
            run += 1
    return stretches


def test_a_rehearsal_recording_has_the_voice_and_the_rounds_gaps(tmp_path: Path) -> None:
    programme = tmp_path / "p.yaml"
    programme.write_text(PROGRAMME)
    recording = tmp_path / "session.wav"
    code = main(["run", "--text", "--auto", "--fast", str(FAST), "--programme", str(programme),
                 "--data-dir", str(tmp_path / "data"), "--record-to", str(recording)])  # fmt: skip
    assert code == 0
    with wave.open(str(recording)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
    # Each partner's 30-second turn runs out (the rehearsal couple talks for 45): two gaps of
    # 30 / FAST seconds between the turn prompt and the chime that ends the turn, plus the quiet
    # tail eSpeak NG leaves at the end of every line (about 0.3 s at a calm pace).
    gaps = _silences(recording, longer_than=1.5)
    assert len(gaps) == 2
    assert all(30 / FAST <= gap <= 30 / FAST + 0.6 for gap in gaps), gaps
    # The rest is speech and chimes: the safety note, welcome, prompts, summary and closing
    # take well over a minute at a calm pace, and never more than a few.
    assert 60 < seconds - sum(gaps) < 300
