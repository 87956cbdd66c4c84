"""The spotter in its worker processes: same verdicts, cues passed on, a dead child replaced, privacy."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import assistant.ears.spotter as spotter_module
from assistant.ears.aligner import Alignment, PhoneAligner
from assistant.ears.decoder import make_decoder
from assistant.ears.microphone import read_wav
from assistant.ears.spotter import SphinxCueSpotter, SpotterConfig
from assistant.ears.vad import Segment, segments
from assistant.ears.worker import SpotterProcess
from tests.conftest import needs_espeak
from tests.test_ears_recognition import SPEECH, needs_real, verdicts

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


@pytest.fixture
def fresh_worker() -> Iterator[SpotterProcess]:
    """A worker whose decoders have heard nothing yet, as a fresh spotter in this process: each
    decoder's running cepstral mean carries over from pass to pass, so history counts."""
    spotter = SpotterProcess()
    yield spotter
    spotter.close()


def test_the_worker_gives_the_same_verdicts_as_the_spotter_in_this_process(
    fresh_worker: SpotterProcess, segment: Segment, tmp_path: Path
) -> None:
    # "posh" and "shop": the grammar names a phrase whose keyword margin no phone could lift,
    # so the phone side's alignment, asked for at once, goes unused. The next verdict must
    # still be the next segment's (and each decoder must see what it sees in one process).
    stream = [segment] + [said(text, tmp_path) for text in ("posh", "top", "shop")] + [segment]
    here = SphinxCueSpotter()
    cues = frozenset({"done", "pause", "timeout", "stop"})
    here.listen_for(cues)
    fresh_worker.listen_for(cues)
    expected = [here.judge(s) for s in stream]
    assert expected[0].detection is not None and expected[0].detection.cue == "done"
    unused = [v for v in expected if v.phrase and v.evidence and v.evidence.weakest_phone is None]
    assert unused, "no segment left an alignment unused: the test would not test that"
    assert [fresh_worker.judge(s) for s in stream] == expected


def test_the_worker_listens_only_for_the_cues_it_is_given(worker: SpotterProcess, segment: Segment) -> None:
    worker.listen_for(frozenset({"next", "yes"}))
    assert worker.judge(segment).detection is None
    worker.listen_for(frozenset({"done"}))
    assert worker.judge(segment).detection is not None


@pytest.mark.parametrize("child", ["cue-spotter", "cue-phones"])
def test_a_killed_worker_is_replaced_and_the_segment_judged_again(segment: Segment, child: str) -> None:
    spotter = SpotterProcess()
    try:
        spotter.listen_for(frozenset({"done"}))
        before = spotter.pids
        os.kill(before[child], signal.SIGKILL)
        verdict = spotter.judge(segment)
        assert verdict.detection is not None and verdict.detection.cue == "done"
        assert set(spotter.pids.values()).isdisjoint(before.values())  # both replaced, none left over
    finally:
        spotter.close()


@pytest.mark.parametrize("child", ["cue-spotter", "cue-phones"])
def test_the_worker_holds_no_file_open_for_writing_and_no_socket(
    worker: SpotterProcess, segment: Segment, child: str
) -> None:
    worker.judge(segment)
    pid = worker.pids[child]
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
    pids = list(spotter.pids.values())
    assert len(pids) == 2
    spotter.close()
    assert spotter.pids == {}
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped


@needs_real
def test_the_worker_gives_the_same_verdicts_on_every_real_clip(fresh_worker: SpotterProcess) -> None:
    # Each decoder gets the same passes in the same order in both arrangements, so not even the
    # running cepstral mean may differ.
    clips = sorted((SPEECH / "words").glob("*/*.wav"))
    assert len(clips) > 100
    here = SphinxCueSpotter()
    for clip in clips:
        samples = read_wav(clip)
        assert verdicts(samples, None, fresh_worker) == verdicts(samples, None, here), clip.name  # type: ignore[arg-type]


class RecordingAligner(PhoneAligner):
    """The phone side in this process, noting when the spotter calls it."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__(make_decoder(SpotterConfig().mllr, SpotterConfig().phone_loop_probability))
        self.calls = calls

    def begin(self, pcm: bytes, remove_noise: bool) -> None:
        self.calls.append("begin")
        super().begin(pcm, remove_noise)

    def align(self, phrase: str) -> None:
        self.calls.append(f"align {phrase}")
        super().align(phrase)

    def alignment(self) -> Alignment | None:
        self.calls.append("alignment")
        return super().alignment()


def test_the_phone_side_starts_before_the_grammar_and_aligns_before_the_keyword_search(
    segment: Segment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What lets the two processes overlap: the phone loop needs only the audio, the alignment
    # only the grammar's phrase; the verdict waits for it only after the keyword search.
    calls: list[str] = []
    real_decode = spotter_module.decode

    def noting_decode(decoder: object, search: str, pcm: bytes) -> None:
        calls.append("grammar" if search.startswith("fsg") else "keyword search")
        real_decode(decoder, search, pcm)

    monkeypatch.setattr(spotter_module, "decode", noting_decode)
    spotter = SphinxCueSpotter(aligner=RecordingAligner(calls))
    spotter.listen_for(frozenset({"done"}))
    assert spotter.judge(segment).detection is not None
    assert calls == ["begin", "grammar", "align i'm finished", "keyword search", "alignment"]
