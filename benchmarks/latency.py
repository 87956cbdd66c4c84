"""Latency as a person feels it: from the end of a spoken cue to the first sound of the answer.

    scripts/bench latency [--cues N] [--quick] [--timeout S] [--words go,yes,no,stop]

Method. A private PulseAudio (tests/soundserver.py, `tap=True`) builds the laptop's microphone
feed and speaker as the two channels of one stereo null sink, `tap`: what goes into the
microphone is its left channel and what the assistant plays is its right channel, sample for
sample on the sink's one clock, recorded by one parec. The real `assistant run --verbose` runs on
that server with a programme of many short steps, each asking "ready?" (`programme_text`), so
every state it waits in answers a real cue by speaking: "go" (the cue `next`) and "yes" move on
and the next line is said, "no" at a step's question is answered that the step can wait, and
"stop" ends the session with a spoken goodbye (once a run; then a new run starts). Entering a
talk round, the answer begins with a chime. The floor (where only "I'm done" and the like are
listened for) is left with the key `d`, not measured. Every line is new to the voice (no answer
comes from its cache of rendered lines). Words take turns by attempts, clips in order.

For each cue: wait until the assistant is quiet (its log says `VoiceFinished`, then 0.6 s for its
350 ms echo guard), play one real recording from ../shared/speech into the microphone with
paplay, and read the tap recording:

- cue end: the end of the last 10 ms frame on the left channel within 30 dB of the word's peak
  and 12 dB above the clip's own noise floor (the rule benchmarks/cues.py uses for "the end of
  the spoken word");
- answer onset: the first sample on the right channel after the cue end louder than -54 dBFS;
- latency = onset - cue end, exact to the sample. No cue heard within --timeout seconds of the
  end of the clip is a miss: counted and reported, never hidden, left out of the latency figures.
  A cue heard as another cue that also answers (a "no" heard as "next") is measured and counted.

The shares are split at the moment the runner logs `CueHeard`. Its log stamps
(`relativeCreated`, ms) are mapped onto `time.monotonic()` by the lines' arrival here (the
earliest arrival: a line can come late, never early; checked against a monotonic stamp: within
1 ms), and the tap's frames likewise by the arrival of its reads (the earliest within a second,
which can lead the render by up to one 10 ms block: against a click of known output latency,
within 1 ms unloaded, up to about 10 ms early during a session). So:

- recognizer share = `CueHeard` - cue end: the microphone's 10 ms buffers and the endpointer's
  100 ms hangover ("endpoint", to `SpeechStopped`, logged as the segment closes), then the
  decoding ("decode", `SpeechStopped` -> `CueHeard`);
- voice share = onset - `CueHeard`: the session, rendering the first buffer, and the output
  buffers to the speaker. (`VoiceStarted` is not used: it is logged only once the runner has
  carried out the cue, journal and all, often after the sound has started.)

A null sink is an idealised device: a real laptop adds its converters' and ALSA's buffers (a few
ms to a few tens of ms each way). A null sink is also digitally silent between cues, against
which a recording's own background hiss looks like speech to the endpointer; so quiet room noise
(-66 dBFS, `PrivateSoundServer.room_noise`) plays into the microphone all along, as a laptop's
microphone hears its room. Real speech is read from ../shared/speech at run time (never copied here);
without it the benchmark says so and exits. About 11 minutes for the default 50 cues on 2 cores.
Prints a table; the last line is one JSON object (median_ms, p95_ms, n, misses, shares, ...).
"""

from __future__ import annotations

import argparse
import itertools
import json
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.ears.vad import FRAME, frame_levels  # noqa: E402
from tests.soundserver import RATE, PrivateSoundServer, SoundServerUnavailable, TapRecording  # noqa: E402

