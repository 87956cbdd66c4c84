"""A partner's own take of a cue: the features, the listener's learning mode, the spotter's rescue."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.ears.listener import CueListener
from assistant.ears.microphone import read_wav
from assistant.ears.spotter import RESCUABLE, Detection, SphinxCueSpotter, SpotterConfig, Verdict
from assistant.ears.templates import VoiceTemplates, dtw_distance, mfcc
from assistant.ears.vad import RATE, Segment, segments
from assistant.ears.worker import SpotterProcess
from assistant.events import CueHeard, Event, SpeechStopped, TakeHeard
from tests.conftest import needs_espeak
from tests.signals import noise, tone

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"
FLOOR_CUES = frozenset({"done", "pause", "timeout", "stop"})


def espeak(text: str, tmp: Path, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    path = tmp / f"{abs(hash((text, voice, speed)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, capture_output=True)
    return read_wav(path)


def one_segment(speech: np.ndarray) -> Segment:
    """`speech` in a quiet room, as the endpointer cuts it."""
    quiet = np.round(np.random.default_rng(3).standard_normal(RATE) * 20).astype(np.int16)
    found = list(segments(np.concatenate([quiet, speech, quiet])))
    assert len(found) == 1, "the endpointer should find one stretch of speech"
    return found[0]


# ---- features and distance ---------------------------------------------------------------------


def test_too_little_sound_gives_no_features() -> None:
    assert mfcc(np.zeros(300, np.int16)) is None  # shorter than five frames
    assert mfcc(np.zeros(RATE, np.int16)) is None  # digital silence


def test_the_distance_ignores_level_and_grows_with_difference() -> None:
    rng = np.random.default_rng(0)
    sweep = (np.sin(2 * np.pi * np.cumsum(np.linspace(200, 900, RATE // 2)) / RATE) * 8000).astype(np.int16)
    take = mfcc(sweep)
    assert take is not None
    louder = mfcc((sweep * 0.3).astype(np.int16))
    other = mfcc(tone(0.5, 8000, 450) + noise(0.5, 500, 2))
    assert louder is not None and other is not None
    assert dtw_distance(take, take) == 0.0
    assert dtw_distance(take, louder) < 1.0 < dtw_distance(take, other)
    shuffled = take[rng.permutation(len(take))]
    assert dtw_distance(take, shuffled) > dtw_distance(take, louder)


def test_voice_templates_keep_takes_by_phrase_in_memory_only() -> None:
    templates = VoiceTemplates()
    sweep = (np.sin(2 * np.pi * np.cumsum(np.linspace(200, 900, RATE // 2)) / RATE) * 8000).astype(np.int16)
    assert templates.distance("i'm done", sweep) is None  # nothing learned yet
    assert not templates.add("i'm done", np.zeros(100, np.int16))
    assert templates.add("i'm done", sweep)
    assert "i'm done" in templates and "stop" not in templates and len(templates) == 1
    assert templates.distance("i'm done", sweep) == 0.0
    templates.clear()
    assert len(templates) == 0


@pytest.mark.skipif(not (SPEECH / "words.csv").exists(), reason=f"real recordings not found at {SPEECH}")
def test_a_real_speakers_word_is_nearer_a_quieter_copy_of_itself_than_their_other_words() -> None:
    with (SPEECH / "words.csv").open(newline="") as table:
        rows = [r for r in csv.DictReader(table) if r["speaker"] == "GSC speaker hash 563aa4e6"]
    clips = {r["label"]: read_wav(SPEECH / r["file"]) for r in rows}
    take = mfcc(clips["yes"])
    assert take is not None
    quieter = mfcc((clips["yes"] * 0.3).astype(np.int16))
    assert quieter is not None and dtw_distance(take, quieter) < 1.0
    others = [dtw_distance(take, f) for word, c in clips.items() if word != "yes" and (f := mfcc(c)) is not None]
    assert len(others) == 19 and min(others) > SpotterConfig().template_distance


def test_features_cover_the_sound_and_not_the_quiet_around_it() -> None:
    quiet = noise(0.5, 3.0)
    word = np.concatenate([quiet, tone(0.4, 8000.0, 300.0) + noise(0.4, 3.0, 1), quiet])
    features = mfcc(word)
    assert features is not None and features.shape[1] == 24  # cepstra 1-12 and their deltas
    assert 40 <= len(features) <= 50  # 0.4 s of 10 ms frames, and a few frames either side
    assert np.allclose(features[:, :12].mean(axis=0), 0.0, atol=1e-9)  # the utterance's mean removed
    assert mfcc(tone(0.03, 8000.0)) is None  # too short to compare


def two_notes(first_hz: float, second_hz: float, seconds_each: float, seed: int) -> np.ndarray:
    """A stand-in for a word whose sound changes half-way: one note, then another."""
    notes = np.concatenate([tone(seconds_each, 8000.0, first_hz), tone(seconds_each, 8000.0, second_hz)])
    return notes + noise(2 * seconds_each, 30.0, seed)


def test_the_distance_forgives_speed_but_not_a_different_sound() -> None:
    word = mfcc(two_notes(300.0, 1500.0, 0.2, 1))
    said_slowly = mfcc(two_notes(300.0, 1500.0, 0.3, 2))
    another_word = mfcc(two_notes(1500.0, 300.0, 0.2, 3))
    assert word is not None and said_slowly is not None and another_word is not None
    assert dtw_distance(word, word) == 0.0
    assert dtw_distance(word, said_slowly) < dtw_distance(word, another_word) / 2
    assert dtw_distance(word, another_word) == pytest.approx(dtw_distance(another_word, word))


def dtw_by_the_book(a: np.ndarray, b: np.ndarray) -> float:
    """Dynamic time warping cell by cell, as textbooks write it: what `dtw_distance` must equal."""
    total = np.full((len(a) + 1, len(b) + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            step = float(np.sqrt(((a[i - 1] - b[j - 1]) ** 2).sum()))
            total[i, j] = step + min(total[i - 1, j], total[i, j - 1], total[i - 1, j - 1])
    return float(total[-1, -1] / (len(a) + len(b)))


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 7), (7, 1), (5, 5), (12, 40), (40, 12), (33, 34)])
def test_the_distance_is_dynamic_time_warping_by_the_book(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 100 + m)
    a, b = rng.standard_normal((n, 24)), rng.standard_normal((m, 24))
    assert dtw_distance(a, b) == pytest.approx(dtw_by_the_book(a, b), rel=1e-12)


# ---- the listener's learning mode --------------------------------------------------------------


class LearningSpotter:
    """Names one phrase for every segment, accepted or not, and keeps what it is taught."""

    def __init__(self, phrase: str, cue: str | None, accepted: bool = False, reason: str = "below threshold") -> None:
        self.phrase, self.cue, self.accepted, self.reason = phrase, cue, accepted, reason
        self.learned: list[str] = []
        self.learned_seconds: list[float] = []

    def listen_for(self, cues: frozenset[str]) -> None:
        pass

    def judge(self, segment: Segment) -> Verdict:
        if self.accepted and self.cue is not None:
            det = Detection(self.cue, self.phrase, 0.9, -1000.0, segment.speech_end_s)
            return Verdict(det, "accepted", self.phrase, -1000.0)
        return Verdict(None, self.reason, self.phrase, -2000.0)

    def learn(self, phrase: str, segment: Segment) -> bool:
        self.learned.append(phrase)
        self.learned_seconds.append(round(segment.speech_seconds, 1))
        return True


def hear_one_burst(spotter: LearningSpotter, learning: str | None, seconds: float = 0.4) -> list[Event]:
    events: list[Event] = []
    listener = CueListener(spotter, events.append)  # type: ignore[arg-type]
    listener.learn_next(learning)
    listener.feed(np.concatenate([noise(1.0, 20), tone(seconds, 3000) + noise(seconds, 20, 1), noise(1.0, 20, 2)]))
    listener.finish()
    return [e for e in events if not isinstance(e, SpeechStopped)][1:]  # after SpeechStarted


def test_a_take_the_grammar_names_as_the_cue_is_learned_even_when_rejected() -> None:
    spotter = LearningSpotter("i'm done", "done")
    assert hear_one_burst(spotter, "done") == [TakeHeard(learned=True)]
    assert spotter.learned == ["i'm done"]


def test_an_accepted_take_is_learned_and_not_acted_on() -> None:
    spotter = LearningSpotter("done", "done", accepted=True)
    assert hear_one_burst(spotter, "done") == [TakeHeard(learned=True)]


def test_another_cue_while_learning_is_acted_on() -> None:
    spotter = LearningSpotter("skip", "skip", accepted=True)
    assert hear_one_burst(spotter, "done") == [CueHeard("skip", source="voice", phrase="skip", confidence=0.9)]
    assert spotter.learned == []


@pytest.mark.parametrize(
    ("phrase", "reason"), [("yes", "below threshold"), ("i'm done", "not standing apart"), ("i'm done", "too long")]
)
def test_something_else_is_reported_and_not_learned(phrase: str, reason: str) -> None:
    spotter = LearningSpotter(phrase, "yes" if phrase == "yes" else "done", reason=reason)
    assert hear_one_burst(spotter, "done") == [TakeHeard(learned=False)]
    assert spotter.learned == []


def test_a_breath_is_no_take_and_without_learning_nothing_is_learned() -> None:
    spotter = LearningSpotter("i'm done", "done")
    assert hear_one_burst(spotter, "done", seconds=0.06) == []
    assert hear_one_burst(spotter, None) == []
    assert spotter.learned == []


# ---- learning from a key pressed after a miss --------------------------------------------------


def burst(seconds: float = 0.4, seed: int = 1) -> np.ndarray:
    return tone(seconds, 3000) + noise(seconds, 20, seed)


def quiet(seconds: float, seed: int = 2) -> np.ndarray:
    return noise(seconds, 20, seed)


def key_after(spotter: LearningSpotter, cue: str, *audio: np.ndarray, **settings: float) -> CueListener:
    """A listener fed `audio`, the key for `cue` pressed, and 20 ms more audio fed."""
    listener = CueListener(spotter, lambda event: None, **settings)  # type: ignore[arg-type]
    listener.feed(np.concatenate([quiet(1.0, 0), *audio]))
    listener.cue_keyed(cue)
    listener.feed(quiet(0.02, 9))
    return listener


def test_a_key_after_a_missed_phrase_of_its_cue_makes_the_miss_a_take() -> None:
    spotter = LearningSpotter("your turn", "done")
    key_after(spotter, "done", burst(), quiet(1.0))
    assert spotter.learned == ["your turn"]


@pytest.mark.parametrize(
    ("phrase", "reason", "key"),
    [
        ("your turn", "below threshold", "next"),  # the key names another cue
        ("your turn", "not standing apart", "done"),  # said inside talk: not a take
        ("your turn", "too long", "done"),
        ("right", "sounds like another word", "yes"),
        ("stop", "below threshold", "stop"),  # too costly heard falsely: never learned
        ("time out", "below threshold", "timeout"),
    ],
)
def test_a_key_teaches_nothing_about_another_cue_or_about_talk(phrase: str, reason: str, key: str) -> None:
    spotter = LearningSpotter(phrase, None, reason=reason)
    key_after(spotter, key, burst(), quiet(1.0))
    assert spotter.learned == []


class MissThenTalk(LearningSpotter):
    """A miss of the phrase in the first two seconds, then something that was no phrase."""

    def judge(self, segment: Segment) -> Verdict:
        if segment.speech_start_s < 2.0:
            return super().judge(segment)
        return Verdict(None, "grammar heard nothing")


def test_a_key_long_after_the_miss_or_after_other_speech_teaches_nothing() -> None:
    spotter = MissThenTalk("your turn", "done")
    key_after(spotter, "done", burst(), quiet(3.0), key_teaches_within_s=2.0)
    assert spotter.learned == []
    key_after(spotter, "done", burst(), quiet(1.0), burst(seed=3), quiet(1.0))
    assert spotter.learned == []
    key_after(spotter, "done", burst(), quiet(1.0))
    assert spotter.learned == ["your turn"]  # the same miss, keyed at once


def test_a_breath_between_the_miss_and_the_key_changes_nothing() -> None:
    spotter = LearningSpotter("your turn", "done")
    key_after(spotter, "done", burst(0.5), quiet(1.0), burst(0.06, seed=3), quiet(1.0))
    assert spotter.learned_seconds == [0.5]  # the miss, not the breath


def test_a_miss_is_learned_once_and_each_phrase_only_so_often() -> None:
    spotter = LearningSpotter("your turn", "done")
    listener = key_after(spotter, "done", burst(), quiet(1.0), max_keyed_takes=2)
    listener.cue_keyed("done")  # a second press: the miss was already learned
    listener.feed(quiet(0.02))
    assert spotter.learned == ["your turn"]
    for seed in (4, 5):
        listener.feed(np.concatenate([burst(seed=seed), quiet(1.0)]))
        listener.cue_keyed("done")
        listener.feed(quiet(0.02))
    assert spotter.learned == ["your turn", "your turn"]


def test_our_own_voice_is_never_learned_from_a_key() -> None:
    spotter = LearningSpotter("your turn", "done")
    listener = CueListener(spotter, lambda event: None)  # type: ignore[arg-type]
    listener.set_voice_playing(True)
    listener.feed(np.concatenate([quiet(1.0), burst()]))
    listener.set_voice_playing(False)
    listener.feed(quiet(1.0))
    listener.cue_keyed("done")
    listener.feed(quiet(0.02))
    assert spotter.learned == []


class FailingLearner(LearningSpotter):
    def learn(self, phrase: str, segment: Segment) -> bool:
        raise RuntimeError("the speech recognizer's process keeps failing")


def test_a_recognizer_that_cannot_learn_leaves_listening_going() -> None:
    events: list[Event] = []
    listener = key_after(FailingLearner("your turn", "done"), "done", burst(), quiet(1.0))
    listener.learn_next("done")
    listener.post = events.append
    listener.feed(np.concatenate([burst(seed=5), quiet(1.0)]))
    assert TakeHeard(learned=False) in events  # asked for a take: told it was not learned


def test_a_take_asked_for_is_not_learned_again_from_a_key() -> None:
    spotter = LearningSpotter("your turn", "done")
    listener = CueListener(spotter, lambda event: None)  # type: ignore[arg-type]
    listener.learn_next("done")
    listener.feed(np.concatenate([quiet(1.0, 0), burst(), quiet(1.0)]))
    listener.cue_keyed("done")
    listener.feed(quiet(0.02, 9))
    assert spotter.learned == ["your turn"]  # by the learning mode, once


# ---- the real spotter's rescue -----------------------------------------------------------------

STRICT = SpotterConfig(base_threshold=1e9, align_threshold=1e9)
"""The general model accepts nothing: only a partner's take can make a segment a cue."""


