"""Privacy by construction: no network at all, and nothing but the journal written to disk.

Each command runs in a fresh interpreter with an audit hook that refuses every network call
(socket connect/bind/send and name lookups) and lists every file opened for writing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import needs_espeak

ROOT = Path(__file__).resolve().parents[1]

GUARD = r"""
import json, os, sys
NETWORK = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr", "urllib.Request",
           "http.client.connect", "ftplib.connect", "smtplib.connect"}
report = {"network": [], "writes": [], "open": True}
def guard(event, args):
    if not report["open"]:
        return
    if event in NETWORK:
        if event == "socket.connect" and isinstance(args[1], (str, bytes)):
            return  # a local (AF_UNIX) socket, such as the sound server's, is not the network
        report["network"].append(event)
        raise PermissionError(f"blocked by the privacy test: {event}")
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing and path != os.devnull:
            report["writes"].append(os.fspath(path) if not isinstance(path, int) else f"fd {path}")
    if event == "sqlite3.connect":
        report["writes"].append(os.fspath(args[0]))
sys.addaudithook(guard)
from assistant.cli import main
try:
    code = main(sys.argv[2:])
finally:
    report["open"] = False
    with open(sys.argv[1], "w") as out:
        json.dump(report, out)
sys.exit(code)
"""


def _files_in(folder: Path) -> list[Path]:
    # Folders may appear (the sound library makes an empty runtime folder when it looks for a
    # sound server); files may not.
    return [path for path in folder.rglob("*") if not path.is_dir()]


def run_guarded(tmp_path: Path, *args: str, stdin: str = "") -> tuple[int, dict[str, list[str]], str]:
    report = tmp_path / "report.json"
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "TMPDIR": str(tmp_path / "tmp"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    process = subprocess.run(
        [sys.executable, "-c", GUARD, str(report), *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return process.returncode, json.loads(report.read_text()), process.stdout + process.stderr


def test_a_whole_session_makes_no_network_call_and_writes_only_the_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, report, output = run_guarded(tmp_path, "run", "--text", "--auto", "--fast", "1000", "--data-dir", str(data))
    assert code == 0, output
    assert report["network"] == []
    written = {Path(p).resolve() for p in report["writes"]}
    assert written <= {(data / "journal.sqlite3").resolve()}, written
    assert _files_in(tmp_path / "tmp") == [], "a session left temporary files"
    assert sorted(p.name for p in data.iterdir()) == ["journal.sqlite3"]


@needs_espeak
def test_saying_a_line_makes_no_network_call_and_writes_nothing(tmp_path: Path) -> None:
    code, report, output = run_guarded(tmp_path, "say", "Take your time.")
    assert report["network"] == [], output
    assert report["writes"] == []
    assert _files_in(tmp_path / "tmp") == []


def test_the_journal_holds_numbers_and_names_only(tmp_path: Path) -> None:
    """Every text column of every table: programme titles, partner names, phases; never speech."""
    import sqlite3

    data = tmp_path / "data"
    code, _, output = run_guarded(tmp_path, "run", "--text", "--auto", "--fast", "1000", "--data-dir", str(data))
    assert code == 0, output
    db = sqlite3.connect(data / "journal.sqlite3")
    texts = set()
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in db.execute(f"SELECT * FROM {table}"):
            texts.update(value for value in row if isinstance(value, str))
    db.close()
    allowed = {"Rebuilding trust together", "Partner A", "Partner B", "speak", "reflect", "talk", "cue", "timer"}
    texts = {t for t in texts if not t.replace(",", "").isdigit()}  # completed steps, as "0,1,2"
    assert texts <= allowed, texts - allowed


@needs_espeak
def test_spotting_cues_makes_no_network_call_and_writes_nothing(tmp_path: Path) -> None:
    clip = tmp_path / "done.wav"
    subprocess.run(["espeak-ng", "-w", str(clip), "I'm done"], check=True)
    code, report, output = run_guarded(tmp_path, "cues", str(clip))
    assert code == 0, output
    assert report["network"] == []
    # The keyword searches are given their phrases directly: no file is written at all.
    paths = [p for p in report["writes"] if not p.startswith("fd ")]
    assert paths == [], paths
    assert _files_in(tmp_path / "tmp") == []


@needs_espeak
def test_the_demo_makes_no_network_call_and_writes_only_its_two_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    wav, transcript = out / "demo.wav", out / "demo.txt"
    code, report, output = run_guarded(tmp_path, "demo", "--wav", str(wav), "--transcript", str(transcript))
    assert code == 0, output
    assert report["network"] == []
    paths = {Path(p).resolve() for p in report["writes"] if not p.startswith("fd ")}
    # The recording and the transcript, nothing else: no journal, nothing in the home folder.
    assert paths == {wav.resolve(), transcript.resolve()}, paths
    assert _files_in(tmp_path / "tmp") == []
    assert _files_in(tmp_path / "home") == []
    assert sorted(p.name for p in out.iterdir()) == ["demo.txt", "demo.wav"]
