"""What a personal template could add: each partner says a cue once before the session.

    .venv/bin/python benchmarks/enrolment.py DIR [--thresholds 10,11,12]

A measurement of an idea, not of a feature: the assistant has no enrolment. DIR is a folder in
the Speech Commands layout (`DIR/<word>/<speaker>_nohash_<take>.wav`, see
benchmarks/speech_commands_layout.py), such as the v0.02 test set. For every speaker with two or
more takes of a cue word (yes, no, stop, go), the first take is that speaker's template. The
speaker's other takes of the word should be heard as its cue; the speaker's other words should
not be. Every clip is heard once by the shipped recognizer, listening for every cue. A take it
rejects although its grammar named the template's phrase is "rescued" when its distance to the
template is below a threshold. The distance: dynamic time warping of MFCCs (12 cepstra and their
deltas, each utterance's mean removed, quiet trimmed), averaged over the path.

The takes of one speaker were mostly recorded in one sitting, as an enrolment at the start of a
session would be, but they are takes of single words: nothing here says how "your turn" would do.
Prints one line per threshold, then one JSON object. About 6 minutes on one core for the v0.02
test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ears.commands import spot_samples  # noqa: E402
from assistant.ears.microphone import read_wav  # noqa: E402
from assistant.ears.spotter import SphinxCueSpotter, Verdict  # noqa: E402
from assistant.ears.templates import dtw_distance, mfcc  # noqa: E402
from assistant.ears.vad import Segment  # noqa: E402
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE  # noqa: E402

CUE_WORDS = {"yes": "yes", "no": "no", "stop": "stop", "go": "next"}
"""Recorded word -> the cue it gives."""


@dataclass
class Heard:
    """The recognizer's verdict on one clip."""

    cue: str | None
    """The cue accepted, if any."""
    named: set[str]
    """Cues whose phrase the grammar named in a rejected segment: what a template could rescue."""


def hear(spotter: SphinxCueSpotter, samples: np.ndarray) -> Heard:
    verdicts: list[Verdict] = []

    def note(_segment: Segment, verdict: Verdict) -> None:
        verdicts.append(verdict)

    found = spot_samples(samples, sorted(CUE_PHRASES), spotter, on_verdict=note)
    named = {PHRASE_TO_CUE[v.phrase] for v in verdicts if v.detection is None and v.phrase in PHRASE_TO_CUE}
    return Heard(found[0].detection.cue if found else None, named)


Row = tuple[bool, bool, float]
"""For one clip against one template: the recognizer heard the template's cue, a template could
rescue it (rejected, but the grammar named that cue's phrase), and the distance to the template."""


def template_rows(
    takes: dict[str, dict[str, list[Path]]], heard: dict[Path, Heard], features: dict[Path, np.ndarray | None]
) -> tuple[list[Row], list[Row]]:
    """Rows of each speaker's other takes of a template's word, and of their other words."""
    wanted: list[Row] = []
    others: list[Row] = []
    for words in takes.values():
        for word, cue in CUE_WORDS.items():
            template = features[words[word][0]] if len(words.get(word, [])) >= 2 else None
            if template is None:
                continue
            for other_word, paths in words.items():
                for path in paths[1:] if other_word == word else paths:
                    query, verdict = features[path], heard[path]
                    if query is None:
                        continue
                    rescuable = verdict.cue is None and cue in verdict.named
                    row = (verdict.cue == cue, rescuable, dtw_distance(template, query))
                    (wanted if other_word == word else others).append(row)
    return wanted, others


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--thresholds", default="10,11,12", help="DTW distances to try (comma-separated)")
    args = parser.parse_args(argv)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    takes: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(args.folder.glob("*/*_nohash_*.wav")):
        takes[path.stem.partition("_nohash_")[0]][path.parent.name].append(path)
    if not takes:
        print(f"no clips in the Speech Commands layout under {args.folder}", file=sys.stderr)
        return 2
    spotter = SphinxCueSpotter()
    heard: dict[Path, Heard] = {}
    features: dict[Path, np.ndarray | None] = {}
    for words in takes.values():
        for paths in words.values():
            for path in paths:
                samples = read_wav(path)
                heard[path], features[path] = hear(spotter, samples), mfcc(samples)
    wanted, others = template_rows(takes, heard, features)
    alone = sum(hit for hit, _, _ in wanted), sum(hit for hit, _, _ in others)
    summary: dict[str, object] = {"takes": len(wanted), "other_words": len(others), "alone": alone, "rescued": {}}
    for t in thresholds:
        heard_with = sum(hit or (rescue and d < t) for hit, rescue, d in wanted)
        false_with = sum(hit or (rescue and d < t) for hit, rescue, d in others)
        summary["rescued"][str(t)] = (heard_with, false_with)  # type: ignore[index]
        print(
            f"distance < {t:g}: the speaker's takes of the template's word heard {alone[0]} -> {heard_with} "
            f"of {len(wanted)}; their other words taken for it {alone[1]} -> {false_with} of {len(others)}"
        )
    print(json.dumps(summary))
    spotter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
