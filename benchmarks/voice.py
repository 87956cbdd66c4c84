"""Voice benchmarks: say-to-first-buffer (uncached, cached), stop-to-silence, rendering speed.

Run: `.venv/bin/python benchmarks/voice.py` (fake speaker), or add `--real` to play through
the default PyAudio device. Prints a table; the last line is a JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.events import Event, VoiceFinished  # noqa: E402
from assistant.voice.cache import RenderCache  # noqa: E402
from assistant.voice.espeak_voice import EspeakVoice  # noqa: E402
from assistant.voice.fakes import FakeAudioOut  # noqa: E402
from assistant.voice.pcm import seconds  # noqa: E402
from assistant.voice.player import AudioOut, Clip  # noqa: E402
from assistant.voice.tts import TtsWorker, VoiceSettings  # noqa: E402

LINES = [
    "Welcome. Find a quiet place where you can sit facing each other.",
    "Take a slow breath together, and when you are ready, say next.",
    "In this step you will each say what trust means to you.",
    "One of you speaks, and the other only listens.",
    "Listening means no advice, no corrections, and no interrupting.",
    "When you have finished, say I'm done.",
    "Now reflect back what you heard, in your own words.",
    "Did your partner understand you? Say yes or no.",
    "Let's try that once more, a little more slowly.",
    "Half of the time has passed.",
    "One minute left.",
    "Thank you both. Let's take a short pause.",
    "Say time out whenever you need a break; the timer will wait for you.",
    "Start your sentences with I feel, rather than you always.",
    "Ask a question instead of assuming what your partner meant.",
    "Name one feeling you noticed while your partner was speaking.",
    "Forgiveness is not forgetting. It is choosing to let go of a grudge.",
    "Think of one small thing you would like to do together this week.",
    "You can repeat any step by saying repeat that.",
    "That is the end of this exercise. Say next when you are ready to continue.",
]
"""Lines like the programme's, of typical lengths."""


def wait_finished(posted: queue.Queue[Event], timeout: float = 60.0) -> None:
    while not isinstance(posted.get(timeout=timeout), VoiceFinished):
        pass


def first_buffer_latencies(voice: EspeakVoice, speaker: FakeAudioOut, posted: queue.Queue[Event]) -> list[float]:
    """Seconds from `say` to the first buffer the speaker receives, per line."""
    latencies = []
    for line in LINES:
        before = len(speaker.write_times)
        start = time.perf_counter()
        voice.say(line)
        wait_finished(posted)
        latencies.append(speaker.write_times[before] - start)
    return latencies


def stop_latencies(make_out: Callable[[], AudioOut] | None, rounds: int) -> list[float]:
    """Seconds from `stop` until the sound ends: the speaker drops what it holds, then
    plays out its own buffer (a real device's reported output latency)."""
    results = []
    posted: queue.Queue[Event] = queue.Queue()
    speaker = FakeAudioOut(pace=1.0)  # consumes in real time, like a sound card
    real = make_out() if make_out is not None else None
    out: AudioOut = speaker if real is None else _Spy(real, speaker)
    tail = float(getattr(real, "output_latency", 0.0))
    voice = EspeakVoice(posted.put, out, worker=TtsWorker(RenderCache()))
    try:
        for index in range(rounds):
            voice.say(LINES[index % len(LINES)] + " " + LINES[(index + 1) % len(LINES)])
            if not speaker.wait_for_buffers(len(speaker.buffers) + 10, 10.0):
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


def real_time_factors(worker: TtsWorker, settings: VoiceSettings) -> list[float]:
    """Render time divided by audio length, per line (uncached)."""
    factors = []
    for line in LINES:
        clip = Clip(line)
        start = time.perf_counter()
        worker.render(clip, line + " Once more.", settings)
        while not clip.complete:
            clip.read(len(clip.pcm()), 1 << 30, 0.01)
        factors.append((time.perf_counter() - start) / seconds(clip.pcm()))
    return factors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="play through the default PyAudio device")
    parser.add_argument("--stops", type=int, default=20, help="how many stops to time")
    args = parser.parse_args(argv)

    make_out = None
    if args.real:
        from assistant.voice.pyaudio_out import PyAudioOut

        make_out = PyAudioOut

    settings = VoiceSettings()
    posted: queue.Queue[Event] = queue.Queue()
    speaker = FakeAudioOut()
    worker = TtsWorker(RenderCache())
    voice = EspeakVoice(posted.put, speaker, settings=settings, worker=worker)
    try:
        voice.say("Warming up.")  # the first render also loads the voice
        wait_finished(posted)
        uncached = first_buffer_latencies(voice, speaker, posted)
        cached = first_buffer_latencies(voice, speaker, posted)
        audio = sum(seconds(worker.cache.get(settings.key(line)) or b"") for line in LINES)
    finally:
        voice.close()
    rtf_worker = TtsWorker(RenderCache())
    try:
        rtf_worker.wait_ready()
        factors = real_time_factors(rtf_worker, settings)
    finally:
        rtf_worker.close()
    stops = stop_latencies(make_out, args.stops)

    figures = {
        "say_to_first_buffer_uncached_ms": round(statistics.median(uncached) * 1000, 2),
        "say_to_first_buffer_uncached_max_ms": round(max(uncached) * 1000, 2),
        "say_to_first_buffer_cached_ms": round(statistics.median(cached) * 1000, 2),
        "say_to_first_buffer_cached_max_ms": round(max(cached) * 1000, 2),
        "stop_to_silence_ms": round(statistics.median(stops) * 1000, 2),
        "stop_to_silence_max_ms": round(max(stops) * 1000, 2),
        "render_real_time_factor": round(statistics.median(factors), 4),
        "lines": len(LINES),
        "seconds_of_speech": round(audio, 1),
        "device": "PyAudio default" if args.real else "FakeAudioOut",
        "voice": settings.voice,
        "rate_wpm": settings.rate,
    }
    rows = [
        ("say -> first buffer, uncached (median / max)", uncached, "< 100 ms"),
        ("say -> first buffer, cached (median / max)", cached, "< 10 ms"),
        ("stop -> silence (median / max)", stops, "< 50 ms"),
    ]
    print(f"{'measure':<46} {'median':>9} {'max':>9}   goal")
    for name, values, goal in rows:
        print(f"{name:<46} {statistics.median(values) * 1000:>7.2f}ms {max(values) * 1000:>7.2f}ms   {goal}")
    print(f"{'rendering real-time factor (median)':<46} {statistics.median(factors):>9.4f}")
    print(f"{len(LINES)} lines, {audio:.1f} s of speech, device: {figures['device']}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