WORDS_DIR = ROOT.parent / "shared" / "speech" / "words"
GOAL_MEDIAN_MS = 200
GOAL_P95_MS = 300
"""Issue #25's goals for a spoken cue's answer."""
CUE_OF_WORD = {"go": "next", "yes": "yes", "no": "no", "stop": "stop"}
ANSWERED_IN = {
    "welcome": ("go", "yes"),
    "step intro": ("go", "yes", "no"),
    "not ready": ("go", "yes"),
    "exercise intro": ("go", "yes"),
}
"""Waiting states and the recorded words whose cue gets a spoken answer there ("stop" does everywhere)."""
FLOOR_STATES = ("talking", "speaking", "reflecting")
"""The floor listens only for "I'm done" and the like: left with the key `d`, not measured."""
STOP_EVERY = 16
"""Cues heard before a run ends with "stop"; then a fresh run starts (a couple of seconds)."""

WORD_RANGE_DB = 30.0
"""The word ends at its last frame within this of its peak (as benchmarks/cues.py)..."""
ABOVE_NOISE_DB = 12.0
"""...and this far above the clip's own noise floor."""
ONSET_LEVEL = 64
"""Sample amplitude (-54 dBFS) above which the speaker is sounding."""
QUIET_AFTER_VOICE_S = 0.6
"""After `VoiceFinished`: the ears' 350 ms echo guard, and a capture buffer, before speaking."""

PARTS = ("endpoint", "decode")
"""The recognizer's share in two (see the module's docstring)."""

LINE = re.compile(r"^\s*(\d+) ms (\w+)(?: (\w+) by (\w+))? in ([a-z ]+)$")
"""The runner's `--verbose` event lines: `  1234 ms CueHeard next by voice in step intro`."""


def programme_text(steps: int) -> str:
    """Many short steps, each asking whether the couple is ready, with one talk round. Every
    step has its own words, so no answer comes from the voice's cache of rendered lines."""
    numbers = "one two three four five six seven eight nine ten eleven twelve".split()
    lines = [
        "title: Latency benchmark",
        "partners: [Ann, Ben]",
        "safety: A test of how fast the assistant answers.",
        "welcome: Welcome. Say next.",
        "closing: Goodbye.",
        "phrases:",
        '  step_heading: "Step {number}: {title}."',
        '  ready_check: "Ready?"',
        '  not_ready: "All right. Say yes when ready."',
        '  begin_exercise: "Say next."',
        '  talk_start: "Talk for {minutes} minutes."',
        '  talk_over: "Thanks."',
        "steps:",
    ]
    for i in range(steps):
        name = f"{numbers[i % 12]} {numbers[i // 12 % 12]}"
        lines += [
            f"  - {{title: Part {name}, intro: Listen well., check_ready: true, exercises: [",
            f"      {{title: Round {name}, format: talk, prompt: Your week., talk_seconds: 600}}]}}",
        ]
    return "\n".join(lines) + "\n"


# ---- finding the cue and the answer in the tap recording ---------------------------------------


def cue_end(mic: np.ndarray) -> int | None:
    """Sample index just after the spoken word on the microphone channel, or None if silent.

    The word's last frame is the last one within `WORD_RANGE_DB` of the peak and `ABOVE_NOISE_DB`
    above the recording's own noise (the quietest tenth of the frames it plays, not the digital
    silence around it)."""
    levels = frame_levels(mic)
    playing = np.nonzero(levels > 1.0)[0]
    if not len(playing):
        return None
    clip = levels[playing[0] : playing[-1] + 1]
    peak, floor = float(clip.max()), float(np.percentile(clip, 10))
    threshold = min(max(floor + ABOVE_NOISE_DB, peak - WORD_RANGE_DB), peak - 1.0)
    return int(np.nonzero(levels >= threshold)[0][-1] + 1) * FRAME


def answer_onset(speaker: np.ndarray, after: int = 0) -> int | None:
    """Index of the first sample from `after` on where the speaker channel sounds, or None."""
    loud = np.nonzero(np.abs(speaker[after:].astype(np.int32)) > ONSET_LEVEL)[0]
    return int(loud[0]) + after if len(loud) else None


def find_latency(stereo: np.ndarray, cue_stop: int | None = None) -> tuple[int, int] | None:
    """(cue end, answer onset) as sample indices in a (n, 2) tap recording: microphone left,
    speaker right. The cue is looked for in [0, cue_stop). None if either is missing or the speaker
    was already sounding when the cue ended (the assistant was not quiet)."""
    end = cue_end(stereo[:cue_stop, 0])
    if end is None:
        return None
    onset = answer_onset(stereo[:, 1], after=max(0, end - FRAME * 30))
    if onset is None or onset < end:
        return None
    return end, onset


# ---- the assistant as a process, its log on the monotonic clock -------------------------------


@dataclass
class Event:
    name: str
    cue: str | None
    source: str | None
    state: str
    stamp: float
    """Seconds on the log's own clock (`relativeCreated`)."""


class Assistant:
    """`assistant run --verbose` on the private sound server; its event lines as `Event`s."""

    def __init__(self, server: PrivateSoundServer, programme: Path, data_dir: Path) -> None:
        exe = ROOT / ".venv" / "bin" / "assistant"
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant"]
        self.process = subprocess.Popen(
            [*command, "run", "--verbose", "--programme", str(programme), "--data-dir", str(data_dir)],
            cwd=ROOT, env={**server.env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.state = "welcome"
        self.tail: list[str] = []
        self._offset = float("inf")
        """time.monotonic() - the log's own stamp, at its smallest: when the log's clock began."""
        self._reader = threading.Thread(target=self._read, name="assistant-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            arrived = time.monotonic()
            self.tail = [*self.tail[-30:], line]
            match = LINE.match(line.rstrip("\n"))
            if not match:
                continue
            self._offset = min(self._offset, arrived - int(match[1]) / 1000)
            self.events.put(Event(match[2], match[3], match[4], match[5], int(match[1]) / 1000))
        self.events.put(None)

    def time_of(self, event: Event) -> float:
        """time.monotonic() at which `event` was logged."""
        return self._offset + event.stamp

    def wait_for(self, name: str, timeout: float, seen: list[Event] | None = None) -> Event | None:
        """The next event called `name` within `timeout` s (others go to `seen`); None if none came."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if event is None:
                self.events.put(None)  # the process ended: every later wait ends at once too
                return None
            self.state = event.state
            if seen is not None:
                seen.append(event)
            if event.name == name:
                return event

    def wait_until_quiet(self, timeout: float = 60) -> None:
        """Until the voice has said everything queued, plus the ears' echo guard."""
        while True:
            if self.wait_for("VoiceFinished", timeout) is None and self.process.poll() is None:
                raise RuntimeError("the assistant did not finish speaking:\n" + "".join(self.tail))
            if self.wait_for("VoiceStarted", QUIET_AFTER_VOICE_S) is None:
                return  # else it went on speaking (another batch of lines): wait for that too

    def key(self, key: str) -> None:
        """Press `key` (the keyboard reads lines when not on a terminal)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(key + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # it has just ended

    def close(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdin:
            self.process.stdin.close()
        self._reader.join(timeout=10)


# ---- the benchmark --------------------------------------------------------------------------


@dataclass
class Cue:
    word: str
    clip: str
    state: str
    heard: str | None = None
    """The cue the assistant heard (None: a miss)."""
    latency_ms: float | None = None
    recognizer_ms: float | None = None
    voice_ms: float | None = None
    parts_ms: dict[str, float] = field(default_factory=dict)
    problem: str | None = None


def stream_latencies(server: PrivateSoundServer) -> dict[str, float]:
    """What PulseAudio says the assistant's own streams hold (its ALSA plug-in's), in ms."""
    found: dict[str, float] = {}
    for kind, what in (("sink-inputs", "playback"), ("source-outputs", "capture")):
        for block in server.pactl("list", kind, check=False).stdout.split("\n\n"):
            if "ALSA plug-in" not in block:
                continue
            for label, key in (("Buffer Latency", "buffer"), ("Sink Latency", "device"), ("Source Latency", "device")):
                match = re.search(rf"{label}: (\d+) usec", block)
                if match:
                    found[f"{what}_{key}_ms"] = int(match[1]) / 1000
    return found


def clips(words: list[str]) -> dict[str, Iterator[Path]]:
    """Each word's recordings, round and round."""
    found: dict[str, Iterator[Path]] = {}
    for word in words:
        paths = sorted((WORDS_DIR / word).glob("*.wav"))
        if not paths:
            sys.exit(f"latency: no recordings of {word!r} in {WORDS_DIR} (see ../shared/speech/README.md)")
        found[word] = itertools.cycle(paths)
    return found


def say(
    server: PrivateSoundServer, tap: TapRecording, assistant: Assistant, word: str, clip: Path, timeout: float
) -> Cue:
    """Play one recording into the microphone and measure the answer."""
    cue = Cue(word, f"{word}/{clip.name}", assistant.state)
    began = time.monotonic()
    server.play_into_microphone(clip)
    ended = time.monotonic()
    before: list[Event] = []
    heard = assistant.wait_for("CueHeard", timeout, before)
    if heard is None or heard.source != "voice":
        return cue
    cue.heard = heard.cue
    started = assistant.wait_for("VoiceStarted", 30)
    assistant.wait_until_quiet()
    if started is None:
        cue.problem = "no VoiceStarted after the cue"
        return cue
    first = tap.frame_at(began) - RATE // 10
    stop = tap.frame_at(assistant.time_of(started)) + RATE
    while tap.frames < stop:
        time.sleep(0.05)
    found = find_latency(tap.samples(first, stop), cue_stop=tap.frame_at(ended) + RATE // 10 - first)
    if found is None:
        cue.problem = "cue or answer not found in the tap recording"
        return cue
    end, onset = (first + index for index in found)
    cue.latency_ms = (onset - end) / RATE * 1000
    t_end, t_heard = tap.monotonic_at(end), assistant.time_of(heard)
    cue.recognizer_ms = (t_heard - t_end) * 1000
    cue.voice_ms = cue.latency_ms - cue.recognizer_ms
    stopped = [e for e in before if e.name == "SpeechStopped"]
    if stopped:
        t_stopped = assistant.time_of(stopped[-1])
        cue.parts_ms["endpoint"] = (t_stopped - t_end) * 1000
        cue.parts_ms["decode"] = (t_heard - t_stopped) * 1000
    return cue


def run(
    server: PrivateSoundServer, work: Path, words: list[str], target: int, timeout: float, deadline: float
) -> tuple[list[Cue], int, list[dict[str, float]]]:
    """Runs of the assistant until `target` cues were answered (or time runs out): the cues, the
    number of runs, and PulseAudio's latencies of the assistant's streams in each run."""
    programme = work / "programme.yaml"
    programme.write_text(programme_text(steps=4 + STOP_EVERY))
    rotation = clips(words)
    tried = dict.fromkeys(words, 0)
    cues: list[Cue] = []
    tap = server.record_tap()
    tap.wait_until_running()
    runs = 0
    streams: list[dict[str, float]] = []
    try:
        while sum(c.latency_ms is not None for c in cues) < target and time.monotonic() < deadline:
            runs += 1
            assistant = Assistant(server, programme, work / f"data-{runs}")
            try:
                assistant.wait_until_quiet(timeout=120)
                streams.append(stream_latencies(server))
                run_once(server, tap, assistant, cues, rotation, tried, target, timeout, deadline)
            finally:
                if assistant.process.poll() is None:
                    assistant.key("q")
                assistant.close()
    finally:
        tap.stop()
    return cues, runs, streams


def run_once(
    server: PrivateSoundServer,
    tap: TapRecording,
    assistant: Assistant,
    cues: list[Cue],
    rotation: dict[str, Iterator[Path]],
    tried: dict[str, int],
    target: int,
    timeout: float,
    deadline: float,
) -> None:
    """One session: cues until `STOP_EVERY` are answered (or the target is met), then "stop"."""
    answered = 0
    stop_misses = 0
    while assistant.process.poll() is None:
        total = sum(c.latency_ms is not None for c in cues)
        ending = answered >= STOP_EVERY or total >= target or time.monotonic() > deadline
        state = assistant.state
        valid = [w for w in ANSWERED_IN.get(state, ()) if w in tried]
        if ending and "stop" in tried and stop_misses < 5:
            word = "stop"
        elif ending or (not valid and state not in FLOOR_STATES):
            # Nothing (more) to measure, or a state no recording answers (a misheard "pause"):
            # end this run by key; the next run starts afresh.
            assistant.key("q")
            assistant.wait_until_quiet()
            break
        elif state in FLOOR_STATES:
            assistant.key("d")
            assistant.wait_until_quiet()
            continue
        else:
            word = min(valid, key=lambda w: tried[w])
        tried[word] += 1
        cue = say(server, tap, assistant, word, next(rotation[word]), timeout)
        cues.append(cue)
        print(_row(cue), flush=True)
        if cue.latency_ms is not None:
            answered += 1
        if cue.heard == "stop":
            break
        if word == "stop":
            stop_misses += 1
        if cue.heard is None:
            time.sleep(QUIET_AFTER_VOICE_S)


def _row(cue: Cue) -> str:
    what = f"{cue.clip:<18} in {cue.state:<15}"
    if cue.heard is None:
        return f"  {what} missed"
    if cue.latency_ms is None:
        return f"  {what} heard as {cue.heard}: {cue.problem}"
    as_other = "" if CUE_OF_WORD[cue.word] == cue.heard else f" (heard as {cue.heard})"
    parts = " ".join(f"{k} {v:.0f}" for k, v in cue.parts_ms.items())
    return (
        f"  {what} {cue.latency_ms:6.0f} ms = recognizer {cue.recognizer_ms:4.0f} + voice {cue.voice_ms:4.0f}"
        f"  [{parts}]{as_other}"
    )


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 1) if values else None


def _p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)), 1) if values else None


