"""Speech out: eSpeak NG (through pyttsx3) rendered to PCM, an interruptible player, chimes.

`commands.open_voice` builds the real voice; `fakes.FakeAudioOut` stands in for a speaker in tests.
Device libraries are imported only inside `tts.py` (pyttsx3) and `pyaudio_out.py` (PyAudio).
"""

from __future__ import annotations

from assistant.voice.espeak_voice import EspeakVoice
from assistant.voice.fakes import FakeAudioOut, FakeRenderer
from assistant.voice.player import AudioOut, NullAudioOut
from assistant.voice.tts import VoiceSettings

__all__ = ["AudioOut", "EspeakVoice", "FakeAudioOut", "FakeRenderer", "NullAudioOut", "VoiceSettings"]
