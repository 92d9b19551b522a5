"""Options and helpers shared by every command module."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NoReturn

import click

from insight.core.db import default_db_path
from insight.output import print_error

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout and nothing else."
)


def db_from_context(ctx: click.Context) -> Path:
    obj = ctx.find_root().obj or {}
    return Path(obj.get("db_path") or default_db_path())


def parse_mapping(text: str | None) -> dict[str, list[str]]:
    """'id=ResponseNo,text=Q3,text=Q4,email=Email' -> {'id': ['ResponseNo'], 'text': ['Q3', 'Q4'], ...}."""
    mapping: dict[str, list[str]] = {}
    if not text:
        return mapping
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise click.BadParameter(f"{part!r} is not FIELD=COLUMN", param_hint="--map")
        field, column = part.split("=", 1)
        mapping.setdefault(field.strip().lower(), []).append(column.strip())
    return mapping


def fail_command(message: str, as_json: bool) -> NoReturn:
    """One JSON object on stdout with --json, else one unwrapped line on stderr; exit status 1."""
    print_error(message, as_json)
    raise SystemExit(1)


_DAYS = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$", re.IGNORECASE)


def parse_days(text: str | None, option: str, example: str, minimum: int = 0) -> int:
    """'14d', '14' or '2w' -> days, for an option such as --within or --horizon."""
    match = _DAYS.match(text or "")
    days = int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1) if match else -1
    if days < minimum:
        raise click.BadParameter(f"{text!r} is not a number of days, e.g. {example}", param_hint=option)
    return days


def parse_rates(values: tuple[str, ...]) -> dict[str, float]:
    """--rate CUR=RATE values (1 CUR = RATE in the report currency), as every segments command takes them."""
    rates: dict[str, float] = {}
    for value in values:
        currency, sep, rate = value.partition("=")
        try:
            number = float(rate)
        except ValueError:
            number = -1.0
        if not sep or not currency.strip() or number <= 0:
            raise click.BadParameter(f"{value!r} is not CUR=RATE, e.g. CAD=0.73", param_hint="--rate")
        rates[currency.strip().upper()] = number
    return rates
