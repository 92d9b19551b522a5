"""Backtest of RFM segments: do they tell apart what customers do next?

For a past cut-off date the customers are scored from the orders alone (insight.analysis.rfm.score_customers, the
same scoring a stored snapshot uses, nothing written), and each segment's customers are followed over the
next `horizon` days:
- repurchase: share with at least one counted order (counts_for_rfm = 1) in (cut-off, cut-off + horizon],
  with a Wilson 95% interval;
- orders and net revenue per customer in the horizon, with a percentile bootstrap 95% interval (the
  normal interval for segments over 5,000 customers);
- lapsed: share without a counted order for more than the map's lapsed_days at the end of the horizon.
Segments that touch on the score grid (one step apart in R, F or M: the pairs a marketer would move a
customer between) are compared on repurchase with Fisher's exact test; p-values are adjusted with
Benjamini-Hochberg over the pairs of one map and cut-off, and a pair is suggested for merging when the
adjusted p is above alpha and Cohen's h is small (|h| < 0.2). Predictive power for repurchase is the AUC
and log loss of each customer's group repurchase rate, learned on the other folds (5-fold cross-fitting,
so no customer scores their own outcome), for the segments, the lifecycle stage alone and a single
"bought in the last 90 days" flag. All of it is repeated over several cut-offs so one month cannot mislead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import product
from pathlib import Path

import numpy as np
import sqlite_utils

from insight.analysis.rfm import (
    CurrencyMixError,
    RfmConfig,
    RfmError,
    Scores,
    latest_snapshot,
    score_customers,
)
from insight.analysis.segment_map import SegmentMap

DEFAULT_HORIZON_DAYS = 90
DEFAULT_CUTOFFS = 3
CUTOFF_SPACING_DAYS = 30
RECENT_FLAG_DAYS = 90
ALPHA = 0.05
SMALL_EFFECT_H = 0.2  # Cohen's convention: |h| < 0.2 is a small difference between two proportions
FEW_CUSTOMERS = 30  # below this in either segment a pair test has little power: flagged
FOLDS = 5
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_MAX = 5000  # larger segments: the normal interval (the bootstrap agrees there and took 2 s per 50k)
SEED = 16
# scipy.stats and sklearn.metrics are imported where used: `insight segments` loads this module for its
# subcommand's help and should not pay a second for them.
TEST_NAME = "Fisher's exact test (two-sided) on repurchase share; p adjusted by Benjamini-Hochberg"


@dataclass
class SegmentOutcome:
    name: str
    customers: int
    repurchased: int
    repurchase: float | None  # share of customers with a counted order in the horizon
    repurchase_ci: tuple[float, float] | None  # Wilson 95%
    orders_per_customer: float | None
    orders_ci: tuple[float, float] | None  # bootstrap 95%
    revenue_per_customer: float | None
    revenue_ci: tuple[float, float] | None
    lapsed: int
    lapsed_share: float | None
    lapsed_ci: tuple[float, float] | None  # Wilson 95%


@dataclass
class PairTest:
    a: str
    b: str
    a_repurchased: int
    a_customers: int
    b_repurchased: int
    b_customers: int
    difference: float  # repurchase share a - b
    cohens_h: float
    odds_ratio: float | None
    p_value: float
    p_adjusted: float  # Benjamini-Hochberg over the pairs of this map and cut-off
    mergeable: bool  # p_adjusted > alpha and |h| < SMALL_EFFECT_H
    few_customers: bool  # either segment below FEW_CUSTOMERS: "no difference" may be "too few to tell"


@dataclass
class Predictor:
    name: str
    groups: int  # distinct values of the predictor among the scored customers
    auc: float | None  # None when everyone (or no one) bought again
    log_loss: float | None


@dataclass
class MapOutcome:
    map: str  # the map's source ('default' or its file)
    segments: list[SegmentOutcome]
    pairs: list[PairTest]


@dataclass
class CutoffResult:
    as_of: str
    horizon_end: str
    complete: bool  # False: the horizon runs past the last order, so repurchase is understated
    customers: int
    repurchased: int
    currency: str | None
    maps: list[MapOutcome]
    predictors: list[Predictor]


@dataclass
class SegmentSummary:
    name: str
    customers: float  # average over cut-offs
    repurchase: float | None  # average of the per-cut-off shares
    repurchase_range: tuple[float, float] | None  # lowest and highest cut-off
    orders_per_customer: float | None
    revenue_per_customer: float | None
    lapsed_share: float | None


@dataclass
class PairSummary:
    a: str
    b: str
    tested: int  # cut-offs where both segments had customers
    mergeable: int  # of those, cut-offs where the pair did not differ
    suggest_merge: bool  # mergeable in every tested cut-off
    difference: float  # average repurchase difference a - b
    cohens_h: float  # average
    p_adjusted_max: float
    p_adjusted_min: float
    few_customers: bool


@dataclass
class MapSummary:
    map: str
    source: str  # 'default' or the map file's path
    segments: list[SegmentSummary]
    pairs: list[PairSummary]


@dataclass
class PredictorSummary:
    name: str
    auc: float | None
    log_loss: float | None


@dataclass
class Comparison:
    """How much better one predictor ranks repurchase than a baseline: AUC difference per cut-off."""

    predictor: str
    baseline: str
    auc_gain: float | None  # average over cut-offs where both AUCs exist
    per_cutoff: list[float | None]
    better_in: int  # cut-offs where the predictor's AUC is higher
    compared: int


@dataclass
class Validation:
    horizon_days: int
    alpha: float
    cutoffs: list[CutoffResult]
    maps: list[MapSummary]
    predictors: list[PredictorSummary]
    comparisons: list[Comparison]
    last_order: str
    currency: str | None
    notes: list[str] = field(default_factory=list)


# --- cut-offs and outcomes ------------------------------------------------------------------------------


def last_counted_day(db: sqlite_utils.Database) -> date | None:
    row = db.execute("SELECT MAX(created_day) FROM orders WHERE counts_for_rfm = 1 AND customer_id IS NOT NULL").fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def cutoff_dates(last_order: date, horizon_days: int, count: int, as_of: date | None = None,
                 spacing_days: int = CUTOFF_SPACING_DAYS) -> list[date]:
    """`count` cut-offs `spacing_days` apart, oldest first, the latest `as_of` or horizon days before the last order."""
    latest = as_of or (last_order - timedelta(days=horizon_days))
    return [latest - timedelta(days=spacing_days * k) for k in reversed(range(count))]


@dataclass
class _Future:
    orders: np.ndarray  # per scored customer, counted orders in the horizon
    revenue: np.ndarray  # net revenue in the report currency


def _future(db: sqlite_utils.Database, scores: Scores, end: str, config: RfmConfig) -> _Future:
    """Counted orders and net revenue per scored customer in (as_of, end]; excluded orders are no repurchase."""
    rows = db.execute(
        """SELECT customer_id, COALESCE(currency, ''), COUNT(*), SUM(net_revenue) FROM orders
           WHERE counts_for_rfm = 1 AND customer_id IS NOT NULL AND created_day > ? AND created_day <= ?
           GROUP BY customer_id, currency""",
        [scores.as_of, end],
    ).fetchall()
    given = {k.upper(): float(v) for k, v in config.rates.items()}
    position = {int(cid): i for i, cid in enumerate(scores.ids.tolist())}
    orders = np.zeros(len(scores.ids), dtype=np.int64)
    revenue = np.zeros(len(scores.ids), dtype=np.float64)
    for customer_id, currency, count, net in rows:
        i = position.get(int(customer_id))
        if i is None:  # first order inside the horizon: not scored at the cut-off
            continue
        rate = scores.rates.get(currency, given.get(currency))
        if rate is None:
            raise CurrencyMixError(
                f"orders between {scores.as_of} and {end} are in {currency}, which the report currency "
                f"{scores.currency} has no rate for: give --rate {currency}=RATE"
            )
        orders[i] += int(count)
        revenue[i] += float(net) * rate
    return _Future(orders, revenue)


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    from scipy import stats

    if n == 0:
        return None
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def mean_interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float] | None:
    """95% interval of the mean: percentile bootstrap (skewed revenue: no normal assumption) up to
    BOOTSTRAP_MAX values, the normal interval above."""
    from scipy import stats

    if len(values) < 2:
        return None
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    if len(values) > BOOTSTRAP_MAX:
        half = 1.959964 * float(values.std(ddof=1)) / math.sqrt(len(values))
        return float(values.mean()) - half, float(values.mean()) + half
    result = stats.bootstrap((values,), np.mean, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                             vectorized=True, rng=rng, batch=200)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _lapsed(scores: Scores, future: _Future, horizon_days: int, segment_map: SegmentMap) -> np.ndarray:
    return (future.orders == 0) & (scores.recency + horizon_days > segment_map.lapsed_days)


def segment_outcomes(index: np.ndarray, names: list[str], bought: np.ndarray, future: _Future,
                     lapsed: np.ndarray, rng: np.random.Generator) -> list[SegmentOutcome]:
    out = []
    for i, name in enumerate(names):
        member = index == i
        n = int(member.sum())
        k = int(bought[member].sum())
        orders = future.orders[member].astype(np.float64)
        revenue = future.revenue[member]
        out.append(SegmentOutcome(
            name=name, customers=n, repurchased=k,
            repurchase=k / n if n else None, repurchase_ci=wilson(k, n),
            orders_per_customer=float(orders.mean()) if n else None, orders_ci=mean_interval(orders, rng),
            revenue_per_customer=round(float(revenue.mean()), 2) if n else None,
            revenue_ci=_round_pair(mean_interval(revenue, rng)),
            lapsed=int(lapsed[member].sum()), lapsed_share=float(lapsed[member].mean()) if n else None,
            lapsed_ci=wilson(int(lapsed[member].sum()), n),
        ))
    return out


def _round_pair(pair: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if pair is None else (round(pair[0], 2), round(pair[1], 2))


# --- pairs ----------------------------------------------------------------------------------------------


def neighbour_pairs(segment_map: SegmentMap) -> list[tuple[str, str]]:
    """Segments with cells one score step apart (R, F or M) on the 5x5x5 grid, in map order."""
    grid = np.asarray(list(product(range(1, 6), repeat=3)))
    cells = segment_map.assign(grid[:, 0], grid[:, 1], grid[:, 2]).reshape(5, 5, 5)
    found: set[tuple[int, int]] = set()
    for axis in range(3):
        low = np.take(cells, range(4), axis=axis).ravel()
        high = np.take(cells, range(1, 5), axis=axis).ravel()
        for a, b in zip(low.tolist(), high.tolist(), strict=True):
            if a != b:
                found.add((min(a, b), max(a, b)))
    names = segment_map.names
    return [(names[a], names[b]) for a, b in sorted(found)]


def cohens_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def compare_pairs(outcomes: list[SegmentOutcome], pairs: list[tuple[str, str]], alpha: float = ALPHA) -> list[PairTest]:
    """Fisher's exact test per pair with customers on both sides, Benjamini-Hochberg across them."""
    from scipy import stats

    by_name = {o.name: o for o in outcomes}
    rows = []
    for a, b in pairs:
        x, y = by_name[a], by_name[b]
        if not x.customers or not y.customers:
            continue
        table = [[x.repurchased, x.customers - x.repurchased], [y.repurchased, y.customers - y.repurchased]]
        odds, p = stats.fisher_exact(table)
        rows.append((a, b, x, y, float(odds), float(p)))
    if not rows:
        return []
    adjusted = stats.false_discovery_control([r[5] for r in rows], method="bh")
    out = []
    for (a, b, x, y, odds, p), p_adj in zip(rows, adjusted.tolist(), strict=True):
        h = cohens_h(x.repurchase or 0.0, y.repurchase or 0.0)
        out.append(PairTest(
            a=a, b=b, a_repurchased=x.repurchased, a_customers=x.customers, b_repurchased=y.repurchased,
            b_customers=y.customers, difference=(x.repurchase or 0.0) - (y.repurchase or 0.0), cohens_h=h,
            odds_ratio=odds if math.isfinite(odds) else None, p_value=p, p_adjusted=float(p_adj),
            mergeable=bool(p_adj > alpha and abs(h) < SMALL_EFFECT_H),
            few_customers=min(x.customers, y.customers) < FEW_CUSTOMERS,
        ))
    return out


