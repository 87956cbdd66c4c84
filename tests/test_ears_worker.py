"""The spotter in its worker process: same verdicts, cues passed on, a dead child replaced, privacy."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.ears.microphone import read_wav
from assistant.ears.spotter import WhisperCueSpotter
from assistant.ears.vad import Segment, segments
from assistant.ears.worker import SpotterProcess
from tests.conftest import needs_espeak

pytestmark = needs_espeak


@pytest.fixture(scope="module")
def worker() -> Iterator[SpotterProcess]:
    spotter = SpotterProcess()
    yield spotter
    spotter.close()


def said(text: str, folder: Path) -> Segment:
    """`text` said by eSpeak NG in a quiet room, as the endpointer cuts it."""
    path = folder / f"{text.replace(' ', '_')}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, capture_output=True)
    rng = np.random.default_rng(3)
    quiet = np.round(rng.standard_normal(16000) * 20).astype(np.int16)
    found = list(segments(np.concatenate([quiet, read_wav(path), quiet])))
    assert len(found) == 1, "the endpointer should find one stretch of speech"
    return found[0]


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> Segment:
    """ "I'm finished" in a quiet room."""
    return said("I'm finished", tmp_path_factory.mktemp("worker"))


def test_the_worker_gives_the_same_verdicts_as_the_spotter_in_this_process(
    worker: SpotterProcess, segment: Segment, tmp_path: Path
) -> None:
    stream = [segment] + [said(text, tmp_path) for text in ("dinner", "time out", "stop")]
    here = WhisperCueSpotter()
    cues = frozenset({"done", "pause", "timeout", "stop"})
    here.listen_for(cues)
    worker.listen_for(cues)
    expected = [here.judge(s) for s in stream]
    assert expected[0].detection is not None and expected[0].detection.cue == "done"
    assert [worker.judge(s) for s in stream] == expected


def test_the_worker_listens_only_for_the_cues_it_is_given(worker: SpotterProcess, segment: Segment) -> None:
    worker.listen_for(frozenset({"next", "yes"}))
    assert worker.judge(segment).detection is None
    worker.listen_for(frozenset({"done"}))
    assert worker.judge(segment).detection is not None


def test_the_worker_knows_its_own_voice_by_the_line(worker: SpotterProcess, segment: Segment) -> None:
    worker.listen_for(frozenset({"done"}))
    assert worker.judge(segment, own_line="When you have finished, say I'm finished.").reason == "own voice"
    assert worker.judge(segment, own_line="Welcome.").detection is not None


def test_a_killed_worker_is_replaced_and_the_segment_judged_again(segment: Segment) -> None:
    spotter = SpotterProcess()
    try:
        spotter.listen_for(frozenset({"done"}))
        before = spotter.pid
        assert before is not None
        os.kill(before, signal.SIGKILL)
        verdict = spotter.judge(segment)
        assert verdict.detection is not None and verdict.detection.cue == "done"
        assert spotter.pid not in (None, before)
    finally:
        spotter.close()


def test_the_worker_holds_no_file_open_for_writing_and_no_socket(worker: SpotterProcess, segment: Segment) -> None:
    worker.judge(segment)
    pid = worker.pid
    folder = Path(f"/proc/{pid}/fd")
    if not folder.exists():
        pytest.skip("no /proc file system here")
    for fd in folder.iterdir():
        if int(fd.name) <= 2:
            continue  # standard streams, inherited from this process (the terminal, or pytest's capture)
        target = os.readlink(fd)
        assert not target.startswith("socket:"), target
        if target.startswith("/"):
            flags = int((Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().split("flags:")[1].split()[0], 8)
            assert flags & (os.O_WRONLY | os.O_RDWR) == 0, target


def test_closing_ends_the_worker() -> None:
    spotter = SpotterProcess()
    pid = spotter.pid
    assert pid is not None
    spotter.close()
    assert spotter.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped
