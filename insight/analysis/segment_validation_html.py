"""The backtest as one self-contained HTML page: inline SVG bars, no JavaScript, nothing fetched.

Per map: each segment's repurchase share at each cut-off as a bar with its Wilson 95% interval as a
whisker, the merge suggestions with their counts, and the predictors' AUC. Every name is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from insight.analysis.segment_validation import SMALL_EFFECT_H, TEST_NAME

BAR_WIDTH = 420
ROW_HEIGHT = 12
LABEL_WIDTH = 170
SHADES = ("#9ecae1", "#4292c6", "#08519c", "#6baed6", "#2171b5", "#084594")

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.merge{background:#fff4d6}svg text{font-size:11px}
.note{color:#555;font-size:.9rem}td.detail{text-align:left;font-size:.8rem;white-space:nowrap}
.wide{overflow-x:auto}.wide td,.wide th{white-space:nowrap;font-size:.8rem}"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def outcome_chart(data: dict[str, Any], index: int) -> str:
    """Horizontal bars: one group per segment, one bar per cut-off, whisker = Wilson 95% interval."""
    cutoffs = data["cutoffs"]
    segments = data["maps"][index]["segments"]
    group = ROW_HEIGHT * len(cutoffs) + 8
    height = group * len(segments) + 40
    width = LABEL_WIDTH + BAR_WIDTH + 110
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="share who bought again per segment and cut-off">']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = LABEL_WIDTH + tick * BAR_WIDTH
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 30}" stroke="#eee"/>'
                     f'<text x="{x:.1f}" y="{height - 18}" text-anchor="middle">{tick:.0%}</text>')
    for i, seg in enumerate(segments):
        top = i * group
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{top + group / 2 + 3:.1f}" text-anchor="end">'
                     f'{escape(seg["name"])}</text>')
        for j, cut in enumerate(cutoffs):
            outcome = cut["maps"][index]["segments"][i]
            y = top + j * ROW_HEIGHT + 2
            if not outcome["customers"]:
                parts.append(f'<text x="{LABEL_WIDTH + 2}" y="{y + 9}" fill="#999">no customers</text>')
                continue
            share = outcome["repurchase"]
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{share * BAR_WIDTH:.1f}" height="{ROW_HEIGHT - 2}" '
                         f'fill="{SHADES[j % len(SHADES)]}"><title>{escape(cut["as_of"])}: {share:.1%} of '
                         f'{outcome["customers"]} bought again</title></rect>')
            low, high = outcome["repurchase_ci"]
            mid = y + (ROW_HEIGHT - 2) / 2
            parts.append(f'<line x1="{LABEL_WIDTH + low * BAR_WIDTH:.1f}" y1="{mid:.1f}" '
                         f'x2="{LABEL_WIDTH + high * BAR_WIDTH:.1f}" y2="{mid:.1f}" stroke="#222"/>')
            parts.append(f'<text x="{LABEL_WIDTH + BAR_WIDTH + 4}" y="{y + 9}">{share:.0%} '
                         f'(n={outcome["customers"]})</text>')
    legend_y = height - 4
    for j, cut in enumerate(cutoffs):
        x = LABEL_WIDTH + j * 120
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{SHADES[j % len(SHADES)]}"/>'
                     f'<text x="{x + 14}" y="{legend_y}">{escape(cut["as_of"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _segment_table(data: dict[str, Any], index: int) -> str:
    rows = []
    for seg in data["maps"][index]["segments"]:
        spread = seg["repurchase_range"]
        rows.append(
            f"<tr><td>{escape(seg['name'])}</td><td>{seg['customers']:,.0f}</td><td>{_pct(seg['repurchase'])}"
            + (f" ({_pct(spread[0])}–{_pct(spread[1])})" if spread else "") + "</td>"
            f"<td>{'' if seg['orders_per_customer'] is None else format(seg['orders_per_customer'], '.2f')}</td>"
            f"<td>{'' if seg['revenue_per_customer'] is None else format(seg['revenue_per_customer'], ',.2f')}</td>"
            f"<td>{_pct(seg['lapsed_share'])}</td></tr>"
        )
    return ("<table><tr><th>segment</th><th>customers (average)</th><th>bought again (range)</th>"
            "<th>orders/customer</th><th>revenue/customer</th><th>lapsed</th></tr>" + "".join(rows) + "</table>")


def _per_cutoff_table(data: dict[str, Any], index: int) -> str:
    """Orders, net revenue (bootstrap 95%) and lapsed share (Wilson 95%) per segment at every cut-off."""
    def cell(value: float | None, ci: list[float] | None, fmt: str) -> str:
        if value is None:
            return "–"
        return format(value, fmt) + ("" if ci is None else f" <small>({format(ci[0], fmt)}–{format(ci[1], fmt)})</small>")

    head = "".join(f"<th colspan=\"3\">{escape(c['as_of'])}</th>" for c in data["cutoffs"])
    sub = "<th>orders</th><th>revenue</th><th>lapsed</th>" * len(data["cutoffs"])
    rows = []
    for i, seg in enumerate(data["maps"][index]["segments"]):
        cells = []
        for cut in data["cutoffs"]:
            o = cut["maps"][index]["segments"][i]
            cells.append(f"<td>{cell(o['orders_per_customer'], o['orders_ci'], '.2f')}</td>"
                         f"<td>{cell(o['revenue_per_customer'], o['revenue_ci'], ',.0f')}</td>"
                         f"<td>{cell(o['lapsed_share'], o['lapsed_ci'], '.0%')}</td>")
        rows.append(f"<tr><td>{escape(seg['name'])}</td>{''.join(cells)}</tr>")
    return (f"<div class=\"wide\"><table><tr><th rowspan=\"2\">segment</th>{head}</tr><tr>{sub}</tr>"
            + "".join(rows) + "</table></div>")


def _pair_table(data: dict[str, Any], index: int) -> str:
    tests: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for cut in data["cutoffs"]:
        for p in cut["maps"][index]["pairs"]:
            tests.setdefault((p["a"], p["b"]), []).append({**p, "as_of": cut["as_of"]})
    rows = []
    pairs = sorted(data["maps"][index]["pairs"], key=lambda p: (not p["suggest_merge"], -p["p_adjusted_max"]))
    for pair in pairs:
        detail = "<br>".join(
            f"{escape(t['as_of'])}: {t['a_repurchased']}/{t['a_customers']} vs {t['b_repurchased']}/"
            f"{t['b_customers']} · h {t['cohens_h']:+.2f} · p {t['p_value']:.3f}, adjusted {t['p_adjusted']:.3f}"
            for t in tests[(pair["a"], pair["b"])]
        )
        verdict = "merge" if pair["suggest_merge"] else "keep apart"
        rows.append(
            f"<tr class=\"{'merge' if pair['suggest_merge'] else ''}\"><td>{escape(pair['a'])} / "
            f"{escape(pair['b'])}</td><td>{pair['difference'] * 100:+.1f} pp</td><td>{pair['cohens_h']:+.2f}</td>"
            f"<td class=\"detail\">{detail}</td><td>{verdict} ({pair['mergeable']}/{pair['tested']})</td></tr>"
        )
    return ("<table><tr><th>pair</th><th>difference</th><th>Cohen's h</th><th>per cut-off: bought again, h, p</th>"
            "<th>suggestion</th></tr>" + "".join(rows) + "</table>")


def _predictor_table(data: dict[str, Any]) -> str:
    head = "".join(f"<th>AUC {escape(c['as_of'])}</th>" for c in data["cutoffs"])
    rows = []
    for i, pred in enumerate(data["predictors"]):
        cells = "".join(f"<td>{_num(c['predictors'][i]['auc'])}</td>" for c in data["cutoffs"])
        rows.append(f"<tr><td>{escape(pred['name'])}</td>{cells}<td>{_num(pred['auc'])}</td>"
                    f"<td>{_num(pred['log_loss'])}</td></tr>")
    return (f"<table><tr><th>predictor</th>{head}<th>AUC average</th><th>log loss average</th></tr>"
            + "".join(rows) + "</table>")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_html(data: dict[str, Any]) -> str:
    horizon = data["horizon_days"]
    cutoffs = ", ".join(escape(c["as_of"]) for c in data["cutoffs"])
    body = [f"<h1>Do the segments predict who buys again?</h1><p>Cut-offs {cutoffs}, each followed for {horizon} "
            f"days; last counted order {escape(data['last_order'])}.</p>"]
    for index, summary in enumerate(data["maps"]):
        body.append(f"<h2>{escape(summary['map'])}</h2><h3>Bought again within {horizon} days</h3>")
        body.append(outcome_chart(data, index))
        body.append(_segment_table(data, index))
        body.append(f"<h3>Per customer in the {horizon} days after each cut-off (95% intervals)</h3>")
        body.append(_per_cutoff_table(data, index))
        body.append("<h3>Merge suggestions (neighbouring segments)</h3>")
        merges = [p for p in summary["pairs"] if p["suggest_merge"]]
        body.append("<p><strong>Suggested merges:</strong> " + ("; ".join(
            f"{escape(p['a'])} + {escape(p['b'])} (alike in {p['mergeable']} of {p['tested']} cut-offs)"
            for p in merges) if merges else "none") + "</p>")
        body.append(f"<p class=\"note\">{escape(TEST_NAME)}. Merge when the adjusted p is above {data['alpha']} and "
                    f"|Cohen's h| &lt; {SMALL_EFFECT_H} in every cut-off where both segments had customers.</p>")
        body.append(_pair_table(data, index))
    body.append("<h2>Predictive power for repurchase</h2>")
    body.append(_predictor_table(data))
    for c in data["comparisons"]:
        if c["auc_gain"] is not None:
            body.append(f"<p>{escape(c['predictor'])} vs {escape(c['baseline'])}: AUC {c['auc_gain']:+.3f} on "
                        f"average, higher in {c['better_in']} of {c['compared']} cut-offs.</p>")
    body.append("<p class=\"note\">Each customer's score is their group's repurchase rate learned on the other "
                "folds (5-fold cross-fitting); AUC 0.5 = no better than chance.</p>")
    for note in data["notes"]:
        body.append(f"<p class=\"note\">Note: {escape(note)}</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Segment backtest</title>"
            f"<style>{_STYLE}</style></head><body>" + "".join(body) + "</body></html>\n")
