"""Speech out: voice engines rendering to PCM, an interruptible player, chimes.

`commands.open_voice` builds the real voice; `fakes.FakeAudioOut` stands in for a speaker in tests.
Each engine's library is imported only in its own module (`hibari_voice.py`: hibari-tts,
`piper_voice.py`: Piper, `espeak_voice.py`: pyttsx3), and PyAudio only in `pyaudio_out.py`.
"""

from __future__ import annotations

from assistant.voice.fakes import FakeAudioOut, FakeRenderer
from assistant.voice.player import AudioOut, NullAudioOut
from assistant.voice.rendered import RenderedVoice
from assistant.voice.tts import VoiceSettings

__all__ = ["AudioOut", "FakeAudioOut", "FakeRenderer", "NullAudioOut", "RenderedVoice", "VoiceSettings"]
