"""Briefs as Markdown or as one self-contained HTML file.

The brief is first laid out as a few plain blocks (headings, paragraphs, lists, quotes) made of text
spans; the Markdown and HTML writers only translate those, escaping every span, so what customers wrote
can never turn into markup. The HTML page is a string.Template (`brief.html`) a user may replace.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import sqlite_utils

from insight.analysis.affinity import AffinityError, affinity_report
from insight.analysis.brief import (
    DEFAULT_TEMPLATES,
    Affinity,
    Brief,
    BriefQuote,
    ThemeFinding,
    build_brief,
    segments_in,
    slug,
)
from insight.analysis.links import MIN_SUPPORT, compute_links, find_snapshot, no_snapshot_message
from insight.core.errors import InsightError, InvalidValue
from insight.core.safe_text import printable


@dataclass(frozen=True)
class Span:
    text: str
    style: str = ""  # "" | "b" (bold) | "i" (italic)


Line = list[Span]


@dataclass
class Block:
    kind: str  # h1 | h2 | h3 | p | ul | quote | bars
    lines: list[Line] = field(default_factory=list)  # p, h*: one line; ul: one per item; quote: text, citation
    # bars: (label, the segment's share, everyone's share) per row, drawn as an inline SVG chart in HTML only
    bars: list[tuple[str, float, float]] = field(default_factory=list)
    chart: str = "categories"  # what the bars count: a key of CHART_TITLES


def _p(*spans: Span | str) -> Block:
    return Block("p", [[s if isinstance(s, Span) else Span(s) for s in spans]])


def _h(level: int, text: str) -> Block:
    return Block(f"h{level}", [[Span(text)]])


def _ul(items: list[Line]) -> Block:
    return Block("ul", items)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _money(value: float | None, currency: str | None) -> str:
    if value is None:
        return "n/a"
    return f"{currency + ' ' if currency else ''}{value:,.2f}"


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return text + unit


# ---------------------------------------------------------------- layout


@dataclass
class Shown:
    """What the brief has quoted so far: a later section refers back instead of repeating it."""

    themes: set[tuple[int, str | None]] = field(default_factory=set)  # (theme, the sentiment its quotes had)
    units: set[int] = field(default_factory=set)


def layout(brief: Brief) -> list[Block]:
    quoted = Shown()
    blocks = [_h(1, f"{brief.segment}: persona brief"), _p(Span(_subtitle(brief), "i"))]
    blocks += _summary(brief)
    blocks += _who(brief)
    if brief.small:
        blocks += [
            _h(2, "What they say"),
            _p(
                f"Not enough to go on: {brief.small_reason}. Themes and quotes are left out rather than read "
                "into a handful of answers; this brief stops at the numbers.",
            ),
        ]
    else:
        blocks += _says(brief, quoted)
        blocks += _arrivals(brief)
        blocks += _why_buy(brief, quoted)
        blocks += _stops(brief, quoted)
        blocks += _attributes(brief)
        blocks += _activation(brief)
        blocks += _reach_by_purchase(brief)
    blocks.append(_h(2, "Data caveats"))
    blocks.append(_ul([[Span(c)] for c in brief.caveats]))
    blocks += _method(brief)
    return blocks


def _subtitle(brief: Brief) -> str:
    window = f"feedback window {brief.window}" if brief.window else "all feedback"
    return f"RFM snapshot as of {brief.as_of} (#{brief.snapshot_id}) · {window}"


def _summary(brief: Brief) -> list[Block]:
    """The three lines a reader takes away: what sets the segment apart, what it praises, what annoys it."""
    if not brief.summary:
        return []
    return [_ul([[Span(f"{line.lead}: ", "b"), Span(line.text)] for line in brief.summary])]


def _who(brief: Brief) -> list[Block]:
    n = brief.numbers
    items: list[Line] = [
        [Span(f"{n.customers:,} customers", "b"), Span(f": {_pct(n.share_of_customers)} of the {n.all_customers:,} "
                                                        f"scored customers, {_pct(n.share_of_revenue)} of revenue "
                                                        f"({_money(n.revenue, n.currency)}).")],
        [Span(f"Median recency {_num(n.median_recency_days, ' days')} · median {_num(n.median_frequency)} "
              f"order{'' if n.median_frequency == 1 else 's'} · "
              f"median order value {_money(n.median_order_value, n.currency)}.")],
    ]
    if n.lifecycle_mix:
        mix = ", ".join(f"{stage} {count:,} ({_pct(count / n.customers)})" for stage, count in n.lifecycle_mix.items())
        items.append([Span(f"Lifecycle: {mix}.")])
    if n.previous_customers is not None:
        change = n.customers - n.previous_customers
        trend = f"Since the snapshot of {n.previous_as_of}: {n.previous_customers:,} → {n.customers:,} ({change:+,})"
        parts = []
        if n.newly_scored:
            parts.append(f"{n.newly_scored} placed their first order since")
        if n.moved_in:
            parts.append("came from " + ", ".join(f"{s} ({c})" for s, c in n.moved_in[:3]))
        if n.moved_out:
            parts.append("left for " + ", ".join(f"{s} ({c})" for s, c in n.moved_out[:3]))
        items.append([Span(trend + ("; " + "; ".join(parts) if parts else "") + ".")])
    else:
        items.append([Span("No earlier snapshot to compare with (run `insight segments --as-of` for an earlier date).")])
    items.append([Span(f"{brief.feedback_customers:,} of them left feedback that could be linked in this window.")])
    return [_h(2, "Who they are"), _ul(items)] + _what_they_buy(brief.affinity)


# ---------------------------------------------------------------- what they buy (insight.analysis.affinity)

_SOURCE_WORDS = {"map": "your SKU map", "export": "the export", "product name": "product names"}


def _what_they_buy(a: Affinity | None) -> list[Block]:
    """Category mix, single-category share and cadence: order lines, under 'Who they are'."""
    if a is None:
        return []
    seg, everyone = a.segment, a.everyone
    noun = {"category": "categories", "vendor": "vendors", "product": "products"}[a.by]
    where = ", ".join(f"{_SOURCE_WORDS.get(k, k)} ({v:,} lines)" for k, v in a.sources.items())
    top = seg.mix[:5]
    mix = "; ".join(f"{c.category} {_pct(c.customer_share)} of them (all customers {_pct(c.everyone_share)}), "
                    f"{_pct(c.revenue_share)} of their line revenue" for c in top)
    items: list[Line] = [
        [Span("What they buy: ", "b"), Span(f"{mix}" + (f"; {len(seg.mix) - len(top)} more {noun}" if len(seg.mix) > len(top)
                                                         else "") + ".")],
    ]
    single = (f"{seg.single_category:,} of the {seg.customers_with_lines:,} with order lines "
              f"({_pct(seg.single_category_share)}; all customers {_pct(everyone.single_category_share)}) only ever "
              f"bought from one of the {noun}")
    if seg.single_category_top:
        single += ", most often " + ", ".join(f"{c} ({k:,})" for c, k in seg.single_category_top)
    items.append([Span("Single-category: ", "b"), Span(single + ".")])
    if seg.median_cadence_days is not None:
        items.append([Span("Cadence: ", "b"), Span(
            f"{seg.customers_with_cadence:,} of them bought the same product again; median "
            f"{_num(seg.median_cadence_days, ' days')} between those orders (all customers "
            f"{_num(everyone.median_cadence_days, ' days')}).")])
    else:
        items.append([Span("Cadence: ", "b"), Span("none of them has bought the same product twice.")])
    blocks = [_ul(items)]
    if top:
        blocks.append(Block("bars", bars=[(c.category, c.customer_share, c.everyone_share) for c in seg.mix[:8]]))
    blocks.append(_p(Span(f"From order lines (orders counted as in the RFM snapshot); {noun} from {where}. "
                          "`insight segments affinity` has the full table.", "i")))
    return blocks


def _reach_by_purchase(brief: Brief) -> list[Block]:
    """Who is due to reorder, and which second category their purchases point to: under 'How to reach them'."""
    a = brief.affinity
    if a is None:
        return []
    seg = a.segment
    items: list[Line] = []
    if seg.due or seg.overdue:
        items.append([Span("Due to reorder: ", "b"), Span(
            f"{seg.due:,} of them are due to reorder a product within {a.within_days} days, going by their own "
            f"cadence" + (f"; {seg.overdue:,} more were due in the {a.within_days} days before and have not "
                          "reordered" if seg.overdue else "")
            + f" (list: `insight segments due --segment \"{brief.segment}\" --within {a.within_days}d`).")])
    if seg.late:
        items.append([Span("Past their reorder date: ", "b"), Span(
            f"{seg.late:,} of them used to reorder a product and are now more than {a.within_days} days past the "
            f"date their own cadence gave (median {_num(seg.median_days_late, ' days')} past it): a win-back can "
            "name the product they used to reorder.")])
    for pair in [p for p in seg.pairs if p.lift > 1][:2]:
        lead, other, conf = ((pair.a, pair.b, pair.confidence_ab) if pair.confidence_ab >= pair.confidence_ba
                             else (pair.b, pair.a, pair.confidence_ba))
        items.append([Span("Bought together: ", "b"), Span(
            f"{_pct(conf)} of their {lead} buyers also bought {other} ({pair.customers:,} customers, "
            f"{pair.lift:.1f}× what chance would give): {other} is the natural next step for the other {lead} "
            "buyers.")])
    if seg.single_category_top and seg.single_category_share >= 0.25:
        stay, count = seg.single_category_top[0]
        items.append([Span("One category only: ", "b"), Span(
            f"{count:,} of them have only ever bought {stay}: messages about the rest of the range suit them "
            "better than more of the same.")])
    if not items:
        return []
    heading = [] if brief.activation is not None else [_h(2, "How to reach them")]
    return heading + [_p(Span("From what they buy (order lines, not feedback):", "b")), _ul(items)]


THEME_BARS = 8


def _says(brief: Brief, quoted: Shown) -> list[Block]:
    blocks = [_h(2, "What they say")]
    if not brief.says:
        return blocks + [_p("No theme was raised by enough of this segment's customers to report.")]
    support = brief.method.min_support if brief.method else 5
    if brief.says_significant:
        blocks.append(_p("Themes this segment raises more than other customers do, most distinctive first "
                         "(customers counted once each; significant after the Benjamini-Hochberg correction and "
                         f"raised by at least {support} of them)."))
    else:
        blocks.append(_p(f"No theme over-indexes in this segment (significant and raised by at least {support} of its "
                         "customers); these are the themes most of its customers raised, with how they compare to "
                         "everyone else."))
    shares = [(t.label, t.share, t.overall_share) for t in brief.says[:THEME_BARS] if t.overall_share is not None]
    if shares:
        blocks.append(Block("bars", bars=shares, chart="themes"))
    for index, theme in enumerate(brief.says, 1):
        blocks += _theme(theme, quoted, index)
    return blocks


def _theme(theme: ThemeFinding, quoted: Shown, index: int | None = None) -> list[Block]:
    title = f"{index}. {theme.label}" if index else theme.label
    stats = f"{theme.customers} of {theme.segment_customers} customers ({_pct(theme.share)})"
    if theme.lift is not None:
        stats += f", {theme.lift:.1f}× the share among all customers"
    if theme.q_value is not None:
        stats += f", q = {theme.q_value:.3g}" + ("" if theme.significant else " (not significant)")
    if theme.score is not None:
        stats += f", distinctiveness z = {round(theme.score, 1) + 0.0:.1f}" + (" (over-indexed)" if theme.over_indexed
                                                                               else "")
    if theme.sentiment == "positive":
        stats += f"; {theme.positive_customers} with praise ({theme.positive} of {theme.mentions} mentions positive)"
    elif theme.sentiment == "negative":
        stats += (f"; {theme.negative_customers} with a complaint ({theme.negative} of {theme.mentions} mentions "
                  "negative)")
    where = [Span(" · " + theme.family)] if theme.family else []
    blocks = [_h(3, title), _p(Span(stats + " · "), Span(theme.scope, "i"), *where)]
    fresh = [q for q in theme.quotes if q.unit_id not in quoted.units]
    if theme.quotes and ((theme.theme_id, theme.sentiment) in quoted.themes or not fresh):
        return blocks + [_p(Span("Phrases and quotes: see above.", "i"))]
    first_time = all(t != theme.theme_id for t, _ in quoted.themes)
    quoted.themes.add((theme.theme_id, theme.sentiment))
    quoted.units.update(q.unit_id for q in fresh)
    if theme.phrases and first_time:
        blocks.append(_p(Span("Recurring phrases (all customers): ", "b"), Span("; ".join(f"“{p}”" for p in theme.phrases))))
    for quote in fresh:
        blocks.append(Block("quote", [[Span(quote.text)], [Span(_citation(quote))]]))
    return blocks


def _arrivals(brief: Brief) -> list[Block]:
    if not brief.arrivals:
        return []
    previous = brief.method.previous_as_of if brief.method else None
    items: list[Line] = []
    for t in brief.arrivals:
        baseline = (f"{_pct(t.baseline_share)} of the {t.stayers_with_feedback} who stayed {t.from_segment}"
                    if t.baseline_share is not None else f"nobody stayed {t.from_segment}")
        items.append([Span(f"From {t.from_segment} ({t.movers} moved, {t.movers_with_feedback} with feedback): ", "b"),
                      Span(f"{t.theme_label}: {t.customers} ({_pct(t.share)}) vs {baseline}"),
                      Span(f" · {t.scope}", "i")])
    return [
        _h(2, "What movers said before arriving"),
        _p(f"Customers who moved into {brief.segment} since the snapshot of {previous}, and the themes they raised "
           "in feedback dated before this snapshot more often than those who stayed where they were "
           "(descriptive: no test; small groups)."),
        _ul(items),
    ]


def _citation(quote: BriefQuote) -> str:
    parts = [f"{quote.source} {quote.document_id}"]
    if quote.created_at:
        parts.append(quote.created_at[:10])
    if quote.rating is not None:
        parts.append(f"rated {quote.rating:g}/5")
    return ", ".join(parts)


def _why_buy(brief: Brief, quoted: Shown) -> list[Block]:
    blocks = [_h(2, "Why they buy")]
    if not brief.why_buy and not brief.praise:
        blocks.append(_p("No motivation question ('What made you buy…?') with themes answered by this segment in "
                         "this window" + (", and none of its themes has mostly positive mentions from it."
                                          if brief.sentiment_scored else "; mentions have no sentiment yet.")))
    blocks += _titled("Asked why they bought (motivation questions)", brief.why_buy, quoted)
    blocks += _titled("What they praise (mostly positive mentions, every source)", brief.praise, quoted)
    if brief.general_praise:
        blocks.append(_p(Span(f"{brief.general_praise} of them also left general praise (“love it”, “great "
                              "product”): kept out of the findings, it says nothing about why.", "i")))
    return blocks


def _stops(brief: Brief, quoted: Shown) -> list[Block]:
    blocks = [_h(2, "What stops or annoys them")]
    if not brief.stops and not brief.complaints and not brief.annoyances:
        return blocks + [_p("No objection-question, negative, ticket or low-rated review themes from this segment "
                            "in this window.")]
    blocks += _titled("Before buying (objection questions)", brief.stops, quoted)
    blocks += _titled("What annoys them (mostly negative mentions, every source)", brief.annoyances, quoted)
    blocks += _titled("After buying (support tickets, low-rated reviews)", brief.complaints, quoted)
    return blocks


def _titled(title: str, themes: list[ThemeFinding], quoted: Shown) -> list[Block]:
    """A bold line naming where the themes come from, then each theme; nothing when there are none."""
    blocks: list[Block] = [_p(Span(title, "b"))] if themes else []
    for theme in themes:
        blocks += _theme(theme, quoted)
    return blocks


def _attributes(brief: Brief) -> list[Block]:
    if not brief.attributes:
        return []
    items: list[Line] = []
    for a in brief.attributes:
        line = [Span(a.name, "b"), Span(f" {a.value}: {a.customers} of {a.segment_customers} "
                                         f"({_pct(a.share)}; all customers {_pct(a.overall_share)})")]
        if a.over_indexed:
            line.append(Span(f" · over-indexes, {a.lift:.1f}×, q = {a.q_value:.3g}", "i"))
        items.append(line)
    return [_h(2, "Survey answers"), _ul(items)]


def _activation(brief: Brief) -> list[Block]:
    if brief.activation is None:
        return []
    return [
        _h(2, f"How to reach them: {brief.activation.title}"),
        _ul([[Span(a)] for a in brief.activation.actions]),
        _p(Span(f"Rule-based suggestion ({brief.activation.rule} in activation.toml), not a finding.", "i")),
    ]


def _method(brief: Brief) -> list[Block]:
    m = brief.method
    if m is None:
        return []
    items: list[Line] = [
        [Span(f"RFM snapshot #{m.snapshot_id} as of {m.as_of}"
              + (f"; compared with #{m.previous_snapshot_id} as of {m.previous_as_of}." if m.previous_as_of else "."))],
        [Span(f"Feedback window: {m.window or 'all imported feedback'}. {m.units:,} analysed units, "
              f"{m.linked_units:,} linked to a customer, {m.scored_units:,} to a scored customer.")],
        [Span(f"Themes: {', '.join(m.models) or 'none computed yet'}"
              + (f"; latest runs {', '.join(sorted({r['created_at'][:10] for r in m.theme_runs}))}." if m.theme_runs
                 else "."))],
        [Span("Statistics: per segment × theme, customers (not units) who raised the theme vs the segment's other "
              "customers with feedback in the same scope, against all other segments; one-sided Fisher's exact test, "
              f"or chi-square when every expected count is ≥ {m.min_expected:g}; Benjamini-Hochberg over "
              f"{m.tests:,} tests, significant at q ≤ {m.alpha:g} with lift > 1. Over-indexed: significant and "
              f"raised by at least {m.min_support} of the segment's customers. Themes are ranked by "
              "distinctiveness, the z-score of the log-odds ratio with an informative prior (Monroe et al. 2008), "
              f"{m.prior_customers:g} pseudo-customers per group at the pooled share, so a few customers cannot top "
              "the list.")],
        [Span(f"Sentiment: {m.sentiment_units:,} mentions scored; a theme is praise (an annoyance) for the segment "
              f"when at least {_pct(m.sentiment_share)} of the segment's mentions in it are positive (negative). "
              "General themes (“love it”) are never a finding." if m.sentiment_units
              else "Sentiment: not scored yet (`insight themes`).")],
        [Span("Quotes are PII-redacted unit text, cited as source and document id; activation suggestions come "
              f"from the {m.templates} templates.")],
    ]
    return [_h(2, "How this was computed"), _ul(items)]


# ---------------------------------------------------------------- writers

# Characters that could start markup inside a line (a line never begins with customer text).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<])")


def _md_text(text: str) -> str:
    """Customer words on one line, their markup escaped and terminal control (ESC, BEL, OSC) removed: a
    brief is read with `cat` and `less` too."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(printable(text).split()))


