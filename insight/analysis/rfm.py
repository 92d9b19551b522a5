"""RFM snapshots: recency, frequency and monetary value per customer as of a date, scored and segmented.

Definitions (shown by `insight segments --help` and kept in each snapshot's params):
- Only orders with counts_for_rfm = 1 (see ingest.orders for the exclusion rules) placed on or before the
  as-of date count. Customers without such orders are not scored.
- Recency = days from the last counted order (its UTC date) to the as-of date; Frequency = counted
  orders; Monetary = sum of net revenue (total - refunds) in one currency.
- Scores 1-5 by quintile with one deterministic tie rule: score = 1 + floor(5 * share of customers with
  a strictly worse value). Equal values always share a score (every one-order customer gets the same F,
  the lowest), and the result does not depend on row order. "Worse" = older / fewer / lower.
- Currencies: orders without a currency are taken to be in the report currency. Several currencies are
  refused unless a rate is given for each one other than the report currency (the most common one,
  or `currency=`): monetary = sum(net revenue x rate).
- Segment and lifecycle come from the segment map (insight/analysis/segments.toml or a user's TOML).
Aggregation happens in SQLite (one GROUP BY), scoring in numpy, so 100,000 customers take well under
a second or two.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import sqlite_utils

from insight.analysis.segment_map import LIFECYCLE_STAGES, SEGMENTS, SegmentMap, load_segment_map
from insight.core.clock import Clock, utc_now_iso
from insight.core.db import inserted_id, transaction
from insight.core.errors import InsightError

__all__ = [
    "LIFECYCLE_STAGES", "SEGMENTS", "CurrencyMixError", "Member", "RfmConfig", "RfmError", "Scores", "SegmentStats", "Snapshot",
    "SnapshotSummary", "Transition", "compute_snapshot", "get_snapshot", "latest_snapshot", "lifecycle_counts",
    "load_segment_map", "members", "previous_snapshot", "quintile_scores", "score_customers", "segment_stats", "transitions",
]

TIE_RULE = "score = 1 + floor(5 x share of customers with a strictly worse value); equal values share a score"


class RfmError(InsightError, ValueError):
    """Nothing to score, or an input the computation refuses; the message says what to do."""


class CurrencyMixError(RfmError):
    """Counted orders are in several currencies and no rate says how to add them up."""


@dataclass
class RfmConfig:
    segment_map: SegmentMap | None = None  # None: the packaged default map
    active_days: int | None = None  # override the map's lifecycle thresholds
    lapsed_days: int | None = None
    rates: dict[str, float] = field(default_factory=dict)  # {"CAD": 0.73}: 1 CAD = 0.73 report currency
    currency: str | None = None  # report currency; None: the most common among counted orders

    def resolved_map(self) -> SegmentMap:
        base = self.segment_map or load_segment_map(None)
        return base.with_thresholds(self.active_days, self.lapsed_days)


@dataclass
class SnapshotSummary:
    snapshot_id: int
    as_of: str
    customers: int
    currency: str | None
    segments: dict[str, int]  # every segment of the map, in map order, sizes (0 included)
    lifecycle: dict[str, int]
    orders_counted: int
    orders_excluded: dict[str, int]  # exclusion_reason -> orders (on or before as_of)
    replaced: bool  # a snapshot with this as_of existed and was recomputed
    seconds: float


@dataclass
class Snapshot:
    id: int
    as_of: str
    created_at: str
    currency: str | None
    customers: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Transition:
    customer_id: int
    from_segment: str | None  # None: not scored in the earlier snapshot (first order since)
    to_segment: str | None  # None: no longer scored (e.g. forgotten or merged)
    from_lifecycle: str | None
    to_lifecycle: str | None


def quintile_scores(values: np.ndarray) -> np.ndarray:
    """1-5 per value, higher for larger values; ties share a score (see TIE_RULE)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    worse = np.searchsorted(np.sort(values, kind="stable"), values, side="left")
    return 1 + (5 * worse) // n


def _today(clock: Clock) -> date:
    return date.fromisoformat(clock()[:10])


@dataclass
class _Groups:
    """orders on or before as_of, grouped by (customer, currency, exclusion): what one table scan yields."""

    ids: np.ndarray
    currencies: list[str]
    recency: np.ndarray
    frequency: np.ndarray
    revenue: np.ndarray
    currency_orders: dict[str, int]  # counted orders per currency ('' = none given)
    excluded: dict[str, int]


