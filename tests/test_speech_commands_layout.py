"""The layout tool behind the benchmark's largest test set (benchmarks/speech_commands_layout.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.voice.pcm import write_wav
from benchmarks.speech_commands_layout import main


def clip(path: Path, seed: int) -> None:
    """A 0.1 s WAV whose content is set by `seed` (equal seeds: byte-identical files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.random.default_rng(seed).integers(-3000, 3000, 1600).astype(np.int16)
    write_wav(path, samples.tobytes(), rate=16000)


def test_layout_names_unknown_words_and_drops_repeats_and_skipped_clips(tmp_path: Path) -> None:
    src, other, dest = tmp_path / "src", tmp_path / "other", tmp_path / "dest"
    clip(src / "yes" / "aaaa1111_nohash_0.wav", 1)
    clip(src / "yes" / "aaaa1111_nohash_1.wav", 1)  # the same take twice: kept once
    clip(src / "_unknown_" / "dog_bbbb2222_nohash_0.wav.wav", 2)
    clip(src / "_silence_" / "silence_0.wav", 3)
    clip(src / "no" / "cccc3333_nohash_0.wav", 4)
    clip(src / "stop" / "dddd4444_nohash_0.wav", 5)
    clip(other / "no" / "cccc3333_nohash_0.wav", 6)  # in the other set by name
    clip(other / "go" / "eeee5555_nohash_0.wav", 5)  # ... and by content
    assert main([str(src), str(dest), "--skip", str(other)]) == 0
    kept = sorted(str(p.relative_to(dest)) for p in dest.glob("*/*.wav"))
    assert kept == ["dog/bbbb2222_nohash_0.wav", "yes/aaaa1111_nohash_0.wav"]


def test_layout_refuses_a_folder_that_already_holds_clips(tmp_path: Path) -> None:
    clip(tmp_path / "src" / "yes" / "aaaa1111_nohash_0.wav", 1)
    clip(tmp_path / "dest" / "no" / "old_nohash_0.wav", 2)
    assert main([str(tmp_path / "src"), str(tmp_path / "dest")]) == 2


def test_layout_refuses_a_skip_folder_with_no_clips_in_the_layout(tmp_path: Path) -> None:
    clip(tmp_path / "src" / "yes" / "aaaa1111_nohash_0.wav", 1)
    clip(tmp_path / "shared" / "words" / "yes" / "aaaa1111_nohash_0.wav", 1)  # one level deeper
    assert main([str(tmp_path / "src"), str(tmp_path / "dest"), "--skip", str(tmp_path / "shared")]) == 2
    assert not (tmp_path / "dest").exists()