def summarise(cues: list[Cue], words: list[str]) -> dict[str, object]:
    measured = [c for c in cues if c.latency_ms is not None]
    latencies = [c.latency_ms for c in measured if c.latency_ms is not None]
    recognizer = [c.recognizer_ms for c in measured if c.recognizer_ms is not None]
    voice = [c.voice_ms for c in measured if c.voice_ms is not None]
    per_word = {}
    for word in words:
        mine = [c for c in cues if c.word == word]
        lat = [c.latency_ms for c in mine if c.latency_ms is not None]
        per_word[word] = {
            "tried": len(mine),
            "n": len(lat),
            "misses": sum(c.heard is None for c in mine),
            "heard_as_other": sum(c.heard is not None and c.heard != CUE_OF_WORD[word] for c in mine),
            "median_ms": _median(lat),
            "p95_ms": _p95(lat),
            "recognizer_median_ms": _median([c.recognizer_ms for c in mine if c.recognizer_ms is not None]),
            "voice_median_ms": _median([c.voice_ms for c in mine if c.voice_ms is not None]),
        }
    return {
        "median_ms": _median(latencies),
        "p95_ms": _p95(latencies),
        "n": len(latencies),
        "misses": sum(c.heard is None for c in cues),
        "tried": len(cues),
        "heard_as_other": sum(c.heard is not None and c.heard != CUE_OF_WORD[c.word] for c in cues),
        "unmeasured": sum(c.heard is not None and c.latency_ms is None for c in cues),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "recognizer_median_ms": _median(recognizer),
        "recognizer_p95_ms": _p95(recognizer),
        "voice_median_ms": _median(voice),
        "voice_p95_ms": _p95(voice),
        "parts_median_ms": {k: _median([c.parts_ms[k] for c in measured if k in c.parts_ms]) for k in PARTS},
        "per_word": per_word,
        "goal_median_ms": GOAL_MEDIAN_MS,
        "goal_p95_ms": GOAL_P95_MS,
    }


