"""The voice with a fake renderer and a fake speaker: order, events, stopping, the cache."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest

from assistant.devices import Voice
from assistant.events import DeviceLost, Event, VoiceFinished, VoiceStarted
from assistant.voice.cache import RenderCache
from assistant.voice.chimes import CHIME_NAMES
from assistant.voice.fakes import FakeAudioOut, FakeRenderer
from assistant.voice.pcm import RATE, SAMPLE_WIDTH
from assistant.voice.player import Clip, Player
from assistant.voice.rendered import RenderedVoice
from assistant.voice.tts import TtsWorker, VoiceSettings

TIMEOUT = 5.0

CHIMES = {name: bytes([index + 1, 0]) * 2205 for index, name in enumerate(CHIME_NAMES)}
"""0.1 s of a constant, distinct sample per chime: easy to find in what was played."""
FULL_VOLUME = VoiceSettings(volume=1.0)
"""Chimes are scaled by the volume; at 1.0 they play exactly as given."""


class Events:
    """Collects what the voice posts; every wait has a timeout."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Event] = queue.Queue()
        self.seen: list[Event] = []

    def post(self, event: Event) -> None:
        self.queue.put(event)

    def next(self, timeout: float = TIMEOUT) -> Event:
        event = self.queue.get(timeout=timeout)
        self.seen.append(event)
        return event

    def until(self, kind: type[Event], timeout: float = TIMEOUT) -> list[Event]:
        """Events up to and including the first of type `kind`."""
        got = []
        while True:
            event = self.next(timeout)
            got.append(event)
            if isinstance(event, kind):
                return got


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def renderer() -> FakeRenderer:
    return FakeRenderer()


@pytest.fixture
def speaker() -> FakeAudioOut:
    return FakeAudioOut()


@pytest.fixture
def worker(renderer: FakeRenderer) -> TtsWorker:
    return TtsWorker(cache=RenderCache(), renderer_factory=lambda: renderer)


@pytest.fixture
def voice(events: Events, speaker: FakeAudioOut, worker: TtsWorker) -> Iterator[RenderedVoice]:
    voice = RenderedVoice(events.post, speaker, worker=worker, chimes=CHIMES, settings=FULL_VOLUME)
    yield voice
    voice.close()


def test_is_a_voice(voice: RenderedVoice) -> None:
    protocol_voice: Voice = voice
    assert protocol_voice is voice


def test_a_line_reaches_the_speaker_whole_between_started_and_finished(
    voice: RenderedVoice, events: Events, speaker: FakeAudioOut
) -> None:
    assert voice.say("Hello there.") == 1

    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(1, interrupted=False)]
    assert speaker.played == FakeRenderer.pcm_of("Hello there.")
    # Small buffers, so a stop is never far away.
    assert max(len(buffer) for buffer in speaker.buffers) <= 0.03 * RATE * SAMPLE_WIDTH
    assert speaker.drains == 1


def test_lines_and_chimes_play_in_order_as_one_stretch_of_voice(
    voice: RenderedVoice, events: Events, speaker: FakeAudioOut, renderer: FakeRenderer
) -> None:
    speaker.hold()  # keep everything queued until all three are in
    numbers = [voice.say("One."), voice.chime("start"), voice.say("Two, three.")]
    assert speaker.wait_for_buffers(1, TIMEOUT)
    speaker.release()

    assert numbers == [1, 2, 3]
    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(3, interrupted=False)]
    expected = FakeRenderer.pcm_of("One.") + CHIMES["start"] * 1 + FakeRenderer.pcm_of("Two, three.")
    assert speaker.played == expected
    assert renderer.rendered == ["One.", "Two, three."]


def test_stop_cuts_a_line_mid_sentence_and_drops_the_queue(
    voice: RenderedVoice, events: Events, speaker: FakeAudioOut
) -> None:
    line = "A long line that will be cut off well before its end, because someone said stop."
    speaker.hold()
    voice.say(line)
    voice.chime("end")
    voice.say("Never heard.")
    assert speaker.wait_for_buffers(1, TIMEOUT)

    voice.stop()
    speaker.release()

    # Through the last one queued: the dropped chime and line will not be heard either.
    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(3, interrupted=True)]
    played = speaker.played
    assert 0 < len(played) < len(FakeRenderer.pcm_of(line)) / 10
    assert FakeRenderer.pcm_of(line).startswith(played)
    assert speaker.discards >= 1  # at the stop, and again by the player when it sees it


def test_the_voice_speaks_again_after_a_stop(voice: RenderedVoice, events: Events, speaker: FakeAudioOut) -> None:
    speaker.hold()
    voice.say("Interrupted.")
    assert speaker.wait_for_buffers(1, TIMEOUT)
    voice.stop()
    speaker.release()
    events.until(VoiceFinished)
    before = len(speaker.played)

    voice.say("Again.")

    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(2, interrupted=False)]
    assert speaker.played[before:] == FakeRenderer.pcm_of("Again.")


def test_stop_when_idle_posts_nothing(voice: RenderedVoice, events: Events) -> None:
    voice.stop()
    voice.say("After.")
    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(1, interrupted=False)]


def test_a_repeated_line_comes_from_the_cache(
    voice: RenderedVoice, events: Events, speaker: FakeAudioOut, renderer: FakeRenderer
) -> None:
    voice.say("Say it again.")
    events.until(VoiceFinished)
    voice.say("Say   it again.")  # same words, other spacing: same sound
    events.until(VoiceFinished)

    assert renderer.rendered == ["Say it again."]
    assert speaker.played == FakeRenderer.pcm_of("Say it again.") * 2


