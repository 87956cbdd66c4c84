"""The pages in a real browser (Debian's chromium, driven by Playwright) against real processes:
`assistant run --web --no-browser --text --no-mic --auto --fast N`, and `assistant history --web
--no-browser` over a journal of a few sessions.

Screenshots go to each test's tmp_path, to be looked at, not kept. `scripts/screenshots` uses the
helpers here to make the README's. Outside CI the tests skip where chromium or Playwright is
missing; in CI (`scripts/test` installs both) they run, and fail if they cannot.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from assistant.journal import Journal
from assistant.programme import load_builtin
from assistant.session import S, Status
from assistant.timers import FakeClock
from assistant.ui import Countdown
from assistant.web.page import PageView
from assistant.web.server import PageServer
from tests.test_web import keep_sessions

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
START_TIMEOUT_S = 30.0
WAIT_MS = 60_000
"""The longest wait for the page to show something: a rehearsal step on a busy machine."""

MISSING = (
    "Debian's chromium is not installed (scripts/setup dev installs it)"
    if not CHROMIUM.exists()
    else "Playwright is not installed (pip install -e '.[dev]')"
    if importlib.util.find_spec("playwright") is None
    else None
)
pytestmark = pytest.mark.skipif(MISSING is not None and not os.environ.get("CI"), reason=MISSING or "")


class PageProcess:
    """`assistant ARGS --data-dir DIR` as its own process, serving a page; `url` is the address it prints first."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.out = data_dir / "stdout.txt"
        self.err = data_dir / "stderr.txt"
        command = [sys.executable, "-m", "assistant", *args, "--data-dir", str(data_dir)]
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=_env()
            )
        self.url = self._address()
        self.root = "/".join(self.url.split("/")[:4]) + "/"
        """The address of everything it serves: under its secret."""

    def _address(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in self.out.read_text().splitlines():
                if "http://" in line:
                    # The first line that holds the address starts with "Open" and the address.
                    assert line.startswith("Open http://127.0.0.1:"), line
                    return line.split()[1]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"no address printed; stderr: {self.err.read_text()}")

    def wait(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class PageRehearsal(PageProcess):
    """A rehearsal with its page: `assistant run --web --no-browser --text --no-mic --auto --fast N`."""

    def __init__(self, data_dir: Path, fast: float, *args: str) -> None:
        web = ("run", "--web", "--no-browser", "--text", "--no-mic", "--auto", "--fast", str(fast))
        super().__init__(data_dir, *web, "--partners", "Ann,Ben", *args)


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)  # --no-browser opens nothing anyway; make sure of it
    return env


def launch_chromium(playwright: object) -> Browser:
    """Debian's chromium, never a browser Playwright downloads."""
    return playwright.chromium.launch(  # type: ignore[attr-defined, no-any-return]
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
    )


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


class Watched:
    """A served page, with its script errors, console errors (a CSP refusal is one) and requests."""

    def __init__(self, page: Page, rehearsal: PageProcess) -> None:
        self.page = page
        self.rehearsal = rehearsal
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("request", lambda request: self.requests.append(request.url))
        page.goto(rehearsal.url)

    def assert_calm(self) -> None:
        """No script or policy errors, and nothing asked of anywhere but the session's own address."""
        assert self.errors == []
        assert self.requests and all(request.startswith(self.rehearsal.root) for request in self.requests)


@pytest.fixture
def watch(browser: Browser, tmp_path: Path) -> Iterator[Callable[..., Watched]]:
    """Starts a rehearsal at `fast` and opens its page (in a 1280 by 800 window unless told);
    afterwards checks the page stayed calm, and stops the rehearsal if it still runs."""
    opened: list[Watched] = []

    def start(fast: float, **context: Any) -> Watched:
        rehearsal = PageRehearsal(tmp_path / "data", fast)
        try:
            page = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **context}).new_page()
            opened.append(Watched(page, rehearsal))
        except BaseException:
            rehearsal.stop()
            raise
        return opened[-1]

    yield start
    for watched in opened:
        watched.rehearsal.stop()
    for watched in opened:
        watched.assert_calm()


# ---- tests -----------------------------------------------------------------------------------


