"""Small text formatters shared by the screens: sparklines, bars, shares, ratings, dates, lift colours."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from insight.core.safe_text import printable

BLOCKS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], last: int = 8) -> str:
    """A one-line sparkline of the last windows, scaled to the series' own max (a flat series stays low)."""
    values = list(values)[-last:]
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[min(len(BLOCKS) - 1, int(round(v / top * (len(BLOCKS) - 1))))] for v in values)


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of full blocks and a half block, `fraction` (0..1) of `width` cells."""
    cells = max(0.0, min(1.0, fraction)) * width
    return "█" * int(cells) + ("▌" if cells - int(cells) >= 0.5 else "")


def pct(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value * 100:.{digits}f}%"


def feeling(positive: int, negative: int) -> str:
    """A theme's positive / negative mentions, blank before sentiment was scored."""
    return f"+{positive:,} / -{negative:,}" if positive or negative else ""


def rating(value: float | None) -> str:
    return "" if value is None else f"★ {value:.1f}"


def day(iso: str | None) -> str:
    return (iso or "")[:10]


CUSTOMER_KINDS = {"order": "order #", "customer_id": "customer "}


def customer(key: str | None) -> str:
    """Who said it, from a customer key ('email:…', 'order:1001', 'customer_id:42'): a bare number read as
    nothing, so an order or a customer id says which it is."""
    if not key:
        return "anonymous"
    kind, _, value = key.partition(":")
    return f"{CUSTOMER_KINDS.get(kind, '')}{value}" if value else key


def money(value: float) -> str:
    return f"{value:,.0f}"


CHANGE_STYLE = {"new": "bold green", "grown": "green", "shrunk": "yellow", "vanished": "red", "stable": "dim"}


def change(value: str | None) -> Text:
    if not value:
        return Text("")
    arrow = {"new": "✚ ", "grown": "▲ ", "shrunk": "▼ ", "vanished": "✖ ", "stable": "= "}.get(value, "")
    return Text(arrow + value, style=CHANGE_STYLE.get(value, ""))


def lift(value: float | None, significant: bool) -> Text:
    """A heat-map cell: the lift, coloured by strength, starred when significant after correction."""
    if value is None:
        return Text("  ·  ", style="dim")
    if value >= 2:
        style = "bold white on dark_green"
    elif value >= 1.5:
        style = "white on green4"
    elif value >= 1.1:
        style = "black on dark_sea_green"
    elif value <= 0.5:
        style = "white on dark_red"
    elif value <= 0.9:
        style = "black on light_salmon3"
    else:
        style = ""
    label = f"{value:4.1f}{'*' if significant else ' '}"
    return Text(f" {label} ", style=style if significant or value < 1 else style.replace("bold ", ""))


def clip(text: str, width: int) -> str:
    """One line of at most `width` characters, without the control characters and escape sequences a
    customer's text may hold (they would act on the terminal)."""
    text = " ".join(printable(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
