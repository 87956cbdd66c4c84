"""The acoustic model's adaptation: the shipped MLLR transform, and the tool that fits it
(benchmarks/adapt_model.py)."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np
import pocketsphinx
import pytest

from assistant.ears.commands import spot_samples
from assistant.ears.microphone import read_wav
from assistant.ears.spotter import ADAPTATION_DIR, SphinxCueSpotter, SpotterConfig
from benchmarks.adapt_model import (
    TOOLS,
    adaptation_clips,
    adaptation_half,
    main,
    read_sendump,
    write_s3_array,
)
from tests.conftest import needs_espeak
from tests.signals import noise
from tests.test_enrolment_bench import write_take

MODEL = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us"

needs_sphinxtrain = pytest.mark.skipif(
    not all(p.exists() for p in TOOLS.values()),
    reason="SphinxTrain is not installed (apt-get install sphinxtrain sphinxbase-utils pocketsphinx)",
)


def read_mllr(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (A, b) of each feature stream in a one-class MLLR file, as PocketSphinx reads it."""
    values = path.read_text(encoding="ascii").split()
    pos = 0

    def take(n: int) -> np.ndarray:
        nonlocal pos
        pos += n
        return np.array([float(v) for v in values[pos - n : pos]])

    n_classes, n_streams = (int(v) for v in take(2))
    assert n_classes == 1
    streams = []
    for _ in range(n_streams):
        n = int(take(1)[0])
        a, b = take(n * n).reshape(n, n), take(n)
        take(n)  # variance scaling, all ones
        streams.append((a, b))
    assert pos == len(values)
    return streams


def test_the_shipped_transform_is_a_small_shift_of_each_feature_stream() -> None:
    streams = read_mllr(SpotterConfig().mllr)  # type: ignore[arg-type]
    assert [a.shape for a, _ in streams] == [(13, 13)] * 3  # cepstra, their deltas, double deltas
    for a, b in streams:
        assert np.abs(a - np.eye(13)).max() < 0.5  # near the identity: an adaptation, not a new model
        assert np.abs(a - np.eye(13)).max() > 1e-3  # but not the identity either
        assert np.isfinite(b).all()
    speakers = (ADAPTATION_DIR / "speakers.txt").read_text(encoding="ascii").split()
    assert len(speakers) > 100 and all(adaptation_half(s) for s in speakers)


def scores(config: SpotterConfig, samples: np.ndarray) -> list[tuple[str, str | None, float | None]]:
    """What the spotter made of each segment: reason, phrase and score."""
    spotter = SphinxCueSpotter(config)
    found: list[tuple[str, str | None, float | None]] = []
    spot_samples(samples, None, spotter, on_verdict=lambda segment, v: found.append((v.reason, v.phrase, v.score)))
    spotter.close()
    return found


@needs_espeak
def test_the_decoder_applies_the_shipped_transform(tmp_path: Path) -> None:
    write_take(tmp_path, "yes", "aaaa1111", 0, "en-us", 150)
    samples = read_wav(tmp_path / "yes" / "aaaa1111_nohash_0.wav")
    adapted, unadapted = scores(SpotterConfig(), samples), scores(SpotterConfig(mllr=None), samples)
    assert adapted[0][1] == unadapted[0][1] == "yes"
    assert adapted[0][2] != unadapted[0][2]  # the same segment, scored by other means


@pytest.mark.parametrize("damage", ["missing", "unreadable"])
def test_a_damaged_transform_is_reported_and_the_model_decodes_without_it(tmp_path: Path, caplog, damage) -> None:
    path = tmp_path / "mllr_matrix"
    if damage == "unreadable":
        path.write_text("1\n3\n13\nnot numbers\n", encoding="ascii")
    with caplog.at_level(logging.WARNING):
        spotter = SphinxCueSpotter(SpotterConfig(mllr=path))
    assert str(path) in caplog.text and "unadapted" in caplog.text
    assert spot_samples(noise(1.0, 30.0), None, spotter) == []  # it still listens
    spotter.close()


