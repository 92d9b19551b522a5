"""Which themes (and survey answers) over-index in which RFM segment, counted per customer.

Feedback units are joined to customers (documents.customer_id, after identity merges) and to one RFM
snapshot (the latest, or the latest as of a date). For every segment x theme in a scope we build a 2x2
table of CUSTOMERS: in the segment or not, raised the theme or not, among customers with linked feedback
in that scope (so one talkative customer counts once). The test is one-sided (over-indexing): Fisher's
exact test, or chi-square (Yates) when every expected count reaches `min_expected`. All tests of a report
(themes and attributes) are corrected together with Benjamini-Hochberg.

A segment's themes are ranked by how distinctive they are, not by raw lift (a lift of 9.7 can rest on two
customers): the z-score of the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
2008, "Fightin' Words"), shrunk towards the scope's pooled share by `PRIOR_CUSTOMERS` pseudo-customers. A row
is *over-indexed* only when it is significant (q <= alpha, lift > 1) and raised by at least `min_support`
of the segment's customers.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import sqlite_utils
from scipy.stats import false_discovery_control, fisher_exact

from insight.analysis.rfm import Snapshot, latest_snapshot, previous_snapshot, segment_pairs
from insight.analysis.segment_map import SEGMENTS
from insight.core.errors import InvalidValue
from insight.core.scope import Scope
from insight.core.window import Window

K = TypeVar("K", bound=Hashable)
# An attribute with more distinct values than this is free text, not a choice question: not crossed.
MAX_ATTRIBUTE_VALUES = 30
# Strength of the informative prior of the distinctiveness score, in customers: the pooled share of the scope
# counts as this many extra customers in the segment and as many in the rest.
PRIOR_CUSTOMERS = 10.0
# Fewer of the segment's customers than this never make a theme (or answer) "over-indexed".
MIN_SUPPORT = 5


@dataclass
class LinkRow:
    segment: str
    theme_id: int
    theme_label: str
    scope: str
    units: int  # the segment's units in this theme
    customers: int  # distinct customers of the segment who raised the theme
    segment_customers: int  # the segment's customers with linked feedback in this scope
    share: float  # customers / segment_customers
    lift: float  # share / the share among all linked customers of the scope
    p_value: float
    q_value: float
    significant: bool  # q <= alpha and lift > 1
    overall_share: float = 0.0  # share among all customers of the scope with linked feedback
    population: int = 0  # customers of all segments with linked feedback in this scope
    population_customers: int = 0  # ... of whom raised the theme
    test: str = "fisher"  # fisher | chi2 | none
    score: float = 0.0  # distinctiveness: z of the shrunken log-odds ratio (the ranking within a segment)
    log_odds: float = 0.0  # the shrunken log-odds ratio, segment vs the other segments
    over_indexed: bool = False  # significant and raised by at least min_support of the segment's customers
    kind: str = "topic"  # the theme's kind: topic | general (low-information praise)
    documents: int = 0  # the segment's documents with a mention in this theme
    positive: int = 0  # the segment's mentions in this theme, by sentiment (none: not computed yet)
    neutral: int = 0
    negative: int = 0
    positive_customers: int = 0  # the segment's customers with a positive mention in this theme
    negative_customers: int = 0  # ... with a negative one
    level: str = "sub"  # the theme's level: parent | sub
    parent_id: int | None = None  # a sub-theme's parent


@dataclass
class AttributeRow:
    segment: str
    name: str  # the question, e.g. "How did you hear about us?"
    value: str  # the answer, e.g. "TikTok"
    customers: int
    segment_customers: int  # the segment's customers who answered this question
    share: float
    lift: float
    p_value: float
    q_value: float
    significant: bool
    overall_share: float = 0.0
    population: int = 0  # customers of all segments who answered the question
    population_customers: int = 0  # ... with this answer
    test: str = "fisher"
    score: float = 0.0
    log_odds: float = 0.0
    over_indexed: bool = False


@dataclass
class SourceCoverage:
    source: str
    units: int
    linked: int  # units whose document is tied to a customer
    scored: int  # ... to a customer scored in the snapshot


@dataclass
class Coverage:
    units: int = 0  # analysed units in the window (and scope)
    linked: int = 0
    scored: int = 0
    anonymous: int = 0  # no customer at all (anonymous reviews, unknown senders)
    not_scored: int = 0  # a customer, but not in the snapshot (no counting orders by its as-of date)
    themed: int = 0  # scored units assigned to a theme
    with_sentiment: int = 0  # scored units with a sentiment (0: `insight themes` has not scored sentiment)
    customers: int = 0  # distinct customers with feedback
    scored_customers: int = 0
    by_source: list[SourceCoverage] = field(default_factory=list)

    @property
    def linked_share(self) -> float:
        return self.linked / self.units if self.units else 0.0

    @property
    def scored_share(self) -> float:
        return self.scored / self.units if self.units else 0.0


@dataclass
class TransitionTheme:
    from_segment: str
    to_segment: str
    movers: int  # customers who made this move
    movers_with_feedback: int  # ... who had feedback dated before the later snapshot
    theme_id: int
    theme_label: str
    scope: str
    customers: int  # movers who raised the theme before moving
    units: int
    share: float  # customers / movers_with_feedback
    stayers_with_feedback: int = 0  # customers who stayed in from_segment, with feedback before the later snapshot
    baseline_share: float | None = None  # ... of whom raised the theme (None: no such stayers)


@dataclass
class LinkReport:
    snapshot_id: int | None
    as_of: str | None
    rows: list[LinkRow]
    coverage: Coverage
    attribute_rows: list[AttributeRow]
    transition_themes: list[TransitionTheme]
    previous_snapshot_id: int | None = None
    previous_as_of: str | None = None
    window: str | None = None
    scope: str | None = None
    alpha: float = 0.05
    min_expected: float = 5.0
    feedback_customers: dict[str, int] = field(default_factory=dict)  # per segment: customers with linked feedback
    notes: list[str] = field(default_factory=list)
    min_support: int = MIN_SUPPORT
    prior_customers: float = PRIOR_CUSTOMERS

    def significant_rows(self) -> list[LinkRow]:
        return sorted((r for r in self.rows if r.significant), key=lambda r: (r.q_value, -r.lift))

    def over_indexed_rows(self) -> list[LinkRow]:
        """Over-indexed rows, segment by segment (the usual map's order), most distinctive first."""
        return sorted((r for r in self.rows if r.over_indexed), key=lambda r: (segment_sort_key(r.segment), *rank_key(r)))

    def ranked(self, segment: str) -> list[LinkRow]:
        """Every row of one segment, most distinctive first."""
        return sorted((r for r in self.rows if r.segment == segment), key=rank_key)


def rank_key(row: LinkRow | AttributeRow) -> tuple[float, int, float]:
    """Most distinctive first: the shrunken z-score, then more customers, then the raw lift."""
    return (-row.score, -row.customers, -row.lift)


@dataclass(frozen=True)
class FeedbackUnit:
    unit_id: int
    document_id: int
    source: str
    customer_id: int | None
    created_day: str | None
    rating: float | None
    sentiment: str | None = None  # negative | neutral | positive; None until `insight themes` scores it


# ---------------------------------------------------------------- snapshots, window, scope


def find_snapshot(db: sqlite_utils.Database, as_of: str | None = None) -> Snapshot | None:
    """The latest snapshot, or the latest whose as-of date is on or before `as_of` (a date or datetime)."""
    return latest_snapshot(db, _iso_day(as_of) if as_of else None)


def no_snapshot_message(as_of: str | None) -> str:
    if as_of:
        return f"no RFM snapshot on or before {as_of}: run `insight segments --as-of DATE` or pick a later --as-of"
    return "no RFM snapshot yet: run `insight segments` first"


def segment_of(db: sqlite_utils.Database, snapshot_id: int) -> dict[int, str]:
    return dict(db.execute("SELECT customer_id, segment FROM rfm_scores WHERE snapshot_id = ?", [snapshot_id]))


def segment_sort_key(segment: str) -> tuple[int, str]:
    """The usual map's order (best to worst); segments from a user's own map follow alphabetically."""
    return (SEGMENTS.index(segment), "") if segment in SEGMENTS else (len(SEGMENTS), segment)


def window_clause(window: Window | None, alias: str = "d") -> tuple[str, list[str]]:
    """SQL condition: the document's window starts inside W (the same rule `insight themes --window` uses)."""
    if window is None:
        return "1", []
    return f"{alias}.window_start BETWEEN ? AND ?", [window.start.isoformat(), window.end.isoformat()]


def scope_matches(scope: str, wanted: str | None) -> bool:
    """`wanted` is a scope ('survey: What made you buy today?') or a source kind ('survey' = all survey scopes)."""
    return Scope.parse(scope).within(wanted)


# ---------------------------------------------------------------- loading


def load_units(db: sqlite_utils.Database, window: Window | None) -> list[FeedbackUnit]:
    """Analysed units in the window, with their document's source, customer, date and rating."""
    clause, params = window_clause(window)
    return [
        FeedbackUnit(*row)
        for row in db.execute(
            f"""SELECT u.id, d.id, d.source, d.customer_id, substr(d.created_at, 1, 10), d.rating, u.sentiment
                FROM units u JOIN documents d ON d.id = u.document_id
                WHERE u.analyse = 1 AND {clause}""",
            params,
        )
    ]


@dataclass(frozen=True)
class ThemeRef:
    """What links and briefs need to know of a theme to count and name it (the full view of a theme, for the
    CLI and the TUI, is queries.ThemeDetail)."""

    id: int
    label: str
    scope: str
    kind: str = "topic"  # topic | general (low-information praise such as "love it")
    level: str = "sub"  # parent | sub
    parent_id: int | None = None  # a sub-theme's parent (None: a theme from before two levels)


def load_themes(db: sqlite_utils.Database) -> dict[int, ThemeRef]:
    """Every theme by id. Membership (theme_units) only ever names live themes: a merge moves the merged
    theme's mentions to the one it joined, so nothing here resolves merges."""
    return {
        tid: ThemeRef(tid, label, scope, kind or "topic", level or "sub", parent_id)
        for tid, label, scope, kind, level, parent_id in db.execute(
            "SELECT id, display_label, scope, kind, level, parent_id FROM themes"
        )
    }


def load_assignments(
    db: sqlite_utils.Database, unit_ids: set[int], scope: str | None
) -> list[tuple[int, str, ThemeRef | None]]:
    """(unit_id, scope, theme or None when unassigned) for the given units, at both levels: a mention in a
    sub-theme is also in its parent. A parent of a single sub-theme is left out (it is that sub-theme)."""
    themes = load_themes(db)
    single = {parent for parent, in db.execute(
        "SELECT parent_id FROM themes WHERE parent_id IS NOT NULL AND status = 'active' GROUP BY parent_id "
        "HAVING COUNT(*) = 1")}
    out: list[tuple[int, str, ThemeRef | None]] = []
    rows = db.execute(
        """SELECT unit_id, scope, theme_id FROM theme_units
           UNION ALL SELECT unit_id, scope, NULL FROM unit_themes WHERE theme_id IS NULL"""
    )
    for unit_id, unit_scope, theme_id in rows:
        if unit_id not in unit_ids or not scope_matches(unit_scope, scope) or theme_id in single:
            continue
        out.append((unit_id, unit_scope, themes.get(theme_id) if theme_id is not None else None))
    return out


def telling_level(rows: list[LinkRow], says_something: Callable[[LinkRow], bool]) -> list[LinkRow]:
    """The rows to report, one level per family of themes: the sub-themes that say something (sharp), else
    their parent when it does (the sub-themes each too small, together enough), else nothing. Themes without a
    parent stand for themselves. Segments are judged apart; order is kept."""
    sub_rows: dict[tuple[str, int], list[LinkRow]] = defaultdict(list)
    for r in rows:
        if r.level == "sub" and r.parent_id is not None:
            sub_rows[(r.segment, r.parent_id)].append(r)
    out = []
    for r in rows:
        if not says_something(r):
            continue
        if r.level == "parent" and any(says_something(s) for s in sub_rows.get((r.segment, r.theme_id), [])):
            continue  # a sharper sub-theme says it
        out.append(r)
    return out


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class TestResult:
    p_value: float
    test: str


def over_index_test(a: int, b: int, c: int, d: int, min_expected: float = 5.0) -> TestResult:
    """One-sided test that a/(a+b) exceeds c/(c+d).

    Table rows: in the group / not; columns: has the trait / not. Chi-square (with Yates' correction,
    halved to one side) when all four expected counts are >= min_expected, Fisher's exact test otherwise.
    """
    n = a + b + c + d
    if n == 0 or a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
        return TestResult(1.0, "none")  # nothing to compare: one group, or everyone / no one has the trait
    table = [[a, b], [c, d]]
    expected_a = (a + b) * (a + c) / n
    expected = [
        expected_a,
        (a + b) * (b + d) / n,
        (c + d) * (a + c) / n,
        (c + d) * (b + d) / n,
    ]
    if min(expected) >= min_expected:
        # Yates-corrected chi-square, as scipy.stats.chi2_contingency computes it for a 2x2 table (every cell
        # deviates from its expectation by the same amount); written out because it runs thousands of times.
        deviation = max(abs(a - expected_a) - 0.5, 0.0)
        chi2 = deviation * deviation * sum(1 / e for e in expected)
        p_two_sided = math.erfc(math.sqrt(chi2 / 2))
        p = p_two_sided / 2 if a > expected_a else 1 - p_two_sided / 2
        return TestResult(min(max(p, 0.0), 1.0), "chi2")
    return TestResult(float(fisher_exact(table, alternative="greater").pvalue), "fisher")


@dataclass(frozen=True)
class Distinctiveness:
    log_odds: float
    z: float


def distinctiveness(a: int, b: int, c: int, d: int, prior: float = PRIOR_CUSTOMERS) -> Distinctiveness:
    """How much more the group has the trait than the rest, shrunk so that a few customers cannot top it.

    Monroe, Colaresi & Quinn (2008), "Fightin' Words", eqs. 16-22, for one theme as a binary trait per
    customer (a Beta prior, the two-category Dirichlet): the informative prior puts `prior` pseudo-customers
    in each group, split by the pooled share p = (a + c) / n, so
        delta = log((a + prior p) / (b + prior (1 - p))) - log((c + prior p) / (d + prior (1 - p)))
    and z = delta / sqrt(sum of 1 / (cell + its prior)) over all four cells. Monroe et al. keep only the two
    "has the trait" cells, which assumes the others are large; here "did not raise it" can be small (a theme
    raised by most of a segment), so the variance keeps all four (Woolf's variance of a log odds ratio).
    """
    n = a + b + c + d
    if a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
        return Distinctiveness(0.0, 0.0)  # one group, or everyone / no one has the trait: nothing to compare
    p = (a + c) / n
    has, lacks = prior * p, prior * (1 - p)
    cells = [a + has, b + lacks, c + has, d + lacks]
    if min(cells) == 0:  # no prior and an empty cell: the Haldane-Anscombe half added to every cell
        cells = [x + 0.5 for x in cells]
    delta = math.log(cells[0] / cells[1]) - math.log(cells[2] / cells[3])
    return Distinctiveness(delta, delta / math.sqrt(sum(1 / x for x in cells)))


def _lift(share: float, overall: float) -> float:
    return share / overall if overall else 0.0


def crossed_counts(
    population: dict[int, str], holders: dict[K, set[int]]
) -> list[tuple[str, K, int, int, int, int]]:
    """For each segment x key: (segment, key, a, b, c, d) over the population's customers."""
    segment_sizes = Counter(population.values())
    total = len(population)
    out = []
    for key, customers in holders.items():
        inside = Counter(population[c] for c in customers if c in population)
        key_total = sum(inside.values())
        if key_total == 0:
            continue
        for segment, size in segment_sizes.items():
            a = inside.get(segment, 0)
            b = size - a
            c = key_total - a
            d = total - size - c
            out.append((segment, key, a, b, c, d))
    return out


# ---------------------------------------------------------------- the report


def compute_links(
    db: sqlite_utils.Database,
    *,
    as_of: str | None = None,
    window: str | None = None,
    scope: str | None = None,
    min_expected: float = 5.0,
    alpha: float = 0.05,
    min_support: int = MIN_SUPPORT,
    prior_customers: float = PRIOR_CUSTOMERS,
) -> LinkReport:
    """Segment x theme and segment x survey-answer statistics, coverage, and the themes of segment movers."""
    if min_support < 1:
        raise InvalidValue(f"min support {min_support}: expected at least 1 customer")
    if prior_customers < 0:
        raise InvalidValue(f"prior {prior_customers:g}: expected 0 or more pseudo-customers")
    parsed_window = Window.parse(window) if window else None
    snapshot = find_snapshot(db, as_of)
    units = load_units(db, parsed_window)
    assignments = load_assignments(db, {u.unit_id for u in units}, scope)
    if scope:
        in_scope = {unit_id for unit_id, _, _ in assignments}
        units = [u for u in units if u.unit_id in in_scope]
    report = LinkReport(
        snapshot_id=snapshot.id if snapshot else None,
        as_of=snapshot.as_of if snapshot else None,
        rows=[],
        coverage=Coverage(),
        attribute_rows=[],
        transition_themes=[],
        window=parsed_window.label if parsed_window else None,
        scope=scope,
        alpha=alpha,
        min_expected=min_expected,
        min_support=min_support,
        prior_customers=prior_customers,
    )
    segments = segment_of(db, snapshot.id) if snapshot else {}
    report.coverage = compute_coverage(units, assignments, segments)
    report.feedback_customers = dict(Counter(segments[c] for c in {u.customer_id for u in units} if c in segments))
    if snapshot is None:
        report.notes.append(no_snapshot_message(as_of) + " (feedback is linked to segments of a snapshot)")
        return report
    if not assignments:
        report.notes.append("No themes for this feedback yet: run `insight themes`.")
    report.rows = theme_rows(units, assignments, segments)
    report.attribute_rows = attribute_rows(db, parsed_window, segments) if not scope else []
    correct(report.rows, report.attribute_rows, alpha, min_expected)
    score(report.rows, report.attribute_rows, min_support, prior_customers)
    previous = previous_snapshot(db, snapshot)
    if previous is not None:
        report.previous_snapshot_id, report.previous_as_of = previous.id, previous.as_of
        report.transition_themes = transition_themes(db, previous, snapshot, units, assignments)
    return report


def compute_coverage(
    units: list[FeedbackUnit], assignments: list[tuple[int, str, ThemeRef | None]], segments: dict[int, str]
) -> Coverage:
    themed = {unit_id for unit_id, _, theme in assignments if theme is not None}
    cov = Coverage()
    per_source: dict[str, SourceCoverage] = {}
    customers: set[int] = set()
    for u in units:
        src = per_source.setdefault(u.source, SourceCoverage(u.source, 0, 0, 0))
        cov.units += 1
        src.units += 1
        if u.customer_id is None:
            cov.anonymous += 1
            continue
        customers.add(u.customer_id)
        cov.linked += 1
        src.linked += 1
        if u.customer_id not in segments:
            cov.not_scored += 1
            continue
        cov.scored += 1
        src.scored += 1
        cov.themed += u.unit_id in themed
        cov.with_sentiment += u.sentiment is not None
    cov.customers = len(customers)
    cov.scored_customers = sum(1 for c in customers if c in segments)
    cov.by_source = [per_source[s] for s in sorted(per_source)]
    return cov


def theme_rows(
    units: list[FeedbackUnit], assignments: list[tuple[int, str, ThemeRef | None]], segments: dict[int, str]
) -> list[LinkRow]:
    """One row per scope x segment x theme. Customers (and documents) count once per theme however many of
    their mentions it holds; mentions are counted too, by sentiment."""
    scored = {u.unit_id: (u.customer_id, u) for u in units if u.customer_id is not None and u.customer_id in segments}
    by_scope: dict[str, list[tuple[int, FeedbackUnit, ThemeRef | None]]] = defaultdict(list)
    for unit_id, unit_scope, theme in assignments:
        if unit_id in scored:
            by_scope[unit_scope].append((*scored[unit_id], theme))
    rows: list[LinkRow] = []
    for unit_scope in sorted(by_scope):
        population = {customer: segments[customer] for customer, _, _ in by_scope[unit_scope]}
        holders: dict[int, set[int]] = defaultdict(set)
        mentions: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        documents: dict[tuple[str, int], set[int]] = defaultdict(set)
        by_sentiment: dict[tuple[str, int, str], set[int]] = defaultdict(set)
        info: dict[int, ThemeRef] = {}
        for customer, unit, theme in by_scope[unit_scope]:
            if theme is None:
                continue
            key = (segments[customer], theme.id)
            holders[theme.id].add(customer)
            mentions[key]["all"] += 1
            documents[key].add(unit.document_id)
            if unit.sentiment is not None:
                mentions[key][unit.sentiment] += 1
                by_sentiment[(*key, unit.sentiment)].add(customer)
            info[theme.id] = theme
        total = len(population)
        for segment, theme_id, a, b, c, _d in crossed_counts(population, holders):
            size = a + b
            overall = (a + c) / total
            share = a / size
            counts = mentions[(segment, theme_id)]
            rows.append(
                LinkRow(
                    segment=segment,
                    theme_id=theme_id,
                    theme_label=info[theme_id].label,
                    scope=unit_scope,
                    units=counts["all"],
                    customers=a,
                    segment_customers=size,
                    share=share,
                    lift=_lift(share, overall),
                    p_value=1.0,
                    q_value=1.0,
                    significant=False,
                    overall_share=overall,
                    population=total,
                    population_customers=a + c,
                    kind=info[theme_id].kind,
                    documents=len(documents[(segment, theme_id)]),
                    positive=counts["positive"],
                    neutral=counts["neutral"],
                    negative=counts["negative"],
                    positive_customers=len(by_sentiment[(segment, theme_id, "positive")]),
                    negative_customers=len(by_sentiment[(segment, theme_id, "negative")]),
                    level=info[theme_id].level,
                    parent_id=info[theme_id].parent_id,
                )
            )
    rows.sort(key=lambda r: (r.scope, segment_sort_key(r.segment), -r.customers, r.theme_id))
    return rows


def attribute_rows(db: sqlite_utils.Database, window: Window | None, segments: dict[int, str]) -> list[AttributeRow]:
    """Structured answers (choice questions) crossed with segments, per customer."""
    clause, params = window_clause(window)
    answered: dict[str, dict[int, str]] = defaultdict(dict)  # name -> customer -> segment
    holders: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for name, value, customer in db.execute(
        f"""SELECT a.name, a.value, d.customer_id FROM attributes a JOIN documents d ON d.id = a.document_id
            WHERE d.customer_id IS NOT NULL AND {clause}""",
        params,
    ):
        if customer not in segments:
            continue
        answered[name][customer] = segments[customer]
        holders[name][value].add(customer)
    rows: list[AttributeRow] = []
    for name in sorted(answered):
        if len(holders[name]) > MAX_ATTRIBUTE_VALUES:
            continue
        total = len(answered[name])
        for segment, value, a, b, c, _d in crossed_counts(answered[name], holders[name]):
            share, overall = a / (a + b), (a + c) / total
            rows.append(
                AttributeRow(
                    segment, name, str(value), a, a + b, share, _lift(share, overall), 1.0, 1.0, False,
                    overall_share=overall, population=total, population_customers=a + c,
                )
            )
    rows.sort(key=lambda r: (r.name, segment_sort_key(r.segment), -r.customers, r.value))
    return rows


def contingency(row: LinkRow | AttributeRow) -> tuple[int, int, int, int]:
    """The 2x2 table both the test and the score read: (in the segment and raising it, in the segment and not,
    raising it outside the segment, neither)."""
    b = row.segment_customers - row.customers
    c = row.population_customers - row.customers
    return row.customers, b, c, row.population - row.segment_customers - c


def correct(rows: list[LinkRow], attributes: list[AttributeRow], alpha: float, min_expected: float) -> None:
    """Test every row, then Benjamini-Hochberg over all of them at once (one family per report)."""
    tested: list[LinkRow | AttributeRow] = [*rows, *attributes]
    if not tested:
        return
    for row in tested:
        result = over_index_test(*contingency(row), min_expected)
        row.p_value, row.test = result.p_value, result.test
    q_values = false_discovery_control([r.p_value for r in tested], method="bh")
    for row, q in zip(tested, q_values, strict=True):
        row.q_value = float(q)
        row.significant = bool(row.q_value <= alpha and row.lift > 1)


def score(rows: list[LinkRow], attributes: list[AttributeRow], min_support: int, prior: float) -> None:
    """The distinctiveness score of every row, and which rows are over-indexed (after `correct`)."""
    tested: list[LinkRow | AttributeRow] = [*rows, *attributes]
    for row in tested:
        measure = distinctiveness(*contingency(row), prior)
        row.log_odds, row.score = measure.log_odds, measure.z
        row.over_indexed = bool(row.significant and row.customers >= min_support)


# ---------------------------------------------------------------- transitions


def transition_themes(
    db: sqlite_utils.Database,
    previous: Snapshot,
    latest: Snapshot,
    units: list[FeedbackUnit],
    assignments: list[tuple[int, str, ThemeRef | None]],
) -> list[TransitionTheme]:
    """For each move (e.g. Loyal Customers -> At Risk): the themes its customers raised before the later snapshot,
    beside the share among the customers who stayed in the segment they left (the baseline)."""
    pairs = segment_pairs(db, previous.id, latest.id)
    group_sizes = Counter(pairs.values())
    before = {
        u.unit_id: u.customer_id
        for u in units
        if u.customer_id in pairs and u.created_day is not None and u.created_day < latest.as_of
    }
    with_feedback: dict[tuple[str, str], set[int]] = defaultdict(set)
    raised: dict[tuple[str, str, int], set[int]] = defaultdict(set)
    unit_counts: Counter[tuple[str, str, int]] = Counter()
    info: dict[int, ThemeRef] = {}
    for unit_id, _, theme in assignments:
        customer = before.get(unit_id)
        if customer is None:
            continue
        pair = pairs[customer]
        with_feedback[pair].add(customer)
        if theme is not None:
            raised[(*pair, theme.id)].add(customer)
            unit_counts[(*pair, theme.id)] += 1
            info[theme.id] = theme
    out = []
    for (from_seg, to_seg, theme_id), customers in raised.items():
        if from_seg == to_seg:
            continue
        stayed = with_feedback.get((from_seg, from_seg), set())
        stayed_raised = raised.get((from_seg, from_seg, theme_id), set())
        out.append(
            TransitionTheme(
                from_segment=from_seg,
                to_segment=to_seg,
                movers=group_sizes[(from_seg, to_seg)],
                movers_with_feedback=len(with_feedback[(from_seg, to_seg)]),
                theme_id=theme_id,
                theme_label=info[theme_id].label,
                scope=info[theme_id].scope,
                customers=len(customers),
                units=unit_counts[(from_seg, to_seg, theme_id)],
                share=len(customers) / len(with_feedback[(from_seg, to_seg)]),
                stayers_with_feedback=len(stayed),
                baseline_share=len(stayed_raised) / len(stayed) if stayed else None,
            )
        )
    out.sort(key=lambda t: (-t.movers, t.from_segment, t.to_segment, -t.customers, t.theme_id))
    return out


def _iso_day(text: str) -> str:
    try:
        return date.fromisoformat(text.strip()[:10]).isoformat()
    except ValueError:
        raise InvalidValue(f"as-of date {text!r} is not an ISO date (YYYY-MM-DD)") from None
