"""`insight segments` (an RFM snapshot, its segments, movers, members) and `insight customer` (one person)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import sqlite_utils
from rich.console import Console
from rich.table import Table

from insight.analysis.forget import find_customer
from insight.analysis.rfm import (
    TIE_RULE,
    RfmConfig,
    RfmError,
    Snapshot,
    compute_snapshot,
    get_snapshot,
    latest_snapshot,
    lifecycle_counts,
    members,
    previous_snapshot,
    segment_stats,
    transitions,
)
from insight.analysis.segment_map import SegmentMapError, load_segment_map
from insight.commands.common import db_from_context, fail_command, json_option, parse_rates
from insight.commands.segments_affinity import COMMANDS as AFFINITY_COMMANDS
from insight.commands.segments_export import export as export_command
from insight.commands.segments_validate import validate as validate_command
from insight.core.clock import Clock, utc_now_iso
from insight.core.db import open_existing, transaction
from insight.core.identity import CustomerResolver, parse_customer_ref
from insight.output import emit, line, plain, plain_line

# --- library functions the commands call (also used by the TUI/tests) -------------------------------


def merge_identities(db: sqlite_utils.Database, pairs: list[tuple[str, str]], clock: Clock = utc_now_iso) -> list[dict]:
    """Tell insight that two references are one person: 'a@x.com=b@y.com', '#1001=customer_id:42'.

    Both known: their customers are merged. One known: the other reference is attached to it, so later
    imports carrying it land on the same person. The merge lives in customer_identifiers, so it sticks.
    """
    done: list[dict] = []
    with transaction(db):
        resolver = CustomerResolver(db, "user", clock)
        for left, right in pairs:
            left_ref, right_ref = parse_customer_ref(left), parse_customer_ref(right)
            if left_ref is None or right_ref is None:
                raise click.BadParameter(f"{left}={right}: not an email, #order or customer_id:ID", param_hint="--merge")
            refs = [left_ref, right_ref]
            known = [resolver.lookup(ref) for ref in refs]
            if known == [None, None]:
                raise click.BadParameter(f"{left}={right}: neither is a known customer", param_hint="--merge")
            customer_id = resolver.resolve(refs)
            done.append({"merge": f"{left}={right}", "customer_id": customer_id,
                         "merged_customers": len({k for k in known if k is not None}) > 1})
    return done


def customer_profile(db: sqlite_utils.Database, customer_id: int, orders_limit: int = 50) -> dict[str, Any]:
    """Everything about one customer: identifiers, orders, scores, segment history, what they said."""
    row = db.execute("SELECT id, display_key, created_at FROM customers WHERE id = ?", [customer_id]).fetchone()
    if row is None:
        raise click.ClickException(f"customer {customer_id} does not exist")
    identifiers = [
        {"kind": kind, "value": value, "source": source}
        for kind, value, source in db.execute(
            "SELECT kind, value, source FROM customer_identifiers WHERE customer_id = ? AND kind != 'order' "
            "ORDER BY kind, value", [customer_id],
        )
    ]
    order_rows = db.execute(
        """SELECT platform, order_number, created_day, currency, total, refunded, net_revenue, financial_status,
                  counts_for_rfm, exclusion_reason,
                  (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id)
           FROM orders o WHERE customer_id = ? ORDER BY created_at DESC, order_number DESC""",
        [customer_id],
    ).fetchall()
    revenue: dict[str, float] = {}
    excluded: dict[str, int] = {}
    for r in order_rows:
        if r[8]:
            revenue[r[3] or ""] = round(revenue.get(r[3] or "", 0.0) + r[6], 2)
        else:
            excluded[r[9]] = excluded.get(r[9], 0) + 1
    history = [
        {"as_of": as_of, "segment": seg, "lifecycle": life, "r": r_, "f": f_, "m": m_,
         "recency_days": rec, "frequency": freq, "monetary": mon}
        for as_of, seg, life, r_, f_, m_, rec, freq, mon in db.execute(
            """SELECT n.as_of, s.segment, s.lifecycle, s.r_score, s.f_score, s.m_score, s.recency_days, s.frequency,
                      s.monetary
               FROM rfm_scores s JOIN rfm_snapshots n ON n.id = s.snapshot_id WHERE s.customer_id = ?
               ORDER BY n.as_of""", [customer_id],
        )
    ]
    latest = latest_snapshot(db)
    current = history[-1] if history and latest and history[-1]["as_of"] == latest.as_of else None
    return {
        "customer_id": row[0],
        "key": row[1],
        "first_seen": row[2],
        "identifiers": identifiers,
        "orders": {
            "total": len(order_rows),
            "counted": sum(1 for r in order_rows if r[8]),
            "excluded": excluded,
            "first_order": min((r[2] for r in order_rows), default=None),
            "last_order": max((r[2] for r in order_rows), default=None),
            "net_revenue": revenue,
            "recent": [
                {"platform": r[0], "order": r[1], "day": r[2], "currency": r[3], "total": r[4], "refunded": r[5],
                 "net_revenue": r[6], "status": r[7], "counted": bool(r[8]), "excluded_because": r[9], "lines": r[10]}
                for r in order_rows[:orders_limit]
            ],
        },
        "current": current,
        "latest_snapshot": latest.as_of if latest else None,
        "history": history,
        "feedback": _feedback(db, customer_id),
    }


def _feedback(db: sqlite_utils.Database, customer_id: int) -> list[dict[str, Any]]:
    docs = db.execute(
        """SELECT id, source, format, created_at, title, rating FROM documents WHERE customer_id = ?
           ORDER BY created_at DESC, id DESC""", [customer_id],
    ).fetchall()
    out = []
    for doc_id, source, fmt, created_at, title, rating in docs:
        units = [
            {"question": q, "speaker": sp, "text": text}
            for q, sp, text in db.execute(
                "SELECT question, speaker, text FROM units WHERE document_id = ? AND analyse = 1 ORDER BY position",
                [doc_id],
            )
        ]
        out.append({"source": source, "format": fmt, "created_at": created_at, "title": title, "rating": rating,
                    "units": units})
    return out


def _parse_merges(values: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise click.BadParameter(f"{value!r} is not A=B, e.g. jo@work.com=jo@home.com", param_hint="--merge")
        pairs.append((left.strip(), right.strip()))
    return pairs



# --- commands ---------------------------------------------------------------------------------------


@click.group("segments", invoke_without_command=True, subcommand_metavar="[COMMAND [ARGS]...]")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Score as of this date (default: today). Orders after it are ignored.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your own segment map (TOML; copy insight/analysis/segments.toml).")
@click.option("--active-days", type=click.IntRange(min=1), default=None, help="Active up to N days since the last order (90).")
@click.option("--lapsed-days", type=click.IntRange(min=2), default=None, help="Lapsed beyond N days (180); At Risk between.")
@click.option("--rate", "rates", multiple=True, metavar="CUR=RATE",
              help="Exchange rate into the report currency, e.g. --rate CAD=0.73 (repeatable).")
@click.option("--currency", default=None, help="Report currency (default: the most common one).")
@click.option("--merge", "merges", multiple=True, metavar="A=B",
              help="These two references are one person (emails, #order, customer_id:ID); repeatable, remembered.")
@click.option("--transitions", "show_transitions", is_flag=True, help="Who moved since the previous snapshot.")
@click.option("--members", "show_members", is_flag=True, help="List every scored customer with scores and segment.")
@json_option
@click.pass_context
def segments(ctx, as_of, map_path, active_days, lapsed_days, rates, currency, merges, show_transitions,
             show_members, as_json) -> None:
    """Compute an RFM snapshot and show its segments.

    \b
    Every run stores a snapshot for its as-of date (re-running a date replaces it), so segment moves
    between runs can be shown with --transitions. What counts: orders not cancelled or voided, not test, not
    unpaid, not awaiting payment (pending / authorized, unless imported with --count-pending), not fully
    refunded and not zero-value; partial refunds reduce monetary value. Scores are quintiles 1-5
    (5 = best); equal values share a score: score = 1 + floor(5 x share of customers with a worse value).
    """
    if ctx.invoked_subcommand is not None:  # e.g. `insight segments validate` or `export`: its own options
        return
    db = open_existing(db_from_context(ctx))
    try:
        segment_map = load_segment_map(map_path)
        config = RfmConfig(segment_map, active_days, lapsed_days, parse_rates(rates), currency)
        config.resolved_map()
    except SegmentMapError as exc:
        fail_command(str(exc), as_json)
    merged = merge_identities(db, _parse_merges(merges)) if merges else []
    try:
        summary = compute_snapshot(db, as_of=as_of.date() if as_of else None, config=config)
    except RfmError as exc:
        fail_command(str(exc), as_json)
    snapshot = get_snapshot(db, summary.snapshot_id)
    assert snapshot is not None
    stats = segment_stats(db, snapshot)
    payload: dict[str, Any] = {
        "ok": True,
        "snapshot": {"id": snapshot.id, "as_of": snapshot.as_of, "customers": snapshot.customers,
                     "currency": snapshot.currency, "replaced": summary.replaced, "seconds": summary.seconds},
        "segments": [asdict(s) for s in stats],
        "lifecycle": {"counts": lifecycle_counts(db, snapshot), **snapshot.params["segment_map"]["lifecycle"]},
        "orders": {"counted": summary.orders_counted, "excluded": summary.orders_excluded},
        "scoring": {"tie_rule": TIE_RULE, "map": snapshot.params["segment_map"]["source"],
                    "rates": snapshot.params.get("rates", {})},
        "merged": merged,
    }
    if show_transitions:
        payload["transitions"] = _transitions_payload(db, snapshot)
    if show_members:
        payload["members"] = [asdict(m) for m in members(db, snapshot)]
    emit(payload, as_json, lambda console: _render_segments(console, payload))


def _transitions_payload(db: sqlite_utils.Database, snapshot: Snapshot) -> dict[str, Any]:
    earlier = previous_snapshot(db, snapshot)
    if earlier is None:
        return {"from": None, "to": snapshot.as_of, "moves": [], "summary": {},
                "note": "no earlier snapshot: run `insight segments --as-of DATE` for an earlier date first"}
    moves = transitions(db, earlier.id, snapshot.id)
    keys = dict(db.execute(
        "SELECT id, display_key FROM customers WHERE id IN (SELECT customer_id FROM rfm_scores WHERE snapshot_id IN (?, ?))",
        [earlier.id, snapshot.id],
    ).fetchall())
    summary: dict[str, int] = {}
    lifecycle: dict[str, int] = {}
    for move in moves:
        if move.from_segment != move.to_segment:
            label = f"{move.from_segment or '(new)'} -> {move.to_segment or '(gone)'}"
            summary[label] = summary.get(label, 0) + 1
        if move.from_lifecycle != move.to_lifecycle:
            label = f"{move.from_lifecycle or '(new)'} -> {move.to_lifecycle or '(gone)'}"
            lifecycle[label] = lifecycle.get(label, 0) + 1
    return {
        "from": earlier.as_of,
        "to": snapshot.as_of,
        "summary": dict(sorted(summary.items(), key=lambda item: -item[1])),
        "lifecycle_summary": dict(sorted(lifecycle.items(), key=lambda item: -item[1])),
        "moves": [{"customer": keys.get(m.customer_id, str(m.customer_id)), **asdict(m)} for m in moves],
    }


def _render_segments(console: Console, payload: dict[str, Any]) -> None:
    snap = payload["snapshot"]
    table = Table(title=f"RFM segments as of {snap['as_of']} — {snap['customers']:,} customers"
                        + (f", {snap['currency']}" if snap["currency"] else ""))
    for column in ("segment", "rule", "customers", "share", "revenue share", "median recency (days)"):
        table.add_column(column, justify="left" if column in ("segment", "rule") else "right")
    for s in payload["segments"]:
        median = "" if s["median_recency_days"] is None else f"{s['median_recency_days']:.0f}"
        table.add_row(plain_line(s["name"]), plain_line(s["rule"]), f"{s['customers']:,}", f"{s['share']:.0%}",
                      f"{s['revenue_share']:.0%}", median)
    console.print(table)
    life = payload["lifecycle"]
    console.print("Lifecycle: " + ", ".join(f"{k} {v:,}" for k, v in life["counts"].items())
                  + f"  (Active <= {life['active_days']} days, Lapsed > {life['lapsed_days']})")
    excluded = payload["orders"]["excluded"]
    console.print(f"Orders counted: {payload['orders']['counted']:,}"
                  + (" — not counted: " + ", ".join(f"{k} {v:,}" for k, v in excluded.items()) if excluded else ""))
    for merge in payload["merged"]:
        console.print(plain_line(f"Merged {merge['merge']} into customer {merge['customer_id']}"))
    if "transitions" in payload:
        moves = payload["transitions"]
        if moves["from"] is None:
            console.print(moves["note"])
        else:
            console.print(f"\nMoves {moves['from']} -> {moves['to']}: {len(moves['moves']):,} customers changed")
            for label, count in list(moves["summary"].items())[:15]:
                console.print(plain_line(f"  {label}: {count:,}"))
            for label, count in moves["lifecycle_summary"].items():
                console.print(plain_line(f"  lifecycle {label}: {count:,}"))
    if "members" in payload:
        members_table = Table(title="members")
        for column in ("customer", "R", "F", "M", "days", "orders", "monetary", "segment", "lifecycle"):
            members_table.add_column(column)
        for m in payload["members"]:
            members_table.add_row(plain_line(m["key"]), str(m["r"]), str(m["f"]), str(m["m"]), str(m["recency_days"]),
                                  str(m["frequency"]), f"{m['monetary']:,.2f}", plain_line(m["segment"]),
                                  plain_line(m["lifecycle"]))
        console.print(members_table)
    if snap["replaced"]:
        console.print(f"(replaced the earlier snapshot of {snap['as_of']})")


@click.command("customer")
@click.argument("ref", metavar="EMAIL_OR_ID")
@json_option
@click.pass_context
def customer(ctx, ref: str, as_json: bool) -> None:
    """One customer: identifiers, orders, RFM scores and segment history, and everything they said.

    EMAIL_OR_ID is an email, '#1001' (an order), 'customer_id:42', or a platform customer id.
    """
    db = open_existing(db_from_context(ctx))
    customer_id = find_customer(db, ref)
    if customer_id is None and ref.isdigit():
        found = db.execute("SELECT id FROM customers WHERE id = ?", [int(ref)]).fetchone()
        customer_id = int(found[0]) if found else None
    if customer_id is None:
        fail_command(f"no customer matches {ref!r} (try an email, #order or customer_id:ID)", as_json)
    profile = customer_profile(db, customer_id)
    emit({"ok": True, **profile}, as_json, lambda console: _render_customer(console, profile))


def _render_customer(console: Console, p: dict[str, Any]) -> None:
    """Identifiers, titles and feedback are the customer's own text: printed plain, never as markup."""
    console.rule(plain_line(f"{p['key']} (customer {p['customer_id']})"))
    if p["identifiers"]:
        console.print(plain_line("Identifiers: " + ", ".join(f"{i['kind']} {i['value']}" for i in p["identifiers"])))
    o = p["orders"]
    money = ", ".join(f"{v:,.2f} {k}".strip() for k, v in o["net_revenue"].items()) or "0"
    console.print(plain_line(f"Orders: {o['total']} ({o['counted']} counted; net {money}); first {o['first_order']}, "
                             f"last {o['last_order']}" + (f"; not counted: {o['excluded']}" if o["excluded"] else "")))
    current = p["current"]
    if current:
        console.print(line(f"Now ({current['as_of']}): ", plain_line(current["segment"], "bold"),
                           plain_line(f", {current['lifecycle']} — R{current['r']} F{current['f']} M{current['m']} "
                                      f"({current['recency_days']} days, {current['frequency']} orders, "
                                      f"{current['monetary']:,.2f})")))
    else:
        console.print(f"Not scored in the latest snapshot ({p['latest_snapshot'] or 'none yet: run insight segments'}).")
    if len(p["history"]) > 1:
        console.print(plain_line("History: " + " -> ".join(f"{h['as_of']} {h['segment']}" for h in p["history"])))
    if o["recent"]:
        table = Table(title="orders (most recent first)")
        for column in ("order", "day", "total", "refunded", "status", "counted"):
            table.add_column(column)
        for r in o["recent"][:20]:
            table.add_row(plain_line(r["order"]), plain_line(r["day"]), plain_line(f"{r['total']:,.2f} {r['currency'] or ''}"),
                          f"{r['refunded']:,.2f}", plain_line(r["status"] or ""),
                          "yes" if r["counted"] else plain_line(f"no ({r['excluded_because']})"))
        console.print(table)
    for doc in p["feedback"]:
        console.print(line("\n", plain_line(doc["source"], "bold"),
                           plain_line(f" {doc['created_at'] or ''} {doc['title'] or ''}"
                                      + (f" ({doc['rating']:g}/5)" if doc["rating"] is not None else ""))))
        for unit in doc["units"]:
            prefix = f"{unit['question']}: " if unit["question"] else ""
            console.print(line("  ", plain(f"{prefix}{unit['text']}")))
    if not p["feedback"]:
        console.print("No feedback imported for this customer yet.")


segments.add_command(validate_command)
segments.add_command(export_command)
for _command in AFFINITY_COMMANDS:
    segments.add_command(_command)

COMMANDS = [segments, customer]
