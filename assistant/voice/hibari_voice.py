"""`HibariEngine`: hibari-tts, a small offline neural voice distilled from Kokoro-82M, bundled voices only.

hibari would download its other voices on first use. That never happens here: only voices whose
model file is inside the installed package (and whose SHA-256 we pinned) are offered or loaded,
hibari's download function is replaced by one that refuses, and onnxruntime and the hub libraries
are told to stay offline before anything is imported (`tts.keep_offline`). This module is the
only one that imports hibari.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant.errors import DeviceError
from assistant.pinned import check_pinned
from assistant.voice.pcm import RATE, from_float, resample
from assistant.voice.player import Clip
from assistant.voice.tts import NoSuchVoice, VoiceInfo, VoiceSettings, keep_offline, pieces, stream_into

_LOGGER = logging.getLogger(__name__)

INSTALL_HIBARI = "hibari-tts is not installed: run `pip install hibari-tts==0.2.1` (or scripts/setup)"
REINSTALL_HIBARI = "reinstall it with `pip install --force-reinstall hibari-tts==0.2.1`"

MODELS: dict[str, str] = {"heart": "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8"}
"""SHA-256 of each voice model that ships inside hibari-tts 0.2.1; no other voice is ever used."""
SAMPLE_RATE = 24000
"""Samples per second of hibari's output (resampled to `pcm.RATE`)."""
NATURAL_RATE = 173.0
"""The `--rate` that hibari's own pace (speed 1.0) matches: over the built-in programme's lines,
eSpeak NG at 150 and hibari at speed 150 / 173 both speak about 161 words a minute, pauses included."""
SPEEDS = (0.5, 2.0)
"""The speeds hibari accepts: rates 87 to 346; a rate outside is held to the nearest."""
LOUDNESS = 1.68
"""Gain that puts hibari's speech at eSpeak NG's loudness, so the chimes sound as loud beside it."""
SEED = 0
"""hibari adds random noise to each render; a fixed seed makes a line always sound the same."""


_LETTER_A = re.compile(r"(?<=\w )A\b(?!')")
"""A capital A after a word, as in "Partner A had the floor": the letter, not the article."""


def letters_said_as_letters(text: str) -> str:
    """`text` with a name's letter A marked for hibari, which would read it as the article ("ə")."""
    return _LETTER_A.sub("[A](/ˈA/)", text)


def _refuse_download(url: str, dest: str, sha256: str) -> str:
    raise DeviceError(f"hibari wanted to download {url}; this assistant never downloads anything")


class HibariEngine:
    """The voices that ship inside hibari-tts; models load on first use, each checked by SHA-256."""

    def __init__(self, threads: int = 1, models: Mapping[str, str] = MODELS) -> None:
        keep_offline()
        try:
            import hibari.voices
            from hibari import Hibari
        except ImportError as error:
            raise DeviceError(INSTALL_HIBARI) from error
        hibari.voices.download = _refuse_download
        self._make: Any = Hibari
        self._registry: dict[str, dict[str, Any]] = hibari.voices.VOICES
        self._assets = Path(hibari.voices.ASSETS)
        self._threads = threads
        self._pinned = dict(models)
        self._models: dict[str, Any] = {}
        self._model: Any = None
        self._speed = 1.0
        self._gain = LOUDNESS

    def voices(self) -> list[VoiceInfo]:
        """The bundled voices: those whose model is in the package and pinned here."""
        found = []
        for name, entry in self._registry.items():
            if name in self._pinned and entry.get("bundled") and (self._assets / entry["file"]).is_file():
                description = f"{entry['accent']} {entry['gender']}, distilled from Kokoro {entry['kokoro']}"
                found.append(VoiceInfo(id=name, name=description, languages=(str(entry["language"]).lower(),)))
        return found

    def configure(self, settings: VoiceSettings) -> None:
        """Load the voice (once) and set its speed and volume; DeviceError for a voice not bundled."""
        self._model = self._load(settings.engine_voice)
        low, high = SPEEDS
        speed = settings.rate / NATURAL_RATE
        if not low <= speed <= high:
            _LOGGER.warning(
                "hibari speaks at %d to %d words a minute: %d cannot be honoured, so the nearest is used",
                low * NATURAL_RATE,
                high * NATURAL_RATE,
                settings.rate,
            )
        self._speed = min(max(speed, low), high)
        self._gain = LOUDNESS * settings.volume

    def render(self, text: str, clip: Clip) -> bool:
        """Stream `text` into `clip` one sentence at a time, so the first is heard at once."""
        model = self._model
        assert model is not None, "configure first"
        chunks = (
            resample(from_float(audio, self._gain), SAMPLE_RATE, RATE)
            for piece in pieces(text)
            for audio in model.stream(letters_said_as_letters(piece), speed=self._speed, seed=SEED)
        )
        return stream_into(clip, chunks)

    def _load(self, name: str) -> Any:
        if name in self._models:
            return self._models[name]
        entry = self._registry.get(name)
        if name not in self._pinned or entry is None or not entry.get("bundled"):
            bundled = ", ".join(voice.id for voice in self.voices()) or "none"
            raise NoSuchVoice(
                f"hibari has no bundled voice {name!r} (bundled: {bundled}); "
                "its other voices would be downloaded, which this assistant never does"
            )
        path = self._assets / entry["file"]
        check_pinned(path, self._pinned[name], "hibari's voice model", REINSTALL_HIBARI)
        try:
            model = self._make(voice=name, model=str(path), threads=self._threads)
            list(model.stream("Ready.", seed=SEED))  # loads the lexicon and warms the model now, not on the first line
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own types
            raise DeviceError(f"hibari could not load its voice {name!r}: {error}") from error
        self._models[name] = model
        return model