def test_the_quantised_mixture_weights_are_read_as_one_distribution_per_senone_and_stream() -> None:
    weights = read_sendump(MODEL / "sendump")
    assert weights.shape == (5126, 3, 128)  # senones, feature streams, codebook densities
    sums = weights.sum(axis=2)
    # 8-bit logarithms lose a little mass, never add any.
    assert sums.min() > 0.85 and sums.max() < 1.001


def test_a_parameter_file_is_written_as_sphinxtrain_reads_it(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7
    path = tmp_path / "mixture_weights"
    write_s3_array(path, array)
    data = path.read_bytes()
    end = data.index(b"endhdr\n") + len(b"endhdr\n")
    assert data.startswith(b"s3\nversion 1.0\n") and end % 4 == 0  # the numbers start word-aligned
    assert struct.unpack_from("<i", data, end)[0] == 0x11223344  # byte-order mark
    assert struct.unpack_from("<4I", data, end + 4) == (2, 3, 4, 24)
    stored = np.frombuffer(data, "<f4", offset=end + 20)
    assert np.allclose(stored.reshape(2, 3, 4), array)


def test_half_the_speakers_are_fitted_on_by_a_fixed_hash() -> None:
    ids = [f"{i:08x}" for i in range(0, 2_000_000, 997)]
    share = sum(adaptation_half(s) for s in ids) / len(ids)
    assert 0.45 < share < 0.55
    # Fixed by the id alone, so the shipped speakers.txt can be checked on any machine.
    assert (adaptation_half("0487ba9b"), adaptation_half("0a7c2a8d")) == (True, False)


def test_the_clips_fitted_on_leave_out_the_other_half_skipped_speakers_and_unknown_words(tmp_path: Path) -> None:
    fit = next(s for s in map(str, range(100, 200)) if adaptation_half(s))
    other = next(s for s in map(str, range(100, 200)) if not adaptation_half(s))
    skipped = next(s for s in map(str, range(200, 300)) if adaptation_half(s))
    src, skip = tmp_path / "src", tmp_path / "skip"
    for word, speaker in (("yes", fit), ("yes", other), ("yes", skipped), ("zzyzx", fit)):
        (src / word).mkdir(parents=True, exist_ok=True)
        (src / word / f"{speaker}_nohash_0.wav").write_bytes(b"")
    (skip / "no").mkdir(parents=True)
    (skip / "no" / f"{skipped}_nohash_3.wav").write_bytes(b"")
    clips = adaptation_clips(src, [skip], known_words={"yes", "no"})
    assert clips == [src / "yes" / f"{fit}_nohash_0.wav"]


@needs_espeak
@needs_sphinxtrain
@pytest.mark.slow
def test_the_tool_fits_a_transform_the_decoder_loads(tmp_path: Path, capsys) -> None:
    speakers = [s for s in (f"{i:08x}" for i in range(40)) if adaptation_half(s)][:3]
    src = tmp_path / "src"
    src.mkdir()
    for speaker, voice in zip(speakers, ("en-us", "en-gb", "en-us+f3"), strict=True):
        for take, word in enumerate(("yes", "no", "stop", "go", "house", "seven")):
            write_take(src, word, speaker, take, voice, 150)
    (src / "raw.wav").unlink()
    out = tmp_path / "out"
    assert main([str(src), "--out", str(out)]) == 0
    assert "fitted on 18 clips from 3 speakers" in capsys.readouterr().out
    assert (out / "speakers.txt").read_text(encoding="ascii").split() == sorted(speakers)
    streams = read_mllr(out / "mllr_matrix")
    assert len(streams) == 3 and all(np.isfinite(a).all() and np.isfinite(b).all() for a, b in streams)
    # PocketSphinx reads it (it refuses a transform it cannot parse), and it moves the scores.
    take = read_wav(src / "yes" / f"{speakers[0]}_nohash_0.wav")
    assert scores(SpotterConfig(mllr=out / "mllr_matrix"), take) != scores(SpotterConfig(mllr=None), take)


def test_without_sphinxtrain_the_tool_says_what_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(TOOLS, "bw", tmp_path / "bw")  # as on a machine without the package
    with pytest.raises(SystemExit, match="apt-get install sphinxtrain"):
        main([str(tmp_path)])