def test_a_rendered_line_is_cached_under_its_settings(voice: RenderedVoice, events: Events, worker: TtsWorker) -> None:
    voice.say("Short.")
    events.until(VoiceFinished)
    assert worker.cache.get(voice.settings.key("Short.")) == FakeRenderer.pcm_of("Short.")


def test_disk_cache_is_private_and_survives_a_restart(tmp_path, renderer: FakeRenderer) -> None:
    folder = tmp_path / "voice-cache"
    first = RenderCache(folder=folder)
    first.put("k", b"\x01\x00" * 10)

    second = RenderCache(folder=folder)

    assert second.get("k") == b"\x01\x00" * 10
    assert folder.stat().st_mode & 0o777 == 0o700
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in folder.iterdir())


def test_a_failing_speaker_is_reported_once_and_the_voice_goes_on(events: Events, worker: TtsWorker) -> None:
    class BrokenSpeaker(FakeAudioOut):
        def write(self, pcm: bytes) -> None:
            raise OSError("unplugged")

    voice = RenderedVoice(events.post, BrokenSpeaker(), worker=worker, chimes=CHIMES)
    try:
        voice.say("One.")
        voice.say("Two.")
        got = events.until(VoiceFinished)
    finally:
        voice.close()

    assert got[0] == VoiceStarted()
    lost = [event for event in got if isinstance(event, DeviceLost)]
    assert len(lost) == 1 and lost[0].device == "speaker" and "unplugged" in lost[0].message
    assert got[-1] == VoiceFinished(2, interrupted=False)


def test_close_ends_a_line_being_played(events: Events, worker: TtsWorker) -> None:
    speaker = FakeAudioOut(pace=1.0)  # real time: the line lasts ten seconds
    voice = RenderedVoice(events.post, speaker, worker=worker, chimes=CHIMES)
    voice.say("A line of one hundred characters, which the fake renderer makes ten seconds long......")
    assert speaker.wait_for_buffers(1, TIMEOUT)

    voice.close()

    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(1, interrupted=True)]
    assert speaker.closed
    voice.say("Ignored after close.")
    voice.close()


@pytest.mark.parametrize("seed", range(5))
def test_every_start_is_followed_by_an_end_and_the_ends_count_up(seed: int, events: Events, worker: TtsWorker) -> None:
    import random

    chooser = random.Random(seed)
    speaker = FakeAudioOut(pace=0.02)  # fifty times real time: stops land anywhere
    voice = RenderedVoice(events.post, speaker, worker=worker, chimes=CHIMES)
    asked = 0
    try:
        for step in range(40):
            action = chooser.choice(["say", "say", "chime", "stop"])
            if action == "say":
                asked = voice.say(f"Line {step}.")
            elif action == "chime":
                asked = voice.chime(chooser.choice(CHIME_NAMES))
            else:
                voice.stop()
            if chooser.random() < 0.3:
                speaker.wait_for_buffers(len(speaker.buffers) + 1, 0.2)
    finally:
        voice.close()  # joins the threads: every event is posted by now

    posted = []
    while not events.queue.empty():
        posted.append(events.queue.get_nowait())
    assert posted, "something was played"
    # A stop before a clip's first sound ends it with no start; a start always has its end.
    kinds = "".join("S" if isinstance(event, VoiceStarted) else "F" for event in posted)
    assert "SS" not in kinds and kinds.endswith("F")
    throughs = [event.through for event in posted if isinstance(event, VoiceFinished)]
    assert throughs == sorted(set(throughs)) and throughs[-1] == asked


def test_the_end_of_each_stretch_names_the_last_clip_played(
    voice: RenderedVoice, events: Events, speaker: FakeAudioOut
) -> None:
    """A chime that ends before the next line is queued is a stretch of its own: the session
    must be able to tell its end from the line's (`runner` ignores an end older than its last ask)."""
    assert voice.chime("start") == 1
    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(1, interrupted=False)]
    assert voice.say("The prompt.") == 2
    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(2, interrupted=False)]


def test_a_stop_reports_the_lines_it_dropped_and_the_next_line_reports_its_own_end(
    voice: RenderedVoice, events: Events, speaker: FakeAudioOut
) -> None:
    speaker.hold()
    voice.say("A line cut off by a stop.")
    assert speaker.wait_for_buffers(1, TIMEOUT)
    voice.stop()
    assert voice.say("What the stop asked for.") == 2  # queued before the player saw the stop
    speaker.release()

    got = events.until(VoiceFinished)
    assert got == [VoiceStarted(), VoiceFinished(1, interrupted=True)]  # older than 2: old news
    assert events.until(VoiceFinished) == [VoiceStarted(), VoiceFinished(2, interrupted=False)]


def test_a_line_with_no_sound_still_ends(voice: RenderedVoice, events: Events, speaker: FakeAudioOut) -> None:
    """An empty line or an unknown chime makes no sound, but whoever waits for it hears of its end."""
    assert voice.say("  ") == 1
    assert events.until(VoiceFinished) == [VoiceFinished(1, interrupted=False)]
    assert voice.chime("no-such-chime") == 2
    assert events.until(VoiceFinished) == [VoiceFinished(2, interrupted=False)]
    assert speaker.played == b""


def test_a_clip_whose_rendering_failed_still_ends(events: Events, speaker: FakeAudioOut) -> None:
    player = Player(speaker, events.post)
    try:
        broken = Clip("a line the engine could not render")
        assert player.enqueue(broken) == 1
        broken.finish(error="the engine crashed")
        assert events.until(VoiceFinished) == [VoiceFinished(1, interrupted=False)]
    finally:
        player.close()


def test_a_line_asked_for_after_close_is_reported_at_once(voice: RenderedVoice, events: Events) -> None:
    voice.close()
    assert voice.say("Too late.") == 1
    assert events.until(VoiceFinished) == [VoiceFinished(1, interrupted=True)]
