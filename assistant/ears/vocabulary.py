"""Which spoken phrases mean which cue: the one table, plus helpers to look phrases up."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.events import CUES

# Cue name -> phrases, lower case, words as spelt in the CMU dictionary. Add phrases here;
# a phrase with a word the dictionary lacks is skipped (and logged) by the spotter.
CUE_PHRASES: dict[str, tuple[str, ...]] = {
    "next": ("next", "next step", "continue", "go", "go ahead", "start", "let's begin"),
    "repeat": ("repeat", "repeat that", "say that again"),
    "back": ("go back", "previous"),
    "pause": ("pause", "wait", "hold on"),
    "resume": ("resume", "carry on", "i'm back"),
    "done": ("done", "i'm done", "i'm finished", "your turn", "over to you"),
    "timeout": ("time out", "i need a break"),
    "stop": ("stop", "end session"),
    "help": ("help", "what can i say"),
    "yes": ("yes", "yeah", "ready", "okay"),
    "no": ("no", "not yet"),
    "skip": ("skip", "skip this"),
    "support": ("help me", "we need support"),
}

# Phrase -> common words it is easily heard for. Whenever the phrase is listened for, these
# words compete with it in the grammar, so a partner's "right?" is heard as "right", not as
# "ready" (it was, in 19 of 100 real "right" takes before this table).
SOUNDS_LIKE: dict[str, tuple[str, ...]] = {
    "ready": ("right", "write"),
}

RIVAL_WORDS: frozenset[str] = frozenset(word for words in SOUNDS_LIKE.values() for word in words)
"""Every word of `SOUNDS_LIKE`: none is a cue phrase."""

MISSING_CUES: frozenset[str] = frozenset(CUES) - frozenset(CUE_PHRASES)
"""Cues the session knows that have no spoken phrase yet (keyboard only); tests keep this empty."""

PHRASE_TO_CUE: dict[str, str] = {phrase: cue for cue, phrases in CUE_PHRASES.items() for phrase in phrases}


def normalise(text: str) -> str:
    """Lower-case, keep letters and apostrophes, single spaces: how phrases are compared."""
    text = text.lower().replace("\u2019", "'")
    return " ".join(re.sub(r"[^a-z' ]+", " ", text).split())


def phrases_for(cues: Iterable[str]) -> list[str]:
    """All phrases of these cues, in table order; unknown cue names raise ValueError."""
    wanted = set(cues)
    unknown = wanted - set(CUE_PHRASES)
    if unknown:
        raise ValueError(f"unknown cue(s): {', '.join(sorted(unknown))}")
    return [p for cue, phrases in CUE_PHRASES.items() if cue in wanted for p in phrases]


def grammar_words(cues: Iterable[str]) -> list[str]:
    """What a grammar listening for these cues holds: their phrases, then the words they sound
    like (`SOUNDS_LIKE`), which name no cue. Unknown cue names raise ValueError."""
    phrases = phrases_for(cues)
    return phrases + sorted({w for p in phrases for w in SOUNDS_LIKE.get(p, ())})


def cue_of(phrase: str) -> str | None:
    """The cue a recognised phrase stands for, or None."""
    return PHRASE_TO_CUE.get(normalise(phrase))