@pytest.fixture(scope="module")
def strict_spotter() -> Iterator[SphinxCueSpotter]:
    spotter = SphinxCueSpotter(STRICT)
    spotter.listen_for(FLOOR_CUES)
    yield spotter
    spotter.close()


@needs_espeak
def test_a_rejected_phrase_that_sounds_like_the_learned_take_is_accepted(
    strict_spotter: SphinxCueSpotter, tmp_path: Path
) -> None:
    take, later = (one_segment(espeak("your turn", tmp_path, voice="en-us+f3", speed=s)) for s in (160, 140))
    assert strict_spotter.judge(later).detection is None
    strict_spotter.templates.clear()
    assert strict_spotter.learn("your turn", take)
    verdict = strict_spotter.judge(later)
    assert verdict.detection is not None and verdict.detection.cue == "done"
    assert verdict.reason == "like the learned take"
    assert 0.5 < verdict.detection.confidence <= 1.0
    assert verdict.detection.end_s == pytest.approx(later.speech_end_s)


@needs_espeak
def test_a_phrase_without_a_take_or_unlike_it_stays_rejected(strict_spotter: SphinxCueSpotter, tmp_path: Path) -> None:
    strict_spotter.templates.clear()
    assert strict_spotter.learn("i'm done", one_segment(espeak("I'm done", tmp_path)))
    other_phrase = strict_spotter.judge(one_segment(espeak("time out", tmp_path)))
    assert other_phrase.detection is None and other_phrase.phrase == "time out"
    other_voice = strict_spotter.judge(one_segment(espeak("I'm done", tmp_path, voice="en-us+f3")))
    assert other_voice.detection is None and other_voice.reason in RESCUABLE  # the model's reason stands
    assert other_voice.take_distance is not None and other_voice.take_distance >= STRICT.template_distance


