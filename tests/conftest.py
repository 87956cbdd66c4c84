from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.events import CueHeard, Event
from assistant.journal import Journal
from assistant.programme import Programme, load_builtin, parse_programme
from assistant.runner import Runner
from assistant.session import Place, Session
from assistant.timers import FakeClock
from tests.fakes import FakeEars, FakeView, FakeVoice

SHARED = Path(__file__).resolve().parents[2] / "shared"

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt install espeak-ng)"
)
"""For tests that render speech with the real eSpeak NG."""

SMALL_PROGRAMME = """
title: A small test programme
partners: [Ann, Ben]
timing: {speak_seconds: 60, reflect_seconds: 30, talk_seconds: 120, break_seconds: 600}
welcome: Welcome to the test.
closing: Goodbye from the test.
steps:
  - title: Turns
    intro: The first step.
    exercises:
      - {title: Each in turn, format: turns, prompt: Take turns., turn_prompt: "{speaker}, go."}
  - title: Listening
    check_ready: true
    intro: The second step.
    exercises:
      - title: Speaker and listener
        format: listening
        prompt: Speak and listen.
        turn_prompt: "{speaker}, speak; {listener}, listen."
        reflect_prompt: "{listener}, reflect back to {speaker}."
        check_prompt: "{speaker}, did {listener} get it right?"
        retry_prompt: "{listener}, try again."
      - {title: Talk, format: talk, prompt: Talk together.}
"""


@pytest.fixture
def small_programme() -> Programme:
    return parse_programme(SMALL_PROGRAMME, "small.yaml", fallback=load_builtin())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class App:
    """A runner on fake devices, with helpers to drive it like a couple would."""

    def __init__(self, programme: Programme, clock: FakeClock, data_dir: Path, saved: Place | None = None) -> None:
        self.clock = clock
        self.journal = Journal(data_dir, programme.title)
        self.session = Session(programme, saved_place=saved if saved is not None else self.journal.saved_place())
        self.view = FakeView()
        self.ears = FakeEars()
        self.runner = Runner(self.session, clock=clock, view=self.view, journal=self.journal, ears=self.ears)
        self.voice = FakeVoice(self.runner.post)
        self.runner.voice = self.voice
        self.journal.begin_session()
        self.runner.start()
        self.runner.run_until_idle()

    def cue(self, *cues: str) -> None:
        for cue in cues:
            self.runner.post(CueHeard(cue, source="key"))
            self.runner.run_until_idle()

    def hear(self, event: Event) -> None:
        self.runner.post(event)
        self.runner.run_until_idle()

    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.runner.run_until_idle()

    @property
    def state(self):  # noqa: ANN201 - an S member
        return self.session.state

    @property
    def last_said(self) -> str:
        return self.voice.said[-1]


@pytest.fixture
def make_app(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(programme: Programme, saved: Place | None = None) -> App:
        apps.append(App(programme, clock, tmp_path / "data", saved))
        return apps[-1]

    yield make
    for made in apps:
        made.journal.close()


@pytest.fixture
def app(make_app: Callable[..., App], small_programme: Programme) -> App:
    return make_app(small_programme)
