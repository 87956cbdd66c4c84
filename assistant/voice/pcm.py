"""16-bit mono PCM at one sample rate: the only audio format inside the voice package."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22050
"""Samples per second. eSpeak NG renders at 22050 Hz, so chimes and recordings use it too."""
SAMPLE_WIDTH = 2
"""Bytes per sample (signed 16-bit, little endian)."""
CHUNK_SECONDS = 0.02
"""Size of one buffer handed to the device: small, so a stop is heard within a buffer or two."""
CHUNK_BYTES = int(RATE * CHUNK_SECONDS) * SAMPLE_WIDTH


def seconds(pcm: bytes | bytearray | int) -> float:
    """Duration of `pcm` (or of that many bytes) in seconds."""
    size = pcm if isinstance(pcm, int) else len(pcm)
    return size / SAMPLE_WIDTH / RATE


def silence(duration: float) -> bytes:
    """`duration` seconds of digital silence."""
    return bytes(max(0, round(duration * RATE)) * SAMPLE_WIDTH)


def scale(pcm: bytes, gain: float) -> bytes:
    """`pcm` multiplied by `gain`, clipped to the 16-bit range."""
    if gain == 1.0:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * gain
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Linear-interpolation resampling: good enough for speech and soft tones."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    count = max(1, round(len(samples) * to_rate / from_rate))
    positions = np.linspace(0, len(samples) - 1, count)
    return np.interp(positions, np.arange(len(samples)), samples).astype("<i2").tobytes()


def read_wav(path: Path) -> bytes:
    """PCM of a 16-bit WAV file, mixed to mono and resampled to `RATE`."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError(f"{path}: expected 16-bit samples, got {8 * wav.getsampwidth()}-bit")
        channels, rate = wav.getnchannels(), wav.getframerate()
        data = wav.readframes(wav.getnframes())
    if channels > 1:
        frames = np.frombuffer(data, dtype="<i2").reshape(-1, channels).astype(np.int32)
        data = frames.mean(axis=1).astype("<i2").tobytes()
    return resample(data, rate, RATE)


def write_wav(path: Path, pcm: bytes, rate: int = RATE) -> None:
    """Write `pcm` as a 16-bit mono WAV file at `rate` (the voice's own, unless told)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(pcm)


def peak(pcm: bytes) -> float:
    """Largest absolute sample as a fraction of full scale (0.0 to 1.0)."""
    if not pcm:
        return 0.0
    return float(np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32)).max()) / 32768


LIMIT_KNEE = 0.7
"""Fraction of full scale above which `from_float` bends peaks down instead of clipping them."""


def without_leading_silence(pcm: bytes, keep: float = 0.02, below: int = 100) -> bytes:
    """`pcm` from `keep` seconds before its first sample louder than `below` (about -50 dBFS);
    empty when none is."""
    samples = np.frombuffer(pcm, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > below)
    if not len(loud):
        return b""
    return samples[max(0, int(loud[0]) - round(keep * RATE)) :].tobytes()


def from_float(samples: np.ndarray, gain: float = 1.0) -> bytes:
    """Float samples (full scale 1.0) times `gain` as 16-bit PCM; peaks above the knee are
    compressed smoothly towards full scale, so a loud engine is made louder without clipping."""
    scaled = np.asarray(samples, dtype=np.float32) * gain
    magnitude = np.abs(scaled)
    over = magnitude > LIMIT_KNEE
    if over.any():
        room = 1.0 - LIMIT_KNEE
        bent = LIMIT_KNEE + room * np.tanh((magnitude[over] - LIMIT_KNEE) / room)
        scaled[over] = np.sign(scaled[over]) * bent
    return (scaled * 32767).astype("<i2").tobytes()