@needs_espeak
def test_a_phrase_missed_then_keyed_is_heard_the_next_time(strict_spotter: SphinxCueSpotter, tmp_path: Path) -> None:
    strict_spotter.templates.clear()
    events: list[Event] = []
    listener = CueListener(strict_spotter, events.append)

    def in_the_room(speech: np.ndarray) -> np.ndarray:
        """A second of the room, the phrase, a second of the room (with the room's noise under all
        of it: eSpeak NG's digital silence would teach the endpointer a floor no room has)."""
        audio = np.concatenate([np.zeros(RATE), speech, np.zeros(RATE)])
        room = np.random.default_rng(len(audio)).standard_normal(len(audio)) * 20
        return np.round(audio + room).astype(np.int16)

    listener.feed(in_the_room(espeak("your turn", tmp_path, speed=160)))
    assert not any(isinstance(e, CueHeard) for e in events)  # the model alone misses it
    listener.cue_keyed("done")  # so the partner pressed d
    listener.feed(in_the_room(espeak("your turn", tmp_path, speed=140)))
    heard = [e for e in events if isinstance(e, CueHeard)]
    assert [(e.cue, e.phrase) for e in heard] == [("done", "your turn")]


@needs_espeak
def test_the_cues_command_learns_a_take_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    take, later = tmp_path / "take.wav", tmp_path / "later.wav"
    for path, speed in ((take, 160), (later, 120)):
        subprocess.run(
            ["espeak-ng", "-v", "en-us+f3", "-s", str(speed), "-w", str(path), "your turn"],
            check=True,
            capture_output=True,
        )
    assert main(["cues", "--only", "done", str(later)]) == 0
    assert json.loads(capsys.readouterr().out)["cue"] is None  # the model alone misses it
    assert main(["cues", "--only", "done", "--take", f"done={take}", str(later)]) == 0
    assert json.loads(capsys.readouterr().out)["cue"] == "done"
    assert main(["cues", "--take", f"nonsense={take}", str(later)]) == 2
    assert "--take wants CUE=FILE" in capsys.readouterr().err


@needs_espeak
def test_the_worker_learns_and_teaches_a_replacement_child(tmp_path: Path) -> None:
    import os
    import signal

    take, later = (one_segment(espeak("your turn", tmp_path, voice="en-us+f3", speed=s)) for s in (160, 140))
    spotter = SpotterProcess(STRICT)
    try:
        spotter.listen_for(FLOOR_CUES)
        assert spotter.learn("your turn", take)
        assert spotter.judge(later).reason == "like the learned take"
        # This process keeps the take's features for a replacement child, never its audio.
        assert [(phrase, features.shape[1]) for phrase, features in spotter._takes] == [("your turn", 24)]
        os.kill(spotter.pids["cue-spotter"], signal.SIGKILL)
        assert spotter.judge(later).reason == "like the learned take"  # the new child was taught the take
    finally:
        spotter.close()
