"""Which spoken phrases mean which cue: the one table, and how a transcript is matched to it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.events import CUES

# Cue name -> phrases, lower case, as `normalise` leaves a transcript. Add phrases here: a cue is a
# whole segment that is one of these (after `candidates` takes off a filler word or a repetition).
# Each cue's first two phrases are the recognizer's expected text (`expected_text`): put there the
# phrase the prompts teach and the commonest short one ("next", "go"; benchmarks/HISTORY.md).
CUE_PHRASES: dict[str, tuple[str, ...]] = {
    "next": (
        "next",
        "go",
        "next step",
        "next one",
        "continue",
        "let's continue",
        "go ahead",
        "go on",
        "let's start",
        "let's begin",
        "let's go",
        "move on",
        "let's move on",
    ),
    "repeat": ("repeat", "repeat that", "say that again", "can you repeat that", "come again", "once more"),
    "back": ("go back", "previous", "back", "back up"),
    "pause": ("pause", "wait", "hold on", "hang on", "can we pause", "let's pause", "one moment", "wait a moment"),
    "resume": ("resume", "carry on", "i'm back", "we're back", "keep going"),
    "done": (
        "your turn",
        "i'm finished",
        "i'm done",
        "done",
        "i think i'm done",
        "finished",
        "over to you",
        "that's all",
        "that's it",
        "that's all i have",
        "that's all for me",
        "your go",
    ),
    "timeout": (
        "time out",
        "i need a break",
        "timeout",
        "i need a time out",
        "we need a time out",
        "we need a break",
        "can we take a break",
        "let's take a break",
    ),
    "stop": ("stop", "end session", "let's stop", "end the session", "stop the session", "quit"),
    "help": ("help", "what can i say", "what can i do"),
    "yes": ("yes", "yeah", "yep", "ready", "i'm ready", "we're ready", "okay", "sure"),
    "no": ("no", "nope", "not yet", "no not yet", "no thanks"),
    "skip": ("skip", "skip this", "skip it", "skip that"),
    "support": ("help me", "we need support", "we need help", "i need help"),
}

FILLERS_BEFORE: frozenset[str] = frozenset({"okay", "ok", "so", "well", "um", "uh", "oh", "alright", "right", "and"})
"""A word that may come before a cue phrase without changing it ("okay, your turn")."""
FILLERS_AFTER: frozenset[str] = frozenset({"please", "now", "then", "thanks", "thank you"})
"""Words that may follow a cue phrase ("stop, please"; "I'm finished now")."""
SPELLINGS: dict[str, str] = {"ok": "okay", "o k": "okay", "yea": "yeah"}
"""Ways the recognizer writes a phrase -> the table's spelling (applied to the whole normalised
text; hyphens are spaces by then: "time-out" is "time out")."""

MISSING_CUES: frozenset[str] = frozenset(CUES) - frozenset(CUE_PHRASES)
"""Cues the session knows that have no spoken phrase yet (keyboard only); tests keep this empty."""

PHRASE_TO_CUE: dict[str, str] = {phrase: cue for cue, phrases in CUE_PHRASES.items() for phrase in phrases}


def normalise(text: str) -> str:
    """Lower-case, keep letters and apostrophes, single spaces: how phrases are compared."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    text = " ".join(re.sub(r"[^a-z' ]+", " ", text).split())
    text = " ".join(word.strip("'") for word in text.split())
    return SPELLINGS.get(text, text)


def collapse_repeats(words: list[str]) -> list[str]:
    """One phrase said (or decoded) several times over is that phrase: "yes yes yes" -> "yes".
    A cut-off last repetition counts ("your turn your turn your", "i'm finished i'm finished i"):
    a decoder given a short input runs on into the phrase again until its token limit, and may
    stop inside a word. Anything else is unchanged."""
    for size in range(1, len(words)):
        unit = words[:size]
        *whole, last = words
        if all(word == unit[i % size] for i, word in enumerate(whole)) and unit[len(whole) % size].startswith(last):
            return unit
    return words


def candidates(text: str) -> list[str]:
    """The phrases a transcript may stand for, most literal first: itself with repetitions
    collapsed, then without one leading filler word and one trailing courtesy word."""
    words = collapse_repeats(normalise(text).split())
    found = [" ".join(words)]
    heads = [words, words[1:]] if len(words) > 1 and words[0] in FILLERS_BEFORE else [words]
    for head in heads:
        for tail_size in (1, 2):
            if len(head) > tail_size and " ".join(head[-tail_size:]) in FILLERS_AFTER:
                found.append(" ".join(collapse_repeats(head[:-tail_size])))
        found.append(" ".join(collapse_repeats(head)))
    return list(dict.fromkeys(found))


def match(text: str, cues: Iterable[str] | None = None) -> str | None:
    """The cue phrase a whole transcript is, among the phrases of `cues` (None: all), or None."""
    allowed = None if cues is None else frozenset(cues)
    for phrase in candidates(text):
        cue = PHRASE_TO_CUE.get(phrase)
        if cue is not None and (allowed is None or cue in allowed):
            return phrase
    return None


def expected_text(cues: Iterable[str], per_cue: int = 2) -> str:
    """The first `per_cue` phrases of each cue (the table puts the ones most often said first),
    as sentences: told to the recognizer as what may be said, so it hears them readily."""
    wanted = set(cues)
    phrases = [p for cue, ps in CUE_PHRASES.items() if cue in wanted for p in ps[:per_cue]]
    return re.sub(r"\bi\b", "I", " ".join(f"{phrase[0].upper()}{phrase[1:]}." for phrase in phrases))


def cue_of(phrase: str) -> str | None:
    """The cue a recognised phrase stands for, or None."""
    return PHRASE_TO_CUE.get(normalise(phrase))


def is_echo(text: str, line: str) -> bool:
    """Whether a transcript's words all come from a line the assistant is saying: its own voice
    heard back through the microphone, not a partner."""
    heard = normalise(text).split()
    said = set(normalise(line).split())
    return bool(heard) and all(word in said for word in heard)
