"""`assistant demo`: a whole session with a simulated couple, through the real recognizer, into a WAV."""

from __future__ import annotations

import re
import shutil
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.demo import (
    PHRASINGS,
    TRIES,
    Demo,
    GiveCue,
    Partner,
    SimulatedCouple,
    Talk,
    demo_programme,
    transcript,
)
from assistant.ears.spotter import Verdict
from assistant.ears.vad import RATE
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.events import CueHeard
from assistant.session import S, Session
from assistant.voice.fakes import FakeRenderer
from assistant.voice.tts import TtsWorker, VoiceSettings
from tests.conftest import needs_espeak

LINE = re.compile(r"^\s*(\d+):(\d\d\.\d)  ([^:]+): (.*?)(?:   \[(.*)\])?$")


def utterances(text: str) -> list[tuple[float, str, str, str]]:
    """(seconds, who, what, note) of every transcript line that is not a comment."""
    rows = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"not a transcript line: {line!r}"
        minutes, seconds, who, what, note = match.groups()
        rows.append((int(minutes) * 60 + float(seconds), who, what, note or ""))
    return rows


@needs_espeak
def test_a_whole_session_through_the_real_recognizer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav_path, text_path = tmp_path / "demo.wav", tmp_path / "demo.txt"
    code = main(["demo", "--wav", str(wav_path), "--transcript", str(text_path), "--fast", "10"])
    assert code == 0, capsys.readouterr().err

    with wave.open(str(wav_path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert 60 < len(samples) / RATE < 6 * 60  # a whole session in a few minutes

    text = text_path.read_text(encoding="utf-8")
    rows = utterances(text)
    assert {"Assistant", "Ann", "Ben"} <= {who for _, who, _, _ in rows}  # three voices
    said = " ".join(what for _, who, what, _ in rows if who == "Assistant")
    programme = demo_programme()
    for number, step in enumerate(programme.steps, start=1):
        assert f"Step {number}: {step.title}." in said
    assert " ".join(programme.closing.split()) in said
    assert "# The session ended at the closing" in text

    # Every utterance is in the recording where the transcript says: louder than the quiet room.
    times = [at for at, _, _, _ in rows]
    assert times == sorted(times)
    for at, who, what, _ in rows:
        if not what.startswith("("):  # a key press makes no sound
            start = round(at * RATE)
            assert np.abs(samples[start : start + RATE].astype(np.int32)).max() > 1000, (at, who, what)

    cues = [note for _, who, _, note in rows if who != "Assistant" and note]
    heard = [note for note in cues if note.startswith("heard: ")]
    keys = [note for note in cues if note.startswith("key: ")]
    assert len(heard) > len(keys), text  # the recognizer, not the keyboard, drove the session
    assert 'Ann, please say "your turn"' in said
    assert "learned" in cues, text  # a take of "your turn" went through the real recognizer and was kept
    assert "Cues:" in capsys.readouterr().out


class DeafSpotter:
    """A recognizer that hears no cue at all."""

    def listen_for(self, cues: frozenset[str]) -> None:
        pass

    def judge(self, segment: object) -> Verdict:
        return Verdict(None, "deaf")

    def close(self) -> None:
        pass


def test_the_demo_ends_even_when_no_cue_is_heard() -> None:
    """Each cue is said three ways, then given by its key, so the session always reaches the end."""
    worker = TtsWorker(renderer_factory=FakeRenderer)
    try:
        demo = Demo(demo_programme(), worker=worker, spotter=DeafSpotter(), fast=50)  # type: ignore[arg-type]
        result = demo.run()
    finally:
        worker.close()
    assert result.completed
    assert result.heard == 0 and result.keys > 0
    assert result.repeated >= (TRIES - 1) * result.keys  # more where a chime cut the tries short
    text = transcript(demo)
    assert text.count("(presses d)") == text.count(f"key: done, after {TRIES} misses") > 0
    assert f"{result.keys} given by key" in text


def test_the_demo_writes_nothing_when_the_recognizer_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)  # as if it were not installed
    code = main(["demo", "--wav", str(tmp_path / "demo.wav"), "--transcript", str(tmp_path / "demo.txt")])
    assert code == 1
    assert "pip install pocketsphinx" in capsys.readouterr().err or shutil.which("espeak-ng") is None
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_said_before_the_session() -> None:
    assert main(["demo", "--wav", "/no/such/folder/demo.wav"]) == 1


def test_the_couple_says_only_phrases_the_recognizer_knows() -> None:
    for cue, phrases in PHRASINGS.items():
        assert set(phrases) <= set(CUE_PHRASES[cue]), cue
    ann = Partner("Ann", VoiceSettings(), habits=("next step",))
    assert ann.phrasings("next")[0] == "next step"
    assert sorted(ann.phrasings("next")) == sorted(PHRASINGS["next"])


def test_the_couple_answers_prompts_and_holds_the_floor() -> None:
    session = Session(demo_programme())
    session.start(0.0)
    ann, ben = (Partner(name, VoiceSettings()) for name in ("Ann", "Ben"))
    couple = SimulatedCouple((ann, ben))
    assert (couple.plan(session) or [])[-1] == GiveCue(ann, "next")

    session.handle(CueHeard("next"), 0.0)
    assert session.state is S.STEP_INTRO  # a step that asks whether both agree to go on
    assert (couple.plan(session) or [])[-1] == GiveCue(ben, "yes")

    session.handle(CueHeard("yes"), 0.0)
    session.handle(CueHeard("next"), 0.0)
    assert session.state is S.SPEAKING
    moves = couple.plan(session)
    assert moves is not None
    talk = [move for move in moves if isinstance(move, Talk)]
    assert talk and all(move.partner == ann for move in talk)
    assert moves[-1] == GiveCue(ann, "done")
    # Interrupted (by a timer, say), the speaker only finishes: the lines are not said twice.
    assert [move for move in couple.plan(session) or [] if isinstance(move, Talk)] == []
