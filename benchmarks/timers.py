"""Timer drift and the runner's CPU use against round length (issue: timed rounds).

    .venv/bin/python benchmarks/timers.py            # simulated 20-minute rounds, CPU vs length (~1 min)
    .venv/bin/python benchmarks/timers.py --real     # adds one real 5-minute round

Drift is when the runner handled the end of a round minus its deadline, in real milliseconds,
measured on the monotonic clock through the whole runner (queue, session, journal). CPU is the
process time the runner used while a round ran, which must not grow with the round's length.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.events import CueHeard, SpeechStarted, SpeechStopped, TimerFinished  # noqa: E402
from assistant.journal import Journal  # noqa: E402
from assistant.programme import load_builtin, parse_programme  # noqa: E402
from assistant.runner import Runner  # noqa: E402
from assistant.session import PHASE_TIMER, Session  # noqa: E402
from assistant.timers import MonotonicClock  # noqa: E402

PROGRAMME = """
title: Timer benchmark
welcome: Welcome.
closing: Goodbye.
steps:
  - title: One round
    intro: One round.
    exercises:
      - {{title: Talk, format: talk, prompt: Talk., talk_seconds: {seconds}}}
"""


class NullView:
    def heading(self, text: str) -> None: ...
    def said(self, text: str) -> None: ...
    def notice(self, text: str) -> None: ...
    def heard(self, cue: object) -> None: ...
    def update(self, status: object, countdown: object) -> None: ...
    def summary(self, title: str, turns: int, floor_seconds: object) -> None: ...
    def close(self) -> None: ...


def one_round(seconds: float, speed: float, chatter: bool) -> tuple[float, float]:
    """(drift in real ms, runner CPU seconds) for one timed round of `seconds` clock seconds."""
    programme = parse_programme(PROGRAMME.format(seconds=seconds), "bench", load_builtin())
    clock = MonotonicClock(speed=speed)
    with tempfile.TemporaryDirectory() as data_dir:
        journal = Journal(Path(data_dir), programme.title)
        runner = Runner(Session(programme, hears_speech=True), clock=clock, view=NullView(), journal=journal)
        deadlines: list[float] = []
        fired: list[float] = []
        start_timer, dispatch = runner.timers.start, runner.dispatch

        def start_and_note(name: str, duration: float) -> None:
            if name == PHASE_TIMER:
                deadlines.append(clock.now() + duration)
            start_timer(name, duration)

        def dispatch_and_note(event: object) -> None:
            if isinstance(event, TimerFinished) and event.name == PHASE_TIMER:
                fired.append(clock.now())
            dispatch(event)  # type: ignore[arg-type]

        runner.timers.start = start_and_note  # type: ignore[method-assign]
        runner.dispatch = dispatch_and_note  # type: ignore[method-assign]
        for cue in ("next", "next", "next"):
            runner.post(CueHeard(cue, source="key"))
        stop = threading.Event()
        if chatter:  # voice activity every clock second, as a talking couple gives
            threading.Thread(target=_chatter, args=(runner, clock, stop), daemon=True).start()
        cpu_before = time.process_time()
        runner.run()
        cpu = time.process_time() - cpu_before
        stop.set()
        journal.close()
    return (fired[0] - deadlines[0]) / speed * 1000, cpu


def _chatter(runner: Runner, clock: MonotonicClock, stop: threading.Event) -> None:
    while not stop.wait(1.0 / clock.speed):
        runner.post(SpeechStarted())
        runner.post(SpeechStopped(seconds=0.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true", help="also run one real 5-minute round")
    args = parser.parse_args()
    figures: dict[str, object] = {}

    drifts = [one_round(1200, speed=120, chatter=True)[0] for _ in range(5)]
    figures["simulated_20min_drift_ms_median"] = round(statistics.median(drifts), 3)
    figures["simulated_20min_drift_ms_max"] = round(max(drifts), 3)
    print(
        f"20-minute round at 120x with voice activity every second: drift median "
        f"{statistics.median(drifts):.3f} ms, max {max(drifts):.3f} ms (real ms)"
    )

    cpu = {}
    for seconds in (60, 300, 1200):
        runs = [one_round(seconds, speed=100, chatter=False)[1] for _ in range(3)]
        cpu[seconds] = statistics.median(runs) * 1000
        print(f"round of {seconds:5d} clock s (idle couple): runner CPU {cpu[seconds]:.2f} ms")
    figures["cpu_ms_by_round_seconds"] = {str(k): round(v, 2) for k, v in cpu.items()}

    if args.real:
        drift, used = one_round(300, speed=1, chatter=False)
        figures["real_5min_drift_ms"] = round(drift, 3)
        figures["real_5min_cpu_ms"] = round(used * 1000, 2)
        print(f"real 5-minute round: drift {drift:.3f} ms, runner CPU {used * 1000:.2f} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
