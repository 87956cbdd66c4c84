"""The chimes: made by scripts/make_chimes, package data in assistant/voice/audio/, short, soft, click-free."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import DeviceError
from assistant.voice.chimes import CHIME_NAMES, chime_path, load_chimes
from assistant.voice.pcm import RATE, peak, read_wav

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_chimes"


@pytest.mark.parametrize("name", CHIME_NAMES)
def test_chime_is_short_quiet_and_starts_and_ends_softly(name: str) -> None:
    pcm = read_wav(chime_path(name))
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)

    assert 0.3 <= len(samples) / RATE <= 1.5
    assert 0.1 <= peak(pcm) <= 0.3  # audible, well below full scale
    assert abs(samples[0]) < 100 and abs(samples[-1]) < 100  # no click at either end
    attack = samples[: int(0.005 * RATE)]
    assert np.abs(attack).max() < 0.5 * np.abs(samples).max()  # a gentle attack


def test_every_chime_loads() -> None:
    assert set(load_chimes()) == set(CHIME_NAMES)


def test_unknown_chime_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="unknown chime 'gong'"):
        chime_path("gong")


def test_the_script_makes_exactly_the_shipped_files(tmp_path: Path) -> None:
    assert SCRIPT.stat().st_mode & 0o111, "scripts/make_chimes must be executable"
    main = runpy.run_path(str(SCRIPT))["main"]

    assert main(["--out", str(tmp_path)]) == 0

    for name in CHIME_NAMES:
        assert (tmp_path / f"{name}.wav").read_bytes() == chime_path(name).read_bytes()


def test_a_missing_chime_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DeviceError) as raised:
        load_chimes(tmp_path)
    message = str(raised.value)
    assert str(tmp_path / "start.wav") in message and "reinstall" in message and "scripts/make_chimes" in message
