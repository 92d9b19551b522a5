"""One theme: label, phrases, trend, representative quotes, every quote (paged), lift per segment."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from insight.analysis import queries
from insight.core.safe_text import printable
from tui.data import DataSource, LinkState
from tui.screens.base import PlaceScreen
from tui.screens.editing import ThemeEditing, ThemeRef
from tui.widgets.format import bar, change, day, lift, pct, rating
from tui.widgets.quotes import QuotePanel, who
from tui.widgets.table import Table


def header_text(detail: queries.ThemeDetail) -> Text:
    text = Text()
    text.append(printable(detail.label), style="bold")
    text.append(printable(f"   #{detail.id} · {detail.scope}"), style="dim")
    if detail.label != detail.generated_label:
        text.append(printable(f" · generated label: {detail.generated_label}"), style="dim")
    if detail.level == "parent":
        text.append(f" · parent theme of {len(detail.subthemes)} sub-theme{'' if len(detail.subthemes) == 1 else 's'}",
                    style="dim")
    if detail.parent is not None:
        text.append(printable(f" · sub-theme of “{detail.parent[1]}” (#{detail.parent[0]})"), style="dim")
    if detail.moved_from is not None:
        text.append(printable(f" · moved from “{detail.moved_from[1]}” (#{detail.moved_from[0]}) in the latest run"),
                    style="magenta")
    text.append("\n")
    positive, neutral, negative = detail.sentiment
    text.append(f"{detail.size:,} documents · {pct(detail.share, 1)} of its scope · {detail.mentions:,} mentions"
                f" from {detail.customers:,} customers · ")
    if positive or negative:
        text.append(f"+{positive:,} ", style="green")
        text.append(f"-{negative:,} ", style="red")
        text.append(f"({neutral:,} neutral) · ", style="dim")
    if detail.kind == "general":
        text.append("general theme: short praise or comments · ", style="dim")
    text.append_text(change(detail.change))
    if detail.mean_rating is not None:
        text.append(f" · {rating(detail.mean_rating)}")
    if detail.status != "active":
        text.append(f" · {detail.status}", style="red")
    if detail.sources:
        text.append(" · " + ", ".join(f"{s} {n:,}" for s, n in detail.sources), style="dim")
    if detail.keywords:
        text.append("\nwords: ", style="dim")
        text.append(printable(", ".join(detail.keywords[:10])))
    if detail.phrases:
        text.append("\ncustomers say: ", style="dim")
        text.append(printable(" · ".join(f"“{p}”" for p in detail.phrases[:6])), style="italic")
    return text


SUBTHEME_LINES = 6  # beside the trend chart, as tall as six windows of it


def subtheme_text(detail: queries.ThemeDetail) -> Text:
    """A parent's sub-themes, largest first, with their part of the parent's documents; one line each."""
    text = Text(f"{len(detail.subthemes)} sub-themes, part of its documents\n", style="dim", no_wrap=True,
                overflow="ellipsis")
    shown = detail.subthemes if len(detail.subthemes) <= SUBTHEME_LINES else detail.subthemes[:SUBTHEME_LINES - 1]
    for row in shown:
        share = row.size / detail.size if detail.size else 0.0
        text.append(f"{pct(share):>4} ", style="cyan")
        text.append(printable(row.label))
        text.append(f" #{row.id}\n", style="dim")
    if len(shown) < len(detail.subthemes):
        text.append(f"… and {len(detail.subthemes) - len(shown)} more (in Themes: → on this one)", style="dim")
    return text


def representative_text(detail: queries.ThemeDetail) -> Text:
    text = Text()
    for quote in detail.representative:
        text.append(f"“{printable(quote.text)}”\n", style="italic")
        text.append(f"   {quote.source} · {day(quote.created_at)} · {who(quote)}\n", style="dim")
    if not detail.representative:
        text.append("No representative quotes stored for this theme.", style="dim")
    return text


def trend_chart(detail: queries.ThemeDetail, width: int = 30) -> Text:
    """Share per window as horizontal bars: readable with two windows, where a sparkline is not."""
    text = Text("share of its scope by window\n", style="dim")
    if not detail.trend:
        text.append("no prevalence recorded yet", style="dim")
        return text
    top = max(p.share for p in detail.trend) or 1.0
    for point in detail.trend[-6:]:
        text.append(f"{point.window_start[:7]} ")
        text.append(f"{bar(point.share / top, width):<{width + 1}}", style="cyan")
        text.append(f" {pct(point.share, 1):>6} · {point.customers:,} customer{'' if point.customers == 1 else 's'}\n")
    return text


QUOTE_PAGE = 50


def list_filter(filt: queries.ThemeFilter | None) -> queries.ThemeFilter:
    """The list's filters that narrow a theme's quotes (the label text and scope only chose the theme)."""
    return replace(filt or queries.ThemeFilter(), text=None, scope=None)


def is_narrowed(filt: queries.ThemeFilter) -> bool:
    return filt.needs_units or bool(filt.window)


@dataclass(frozen=True)
class ThemeView:
    """Everything the theme screen shows at once, fetched in one worker so it is drawn in one pass."""

    detail: queries.ThemeDetail | None
    quotes: queries.QuotePage
    links: LinkState | None  # None while the session's link report is still being computed


def quote_filter(filt: queries.ThemeFilter, filtered: bool) -> queries.ThemeFilter:
    return filt if filtered else queries.ThemeFilter()


def fetch_theme_view(data: DataSource, theme_id: int, filt: queries.ThemeFilter, filtered: bool) -> ThemeView:
    db = data.read()
    return ThemeView(
        queries.theme_detail(db, theme_id),
        queries.theme_quotes(db, theme_id, quote_filter(filt, filtered), limit=QUOTE_PAGE, offset=0),
        data.links_if_ready(),
    )


class ThemeDetailScreen(ThemeEditing, PlaceScreen):
    TITLE_TEXT = "Theme"
    AUTO_FOCUS = "QuoteTable"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "rename", "Rename"),
        Binding("m", "merge", "Merge"),
        Binding("x", "split", "Split"),
        Binding("a", "toggle_scope", "All/filtered quotes"),
    ]

    def __init__(self, theme_id: int, filt: queries.ThemeFilter | None = None, view: ThemeView | None = None) -> None:
        super().__init__()
        self.theme_id = theme_id
        self.filter = list_filter(filt)
        self.filtered = is_narrowed(self.filter)
        self.detail: queries.ThemeDetail | None = None
        self.view = view  # fetched by the app before the screen was shown: applied once, then dropped

    def compose_body(self) -> ComposeResult:
        with Vertical(id="theme-detail"):
            yield Static("Loading…", id="theme-header")
            with Horizontal(id="theme-middle"):
                with Vertical(id="theme-left"):
                    with Horizontal(id="theme-top"):
                        yield Static("", id="trend")
                        yield Static("", id="subthemes")
                    yield Static("", id="representative")
                lifts = Table(id="lift-table", cursor_type="row", zebra_stripes=True)
                lifts.border_title = "Lift by segment"
                yield lifts
            yield QuotePanel(title="All quotes", id="theme-quotes", page_size=QUOTE_PAGE)

    def on_mount(self) -> None:
        super().on_mount()
        lifts = self.query_one("#lift-table", DataTable)
        # Fixed widths: the table fills in a worker, and auto-sized columns could be measured before the
        # rows arrive (the longest segment name of the standard map, "Potential Loyalists", is 19 wide).
        for name, width in (("segment", 19), ("lift", 6), ("customers", 9), ("share", 5)):
            lifts.add_column(name, width=width)
        view, self.view = self.view, None
        if view is not None:
            self.apply(view)
        else:
            self.load()
        self.query_one(QuotePanel).table.focus()

    def retarget(self, theme_id: int, filt: queries.ThemeFilter | None, view: ThemeView) -> None:
        """Show another theme in this (already composed) screen; the view is applied as it resumes, so the
        new content is laid out and drawn in the same frame as the screen itself."""
        self.theme_id = theme_id
        self.filter = list_filter(filt)
        self.filtered = is_narrowed(self.filter)
        self.detail = None
        self.view = view
        self.forget("detail")  # a reload still coming is the previous theme's

    def on_screen_resume(self) -> None:
        # A view is applied once: after an edit the screen reloads its own, and a later resume (back from
        # a document) must not bring the one it was opened with back.
        view, self.view = self.view, None
        if view is not None:
            self.apply(view)
            panel = self.query_one(QuotePanel)
            panel.table.move_cursor(row=0, animate=False)
            self.set_focus(panel.table)  # now, not in a later callback: the first frame has the focus drawn
        elif self.data_moved():
            self.load()

    def load(self) -> None:
        theme_id, filt, filtered = self.theme_id, self.filter, self.filtered
        self.run_query(lambda: fetch_theme_view(self.data, theme_id, filt, filtered), self.apply, group="detail",
                       key=(theme_id, filt, filtered))

    def apply(self, view: ThemeView) -> None:
        with self.app.batch_update():
            self.show(view.detail)
            self.show_quotes(view.quotes)
            if view.links is not None:
                self.show_lifts(view.links)
        self.refresh(layout=True)  # lay the new content out in the next frame, not one frame later
        if view.links is None:
            self.query_one("#lift-table", DataTable).border_subtitle = "computing links…"
            self.ask_links(self.show_lifts)

    def show(self, detail: queries.ThemeDetail | None) -> None:
        if detail is None:
            self.detail = None
            self.sub_title = f"Theme #{self.theme_id}"
            self.query_one("#theme-header", Static).update(Text(f"Theme #{self.theme_id} no longer exists.", style="red"))
            self.query_one("#trend", Static).update("")
            self.query_one("#subthemes", Static).display = False
            self.query_one("#representative", Static).update("")
            return
        self.detail = detail
        self.sub_title = printable(f"Theme #{detail.id}: {detail.label}")
        self.query_one("#theme-header", Static).update(header_text(detail))
        self.query_one("#trend", Static).update(trend_chart(detail))
        subthemes = self.query_one("#subthemes", Static)
        subthemes.display = bool(detail.subthemes)
        subthemes.update(subtheme_text(detail) if detail.subthemes else "")
        self.query_one("#representative", Static).update(representative_text(detail))

    def show_quotes(self, first: queries.QuotePage | None = None) -> None:
        filt = quote_filter(self.filter, self.filtered)
        theme_id = self.theme_id
        parts = [f"{k} {v}" for k, v in (("source", filt.source), ("question", filt.question),
                                          ("window", filt.window), ("segment", filt.segment)) if v]
        title = "Quotes" + (f" ({', '.join(parts)})" if parts else ", most typical first")
        self.query_one(QuotePanel).show(
            lambda offset, limit: queries.theme_quotes(self.data.read(), theme_id, filt, limit=limit, offset=offset),
            title,
            first,
        )

    def show_lifts(self, state: LinkState) -> None:
        table = self.query_one("#lift-table", Table)
        table.clear()
        if state.report is None:
            table.border_subtitle = state.error or "no links"
            return
        rows = sorted((r for r in state.report.rows if r.theme_id == self.theme_id),
                      key=lambda r: -(r.lift or 0))
        for row in rows:
            table.add_row(row.segment, lift(row.lift, row.significant), f"{row.customers:,}", pct(row.share))
        alone = self.detail is not None and self.detail.level == "parent" and len(self.detail.subthemes) == 1
        table.border_subtitle = ("* significant (BH-corrected)" if rows else
                                 "linked as its one sub-theme" if alone else "not linked to any segment")

    def action_toggle_scope(self) -> None:
        if not is_narrowed(self.filter):
            self.notify("No list filter to toggle: showing every quote")
            return
        self.filtered = not self.filtered
        self.show_quotes()

    def current_theme(self) -> ThemeRef | None:
        return ThemeRef(self.detail.id, self.detail.label, self.detail.scope, self.detail.level) if self.detail else None

    def after_edit(self, message: str) -> None:
        self.notify(message)
        self.data_moved()
        self.load()