def _scan(db: sqlite_utils.Database, as_of: str) -> _Groups:
    """One pass over orders (NOT INDEXED: a scan beats 400k index lookups by 2x)."""
    rows = db.execute(
        """SELECT customer_id, COALESCE(currency, ''), counts_for_rfm, exclusion_reason,
                  CAST(julianday(?) - julianday(MAX(created_day)) AS INTEGER), COUNT(*), SUM(net_revenue)
           FROM orders NOT INDEXED WHERE created_day <= ?
           GROUP BY customer_id, currency, counts_for_rfm, exclusion_reason""",
        [as_of, as_of],
    ).fetchall()
    counted = [row for row in rows if row[2] == 1 and row[0] is not None]
    excluded: dict[str, int] = {}
    for row in rows:
        if row[2] != 1:
            excluded[row[3] or "other"] = excluded.get(row[3] or "other", 0) + row[5]
    currency_orders: dict[str, int] = {}
    for row in counted:
        currency_orders[row[1]] = currency_orders.get(row[1], 0) + row[5]
    if not counted:
        empty = np.zeros(0, dtype=np.int64)
        return _Groups(empty, [], empty, empty, np.zeros(0), {}, dict(sorted(excluded.items())))
    ids, currencies, _, _, recency, frequency, revenue = zip(*counted, strict=True)
    return _Groups(
        np.asarray(ids, dtype=np.int64), list(currencies), np.asarray(recency, dtype=np.int64),
        np.asarray(frequency, dtype=np.int64), np.asarray(revenue, dtype=np.float64), currency_orders,
        dict(sorted(excluded.items())),
    )


def _rates(currency_orders: dict[str, int], config: RfmConfig) -> tuple[str | None, dict[str, float]]:
    """The report currency and a rate for every currency found; refuses to mix without rates."""
    counts = sorted(((c, n) for c, n in currency_orders.items() if c), key=lambda item: (-item[1], item[0]))
    given = {k.upper(): float(v) for k, v in config.rates.items()}
    report = (config.currency or "").upper() or (counts[0][0] if counts else None)
    missing = [c for c, _ in counts if c != report and c not in given]
    if missing:
        found = ", ".join(f"{c}: {n:,} orders" for c, n in counts)
        example = " ".join(f"--rate {c}=RATE" for c in missing)
        raise CurrencyMixError(
            f"counted orders are in {len(counts)} currencies ({found}); monetary values are not added across "
            f"currencies without a rate. Give {example} (1 {missing[0]} = RATE {report}), or --currency to "
            f"choose the report currency."
        )
    rates = {c: (1.0 if c == report else given[c]) for c, _ in counts}
    rates[""] = 1.0  # orders without a currency: taken to be in the report currency
    return report, rates


