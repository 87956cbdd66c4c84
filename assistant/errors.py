"""The assistant's errors: each one carries a message a person can act on."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to the user in one line."""


class ProgrammeError(AssistantError):
    """A programme file is broken; the message names the file, the line and what is wrong."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {problem}")


class DeviceError(AssistantError):
    """A sound device, voice or recognizer is missing; the message says what to install or check."""
