from __future__ import annotations

import stat
from pathlib import Path

from assistant.events import RecordRound
from assistant.journal import FILE_NAME, Journal
from assistant.session import Place


def test_the_journal_is_private_to_the_user(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    journal = Journal(data_dir, "Programme")
    journal.close()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / FILE_NAME).stat().st_mode) == 0o600


def test_the_place_survives_reopening(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "Programme")
    journal.begin_session()
    journal.save_place(Place(2, 1), (0, 1), finished=False)
    journal.record_round(RecordRound(2, 1, "speak", "Ann", 12.5, "cue"))
    journal.close()  # no explicit commit: every change has already landed

    again = Journal(tmp_path, "Programme")
    assert again.saved_place() == Place(2, 1)
    assert Journal(tmp_path, "Another programme").saved_place() is None
    again.save_place(Place(0, 0), (0, 1, 2, 3, 4), finished=True)
    assert again.saved_place() is None
    again.close()


def test_rounds_are_kept_as_numbers_only(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "Programme")
    journal.begin_session()
    journal.record_round(RecordRound(0, 0, "speak", "Ann", 30.0, "timer"))
    journal.record_round(RecordRound(0, 0, "speak", "Ben", 12.0, "cue"))
    assert [r.seconds for r in journal.rounds()] == [30.0, 12.0]
    journal.end_session(completed=False)
    journal.close()


def _sessions_in(path: Path) -> int:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
    finally:
        db.close()


def test_a_corrupt_journal_is_set_aside_untouched(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    garbage = b"this is not a database, but somebody's progress might be in it" * 100
    path.write_bytes(garbage)
    journal = Journal(tmp_path, "Programme")
    assert journal.notice is not None and "not a journal the assistant can read" in journal.notice
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(FILE_NAME + ".set-aside-")]
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert journal.saved_place() is None
    journal.close()


def test_a_journal_from_a_newer_version_is_never_overwritten(tmp_path: Path) -> None:
    import sqlite3

    journal = Journal(tmp_path, "Programme")
    journal.begin_session()
    journal.close()
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute("PRAGMA user_version=99")
    db.close()
    before = (tmp_path / FILE_NAME).read_bytes()

    journal = Journal(tmp_path, "Programme")
    assert journal.notice is not None and "newer version" in journal.notice
    journal.close()
    kept = next(p for p in tmp_path.iterdir() if ".set-aside-" in p.name)
    assert kept.read_bytes() == before and _sessions_in(kept) == 1
    assert _sessions_in(tmp_path / FILE_NAME) == 0


def _damage(path: Path) -> bytes:
    """Overwrite a journal's first bytes, as a failing disk might; returns what is left."""
    damaged = b"\0" * 16 + path.read_bytes()[16:]
    path.write_bytes(damaged)
    return damaged


def test_a_journal_set_aside_twice_keeps_both_copies(tmp_path: Path) -> None:
    copies = []
    for _ in range(2):  # most often within one second: the second copy must not replace the first
        journal = Journal(tmp_path, "Programme")
        journal.begin_session()
        journal.close()
        copies.append(_damage(tmp_path / FILE_NAME))
        journal = Journal(tmp_path, "Programme")
        assert journal.kept is not None and journal.kept.name in (journal.notice or "")
        journal.close()
    kept = sorted(p for p in tmp_path.iterdir() if ".set-aside-" in p.name)
    assert sorted(p.read_bytes() for p in kept) == sorted(copies)


def test_what_cannot_be_read_is_named_without_opening_anything(tmp_path: Path) -> None:
    from assistant.journal import set_aside_notice, unreadable_notice

    assert unreadable_notice(tmp_path) is None and set_aside_notice(tmp_path) is None
    journal = Journal(tmp_path, "Programme")
    journal.close()
    damaged = _damage(tmp_path / FILE_NAME)

    notice = unreadable_notice(tmp_path)
    assert notice == f"Your journal {tmp_path / FILE_NAME} is not a journal the assistant can read."
    assert (tmp_path / FILE_NAME).read_bytes() == damaged  # only looked at

    journal = Journal(tmp_path, "Programme")
    journal.close()
    assert journal.kept is not None
    assert set_aside_notice(tmp_path, besides=journal.kept) is None
    expected = f"An earlier journal that could not be read is kept unchanged as {journal.kept}."
    assert unreadable_notice(tmp_path) == expected
