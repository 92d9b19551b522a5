"""A persona brief per RFM segment, built only from the database: numbers, themes with quotes, caveats.

Every number comes from rfm_scores and the link statistics (insight.analysis.links); every quote carries its
document's external id and source. Wording that is not data (activation suggestions) comes from a
replaceable template. Segments too small to say anything get a short brief that says so.

A brief leads with three lines: the themes that set the segment apart (over-indexed: significant and raised
by enough of its customers, ranked by the shrunken distinctiveness score, never by raw lift), what its
customers praise (themes their mentions in are mostly positive, any source) and what annoys them (mostly
negative), or a plain statement that nothing stands out. General themes ("love it") are never a finding.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import sqlite_utils

from insight.analysis.affinity import (
    EVERYONE,
    AffinityError,
    AffinityReport,
    SegmentAffinity,
    affinity_report,
)
from insight.analysis.links import (
    MIN_SUPPORT,
    LinkReport,
    LinkRow,
    TransitionTheme,
    compute_links,
    find_snapshot,
    load_themes,
    no_snapshot_message,
    rank_key,
    segment_sort_key,
    telling_level,
    window_clause,
)
from insight.analysis.rfm import Snapshot, previous_snapshot, segment_moves
from insight.analysis.rfm import segment_numbers as rfm_segment_numbers
from insight.core.errors import InsightError, InvalidValue
from insight.core.scope import Scope
from insight.core.window import Window

DEFAULT_TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class BriefQuote:
    """A quote as a brief prints it: with its document's external id (queries.Quote is the TUI's, by row ids)."""

    text: str
    document_id: str  # the document's external id (response token, ticket id, file name ...)
    source: str  # survey | interview | review | ticket
    created_at: str | None
    question: str | None = None
    rating: float | None = None
    unit_id: int = 0


@dataclass
class ThemeFinding:
    theme_id: int
    label: str
    scope: str
    customers: int  # the segment's customers who raised it
    segment_customers: int  # the segment's customers with feedback in the scope
    share: float
    lift: float | None  # None where no comparison with other segments was made
    q_value: float | None
    significant: bool
    phrases: list[str] = field(default_factory=list)
    overall_share: float | None = None  # the share among all customers with feedback in the scope
    quotes: list[BriefQuote] = field(default_factory=list)
    score: float | None = None  # distinctiveness (shrunken log-odds z), None without a comparison
    over_indexed: bool = False  # significant and raised by at least the minimum support of customers
    kind: str = "topic"
    mentions: int = 0  # the segment's mentions in the theme
    positive: int = 0  # ... by sentiment
    negative: int = 0
    positive_customers: int = 0
    negative_customers: int = 0
    sentiment: str | None = None  # the quotes were chosen with this sentiment (None: any)
    level: str = "sub"  # parent | sub
    family: str | None = None  # a sub-theme's parent label, or a parent's largest sub-themes


@dataclass
class AttributeFinding:
    name: str
    value: str
    customers: int
    segment_customers: int
    share: float
    overall_share: float
    lift: float
    q_value: float
    significant: bool
    over_indexed: bool = False


@dataclass
class SummaryLine:
    lead: str  # "Distinctive", "They praise", "What annoys them"
    text: str


@dataclass
class Numbers:
    customers: int
    all_customers: int
    share_of_customers: float
    revenue: float
    share_of_revenue: float
    currency: str | None
    median_recency_days: float | None
    median_frequency: float | None
    median_order_value: float | None  # median over customers of monetary / frequency
    lifecycle_mix: dict[str, int]
    previous_customers: int | None = None
    previous_as_of: str | None = None
    moved_in: list[tuple[str, int]] = field(default_factory=list)  # (from segment, customers)
    moved_out: list[tuple[str, int]] = field(default_factory=list)  # (to segment, customers)
    newly_scored: int = 0  # in the segment now, not scored at all in the previous snapshot (first orders)


@dataclass
class Affinity:
    """What the segment buys and how often (insight.analysis.affinity): from order lines, not from feedback."""

    segment: SegmentAffinity
    everyone: SegmentAffinity
    by: str  # category | vendor | product
    sources: dict[str, int]  # order lines by where their category came from (map, export, product name)
    within_days: int  # the 'due to reorder' window


@dataclass
class Activation:
    title: str
    actions: list[str]
    rule: str  # which template entry matched, e.g. 'segments."At Risk"'


@dataclass
class Method:
    as_of: str | None
    snapshot_id: int | None
    previous_as_of: str | None
    previous_snapshot_id: int | None
    window: str | None
    models: list[str]
    theme_runs: list[dict[str, Any]]  # scope, created_at, model, window
    units: int
    linked_units: int
    scored_units: int
    tests: int
    alpha: float
    min_expected: float
    templates: str
    min_support: int = 5
    prior_customers: float = 10.0
    sentiment_units: int = 0  # scored units with a sentiment
    sentiment_share: float = 0.5  # brief.toml: the share of a segment's mentions that makes a theme praise


@dataclass
class Brief:
    segment: str
    as_of: str | None
    snapshot_id: int | None
    window: str | None
    small: bool
    small_reason: str | None
    numbers: Numbers
    feedback_customers: int  # the segment's customers with linked feedback in the window
    summary: list[SummaryLine] = field(default_factory=list)  # what the brief leads with
    nothing_distinctive: str | None = None  # said plainly when no theme over-indexes
    says: list[ThemeFinding] = field(default_factory=list)
    says_significant: bool = False  # True: `says` lists over-indexed themes; False: the most common, none over-indexes
    why_buy: list[ThemeFinding] = field(default_factory=list)  # motivation-question themes
    praise: list[ThemeFinding] = field(default_factory=list)  # themes its mentions in are mostly positive (any source)
    general_praise: int = 0  # its customers with a mention in a general theme ("love it"): not a finding
    sentiment_scored: bool = False  # False: no mention has a sentiment yet, praise and annoyances stay empty
    stops: list[ThemeFinding] = field(default_factory=list)  # objection-question themes
    annoyances: list[ThemeFinding] = field(default_factory=list)  # its mentions mostly negative (any source)
    complaints: list[ThemeFinding] = field(default_factory=list)  # ticket and low-rated review themes
    attributes: list[AttributeFinding] = field(default_factory=list)
    arrivals: list[TransitionTheme] = field(default_factory=list)  # what customers who moved in said before
    activation: Activation | None = None
    affinity: Affinity | None = None  # None: no order lines for the snapshot's customers
    caveats: list[str] = field(default_factory=list)
    method: Method | None = None


# ---------------------------------------------------------------- templates


@dataclass
class BriefConfig:
    motivation: list[str]
    objection: list[str]
    thresholds: dict[str, float]
    activation: dict[str, Any]
    source: str


def load_config(templates: Path | None = None) -> BriefConfig:
    """Defaults from insight/analysis/templates; a user's folder may replace brief.toml and/or activation.toml."""
    brief = _read_toml(DEFAULT_TEMPLATES / "brief.toml")
    activation = _read_toml(DEFAULT_TEMPLATES / "activation.toml")
    if templates is not None:
        if not templates.is_dir():
            raise InsightError(f"templates folder {templates} does not exist")
        if (templates / "brief.toml").exists():
            custom = _read_toml(templates / "brief.toml")
            brief["questions"] = {**brief["questions"], **custom.get("questions", {})}
            brief["thresholds"] = {**brief["thresholds"], **custom.get("thresholds", {})}
        if (templates / "activation.toml").exists():
            activation = _read_toml(templates / "activation.toml")
    return BriefConfig(
        motivation=[k.lower() for k in brief["questions"]["motivation"]],
        objection=[k.lower() for k in brief["questions"]["objection"]],
        thresholds=brief["thresholds"],
        activation=activation,
        source=str(templates) if templates else "built-in",
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InsightError(f"{path}: not valid TOML ({exc})") from None


def question_of(scope: str) -> str | None:
    return Scope.parse(scope).question


def scope_is(scope: str, keywords: list[str]) -> bool:
    question = question_of(scope)
    return question is not None and any(k in question.lower() for k in keywords)


# ---------------------------------------------------------------- building


def resolve_segment(db: sqlite_utils.Database, snapshot: Snapshot, name: str) -> str:
    """Case-insensitive, and 'cant-lose-them' finds "Can't Lose Them"."""
    names = [s for (s,) in db.execute("SELECT DISTINCT segment FROM rfm_scores WHERE snapshot_id = ?", [snapshot.id])]
    for candidate in names:
        if candidate.lower() == name.strip().lower() or slug(candidate) == slug(name):
            return candidate
    available = ", ".join(sorted(names, key=segment_sort_key)) or "none"
    raise InvalidValue(f"no segment {name!r} in the snapshot as of {snapshot.as_of}; segments: {available}")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def build_brief(
    db: sqlite_utils.Database,
    segment: str,
    *,
    as_of: str | None = None,
    window: str | None = None,
    templates: Path | None = None,
    report: LinkReport | None = None,
    min_support: int | None = None,
    affinity: AffinityReport | None = None,
) -> Brief:
    """The brief for one segment. Pass `report` (compute_links for the same as_of/window) and `affinity`
    (affinity_report for the same snapshot) to reuse them."""
    config = load_config(templates)
    snapshot = find_snapshot(db, as_of)
    if snapshot is None:
        raise InsightError(no_snapshot_message(as_of))
    name = resolve_segment(db, snapshot, segment)
    report = report or compute_links(db, as_of=as_of, window=window,
                                     min_support=MIN_SUPPORT if min_support is None else min_support)
    members = {c for (c,) in db.execute("SELECT customer_id FROM rfm_scores WHERE snapshot_id = ? AND segment = ?",
                                        [snapshot.id, name])}
    feedback_customers = report.feedback_customers.get(name, 0)
    t = config.thresholds
    numbers = segment_numbers(db, snapshot, name)
    brief = Brief(
        segment=name,
        as_of=snapshot.as_of,
        snapshot_id=snapshot.id,
        window=report.window,
        small=False,
        small_reason=None,
        numbers=numbers,
        feedback_customers=feedback_customers,
        affinity=affinity_for(db, snapshot, name, affinity),
    )
    if numbers.customers < t["min_customers"]:
        brief.small = True
        brief.small_reason = (
            f"the segment has only {numbers.customers} customers (a full brief needs at least "
            f"{int(t['min_customers'])})"
        )
    elif feedback_customers < t["min_feedback_customers"]:
        brief.small = True
        brief.small_reason = (
            f"only {feedback_customers} of its {numbers.customers} customers left feedback linked in this window "
            f"(a full brief needs at least {int(t['min_feedback_customers'])})"
        )
    else:
        fill_findings(db, brief, report, members, config)
        brief.activation = activation_for(brief, config)
    brief.summary = summary_lines(brief, report, config)
    brief.caveats = caveats_for(brief, report)
    brief.method = method_for(db, report, config)
    return brief


def fill_findings(
    db: sqlite_utils.Database, brief: Brief, report: LinkReport, members: set[int], config: BriefConfig
) -> None:
    t = config.thresholds
    top = int(t["max_section_themes"])
    # "love it" is no finding; of a parent theme and its sub-themes, the level that carries enough customers
    mine = [r for r in report.rows if r.segment == brief.segment and r.kind != "general"]
    topics = telling_level(mine, lambda r: r.customers >= t["min_theme_customers"])
    over = sorted(telling_level(mine, lambda r: r.over_indexed and r.customers >= t["min_theme_customers"]),
                  key=rank_key)
    brief.says_significant = bool(over)
    chosen = over if over else sorted(topics, key=lambda r: (-r.customers, *rank_key(r)))
    quoter = Quoter(db, members, report.window, int(t["quotes_per_theme"]), int(t["max_quote_chars"]))
    brief.says = [finding(r, quoter) for r in chosen[: int(t["max_themes"])]]
    brief.nothing_distinctive = None if over else nothing_distinctive(brief.segment, report)
    by_share = sorted(topics, key=lambda r: (-r.customers, *rank_key(r)))
    brief.why_buy = [finding(r, quoter) for r in [r for r in by_share if scope_is(r.scope, config.motivation)][:top]]
    brief.stops = [finding(r, quoter) for r in [r for r in by_share if scope_is(r.scope, config.objection)][:top]]
    brief.sentiment_scored = report.coverage.with_sentiment > 0
    if brief.sentiment_scored:
        brief.praise = [finding(r, quoter, "positive") for r in leaning(topics, "positive", t)[:top]]
        brief.annoyances = [finding(r, quoter, "negative") for r in leaning(topics, "negative", t)[:top]]
    brief.general_praise = general_theme_customers(db, members, report.window)
    openers = ticket_opening_themes(db, t["ticket_opening_share"])
    shown = {f.theme_id for f in brief.annoyances}
    opening = [r for r in by_share if r.scope == "ticket" and r.theme_id in openers and r.theme_id not in shown]
    if brief.sentiment_scored:  # a question ("where can I see my order?") is no complaint: some must be negative
        opening = [r for r in opening if r.negative_customers >= t["min_theme_customers"]]
    feeling = "negative" if brief.sentiment_scored else None  # ... and they are quoted
    tickets = [finding(r, quoter, feeling) for r in opening[:top]]
    reviews = [f for f in low_rated_review_themes(db, brief, members, quoter, config) if f.theme_id not in shown]
    brief.complaints = tickets + reviews
    brief.arrivals = arrival_themes(report, brief.segment, int(t["min_theme_customers"]), top)
    attributes = [r for r in report.attribute_rows if r.segment == brief.segment and r.customers > 0]
    attributes.sort(key=lambda r: (r.name, not r.over_indexed, -r.share))
    per_name: Counter[str] = Counter()
    for r in attributes:
        per_name[r.name] += 1
        if per_name[r.name] <= 3:
            brief.attributes.append(
                AttributeFinding(r.name, r.value, r.customers, r.segment_customers, r.share, r.overall_share,
                                 r.lift, r.q_value, r.significant, r.over_indexed)
            )


def leaning(rows: list[LinkRow], sentiment: str, thresholds: dict[str, float]) -> list[LinkRow]:
    """Themes the segment's mentions in are mostly `sentiment` (positive or negative), from enough of its
    customers; most customers with such a mention first."""
    customers = f"{sentiment}_customers"
    out = [
        r for r in rows
        if getattr(r, customers) >= thresholds["min_theme_customers"]
        and getattr(r, sentiment) >= thresholds["sentiment_share"] * r.units
    ]
    return sorted(out, key=lambda r: (-getattr(r, customers), *rank_key(r)))


def nothing_distinctive(segment: str, report: LinkReport) -> str:
    """Why no theme is called over-indexed in the segment, with the nearest candidates and their numbers."""
    text = (f"Nothing in what {segment} customers say differs from other customers with enough support: no theme is "
            f"raised by at least {report.min_support} of them significantly more often than elsewhere "
            f"(q ≤ {report.alpha:g})")
    rows = [r for r in report.rows if r.segment == segment and r.lift > 1]
    topics = [r for r in rows if r.kind != "general"]
    notes = []
    if topics:
        best = min(topics, key=rank_key)
        notes.append(f"the closest, “{best.theme_label}”, is raised by {best.customers} of "
                     f"{best.segment_customers} (lift {best.lift:.1f}, q = {best.q_value:.2g})")
        highest = max(topics, key=lambda r: (r.lift, r.customers))
        if highest is not best and highest.lift > best.lift:
            notes.append(f"the highest lift, {highest.lift:.1f} for “{highest.theme_label}”, rests on "
                         f"{highest.customers} customer{'' if highest.customers == 1 else 's'}")
    general = [r for r in rows if r.kind == "general" and r.over_indexed]
    if general:
        notes.append(f"only general praise (“{general[0].theme_label}”) over-indexes")
    return text + ("; " + "; ".join(notes) if notes else "") + "."


def arrival_themes(report: LinkReport, segment: str, min_customers: int, per_move: int) -> list[TransitionTheme]:
    """For the two largest moves into the segment: the themes movers raised more often than those who stayed."""
    inbound = [t for t in report.transition_themes if t.to_segment == segment and t.customers >= min_customers]
    moves = sorted({(t.movers, t.from_segment) for t in inbound}, reverse=True)[:2]
    out: list[TransitionTheme] = []
    for _, from_segment in moves:
        themes = [t for t in inbound if t.from_segment == from_segment]
        themes = [t for t in themes if t.baseline_share is None or t.share > t.baseline_share]
        themes.sort(key=lambda t: (-(t.share - (t.baseline_share or 0)), -t.customers))
        out += themes[:per_move]
    return out


def finding(row: LinkRow, quoter: Quoter, sentiment: str | None = None) -> ThemeFinding:
    """A link row as a brief's theme, quoted in the segment's own words (with `sentiment` only, when given)."""
    return ThemeFinding(
        theme_id=row.theme_id,
        label=row.theme_label,
        scope=row.scope,
        customers=row.customers,
        segment_customers=row.segment_customers,
        share=row.share,
        overall_share=row.overall_share,
        lift=row.lift,
        q_value=row.q_value,
        significant=row.significant,
        phrases=quoter.phrases(row.theme_id),
        quotes=quoter.quotes(row.theme_id, row.scope, sentiment=sentiment),
        score=row.score,
        over_indexed=row.over_indexed,
        kind=row.kind,
        mentions=row.units,
        positive=row.positive,
        negative=row.negative,
        positive_customers=row.positive_customers,
        negative_customers=row.negative_customers,
        sentiment=sentiment,
        level=row.level,
        family=family_of(quoter.db, row),
    )


def family_of(db: sqlite_utils.Database, row: LinkRow) -> str | None:
    """Where a theme sits in the tree, for the reader: a sub-theme's parent, a parent's largest sub-themes."""
    if row.level == "sub" and row.parent_id is not None:
        found = db.execute("SELECT display_label, (SELECT COUNT(*) FROM themes c WHERE c.parent_id = p.id "
                           "AND c.status = 'active') FROM themes p WHERE p.id = ?", [row.parent_id]).fetchone()
        return f"part of “{found[0]}”" if found and found[1] > 1 else None
    if row.level == "parent":
        children = [label for (label,) in db.execute(
            "SELECT display_label FROM themes WHERE parent_id = ? AND status = 'active' "
            "ORDER BY size DESC, id", [row.theme_id])]
        more = f" and {len(children) - 3} more" if len(children) > 3 else ""
        return "parent theme of " + ", ".join(f"“{c}”" for c in children[:3]) + more if children else None
    return None


def ticket_opening_themes(db: sqlite_utils.Database, min_share: float) -> set[int]:
    """Ticket themes that are mostly the message opening a ticket (why people wrote), not follow-ups ("thanks!").

    A message is a passage: every mention of the opening message counts as opening, not only its first one."""
    units: Counter[int] = Counter()
    opening: Counter[int] = Counter()
    for theme_id, is_opening in db.execute(
        """SELECT ut.theme_id, COALESCE(u.passage, u.position) = (
                   SELECT MIN(COALESCE(u2.passage, u2.position)) FROM units u2
                   WHERE u2.document_id = u.document_id AND u2.analyse = 1)
           FROM theme_units ut JOIN units u ON u.id = ut.unit_id
           WHERE ut.scope = 'ticket'"""
    ):
        units[theme_id] += 1
        opening[theme_id] += is_opening
    return {tid for tid, n in units.items() if opening[tid] >= min_share * n}


def low_rated_review_themes(
    db: sqlite_utils.Database, brief: Brief, members: set[int], quoter: Quoter, config: BriefConfig
) -> list[ThemeFinding]:
    """Review themes among the segment's reviews rated at or below the low-rating threshold."""
    low = config.thresholds["low_rating"]
    clause, params = window_clause(Window.parse(brief.window) if brief.window else None)
    themes = load_themes(db)
    reviewers: set[int] = set()
    raised: dict[int, set[int]] = {}
    for customer, rating, theme_id in db.execute(
        f"""SELECT d.customer_id, d.rating, ut.theme_id FROM documents d
            JOIN units u ON u.document_id = d.id AND u.analyse = 1
            JOIN theme_units ut ON ut.unit_id = u.id AND ut.scope = 'review' AND ut.level = 'sub'
            WHERE d.source = 'review' AND d.customer_id IS NOT NULL AND {clause}""",
        params,
    ):
        if customer not in members:
            continue
        reviewers.add(customer)
        if rating is not None and rating <= low and theme_id in themes and themes[theme_id].kind != "general":
            raised.setdefault(theme_id, set()).add(customer)
    out = []
    ranked = sorted(raised.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    enough = [kv for kv in ranked if len(kv[1]) >= config.thresholds["min_theme_customers"]]
    for theme_id, customers in enough[: int(config.thresholds["max_section_themes"])]:
        info = themes[theme_id]
        out.append(
            ThemeFinding(
                theme_id=theme_id,
                label=info.label,
                scope=f"review (rated {low:g} or less)",
                customers=len(customers),
                segment_customers=len(reviewers),
                share=len(customers) / len(reviewers),
                lift=None,
                q_value=None,
                significant=False,
                phrases=quoter.phrases(theme_id),
                quotes=quoter.quotes(theme_id, "review", max_rating=low),
            )
        )
    return out


class Quoter:
    """Picks the segment's own words for a theme: the most central units, one per customer, no repeats."""

    def __init__(self, db: sqlite_utils.Database, members: set[int], window: str | None, per_theme: int,
                 max_chars: int) -> None:
        self.db, self.members, self.per_theme, self.max_chars = db, members, per_theme, max_chars
        self.clause, self.params = window_clause(Window.parse(window) if window else None)

    def phrases(self, theme_id: int, limit: int = 3) -> list[str]:
        row = self.db.execute("SELECT phrases FROM themes WHERE id = ?", [theme_id]).fetchone()
        try:
            items = json.loads(row[0]) if row and row[0] else []
        except json.JSONDecodeError:
            return []
        out = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                item = item.get("phrase") or item.get("text")
            elif isinstance(item, list | tuple) and item:
                item = item[0]
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
        return out[:limit]

    def quotes(self, theme_id: int, scope: str, max_rating: float | None = None,
               sentiment: str | None = None) -> list[BriefQuote]:
        feeling = "AND u.sentiment = ?" if sentiment else ""
        rows = self.db.execute(
            f"""SELECT u.id, u.text, u.question, d.external_id, d.source, d.created_at, d.rating, d.customer_id
                FROM theme_units ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
                WHERE ut.theme_id = ? AND ut.scope = ? AND u.analyse = 1 AND {self.clause} {feeling}
                ORDER BY ut.similarity DESC, u.id""",
            [theme_id, scope, *self.params, *([sentiment] if sentiment else [])],
        ).fetchall()
        candidates = [
            r for r in rows if r[7] in self.members and (max_rating is None or (r[6] is not None and r[6] <= max_rating))
        ]
        # prefer answers that say something (four words or more) over "nothing" / "ok"
        candidates.sort(key=lambda r: len(r[1].split()) < 4)
        chosen: list[BriefQuote] = []
        seen_customers: set[int] = set()
        seen_texts: set[str] = set()
        for unit_id, text, question, external_id, source, created_at, rating, customer in candidates:
            key = " ".join(re.findall(r"\w+", text.lower()))
            if customer in seen_customers or key in seen_texts:
                continue
            seen_customers.add(customer)
            seen_texts.add(key)
            chosen.append(BriefQuote(shorten(text, self.max_chars), external_id, source, created_at, question, rating, unit_id))
            if len(chosen) == self.per_theme:
                break
        return chosen


def general_theme_customers(db: sqlite_utils.Database, members: set[int], window: str | None) -> int:
    """The segment's customers with a mention in a general theme (low-information praise such as "love it")."""
    themes = load_themes(db)
    general = sorted({tid for tid, info in themes.items() if info.kind == "general"})
    if not general:
        return 0
    clause, params = window_clause(Window.parse(window) if window else None)
    marks = ",".join("?" * len(general))
    customers = {
        c for (c,) in db.execute(
            f"""SELECT DISTINCT d.customer_id FROM theme_units ut JOIN units u ON u.id = ut.unit_id
                JOIN documents d ON d.id = u.document_id
                WHERE ut.theme_id IN ({marks}) AND u.analyse = 1 AND {clause}""",
            [*general, *params],
        )
    }
    return len(customers & members)


# ---------------------------------------------------------------- the summary


def summary_lines(brief: Brief, report: LinkReport, config: BriefConfig) -> list[SummaryLine]:
    """Three lines: what sets the segment apart, what it praises, what annoys it (or one line: too small)."""
    if brief.small:
        return [SummaryLine("Too little to go on", f"{brief.small_reason}; nothing is claimed about what they say.")]
    n = int(config.thresholds["summary_themes"])
    if brief.says_significant:
        apart = "; ".join(
            f"“{f.label}” ({f.customers} of {f.segment_customers} customers, lift {f.lift or 0:.1f}, "
            f"q = {f.q_value or 0:.2g})" for f in brief.says[:n]
        ) + "."
    else:
        apart = brief.nothing_distinctive or ""
    return [
        SummaryLine("Distinctive", apart),
        SummaryLine("They praise", _praise_line(brief, n)),
        SummaryLine("What annoys them", _annoyance_line(brief, n)),
    ]


def _themes_line(themes: list[ThemeFinding], customers: str) -> str:
    parts = []
    for f in themes:
        count = getattr(f, customers) if customers else f.customers
        source = f", {f.scope}" if f.scope and Scope.parse(f.scope).source != "survey" else ", survey"
        parts.append(f"“{f.label}” ({count} customer{'' if count == 1 else 's'}{source})")
    return "; ".join(parts)


def _praise_line(brief: Brief, n: int) -> str:
    general = (f"; general praise (“love it”) from {brief.general_praise} of them is not counted"
               if brief.general_praise else "")
    if not brief.sentiment_scored:
        text = "mentions have no sentiment yet (insight themes scores it)"
        if brief.why_buy:
            text += "; asked why they bought: " + _themes_line(brief.why_buy[:n], "")
        return text + "."
    if brief.praise:
        return _themes_line(brief.praise[:n], "positive_customers") + general + "."
    if brief.why_buy:
        return ("no theme is mostly praise in what they say; asked why they bought: "
                + _themes_line(brief.why_buy[:n], "") + general + ".")
    return "no theme is mostly praise in what they say" + general + "."


def _annoyance_line(brief: Brief, n: int) -> str:
    fallback = (brief.stops + brief.complaints)[:n]
    if brief.annoyances:
        return _themes_line(brief.annoyances[:n], "negative_customers") + "."
    prefix = ("mentions have no sentiment yet (insight themes scores it)" if not brief.sentiment_scored
              else "no theme is mostly negative in what they say")
    if fallback:
        return prefix + "; objections and complaints raised: " + _themes_line(fallback, "") + "."
    return prefix + "."


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def segment_numbers(db: sqlite_utils.Database, snapshot: Snapshot, segment: str) -> Numbers:
    """The segment's numbers (rfm.segment_numbers, as the segments command and the TUI report them), with where
    its customers came from and went since the snapshot before."""
    every = rfm_segment_numbers(db, snapshot.id)
    seg = every.get(segment)
    all_customers = next(iter(every.values())).all_customers if every else 0
    numbers = Numbers(
        customers=seg.customers if seg else 0,
        all_customers=all_customers,
        share_of_customers=seg.share if seg else 0.0,
        revenue=seg.revenue if seg else 0,
        share_of_revenue=seg.revenue_share if seg else 0.0,
        currency=snapshot.currency,
        median_recency_days=seg.median_recency_days if seg else None,
        median_frequency=seg.median_frequency if seg else None,
        median_order_value=seg.median_order_value if seg else None,
        lifecycle_mix=dict(seg.lifecycle_mix) if seg else {},
    )
    previous = previous_snapshot(db, snapshot)
    if previous is not None:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM rfm_scores WHERE snapshot_id = ? AND segment = ?", [previous.id, segment]
        ).fetchone()
        numbers.previous_customers, numbers.previous_as_of = int(count), previous.as_of
        moves = segment_moves(db, previous.id, snapshot.id).values()
        inflow = Counter(before for before, after in moves if after == segment)
        outflow = Counter(after for before, after in moves if before == segment)
        (numbers.newly_scored,) = db.execute(
            """SELECT COUNT(*) FROM rfm_scores a WHERE a.snapshot_id = ? AND a.segment = ? AND NOT EXISTS
               (SELECT 1 FROM rfm_scores b WHERE b.snapshot_id = ? AND b.customer_id = a.customer_id)""",
            [snapshot.id, segment, previous.id],
        ).fetchone()
        numbers.moved_in = sorted(inflow.items(), key=lambda kv: (-kv[1], segment_sort_key(kv[0])))
        numbers.moved_out = sorted(outflow.items(), key=lambda kv: (-kv[1], segment_sort_key(kv[0])))
    return numbers


def affinity_for(db: sqlite_utils.Database, snapshot: Snapshot, segment: str,
                 report: AffinityReport | None = None) -> Affinity | None:
    """The segment's category mix, pairs and cadence next to everyone's; None without order lines."""
    if report is None or report.snapshot_id != snapshot.id:
        try:
            report = affinity_report(db, snapshot)
        except AffinityError:
            return None
    mine, everyone = report.segment(segment), report.segment(EVERYONE)
    if mine is None or everyone is None or not mine.customers_with_lines:
        return None
    return Affinity(mine, everyone, report.by, report.sources, report.within_days)


def activation_for(brief: Brief, config: BriefConfig) -> Activation | None:
    table = config.activation
    lifecycle = max(brief.numbers.lifecycle_mix.items(), key=lambda kv: kv[1])[0] if brief.numbers.lifecycle_mix else None
    if brief.segment in table.get("segments", {}):
        entry, rule = table["segments"][brief.segment], f'segments."{brief.segment}"'
    elif lifecycle in table.get("lifecycle", {}):
        entry, rule = table["lifecycle"][lifecycle], f'lifecycle."{lifecycle}"'
    elif "default" in table:
        entry, rule = table["default"], "default"
    else:
        return None
    objections = brief.stops or brief.annoyances or brief.complaints
    motivations = brief.why_buy or brief.praise
    values = {
        "segment": brief.segment,
        "top_theme": brief.says[0].label if brief.says and brief.says_significant else None,
        "top_motivation": motivations[0].label if motivations else None,
        "top_objection": objections[0].label if objections else None,
    }
    known = {k: v for k, v in values.items() if v is not None}
    actions = []
    for action in entry.get("actions", []):
        template = Template(str(action))
        # an action built on a finding the data does not have is left out rather than filled with filler
        if all(name in known for name in template.get_identifiers() if name in values):
            actions.append(template.safe_substitute(known))
    return Activation(Template(str(entry.get("title", ""))).safe_substitute(known), actions, rule)


def caveats_for(brief: Brief, report: LinkReport) -> list[str]:
    out: list[str] = []
    cov = report.coverage
    if brief.small and brief.small_reason:
        out.append(f"Too little to say what this segment thinks: {brief.small_reason}.")
    elif brief.feedback_customers < 30:
        out.append(
            f"Only {brief.feedback_customers} of the segment's {brief.numbers.customers} customers left feedback in "
            "this window: a share moves by several points with each answer."
        )
    else:
        out.append(
            f"{brief.feedback_customers} of the segment's {brief.numbers.customers} customers left feedback "
            f"({_pct(brief.feedback_customers / brief.numbers.customers)}); those who answer surveys or write "
            "tickets are not a random sample of the segment."
        )
    if cov.units:
        unlinked = cov.units - cov.scored
        out.append(
            f"{unlinked:,} of {cov.units:,} analysed feedback units ({_pct(unlinked / cov.units)}) are in no segment: "
            f"{cov.anonymous:,} anonymous (e.g. reviews without an email) and {cov.not_scored:,} from customers "
            "without counted orders by the snapshot date."
        )
    if not brief.small and not brief.says_significant and brief.says:
        out.append(
            f"No theme over-indexes in this segment (significant after the correction for multiple comparisons "
            f"and raised by at least {report.min_support} of its customers); 'What they say' lists the most common "
            "themes instead."
        )
    if not brief.small and not brief.sentiment_scored:
        out.append("No mention has a sentiment yet (`insight themes` scores it): what they praise and what annoys "
                   "them across sources is left out; survey questions, tickets and low ratings stand in.")
    if not report.rows:
        out.append("No themes have been computed for this feedback yet (`insight themes`).")
    return out


def method_for(db: sqlite_utils.Database, report: LinkReport, config: BriefConfig) -> Method:
    runs = [
        {"scope": scope, "created_at": created, "model": model, "window": f"{ws}..{we}" if ws else None}
        for scope, created, model, ws, we in db.execute(
            """SELECT scope, created_at, model, window_start, window_end FROM theme_runs r
               WHERE id = (SELECT MAX(id) FROM theme_runs r2 WHERE r2.scope = r.scope) ORDER BY scope"""
        )
    ]
    return Method(
        as_of=report.as_of,
        snapshot_id=report.snapshot_id,
        previous_as_of=report.previous_as_of,
        previous_snapshot_id=report.previous_snapshot_id,
        window=report.window,
        models=sorted({r["model"] for r in runs}),
        theme_runs=runs,
        units=report.coverage.units,
        linked_units=report.coverage.linked,
        scored_units=report.coverage.scored,
        tests=len(report.rows) + len(report.attribute_rows),
        alpha=report.alpha,
        min_expected=report.min_expected,
        templates=config.source,
        min_support=report.min_support,
        prior_customers=report.prior_customers,
        sentiment_units=report.coverage.with_sentiment,
        sentiment_share=config.thresholds["sentiment_share"],
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


# ---------------------------------------------------------------- writing files


def segments_in(db: sqlite_utils.Database, as_of: str | None = None) -> list[str]:
    snapshot = find_snapshot(db, as_of)
    if snapshot is None:
        return []
    names = [s for (s,) in db.execute("SELECT DISTINCT segment FROM rfm_scores WHERE snapshot_id = ?", [snapshot.id])]
    return sorted(names, key=segment_sort_key)
