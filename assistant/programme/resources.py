"""Where to find help, by country: a small data file a user can copy and edit."""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from assistant.errors import ProgrammeError

FILE_NAME = "help_resources.yaml"
DEFAULT = "default"


@dataclass(frozen=True)
class HelpResource:
    name: str
    contact: str
    when: str

    def spoken(self) -> str:
        return f"{self.name}: {self.contact}, {self.when}."


def country_from_locale() -> str:
    """ "GB" from en_GB.UTF-8, or "default" when the system does not say."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if "_" in value:
            return value.split("_", 1)[1][:2].upper()
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return code.split("_", 1)[1][:2].upper() if "_" in code else DEFAULT


def load_help_resources(country: str | None = None, data_dir: Path | None = None) -> tuple[HelpResource, ...]:
    """The user's own file in `data_dir` if there is one, else the built-in list, for `country`."""
    own = data_dir / FILE_NAME if data_dir else None
    if own and own.exists():
        source, text = str(own), own.read_text(encoding="utf-8")
    else:
        source, text = FILE_NAME, resources.files("assistant.programme").joinpath(FILE_NAME).read_text("utf-8")
    try:
        table = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise ProgrammeError(source, line, f"not valid YAML: {error.problem}") from None
    if not isinstance(table, dict) or DEFAULT not in table:
        raise ProgrammeError(source, None, f"must be a table of countries with a '{DEFAULT}' list")
    wanted = (country or country_from_locale()).upper()
    entries = table.get(wanted) or table.get(wanted.lower()) or table[DEFAULT]
    try:
        return tuple(HelpResource(str(e["name"]), str(e["contact"]), str(e["when"])) for e in entries)
    except (KeyError, TypeError):
        raise ProgrammeError(source, None, f"each entry of '{wanted}' needs name, contact and when") from None
