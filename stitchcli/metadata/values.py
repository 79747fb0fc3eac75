"""One metadata value parsed and checked: text, numbers, flags and JSON, errors naming the file and key."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from stitchcli.errors import StitchError

REQUIRED: Any = object()  # no default: a file without the key is refused


def _missing(where: str, key: str) -> StitchError:
    return StitchError(f"{where} is missing metadata '{key}'",
                       hint="the file is damaged or was not written by stitchcli; write it again.")


def text(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]`` as it is (``default`` when absent; absent and required: one line)."""
    if key in meta:
        return meta[key]
    if default is REQUIRED:
        raise _missing(where, key)
    return default


def _converted(meta: Mapping[str, str], key: str, where: str, default: Any, convert, wrong: str) -> Any:
    """``convert(meta[key])`` (``default`` when absent); ``wrong`` (formatted with the raw value) when
    ``convert`` refuses it."""
    if key not in meta:
        return text(meta, key, where, default)
    raw = meta[key]
    try:
        return convert(raw)
    except (TypeError, ValueError):
        raise StitchError(f"{where}: metadata '{key}' {wrong.format(raw=raw)}") from None


def integer(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]`` as an int."""
    return _converted(meta, key, where, default, int, "must be an integer, got {raw!r}")


def number(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]`` as a float."""
    return _converted(meta, key, where, default, float, "must be a number, got {raw!r}")


def positive_number(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]`` as a finite float above 0 (a temperature, a learning rate, a power)."""
    value = number(meta, key, where, default)
    if key in meta and not (math.isfinite(value) and value > 0):
        raise StitchError(f"{where}: metadata '{key}' must be a positive finite number, got {meta[key]!r}",
                          hint="the file is damaged or was edited; write it again.")
    return value


def bounded(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED, least: int = 0) -> Any:
    """``meta[key]`` as an int of at least ``least`` (a count, a size, a seed)."""
    value = integer(meta, key, where, default)
    if key in meta and value < least:
        raise StitchError(f"{where}: metadata '{key}' must be at least {least}, got {meta[key]!r}",
                          hint="the file is damaged or was edited; write it again.")
    return value


def flag(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]`` (``true`` / ``false``) as a bool."""
    if key not in meta:
        return text(meta, key, where, default)
    raw = meta[key]
    if raw not in ("true", "false"):
        raise StitchError(f"{where}: metadata '{key}' must be true or false, got {raw!r}")
    return raw == "true"


def decoded(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]`` decoded from JSON."""
    return _converted(meta, key, where, default, json.loads, "is not valid JSON")


def strings(meta: Mapping[str, str], key: str, where: str, default: Any = REQUIRED) -> Any:
    """``meta[key]``: a JSON list of strings."""
    if key not in meta:
        return text(meta, key, where, default)
    value = decoded(meta, key, where)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StitchError(f"{where}: {key} must be a JSON list of strings")
    return value


def written(values: Mapping[str, Any]) -> dict[str, str]:
    """Metadata as a file stores it: None left out, strings as they are, anything else as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value)
            for key, value in values.items() if value is not None}

