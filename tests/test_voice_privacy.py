"""No voice engine reaches the network or writes a file: each speaks a line in a fresh interpreter
whose audit hook refuses every network call and lists every file opened for writing
(`tests/test_privacy.py`), with an empty home and cache folder where a downloaded voice would go."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_privacy import _files_in, run_guarded
from tests.test_voice_engines import ENGINE_VOICES, have


@pytest.mark.parametrize("voice", ENGINE_VOICES)
def test_each_engine_speaks_with_no_network_call_and_writes_nothing(tmp_path: Path, voice: str) -> None:
    code, report, output = run_guarded(tmp_path, "say", "Partner A, it's your turn.", "--voice", voice)

    assert code == 0, output
    assert "cannot speak here" not in output, output  # the engine itself spoke, not the fallback
    assert report["network"] == [], output
    assert report["writes"] == []
    assert _files_in(tmp_path / "home") == []  # no voice fetched into a cache folder
    assert _files_in(tmp_path / "tmp") == []


@pytest.mark.skipif(not have("hibari"), reason="hibari-tts is not installed")
def test_asking_for_a_voice_hibari_would_download_fetches_nothing(tmp_path: Path) -> None:
    code, report, output = run_guarded(tmp_path, "say", "Hello.", "--voice", "hibari:emma")

    assert code == 1 and "never does" in output, output
    assert report["network"] == []
    assert report["writes"] == []
    assert _files_in(tmp_path / "home") == []


def test_listing_the_voices_makes_no_network_call(tmp_path: Path) -> None:
    code, report, output = run_guarded(tmp_path, "voices")

    assert code == 0, output
    assert report["network"] == []
    assert report["writes"] == []
