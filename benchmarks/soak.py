"""Hours of real talk through the session's ears: does anything grow?

    .venv/bin/python benchmarks/soak.py TALK [TALK ...] [--hours 3] [--every-min 15]

An evening's session listens for an hour or more. This feeds the real talk files under the TALK
folders (the cue benchmark's `--conversation` sets, see README "Figures") through one
`CueListener` and the worker process a session runs (`SpotterProcess`), as one stream: the
files one after another, over and over until `--hours` of audio have been heard, with a second of
room noise between files and, after each file, two seconds in which the assistant's voice plays.
The listening set changes with every file, through the sets the session's states listen for.
Audio is fed as fast as the decoders take it, not in real time.

Every `--every-min` minutes of audio it reads the resident memory (VmRSS) of this process and of
the worker, and the CPU the worker has used. It prints one line per reading, then one JSON
object with each process's growth per hour of audio after the first reading (a least-squares
slope; the first reading includes loading the model and the caches filling). Cues heard are
counted but are not the point here: `benchmarks/cues.py --conversation` measures those.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ears.listener import CueListener  # noqa: E402
from assistant.ears.microphone import read_wav  # noqa: E402
from assistant.ears.vad import RATE  # noqa: E402
from assistant.ears.worker import SpotterProcess  # noqa: E402
from benchmarks.cues import session_listen_sets  # noqa: E402

CHUNK = 320
"""Samples per microphone read (20 ms), as `PyAudioMicrophone` delivers them."""
PAUSE_S = 1.0
VOICE_S = 2.0


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Reading:
    audio_min: float
    rss_mb: dict[str, float]
    worker_cpu_s: float
    segments: int
    cues: int


@dataclass
class Soak:
    """One listener and its worker processes, fed stretch after stretch."""

    worker: SpotterProcess
    listener: CueListener = field(init=False)
    segments: int = 0
    fed: int = 0
    """Samples fed so far."""

    def __post_init__(self) -> None:
        self.listener = CueListener(self.worker, lambda event: None, on_verdict=self._count)

    def _count(self, segment: object, verdict: object) -> None:
        self.segments += 1

    def feed(self, samples: np.ndarray) -> None:
        for i in range(0, len(samples), CHUNK):
            self.listener.feed(samples[i : i + CHUNK])
        self.fed += len(samples)

    def reading(self) -> Reading:
        pids = {"session": os.getpid(), "cue-spotter": self.worker.pid or 0}
        return Reading(
            round(self.fed / RATE / 60.0, 1),
            {name: round(rss_mb(pid), 1) for name, pid in pids.items()},
            round(sum(cpu_s(pid) for name, pid in pids.items() if name != "session"), 1),
            self.segments,
            len(self.listener.heard),
        )


def slope_per_hour(readings: list[Reading], name: str) -> float:
    """Least-squares growth of one process's memory, MB per hour of audio, after the first reading."""
    later = readings[1:]
    if len(later) < 2:
        return float("nan")
    hours = np.array([r.audio_min / 60.0 for r in later])
    mb = np.array([r.rss_mb[name] for r in later])
    return float(np.polyfit(hours, mb, 1)[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", metavar="TALK", help="folders of real talk (WAV files)")
    parser.add_argument("--hours", type=float, default=3.0, help="hours of audio to hear (default 3)")
    parser.add_argument("--every-min", type=float, default=15.0, help="minutes of audio between readings")
    args = parser.parse_args(argv)
    files = sorted(path for folder in args.folders for path in folder.rglob("*.wav"))
    if not files:
        parser.error("no WAV files under " + ", ".join(map(str, args.folders)))
    sets = list(session_listen_sets().values())
    rng = np.random.default_rng(0)
    quiet = np.round(rng.standard_normal(round(PAUSE_S * RATE)) * 30).astype(np.int16)
    voice = np.round(rng.standard_normal(round(VOICE_S * RATE)) * 30).astype(np.int16)
    started = time.monotonic()
    soak = Soak(SpotterProcess())
    readings: list[Reading] = []
    try:
        soak.feed(quiet)
        readings.append(soak.reading())
        print(_line(readings[-1]), flush=True)
        n = 0
        while soak.fed < args.hours * 3600 * RATE:
            soak.listener.listen_for(sets[n % len(sets)])
            soak.feed(read_wav(files[n % len(files)]))
            soak.feed(quiet)
            soak.listener.set_voice_playing(True)  # our own line: its spans are kept, then forgotten
            soak.feed(voice)
            soak.listener.set_voice_playing(False)
            n += 1
            if soak.fed / RATE / 60.0 >= readings[-1].audio_min + args.every_min:
                readings.append(soak.reading())
                print(_line(readings[-1]), flush=True)
        soak.listener.finish()
        readings.append(soak.reading())
        print(_line(readings[-1]), flush=True)
    finally:
        soak.worker.close()
    summary = {
        "audio_hours": round(soak.fed / RATE / 3600.0, 2),
        "files_heard": n,
        "wall_minutes": round((time.monotonic() - started) / 60.0, 1),
        "rss_mb_first": readings[0].rss_mb,
        "rss_mb_last": readings[-1].rss_mb,
        "growth_mb_per_audio_hour": {name: round(slope_per_hour(readings, name), 2) for name in readings[0].rss_mb},
        "worker_cpu_per_audio_s": round(readings[-1].worker_cpu_s / max(soak.fed / RATE, 1.0), 4),
        "segments": soak.segments,
        "cues_heard": readings[-1].cues,
    }
    print(json.dumps(summary))
    return 0


def _line(r: Reading) -> str:
    memory = ", ".join(f"{name} {mb:.1f} MB" for name, mb in r.rss_mb.items())
    counts = f"workers' CPU {r.worker_cpu_s:.1f} s; {r.segments} segments judged, {r.cues} cues"
    return f"{r.audio_min:7.1f} min of audio: {memory}; {counts}"


if __name__ == "__main__":
    raise SystemExit(main())
