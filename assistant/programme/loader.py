"""Load and validate a programme file; every error names the file, the line and what is wrong."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ProgrammeError
from assistant.programme.model import FORMATS, Exercise, Programme, Step

BUILTIN_NAME = "rebuilding_trust.yaml"

# Placeholders each phrase may use; anything else is a typo worth reporting at load time,
# not in the middle of a session.
PHRASE_FIELDS: dict[str, set[str]] = {
    "step_heading": {"number", "title"},
    "begin_exercise": set(),
    "next_step": set(),
    "turn_over": {"speaker", "listener"},
    "turn_back": {"speaker", "listener"},
    "time_up": {"speaker", "listener"},
    "talk_start": {"minutes"},
    "warning": {"remaining"},
    "still_speaking": {"speaker", "listener"},
    "exercise_summary": {"turns", "first", "first_time", "second", "second_time"},
    "session_summary": {"turns", "first", "first_time", "second", "second_time"},
    "talk_over": set(),
    "good_reflection": {"speaker", "listener"},
    "resume_offer": {"number", "title"},
    "paused": set(),
    "resumed": set(),
    "timeout_start": {"resume_at", "minutes"},
    "timeout_running": {"minutes"},
    "timeout_over": set(),
    "timeout_extend": {"minutes"},
    "help": {"cues"},
    "not_now": {"cue", "cues"},
    "first_step": set(),
    "ready_check": set(),
    "not_ready": set(),
    "help_resources": set(),
    "stopping": set(),
}
TURN_FIELDS = {"speaker", "listener"}


@dataclass
class _Node:
    """A YAML value with the line it starts on (1-based), so checks can point at it."""

    value: Any
    line: int


def _to_nodes(node: yaml.Node) -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, _Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in mapping:
                raise _Problem(key_node.start_mark.line + 1, f"'{key}' is given twice")
            mapping[str(key)] = _to_nodes(value_node)
        return _Node(mapping, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_to_nodes(item) for item in node.value], line)
    # Scalars: let PyYAML's safe resolver decide int / float / str / bool / null.
    return _Node(yaml.safe_load(yaml.serialize(node)), line)


class _Problem(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _field(table: _Node, key: str, what: str, *, required: bool = True) -> _Node | None:
    assert isinstance(table.value, dict)
    if key not in table.value:
        if required:
            raise _Problem(table.line, f"{what} needs '{key}'")
        return None
    return table.value[key]


def _text(
    table: _Node, key: str, what: str, *, required: bool = True, fields: frozenset[str] | set[str] = frozenset()
) -> str:
    node = _field(table, key, what, required=required)
    if node is None:
        return ""
    if not isinstance(node.value, str) or not node.value.strip():
        raise _Problem(node.line, f"'{key}' of {what} must be non-empty text")
    text = " ".join(node.value.split())
    _check_placeholders(text, fields, node.line, key)
    return text


def _check_placeholders(text: str, allowed: frozenset[str] | set[str], line: int, key: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise _Problem(line, f"'{key}' has a broken {{placeholder}}: {error}") from None
    unknown = names - allowed
    if unknown:
        hint = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
        raise _Problem(line, f"'{key}' uses {{{sorted(unknown)[0]}}}, which is not known here (allowed: {hint})")


def _seconds(table: _Node, key: str, what: str, default: float) -> float:
    node = _field(table, key, what, required=False)
    if node is None:
        return default
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Problem(node.line, f"'{key}' of {what} must be a number of seconds, not {value!r}")
    if value <= 0:
        raise _Problem(node.line, f"'{key}' of {what} must be more than 0 seconds, not {value}")
    return float(value)


def _table(node: _Node, what: str, known: set[str]) -> _Node:
    if not isinstance(node.value, dict):
        raise _Problem(node.line, f"{what} must be a table of keys and values")
    for key, child in node.value.items():
        if key not in known:
            raise _Problem(child.line, f"{what} has an unknown key '{key}' (known: {', '.join(sorted(known))})")
    return node


def _list(node: _Node | None, what: str) -> list[_Node]:
    if node is None or not isinstance(node.value, list) or not node.value:
        line = node.line if node else None
        raise _Problem(line, f"{what} must be a non-empty list")
    return node.value


EXERCISE_KEYS = {
    "title", "format", "prompt", "turn_prompt", "reflect_prompt", "check_prompt", "retry_prompt",
    "rounds", "speak_seconds", "reflect_seconds", "talk_seconds", "warning_seconds", "silence_seconds",
}  # fmt: skip


def _exercise(node: _Node, what: str, timing: dict[str, float]) -> Exercise:
    _table(node, what, EXERCISE_KEYS)
    fmt_node = _field(node, "format", what)
    assert fmt_node is not None
    if fmt_node.value not in FORMATS:
        raise _Problem(fmt_node.line, f"'format' of {what} must be one of {', '.join(FORMATS)}, not {fmt_node.value!r}")
    fmt = fmt_node.value
    turns = fmt in ("turns", "listening")
    listening = fmt == "listening"
    rounds = 1
    rounds_node = _field(node, "rounds", what, required=False)
    if rounds_node is not None:
        if isinstance(rounds_node.value, bool) or not isinstance(rounds_node.value, int) or rounds_node.value < 1:
            raise _Problem(rounds_node.line, f"'rounds' of {what} must be a whole number of at least 1")
        rounds = rounds_node.value
    return Exercise(
        title=_text(node, "title", what),
        format=fmt,
        prompt=_text(node, "prompt", what),
        turn_prompt=_text(node, "turn_prompt", what, required=turns, fields=TURN_FIELDS),
        reflect_prompt=_text(node, "reflect_prompt", what, required=listening, fields=TURN_FIELDS),
        check_prompt=_text(node, "check_prompt", what, required=listening, fields=TURN_FIELDS),
        retry_prompt=_text(node, "retry_prompt", what, required=listening, fields=TURN_FIELDS),
        rounds=rounds,
        speak_seconds=_seconds(node, "speak_seconds", what, timing["speak_seconds"]),
        reflect_seconds=_seconds(node, "reflect_seconds", what, timing["reflect_seconds"]),
        talk_seconds=_seconds(node, "talk_seconds", what, timing["talk_seconds"]),
        warning_seconds=_within_turn(node, "warning_seconds", what, timing),
        silence_seconds=_within_turn(node, "silence_seconds", what, timing),
    )


def _within_turn(node: _Node, key: str, what: str, timing: dict[str, float]) -> float:
    """A time inside a turn: given for this exercise, it must fall before the turn ends."""
    seconds = _seconds(node, key, what, timing[key])
    own = _field(node, key, what, required=False)
    speak = _seconds(node, "speak_seconds", what, timing["speak_seconds"])
    if own is not None and seconds >= speak:
        raise _Problem(own.line, f"'{key}' of {what} ({seconds:g}) must be shorter than its speak_seconds ({speak:g})")
    return seconds


TIMING_DEFAULTS = {
    "speak_seconds": 180.0,
    "reflect_seconds": 90.0,
    "talk_seconds": 600.0,
    "warning_seconds": 60.0,
    "silence_seconds": 20.0,
    "break_seconds": 1200.0,
}
"""Seconds. `warning_seconds`: the spoken warning comes this long before the end of a turn;
`silence_seconds`: after this long without speech the assistant asks whether the speaker is done."""


def _programme(root: _Node, source: str, fallback_phrases: dict[str, str], fallback_safety: str) -> Programme:
    _table(root, "the programme", {"title", "partners", "timing", "safety", "welcome", "closing", "steps", "phrases"})
    timing = dict(TIMING_DEFAULTS)
    timing_node = _field(root, "timing", "the programme", required=False)
    if timing_node is not None:
        _table(timing_node, "'timing'", set(TIMING_DEFAULTS))
        for key, default in TIMING_DEFAULTS.items():
            timing[key] = _seconds(timing_node, key, "'timing'", default)

    partners_node = _field(root, "partners", "the programme", required=False)
    partners = ("Partner A", "Partner B")
    if partners_node is not None:
        names = partners_node.value
        if (
            not isinstance(names, list)
            or len(names) != 2
            or not all(isinstance(n.value, str) and n.value.strip() for n in names)
        ):
            raise _Problem(partners_node.line, "'partners' must be a list of two names")
        partners = (names[0].value.strip(), names[1].value.strip())

    steps = []
    for number, step_node in enumerate(_list(_field(root, "steps", "the programme"), "'steps'"), start=1):
        what = f"step {number}"
        _table(step_node, what, {"title", "intro", "check_ready", "exercises"})
        check_node = _field(step_node, "check_ready", what, required=False)
        if check_node is not None and not isinstance(check_node.value, bool):
            raise _Problem(check_node.line, f"'check_ready' of {what} must be true or false")
        exercises = tuple(
            _exercise(ex_node, f"exercise {i} of {what}", timing)
            for i, ex_node in enumerate(_list(_field(step_node, "exercises", what), f"'exercises' of {what}"), start=1)
        )
        steps.append(
            Step(
                title=_text(step_node, "title", what),
                intro=_text(step_node, "intro", what),
                exercises=exercises,
                check_ready=bool(check_node.value) if check_node else False,
            )
        )

    phrases = dict(fallback_phrases)
    phrases_node = _field(root, "phrases", "the programme", required=not fallback_phrases)
    if phrases_node is not None:
        _table(phrases_node, "'phrases'", set(PHRASE_FIELDS))
        for key, fields in PHRASE_FIELDS.items():
            text = _text(phrases_node, key, "'phrases'", required=not fallback_phrases, fields=fields)
            if text:
                phrases[key] = text

    return Programme(
        title=_text(root, "title", "the programme"),
        partners=partners,
        welcome=_text(root, "welcome", "the programme"),
        safety=_text(root, "safety", "the programme", required=not fallback_safety) or fallback_safety,
        closing=_text(root, "closing", "the programme"),
        steps=tuple(steps),
        phrases=phrases,
        break_seconds=timing["break_seconds"],
        source=source,
    )


def parse_programme(text: str, source: str, fallback: Programme | None = None) -> Programme:
    """Parse programme text; `source` names it in errors; what it leaves out comes from `fallback`."""
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ProgrammeError(source, line, f"not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ProgrammeError(source, None, f"not valid YAML: {error}") from None
    if document is None:
        raise ProgrammeError(source, None, "the file is empty")
    try:
        return _programme(
            _to_nodes(document), source, fallback.phrases if fallback else {}, fallback.safety if fallback else ""
        )
    except _Problem as problem:
        raise ProgrammeError(source, problem.line, problem.message) from None


def load_builtin() -> Programme:
    """The programme that ships with the assistant."""
    resource = resources.files("assistant.programme").joinpath(BUILTIN_NAME)
    return parse_programme(resource.read_text(encoding="utf-8"), BUILTIN_NAME)


def load_programme(path: str | Path) -> Programme:
    """A user's programme file; the phrases and safety note it leaves out come from the built-in one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProgrammeError(str(path), None, f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ProgrammeError(str(path), None, "is not UTF-8 text") from None
    return parse_programme(text, str(path), fallback=load_builtin())
