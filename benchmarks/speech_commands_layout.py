"""Lay out a Speech Commands test set as the cue benchmark's `--unseen` reads it.

    .venv/bin/python benchmarks/speech_commands_layout.py SRC DEST [--skip DIR]...

SRC is a Speech Commands v0.02 test set as keyword-spotting projects keep it: one folder per
command word, `_unknown_/<word>_<speaker>_nohash_<n>.wav[.wav]` for the other words, and
`_silence_`. DEST gets `<word>/<speaker>_nohash_<n>.wav`. Byte-identical files are kept once
(the set repeats some takes), and clips already in a `--skip` folder of the same layout (by name
or by content; for ../shared's clips that folder is `../shared/speech/words`) are left out, so
two unseen sets do not count one recording twice. The audio is copied, never converted; it stays
out of this repository.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

NOT_WORDS = ("_silence_", "_background_noise_")
"""Folders of the data set that hold no word."""


def speaker_of(path: Path) -> str:
    """The speaker of a clip named `<speaker>_nohash_<take>.wav`."""
    return path.name.partition("_")[0]


def digest(path: Path) -> str:
    """A clip's content, to find the same recording under two names."""
    return hashlib.sha1(path.read_bytes()).hexdigest()


def clips(src: Path) -> list[tuple[str, str, Path]]:
    """(word, file name, path) of every clip under `src`, in a fixed order."""
    found = []
    for path in sorted(src.glob("*/*.wav")):
        folder = path.parent.name
        if folder in NOT_WORDS:
            continue
        name = path.name.removesuffix(".wav.wav") + ".wav" if path.name.endswith(".wav.wav") else path.name
        if folder == "_unknown_":
            word, _, name = name.partition("_")
        else:
            word = folder
        found.append((word, name, path))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--skip", type=Path, action="append", default=[], metavar="DIR")
    args = parser.parse_args(argv)
    if any(args.dest.glob("*/*.wav")):
        # Clips left from a run with other --skip folders would defeat the point of them.
        print(f"{args.dest} already holds clips: give an empty or new folder", file=sys.stderr)
        return 2
    for folder in args.skip:
        if not clips(folder):
            # A folder one level off (../shared/speech instead of ../shared/speech/words) would
            # skip nothing and let its clips into the unseen set unnoticed.
            print(f"{folder}: no clips in the <word>/*.wav layout to skip", file=sys.stderr)
            return 2
    skipped = [clip for folder in args.skip for clip in clips(folder)]
    skip_names = {f"{word}/{name}" for word, name, _ in skipped}
    skip_audio = {digest(path) for _, _, path in skipped}
    seen_names: set[str] = set()
    seen_audio: set[str] = set()
    kept = repeats = elsewhere = 0
    for word, name, path in clips(args.src):
        audio = digest(path)
        if f"{word}/{name}" in skip_names or audio in skip_audio:
            elsewhere += 1
            continue
        if f"{word}/{name}" in seen_names or audio in seen_audio:
            repeats += 1
            continue
        seen_names.add(f"{word}/{name}")
        seen_audio.add(audio)
        (args.dest / word).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, args.dest / word / name)
        kept += 1
    print(f"{kept} clips in {args.dest}; left out {repeats} repeated takes and {elsewhere} clips of --skip sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
