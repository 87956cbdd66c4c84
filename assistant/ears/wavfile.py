"""Reading WAV files as recorders and editors write them, not only as the `wave` module does.

Python's `wave` reads integer PCM with the plain header only. Recordings that people bring are
often 24-bit with the extensible header (field recorders, sox, most audio interfaces), 32-bit
float (Audacity's default), or A-law / mu-law (telephony). All of them are read here, by walking
the file's RIFF chunks, into float samples on the 16-bit scale.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

PCM, FLOAT, ALAW, MULAW, EXTENSIBLE = 1, 3, 6, 7, 0xFFFE
"""Format tags of the `fmt ` chunk that are read (EXTENSIBLE names one of the others inside)."""

CONVERT_HINT = "convert it with `sox IN.wav -b 16 OUT.wav`"


class WavError(ValueError):
    """A file that is not a WAV file this module can read; the message says why."""


def read_samples(path: str | Path) -> tuple[np.ndarray, int, int]:
    """(samples, sample rate, channels) of a WAV file: float64 on the 16-bit scale, channels
    interleaved as in the file."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]  # a recording cut short keeps what it has
        if chunk == b"fmt ":
            fmt = _format(body)
        elif chunk == b"data":
            if fmt is None:
                raise WavError("its data comes before its format chunk")
            tag, channels, rate, bits = fmt
            return _decode(body, tag, bits), rate, channels
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    raise WavError("no audio data in it" if fmt is not None else "no format chunk in it")


def _format(body: bytes) -> tuple[int, int, int, int]:
    """(format tag, channels, rate, bits per sample) of a `fmt ` chunk; extensible resolved."""
    if len(body) < 16:
        raise WavError("its format chunk is too short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == EXTENSIBLE:
        if len(body) < 40:
            raise WavError("its extensible format chunk is too short")
        tag = struct.unpack_from("<H", body, 24)[0]  # the sub-format GUID starts with the tag
    if channels < 1 or rate < 1:
        raise WavError(f"it claims {channels} channels at {rate} Hz")
    return tag, channels, rate, bits


def _decode(raw: bytes, tag: int, bits: int) -> np.ndarray:
    width = (bits + 7) // 8
    raw = raw[: len(raw) // max(width, 1) * width]
    if tag == PCM and width == 1:
        return (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    if tag == PCM and width == 2:
        return np.frombuffer(raw, "<i2").astype(np.float64)
    if tag == PCM and width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        return ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8).astype(np.float64) / 256.0
    if tag == PCM and width == 4:
        return np.frombuffer(raw, "<i4").astype(np.float64) / 65536.0
    if tag == FLOAT and width in (4, 8):
        x = np.frombuffer(raw, "<f4" if width == 4 else "<f8").astype(np.float64)
        return np.nan_to_num(x) * 32768.0
    if tag in (ALAW, MULAW) and width == 1:
        table = _ALAW if tag == ALAW else _MULAW
        return table[np.frombuffer(raw, np.uint8)]
    names = {PCM: "integer", FLOAT: "float", ALAW: "A-law", MULAW: "mu-law"}
    kind = names.get(tag, f"format {tag}")
    raise WavError(f"{bits}-bit {kind} samples are not supported: {CONVERT_HINT}")


def _g711_tables() -> tuple[np.ndarray, np.ndarray]:
    """Every byte's 16-bit value in A-law and in mu-law (ITU-T G.711)."""
    alaw, mulaw = np.zeros(256), np.zeros(256)
    for byte in range(256):
        a = byte ^ 0x55
        exponent, mantissa = (a >> 4) & 7, a & 0x0F
        magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
        alaw[byte] = magnitude if a & 0x80 else -magnitude
        u = ~byte & 0xFF
        exponent, mantissa = (u >> 4) & 7, u & 0x0F
        magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
        mulaw[byte] = -magnitude if u & 0x80 else magnitude
    return alaw, mulaw


_ALAW, _MULAW = _g711_tables()
