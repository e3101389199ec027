"""Typed reading of parsed TOML, with errors naming the file, the key and what was expected."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from bot.durations import DURATION_HINT, parse_duration
from bot.errors import ConfigError


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or a syntax error into a ``ConfigError``."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"TOML syntax error: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be read ({exc.strerror})") from None


class Table:
    """One TOML table with the path that leads to it, for precise error messages."""

    def __init__(self, file: str, path: str, data: Mapping[str, Any]) -> None:
        self.file = file
        self.path = path
        self.data = data

    def where(self, key: str) -> str:
        """Name a key of this table the way a user finds it in the file."""
        return f"[{self.path}] {key}" if self.path else key

    def fail(self, key: str, expected: str) -> ConfigError:
        """Build the error for a bad value at ``key``."""
        return ConfigError(self.file, self.where(key), expected)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        """Refuse keys this table does not know, so that a typo does not pass silently."""
        known = set(allowed)
        for key in self.data:
            if key not in known:
                raise self.fail(key, f"unknown key (expected one of: {', '.join(sorted(known))})")

    def has(self, key: str) -> bool:
        """Tell whether the key is present."""
        return key in self.data

    def table(self, key: str) -> Table:
        """A sub-table; an absent one reads as empty."""
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, "expected a table")
        sub_path = f"{self.path}.{key}" if self.path else key
        return Table(self.file, sub_path, value)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``); an absent one reads as empty."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(key, f"expected an array of tables ([[{key}]])")
        return [Table(self.file, f"{key}[{i + 1}]", v) for i, v in enumerate(value)]

    def _get(self, key: str, default: Any, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise self.fail(key, "missing (required)")
            return default
        return self.data[key]

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        """A non-empty string."""
        value = self._get(key, default, required)
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        """A string, or ``None`` when absent."""
        if key not in self.data:
            return None
        return self.string(key)

    def integer(self, key: str, default: int | None = None, *, required: bool = False) -> int:
        """An integer (not a boolean)."""
        value = self._get(key, default, required)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {value!r}")
        return value

    def optional_integer(self, key: str) -> int | None:
        """An integer, or ``None`` when absent."""
        if key not in self.data:
            return None
        return self.integer(key)

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def duration(self, key: str, default: timedelta | None = None) -> timedelta:
        """A duration in the ``1h30m`` syntax."""
        if key not in self.data:
            if default is None:
                raise self.fail(key, f"missing (expected {DURATION_HINT})")
            return default
        value = self.data[key]
        try:
            return parse_duration(value if isinstance(value, str) else "")
        except ValueError:
            raise self.fail(key, f"expected {DURATION_HINT}, got {value!r}") from None

    def optional_duration(self, key: str, default: timedelta | None) -> timedelta | None:
        """A duration, or the default (possibly ``None``) when absent."""
        if key not in self.data:
            return default
        return self.duration(key)

    def string_list(self, key: str, default: list[str]) -> list[str]:
        """A list of strings."""
        value = self.data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"expected a list of strings, got {value!r}")
        return list(value)

    def clock_times(self, key: str, default: list[time]) -> list[time]:
        """A list of local clock times written ``HH:MM``."""
        if key not in self.data:
            return list(default)
        return [self.parse_clock_time(key, text) for text in self.string_list(key, [])]

    def clock_time(self, key: str, default: time) -> time:
        """One local clock time written ``HH:MM``."""
        if key not in self.data:
            return default
        return self.parse_clock_time(key, self.data[key])

    def parse_clock_time(self, key: str, text: Any) -> time:
        """Parse ``HH:MM`` or refuse it naming the key."""
        try:
            if not isinstance(text, str) or len(text.split(":")) != 2:
                raise ValueError
            hours, minutes = (int(p) for p in text.split(":"))
            return time(hours, minutes)
        except ValueError:
            raise self.fail(key, f"expected a time of day like 08:00, got {text!r}") from None