def _md_span(span: Span) -> str:
    """Emphasis markers hug the words; the span's outer spaces stay outside them."""
    body = _md_text(span.text)
    mark = {"b": "**", "i": "*"}.get(span.style, "") if body else ""
    lead = " " if span.text[:1].isspace() else ""
    trail = " " if span.text[-1:].isspace() and body else ""
    return f"{lead}{mark}{body}{mark}{trail}"


def _md_line(line: Line) -> str:
    return "".join(_md_span(span) for span in line)


def render_markdown(brief: Brief) -> str:
    parts: list[str] = []
    for block in layout(brief):
        if block.kind.startswith("h"):
            parts.append("#" * int(block.kind[1]) + " " + _md_line(block.lines[0]))
        elif block.kind == "p":
            parts.append(_md_line(block.lines[0]))
        elif block.kind == "ul":
            parts.append("\n".join("- " + _md_line(line) for line in block.lines))
        elif block.kind == "quote":
            parts.append(f"> “{_md_line(block.lines[0])}”  \n> — {_md_line(block.lines[1])}")
    return "\n\n".join(parts) + "\n"


def _html_line(line: Line) -> str:
    out = []
    for span in line:
        text = html.escape(printable(span.text), quote=True)
        tag = {"b": "strong", "i": "em"}.get(span.style)
        out.append(f"<{tag}>{text}</{tag}>" if tag else text)
    return "".join(out)