# --- predictive power -----------------------------------------------------------------------------------


def crossfit_rates(groups: np.ndarray, bought: np.ndarray, folds: int = FOLDS, seed: int = SEED) -> np.ndarray:
    """Each customer's score: their group's repurchase rate among the other folds' customers, shrunk by one
    pseudo-customer toward the other folds' overall rate (so an empty or tiny group is not 0 or 1)."""
    n = len(groups)
    fold = np.random.default_rng(seed).permutation(n) % max(1, min(folds, n))
    size = int(groups.max()) + 1 if n else 0
    score = np.zeros(n, dtype=np.float64)
    y = bought.astype(np.float64)
    for k in np.unique(fold):
        train = fold != k
        if not train.any():  # one customer: nothing to learn from
            train = np.ones(n, dtype=bool)
        base = y[train].mean()
        hits = np.bincount(groups[train], weights=y[train], minlength=size)
        count = np.bincount(groups[train], minlength=size)
        rate = (hits + base) / (count + 1)
        score[fold == k] = rate[groups[fold == k]]
    return score


def predictor(name: str, groups: np.ndarray, bought: np.ndarray) -> Predictor:
    from sklearn.metrics import log_loss, roc_auc_score

    distinct = len(np.unique(groups))
    if len(bought) == 0 or bought.all() or not bought.any():
        return Predictor(name, distinct, None, None)
    score = crossfit_rates(groups, bought)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Predictor(name, distinct, float(roc_auc_score(bought, score)),
                         float(log_loss(bought, np.clip(score, 1e-6, 1 - 1e-6), labels=[False, True])))


