"""The model's best case (benchmarks/ceiling.py): forced choices on the real decoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import benchmarks.ceiling as ceiling
from assistant.ears.commands import spot_samples
from assistant.ears.spotter import SphinxCueSpotter
from assistant.ears.vocabulary import grammar_words
from tests.conftest import needs_espeak
from tests.test_ears_recognition import say, write_wav


@pytest.fixture(scope="module")
def spotter() -> SphinxCueSpotter:
    return SphinxCueSpotter()


def test_a_grammar_holds_its_phrases_and_the_words_they_sound_like() -> None:
    assert grammar_words(["yes"]) == ["yes", "yeah", "ready", "okay", "right", "write"]
    assert grammar_words(["stop", "no"]) == ["stop", "end session", "no", "not yet"]
    with pytest.raises(ValueError):
        grammar_words(["nonsense"])


@needs_espeak
def test_forced_choice_names_one_of_its_words_and_nothing_in_silence(spotter: SphinxCueSpotter, tmp_path: Path) -> None:
    stop = say("stop", tmp_path)
    assert spotter.forced_choice(stop, ["yes", "no", "stop", "go"]) == "stop"
    # Forced: even a word it was not given is named as one of the words it was.
    assert spotter.forced_choice(say("dinner", tmp_path), ["yes", "stop"]) in {"yes", "stop"}
    assert spotter.forced_choice(np.zeros(16000, dtype=np.int16), ["yes", "stop"]) is None


@needs_espeak
def test_forced_choices_leave_the_spotters_verdicts_alone(spotter: SphinxCueSpotter, tmp_path: Path) -> None:
    # The benchmark's grammars live in the same decoder as the session's: they must not
    # replace the grammar a listening set decodes with, nor its noise switch.
    turn = say("I'm finished", tmp_path)
    before = [h.detection for h in spot_samples(turn, ["done", "stop"], spotter)]
    assert [d.cue for d in before] == ["done"]
    spotter.forced_choice(turn, ["yes", "no"])
    spotter.forced_choice(turn * 0.001, ["stop", "go"])
    assert [h.detection for h in spot_samples(turn, ["done", "stop"], spotter)] == before


@needs_espeak
def test_the_benchmark_counts_each_cue_clip_under_every_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A folder in Speech Commands' layout, the words said by eSpeak NG; "_unknown_" is skipped
    # as the data set's folders of other sounds are.
    for word in ("yes", "stop", "dog", "_unknown_"):
        (tmp_path / "clips" / word).mkdir(parents=True)
        samples = np.zeros(16000) if word.startswith("_") else say(word, tmp_path)
        write_wav(tmp_path / "clips" / word / "0000aaaa_nohash_0.wav", samples)
    assert ceiling.main([str(tmp_path / "clips")]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = summary[str(tmp_path / "clips")]
    assert set(rows) == {
        "the four cue words",
        "every word of the data set",
        "every cue phrase (all cues listened for)",
        "the phrases of its state (session's cue sets)",
        "the spotter, all cues listened for",
        "the spotter, session's cue sets",
    }
    assert all(row["n"] == 2 for row in rows.values())  # yes and stop; "dog" is no cue clip
    assert rows["the four cue words"]["right"] == 2


def test_without_clips_it_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ceiling, "SPEECH", tmp_path / "absent")
    assert ceiling.main([]) == 2
    assert "absent" in capsys.readouterr().err


def test_a_tally_says_what_was_named_instead() -> None:
    tally = ceiling.Tally()
    tally.add("no", True)
    tally.add("no", False, "no->not")
    tally.add("yes", False, "yes->-")
    assert (tally.right, tally.n, tally.by_word) == (1, 3, {"no": [1, 2], "yes": [0, 1]})
    assert "instead: no->not 1, yes->- 1" in tally.line("row")
