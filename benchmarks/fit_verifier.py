"""Fit the weighed verifier's weights and threshold on the speakers the model was adapted to.

    .venv/bin/python benchmarks/fit_verifier.py DIR [--false-accepts PERCENT]

DIR is a Speech Commands test set in the benchmark's layout (`DIR/<word>/<speaker>_nohash_<take>.wav`,
see `speech_commands_layout.py`). Only the clips of the speakers the acoustic model's MLLR
transform was fitted on (`benchmarks.cues.ADAPTED_SPEAKERS`) are used, so the figures README gives
for the other speakers stay on voices neither the transform nor these weights have heard.

Each clip is heard as `assistant cues` hears it, all cues listened for. Every segment whose
grammar phrase the weighed verifier measured (the keyword margin and the weakest phone's ratio,
`Evidence`) is one example: a cue when its clip is a recording of that cue's word. A logistic
regression of (keyword margin, no keyword hit, weakest phone) gives the weight of the weakest
phone and the margin a phrase the keyword search lost is given, both relative to the keyword
margin's. The threshold is the lowest at which at most PERCENT (default 1.5) of the clips of other
words would have been taken for cues. Prints the `SpotterConfig` values and the figures there.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ears.commands import spot_samples  # noqa: E402
from assistant.ears.spotter import Evidence, SphinxCueSpotter, SpotterConfig, Verdict  # noqa: E402
from assistant.ears.vad import Segment  # noqa: E402
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE  # noqa: E402
from benchmarks.cues import ADAPTED_SPEAKERS, Item, speech_commands_items  # noqa: E402


@dataclass(frozen=True)
class Example:
    """One measured segment of one clip."""

    clip: int
    cue: str
    """The cue of the grammar's phrase."""
    evidence: Evidence


@dataclass(frozen=True)
class Fit:
    weakest_phone_weight: float
    no_keyword_margin: float
    logit_scale: float
    """The regression's weight of the keyword margin."""


def collect(items: list[Item], spotter: SphinxCueSpotter) -> list[Example]:
    """The measured segments of every clip, in order."""
    examples: list[Example] = []
    for n, item in enumerate(items):

        def keep(segment: Segment, verdict: Verdict, n: int = n) -> None:
            # Only what the weighed sum decided: not a phrase that failed the stand-apart rule.
            evidence, phrase = verdict.evidence, verdict.phrase or ""
            decided = verdict.reason in ("accepted", "below threshold") and phrase in PHRASE_TO_CUE
            if decided and evidence is not None and evidence.weakest_phone is not None:
                examples.append(Example(n, PHRASE_TO_CUE[phrase], evidence))

        spot_samples(item.samples, sorted(CUE_PHRASES), spotter, on_verdict=keep)
    return examples


LOST_KEYWORD_STAND_IN = 0.0
"""The keyword margin a phrase the keyword search lost enters the regression with; the weight of
its flag then says what margin it is worth. Fixed, so the fit does not depend on the weights it
replaces (the regression's small penalty would otherwise move the result by a hundredth)."""


def features(examples: list[Example]) -> np.ndarray:
    """Rows of (1, keyword margin, no keyword hit, weakest phone)."""
    rows = []
    for ex in examples:
        margin = ex.evidence.keyword_margin
        lost = margin is None
        rows.append((1.0, LOST_KEYWORD_STAND_IN if lost else margin, float(lost), ex.evidence.weakest_phone))
    return np.array(rows)


def logistic_regression(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 3000) -> np.ndarray:
    """Weights of a logistic regression (first column the intercept), by gradient descent on
    standardised columns: deterministic, and enough for four weights."""
    mean = x[:, 1:].mean(axis=0)
    spread = x[:, 1:].std(axis=0)
    spread[spread == 0] = 1.0
    z = np.hstack([x[:, :1], (x[:, 1:] - mean) / spread])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) / len(y) + l2 * np.r_[0.0, w[1:]]
        w -= 0.5 * grad
    raw = w.copy()
    raw[1:] = w[1:] / spread
    raw[0] = w[0] - float((w[1:] * mean / spread).sum())
    return raw


