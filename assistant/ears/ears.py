"""`ListeningEars`: the listening pipeline on its own thread, behind `assistant.devices.Ears`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from assistant.ears.listener import CueListener
from assistant.ears.microphone import AudioSource
from assistant.ears.spotter import CueSpotter
from assistant.ears.vad import EnergyVad, VadConfig
from assistant.ears.worker import SpotterProcess
from assistant.errors import AssistantError
from assistant.events import DeviceLost, Event

_LOGGER = logging.getLogger(__name__)


class ListeningEars:
    """Reads an audio source on a daemon thread and posts speech and cue events."""

    def __init__(
        self,
        source: AudioSource,
        post: Callable[[Event], None],
        spotter: CueSpotter | None = None,
        floor_db: float | None = None,
        barge_in: bool = True,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self._source = source
        self._post = post
        self._on_end = on_end
        vad = EnergyVad(VadConfig())
        if floor_db is not None:
            vad.calibrate(floor_db)
        self._own_spotter: SpotterProcess | None = None
        if spotter is None:
            # Our own spotter decodes in a worker process, away from this process's audio callbacks.
            spotter = self._own_spotter = SpotterProcess()
        self.listener = CueListener(spotter, post, vad, barge_in=barge_in)
        self._stop = threading.Event()
        self.finished = threading.Event()
        """Set when the thread has ended (end of a file, close, or a lost device)."""
        self._thread = threading.Thread(target=self._run, name="ears", daemon=True)

    def start(self) -> ListeningEars:
        """Begin listening; returns self."""
        self._thread.start()
        return self

    def listen_for(self, cues: frozenset[str]) -> None:
        """Only these cues are worth acting on now; an empty set means listen for none."""
        self.listener.listen_for(cues)

    def set_voice_playing(self, playing: bool, line: str = "") -> None:
        """The assistant's own voice is (or stopped) playing `line`: what is heard of it is not a cue."""
        self.listener.set_voice_playing(playing, line)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._source.read(timeout=0.2)
                if chunk is None:
                    self.listener.finish()
                    break
                if len(chunk):
                    self.listener.feed(chunk)
        except AssistantError as exc:
            _LOGGER.warning("microphone lost: %s", exc)
            self._post(DeviceLost("microphone", str(exc)))
        except Exception as exc:  # a device thread must report, never die silently
            _LOGGER.exception("ears stopped")
            self._post(DeviceLost("microphone", f"listening stopped: {exc}"))
        finally:
            self.finished.set()
            if self._on_end is not None:
                self._on_end()

    def wait(self, timeout: float) -> bool:
        """Wait for the source to run out; True if it did within `timeout` seconds."""
        return self.finished.wait(timeout)

    def close(self) -> None:
        """Stop listening and release the microphone."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._source.close()
        if self._own_spotter is not None:
            self._own_spotter.close()