def render_html(brief: Brief, templates: Path | None = None) -> str:
    body: list[str] = []
    for block in layout(brief):
        if block.kind.startswith("h"):
            body.append(f"<{block.kind}>{_html_line(block.lines[0])}</{block.kind}>")
        elif block.kind == "p":
            body.append(f"<p>{_html_line(block.lines[0])}</p>")
        elif block.kind == "ul":
            body.append("<ul>\n" + "\n".join(f"  <li>{_html_line(line)}</li>" for line in block.lines) + "\n</ul>")
        elif block.kind == "quote":
            body.append(f"<blockquote><p>“{_html_line(block.lines[0])}”</p>"
                        f"<footer>{_html_line(block.lines[1])}</footer></blockquote>")
        elif block.kind == "bars":
            body.append(svg_bars(block.bars, block.chart))
    page = _html_template(templates)
    return page.safe_substitute(
        title=html.escape(f"{brief.segment}: persona brief"),
        segment=html.escape(brief.segment),
        body="\n".join(body),
    )


CHART_TITLES = {  # what a chart's bars are shares of, its <title> (read out by screen readers, shown on hover)
    "categories": "Share of the segment's customers who bought each category (dark) and of all customers (light)",
    "themes": "Share of the segment's customers with feedback in each theme's scope who raised the theme (dark) "
              "and of all customers with feedback there (light)",
}


