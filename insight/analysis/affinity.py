"""Category affinity and purchase cadence per RFM segment, from order lines.

RFM says how recently, how often and how much; it does not say *what*. A Champion who only ever buys
serums needs other messages than one who buys the whole routine, and a reminder lands best when a
customer's own rhythm says they are about to run out. So, for the customers of a snapshot:

- Each counted order line gets a category: the user's SKU -> category map (ingest/sku_categories.py) when it
  names the SKU, else the export's own (Shopify product type, WooCommerce categories: order_lines.category),
  else the product name. `by="vendor"` or `by="product"` groups by those instead.
- Per segment: the category mix (share of its customers who bought each category, share of its line
  revenue), the share of customers who only ever bought one category, and pairs of categories bought by
  the same customer (market-basket measures over customers, not baskets: support = share of customers with
  both, confidence A -> B = share of A's buyers who also bought B, lift = support / (support A x support B)).
  Pairs need a minimum number and share of customers, so two customers cannot top the list.
- Per customer and product: the days between repeat orders (distinct order days) of the same product; the
  median of those gaps is the product's cadence for that customer, and the last order + cadence is when
  they are due to reorder (`due`).

Revenue here is line value (quantity x unit price, in the snapshot's report currency with its rates),
before order-level discounts and refunds: it shares out what was bought, it is not net revenue.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlite_utils

from insight.analysis.rfm import Snapshot, latest_snapshot
from insight.analysis.segment_map import SEGMENTS
from insight.core.errors import InsightError

BY = ("category", "vendor", "product")
EVERYONE = "All customers"
MIN_PAIR_CUSTOMERS = 5  # a pair bought by fewer customers than this is not reported
MIN_PAIR_SUPPORT = 0.05  # ... nor one bought by less than this share of the segment's customers
PAIRS_SHOWN = 10
DUE_WITHIN_DAYS = 14
NO_VENDOR = "(no vendor)"


class AffinityError(InsightError):
    """Nothing to compute (no snapshot, no order lines): a one-line message for the user."""


# ---------------------------------------------------------------- order lines


@dataclass(frozen=True)
class PurchaseLine:
    customer_id: int
    day: date
    product: str
    group: str  # the category (or vendor, or product) it counts under
    value: float  # quantity x unit price in the report currency
    source: str  # where the group came from: map | export | product name | vendor | product
    subscription: bool = False  # the order was tagged as a subscription's


def product_name(name: str | None, sku: str | None, platform: str) -> str:
    """The product a line is, variants together: Shopify writes 'Title - Variant' ('Cloud Moisturiser -
    50ml / Fragrance-free'), and a 50ml refill is bought again like the scented one. Other exports write the
    product's name as it is."""
    if name:
        text = " ".join(name.split())
        if platform == "shopify" and " - " in text:
            text = text.rsplit(" - ", 1)[0]
        return text
    return f"SKU {sku}" if sku else "(unnamed product)"


def purchase_lines(db: sqlite_utils.Database, snapshot: Snapshot, by: str = "category") -> list[PurchaseLine]:
    """Lines of the orders that count for RFM (same rules as the snapshot), on or before its date."""
    if by not in BY:
        raise AffinityError(f"--by {by!r}: expected one of {', '.join(BY)}")
    rates: dict[str, float] = snapshot.params.get("rates") or {}
    spelled: dict[str, str] = {}  # casefolded -> the first spelling seen: 'serum' and 'Serum' are one category
    out: list[PurchaseLine] = []
    rows = db.execute(
        """SELECT o.customer_id, o.created_day, o.platform, COALESCE(o.currency, ''), l.name, l.sku, l.quantity,
                  l.price, l.category, l.vendor, m.category, o.subscription
           FROM order_lines l JOIN orders o ON o.id = l.order_id LEFT JOIN sku_categories m ON m.sku = l.sku
           WHERE o.counts_for_rfm = 1 AND o.customer_id IS NOT NULL AND o.created_day <= ?""",
        [snapshot.as_of],
    )
    for customer, day, platform, currency, name, sku, quantity, price, category, vendor, mapped, sub in rows:
        product = product_name(name, sku, platform)
        if by == "category":
            group, source = ((mapped, "map") if mapped else (category, "export") if category
                             else (product, "product name"))
        elif by == "vendor":
            group, source = vendor or NO_VENDOR, "vendor"
        else:
            group, source = product, "product"
        group = spelled.setdefault(group.casefold(), group)
        value = (1.0 if quantity is None else quantity) * (price or 0.0) * rates.get(currency, 1.0)
        out.append(PurchaseLine(customer, date.fromisoformat(day), product, group, value, source, bool(sub)))
    return out


# ---------------------------------------------------------------- per segment


@dataclass
class CategoryShare:
    category: str
    customers: int
    customer_share: float  # of the segment's customers with lines
    revenue: float
    revenue_share: float  # of the segment's line value
    everyone_share: float = 0.0  # customer share among all scored customers, for comparison


@dataclass
class CategoryPair:
    a: str
    b: str
    customers: int  # bought both
    support: float  # customers / the segment's customers with lines
    confidence_ab: float  # of A's buyers, the share who bought B
    confidence_ba: float
    lift: float


@dataclass
class SegmentAffinity:
    segment: str
    customers: int  # scored in the snapshot
    customers_with_lines: int
    mix: list[CategoryShare]
    single_category: int
    single_category_share: float
    single_category_top: list[tuple[str, int]]  # the categories single-category customers stay in
    pairs: list[CategoryPair]
    customers_with_cadence: int  # with a repeat order of one product
    median_cadence_days: float | None  # median over those customers of their median gap
    due: int = 0  # due to reorder within the report's window
    overdue: int = 0  # were due in the window before the snapshot date, and have not reordered
    late: int = 0  # every product's reorder date passed before that: they stopped where they used to reorder
    median_days_late: float | None = None  # days since the latest of their reorder dates, over `late` customers


@dataclass
class ProductCadence:
    product: str
    orders: int  # distinct order days with the product
    median_days: float
    last_order: str
    next_order: str
    subscription: bool = False  # its last order was a subscription's: the next one comes by itself


@dataclass
class CustomerCadence:
    customer_id: int
    median_days: float  # over every repeat gap of every product
    repeats: int  # gaps counted
    products: list[ProductCadence]


@dataclass
class AffinityReport:
    as_of: str
    snapshot_id: int
    by: str
    within_days: int
    min_pair_customers: int
    min_pair_support: float
    lines: int
    sources: dict[str, int]  # lines by where their group came from
    groups: int
    segments: list[SegmentAffinity] = field(default_factory=list)  # the snapshot's, then EVERYONE
    cadences: dict[int, CustomerCadence] = field(default_factory=dict)

    def segment(self, name: str) -> SegmentAffinity | None:
        return next((s for s in self.segments if s.segment == name), None)


def customer_cadences(lines: list[PurchaseLine], min_orders: int = 2) -> dict[int, CustomerCadence]:
    """Median days between repeat orders of the same product, per customer (products with >= min_orders
    distinct order days; two lines of one product on one day are one purchase)."""
    days: dict[int, dict[str, set[date]]] = defaultdict(lambda: defaultdict(set))
    subscribed: set[tuple[int, str, date]] = set()
    for line in lines:
        days[line.customer_id][line.product].add(line.day)
        if line.subscription:
            subscribed.add((line.customer_id, line.product, line.day))
    out: dict[int, CustomerCadence] = {}
    for customer, products in days.items():
        gaps_all: list[int] = []
        found: list[ProductCadence] = []
        for product, bought in products.items():
            if len(bought) < max(2, min_orders):
                continue
            ordered = sorted(bought)
            gaps = [(b - a).days for a, b in zip(ordered, ordered[1:], strict=False)]
            gaps_all += gaps
            median = float(statistics.median(gaps))
            found.append(ProductCadence(product, len(ordered), median, ordered[-1].isoformat(),
                                        (ordered[-1] + timedelta(days=round(median))).isoformat(),
                                        (customer, product, ordered[-1]) in subscribed))
        if found:
            found.sort(key=lambda p: (p.next_order, p.product))
            out[customer] = CustomerCadence(customer, float(statistics.median(gaps_all)), len(gaps_all), found)
    return out


def _pairs(groups: dict[int, set[str]], counts: Counter[str], n: int, min_customers: int,
           min_support: float) -> list[CategoryPair]:
    both: Counter[tuple[str, str]] = Counter()
    for cats in groups.values():
        ordered = sorted(cats)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                both[(a, b)] += 1
    pairs = []
    for (a, b), k in both.items():
        if k < min_customers or k / n < min_support:
            continue
        pairs.append(CategoryPair(a, b, k, k / n, k / counts[a], k / counts[b], k * n / (counts[a] * counts[b])))
    pairs.sort(key=lambda p: (-p.lift, -p.customers, p.a, p.b))
    return pairs


def _segment_affinity(name: str, members: list[int], bought: dict[int, dict[str, float]],
                      cadences: dict[int, CustomerCadence], min_customers: int, min_support: float,
                      pairs_shown: int) -> SegmentAffinity:
    with_lines = {c: bought[c] for c in members if c in bought}
    n = len(with_lines)
    counts: Counter[str] = Counter()
    revenue: defaultdict[str, float] = defaultdict(float)
    for cats in with_lines.values():
        for cat, value in cats.items():
            counts[cat] += 1
            revenue[cat] += value
    total = sum(revenue.values())
    mix = [CategoryShare(cat, k, k / n, round(revenue[cat], 2), revenue[cat] / total if total else 0.0)
           for cat, k in sorted(counts.items(), key=lambda kv: (-kv[1], -revenue[kv[0]], kv[0]))]
    single = Counter(next(iter(cats)) for cats in with_lines.values() if len(cats) == 1)
    sets = {c: set(cats) for c, cats in with_lines.items()}
    pairs = _pairs(sets, counts, n, min_customers, min_support) if n else []
    medians = [cadences[c].median_days for c in members if c in cadences]
    return SegmentAffinity(
        segment=name, customers=len(members), customers_with_lines=n, mix=mix,
        single_category=sum(single.values()), single_category_share=sum(single.values()) / n if n else 0.0,
        single_category_top=single.most_common(3), pairs=pairs[:pairs_shown], customers_with_cadence=len(medians),
        median_cadence_days=float(statistics.median(medians)) if medians else None,
    )


def affinity_report(
    db: sqlite_utils.Database, snapshot: Snapshot | None = None, *, by: str = "category",
    within_days: int = DUE_WITHIN_DAYS, min_pair_customers: int = MIN_PAIR_CUSTOMERS,
    min_pair_support: float = MIN_PAIR_SUPPORT, pairs_shown: int = PAIRS_SHOWN, min_orders: int = 2,
) -> AffinityReport:
    """Category mix, single-category share, pairs and cadence for every segment of a snapshot (the latest by
    default), then for all its customers together."""
    snapshot = snapshot or latest_snapshot(db)
    if snapshot is None:
        raise AffinityError("no RFM snapshot yet: import orders and run `insight segments` first")
    lines = purchase_lines(db, snapshot, by)
    segment_of = dict(db.execute("SELECT customer_id, segment FROM rfm_scores WHERE snapshot_id = ?", [snapshot.id]))
    bought: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        if line.customer_id in segment_of:
            bought[line.customer_id][line.group] += line.value
    cadences = {c: v for c, v in customer_cadences(lines, min_orders).items() if c in segment_of}
    by_segment: dict[str, list[int]] = defaultdict(list)
    for customer, segment in segment_of.items():
        by_segment[segment].append(customer)
    report = AffinityReport(
        as_of=snapshot.as_of, snapshot_id=snapshot.id, by=by, within_days=within_days,
        min_pair_customers=min_pair_customers, min_pair_support=min_pair_support, lines=len(lines),
        sources=dict(Counter(line.source for line in lines).most_common()), groups=len({x.group for x in lines}),
        cadences=cadences,
    )
    names = sorted(by_segment, key=lambda s: (SEGMENTS.index(s), "") if s in SEGMENTS else (len(SEGMENTS), s))
    names.append(EVERYONE)
    for name in names:
        members = list(segment_of) if name == EVERYONE else by_segment[name]
        report.segments.append(_segment_affinity(name, members, bought, cadences, min_pair_customers,
                                                 min_pair_support, pairs_shown))
    everyone = {s.category: s.customer_share for s in report.segments[-1].mix}
    as_of = date.fromisoformat(snapshot.as_of)
    due_customers = {r.customer_id for r in due_rows(cadences, as_of, within_days)}
    overdue_customers = {r.customer_id for r in due_rows(cadences, as_of - timedelta(days=within_days), within_days - 1)
                         } - due_customers
    late = late_customers(cadences, as_of, within_days)
    for seg in report.segments:
        for share in seg.mix:
            share.everyone_share = everyone.get(share.category, 0.0)
        in_segment = set(segment_of) if seg.segment == EVERYONE else set(by_segment[seg.segment])
        seg.due = len(in_segment & due_customers)
        seg.overdue = len(in_segment & overdue_customers)
        days_late = [late[c] for c in in_segment if c in late]
        seg.late = len(days_late)
        seg.median_days_late = float(statistics.median(days_late)) if days_late else None
    return report


# ---------------------------------------------------------------- due to reorder


def late_customers(cadences: dict[int, CustomerCadence], as_of: date, within_days: int) -> dict[int, int]:
    """Customers whose reorder dates (products not on a subscription) all passed more than `within_days`
    before as_of, with the days since the latest one: they used to reorder and stopped."""
    out: dict[int, int] = {}
    cutoff = as_of - timedelta(days=within_days)
    for customer, cadence in cadences.items():
        dates = [date.fromisoformat(p.next_order) for p in cadence.products if not p.subscription]
        if dates and max(dates) < cutoff:
            out[customer] = (as_of - max(dates)).days
    return out


@dataclass
class DueRow:
    customer_id: int
    product: str
    orders: int
    last_order: str
    median_days: float
    next_order: str
    days_until: int  # from the snapshot date; 0 = due that day
    subscription: bool = False


def due_rows(cadences: dict[int, CustomerCadence], as_of: date, within_days: int,
             subscriptions: bool = False) -> list[DueRow]:
    """Each (customer, product) whose next reorder (last order + that product's median gap for the customer)
    falls on as_of .. as_of + within_days, soonest first. Products whose last order was a subscription's are
    left out unless `subscriptions`: the subscription ships the next one without a reminder."""
    rows = []
    end = as_of + timedelta(days=within_days)
    for cadence in cadences.values():
        for p in cadence.products:
            nxt = date.fromisoformat(p.next_order)
            if as_of <= nxt <= end and (subscriptions or not p.subscription):
                rows.append(DueRow(cadence.customer_id, p.product, p.orders, p.last_order, p.median_days,
                                   p.next_order, (nxt - as_of).days, p.subscription))
    rows.sort(key=lambda r: (r.next_order, r.customer_id, r.product))
    return rows