def _ms(value: object) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(summary: dict[str, object], seconds: float, runs: int) -> None:
    per_word = summary["per_word"]
    assert isinstance(per_word, dict)
    print()
    print("From the end of a real spoken cue in the microphone to the first sound of the answer on the speaker")
    print(f"(private PulseAudio, tap of both on one clock; {runs} assistant runs, {seconds:.0f} s)")
    print()
    print("| word | tried | answered | missed | heard as another cue | median | p95 | recognizer | voice |")
    print("|---|---|---|---|---|---|---|---|---|")
    for word, row in [*per_word.items(), ("all", summary)]:
        other = row["heard_as_other"]
        print(
            f"| {word} | {row['tried']} | {row['n']} | {row['misses']} | {other} | {_ms(row['median_ms'])} ms "
            f"| {_ms(row['p95_ms'])} ms | {_ms(row['recognizer_median_ms'])} ms | {_ms(row['voice_median_ms'])} ms |"
        )
    parts = summary["parts_median_ms"]
    assert isinstance(parts, dict)
    print()
    print("The recognizer's share (medians): " + ", ".join(f"{k} {_ms(v)} ms" for k, v in parts.items()))
    streams = summary.get("pulseaudio_streams_ms")
    if isinstance(streams, dict) and streams:
        print("PulseAudio on the assistant's streams: " + ", ".join(f"{k} {v:g}" for k, v in streams.items()))
    median, p95 = summary["median_ms"], summary["p95_ms"]
    met = []
    for name, value, goal in (("median", median, GOAL_MEDIAN_MS), ("p95", p95, GOAL_P95_MS)):
        verdict = "meets" if isinstance(value, float | int) and value <= goal else "misses"
        met.append(f"{name} {_ms(value)} ms {verdict} the {goal} ms goal")
    print("; ".join(met) + f"; {summary['misses']} of {summary['tried']} cues were not heard.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cues", type=int, default=50, help="answered cues to measure (default 50)")
    parser.add_argument("--quick", action="store_true", help="10 cues: a check that it works (about a minute)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds after a clip without an answer: a miss")
    parser.add_argument("--words", default="go,yes,no,stop", help="recorded words to say (of go, yes, no, stop)")
    parser.add_argument("--max-minutes", type=float, default=15.0, help="stop measuring after this long")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (PulseAudio log, journals)")
    args = parser.parse_args(argv)
    words = [w for w in args.words.split(",") if w]
    unknown = [w for w in words if w not in CUE_OF_WORD]
    if unknown or not any(w != "stop" for w in words):
        parser.error(f"--words takes some of go, yes, no (and stop), not {args.words!r}")
    target = 10 if args.quick else args.cues
    if not WORDS_DIR.is_dir():
        sys.exit(f"latency: the real recordings are missing: {WORDS_DIR} (see ../shared/speech/README.md)")
    tools = ("pulseaudio", "pactl", "paplay", "parec", "pacat", "espeak-ng")
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        sys.exit(f"latency: needs {', '.join(missing)} (scripts/setup dev installs them)")

    work = Path(tempfile.mkdtemp(prefix="latency-bench-"))
    server = PrivateSoundServer(work / "pulse", tap=True)
    started = time.monotonic()
    try:
        server.start()
    except SoundServerUnavailable as error:
        sys.exit(f"latency: {error}")
    server.room_noise()
    try:
        print(f"Measuring {target} answered cues ({', '.join(words)}; a miss is no answer within {args.timeout:g} s):")
        cues, runs, streams = run(server, work, words, target, args.timeout, started + args.max_minutes * 60)
    finally:
        server.stop()
        if args.keep:
            print(f"(work folder kept: {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    summary = summarise(cues, words)
    summary["seconds"] = round(seconds, 1)
    summary["pulseaudio_streams_ms"] = {
        key: _median([s[key] for s in streams if key in s]) for key in sorted({k for s in streams for k in s})
    }
    print_table(summary, seconds, runs)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
