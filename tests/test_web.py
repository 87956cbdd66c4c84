"""The pages without a browser: what the views keep, the guard on its own, and the real servers' answers."""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from assistant.cli import EXIT_ERROR, EXIT_OK, main
from assistant.events import CueHeard, Event, QuickExitRequested, RecordRound
from assistant.journal import Journal, PastSession, past_sessions
from assistant.programme import load_builtin
from assistant.session import S, Status
from assistant.timers import FakeClock
from assistant.ui import Countdown, ViewGroup
from assistant.web.history import history_page
from assistant.web.page import PageView, cue_label
from assistant.web.server import Guard, HistoryServer, LoopbackServer, PageServer
from tests.fakes import FakeView

SPEAKING = Status(
    state=S.SPEAKING,
    step_number=3,
    step_title="Practise healthy communication",
    exercise_title="Speaker and listener",
    floor="Ann",
    valid_cues=("next", "pause", "done", "stop", "support"),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(100.0)


@pytest.fixture
def page(clock: FakeClock) -> PageView:
    return PageView(clock, dataclasses.replace(load_builtin(), partners=("Ann", "Ben")))


# ---- the view --------------------------------------------------------------------------------


def test_the_page_shows_step_floor_countdown_and_cues(page: PageView, clock: FakeClock) -> None:
    page.heading("Speaker and listener")
    page.said("Ann, you have the floor.")
    page.update(SPEAKING, Countdown(deadline=clock.now() + 180, total=180))
    clock.advance(60)
    shown = page.snapshot()
    assert shown["step"] == "Step 3: Practise healthy communication"
    assert shown["exercise"] == "Speaker and listener"
    assert [step["where"] for step in shown["steps"]] == ["done", "done", "current", "to come", "to come"]
    assert shown["floor"] == {"who": "Ann has the floor", "note": "Ben listens"}
    assert shown["countdown"] == {"label": "Time left", "remaining": 120.0, "total": 180, "running": True, "speed": 1.0}
    assert shown["caption"] == ["Ann, you have the floor."]
    # "Your turn" first: it is what a couple most likely wants now; "help me" is a button of its own.
    assert [(cue["cue"], cue["label"], cue["primary"]) for cue in shown["cues"]] == [
        ("done", "Your turn", True),
        ("next", "Next", False),
        ("pause", "Pause", False),
        ("stop", "Stop for today", False),
    ]
    assert shown["support"] == "Help me"


def test_a_step_that_asks_whether_both_agree_offers_yes_first(page: PageView) -> None:
    asking = Status(S.STEP_INTRO, 2, "Identify what fractured trust", "", None, ("next", "yes", "no", "support"))
    assert [(cue["label"], cue["primary"]) for cue in page_cues(page, asking)] == [
        ("Yes", True),
        ("Next", False),
        ("Not yet", False),
    ]


def page_cues(page: PageView, status: Status) -> list[dict[str, object]]:
    page.update(status, None)
    cues = page.snapshot()["cues"]
    assert isinstance(cues, list)
    return cues


def test_a_held_timer_is_paused_and_a_time_out_counts_to_the_return(page: PageView, clock: FakeClock) -> None:
    paused = Status(S.PAUSED, 3, "Practise healthy communication", "Speaker and listener", None, ("resume",))
    page.update(paused, Countdown(deadline=None, total=180, remaining_when_held=75))
    clock.advance(30)
    assert page.snapshot()["countdown"]["label"] == "Paused"
    assert page.snapshot()["countdown"]["remaining"] == 75
    assert page.snapshot()["countdown"]["running"] is False
    away = Status(S.BREAK, 3, "Practise healthy communication", "", None, ("stop",))
    page.update(away, Countdown(deadline=clock.now() + 600, total=600))
    assert page.snapshot()["countdown"]["label"] == "Time out: back together in"


def test_what_was_heard_is_named_as_the_button_says_it(page: PageView) -> None:
    page.update(SPEAKING, None)
    page.heard(CueHeard("done", source="voice", phrase="your turn"))
    assert page.snapshot()["heard"] == "Heard: your turn"
    page.heard(CueHeard("done", source="key"))
    assert page.snapshot()["heard"] == "Pressed: your turn"
    assert cue_label("done", S.TALKING) == "We're done"
    assert cue_label("resume", S.SPEAKING) == "Carry on"


def test_chimes_are_not_notices_and_notices_go_with_the_state(page: PageView) -> None:
    page.update(SPEAKING, None)
    page.notice("chime: halfway")
    page.notice("Not sure that was a cue.")
    assert page.snapshot()["notices"] == ["Not sure that was a cue."]
    page.update(Status(S.REFLECTING, 3, "Practise", "Speaker and listener", "Ben", ("done",)), None)
    assert page.snapshot()["notices"] == []
    assert page.snapshot()["floor"] == {"who": "Ben has the floor", "note": "saying back what Ann said"}


def test_the_summary_is_a_chart_until_the_next_heading(page: PageView) -> None:
    page.summary("Speaker and listener", 2, (("Ann", 150.0), ("Ben", 75.0)))
    assert page.snapshot()["summary"] == {
        "title": "Speaker and listener",
        "turns": 2,
        "rows": [{"name": "Ann", "clock": "2:30", "share": 1.0}, {"name": "Ben", "clock": "1:15", "share": 0.5}],
    }
    page.heading("Talk")
    assert page.snapshot()["summary"] is None


def test_the_quick_exit_leaves_nothing_and_the_end_leaves_no_words(page: PageView) -> None:
    page.update(SPEAKING, None)
    page.said("Ann, you have the floor.")
    page.summary("Today", 2, (("Ann", 150.0), ("Ben", 75.0)))
    page.close()
    ended = page.snapshot()
    assert ended["ended"] and ended["caption"] == [] and ended["summary"] is not None
    page.clear()
    assert page.snapshot() == {"version": page.snapshot()["version"], "cleared": True, "ended": True}


def test_listeners_hear_every_change_until_they_stop(page: PageView) -> None:
    changes: list[int] = []
    stop = page.listen(lambda: changes.append(1))
    page.said("One.")
    page.update(SPEAKING, None)
    page.update(SPEAKING, None)  # no change: no call
    stop()
    page.said("Two.")
    assert len(changes) == 2


def test_a_view_group_tells_every_view() -> None:
    first, second = FakeView(), FakeView()
    group = ViewGroup(first, second)
    group.heading("Step 1")
    group.update(SPEAKING, None)
    group.clear()
    assert first.headings == second.headings == ["Step 1"]
    assert first.status == second.status == SPEAKING
    assert first.cleared and second.cleared


# ---- the guard on its own --------------------------------------------------------------------

SECRET = "s3cret-s3cret"
PORT = 8123


async def _asgi_status(app: Guard, method: str, path: str, headers: dict[str, str]) -> int:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    status = sent[0]["status"]
    assert isinstance(status, int)
    return status


async def _ok(scope: object, receive: object, send: object) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


GUARDED = Guard(_ok, secret=SECRET, port=PORT)  # type: ignore[arg-type]
OWN = {"Host": f"127.0.0.1:{PORT}"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", f"/{SECRET}/", OWN, 200),
        ("GET", f"/{SECRET}/events", {"Host": f"localhost:{PORT}"}, 200),
        ("POST", f"/{SECRET}/cue", {**OWN, "Origin": f"http://127.0.0.1:{PORT}"}, 200),
        ("GET", "/", OWN, 403),
        ("GET", "/static/page.js", OWN, 403),
        ("GET", f"/{SECRET[:-1]}/", OWN, 403),
        ("GET", f"/x{SECRET}/", OWN, 403),
        ("GET", f"/{SECRET}/", {}, 403),
        ("GET", f"/{SECRET}/", {"Host": "evil.example"}, 403),
        ("GET", f"/{SECRET}/", {"Host": f"evil.example:{PORT}"}, 403),
        ("GET", f"/{SECRET}/", {"Host": "127.0.0.1:9999"}, 403),
        ("POST", f"/{SECRET}/cue", OWN, 403),
        ("POST", f"/{SECRET}/cue", {**OWN, "Origin": "http://evil.example"}, 403),
        ("POST", f"/{SECRET}/cue", {**OWN, "Origin": "null"}, 403),
        ("POST", f"/{SECRET}/cue", {**OWN, "Origin": "http://127.0.0.1:9999"}, 403),
        ("GET", f"/{SECRET}/events", {**OWN, "Origin": "http://evil.example"}, 403),
        ("GET", f"/{SECRET}/", {**OWN, "Sec-Fetch-Site": "none"}, 200),
        ("GET", f"/{SECRET}/events", {**OWN, "Sec-Fetch-Site": "same-origin"}, 200),
        ("GET", f"/{SECRET}/", {**OWN, "Sec-Fetch-Site": "cross-site"}, 403),
        ("POST", f"/{SECRET}/cue", {**OWN, "Origin": f"http://127.0.0.1:{PORT}", "Sec-Fetch-Site": "same-site"}, 403),
    ],
)
def test_the_guard_wants_the_secret_this_host_and_this_origin(
    method: str, path: str, headers: dict[str, str], status: int
) -> None:
    assert asyncio.run(_asgi_status(GUARDED, method, path, headers)) == status


