"""The weighed verifier (the spotter's default decision) and the tool that fits its weights
(benchmarks/fit_verifier.py)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.ears.spotter import Evidence, SphinxCueSpotter, SpotterConfig
from benchmarks.cues import ADAPTED_SPEAKERS
from benchmarks.fit_verifier import Example, figures, logistic_regression, main, threshold
from benchmarks.speech_commands_layout import speaker_of
from tests.conftest import needs_espeak
from tests.test_ears_recognition import say, verdicts
from tests.test_enrolment_bench import write_take

# ---- the rule ---------------------------------------------------------------------------------


def test_the_sum_weighs_the_weakest_phone_and_stands_in_for_a_lost_keyword() -> None:
    rule = SpotterConfig(weakest_phone_weight=0.5, no_keyword_margin=-1.0, accept_at=0.0, weakest_phone_cap=4.0)
    assert rule.weighed_sum(0.25, 2.0) == pytest.approx(1.25)
    assert rule.weighed_sum(None, 2.0) == pytest.approx(0.0)  # no keyword hit: the fitted margin
    # The cheap rejection: only a margin that the best phone seen could lift is aligned at all.
    assert rule.may_pass(-2.0)
    assert not rule.may_pass(-2.01)
    assert rule.may_pass(None)


def test_the_shipped_weights_need_the_phones_to_match() -> None:
    rule = SpotterConfig()
    assert rule.verifier == "weighed"
    assert 0 < rule.weakest_phone_weight < 1
    # A phrase well above its keyword threshold is still no cue when one phone does not match
    # ("dog" for "done"), and one just under it passes when every phone matches well.
    assert rule.weighed_sum(1.0, -40.0) < rule.accept_at
    assert rule.weighed_sum(-0.2, 10.0) >= rule.accept_at


# ---- with the real decoder ------------------------------------------------------------------


@pytest.fixture(scope="module")
def spotter() -> SphinxCueSpotter:
    return SphinxCueSpotter()


@needs_espeak
def test_an_accepted_cue_carries_the_evidence_it_was_weighed_on(spotter: SphinxCueSpotter, tmp_path: Path) -> None:
    accepted = [v for v in verdicts(say("repeat that", tmp_path), ["repeat"], spotter) if v.detection]
    assert len(accepted) == 1
    verdict = accepted[0]
    assert verdict.evidence is not None and verdict.evidence.weakest_phone is not None
    total = spotter.config.weighed_sum(verdict.evidence.keyword_margin, verdict.evidence.weakest_phone)
    assert verdict.detection is not None
    assert verdict.detection.score == pytest.approx(total)
    assert total >= spotter.config.accept_at
    assert verdict.detection.confidence >= 0.5


@needs_espeak
def test_the_weakest_phone_is_no_better_than_the_whole_phrase(spotter: SphinxCueSpotter, tmp_path: Path) -> None:
    # The phrase's ratio is its phones' ratios averaged over their frames: the weakest is at most that.
    x = say("repeat that", tmp_path)
    ratio = SphinxCueSpotter(SpotterConfig(verifier="alignment", align_threshold=-1e9, short_word_margin=0))
    by_ratio = [v for v in verdicts(x, ["repeat"], ratio) if v.detection]
    weighed = [v for v in verdicts(x, ["repeat"], spotter) if v.detection]
    assert by_ratio and weighed
    assert weighed[0].evidence is not None and weighed[0].evidence.weakest_phone is not None
    assert weighed[0].evidence.weakest_phone <= by_ratio[0].detection.score + 1e-9  # type: ignore[union-attr]
    assert weighed[0].evidence.weakest_phone < by_ratio[0].detection.score - 0.5  # type: ignore[union-attr]


@needs_espeak
def test_a_margin_no_phone_could_lift_is_rejected_without_waiting_for_the_alignment(tmp_path: Path) -> None:
    x = say("repeat that", tmp_path)
    strict = SphinxCueSpotter(SpotterConfig(accept_at=50.0))
    named = [v for v in verdicts(x, ["repeat"], strict) if v.phrase == "repeat that"]
    assert named and all(v.detection is None and v.reason == "below threshold" for v in named)
    assert all(v.evidence is not None and v.evidence.weakest_phone is None for v in named)
    # With no cap on the phones it is aligned, and still rejected by the sum.
    uncapped = SphinxCueSpotter(SpotterConfig(accept_at=50.0, weakest_phone_cap=math.inf))
    named = [v for v in verdicts(x, ["repeat"], uncapped) if v.phrase == "repeat that"]
    assert named and all(v.evidence is not None and v.evidence.weakest_phone is not None for v in named)
    assert all(v.detection is None and not v.near for v in named)


# ---- the fitting tool -----------------------------------------------------------------------


def test_logistic_regression_finds_the_weights_that_made_the_labels() -> None:
    rng = np.random.default_rng(3)
    x = np.hstack([np.ones((4000, 1)), rng.normal(0, 1, (4000, 1)), rng.normal(5, 2, (4000, 1))])
    truth = np.array([-2.0, 3.0, 0.5])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ truth)))).astype(float)
    w = logistic_regression(x, y, l2=0.0, steps=4000)
    assert w[1] == pytest.approx(3.0, rel=0.15)
    assert w[2] / w[1] == pytest.approx(0.5 / 3.0, rel=0.15)
    assert w[0] == pytest.approx(-2.0, abs=0.5)


def example(clip: int, cue: str) -> Example:
    return Example(clip, cue, Evidence(0.0, 0.0))


def test_the_threshold_lets_through_at_most_the_share_of_other_words_asked_for() -> None:
    # Ten clips of other words, best sums 0.9, 0.8, ... 0.0; one cue clip.
    examples = [example(n, "yes") for n in range(10)] + [example(10, "yes")]
    expected: list[str | None] = [None] * 10 + ["yes"]
    sums = [n / 10 for n in range(9, -1, -1)] + [0.5]
    at = threshold(examples, expected, sums, percent=10.0)  # one clip in ten may pass
    assert 0.8 < at <= 0.81
    assert figures(examples, expected, sums, at) == (0, 1, 1, 10)
    assert figures(examples, expected, sums, 0.45) == (1, 1, 5, 10)


def test_a_clip_counts_as_its_first_segment_that_passes() -> None:
    examples = [example(0, "no"), example(0, "yes")]
    assert figures(examples, ["yes"], [1.0, 2.0], 0.5) == (0, 1, 0, 0)  # "no" came first
    assert figures(examples, ["yes"], [0.0, 2.0], 0.5) == (1, 1, 0, 0)


@needs_espeak
def test_the_tool_fits_on_the_adapted_speakers_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    adapted = sorted(ADAPTED_SPEAKERS)[:2]
    for n, (speaker, voice) in enumerate(zip(adapted, ("en-us+f3", "en-gb"), strict=True)):
        for word in ("yes", "no", "go", "left", "right", "down", "off"):
            write_take(tmp_path, word, speaker, n, voice, 150)
    write_take(tmp_path, "yes", "0000dead", 0, "en-us", 150)  # not adapted to: never fitted on
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("14 clips of 2 speakers")
    for name in ("weakest_phone_weight", "no_keyword_margin", "accept_at", "weighed_logit_scale"):
        assert re.search(rf"^{name} = -?\d+\.\d+$", out, re.M), name
    assert re.search(r"^there: cues \d+/6 .*false accepts \d+/8 ", out, re.M)


def test_the_tool_says_when_no_adapted_speaker_is_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2
    assert "no clips of the adapted speakers" in capsys.readouterr().err


def test_a_clips_speaker_is_its_name_up_to_the_first_underscore() -> None:
    assert speaker_of(Path("yes/0a7c2a8d_nohash_3.wav")) == "0a7c2a8d"
