"""Build a talk set's folder from its listing, so anyone can measure on the same files.

    .venv/bin/python benchmarks/talk_set.py benchmarks/sets/conversation.csv DEST --clones DIR

Each row of a listing (`benchmarks/sets/*.csv`) names a file of a public repository at a commit.
DIR holds a clone of each repository, as `DIR/<owner>+<name>` or `DIR/<owner>/<name>` (a bare
clone, or a work tree, or either with the git folder in `repo/`); a missing one is named with
the `git clone` that would bring it. Each file is read from its commit, converted to 16 kHz mono
16-bit WAV at `DEST/<file>` (with sox; mp3 with ffmpeg, which drops the encoder's padding as
the listing's lengths do), and its length checked against the listing (a listing that no longer
matches its sources names its line). The audio stays out of this repository.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

LENGTH_TOLERANCE_S = 0.02
"""How far a converted file may be from the listed length: the listing rounds to 10 ms."""


class ListingError(Exception):
    """A row of a listing that cannot be built; the message names the listing and its line."""


def git_dir(clones: Path, repo: str) -> Path | None:
    """The clone of `owner/name` under `clones`, in any of the layouts the docstring names."""
    owner, _, name = repo.partition("/")
    for base in (clones / f"{owner}+{name}", clones / owner / name):
        for candidate in (base / "repo", base / ".git", base):
            if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
                return candidate
    return None


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def build_file(git: Path, commit: str, source: str, dest: Path) -> None:
    """`source` at `commit`, converted to the 16 kHz mono WAV the recognizer hears, at `dest`."""
    shown = subprocess.run(["git", "--git-dir", str(git), "show", f"{commit}:{source}"], capture_output=True)
    if shown.returncode != 0:
        raise ListingError(f"{source} is not in commit {commit[:7]}: {shown.stderr.decode().strip()}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    converter = converter_for(source)
    with tempfile.TemporaryDirectory() as scratch:
        # Both tools name the format by the file's extension, so the original name is kept.
        original = Path(scratch) / Path(source).name
        original.write_bytes(shown.stdout)
        if converter == "ffmpeg":
            command = ["ffmpeg", "-v", "error", "-y", "-i", str(original), "-ac", "1", "-ar", "16000"]
            command += ["-c:a", "pcm_s16le", str(dest)]
        else:
            command = ["sox", str(original), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", str(dest)]
        converted = subprocess.run(command, capture_output=True, text=True)
    if converted.returncode != 0:
        raise ListingError(f"{converter} could not convert {source}: {converted.stderr.strip()}")


def converter_for(source: str) -> str:
    """sox for most files; ffmpeg for mp3, whose encoder delay sox's decoder keeps (5.08 s, not
    5.00 s, for a file the listing says lasts 5.00 s)."""
    return "ffmpeg" if source.lower().endswith(".mp3") else "sox"


def read_listing(listing: Path) -> list[dict[str, str]]:
    """The rows of a listing, by column name."""
    with listing.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def build(listing: Path, rows: list[dict[str, str]], dest: Path, clones: Path) -> int:
    """Build every row of `listing` into `dest`; the number of files built."""
    built = 0
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{listing}:{line}"
        git = git_dir(clones, row["source_repo"])
        if git is None:
            repo = row["source_repo"]
            bring = f"git clone --bare https://github.com/{repo} {clones}/{repo.replace('/', '+')}"
            raise ListingError(f"{where}: no clone of {repo} in {clones} ({bring})")
        target = dest / row["file"]
        try:
            build_file(git, row["commit"], row["source_path"], target)
        except ListingError as exc:
            raise ListingError(f"{where}: {exc}") from None
        seconds = wav_seconds(target)
        if abs(seconds - float(row["seconds"])) > LENGTH_TOLERANCE_S:
            raise ListingError(f"{where}: {row['file']} lasts {seconds:.2f} s, the listing says {row['seconds']}")
        built += 1
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listing", type=Path, help="a talk set's CSV, e.g. benchmarks/sets/conversation.csv")
    parser.add_argument("dest", type=Path, help="the folder to build the set in (--conversation reads it)")
    parser.add_argument("--clones", type=Path, required=True, metavar="DIR", help="where the source clones are")
    args = parser.parse_args(argv)
    rows = read_listing(args.listing)
    for tool in sorted({converter_for(row["source_path"]) for row in rows}):
        if shutil.which(tool) is None:
            print(f"talk_set: {tool} is needed to convert this set's files: `apt-get install {tool}`", file=sys.stderr)
            return 2
    try:
        built = build(args.listing, rows, args.dest, args.clones)
    except ListingError as exc:
        print(f"talk_set: {exc}", file=sys.stderr)
        return 1
    print(f"{built} files in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
