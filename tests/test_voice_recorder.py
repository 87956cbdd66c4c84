"""`--record-to`: the recording holds every line and chime, in order, with the scaled gaps."""

from __future__ import annotations

import queue
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.events import Event, VoiceFinished
from assistant.voice.cache import RenderCache
from assistant.voice.chimes import CHIME_NAMES
from assistant.voice.fakes import FakeRenderer
from assistant.voice.pcm import RATE
from assistant.voice.player import NullAudioOut
from assistant.voice.recorder import SessionRecorder
from assistant.voice.rendered import RenderedVoice
from assistant.voice.tts import TtsWorker, VoiceSettings

TIMEOUT = 5.0


class FastFakeClock:
    """A hand-driven clock that claims to run `speed` times faster than real time."""

    def __init__(self, speed: float) -> None:
        self.t = 0.0
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def sounding_runs(path: Path) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of sound in a WAV, split by silences over 50 ms."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 0)
    runs: list[tuple[float, float]] = []
    start = previous = int(loud[0])
    for index in loud[1:]:
        if index - previous > 0.05 * RATE:
            runs.append((start / RATE, (previous + 1) / RATE))
            start = int(index)
        previous = int(index)
    runs.append((start / RATE, (previous + 1) / RATE))
    return runs


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return tmp_path / "session.wav"


def test_recording_matches_a_scripted_fast_session(recording: Path) -> None:
    clock = FastFakeClock(speed=60)
    posted: queue.Queue[Event] = queue.Queue()
    chime = (np.full(int(0.5 * RATE), 2000, dtype="<i2")).tobytes()
    voice = RenderedVoice(
        posted.put,
        NullAudioOut(),  # no sound device: render and record only
        worker=TtsWorker(RenderCache(), renderer_factory=FakeRenderer),
        chimes={name: chime for name in CHIME_NAMES},
        settings=VoiceSettings(volume=1.0),
        clock=clock,
        recorder=SessionRecorder(recording, clock),
    )

    def finish() -> None:
        while not isinstance(posted.get(timeout=TIMEOUT), VoiceFinished):
            pass

    try:
        voice.say("Welcome.")  # 0.8 s
        finish()
        clock.advance(120)  # a two-minute round at --fast 60: two seconds of silence
        voice.chime("start")  # 0.5 s
        finish()
        clock.advance(30)  # 0.5 s
        voice.say("Next.")  # 0.5 s
        voice.chime("end")  # queued together: no gap
        finish()
    finally:
        voice.close()

    runs = sounding_runs(recording)
    expected = [(0.0, 0.8), (2.8, 3.3), (3.8, 4.8)]
    assert len(runs) == len(expected)
    for (start, end), (want_start, want_end) in zip(runs, expected, strict=True):
        assert start == pytest.approx(want_start, abs=0.01)
        assert end == pytest.approx(want_end, abs=0.01)
    with wave.open(str(recording), "rb") as wav:
        assert wav.getnframes() / RATE == pytest.approx(4.8, abs=0.01)


def test_recorder_gap_is_clock_time_over_speed(recording: Path) -> None:
    clock = FastFakeClock(speed=10)
    recorder = SessionRecorder(recording, clock)
    tone = b"\x10\x00" * RATE  # one second

    recorder.begin(0.0)
    recorder.write(tone)
    recorder.end(0.0)
    recorder.begin(25.0)  # 25 clock seconds at speed 10
    recorder.write(tone)
    recorder.end(25.0)
    recorder.close()

    assert recorder.seconds == pytest.approx(1 + 2.5 + 1)
    assert sounding_runs(recording) == [(0.0, 1.0), (3.5, 4.5)]


def test_recording_to_a_bad_path_is_a_device_error(tmp_path: Path) -> None:
    from assistant.errors import DeviceError

    with pytest.raises(DeviceError, match="cannot write the recording"):
        SessionRecorder(tmp_path / "missing" / "x.wav", FastFakeClock(1))


def test_a_failing_recording_never_silences_the_voice(recording: Path) -> None:
    class FullDisk(SessionRecorder):
        def write(self, pcm: bytes) -> None:
            raise OSError("No space left on device")

    clock = FastFakeClock(speed=1)
    posted: queue.Queue[Event] = queue.Queue()
    voice = RenderedVoice(
        posted.put,
        NullAudioOut(),
        worker=TtsWorker(RenderCache(), renderer_factory=FakeRenderer),
        chimes={name: b"\x01\x00" * 100 for name in CHIME_NAMES},
        clock=clock,
        recorder=FullDisk(recording, clock),
    )
    try:
        for line in ("One.", "Two."):
            number = voice.say(line)
            while not isinstance(event := posted.get(timeout=TIMEOUT), VoiceFinished):
                pass
            assert event == VoiceFinished(number, interrupted=False)
    finally:
        voice.close()
