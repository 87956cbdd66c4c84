"""Progress and round statistics in SQLite: numbers only, never audio, never words.

Every change is committed at once, so a crash loses at most the round in progress. The file is
private to the user (0600 in a 0700 folder).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from assistant.errors import AssistantError
from assistant.events import RecordRound
from assistant.session import Place

APP_NAME = "couples-trust-assistant"
FILE_NAME = "journal.sqlite3"
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


def default_data_dir() -> Path:
    """The platform's user data folder for the assistant."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Journal:
    """What the assistant keeps between sessions, keyed by programme title."""

    def __init__(self, data_dir: Path, programme: str) -> None:
        self.programme = programme
        self.path = data_dir / FILE_NAME
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(data_dir, 0o700)
            # Create the file private before SQLite opens it, so it is never readable by others.
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
            self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit: every change lands at once
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.executescript(SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as error:
            raise AssistantError(f"cannot keep progress in {self.path}: {error}") from None
        self.session_id: int | None = None

    def saved_place(self) -> Place | None:
        """Where the couple left off, or None if they finished or never started."""
        row = self._db.execute(
            "SELECT step, exercise, finished FROM progress WHERE programme = ?", (self.programme,)
        ).fetchone()
        if row is None or row[2]:
            return None
        return Place(step=row[0], exercise=row[1])

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
            "INSERT INTO progress (programme, step, exercise, completed_steps, finished, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(programme) DO UPDATE SET step = excluded.step,"
            " exercise = excluded.exercise, completed_steps = excluded.completed_steps,"
            " finished = excluded.finished, updated_at = excluded.updated_at",
            (
                self.programme,
                place.step,
                place.exercise,
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
