"""Missing parts give a plain DeviceError that says what to install, never a crash."""

from __future__ import annotations

import queue
import sys
from pathlib import Path

import pytest

from assistant.errors import DeviceError
from assistant.events import Event
from assistant.voice.cache import RenderCache
from assistant.voice.espeak_voice import INSTALL_ESPEAK, EspeakEngine
from assistant.voice.fakes import FakeAudioOut
from assistant.voice.rendered import RenderedVoice
from assistant.voice.tts import TtsWorker, VoiceSettings


def test_pyaudio_missing_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.voice import pyaudio_out

    monkeypatch.setitem(sys.modules, "pyaudio", None)  # as if it were not installed

    with pytest.raises(DeviceError, match="portaudio19-dev.*pip install pyaudio"):
        pyaudio_out.PyAudioOut()


def test_no_such_output_device_is_a_device_error() -> None:
    pytest.importorskip("pyaudio", reason="PyAudio is not installed")
    from assistant.voice.pyaudio_out import PyAudioOut

    with pytest.raises(DeviceError, match="No sound output device"):
        PyAudioOut(device_index=10_000)


def test_pyttsx3_missing_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyttsx3", None)

    with pytest.raises(DeviceError, match="pip install pyttsx3"):
        EspeakEngine()


def test_espeak_missing_stops_the_voice_from_opening_with_the_package_name() -> None:
    def no_espeak() -> EspeakEngine:
        raise DeviceError(INSTALL_ESPEAK)

    posted: queue.Queue[Event] = queue.Queue()
    worker = TtsWorker(RenderCache(), renderer_factory=no_espeak)

    with pytest.raises(DeviceError, match="`espeak-ng`"):
        RenderedVoice(posted.put, FakeAudioOut(), worker=worker, chimes={})
    assert posted.empty()


@pytest.mark.parametrize(
    ("rate", "volume", "problem"),
    [(20, None, "rate must be"), (None, 1.5, "volume must be")],
)
def test_settings_out_of_range_are_refused(rate: int | None, volume: float | None, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        VoiceSettings.of(None, rate, volume)


def test_without_libespeak_ng_the_voice_names_the_package_to_install() -> None:
    import subprocess
    import textwrap

    # A fresh interpreter where loading any eSpeak library fails, as on a machine without it.
    script = textwrap.dedent(
        """
        import ctypes, io, queue
        real = ctypes.cdll.LoadLibrary
        def load(name):
            if "espeak" in str(name):
                raise OSError(f"{name}: cannot open shared object file")
            return real(name)
        ctypes.cdll.LoadLibrary = load
        from assistant.errors import DeviceError
        from assistant.voice.commands import open_voice, voices_command
        out = io.StringIO()
        print(voices_command(out), out.getvalue().strip().splitlines()[-3])
        try:
            open_voice(queue.Queue().put, voice="espeak:en-us", play=False)
        except DeviceError as error:
            print("DeviceError:", error)
        """
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=root)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("0 Not available: espeak: eSpeak NG is not installed") and "`espeak-ng`" in lines[0]
    assert lines[1].startswith("DeviceError: eSpeak NG is not installed") and "apt-get install espeak-ng" in lines[1]