def svg_bars(rows: list[tuple[str, float, float]], chart: str = "categories", width: int = 560) -> str:
    """A small inline SVG bar chart: per row the segment's share (dark bar) over everyone's (light bar), on a
    0-100% scale; `chart` names what they are shares of (CHART_TITLES). No script, no font or image to load;
    every label is escaped text."""
    label_w, value_w, row_h = 190, 90, 26
    bar_w = width - label_w - value_w
    height = row_h * len(rows) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars {chart}" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="13">',
             f"<title>{html.escape(CHART_TITLES[chart])}</title>"]
    for i, (label, share, everyone) in enumerate(rows):
        y = 6 + i * row_h
        text = html.escape(printable(label if len(label) <= 26 else label[:25] + "…"), quote=True)
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" fill="#1f2933">{text}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w * min(share, 1):.1f}" height="12" fill="#3e6b8a"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 15}" width="{bar_w * min(everyone, 1):.1f}" height="5" '
                     'fill="#b8c7d6"/>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 13}" fill="#52606d">{100 * share:.0f}% '
                     f'({100 * everyone:.0f}%)</text>')
    parts.append(f'<text x="{label_w}" y="{height - 4}" fill="#52606d" font-size="11">dark: this segment · light: '
                 "all customers</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _html_template(templates: Path | None) -> Template:
    custom = templates / "brief.html" if templates else None
    path = custom if custom is not None and custom.exists() else DEFAULT_TEMPLATES / "brief.html"
    return Template(path.read_text(encoding="utf-8"))


def render(brief: Brief, fmt: str, templates: Path | None = None) -> str:
    if fmt == "html":
        return render_html(brief, templates)
    if fmt == "md":
        return render_markdown(brief)
    raise InvalidValue(f"format {fmt!r}: expected md or html")


# ---------------------------------------------------------------- files


def write_briefs(
    db: sqlite_utils.Database,
    segments: list[str] | None,
    fmt: str,
    out_dir: Path,
    *,
    as_of: str | None = None,
    window: str | None = None,
    templates: Path | None = None,
    min_support: int | None = None,
) -> list[Path]:
    """One file per segment (all segments of the snapshot when `segments` is None); returns the paths."""
    if fmt not in ("md", "html"):
        raise InvalidValue(f"format {fmt!r}: expected md or html")
    names = segments if segments is not None else segments_in(db, as_of)
    if not names:
        raise InsightError(no_snapshot_message(as_of))
    report = compute_links(db, as_of=as_of, window=window,
                           min_support=MIN_SUPPORT if min_support is None else min_support)
    snapshot = find_snapshot(db, as_of)
    try:
        bought = affinity_report(db, snapshot) if snapshot is not None else None
    except AffinityError:
        bought = None
    briefs = [build_brief(db, n, as_of=as_of, window=window, templates=templates, report=report, affinity=bought)
              for n in names]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for brief in briefs:
        path = out_dir / f"{slug(brief.segment)}.{fmt}"
        path.write_text(render(brief, fmt, templates), encoding="utf-8")
        paths.append(path)
    return paths