def test_the_page_follows_a_rehearsal_step_by_step(watch: Callable[..., Watched], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = watch(10).page
    expect(page.locator("#heading")).to_contain_text("Step 1: Define trust and intimacy", timeout=WAIT_MS)
    expect(page.locator("#steps li.current")).to_contain_text("1")
    expect(page.get_by_role("button", name="Help me")).to_be_visible()

    # The countdown moves by itself between the assistant's messages.
    clock = page.locator("#clock")
    expect(clock).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#floor-who")).to_contain_text("has the floor")
    shown = clock.inner_text()
    expect(clock).not_to_have_text(shown, timeout=WAIT_MS)
    expect(page.locator("#caption")).to_be_visible()
    expect(page.locator("#caption")).not_to_be_empty()
    page.screenshot(path=tmp_path / "floor.png")

    expect(page.locator("#heading")).to_contain_text("Step 2: Identify what fractured trust", timeout=WAIT_MS)
    expect(page.locator("#steps li.done")).to_have_count(1)
    expect(page.locator("#steps li.current")).to_contain_text("Identify what fractured trust")
    page.screenshot(path=tmp_path / "step-2.png")
    # Nothing kept in the browser.
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0


def test_a_click_on_your_turn_hands_the_floor_over(watch: Callable[..., Watched], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    # Slow enough that the simulated couple would leave Ann the floor for a long while.
    watched = watch(2)
    page, rehearsal = watched.page, watched.rehearsal
    expect(page.locator("#floor-who")).to_have_text("Ann has the floor", timeout=WAIT_MS)
    expect(page.locator("#floor-note")).to_have_text("Ben listens")
    expect(page.locator("#caption")).to_contain_text("Ann, what does trust mean to you?")
    page.screenshot(path=tmp_path / "ann.png")
    page.get_by_role("button", name="Your turn").click()
    expect(page.locator("#heard")).to_have_text("Pressed: your turn")
    expect(page.locator("#floor-who")).to_have_text("Ben has the floor")
    page.screenshot(path=tmp_path / "ben.png")
    assert "done (key)" in rehearsal.out.read_text()  # the terminal view saw the same cue, as a key

    timer = page.locator("#timer")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#timer-label")).to_have_text("Paused")
    expect(timer).to_have_class("timer paused")
    page.screenshot(path=tmp_path / "paused.png")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#timer-label")).to_have_text("Time left")
    page.get_by_role("button", name="Time out").click()
    expect(page.locator("#timer-label")).to_have_text("Time out: back together in")
    expect(page.locator("#floor")).to_be_hidden()
    expect(timer).not_to_have_class("timer paused")
    page.screenshot(path=tmp_path / "time-out.png")
    page.get_by_role("button", name="Help me").click()
    expect(page.locator("#notices li").first).to_contain_text("Emergency")
    page.screenshot(path=tmp_path / "help-me.png")


def test_escape_twice_ends_the_session_quietly_and_blanks_it(watch: Callable[..., Watched], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    watched = watch(10)
    page, rehearsal = watched.page, watched.rehearsal
    expect(page.locator("#heading")).to_contain_text("Step 2:", timeout=WAIT_MS)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.locator("#session")).to_have_count(0)
    assert page.evaluate("document.body.innerText.trim()") == ""
    assert page.title().strip("\u200b ") == ""
    assert rehearsal.wait() == 0
    page.screenshot(path=tmp_path / "blank.png")
    # Nothing more on the terminal after the page's address and the lines before the exit...
    assert "Stopped." not in rehearsal.err.read_text()
    # ...and the place is kept: the next run offers step 2.
    journal = Journal(rehearsal.data_dir, load_builtin().title)
    try:
        place = journal.saved_place()
        assert place is not None and place.step == 1
    finally:
        journal.close()


def test_the_closing_shows_the_summary_and_no_words(watch: Callable[..., Watched], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    watched = watch(100)
    page, rehearsal = watched.page, watched.rehearsal
    expect(page.locator("#ended")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#summary-title")).to_contain_text("Today: time on the floor")
    expect(page.locator(".summary-row")).to_have_count(2)
    expect(page.locator("#summary-rows")).to_contain_text("Ann")
    expect(page.locator("#caption")).to_be_hidden()
    expect(page.get_by_role("button", name="Next")).to_have_count(0)
    assert rehearsal.wait() == 0
    page.screenshot(path=tmp_path / "closing.png")


def test_the_page_reads_at_200_percent_zoom_in_dark_mode(watch: Callable[..., Watched], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    # A 1280 by 800 window at 200%: half as many CSS pixels, each drawn twice as large.
    page = watch(5, viewport={"width": 640, "height": 400}, device_scale_factor=2, color_scheme="dark").page
    expect(page.locator("#floor-who")).to_contain_text("has the floor", timeout=WAIT_MS)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(27, 30, 33)"
    page.screenshot(path=tmp_path / "zoom-dark.png", full_page=True)


def test_the_countdown_marks_halfway_and_the_last_minute(browser: Browser, tmp_path: Path) -> None:
    """The page's own clock, between snapshots: an in-process server, and a view told what to show."""
    from playwright.sync_api import expect

    clock = FakeClock(1000.0)
    view = PageView(clock, dataclasses.replace(load_builtin(), partners=("Ann", "Ben")))
    speaking = Status(S.SPEAKING, 3, "Practise healthy communication", "Speaker and listener", "Ann", ("done",))
    view.update(speaking, Countdown(deadline=clock.now() + 80, total=180))
    server = PageServer(view)
    server.start(lambda event: None)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url)
        expect(page.locator("#timer-note")).to_have_text("Past halfway")
        expect(page.locator("#timer")).not_to_have_class("timer last-minute")
        view.update(speaking, Countdown(deadline=clock.now() + 50, total=180))
        expect(page.locator("#timer-note")).to_have_text("Last minute")
        expect(page.locator("#timer")).to_have_class("timer last-minute")
        expect(page.locator("#clock")).to_have_text(re.compile(r"0:[45]\d"))
        page.screenshot(path=tmp_path / "last-minute.png")
        page.close()
    finally:
        server.close()


def test_history_web_shows_the_weekly_chart_until_closed(browser: Browser, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    data_dir = tmp_path / "data"
    earlier = [(22, {"Ann": 240, "Ben": 300}), (9, {"Ann": 540, "Ben": 420}), (2, {"Ann": 780, "Ben": 720})]
    keep_sessions(data_dir, *earlier, (0.2, {"Ann": 600, "Ben": 660}))
    history = PageProcess(data_dir, "history", "--web", "--no-browser")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watched = Watched(page, history)
        weeks = page.locator(".week")
        expect(weeks).to_have_count(8)
        this_week = weeks.first
        expect(this_week.locator(".week-label")).to_have_text("This week")
        expect(this_week.locator(".summary-row")).to_have_text(["Ann23 min", "Ben23 min"])
        expect(weeks.nth(1).locator(".summary-row")).to_have_text(["Ann9.0 min", "Ben7.0 min"])
        expect(weeks.nth(2)).to_contain_text("No time on the floor")
        expect(weeks.nth(3).locator(".summary-row")).to_have_count(2)
        # One grid for the chart: every bar's track starts and ends where the others do.
        tracks = page.locator(".weeks .summary-track").evaluate_all(
            "tracks => tracks.map(track => { const box = track.getBoundingClientRect(); return [box.x, box.width]; })"
        )
        assert len(tracks) == 6 and len({(round(x), round(width)) for x, width in tracks}) == 1
        expect(page.locator("#sessions li")).to_have_count(4)
        expect(page.locator("#sessions li").first).to_contain_text("On the floor: Ann 10 min, Ben 11 min")
        page.screenshot(path=tmp_path / "history.png", full_page=True)
        assert page.context.cookies() == []
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0

        # Dark, at 200% zoom: one column, nothing wider than the window.
        dark = browser.new_page(viewport={"width": 640, "height": 400}, device_scale_factor=2, color_scheme="dark")
        dark_watched = Watched(dark, history)
        expect(dark.locator(".week .summary-bar").first).to_be_visible()
        assert dark.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        assert dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(27, 30, 33)"
        dark.screenshot(path=tmp_path / "history-zoom-dark.png", full_page=True)

        dark.get_by_role("button", name="Close").click()
        expect(dark.locator("#closed")).to_be_visible()
        expect(dark.locator(".week")).to_have_count(0)
        assert history.wait() == 0
        dark.screenshot(path=tmp_path / "history-closed.png")
        watched.assert_calm()
        dark_watched.assert_calm()
    finally:
        history.stop()
    assert history.out.read_text().startswith("Open http://127.0.0.1:")
