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
from assistant.ears.spotter import SphinxCueSpotter
from assistant.ears.vad import Segment, segments
from assistant.ears.worker import SpotterProcess
from tests.conftest import needs_espeak

pytestmark = needs_espeak


@pytest.fixture(scope="module")
def worker() -> Iterator[SpotterProcess]:
    spotter = SpotterProcess()
    yield spotter
    spotter.close()


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> Segment:
    """ "I'm finished" in a quiet room, as the endpointer cuts it."""
    path = tmp_path_factory.mktemp("worker") / "finished.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), "I'm finished"], check=True, capture_output=True)
    rng = np.random.default_rng(3)
    quiet = np.round(rng.standard_normal(16000) * 20).astype(np.int16)
    stream = np.concatenate([quiet, read_wav(path), quiet])
    found = list(segments(stream))
    assert len(found) == 1, "the endpointer should find one stretch of speech"
    return found[0]


def test_the_worker_gives_the_same_verdict_as_the_spotter_in_this_process(
    worker: SpotterProcess, segment: Segment
) -> None:
    here = SphinxCueSpotter()
    cues = frozenset({"done", "pause", "timeout", "stop"})
    here.listen_for(cues)
    worker.listen_for(cues)
    expected = here.judge(segment)
    assert expected.detection is not None and expected.detection.cue == "done"
    assert worker.judge(segment) == expected


def test_the_worker_listens_only_for_the_cues_it_is_given(worker: SpotterProcess, segment: Segment) -> None:
    worker.listen_for(frozenset({"next", "yes"}))
    assert worker.judge(segment).detection is None
    worker.listen_for(frozenset({"done"}))
    assert worker.judge(segment).detection is not None


def test_a_killed_worker_is_replaced_and_the_segment_judged_again(segment: Segment) -> None:
    spotter = SpotterProcess()
    try:
        spotter.listen_for(frozenset({"done"}))
        os.kill(spotter._process.pid, signal.SIGKILL)
        verdict = spotter.judge(segment)
        assert verdict.detection is not None and verdict.detection.cue == "done"
    finally:
        spotter.close()


def test_the_worker_holds_no_file_open_for_writing_and_no_socket(worker: SpotterProcess, segment: Segment) -> None:
    worker.judge(segment)
    pid = worker._process.pid
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
    process = spotter._process
    spotter.close()
    with pytest.raises(ValueError):
        process.is_alive()  # closed: the process object was released after the child ended
