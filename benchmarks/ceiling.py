"""How many cues the acoustic model could hear at best: forced choices, with no way to say "none".

    .venv/bin/python benchmarks/ceiling.py [FOLDER ...]

A spotter must tell a cue from every other sound, so it hears at most the cue clips whose cue its
model would pick when made to pick. This decodes each real cue clip (yes, no, stop, go) with
grammars that must name one of their words, prepared as the spotter prepares a segment (the
shipped model and its adaptation, the gain, the noise switch), and counts how often the right
cue is named:

- among the four cue words alone (the easiest choice there is: the clip is known to be a cue);
- among every word of the clip's data set (Speech Commands: 30 or 35 words);
- among every cue phrase, as the spotter's grammar with all cues listened for;
- among the phrases of the state the word is said in (`benchmarks/cues.py`'s `STATE_FOR_CUE`);

beside what the spotter really hears in the last two listening sets. Without FOLDER it reads the
20 cue clips of ../shared/speech; each FOLDER is in Speech Commands' `<word>/*.wav` layout, read
as `benchmarks/cues.py --unseen` reads it (the speakers the model was adapted to left out).
Prints a table, then one JSON object. About a minute per 700 cue clips.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ears.spotter import SphinxCueSpotter  # noqa: E402
from assistant.ears.vocabulary import CUE_PHRASES, PHRASE_TO_CUE, grammar_words  # noqa: E402
from benchmarks.cues import (  # noqa: E402
    ALL,
    REAL_CUES,
    SPEECH,
    STATE_FOR_CUE,
    Item,
    evaluate,
    real_items,
    session_listen_sets,
    unseen_items,
    wilson,
)


@dataclass
class Tally:
    """Cue clips named right, in all and by word."""

    right: int = 0
    n: int = 0
    by_word: dict[str, list[int]] = field(default_factory=dict)
    instead: Counter[str] = field(default_factory=Counter)
    """What was named instead of the right cue, as "word->named" ("-" where nothing was)."""

    def add(self, word: str, ok: bool, instead: str | None = None) -> None:
        self.right += ok
        if instead is not None:
            self.instead[instead] += 1
        self.n += 1
        counts = self.by_word.setdefault(word, [0, 0])
        counts[0] += ok
        counts[1] += 1

    def line(self, label: str) -> str:
        low, high = wilson(self.right, self.n)
        words = ", ".join(f"{w} {r}/{n}" for w, (r, n) in sorted(self.by_word.items()))
        share = f"{self.right:>4}/{self.n:<4} = {100 * self.right / self.n:5.1f}% ({low:.0f}-{high:.0f})"
        instead = ", ".join(f"{k} {n}" for k, n in self.instead.most_common(6))
        return f"  {label:<46} {share}  {words}" + (f"\n  {'':<46} instead: {instead}" if instead else "")


def word_of(item: Item) -> str:
    """The spoken word of a cue clip (its folder's name)."""
    return item.name.split("/")[-2]


STATE_ROW = "the phrases of its state (session's cue sets)"


def state_cues(item: Item, listen_sets: dict[str, frozenset[str]]) -> frozenset[str]:
    """The cues listened for where the clip's word is said in a session."""
    return listen_sets[STATE_FOR_CUE[item.expected or ""]]


def choices(
    items: list[Item], spotter: SphinxCueSpotter, data_set_words: Iterable[str], listen_sets: dict[str, frozenset[str]]
) -> dict[str, Tally]:
    """Each cue clip decoded with each forced choice; a pick counts when it names the clip's cue
    (the data set's words name cues as the phrase table does: "go" is `next`)."""
    grammars = {
        "the four cue words": list(REAL_CUES),
        "every word of the data set": sorted(data_set_words),
        "every cue phrase (all cues listened for)": grammar_words(CUE_PHRASES),
    }
    tallies = {label: Tally() for label in [*grammars, STATE_ROW]}
    for item in items:
        grammars[STATE_ROW] = grammar_words(state_cues(item, listen_sets))
        for label, words in grammars.items():
            picked = spotter.forced_choice(item.samples, words)
            ok = PHRASE_TO_CUE.get(picked or "") == item.expected
            word = word_of(item)
            tallies[label].add(word, ok, None if ok else f"{word}->{picked or '-'}")
    return tallies


def heard(items: list[Item], spotter: SphinxCueSpotter, listen_sets: dict[str, frozenset[str]]) -> dict[str, Tally]:
    """What the spotter really hears of the same clips, with all cues and with the state's cues."""
    tallies = {"the spotter, all cues listened for": Tally(), "the spotter, session's cue sets": Tally()}
    for item in items:
        for label, cues in zip(tallies, (ALL, sorted(state_cues(item, listen_sets))), strict=True):
            tallies[label].add(word_of(item), evaluate(label, [item], spotter, cues).correct == 1)
    return tallies


def measure(name: str, items: list[Item], spotter: SphinxCueSpotter, data_set_words: Iterable[str]) -> dict[str, Tally]:
    cue_items = [it for it in items if it.expected]
    listen_sets = session_listen_sets()
    tallies = choices(cue_items, spotter, data_set_words, listen_sets) | heard(cue_items, spotter, listen_sets)
    print(f"{name}: {len(cue_items)} cue clips; the right cue named when forced to choose among")
    for label, tally in tallies.items():
        print(tally.line(label))
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="Speech Commands layout: <word>/*.wav")
    args = parser.parse_args(argv)
    spotter = SphinxCueSpotter()
    sets: dict[str, tuple[list[Item], list[str]]] = {}
    if not args.folders:
        if not SPEECH.is_dir():
            print(f"no clips to measure: {SPEECH} is absent; name a folder of clips", file=sys.stderr)
            return 2
        items = real_items()
        sets["tuning clips (../shared/speech)"] = (items, sorted({word_of(it) for it in items}))
    for folder in args.folders:
        words = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_"))
        sets[str(folder)] = (unseen_items(folder), words)
    summary = {}
    for name, (items, words) in sets.items():
        tallies = measure(name, items, spotter, words)
        summary[name] = {
            label: {"right": t.right, "n": t.n, "instead": dict(t.instead)} for label, t in tallies.items()
        }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