def _per_customer(groups: _Groups, rates: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """customer ids, recency days, frequency, monetary: currency groups of one customer folded together."""
    money = groups.revenue
    if len(set(groups.currencies)) > 1:
        money = money * np.asarray([rates[c] for c in groups.currencies])
    order = np.argsort(groups.ids, kind="stable")
    ids = groups.ids[order]
    customers, start = np.unique(ids, return_index=True)
    if len(customers) == len(ids):
        return ids, groups.recency[order], groups.frequency[order], money[order]
    return (
        customers,
        np.minimum.reduceat(groups.recency[order], start),
        np.add.reduceat(groups.frequency[order], start),
        np.add.reduceat(money[order], start),
    )


@dataclass
class Scores:
    """Every scored customer as of a date, in customer-id order: what a snapshot stores, before storing.

    `insight segments validate` scores past dates with this without writing a snapshot.
    """

    as_of: str
    segment_map: SegmentMap
    currency: str | None
    rates: dict[str, float]
    ids: np.ndarray
    recency: np.ndarray  # days since the last counted order
    frequency: np.ndarray
    monetary: np.ndarray  # rounded to cents
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment_index: np.ndarray  # into segment_map.names
    stage_index: np.ndarray  # into LIFECYCLE_STAGES
    excluded: dict[str, int]  # exclusion_reason -> orders on or before as_of


def score_customers(db: sqlite_utils.Database, as_of: date, config: RfmConfig | None = None) -> Scores:
    """R, F, M scores, segment and lifecycle of every customer with counted orders on or before `as_of`."""
    config = config or RfmConfig()
    segment_map = config.resolved_map()
    day = as_of.isoformat()
    groups = _scan(db, day)
    currency, rates = _rates(groups.currency_orders, config)
    ids, recency, frequency, monetary = _per_customer(groups, rates)
    if len(ids) == 0:
        raise RfmError(
            f"no orders that count toward RFM on or before {day}: import orders first "
            "(insight import orders FILE), or pick a later --as-of"
        )
    monetary = np.round(monetary, 2)
    r = quintile_scores(-recency)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    return Scores(day, segment_map, currency, rates, ids, recency, frequency, monetary, r, f, m,
                  segment_map.assign(r, f, m), segment_map.lifecycle(recency), groups.excluded)


def compute_snapshot(
    db: sqlite_utils.Database,
    *,
    as_of: date | None = None,
    config: RfmConfig | None = None,
    clock: Clock = utc_now_iso,
) -> SnapshotSummary:
    """Score every customer with counted orders as of `as_of` (default: the clock's today) and store it.

    A snapshot with the same as_of is replaced in place (its id is kept), so re-running is safe.
    """
    started = time.perf_counter()
    config = config or RfmConfig()
    scores = score_customers(db, as_of or _today(clock), config)
    segment_map, day, currency, rates = scores.segment_map, scores.as_of, scores.currency, scores.rates
    ids, recency, frequency, monetary = scores.ids, scores.recency, scores.frequency, scores.monetary
    r, f, m = scores.r, scores.f, scores.m
    names = segment_map.names
    segment_index, stage_index = scores.segment_index, scores.stage_index
    params = {
        "segment_map": segment_map.as_dict(),
        "currency": currency,
        "rates": rates,
        "tie_rule": TIE_RULE,
        "counted": "orders with counts_for_rfm = 1 on or before as_of; monetary = net revenue x rate",
    }
    seg_names = np.asarray(names, dtype=object)[segment_index]
    stage_names = np.asarray(LIFECYCLE_STAGES, dtype=object)[stage_index]
    with transaction(db):
        conn = db.conn
        found = conn.execute("SELECT id FROM rfm_snapshots WHERE as_of = ?", (day,)).fetchone()
        if found:
            snapshot_id = int(found[0])
            conn.execute(
                "UPDATE rfm_snapshots SET created_at = ?, currency = ?, customers = ?, params = ? WHERE id = ?",
                (clock(), currency, len(ids), json.dumps(params), snapshot_id),
            )
            conn.execute("DELETE FROM rfm_scores WHERE snapshot_id = ?", (snapshot_id,))
        else:
            snapshot_id = inserted_id(conn.execute(
                "INSERT INTO rfm_snapshots (as_of, created_at, currency, customers, params) VALUES (?, ?, ?, ?, ?)",
                (day, clock(), currency, len(ids), json.dumps(params)),
            ))
        conn.executemany(
            """INSERT INTO rfm_scores (snapshot_id, customer_id, recency_days, frequency, monetary, r_score, f_score,
               m_score, segment, lifecycle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            zip([snapshot_id] * len(ids), ids.tolist(), recency.tolist(), frequency.tolist(), monetary.tolist(),
                r.tolist(), f.tolist(), m.tolist(), seg_names.tolist(), stage_names.tolist(), strict=True),
        )
    seg_counts = np.bincount(segment_index, minlength=len(names))
    stage_counts = np.bincount(stage_index, minlength=len(LIFECYCLE_STAGES))
    return SnapshotSummary(
        snapshot_id=snapshot_id,
        as_of=day,
        customers=len(ids),
        currency=currency,
        segments={name: int(seg_counts[i]) for i, name in enumerate(names)},
        lifecycle={name: int(stage_counts[i]) for i, name in enumerate(LIFECYCLE_STAGES)},
        orders_counted=int(frequency.sum()),
        orders_excluded=scores.excluded,
        replaced=bool(found),
        seconds=round(time.perf_counter() - started, 3),
    )


def _snapshot(row: tuple[Any, ...] | None) -> Snapshot | None:
    if row is None:
        return None
    return Snapshot(int(row[0]), row[1], row[2], row[3], int(row[4]), json.loads(row[5] or "{}"))


_SNAPSHOT_COLUMNS = "id, as_of, created_at, currency, customers, params"


def latest_snapshot(db: sqlite_utils.Database, as_of: str | None = None) -> Snapshot | None:
    """The most recent snapshot, or the latest one on or before `as_of` (ISO date)."""
    if as_of is None:
        row = db.execute(f"SELECT {_SNAPSHOT_COLUMNS} FROM rfm_snapshots ORDER BY as_of DESC LIMIT 1").fetchone()
    else:
        row = db.execute(
            f"SELECT {_SNAPSHOT_COLUMNS} FROM rfm_snapshots WHERE as_of <= ? ORDER BY as_of DESC LIMIT 1", [as_of]
        ).fetchone()
    return _snapshot(row)


def get_snapshot(db: sqlite_utils.Database, snapshot_id: int) -> Snapshot | None:
    return _snapshot(db.execute(f"SELECT {_SNAPSHOT_COLUMNS} FROM rfm_snapshots WHERE id = ?", [snapshot_id]).fetchone())


def previous_snapshot(db: sqlite_utils.Database, snapshot: Snapshot) -> Snapshot | None:
    """The snapshot just before `snapshot` in as-of order."""
    return _snapshot(db.execute(
        f"SELECT {_SNAPSHOT_COLUMNS} FROM rfm_snapshots WHERE as_of < ? ORDER BY as_of DESC LIMIT 1", [snapshot.as_of]
    ).fetchone())


def segment_pairs(db: sqlite_utils.Database, from_snapshot: int, to_snapshot: int) -> dict[int, tuple[str, str]]:
    """Customers scored in both snapshots: customer -> (segment before, segment after). What every comparison of
    two snapshots reads: `segment_moves`, the links of moves to themes, the TUI's counts of moves."""
    return {
        customer: (before, after)
        for customer, before, after in db.execute(
            """SELECT a.customer_id, a.segment, b.segment FROM rfm_scores a
               JOIN rfm_scores b ON b.customer_id = a.customer_id AND b.snapshot_id = ?
               WHERE a.snapshot_id = ?""",
            [to_snapshot, from_snapshot],
        )
    }


def segment_moves(db: sqlite_utils.Database, from_snapshot: int, to_snapshot: int) -> dict[int, tuple[str, str]]:
    """Customers scored in both snapshots whose segment changed: customer -> (from, to)."""
    return {c: pair for c, pair in segment_pairs(db, from_snapshot, to_snapshot).items() if pair[0] != pair[1]}


def transitions(
    db: sqlite_utils.Database, from_snapshot: int | None = None, to_snapshot: int | None = None
) -> list[Transition]:
    """Customers whose segment or lifecycle differs between two snapshots (default: the last two).

    Customers scored only in the later snapshot come with from_* None; only in the earlier, to_* None.
    """
    later = get_snapshot(db, to_snapshot) if to_snapshot is not None else latest_snapshot(db)
    if later is None:
        return []
    earlier = get_snapshot(db, from_snapshot) if from_snapshot is not None else previous_snapshot(db, later)
    if earlier is None:
        return []
    rows = db.execute(
        """SELECT b.customer_id, a.segment, b.segment, a.lifecycle, b.lifecycle
           FROM rfm_scores b LEFT JOIN rfm_scores a ON a.snapshot_id = ? AND a.customer_id = b.customer_id
           WHERE b.snapshot_id = ? AND (a.customer_id IS NULL OR a.segment != b.segment OR a.lifecycle != b.lifecycle)
           UNION ALL
           SELECT a.customer_id, a.segment, NULL, a.lifecycle, NULL FROM rfm_scores a
           WHERE a.snapshot_id = ? AND NOT EXISTS
                 (SELECT 1 FROM rfm_scores b WHERE b.snapshot_id = ? AND b.customer_id = a.customer_id)
           ORDER BY 1""",
        [earlier.id, later.id, earlier.id, later.id],
    ).fetchall()
    return [Transition(int(cid), fs, ts, fl, tl) for cid, fs, ts, fl, tl in rows]


@dataclass
class SegmentStats:
    name: str
    rule: str
    description: str
    customers: int
    share: float  # of scored customers
    revenue: float  # sum of monetary
    revenue_share: float
    median_recency_days: float | None


@dataclass
class SegmentNumbers:
    """One segment of one snapshot: what every view of a segment reports (the segments command, the TUI's table,
    a brief), computed in one place from rfm_scores."""

    name: str
    customers: int
    share: float  # of the snapshot's scored customers
    revenue: float  # sum of the members' monetary (net revenue of counted orders)
    revenue_share: float
    median_recency_days: float | None
    median_frequency: float | None
    median_order_value: float | None  # over customers: monetary / frequency
    mean_recency_days: float | None
    mean_frequency: float | None
    mean_monetary: float | None
    lifecycle_mix: dict[str, int]  # Active, At Risk, Lapsed first, then any other stage
    all_customers: int  # scored in the snapshot
    all_revenue: float  # of them all


def segment_numbers(db: sqlite_utils.Database, snapshot_id: int) -> dict[str, SegmentNumbers]:
    """Every segment with members in the snapshot, by name (one scan of its scores)."""
    rows = db.execute(
        "SELECT segment, recency_days, frequency, monetary, lifecycle FROM rfm_scores WHERE snapshot_id = ?",
        [snapshot_id],
    ).fetchall()
    by_segment: dict[str, list[tuple]] = {}
    for row in rows:
        by_segment.setdefault(row[0], []).append(row)
    total_revenue = sum(r[3] for r in rows)
    out: dict[str, SegmentNumbers] = {}
    for name, members in by_segment.items():
        recency, frequency, monetary = ([float(r[i]) for r in members] for i in (1, 2, 3))
        revenue = sum(r[3] for r in members)
        mix = Counter(r[4] for r in members)
        out[name] = SegmentNumbers(
            name=name, customers=len(members), share=len(members) / len(rows), revenue=revenue,
            revenue_share=revenue / total_revenue if total_revenue else 0.0,
            median_recency_days=float(np.median(recency)), median_frequency=float(np.median(frequency)),
            median_order_value=_median([m / f for m, f in zip(monetary, frequency, strict=True) if f]),
            mean_recency_days=sum(recency) / len(recency), mean_frequency=sum(frequency) / len(frequency),
            mean_monetary=sum(monetary) / len(monetary),
            lifecycle_mix={stage: mix[stage] for stage in LIFECYCLE_STAGES if mix[stage]}
            | {stage: n for stage, n in sorted(mix.items()) if stage not in LIFECYCLE_STAGES},
            all_customers=len(rows), all_revenue=total_revenue,
        )
    return out


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def segment_stats(db: sqlite_utils.Database, snapshot: Snapshot) -> list[SegmentStats]:
    """Every segment of the snapshot's map (empty ones too), in map order, with sizes and value."""
    rules = snapshot.params.get("segment_map", {}).get("rules", [])
    numbers = segment_numbers(db, snapshot.id)
    described = {rule["name"]: rule for rule in reversed(rules)}  # first rule of a name describes it
    names = list(dict.fromkeys([r["name"] for r in rules] + sorted(numbers)))
    out = []
    for name in names:
        seg = numbers.get(name)
        out.append(SegmentStats(
            name=name,
            rule=" or ".join(r["rule"] for r in rules if r["name"] == name),
            description=described.get(name, {}).get("description", ""),
            customers=seg.customers if seg else 0,
            share=round(seg.share, 4) if seg else 0.0,
            revenue=round(seg.revenue, 2) if seg else 0.0,
            revenue_share=round(round(seg.revenue, 2) / (seg.all_revenue or 1.0), 4) if seg else 0.0,
            median_recency_days=seg.median_recency_days if seg else None,
        ))
    return out


def lifecycle_counts(db: sqlite_utils.Database, snapshot: Snapshot) -> dict[str, int]:
    found = dict(db.execute(
        "SELECT lifecycle, COUNT(*) FROM rfm_scores WHERE snapshot_id = ? GROUP BY lifecycle", [snapshot.id]
    ).fetchall())
    return {stage: int(found.get(stage, 0)) for stage in LIFECYCLE_STAGES}


@dataclass
class Member:
    customer_id: int
    key: str  # display key (usually the email)
    recency_days: int
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    segment: str
    lifecycle: str


def members(db: sqlite_utils.Database, snapshot: Snapshot, segment: str | None = None) -> list[Member]:
    """Scored customers of a snapshot (optionally one segment), best customers first."""
    sql = """SELECT s.customer_id, c.display_key, s.recency_days, s.frequency, s.monetary, s.r_score, s.f_score,
                    s.m_score, s.segment, s.lifecycle
             FROM rfm_scores s JOIN customers c ON c.id = s.customer_id WHERE s.snapshot_id = ?"""
    args: list[Any] = [snapshot.id]
    if segment is not None:
        sql += " AND s.segment = ?"
        args.append(segment)
    sql += " ORDER BY s.monetary DESC, s.customer_id"
    return [Member(*row) for row in db.execute(sql, args).fetchall()]
