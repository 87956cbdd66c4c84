"""Progress and round statistics in SQLite: numbers only, never audio, never words.

Every change is committed at once, so a crash loses at most the round in progress. The file is
private to the user (0600 in a 0700 folder).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.events import RecordRound
from assistant.session import Place

APP_NAME = "couples-trust-assistant"
FILE_NAME = "journal.sqlite3"
SET_ASIDE = ".set-aside-"
"""How an unreadable journal is renamed: `journal.sqlite3.set-aside-YYYYmmdd-HHMMSS`."""
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    programme TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    completed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS progress (
    programme TEXT PRIMARY KEY,
    step INTEGER NOT NULL,
    exercise INTEGER NOT NULL,
    turn INTEGER NOT NULL DEFAULT 0,
    completed_steps TEXT NOT NULL,
    finished INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    step INTEGER NOT NULL,
    exercise INTEGER NOT NULL,
    phase TEXT NOT NULL,
    partner TEXT,
    seconds REAL NOT NULL,
    ended_by TEXT NOT NULL,
    spoken_seconds REAL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS not_ready (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    step INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS timeouts (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at REAL NOT NULL
);
"""


def _problem_with(path: Path) -> str | None:
    """Why an existing journal must not be written to, or None when it is sound."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                return f"was written by a newer version of the assistant (format {version})"
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return "is damaged"
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return "is not a journal the assistant can read"
    return None


def _open(path: Path) -> sqlite3.Connection:
    # Create the file private before SQLite opens it, so it is never readable by others.
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    db = sqlite3.connect(path, isolation_level=None)  # autocommit: every change lands at once
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=FULL")  # a power cut loses at most the change in flight
    db.executescript(SCHEMA)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return db


def _set_aside(path: Path) -> Path:
    """Rename an unreadable journal beside itself, never over one set aside before; returns the new path."""
    stem = f"{path.name}{SET_ASIDE}{time.strftime('%Y%m%d-%H%M%S')}"
    kept, number = path.with_name(stem), 1
    while kept.exists():
        number += 1
        kept = path.with_name(f"{stem}-{number}")
    os.replace(path, kept)
    return kept


def set_aside_notice(data_dir: Path, besides: Path | None = None) -> str | None:
    """A sentence naming the journals set aside in `data_dir` (but `besides`), or None if there are none."""
    kept = [path for path in sorted(data_dir.glob(f"{FILE_NAME}{SET_ASIDE}*")) if path != besides]
    if not kept:
        return None
    if len(kept) == 1:
        return f"An earlier journal that could not be read is kept unchanged as {kept[0]}."
    names = ", ".join(path.name for path in kept)
    return f"{len(kept)} earlier journals that could not be read are kept unchanged in {data_dir}: {names}."


def unreadable_notice(data_dir: Path) -> str | None:
    """What in `data_dir` cannot be read (the journal, journals set aside), without opening anything; or None."""
    path = data_dir / FILE_NAME
    problem = _problem_with(path) if path.exists() else None
    said = [f"Your journal {path} {problem}." if problem else None, set_aside_notice(data_dir)]
    return " ".join(part for part in said if part) or None


def default_data_dir() -> Path:
    """The platform's user data folder for the assistant."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Journal:
    """What the assistant keeps between sessions, keyed by programme title."""

    def __init__(self, data_dir: Path, programme: str) -> None:
        self.programme = programme
        self.path = data_dir / FILE_NAME
        self.notice: str | None = None
        """Set when an unreadable journal was set aside: tell the user once."""
        self.kept: Path | None = None
        """Where the unreadable journal was set aside, if it was."""
        self.session_id: int | None = None
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(data_dir, 0o700)
            problem = _problem_with(self.path) if self.path.exists() else None
            if problem:
                self.kept = _set_aside(self.path)
                self.notice = (
                    f"Your journal {self.path} {problem}; it was kept unchanged as {self.kept.name}"
                    " and a new one started."
                )
            self._db = _open(self.path)
        except (OSError, sqlite3.Error) as error:
            raise AssistantError(f"cannot keep progress in {self.path}: {error}") from None

    def saved_place(self) -> Place | None:
        """Where the couple left off, or None if they finished or never started."""
        row = self._db.execute(
            "SELECT step, exercise, turn, finished FROM progress WHERE programme = ?", (self.programme,)
        ).fetchone()
        if row is None or row[3]:
            return None
        return Place(step=row[0], exercise=row[1], turn=row[2])

    def forget_place(self) -> None:
        self._db.execute("DELETE FROM progress WHERE programme = ?", (self.programme,))

    def begin_session(self) -> None:
        cursor = self._db.execute(
            "INSERT INTO sessions (programme, started_at) VALUES (?, ?)", (self.programme, time.time())
        )
        self.session_id = cursor.lastrowid

    def end_session(self, completed: bool) -> None:
        if self.session_id is None:
            return
        self._db.execute(
            "UPDATE sessions SET ended_at = ?, completed = ? WHERE id = ?",
            (time.time(), int(completed), self.session_id),
        )

    def save_place(self, place: Place, completed_steps: tuple[int, ...], finished: bool) -> None:
        self._db.execute(
            "INSERT INTO progress (programme, step, exercise, turn, completed_steps, finished, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(programme) DO UPDATE SET step = excluded.step,"
            " exercise = excluded.exercise, turn = excluded.turn, completed_steps = excluded.completed_steps,"
            " finished = excluded.finished, updated_at = excluded.updated_at",
            (
                self.programme,
                place.step,
                place.exercise,
                place.turn,
                ",".join(str(s) for s in completed_steps),
                int(finished),
                time.time(),
            ),
        )

    def record_round(self, record: RecordRound) -> None:
        self._db.execute(
            "INSERT INTO rounds (session_id, step, exercise, phase, partner, seconds, ended_by, spoken_seconds, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.session_id,
                record.step,
                record.exercise,
                record.phase,
                record.partner,
                record.seconds,
                record.ended_by,
                record.spoken_seconds,
                time.time(),
            ),
        )

    def record_not_ready(self, step: int) -> None:
        self._db.execute(
            "INSERT INTO not_ready (session_id, step, at) VALUES (?, ?, ?)", (self.session_id, step, time.time())
        )

    def has_sessions(self) -> bool:
        """True once any session has begun: the safety note is said before the first one."""
        return self._db.execute("SELECT 1 FROM sessions LIMIT 1").fetchone() is not None

    def record_timeout(self) -> None:
        self._db.execute("INSERT INTO timeouts (session_id, at) VALUES (?, ?)", (self.session_id, time.time()))

    def rounds(self) -> list[RecordRound]:
        """Every round of this session, in order."""
        rows = self._db.execute(
            "SELECT step, exercise, phase, partner, seconds, ended_by, spoken_seconds FROM rounds"
            " WHERE session_id = ? ORDER BY id",
            (self.session_id,),
        ).fetchall()
        return [RecordRound(*row) for row in rows]

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class PastSession:
    """One past session as `assistant history` shows it."""

    started_at: float
    minutes: float
    completed: bool
    steps: tuple[int, ...]
    """1-based numbers of the steps practised."""
    floor_seconds: dict[str, float]
    timeouts: int


