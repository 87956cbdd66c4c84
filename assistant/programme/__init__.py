"""Content as data: the built-in programme and the loader that validates any programme file."""

from assistant.programme.loader import load_builtin, load_programme, parse_programme
from assistant.programme.model import Exercise, Programme, Step

__all__ = ["Exercise", "Programme", "Step", "load_builtin", "load_programme", "parse_programme"]
