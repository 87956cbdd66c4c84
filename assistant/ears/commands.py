"""What `assistant cues`, `assistant calibrate` and session start call; cli.py only wires these."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from assistant.devices import Ears
from assistant.ears.calibrate import measure, noise_floor_db, speech_threshold_db
from assistant.ears.ears import ListeningEars
from assistant.ears.listener import CueListener, Heard
from assistant.ears.microphone import PyAudioMicrophone, WavFileMicrophone, read_wav
from assistant.ears.spotter import CueSpotter, Verdict
from assistant.ears.vad import RATE, Segment
from assistant.ears.vocabulary import CUE_PHRASES
from assistant.ears.worker import SpotterProcess
from assistant.errors import DeviceError
from assistant.events import Event


def calibration_path() -> Path:
    """Where the measured noise floor (one number, in dB) is kept between runs."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "assistant" / "noise_floor_db"


def load_floor() -> float | None:
    """The stored noise floor, or None when the room was never calibrated (or the file is bad)."""
    try:
        return float(calibration_path().read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _listener(
    only: list[str] | None,
    spotter: CueSpotter,
    post: Callable[[Event], None],
    on_verdict: Callable[[Segment, Verdict], None] | None,
) -> CueListener:
    cues = frozenset(only) if only is not None else frozenset(CUE_PHRASES)
    spotter.listen_for(cues)
    return CueListener(spotter, post, on_verdict=on_verdict)


def spot_file(path: str, only: list[str] | None = None, spotter: CueSpotter | None = None) -> list[Heard]:
    """Every cue the recognizer would act on in this WAV file, in order."""
    return spot_samples(read_wav(path), only, spotter)


def spot_samples(
    samples: np.ndarray,
    only: list[str] | None = None,
    spotter: CueSpotter | None = None,
    post: Callable[[Event], None] = lambda event: None,
    on_verdict: Callable[[Segment, Verdict], None] | None = None,
) -> list[Heard]:
    """Every cue the recognizer would act on in 16 kHz int16 audio; times are into `samples`.
    The listener's events (speech, cues, near misses) go to `post`, and the spotter's verdict on
    each segment, cue or not, to `on_verdict`."""
    if spotter is None:
        from assistant.ears.spotter import WhisperCueSpotter

        spotter = WhisperCueSpotter()
    listener = _listener(only, spotter, post, on_verdict)
    for chunk in padded(samples):
        listener.feed(chunk)
    listener.finish()
    return [
        Heard(
            dataclasses.replace(h.detection, end_s=round(h.detection.end_s - PAD_S, 3)),
            round(max(h.decided_s - PAD_S, 0.0), 3),
            h.compute_s,
        )
        for h in listener.heard
    ]


PAD_S = 0.5
"""Room noise added before and after a file, so a file that starts or ends mid-word still gives
the endpointer a quiet floor to learn, an onset and a closing pause."""


def padded(samples: np.ndarray) -> list[np.ndarray]:
    """The file between two stretches of noise at the file's own noise floor."""
    floor = noise_floor_db(samples) if len(samples) >= 1600 else 0.0
    rms = math.sqrt(max(10 ** (floor / 10) - 1.0, 0.0))
    rng = np.random.default_rng(0)  # fixed: the same file always gives the same answer
    n = int(PAD_S * RATE)
    pad = [np.round(rng.standard_normal(n) * rms).astype(np.int16) for _ in range(2)]
    return [pad[0], samples, pad[1]]


def cues_command(files: list[str], only: list[str] | None, continuous: bool, out: TextIO) -> int:
    """`assistant cues FILE...`: one JSON line per file (or per cue with `continuous`). The
    recognizer runs in its worker process, as in a session."""
    if only:
        unknown = sorted(set(only) - set(CUE_PHRASES))
        if unknown:
            print(f"assistant cues: unknown cue(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
    try:
        spotter = SpotterProcess()
    except DeviceError as exc:
        print(f"assistant cues: {exc}", file=sys.stderr)
        return 1
    status = 0
    try:
        for path in files:
            try:
                heard = spot_file(path, only, spotter)
            except DeviceError as exc:
                print(f"assistant cues: {exc}", file=sys.stderr)
                status = 2
                continue
            if continuous:
                for h in heard:
                    d = h.detection
                    row = {
                        "file": path,
                        "cue": d.cue,
                        "phrase": d.phrase,
                        "confidence": d.confidence,
                        "at_s": round(h.decided_s, 2),
                    }
                    out.write(json.dumps(row) + "\n")
            else:
                # A file is one utterance: report the most confident cue in it, if any.
                best = max(heard, key=lambda h: h.detection.confidence, default=None)
                row = {
                    "file": path,
                    "cue": best.detection.cue if best else None,
                    "phrase": best.detection.phrase if best else None,
                    "confidence": best.detection.confidence if best else None,
                }
                out.write(json.dumps(row) + "\n")
            out.flush()
    finally:
        spotter.close()
    return status


def calibrate_command(out: TextIO, seconds: float = 3.0) -> int:
    """`assistant calibrate`: measure the quiet room, print and keep the noise floor."""
    try:
        mic = PyAudioMicrophone()
    except DeviceError as exc:
        print(f"assistant calibrate: {exc}", file=sys.stderr)
        return 1
    try:
        out.write(f"Measuring room noise for {seconds:g} seconds; please stay quiet...\n")
        out.flush()
        floor = measure(mic, seconds)
    except (DeviceError, ValueError) as exc:
        print(f"assistant calibrate: {exc}", file=sys.stderr)
        return 1
    finally:
        mic.close()
    path = calibration_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{floor:.1f}\n", encoding="utf-8")
    except OSError as exc:
        print(f"assistant calibrate: cannot save {path}: {exc}", file=sys.stderr)
        return 1
    out.write(
        f"Noise floor {floor:.1f} dB; speech counts above {speech_threshold_db(floor):.1f} dB. Saved to {path}.\n"
    )
    return 0


def open_ears(post: Callable[[Event], None]) -> Ears:
    """The real microphone ears, started; DeviceError says what to install or check."""
    mic = PyAudioMicrophone()
    try:
        return ListeningEars(mic, post, floor_db=load_floor()).start()
    except Exception:
        mic.close()
        raise


def open_file_ears(path: str, post: Callable[[Event], None], realtime: bool = True) -> ListeningEars:
    """Ears listening to a WAV file instead of the microphone (tests, demos), started."""
    return ListeningEars(WavFileMicrophone(path, realtime=realtime), post).start()
