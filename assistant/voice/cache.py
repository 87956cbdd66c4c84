"""Rendered speech of the programme's own lines, kept by content hash so a repeat plays at once.

Only text the assistant itself speaks is ever cached; nothing from the microphone comes here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

FORMAT_VERSION = "pcm-22050-s16le-2"
"""Part of every key, so a change of renderer or format never plays stale audio."""


def cache_key(text: str, voice: str, rate: int, volume: float) -> str:
    """Content hash of everything that changes the rendered sound."""
    material = "\x1f".join((FORMAT_VERSION, voice, str(rate), f"{volume:.3f}", text))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class RenderCache:
    """Least-recently-used PCM in memory, optionally mirrored in a private folder on disk."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, folder: Path | None = None) -> None:
        self.max_bytes = max_bytes
        """Bytes of PCM kept in memory before the oldest entries go."""
        self.folder = folder
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        if folder is not None:
            # The folder holds only our own rendered lines, but keep it private all the same.
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)

    def get(self, key: str) -> bytes | None:
        """Cached PCM for `key`, or None."""
        with self._lock:
            pcm = self._entries.get(key)
            if pcm is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return pcm
        pcm = self._read_disk(key)
        with self._lock:
            if pcm is None:
                self.misses += 1
                return None
            self.hits += 1
            self._remember(key, pcm)
        return pcm

    def put(self, key: str, pcm: bytes) -> None:
        """Keep `pcm` under `key`."""
        with self._lock:
            self._remember(key, pcm)
        self._write_disk(key, pcm)

    def _remember(self, key: str, pcm: bytes) -> None:
        if key in self._entries:
            self._size -= len(self._entries.pop(key))
        self._entries[key] = pcm
        self._size += len(pcm)
        while self._size > self.max_bytes and len(self._entries) > 1:
            _, old = self._entries.popitem(last=False)
            self._size -= len(old)

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{key}.pcm"

    def _read_disk(self, key: str) -> bytes | None:
        if self.folder is None:
            return None
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            _LOGGER.exception("could not read the voice cache")
            return None

    def _write_disk(self, key: str, pcm: bytes) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(pcm)
            os.replace(temporary, path)  # readers never see half a file
        except OSError:
            _LOGGER.exception("could not write the voice cache")
            temporary.unlink(missing_ok=True)
