"""Every voice engine behind one `VoiceEngine`: the settings' `engine:voice` name picks the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from assistant.errors import DeviceError
from assistant.voice.player import Clip
from assistant.voice.tts import ENGINES, NoSuchVoice, VoiceEngine, VoiceInfo, VoiceSettings

EngineFactory = Callable[[], VoiceEngine]


def _hibari() -> VoiceEngine:
    from assistant.voice.hibari_voice import HibariEngine

    return HibariEngine()


def _piper() -> VoiceEngine:
    from assistant.voice.piper_voice import PiperEngine

    return PiperEngine()


def _espeak() -> VoiceEngine:
    from assistant.voice.espeak_voice import EspeakEngine

    return EspeakEngine.shared()


FACTORIES: dict[str, EngineFactory] = {"hibari": _hibari, "piper": _piper, "espeak": _espeak}
"""How each engine in `tts.ENGINES` is made; each imports its library only when first used."""
assert FACTORIES.keys() == ENGINES.keys()


class Engines:
    """A `VoiceEngine` that hands each render to the engine the settings name, made on first use.

    An engine that fails to load raises the same DeviceError every time it is asked for, and is
    not tried again.
    """

    def __init__(self, factories: Mapping[str, EngineFactory] | None = None) -> None:
        self._factories = dict(FACTORIES if factories is None else factories)
        self._loaded: dict[str, VoiceEngine] = {}
        self._failed: dict[str, DeviceError] = {}
        self._current: VoiceEngine | None = None

    @property
    def names(self) -> list[str]:
        """The engines' names, the preferred first."""
        return list(self._factories)

    def engine(self, name: str) -> VoiceEngine:
        """Engine `name`, made now if need be; raises DeviceError if it is unknown or cannot load."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._failed:
            raise self._failed[name]
        factory = self._factories.get(name)
        if factory is None:
            raise NoSuchVoice(f"no voice engine {name!r}; the engines are {', '.join(self._factories)}")
        try:
            engine = factory()
        except DeviceError as error:
            self._failed[name] = error
            raise
        self._loaded[name] = engine
        return engine

    def configure(self, settings: VoiceSettings) -> None:
        """Make the settings' engine the current one and configure it."""
        engine = self.engine(settings.engine)
        engine.configure(settings)
        self._current = engine

    def render(self, text: str, clip: Clip) -> bool:
        """Render with the engine configured last."""
        assert self._current is not None, "configure first"
        return self._current.render(text, clip)

    def voices(self) -> list[VoiceInfo]:
        """Every voice of every engine that loads, as `engine:voice`."""
        found = []
        for name in self._factories:
            try:
                found.extend(self.voices_of(name))
            except DeviceError:
                continue
        return found

    def voices_of(self, name: str) -> list[VoiceInfo]:
        """Engine `name`'s voices as `engine:voice`; raises DeviceError if it cannot load."""
        return [
            VoiceInfo(id=f"{name}:{voice.id}", name=voice.name, languages=voice.languages)
            for voice in self.engine(name).voices()
        ]