# ---- the real server -------------------------------------------------------------------------


@pytest.fixture
def served(page: PageView) -> Iterator[tuple[PageServer, list[Event]]]:
    posted: list[Event] = []
    server = PageServer(page)
    server.start(posted.append)
    yield server, posted
    server.close()


@dataclasses.dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _connect(
    server: LoopbackServer, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, path, body=body, headers={"Host": f"127.0.0.1:{server.port}", **(headers or {})})
    return connection, connection.getresponse()


def _request(
    server: LoopbackServer, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> Answer:
    connection, response = _connect(server, method, path, headers, body)
    try:
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_the_server_answers_only_at_its_secret_address(served: tuple[PageServer, list[Event]]) -> None:
    server, _ = served
    assert server.url == f"http://127.0.0.1:{server.port}/{server.secret}/"
    page = _request(server, "GET", f"/{server.secret}/")
    assert page.status == 200 and b'src="static/main.js"' in page.body
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Access-Control-Allow-Origin"] is None  # no CORS
    assert page.headers["Set-Cookie"] is None
    for path in ("/", "/static/page.js", "/events", f"/{server.secret[:-2]}/"):
        refused = _request(server, "GET", path)
        assert (refused.status, refused.body) == (403, b"Forbidden")
    assert _request(server, "GET", f"/{server.secret}/static/page.css").status == 200
    assert _request(server, "GET", f"/{server.secret}/history.json").status == 404


def test_a_wrong_host_is_refused(served: tuple[PageServer, list[Event]]) -> None:
    server, _ = served
    assert _request(server, "GET", f"/{server.secret}/", {"Host": f"rebound.example:{server.port}"}).status == 403


def test_a_cue_from_the_page_goes_on_the_queue_as_a_key_and_from_elsewhere_is_refused(
    served: tuple[PageServer, list[Event]],
) -> None:
    server, posted = served
    own = {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json"}
    body = json.dumps({"cue": "done"}).encode()
    cue = f"/{server.secret}/cue"
    assert _request(server, "POST", cue, {**own, "Origin": "http://evil.example"}, body).status == 403
    assert _request(server, "POST", cue, {"Content-Type": "application/json"}, body).status == 403
    assert _request(server, "POST", "/cue", own, body).status == 403
    assert posted == []
    assert _request(server, "POST", cue, own, b'{"cue": "shout"}').status == 400
    assert _request(server, "POST", cue, {**own, "Content-Type": "text/plain"}, body).status == 415
    assert _request(server, "POST", cue, own, body).status == 204
    assert _request(server, "POST", f"/{server.secret}/leave", own, b"{}").status == 204
    assert posted == [CueHeard("done", source="key"), QuickExitRequested()]


def test_the_stream_sends_the_page_then_each_change_and_ends_with_the_session(
    served: tuple[PageServer, list[Event]], page: PageView
) -> None:
    server, _ = served
    page.said("Welcome.")
    connection, stream = _connect(server, "GET", f"/{server.secret}/events")
    assert stream.getheader("Content-Type", "").startswith("text/event-stream")

    def next_snapshot() -> dict[str, object]:
        line = stream.readline()
        while not line.startswith(b"data: "):
            line = stream.readline()
        snapshot = json.loads(line.removeprefix(b"data: "))
        assert isinstance(snapshot, dict)
        return snapshot

    assert next_snapshot()["caption"] == ["Welcome."]
    page.said("Next line.")
    assert next_snapshot()["caption"] == ["Welcome.", "Next line."]
    server.close()  # the session is over
    last = next_snapshot()
    assert last["ended"] is True and last["caption"] == []
    connection.close()
    with pytest.raises(OSError):
        _request(server, "GET", f"/{server.secret}/")


# ---- the command line --------------------------------------------------------------------------


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["run", "--web", "--no-browser", "--text", "--auto", "--port", str(port), "--data-dir", str(tmp_path)]
        assert main(argv) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"assistant: cannot serve the page on 127.0.0.1:{port}: ") and err.count("\n") == 1


def test_the_address_is_the_first_line_and_the_session_runs_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --no-browser (or --port) alone means --web.
    assert main(["run", "--no-browser", "--text", "--auto", "--fast", "1000", "--data-dir", str(tmp_path)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"Open http://127\.0\.0\.1:\d+/[\w-]+/ .*", lines[0])
    assert not any("http://" in line for line in lines[1:])
    assert "Step 5: Rebuild intimate moments" in lines


def test_history_web_without_a_journal_is_the_one_line_history_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--web", "--no-browser", "--data-dir", str(tmp_path)]) == EXIT_OK
    assert capsys.readouterr().out == f"No sessions yet (nothing in {tmp_path}).\n"


# ---- the history page ------------------------------------------------------------------------

DAY_S = 24 * 3600
NOW = 1_800_000_000.0


def _past(days_ago: float, **floor: float) -> PastSession:
    return PastSession(NOW - days_ago * DAY_S, 20.0, True, (1, 2), floor, 0)


def test_the_history_page_charts_each_partners_minutes_week_by_week() -> None:
    sessions = [_past(15, Ann=300, Ben=240), _past(8, Ann=600), _past(2, Ann=1200, Ben=900), _past(0.1, Ann=0, Ben=300)]
    shown = history_page(sessions, NOW, weeks=4)
    assert [week["label"] for week in shown["weeks"]] == ["This week", "1 week ago", "2 weeks ago", "3 weeks ago"]
    assert [week["rows"] for week in shown["weeks"]] == [
        [{"name": "Ann", "minutes": "20 min", "share": 1.0}, {"name": "Ben", "minutes": "20 min", "share": 1.0}],
        [{"name": "Ann", "minutes": "10 min", "share": 0.5}, {"name": "Ben", "minutes": "0.0 min", "share": 0.0}],
        [{"name": "Ann", "minutes": "5.0 min", "share": 0.25}, {"name": "Ben", "minutes": "4.0 min", "share": 0.2}],
        [],  # no time on the floor: no bars, the page says so
    ]
    assert len(shown["sessions"]) == 4
    newest = shown["sessions"][0]
    assert newest["details"] == "20 min · steps 1, 2 · completed"
    assert newest["floor"] == "Ann 0.0 min, Ben 5.0 min"
    assert history_page([], NOW) == {"weeks": history_page([_past(60, Ann=60)], NOW)["weeks"], "sessions": []}


def keep_sessions(data_dir: Path, *sessions: tuple[float, dict[str, float]]) -> None:
    """A journal holding a session for each (days ago, seconds on the floor by name), through the
    real Journal API; then each is dated back, as time would have done."""
    journal = Journal(data_dir, load_builtin().title)
    dated = []
    for days_ago, floor in sessions:
        journal.begin_session()
        for name, seconds in floor.items():
            journal.record_round(RecordRound(0, 0, "speak", name, seconds, "timer"))
        journal.end_session(completed=True)
        started = time.time() - days_ago * DAY_S
        dated.append((started, started + 25 * 60, journal.session_id))
    journal.close()
    with closing(sqlite3.connect(journal.path)) as db, db:
        db.executemany("UPDATE sessions SET started_at = ?, ended_at = ? WHERE id = ?", dated)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryServer]:
    keep_sessions(tmp_path, (9, {"Ann": 300, "Ben": 200}), (1, {"Ann": 600, "Ben": 660}))
    journal = Journal(tmp_path, load_builtin().title)
    try:
        server = HistoryServer(history_page(past_sessions(journal), time.time()))
    finally:
        journal.close()
    server.start()
    yield server
    server.close()


def test_the_history_is_served_only_at_its_secret_address_from_this_host(history: HistoryServer) -> None:
    assert history.url == f"http://127.0.0.1:{history.port}/{history.secret}/history"
    page = _request(history, "GET", f"/{history.secret}/history")
    assert page.status == 200 and b'src="static/main.js"' in page.body
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Set-Cookie"] is None and page.headers["Access-Control-Allow-Origin"] is None
    for path in ("/history", "/history.json", f"/{history.secret[:-1]}/history.json", "/static/chart.js"):
        assert _request(history, "GET", path).status == 403
    assert (
        _request(history, "GET", f"/{history.secret}/history.json", {"Host": f"evil.example:{history.port}"}).status
        == 403
    )
    for name in ("main.js", "history.js", "chart.js", "page.css"):
        assert _request(history, "GET", f"/{history.secret}/static/{name}").status == 200
    # The session's routes are not the history's, nor the history's the session's.
    assert _request(history, "GET", f"/{history.secret}/events").status == 404
    assert _request(history, "GET", f"/{history.secret}/").status == 404


def test_the_history_serves_the_weekly_chart(history: HistoryServer) -> None:
    answer = _request(history, "GET", f"/{history.secret}/history.json")
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    shown = json.loads(answer.body)
    weeks = {week["label"]: week["rows"] for week in shown["weeks"]}
    assert weeks["This week"] == [
        {"name": "Ann", "minutes": "10 min", "share": 0.909},
        {"name": "Ben", "minutes": "11 min", "share": 1.0},
    ]
    assert [row["minutes"] for row in weeks["1 week ago"]] == ["5.0 min", "3.3 min"]
    assert weeks["2 weeks ago"] == []
    assert [past["details"] for past in shown["sessions"]] == ["25 min · step 1 · completed"] * 2


def test_the_close_button_is_heard_from_the_page_only(history: HistoryServer) -> None:
    own = {"Origin": f"http://127.0.0.1:{history.port}"}
    close = f"/{history.secret}/close"
    assert _request(history, "POST", close, {"Origin": "http://evil.example"}).status == 403
    assert _request(history, "POST", close).status == 403  # a change with no Origin: not from a browser's page
    assert _request(history, "POST", close, {**own, "Sec-Fetch-Site": "same-site"}).status == 403
    assert _request(history, "GET", close, own).status == 405
    assert not history.wait(timeout=0)
    assert _request(history, "POST", close, own).status == 204
    assert history.wait(timeout=10)


def test_history_web_prints_its_address_first_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    keep_sessions(tmp_path, (0, {"Ann": 120, "Ben": 90}))
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "history", "--web", "--no-browser", "--data-dir", str(tmp_path)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={name: value for name, value in os.environ.items() if name not in ("DISPLAY", "WAYLAND_DISPLAY")},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.fullmatch(r"Open (http://127\.0\.0\.1:(\d+)/([\w-]+)/history) .*\n", first)
        assert match, first
        connection = http.client.HTTPConnection("127.0.0.1", int(match[2]), timeout=10)
        connection.request("GET", f"/{match[3]}/history.json", headers={"Host": f"127.0.0.1:{match[2]}"})
        answer = connection.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["weeks"][0]["rows"][0]["minutes"] == "2.0 min"
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == EXIT_OK, err
    assert "http://" not in out and err == ""
