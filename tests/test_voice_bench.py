"""The voice benchmark's scoring (benchmarks/voice.py): which lines it says, and how it counts errors."""

from __future__ import annotations

import dataclasses

from assistant.programme import load_builtin
from benchmarks.voice import programme_lines, word_errors, words


def test_every_spoken_line_of_the_programme_is_said_with_its_placeholders_filled() -> None:
    programme = dataclasses.replace(load_builtin(), partners=("Maya", "Daniel"))

    lines = programme_lines(programme)

    assert programme.safety in lines and programme.welcome in lines and programme.closing in lines
    assert all(step.intro in lines for step in programme.steps)
    assert not any("{" in line or "}" in line for line in lines)
    text = " ".join(lines)
    assert "Maya" in text and "Daniel" in text and "your turn" in text and "time out" in text


def test_words_are_compared_as_heard_not_as_spelled() -> None:
    assert words("It's 20 minutes, Partner A\u2014alright?") == [
        "it's",
        "twenty",
        "minutes",
        "partner",
        "a",
        "all",
        "right",
    ]
    assert words('Say "time out".') == words("Say timeout.")


def test_word_errors_count_substitutions_insertions_and_deletions() -> None:
    assert word_errors(["partner", "a", "your", "turn"], ["partner", "a", "your", "turn"]) == 0
    assert word_errors(["partner", "a"], ["part", "array"]) == 2
    assert word_errors(["your", "turn"], ["your", "own", "turn"]) == 1
    assert word_errors(["say", "next", "now"], ["say", "now"]) == 1
