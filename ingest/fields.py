"""Reading one field of a JSON record with its type checked: a wrong type rejects that record, by name.

Exports are JSON written by other programs (and edited by people): `subject: ["a"]`, `comments: 5`,
`created_at: 1e20` must reject one record with a reason, never crash the import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ingest.limits import MAX_FIELD_CHARS

# Epoch seconds accepted as a date: 1970 .. 2100.
_LATEST_EPOCH = 4_102_444_800


class FieldError(ValueError):
    """One field of one record has the wrong type or size; the message names the field."""


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"a number ({value:g})" if isinstance(value, float) else f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def text(value: Any, name: str, *, limit: int = MAX_FIELD_CHARS) -> str | None:
    """A text field: None or '' -> None; a string up to `limit` characters; anything else is an error."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(f"{name} is {kind_of(value)}, expected text")
    if len(value) > limit:
        raise FieldError(f"{name} has {len(value):,} characters, over the limit of {limit:,}")
    return value


def scalar(value: Any, name: str) -> str | None:
    """An id, status or priority: text or a number, as text (a whole float loses its '.0')."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError(f"{name} is {kind_of(value)}, expected an id or text")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else str(value)
    return text(value, name, limit=1000) if isinstance(value, str) else str(value)


def items(value: Any, name: str) -> list[Any]:
    """A list field: None -> []; anything but a list is an error."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(f"{name} is {kind_of(value)}, expected a list")
    return value


def objects(value: Any, name: str) -> list[dict[str, Any]]:
    """A list of JSON objects: every item must be one."""
    found = items(value, name)
    for i, item in enumerate(found, 1):
        if not isinstance(item, dict):
            raise FieldError(f"{name}[{i}] is {kind_of(item)}, expected an object")
    return found


def obj(value: Any, name: str) -> dict[str, Any]:
    """An object field: None -> {}; anything but an object is an error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(f"{name} is {kind_of(value)}, expected an object")
    return value


def epoch(value: int | float, name: str) -> str:
    """Epoch seconds (or milliseconds) as ISO 8601 UTC; out of 1970..2100 is an error."""
    seconds = value / 1000 if value > 10_000_000_000 else value
    if not 0 < seconds < _LATEST_EPOCH:
        raise FieldError(f"{name} {value:g} is not a date (epoch seconds out of range)")
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