def fit(examples: list[Example], expected: list[str | None]) -> Fit:
    """The regression on the examples (a cue where its clip is that cue's word), in the units
    `SpotterConfig` uses: everything relative to the keyword margin's weight."""
    x = features(examples)
    y = np.array([1.0 if expected[ex.clip] == ex.cue else 0.0 for ex in examples])
    _, margin, lost, weakest = logistic_regression(x, y)  # the intercept: the threshold is set on clips
    return Fit(weakest / margin, LOST_KEYWORD_STAND_IN + lost / margin, margin)


def weighed_sums(examples: list[Example], fit: Fit) -> list[float]:
    """What the spotter would add up with the fitted weights."""
    rule = SpotterConfig(weakest_phone_weight=fit.weakest_phone_weight, no_keyword_margin=fit.no_keyword_margin)
    return [rule.weighed_sum(ex.evidence.keyword_margin, ex.evidence.weakest_phone or 0.0) for ex in examples]


def figures(
    examples: list[Example], expected: list[str | None], sums: list[float], accept_at: float
) -> tuple[int, int, int, int]:
    """(cues heard, cue clips, other clips taken for a cue, other clips) at a threshold: a clip's
    first segment that reaches it is what `assistant cues` would print."""
    first: dict[int, str] = {}
    for ex, total in zip(examples, sums, strict=True):
        if total >= accept_at and ex.clip not in first:
            first[ex.clip] = ex.cue
    cues = [n for n, e in enumerate(expected) if e is not None]
    others = [n for n, e in enumerate(expected) if e is None]
    heard = sum(first.get(n) == expected[n] for n in cues)
    return heard, len(cues), sum(n in first for n in others), len(others)


def threshold(examples: list[Example], expected: list[str | None], sums: list[float], percent: float) -> float:
    """The lowest threshold (in hundredths) with at most `percent` of other words' clips accepted."""
    best = [-math.inf] * len(expected)
    for ex, total in zip(examples, sums, strict=True):
        best[ex.clip] = max(best[ex.clip], total)
    others = sorted((best[n] for n, e in enumerate(expected) if e is None), reverse=True)
    allowed = int(len(others) * percent / 100)
    if allowed >= len(others) or others[allowed] == -math.inf:
        return -math.inf
    return math.floor(others[allowed] * 100) / 100 + 0.01  # just above the first clip too many


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--false-accepts", type=float, default=1.5, metavar="PERCENT")
    args = parser.parse_args(argv)
    items = speech_commands_items(args.folder, lambda speaker: speaker in ADAPTED_SPEAKERS)
    if not items:
        print(f"no clips of the adapted speakers in {args.folder}/<word>/*.wav", file=sys.stderr)
        return 2
    shipped = SpotterConfig()
    # Every measured phrase is aligned, however low its keyword margin, so the regression sees all.
    spotter = SphinxCueSpotter(dataclasses.replace(shipped, weakest_phone_cap=math.inf))
    examples = collect(items, spotter)
    expected = [it.expected for it in items]
    result = fit(examples, expected)
    sums = weighed_sums(examples, result)
    accept_at = threshold(examples, expected, sums, args.false_accepts)
    heard, n_cues, false, n_other = figures(examples, expected, sums, accept_at)
    weakest_max = max(ex.evidence.weakest_phone or -math.inf for ex in examples)
    print(f"{len(items)} clips of {len({it.speaker for it in items})} speakers, {len(examples)} measured segments")
    print(f"weakest_phone_weight = {result.weakest_phone_weight:.3f}")
    print(f"no_keyword_margin = {result.no_keyword_margin:.2f}")
    print(f"accept_at = {accept_at:.2f}")
    print(f"weighed_logit_scale = {result.logit_scale:.2f}")
    print(f"weakest_phone_cap >= {weakest_max:.1f} (the highest weakest-phone ratio seen)")
    print(f"there: cues {heard}/{n_cues} ({100 * heard / n_cues:.1f}%),", end=" ")
    print(f"false accepts {false}/{n_other} ({100 * false / n_other:.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
