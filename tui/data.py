"""The TUI's single door to the database: per-thread read connections, cached slow results, and the edits.

Widgets call `insight.analysis.queries` functions with `source.read()` from worker threads: read-only
connections (links and briefs read through them too); the only writes are the theme edits (rename, merge,
split), over a writer connection opened for each. Links and briefs are imported when first asked for (they
load scipy), so the TUI starts fast.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from insight.analysis import queries
from insight.core.db import connect


class FeatureUnavailable(RuntimeError):
    """Something the TUI was asked for that this database cannot answer (no brief written for a segment)."""


@dataclass
class LinkState:
    report: Any | None  # insight.analysis.links.LinkReport
    error: str | None = None


@dataclass
class Backtest:
    """Repurchase per segment after one past cut-off (insight.analysis.segment_validation), for the database state
    `key` (queries.orders_state)."""

    validation: Any | None  # insight.analysis.segment_validation.Validation with one cut-off
    error: str | None = None
    key: tuple[Any, ...] = ()

    @property
    def cutoff(self) -> Any | None:
        """The cut-off's result (insight.analysis.segment_validation.CutoffResult)."""
        return self.validation.cutoffs[0] if self.validation is not None else None

    def outcome(self, segment: str) -> Any | None:
        """The segment's SegmentOutcome at the cut-off (its customers then), None for a name the map lacks."""
        cut = self.cutoff
        return None if cut is None else next((o for o in cut.maps[0].segments if o.name == segment), None)


@dataclass
class Purchases:
    """What each segment buys (insight.analysis.affinity.AffinityReport) for the database state `key`."""

    report: Any | None
    error: str | None = None
    key: tuple[Any, ...] = ()


def no_backtest_reason(db: sqlite_utils.Database) -> str:
    """Why the default backtest has nothing to measure, without the command's option hints."""
    from insight.analysis.segment_validation import DEFAULT_HORIZON_DAYS, cutoff_dates, last_counted_day

    last = last_counted_day(db)
    if last is None:
        return "no orders that count toward RFM yet"
    [cutoff] = cutoff_dates(last, DEFAULT_HORIZON_DAYS, 1)
    return (f"no counted order on or before the cut-off {cutoff.isoformat()}, {DEFAULT_HORIZON_DAYS} days before the "
            f"last one ({last.isoformat()}): the order history is shorter than the horizon")


