"""`insight segments affinity` (what each segment buys) and `insight segments due` (who is about to reorder)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import click
import sqlite_utils
from rich.console import Console
from rich.table import Table

from ingest.errors import ImportFailure
from ingest.sku_categories import load_category_map
from insight.analysis.affinity import (
    BY,
    DUE_WITHIN_DAYS,
    EVERYONE,
    MIN_PAIR_CUSTOMERS,
    MIN_PAIR_SUPPORT,
    AffinityError,
    AffinityReport,
    affinity_report,
    due_rows,
)
from insight.analysis.rfm import Snapshot, latest_snapshot
from insight.commands.common import db_from_context, fail_command, json_option, parse_days
from insight.core.db import open_existing
from insight.output import emit, plain_line


def _prepare(ctx: click.Context, as_of: Any, categories: Path | None, as_json: bool
             ) -> tuple[sqlite_utils.Database, Snapshot, dict[str, Any] | None]:
    db = open_existing(db_from_context(ctx))
    loaded = None
    if categories is not None:
        try:
            loaded = asdict(load_category_map(db, categories))
        except ImportFailure as exc:
            fail_command(exc.message, as_json)
    snapshot = latest_snapshot(db, as_of.date().isoformat() if as_of else None)
    if snapshot is None:
        fail_command("no RFM snapshot" + (f" on or before {as_of.date()}" if as_of else " yet")
              + ": import orders and run `insight segments` first", as_json)
    return db, snapshot, loaded


def _segment_name(db: sqlite_utils.Database, snapshot: Snapshot, name: str | None, as_json: bool) -> str | None:
    if name is None:
        return None
    names = [s for (s,) in db.execute("SELECT DISTINCT segment FROM rfm_scores WHERE snapshot_id = ?", [snapshot.id])]
    for known in names + [EVERYONE]:
        if known.casefold() == name.strip().casefold():
            return known
    fail_command(f"no segment {name!r} in the snapshot as of {snapshot.as_of}; segments: {', '.join(sorted(names))}", as_json)
    return None


_as_of = click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                      help="Use the latest snapshot on or before this date (default: the latest).")
_categories = click.option("--categories", type=click.Path(dir_okay=False, path_type=Path), default=None,
                           help="CSV of sku,category: your own categories (stored, replaces the previous map).")


@click.command("affinity")
@click.option("--segment", default=None, help="Only this segment ('All customers' for everyone).")
@click.option("--by", type=click.Choice(BY), default="category", show_default=True,
              help="Group lines by category (map, else export, else product name), vendor or product.")
@click.option("--min-pair-customers", type=click.IntRange(min=1), default=MIN_PAIR_CUSTOMERS, show_default=True,
              help="A pair needs at least this many customers who bought both.")
@click.option("--min-pair-support", type=click.FloatRange(0, 1), default=MIN_PAIR_SUPPORT, show_default=True,
              help="... and at least this share of the segment's customers.")
@click.option("--within", "within", default=f"{DUE_WITHIN_DAYS}d", show_default=True,
              help="Window for the 'due to reorder' count, e.g. 14d or 2w.")
@_categories
@_as_of
@json_option
@click.pass_context
def affinity(ctx, segment, by, min_pair_customers, min_pair_support, within, categories, as_of, as_json) -> None:
    """What each segment buys: category mix, single-category share, pairs bought together, cadence.

    \b
    Categories per order line: your --categories map (by SKU), else the export's own (Shopify product
    type, WooCommerce categories), else the product name. Shares count customers, not orders; pairs are
    bought by the same customer at any time (support, confidence, lift). Cadence: median days between
    repeat orders of the same product. Orders count as in the snapshot (not cancelled, test, unpaid...).
    """
    days = parse_days(within, "--within", "14d or 2w")
    db, snapshot, loaded = _prepare(ctx, as_of, categories, as_json)
    name = _segment_name(db, snapshot, segment, as_json)
    try:
        report = affinity_report(db, snapshot, by=by, within_days=days, min_pair_customers=min_pair_customers,
                                 min_pair_support=min_pair_support)
    except AffinityError as exc:
        fail_command(str(exc), as_json)
    payload = affinity_payload(report, name)
    payload["category_map"] = loaded
    emit(payload, as_json, lambda console: _render_affinity(console, payload))


def affinity_payload(report: AffinityReport, segment: str | None = None) -> dict[str, Any]:
    segments = [s for s in report.segments if segment is None or s.segment == segment]
    return {
        "ok": True,
        "as_of": report.as_of,
        "snapshot_id": report.snapshot_id,
        "by": report.by,
        "lines": report.lines,
        "sources": report.sources,
        "groups": report.groups,
        "within_days": report.within_days,
        "pairs_rule": {"min_customers": report.min_pair_customers, "min_support": report.min_pair_support},
        "segments": [asdict(s) for s in segments],
    }


def _render_affinity(console: Console, payload: dict[str, Any]) -> None:
    sources = ", ".join(f"{k} {v:,}" for k, v in payload["sources"].items()) or "none"
    console.print(plain_line(f"Snapshot as of {payload['as_of']}: {payload['lines']:,} order lines in "
                             f"{payload['groups']:,} {payload['by']} groups ({payload['by']} from: {sources})"))
    if payload["category_map"]:
        m = payload["category_map"]
        console.print(plain_line(f"Category map {m['source']}: {m['skus']:,} SKUs stored (replacing {m['replaced']:,})"))
    for s in payload["segments"]:
        if not s["customers_with_lines"]:
            console.print(plain_line(f"\n{s['segment']}: {s['customers']:,} customers, no order lines"))
            continue
        cadence = (f"median {s['median_cadence_days']:.0f} days between repeat orders of a product "
                   f"({s['customers_with_cadence']:,} customers)" if s["median_cadence_days"] is not None
                   else "no repeat orders of one product")
        console.print(plain_line(
            f"\n{s['segment']}: {s['customers']:,} customers; single-category {s['single_category']:,} "
            f"({s['single_category_share']:.0%}); {cadence}; due within {payload['within_days']} days: {s['due']:,}, "
            f"overdue {s['overdue']:,}, past their reorder date {s['late']:,}"
        ))
        table = Table(title=f"{s['segment']}: {payload['by']} mix")
        for column in (payload["by"], "customers", "share", "everyone", "revenue share"):
            table.add_column(column, justify="left" if column == payload["by"] else "right")
        for c in s["mix"][:12]:
            table.add_row(plain_line(c["category"]), f"{c['customers']:,}", f"{c['customer_share']:.0%}",
                          f"{c['everyone_share']:.0%}", f"{c['revenue_share']:.0%}")
        console.print(table)
        if s["pairs"]:
            pairs = Table(title=f"{s['segment']}: bought by the same customers")
            for column in ("A", "B", "customers", "support", "A→B", "B→A", "lift"):
                pairs.add_column(column, justify="left" if column in ("A", "B") else "right")
            for p in s["pairs"]:
                pairs.add_row(plain_line(p["a"]), plain_line(p["b"]), f"{p['customers']:,}", f"{p['support']:.0%}",
                              f"{p['confidence_ab']:.0%}", f"{p['confidence_ba']:.0%}", f"{p['lift']:.2f}")
            console.print(pairs)
        else:
            rule = payload["pairs_rule"]
            console.print(plain_line(f"No pair bought by at least {rule['min_customers']} customers and "
                                     f"{rule['min_support']:.0%} of the segment."))


@click.command("due")
@click.option("--within", "within", default=f"{DUE_WITHIN_DAYS}d", show_default=True,
              help="Due from the snapshot date up to this many days later, e.g. 14d or 2w.")
@click.option("--segment", default=None, help="Only customers of this segment.")
@click.option("--min-orders", type=click.IntRange(min=2), default=2, show_default=True,
              help="A product needs this many orders (distinct days) by the customer to have a cadence.")
@click.option("--include-subscriptions", is_flag=True,
              help="Also list products whose last order was a subscription order (they reorder by themselves).")
@_categories
@_as_of
@json_option
@click.pass_context
def due(ctx, within, segment, min_orders, include_subscriptions, categories, as_of, as_json) -> None:
    """Customers due to reorder a product: last order of it + their median days between its orders.

    \b
    The window starts on the snapshot's as-of date (run `insight segments` for today's). A product a
    customer bought on only one day has no cadence and is never due; one whose last order was tagged as a
    subscription order is left out (its next one ships by itself) unless --include-subscriptions.
    """
    days = parse_days(within, "--within", "14d or 2w")
    db, snapshot, _ = _prepare(ctx, as_of, categories, as_json)
    name = _segment_name(db, snapshot, segment, as_json)
    try:
        report = affinity_report(db, snapshot, within_days=days, min_orders=min_orders)
    except AffinityError as exc:
        fail_command(str(exc), as_json)
    payload = due_payload(db, report, name, include_subscriptions)
    emit(payload, as_json, lambda console: _render_due(console, payload))


def due_payload(db: sqlite_utils.Database, report: AffinityReport, segment: str | None,
                subscriptions: bool = False) -> dict[str, Any]:
    as_of = date.fromisoformat(report.as_of)
    every = due_rows(report.cadences, as_of, report.within_days, subscriptions=True)
    rows = every if subscriptions else [r for r in every if not r.subscription]
    info = {c: (key, seg, life) for c, key, seg, life in db.execute(
        """SELECT s.customer_id, c.display_key, s.segment, s.lifecycle FROM rfm_scores s
           JOIN customers c ON c.id = s.customer_id WHERE s.snapshot_id = ?""", [report.snapshot_id])}
    out = []
    for r in rows:
        key, seg, life = info[r.customer_id]
        if segment is not None and segment != EVERYONE and seg != segment:
            continue
        out.append({"customer": key, "segment": seg, "lifecycle": life, **asdict(r),
                    "customer_median_days": report.cadences[r.customer_id].median_days})
    scope = report.segment(segment or EVERYONE)
    members = {c for c, (_, seg, _) in info.items() if segment in (None, EVERYONE) or seg == segment}
    return {
        "ok": True,
        "as_of": report.as_of,
        "snapshot_id": report.snapshot_id,
        "within_days": report.within_days,
        "segment": segment,
        "customers": len({r["customer_id"] for r in out}),
        "overdue_customers": scope.overdue if scope else 0,
        "subscriptions_included": subscriptions,
        "subscription_products_left_out": 0 if subscriptions else sum(
            1 for r in every if r.subscription and r.customer_id in members),
        "due": out,
    }


def _render_due(console: Console, payload: dict[str, Any]) -> None:
    where = f" in {payload['segment']}" if payload["segment"] else ""
    console.print(plain_line(
        f"Due to reorder{where} {payload['as_of']} .. +{payload['within_days']} days: {payload['customers']:,} "
        f"customers ({len(payload['due']):,} products); {payload['overdue_customers']:,} more were due in the "
        f"{payload['within_days']} days before and have not reordered"
        + (f"; {payload['subscription_products_left_out']:,} products on a subscription left out "
           "(--include-subscriptions)" if payload["subscription_products_left_out"] else "")))
    if not payload["due"]:
        return
    table = Table()
    for column in ("customer", "segment", "product", "orders", "every", "due"):
        table.add_column(column, justify="right" if column in ("orders", "every") else "left")
    for r in payload["due"]:
        table.add_row(plain_line(r["customer"]), plain_line(r["segment"]), plain_line(r["product"]), str(r["orders"]),
                      f"{r['median_days']:.0f}d", f"{r['next_order']} (+{r['days_until']})")
    console.print(table)


COMMANDS = [affinity, due]
