"""Lay out a Speech Commands test set as the cue benchmark's `--unseen` reads it.

    .venv/bin/python benchmarks/speech_commands_layout.py SRC DEST [--skip DIR]...

SRC is a Speech Commands v0.02 test set as keyword-spotting projects keep it: one folder per
command word, `_unknown_/<word>_<speaker>_nohash_<n>.wav[.wav]` for the other words, and
`_silence_`. DEST gets `<word>/<speaker>_nohash_<n>.wav`. Byte-identical files are kept once
(the set repeats some takes), and clips already in a `--skip` folder of the same layout (by name
or by content) are left out, so two unseen sets do not count one recording twice. The audio is
copied, never converted; it stays out of this repository.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

NOT_WORDS = ("_silence_", "_background_noise_")


def digest(path: Path) -> str:
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
    seen_names = {f"{w}/{n}" for skip in args.skip for w, n, _ in clips(skip)}
    seen_audio = {digest(p) for skip in args.skip for _, _, p in clips(skip)}
    kept = 0
    for word, name, path in clips(args.src):
        audio = digest(path)
        if f"{word}/{name}" in seen_names or audio in seen_audio:
            continue
        seen_names.add(f"{word}/{name}")
        seen_audio.add(audio)
        (args.dest / word).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, args.dest / word / name)
        kept += 1
    print(f"{kept} clips in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
