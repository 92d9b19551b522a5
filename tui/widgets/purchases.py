"""What a segment buys (insight.analysis.affinity): single-category share, who is due to reorder, the category mix
next to all customers as block bars, and the categories bought together with their lift."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from insight.core.safe_text import printable
from tui.widgets.format import bar, clip, pct
from tui.widgets.table import Table

MIX_ROWS = 10
MIX_BAR = 16  # cells for 100% of the customers: the segment's and everyone's bars on one scale
PAIR_ROWS = 8
SOURCE_WORDS = {"map": "your SKU map", "export": "the export", "product name": "product names"}


def share_cell(share: float, style: str) -> Text:
    return Text(f"{bar(share, MIX_BAR):<{MIX_BAR}}", style=style).append(f" {pct(share):>4}", style="")


def purchases_summary(report: Any, segment: str) -> Text:
    """Single-category share, cadence and who is due to reorder, next to all customers (an AffinityReport)."""
    from insight.analysis.affinity import EVERYONE

    mine, everyone = report.segment(segment), report.segment(EVERYONE)
    if mine is None or not mine.customers_with_lines:
        return Text(f"No order lines for {segment}'s customers in the snapshot of {report.as_of}.", style="dim")
    text = Text()
    text.append("Single-category: ", style="bold")
    text.append(f"{mine.single_category:,} of the {mine.customers_with_lines:,} with order lines "
                f"({pct(mine.single_category_share)}; all customers {pct(everyone.single_category_share)}) only ever "
                "bought one category")
    if mine.single_category_top:
        text.append(", most often " + ", ".join(f"{printable(c)} ({k:,})" for c, k in mine.single_category_top))
    text.append("\n")
    text.append(f"Due to reorder within {report.within_days} days: ", style="bold")
    text.append(f"{mine.due:,} of them, by their own cadence")
    if mine.overdue:
        text.append(f"; {mine.overdue:,} more were due in the {report.within_days} days before and have not reordered")
    if mine.median_cadence_days is not None:
        others = "" if everyone.median_cadence_days is None else f"; all customers {everyone.median_cadence_days:.0f}"
        text.append(f" · median {mine.median_cadence_days:.0f} days between repeat orders of a product "
                    f"({mine.customers_with_cadence:,} customers{others})")
    text.append("\n")
    where = ", ".join(f"{SOURCE_WORDS.get(k, k)} {v:,}" for k, v in report.sources.items())
    text.append(f"From order lines of the snapshot as of {report.as_of} (lines by where their category came from: "
                f"{where}); insight segments affinity / due have every row.", style="dim")
    return text


class PurchasesPanel(Vertical):
    """The segment screen's "What they buy" tab, mounted the first time it is shown."""

    def compose(self) -> ComposeResult:
        yield Static("", id="buys-summary")
        mix = Table(id="buys-mix", cursor_type="row", zebra_stripes=True)
        mix.border_title = "Category mix: share of customers who bought each"
        yield mix
        pairs = Table(id="buys-pairs", cursor_type="row", zebra_stripes=True)
        pairs.border_title = "Bought together (by the same customers), highest lift first"
        # Not a sibling of the mix table: when another tab hides a focused table, Textual focuses a focusable
        # sibling, which switched the segment screen straight back to this tab.
        with Vertical(id="buys-pairs-box"):
            yield pairs

    def on_mount(self) -> None:
        self.query_one("#buys-mix", Table).add_columns("category", "this segment", "all customers", "customers",
                                                       "of line revenue")
        self.query_one("#buys-pairs", Table).add_columns("categories", "customers", "support", "lift",
                                                         "confidence: also bought the other")

    def computing(self) -> None:
        self.query_one("#buys-summary", Static).update(Text("computing what they buy…", style="dim"))
        for table in self.query(Table):
            table.clear()
            table.border_subtitle = ""

    def show(self, report: Any | None, error: str | None, segment: str) -> None:
        """Draw one segment of an AffinityReport (None: say why there is none)."""
        summary = self.query_one("#buys-summary", Static)
        mix, pairs = self.query_one("#buys-mix", Table), self.query_one("#buys-pairs", Table)
        mix.clear()
        pairs.clear()
        if report is None:
            summary.update(Text(f"Nothing to show: {error}", style="dim"))
            mix.border_subtitle = pairs.border_subtitle = ""
            return
        summary.update(purchases_summary(report, segment))
        mine = report.segment(segment)
        shares = mine.mix if mine is not None else []
        for share in shares[:MIX_ROWS]:
            mix.add_row(clip(share.category, 30), share_cell(share.customer_share, "cyan"),
                        share_cell(share.everyone_share, "grey50"), f"{share.customers:,}", pct(share.revenue_share))
        mix.border_subtitle = (f"{MIX_ROWS} of {len(shares)} {report.by} groups, most bought first"
                               if len(shares) > MIX_ROWS else f"{len(shares)} {report.by} group{'' if len(shares) == 1 else 's'}")
        found = mine.pairs[:PAIR_ROWS] if mine is not None else []
        for pair in found:
            pairs.add_row(clip(f"{pair.a} + {pair.b}", 40), f"{pair.customers:,}", pct(pair.support),
                          Text(f"{pair.lift:.2f}", style="bold" if pair.lift > 1 else "dim"),
                          f"{pct(pair.confidence_ab)} of {clip(pair.a, 20)} buyers · {pct(pair.confidence_ba)} of "
                          f"{clip(pair.b, 20)} buyers")
        rule = f"{report.min_pair_customers}+ customers and {pct(report.min_pair_support)}+ of the segment"
        pairs.border_subtitle = (f"lift > 1: together more often than chance · each pair bought by {rule}" if found
                                 else f"no pair bought by {rule}")