# --- the backtest ---------------------------------------------------------------------------------------


def map_label(segment_map: SegmentMap) -> str:
    """'default map' or the map's file name (the full path is MapSummary.source)."""
    return "default map" if segment_map.source == "default" else Path(segment_map.source).name


def validate_cutoff(db: sqlite_utils.Database, as_of: date, horizon_days: int, maps: list[SegmentMap],
                    config: RfmConfig, last_order: date, alpha: float = ALPHA) -> CutoffResult:
    """One cut-off: score as of `as_of` with each map, follow everyone over the horizon."""
    rng = np.random.default_rng(SEED)
    end = as_of + timedelta(days=horizon_days)
    scored = [score_customers(db, as_of, RfmConfig(m, None, None, config.rates, config.currency)) for m in maps]
    first = scored[0]
    future = _future(db, first, end.isoformat(), config)
    bought = future.orders > 0
    outcomes = []
    predictors = []
    for segment_map, scores in zip(maps, scored, strict=True):
        segments = segment_outcomes(scores.segment_index, segment_map.names, bought, future,
                                    _lapsed(scores, future, horizon_days, segment_map), rng)
        outcomes.append(MapOutcome(map_label(segment_map), segments,
                                   compare_pairs(segments, neighbour_pairs(segment_map), alpha)))
        predictors.append(predictor(f"segments ({map_label(segment_map)}, {len(segment_map.names)})",
                                    scores.segment_index, bought))
    predictors.append(predictor("lifecycle stage alone", first.stage_index, bought))
    predictors.append(predictor(f"bought in the last {RECENT_FLAG_DAYS} days",
                                (first.recency <= RECENT_FLAG_DAYS).astype(np.int64), bought))
    return CutoffResult(
        as_of=first.as_of, horizon_end=end.isoformat(), complete=end <= last_order, customers=len(first.ids),
        repurchased=int(bought.sum()), currency=first.currency, maps=outcomes, predictors=predictors,
    )


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def summarise_map(results: list[MapOutcome], source: str) -> MapSummary:
    segments = []
    for i, first in enumerate(results[0].segments):
        rows = [r.segments[i] for r in results]
        shares = [r.repurchase for r in rows if r.repurchase is not None]
        revenue = _mean([r.revenue_per_customer for r in rows])
        segments.append(SegmentSummary(
            name=first.name, customers=float(np.mean([r.customers for r in rows])), repurchase=_mean(shares),
            repurchase_range=(min(shares), max(shares)) if shares else None,
            orders_per_customer=_mean([r.orders_per_customer for r in rows]),
            revenue_per_customer=None if revenue is None else round(revenue, 2),
            lapsed_share=_mean([r.lapsed_share for r in rows]),
        ))
    pairs: dict[tuple[str, str], list[PairTest]] = {}
    for result in results:
        for pair in result.pairs:
            pairs.setdefault((pair.a, pair.b), []).append(pair)
    summaries = [
        PairSummary(
            a=a, b=b, tested=len(tests), mergeable=sum(t.mergeable for t in tests),
            suggest_merge=all(t.mergeable for t in tests), difference=float(np.mean([t.difference for t in tests])),
            cohens_h=float(np.mean([t.cohens_h for t in tests])), p_adjusted_max=max(t.p_adjusted for t in tests),
            p_adjusted_min=min(t.p_adjusted for t in tests), few_customers=any(t.few_customers for t in tests),
        )
        for (a, b), tests in pairs.items()
    ]
    return MapSummary(results[0].map, source, segments, summaries)


