"""Errors the user of the command line sees as one clear line, never as a traceback."""

from __future__ import annotations


class ConfigError(Exception):
    """A config or roster file is wrong: names the file, the key or line, and what was expected."""

    def __init__(self, file: str, where: str, expected: str) -> None:
        self.file = file
        self.where = where
        self.expected = expected
        location = f"{file}: {where}" if where else file
        super().__init__(f"{location}: {expected}")