class DataSource:
    def __init__(self, path: Path, briefs_dir: Path = Path("briefs")) -> None:
        self.path = Path(path)
        self.briefs_dir = Path(briefs_dir)
        self._local = threading.local()
        self._lock = threading.Lock()  # guards the link report
        self._index_lock = threading.Lock()
        self._segments_lock = threading.Lock()  # apart from the links: those can take seconds
        self._backtest_lock = threading.Lock()
        self._purchases_lock = threading.Lock()
        self._backtest: Backtest | None = None
        self._purchases: Purchases | None = None
        self._links: LinkState | None = None
        self._segments: list[queries.SegmentRow] | None = None
        self._options: queries.FilterOptions | None = None
        self._moves: list[queries.MoveCount] | None = None  # every segment move of the latest snapshot
        self._index: queries.VectorIndex | None = None
        self._index_loaded = False
        queries.connect_read(self.path).conn.close()  # fail early: missing or unmigrated (insight tui migrates)

    # ------------------------------------------------------------ connections

    def read(self) -> sqlite_utils.Database:
        """This thread's read-only connection (sqlite3 connections must not cross threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = queries.connect_read(self.path)
            self._local.db = db
        return db

    def _writer(self) -> sqlite_utils.Database:
        return connect(self.path)

    # ------------------------------------------------------------ cached slow results

    def links(self) -> LinkState:
        """The segment x theme link report, computed once per session (and after edits)."""
        with self._lock:
            if self._links is not None:
                return self._links
            from insight.analysis.links import compute_links  # scipy: loaded when first needed

            try:
                self._links = LinkState(compute_links(self.read()))
            except Exception as exc:  # noqa: BLE001 - shown to the user, the TUI keeps working
                self._links = LinkState(None, f"could not compute links: {exc}")
            return self._links

    def segment_rows(self) -> list[queries.SegmentRow]:
        """The latest snapshot's segments, read once per session like the link report (and after edits)."""
        with self._segments_lock:
            if self._segments is None:
                self._segments = queries.segment_table(self.read())
            return self._segments

    def filter_options(self) -> queries.FilterOptions:
        """The sources, questions, windows and segments the filter menus offer, read once per session."""
        with self._segments_lock:
            if self._options is None:
                self._options = queries.filter_options(self.read())
            return self._options

    def options_if_ready(self) -> queries.FilterOptions | None:
        """The filter menus' options if this session has read them, without waiting."""
        return self._options

    def segments_if_ready(self) -> list[queries.SegmentRow] | None:
        """The latest snapshot's segments if this session has read them, without waiting."""
        return self._segments

    def transitions(self, segment: str) -> list[queries.MoveCount]:
        """The moves into or out of `segment`. Every segment's are read at once, the first time: reading them
        costs the same for one segment as for all (~40 ms on the bench database, each new segment opened)."""
        with self._segments_lock:
            if self._moves is None:
                self._moves = queries.move_counts(self.read())
            return [m for m in self._moves if segment in (m.from_segment, m.to_segment)]

    def backtest(self) -> Backtest:
        """Who bought again per segment after the default cut-off of `insight segments validate` (its latest:
        the horizon before the last counted order), over the read-only connection. Seconds on a large shop,
        so it is kept for the database state it was computed on and recomputed only when that moved."""
        db = self.read()
        key = queries.orders_state(db)
        with self._backtest_lock:
            if self._backtest is not None and self._backtest.key == key:
                return self._backtest
            from insight.analysis.rfm import CurrencyMixError, RfmConfig, RfmError
            from insight.analysis.segment_validation import latest_snapshot_rates, validate_segments

            stored = latest_snapshot_rates(db)
            try:
                found = Backtest(validate_segments(db, cutoffs=1, config=RfmConfig(rates=stored.rates,
                                                                                   currency=stored.currency)),
                                 key=key)
            except CurrencyMixError as exc:  # a currency without a rate: `insight segments --rate` stores one
                found = Backtest(None, str(exc), key)
            except RfmError:  # no orders, or none before the cut-off: said on the screen, in its words
                found = Backtest(None, no_backtest_reason(db), key)
            self._backtest = found
            return found

    def backtest_if_ready(self) -> Backtest | None:
        """The last backtest computed this session (maybe for an older database state), without waiting."""
        return self._backtest

    def purchases(self) -> Purchases:
        """Category mix, pairs and cadence of every segment of the latest snapshot (insight.analysis.affinity), kept for
        the database state it was computed on."""
        db = self.read()
        key = queries.purchases_state(db)
        with self._purchases_lock:
            if self._purchases is not None and self._purchases.key == key:
                return self._purchases
            from insight.analysis.affinity import AffinityError, affinity_report

            try:
                found = Purchases(affinity_report(db), key=key)
            except AffinityError as exc:
                found = Purchases(None, str(exc), key)
            self._purchases = found
            return found

    def purchases_if_ready(self) -> Purchases | None:
        """The last category mix computed this session (maybe for an older database state), without waiting."""
        return self._purchases

    def links_if_ready(self) -> LinkState | None:
        """The link report if this session has computed it, without waiting for it."""
        return self._links

    def vector_index(self) -> queries.VectorIndex | None:
        with self._index_lock:
            if not self._index_loaded:
                self._index = queries.load_vector_index(self.read())
                self._index_loaded = True
            return self._index

    def invalidate(self) -> None:
        """Forget cached results after an edit changed the themes."""
        with self._lock:
            self._links = None
        with self._segments_lock:
            self._segments = None
            self._options = None
            self._moves = None

    # ------------------------------------------------------------ briefs

    def brief_markdown(self, segment: str) -> str:
        """The segment's persona brief as Markdown (reusing the session's link report when there is one)."""
        from insight.analysis.brief import build_brief
        from insight.analysis.brief_render import render_markdown

        cached = self.links().report
        bought = self.purchases().report  # the "What they buy" tab's, computed once for both
        return render_markdown(build_brief(self.read(), segment, report=cached, affinity=bought))

    def export_brief(self, segment: str) -> Path:
        """Write the segment's brief as Markdown into the briefs folder (files only: the database is read)."""
        from insight.analysis.brief_render import write_briefs

        paths = write_briefs(self.read(), [segment], "md", self.briefs_dir)
        if not paths:
            raise FeatureUnavailable(f"no brief was written for {segment}")
        return Path(paths[0])

    # ------------------------------------------------------------ edits (the only writes)

    def rename_theme(self, theme_id: int, label: str) -> None:
        from insight.analysis import theme_edits  # spaCy: loaded when first needed

        db = self._writer()
        try:
            theme_edits.rename_theme(db, theme_id, label)
        finally:
            db.conn.close()
        self.invalidate()

    def merge_themes(self, keep_id: int, other_id: int) -> None:
        from insight.analysis import theme_edits  # spaCy: loaded when first needed

        db = self._writer()
        try:
            theme_edits.merge_themes(db, keep_id, other_id)
        finally:
            db.conn.close()
        self.invalidate()

    def split_theme(self, theme_id: int, k: int = 2) -> list[int]:
        from insight.analysis import theme_edits  # spaCy: loaded when first needed

        db = self._writer()
        try:
            new_ids = list(theme_edits.split_theme(db, theme_id, k=k))
        finally:
            db.conn.close()
        self.invalidate()
        return new_ids