@dataclass(frozen=True)
class SnapshotRates:
    """The exchange rates and report currency the backtest reuses when none are given (`--rate`, `--currency`)."""

    rates: dict[str, float]
    currency: str | None
    note: str | None  # a line saying where the rates came from, when there are several currencies


def latest_snapshot_rates(db: sqlite_utils.Database) -> SnapshotRates:
    """The latest stored snapshot's rates, so a backtest converts currencies as `insight segments` did."""
    latest = latest_snapshot(db)
    if latest is None or not (latest.params.get("rates") or {}):
        return SnapshotRates({}, None, None)
    rates = {k: float(v) for k, v in latest.params["rates"].items() if k}
    currency = latest.params.get("currency")
    note = None
    if len(rates) > 1:
        note = (f"Exchange rates from the snapshot of {latest.as_of}: "
                + ", ".join(f"1 {k} = {v:g} {currency}" for k, v in rates.items() if k != currency))
    return SnapshotRates(rates, currency, note)


def validate_segments(db: sqlite_utils.Database, *, horizon_days: int = DEFAULT_HORIZON_DAYS,
                      cutoffs: int = DEFAULT_CUTOFFS, as_of: date | None = None,
                      maps: list[SegmentMap] | None = None, config: RfmConfig | None = None,
                      alpha: float = ALPHA) -> Validation:
    """The backtest over `cutoffs` past dates for each map (the first map's scores drive the baselines)."""
    config = config or RfmConfig()
    maps = maps or [config.resolved_map()]
    last = last_counted_day(db)
    if last is None:
        raise RfmError("no orders that count toward RFM: import orders first (insight import orders FILE)")
    dates = cutoff_dates(last, horizon_days, cutoffs, as_of)
    if dates[-1] >= last:
        raise RfmError(f"the cut-off {dates[-1].isoformat()} is on or after the last counted order "
                       f"({last.isoformat()}): there is nothing after it to measure; pick an earlier --as-of")
    notes = []
    if dates[-1] + timedelta(days=horizon_days) > last:
        notes.append(f"the horizon after {dates[-1].isoformat()} runs past the last counted order "
                     f"({last.isoformat()}): repurchase there is understated")
    results = []
    for day in dates:
        try:
            results.append(validate_cutoff(db, day, horizon_days, maps, config, last, alpha))
        except CurrencyMixError:
            raise
        except RfmError:
            raise RfmError(f"no orders that count toward RFM on or before the cut-off {day.isoformat()}: "
                           f"use fewer --cutoffs or a later --as-of") from None
    summaries = [summarise_map([r.maps[i] for r in results], m.source) for i, m in enumerate(maps)]
    predictors = [
        PredictorSummary(p.name, _mean([r.predictors[i].auc for r in results]),
                         _mean([r.predictors[i].log_loss for r in results]))
        for i, p in enumerate(results[0].predictors)
    ]
    return Validation(horizon_days, alpha, results, summaries, predictors, compare_predictors(results, len(maps)),
                      last.isoformat(), results[-1].currency, notes)


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def compare_predictors(results: list[CutoffResult], maps: int) -> list[Comparison]:
    """Each map's segments against each baseline (the predictors after the maps' own)."""
    out = []
    for i in range(maps):
        for j in range(maps, len(results[0].predictors)):
            gains = [_difference(r.predictors[i].auc, r.predictors[j].auc) for r in results]
            present = [g for g in gains if g is not None]
            out.append(Comparison(results[0].predictors[i].name, results[0].predictors[j].name, _mean(present),
                                  gains, sum(g > 0 for g in present), len(present)))
    return out


__all__ = [
    "ALPHA", "DEFAULT_CUTOFFS", "DEFAULT_HORIZON_DAYS", "TEST_NAME", "Comparison", "CutoffResult", "MapOutcome",
    "PairTest", "Predictor", "SegmentOutcome", "Validation", "cohens_h", "compare_pairs", "compare_predictors",
    "SnapshotRates", "crossfit_rates", "cutoff_dates", "latest_snapshot_rates", "mean_interval", "neighbour_pairs", "predictor", "validate_segments", "wilson",
]
