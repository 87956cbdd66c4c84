"""Arithmetic of the cue benchmark (benchmarks/cues.py) that its figures rest on."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.ears.vad import FRAME, RATE, frame_levels
from benchmarks.cues import (
    FalseCues,
    Item,
    combined,
    cue_after_talk,
    espeak,
    main,
    mix,
    noisy,
    poisson_interval,
    speech_end_s,
    speech_start_s,
    through_worker,
    wilson,
)
from tests.conftest import needs_espeak
from tests.signals import noise, tone


def test_wilson_interval_matches_known_values() -> None:
    # Wilson score intervals (z = 1.96), as statistics tables give them.
    assert wilson(0, 50) == (pytest.approx(0.0, abs=1e-9), pytest.approx(7.13, abs=0.01))
    assert wilson(932, 1573) == (pytest.approx(56.8, abs=0.1), pytest.approx(61.7, abs=0.1))
    assert wilson(5, 10) == (pytest.approx(23.7, abs=0.1), pytest.approx(76.3, abs=0.1))


def test_wilson_interval_never_leaves_zero_to_a_hundred() -> None:
    # Rounding put the low end of 0/184 at -1e-15, which the benchmark printed as "-0.0".
    for n in (1, 7, 184, 1251):
        low, high = wilson(0, n)
        assert low >= 0.0 and high > 0.0
        low, high = wilson(n, n)
        assert low < 100.0 and high <= 100.0


def test_poisson_interval_matches_known_values() -> None:
    # Exact (Garwood) 95% intervals of a Poisson mean, as statistics tables give them.
    assert poisson_interval(0) == (0.0, pytest.approx(3.689, abs=0.001))
    assert poisson_interval(1) == (pytest.approx(0.0253, abs=0.0001), pytest.approx(5.572, abs=0.001))
    assert poisson_interval(5) == (pytest.approx(1.623, abs=0.001), pytest.approx(11.668, abs=0.001))


def test_false_cues_per_hour_come_with_their_interval() -> None:
    five_in_78_minutes = FalseCues(seconds=78.2 * 60, heard=["a", "b", "c", "d", "e"], cpu_s=1.0)
    low, high = five_in_78_minutes.per_hour_interval
    assert five_in_78_minutes.per_hour == pytest.approx(3.84, abs=0.01)
    assert (low, high) == (pytest.approx(1.25, abs=0.01), pytest.approx(8.95, abs=0.01))
    assert "(95% interval 1.2-9.0)" in five_in_78_minutes.line("talk")


def test_talk_sets_add_up_and_name_their_folder_when_there_are_several() -> None:
    first = FalseCues(seconds=600.0, heard=["a.wav@1.0s:done"], cpu_s=2.0, files=3)
    second = FalseCues(seconds=1200.0, heard=[], cpu_s=4.0, files=5)
    both = combined({"conv": first, "conv2": second})
    assert (both.seconds, both.cpu_s, both.files, both.cues) == (1800.0, 6.0, 8, first.cues)
    assert both.heard == ["conv/a.wav@1.0s:done"]
    assert combined({"conv": first}).heard == first.heard


@pytest.mark.parametrize("clip_lead_s", [0.2, 0.8])
def test_a_cue_is_said_the_asked_pause_after_talk_at_the_clips_loudness(clip_lead_s: float) -> None:
    talk = tone(2.0, 500.0)
    clip = np.concatenate([noise(clip_lead_s, 3.0, 1), tone(0.5, 8000.0), noise(0.3, 3.0, 2)])
    audio, start = cue_after_talk(talk, clip, pause_s=0.4, seed=0)
    levels = frame_levels(audio)
    loud = np.flatnonzero(levels > levels.max() - 30.0)
    talk_end = 2.0
    word_start = start / RATE + speech_start_s(audio[start:])
    assert word_start - talk_end == pytest.approx(0.4, abs=0.02)
    # The talk is scaled to the clip's level: one room, one distance.
    talk_level = np.percentile(levels[: int(1.9 * RATE) // FRAME], 98)
    word_level = np.percentile(levels[int(word_start * RATE) // FRAME : int((word_start + 0.5) * RATE) // FRAME], 98)
    assert talk_level == pytest.approx(word_level, abs=1.0)
    # Nothing loud in the pause: it holds only room noise.
    in_pause = (loud >= int(talk_end * RATE) // FRAME + 1) & (loud < int(word_start * RATE) // FRAME)
    assert not in_pause.any()
    # A second of room noise follows the clip, so the cue's segment closes before the file ends.
    assert len(audio) / RATE - (word_start + 0.5) >= 1.0


def test_in_context_asks_for_the_talk_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--in-context"])
    assert stopped.value.code == 2
    assert "--in-context needs --conversation DIR" in capsys.readouterr().err


def test_recorded_noise_asks_for_the_clips_it_goes_into(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--noise", "kitchen.wav"])
    assert stopped.value.code == 2
    assert "--noise needs --unseen DIR" in capsys.readouterr().err


def test_a_recorded_noise_is_mixed_at_the_asked_snr_a_new_stretch_for_each_clip() -> None:
    word = tone(0.5, 8000.0).astype(np.int16)
    # A "kitchen" that is quiet for its first half and loud for its second: unit RMS overall.
    kitchen = np.concatenate([np.full(RATE, 0.2), np.full(RATE, np.sqrt(2 - 0.2**2))])
    kitchen *= np.where(np.arange(2 * RATE) % 2 == 0, 1.0, -1.0)  # a buzz, not a constant
    lead = int(0.4 * RATE)
    quiet, loud = (mix(word, 10.0, offset, kitchen)[:lead].astype(np.float64) for offset in (0, RATE))
    word_rms = np.sqrt(np.mean(word.astype(np.float64) ** 2))
    # Each clip's lead is a stretch of the recording scaled by the SNR: quiet or loud by where it starts.
    assert np.sqrt(np.mean(quiet**2)) == pytest.approx(word_rms / 10**0.5 * 0.2, rel=0.02)
    assert np.sqrt(np.mean(loud**2)) == pytest.approx(word_rms / 10**0.5 * np.sqrt(2 - 0.2**2), rel=0.02)
    # An offset past the end wraps round rather than failing.
    assert len(mix(word, 10.0, 10 * RATE, kitchen)) == len(word) + 2 * lead
    items = [Item(f"w{i}", word, "yes", "tone", 0.5) for i in range(3)]
    leads = [it.samples[:lead] for it in noisy(items, 10.0, kitchen)]
    assert not np.array_equal(leads[0], leads[1])


@needs_espeak
def test_the_worker_rows_hear_the_cue_clips_as_the_session_would() -> None:
    said = espeak("I'm finished", "en-us", 160)
    other = espeak("banana", "en-us", 160)
    items = [Item("finished", said, "done", end_s=speech_end_s(said)), Item("banana", other, None)]
    (row,) = through_worker({"eSpeak": items}).values()
    assert row.name == "eSpeak: cues, session's worker process"
    assert (row.correct, row.n_cue, row.n_other) == (1, 1, 0)  # the cue clips only
    assert len(row.latencies) == 1 and 0.0 < row.latencies[0] < 1.0