WEEK_S = 7 * 24 * 3600


def floor_by_week(sessions: list[PastSession], now: float, weeks: int) -> list[dict[str, float]]:
    """Seconds on the floor per partner in each of the last `weeks` weeks, this week (the seven
    days before `now`) first; partners in the order they first held the floor."""
    by_week: list[dict[str, float]] = [{} for _ in range(weeks)]
    for past in sessions:
        age = int((now - past.started_at) // WEEK_S)
        if 0 <= age < weeks:
            for name, seconds in past.floor_seconds.items():
                by_week[age][name] = by_week[age].get(name, 0.0) + seconds
    return by_week


def past_sessions(journal: Journal) -> list[PastSession]:
    """Every session in the journal, oldest first, with the numbers worth showing."""
    db = journal._db
    found = []
    for session_id, started, ended, completed in db.execute(
        "SELECT id, started_at, ended_at, completed FROM sessions ORDER BY started_at"
    ):
        rounds = db.execute(
            "SELECT step, phase, partner, seconds FROM rounds WHERE session_id = ?", (session_id,)
        ).fetchall()
        floor: dict[str, float] = {}
        for _, phase, partner, seconds in rounds:
            if phase == "speak" and partner:
                floor[partner] = floor.get(partner, 0.0) + seconds
        timeouts = db.execute("SELECT COUNT(*) FROM timeouts WHERE session_id = ?", (session_id,)).fetchone()[0]
        found.append(
            PastSession(
                started_at=started,
                minutes=((ended or started) - started) / 60,
                completed=bool(completed),
                steps=tuple(sorted({step + 1 for step, *_ in rounds})),
                floor_seconds=floor,
                timeouts=timeouts,
            )
        )
    return found


def export(journal: Journal) -> dict[str, object]:
    """Everything the journal keeps, as plain data (numbers and dates; there are no words to export)."""
    db = journal._db
    tables = {}
    for table in ("sessions", "progress", "rounds", "timeouts", "not_ready"):
        cursor = db.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
        columns = [c[0] for c in cursor.description]
        tables[table] = [dict(zip(columns, row, strict=True)) for row in cursor]
    return {"format": SCHEMA_VERSION, **tables}


def forget(data_dir: Path) -> list[Path]:
    """Delete the journal and any journals set aside beside it; returns what was deleted."""
    deleted = []
    for path in sorted(data_dir.glob(FILE_NAME + "*")):
        path.unlink()
        deleted.append(path)
    return deleted
