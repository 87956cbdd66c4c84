"""Does decoding starve the speaker? Dropouts in a tone played while cues are being decoded.

    .venv/bin/python benchmarks/dropouts.py [--seconds 6] [--buffers-ms 10,20]

A private PulseAudio (tests/soundserver.py, with room noise in the microphone and the speaker
recorded on the stereo tap, as `scripts/bench latency` does: a null sink that nothing keeps busy
runs slower than real time at low latencies) plays a 440 Hz tone through `PyAudioOut` while a
thread keeps the spotter busy, as a session's ears are while a partner speaks: it judges a
spoken "I'm finished" (every decoding pass runs) every 0.1 s. The speaker's monitor is recorded;
a dropout is a run of more than 3 zero samples inside the tone, which is 1-5 ms of silence that
a real speaker turns into a click. Compared: no decoding, the spotter in this process
(a decode keeps a core busy while our audio callback needs one), and the
spotter in its worker process (`assistant/ears/worker.py`). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.ears.microphone import read_wav  # noqa: E402
from assistant.ears.spotter import CueSpotter, WhisperCueSpotter  # noqa: E402
from assistant.ears.vad import Segment, segments  # noqa: E402
from assistant.ears.worker import SpotterProcess  # noqa: E402
from assistant.voice import pyaudio_out  # noqa: E402
from assistant.voice.pcm import RATE as VOICE_RATE  # noqa: E402
from tests.soundserver import PrivateSoundServer, SoundServerUnavailable  # noqa: E402


def spoken_segment(work: Path) -> Segment:
    """ "I'm finished" from eSpeak NG, cut by the endpointer as the session would."""
    wav = work / "finished.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "I'm finished"], check=True, capture_output=True)
    quiet = np.round(np.random.default_rng(1).standard_normal(16000) * 20).astype(np.int16)
    stream = np.concatenate([quiet, read_wav(wav), quiet])
    for segment in segments(stream):
        return segment
    raise RuntimeError("the endpointer found no speech in the eSpeak clip")


def dropouts(recording: np.ndarray) -> int:
    """Runs of more than 3 zero samples between the tone's first and last sound."""
    loud = np.flatnonzero(recording != 0)
    if len(loud) == 0:
        return 0
    inside = recording[loud[0] : loud[-1] + 1] == 0
    # Edges of zero runs: +1 where a run starts, -1 after it ends.
    edges = np.diff(np.concatenate([[0], inside.astype(np.int8), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int(np.sum(lengths > 3))


def play_tone(server: PrivateSoundServer, seconds: float, spotter: CueSpotter | None, segment: Segment) -> int:
    """Dropouts in `seconds` of tone while `spotter` (if any) judges `segment` back to back."""
    tap = server.record_tap()
    tap.wait_until_running()
    first = tap.frames
    busy = threading.Event()
    judged = [0]

    def keep_busy() -> None:
        while busy.is_set():
            if spotter is not None:
                spotter.judge(segment)
                judged[0] += 1
            time.sleep(0.1)

    speaker = pyaudio_out.PyAudioOut()
    worker = threading.Thread(target=keep_busy, daemon=True)
    try:
        time.sleep(0.5)  # the recorder and the stream settle
        t = np.arange(int(seconds * VOICE_RATE)) / VOICE_RATE
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).tobytes()
        busy.set()
        worker.start()
        step = int(0.05 * VOICE_RATE) * 2
        for i in range(0, len(tone), step):
            speaker.write(tone[i : i + step])
        speaker.drain()
    finally:
        busy.clear()
        worker.join(timeout=5)
        speaker.close()
        time.sleep(0.3)
        tap.stop()
    return dropouts(tap.samples(first)[:, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the tone (default 6)")
    parser.add_argument("--buffers-ms", default="10,20", help="speaker buffer sizes to try (default 10,20)")
    args = parser.parse_args(argv)
    figures: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="dropouts-") as folder:
        work = Path(folder)
        server = PrivateSoundServer(work / "pulse", tap=True)
        try:
            server.start()
            server.room_noise()
        except SoundServerUnavailable as error:
            sys.exit(f"dropouts: {error}")
        try:
            os.environ.update({k: v for k, v in server.env.items() if k.startswith("PULSE_")})
            segment = spoken_segment(work)
            here = WhisperCueSpotter()
            there = SpotterProcess()
            try:
                for buffer_ms in (int(b) for b in args.buffers_ms.split(",")):
                    pyaudio_out.BUFFER_SECONDS = buffer_ms / 1000
                    for name, spotter in (("no decoding", None), ("in this process", here), ("worker process", there)):
                        n = play_tone(server, args.seconds, spotter, segment)
                        figures[f"{buffer_ms}ms/{name}"] = n
                        print(f"{buffer_ms:3d} ms buffers, {name:16s}: {n:3d} dropouts in {args.seconds:g} s")
            finally:
                there.close()
        finally:
            server.stop()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
