"""The segment map: readable rules from R/F/M scores to segment names, plus lifecycle thresholds.

The rules live in a TOML file (`insight/analysis/segments.toml` by default) so a researcher can read them and
swap in their own. They compile to a 5x5x5 lookup table, so assigning 100,000 customers is one
numpy indexing operation, and a map that leaves any score combination unassigned is refused up front.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from insight.core.errors import InsightError

DEFAULT_MAP = Path(__file__).with_name("segments.toml")
SEGMENTS = (
    "Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising", "Need Attention",
    "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
)
LIFECYCLE_STAGES = ("Active", "At Risk", "Lapsed")
DEFAULT_ACTIVE_DAYS = 90
DEFAULT_LAPSED_DAYS = 180
SCORES = ("r", "f", "m")
_RANGE = re.compile(r"^\s*([1-5])\s*(?:-\s*([1-5]))?\s*$")


class SegmentMapError(InsightError, ValueError):
    """A segment map that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class SegmentRule:
    name: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)
    description: str = ""

    def matches(self, r: int, f: int, m: int) -> bool:
        return self.r[0] <= r <= self.r[1] and self.f[0] <= f <= self.f[1] and self.m[0] <= m <= self.m[1]

    @property
    def text(self) -> str:
        """'r 5, f 4-5' — the rule as shown to users."""
        parts = []
        for score in SCORES:
            low, high = getattr(self, score)
            if (low, high) != (1, 5):
                parts.append(f"{score} {low}" if low == high else f"{score} {low}-{high}")
        return ", ".join(parts) or "anything else"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rule": self.text, "description": self.description}


@dataclass(frozen=True)
class SegmentMap:
    rules: tuple[SegmentRule, ...]
    active_days: int = DEFAULT_ACTIVE_DAYS
    lapsed_days: int = DEFAULT_LAPSED_DAYS
    source: str = "default"
    _table: np.ndarray = field(init=False, repr=False, compare=False)  # set by __post_init__

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", _compile(self.rules, self.source))
        if not 0 < self.active_days < self.lapsed_days:
            raise SegmentMapError(
                f"{self.source}: lifecycle needs 0 < active_days < lapsed_days "
                f"(got {self.active_days} and {self.lapsed_days})"
            )

    @property
    def names(self) -> list[str]:
        """Segment names in rule order, each once."""
        return list(dict.fromkeys(rule.name for rule in self.rules))

    def assign(self, r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Index into `names` for each customer's (r, f, m) scores (arrays of 1..5)."""
        return self._table[r - 1, f - 1, m - 1]

    def segment(self, r: int, f: int, m: int) -> str:
        return self.names[int(self._table[r - 1, f - 1, m - 1])]

    def lifecycle(self, recency_days: np.ndarray) -> np.ndarray:
        """Index into LIFECYCLE_STAGES: Active (<= active_days), At Risk (<= lapsed_days), Lapsed."""
        return np.where(recency_days <= self.active_days, 0, np.where(recency_days <= self.lapsed_days, 1, 2))

    def with_thresholds(self, active_days: int | None, lapsed_days: int | None) -> SegmentMap:
        return SegmentMap(
            self.rules,
            active_days if active_days is not None else self.active_days,
            lapsed_days if lapsed_days is not None else self.lapsed_days,
            self.source,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rules": [rule.as_dict() for rule in self.rules],
            "lifecycle": {"active_days": self.active_days, "lapsed_days": self.lapsed_days},
        }


def _compile(rules: tuple[SegmentRule, ...], source: str) -> np.ndarray:
    if not rules:
        raise SegmentMapError(f"{source}: no segments defined")
    names = list(dict.fromkeys(rule.name for rule in rules))
    table = np.full((5, 5, 5), -1, dtype=np.int16)
    for r, f, m in product(range(1, 6), repeat=3):
        for rule in rules:
            if rule.matches(r, f, m):
                table[r - 1, f - 1, m - 1] = names.index(rule.name)
                break
        else:
            raise SegmentMapError(
                f"{source}: no rule matches r={r} f={f} m={m}; add a catch-all rule without ranges at the end"
            )
    return table


def _parse_range(value: Any, where: str, score: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        value = f"{value[0]}-{value[1]}"
    match = _RANGE.match(value) if isinstance(value, str) else None
    if not match:
        raise SegmentMapError(f"{where}: {score} = {value!r} is not a score range (expected e.g. \"5\" or \"2-4\")")
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if low > high:
        raise SegmentMapError(f"{where}: {score} = {value!r} runs backwards (expected low-high)")
    return low, high


def parse_segment_map(data: dict[str, Any], source: str) -> SegmentMap:
    entries = data.get("segments", data.get("segment"))
    if not isinstance(entries, list) or not entries:
        raise SegmentMapError(f"{source}: expected a 'segments = [ {{ name = ..., r = ..., f = ... }}, ... ]' list")
    rules = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}, segment {number}"
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise SegmentMapError(f"{where}: every segment needs a name")
        for key in ("name", "description"):
            if key in entry and not isinstance(entry[key], str):
                raise SegmentMapError(f"{where}: {key} = {entry[key]!r} is not text (expected {key} = \"...\")")
        unknown = set(entry) - {"name", "description", *SCORES}
        if unknown:
            raise SegmentMapError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected name, r, f, m, description)")
        ranges = {score: _parse_range(entry[score], where, score) for score in SCORES if score in entry}
        rules.append(SegmentRule(str(entry["name"]).strip(), description=str(entry.get("description", "")), **ranges))
    lifecycle = data.get("lifecycle", {})
    try:
        active = int(lifecycle.get("active_days", DEFAULT_ACTIVE_DAYS))
        lapsed = int(lifecycle.get("lapsed_days", DEFAULT_LAPSED_DAYS))
    except (TypeError, ValueError):
        raise SegmentMapError(f"{source}: [lifecycle] active_days and lapsed_days must be whole days") from None
    return SegmentMap(tuple(rules), active, lapsed, source)


def load_segment_map(path: Path | None = None) -> SegmentMap:
    """The map in `path`, or the packaged default (insight/analysis/segments.toml)."""
    target = Path(path) if path is not None else DEFAULT_MAP
    try:
        data = tomllib.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SegmentMapError(f"{target}: segment map not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SegmentMapError(f"{target}: not valid TOML: {exc}") from None
    return parse_segment_map(data, "default" if path is None else str(target))
