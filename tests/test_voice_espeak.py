"""The real eSpeak NG through pyttsx3: rendering, voices, settings, commands (skipped without it)."""

from __future__ import annotations

import ctypes.util
import io
import queue
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.errors import DeviceError
from assistant.events import Event, VoiceFinished, VoiceStarted
from assistant.voice.cache import RenderCache
from assistant.voice.commands import open_voice, say_command, voices_command
from assistant.voice.fakes import FakeAudioOut
from assistant.voice.pcm import RATE, peak, seconds
from assistant.voice.player import Clip
from assistant.voice.rendered import RenderedVoice
from assistant.voice.tts import TtsWorker, VoiceSettings

pytestmark = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None,
    reason="eSpeak NG is not installed (apt-get install espeak-ng)",
)

TIMEOUT = 10.0
LINE = "Take a slow breath together, and when you are ready, say next."
ESPEAK = VoiceSettings("espeak:en-us")


@pytest.fixture
def worker() -> Iterator[TtsWorker]:
    worker = TtsWorker(RenderCache())
    worker.wait_ready()
    yield worker
    worker.close()


def render(worker: TtsWorker, text: str, settings: VoiceSettings) -> bytes:
    clip = Clip(text)
    worker.render(clip, text, settings)
    assert clip.read(0, 1 << 30, TIMEOUT) is not None or clip.complete
    while not clip.complete:
        clip.read(len(clip.pcm()), 1 << 30, 0.1)
    assert clip.error is None
    return clip.pcm()


def wait_finished(posted: queue.Queue[Event]) -> list[Event]:
    got = []
    while not got or not isinstance(got[-1], VoiceFinished):
        got.append(posted.get(timeout=TIMEOUT))
    return got


def test_a_line_renders_to_speech_of_a_plausible_length(worker: TtsWorker) -> None:
    pcm = render(worker, LINE, ESPEAK)

    assert 2.0 < seconds(pcm) < 8.0
    assert peak(pcm) > 0.1


def test_rate_changes_the_length_and_the_cache_keeps_them_apart(worker: TtsWorker) -> None:
    slow = render(worker, LINE, VoiceSettings("espeak:en-us", rate=110))
    fast = render(worker, LINE, VoiceSettings("espeak:en-us", rate=300))
    again = render(worker, LINE, VoiceSettings("espeak:en-us", rate=110))

    assert seconds(fast) < seconds(slow) * 0.6
    assert again == slow
    assert worker.cache.hits == 1


def test_a_voice_variant_renders(worker: TtsWorker) -> None:
    assert seconds(render(worker, "Hello.", VoiceSettings(voice="en+f3"))) > 0.3


def test_an_unknown_voice_is_a_device_error(worker: TtsWorker) -> None:
    future = worker.call(lambda renderer: renderer.configure(VoiceSettings(voice="no-such")))
    with pytest.raises(DeviceError, match="no voice 'no-such'.*assistant voices"):
        future.result(TIMEOUT)


def test_a_real_line_reaches_the_fake_speaker_and_stops_early(worker: TtsWorker) -> None:
    posted: queue.Queue[Event] = queue.Queue()
    speaker = FakeAudioOut()
    voice = RenderedVoice(posted.put, speaker, worker=worker, settings=ESPEAK)
    try:
        voice.say(LINE)
        assert wait_finished(posted) == [VoiceStarted(), VoiceFinished(1, interrupted=False)]
        whole = speaker.played
        assert whole == worker.cache.get(voice.settings.key(LINE))

        speaker.hold()
        voice.say(LINE)
        assert speaker.wait_for_buffers(len(speaker.buffers) + 1, TIMEOUT)
        voice.stop()
        speaker.release()
        assert wait_finished(posted) == [VoiceStarted(), VoiceFinished(2, interrupted=True)]
        assert 0 < len(speaker.played) - len(whole) < len(whole) // 4
    finally:
        voice.close()


def test_open_voice_without_playing_still_records(tmp_path: Path) -> None:
    posted: queue.Queue[Event] = queue.Queue()
    path = tmp_path / "say.wav"
    voice = open_voice(posted.put, voice="espeak:en-us", rate=170, record_to=str(path), play=False)
    try:
        voice.say("Hello.")
        voice.chime("end")
        wait_finished(posted)
    finally:
        voice.close()

    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == RATE
        assert 1.0 < wav.getnframes() / RATE < 4.0


def test_voices_command_lists_english() -> None:
    out = io.StringIO()

    assert voices_command(out) == 0

    text = out.getvalue()
    assert "espeak:gmw/en-us" in text and "English (America)" in text


def test_say_command_with_an_unknown_voice_fails_in_one_line() -> None:
    out = io.StringIO()

    assert say_command("Hello.", out, voice="no-such") == 1
    assert out.getvalue().count("\n") == 1 and "no voice 'no-such'" in out.getvalue()


def test_say_command_with_nothing_to_say_fails_at_once() -> None:
    out = io.StringIO()

    assert say_command("   ", out) == 1
    assert "Nothing to say" in out.getvalue()


def test_say_command_records_a_line(tmp_path: Path) -> None:
    out = io.StringIO()
    path = tmp_path / "line.wav"

    # Plays through the speaker when there is one; otherwise says so and still records.
    assert say_command("Hi.", out, voice="espeak:en-us", rate=300, volume=0.1, record_to=str(path)) == 0

    assert "Hi." in out.getvalue() and f"Recorded to {path}" in out.getvalue()
    with wave.open(str(path), "rb") as wav:
        assert wav.getnframes() > 0
