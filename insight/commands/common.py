"""Options and helpers shared by every command module."""

from __future__ import annotations

from pathlib import Path

import click

from insight.db import default_db_path

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
