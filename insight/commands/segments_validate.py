"""`insight segments validate`: the segment backtest (insight.analysis.segment_validation) as a table, JSON or a page."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table

from insight.analysis.rfm import RfmConfig, RfmError
from insight.analysis.segment_map import SegmentMapError, load_segment_map
from insight.analysis.segment_validation import (
    ALPHA,
    CUTOFF_SPACING_DAYS,
    DEFAULT_CUTOFFS,
    FEW_CUSTOMERS,
    RECENT_FLAG_DAYS,
    SMALL_EFFECT_H,
    TEST_NAME,
    Validation,
    latest_snapshot_rates,
    validate_segments,
)
from insight.commands.common import db_from_context, fail_command, json_option, parse_days, parse_rates
from insight.core.db import open_existing
from insight.output import emit, plain, plain_line


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def payload(validation: Validation, rates_from: str | None) -> dict[str, Any]:
    data = asdict(validation)
    return {
        "ok": True,
        **data,
        "method": {
            "test": TEST_NAME,
            "merge_rule": f"adjusted p > alpha ({validation.alpha}) and |Cohen's h| < {SMALL_EFFECT_H}, "
                          "in every cut-off where both segments had customers",
            "pairs": "segments one score step apart on the R x F (x M) grid",
            "repurchase": "at least one counted order (counts_for_rfm = 1) in (cut-off, cut-off + horizon]",
            "lapsed": "no counted order for more than the map's lapsed_days at the end of the horizon",
            "intervals": "repurchase and lapsed: Wilson 95%; orders and revenue per customer: bootstrap 95%",
            "predictive_power": "AUC and log loss of each customer's group repurchase rate learned on the other "
                                "folds (5-fold cross-fitting), averaged over cut-offs",
            "recent_flag_days": RECENT_FLAG_DAYS,
            "cutoff_spacing_days": CUTOFF_SPACING_DAYS,
            "few_customers": FEW_CUSTOMERS,
            "rates_from": rates_from,
        },
    }


def _table(title: str, caption: str | None = None) -> Table:
    """Borderless and tightly padded: the backtest tables fit an 80-column terminal."""
    return Table(title=plain_line(title), caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
                 pad_edge=False, title_justify="left", caption_justify="left")


def _ci(value: float | None, pair: list[float] | None, fmt: str) -> str:
    if value is None:
        return "-"
    return fmt.format(value) + ("" if pair is None else f" ({fmt.format(pair[0])}-{fmt.format(pair[1])})")


def render(console: Console, data: dict[str, Any]) -> None:
    cutoffs = data["cutoffs"]
    horizon = data["horizon_days"]
    latest = cutoffs[-1]
    console.print(plain_line(
        f"Segment backtest: {len(cutoffs)} cut-off(s), {', '.join(c['as_of'] for c in cutoffs)}, each followed "
        f"for {horizon} days (last counted order {data['last_order']})."))
    for index, summary in enumerate(data["maps"]):
        name = summary["map"]
        table = _table(f"Bought again within {horizon} days, share (Wilson 95% CI) — {name}")
        table.add_column("segment", no_wrap=True)
        for cut in cutoffs:
            table.add_column(cut["as_of"], justify="right", no_wrap=True)
        table.add_column("average (range)", justify="right", no_wrap=True)
        for i, seg in enumerate(summary["segments"]):
            cells = []
            for cut in cutoffs:
                outcome = cut["maps"][index]["segments"][i]
                ci = outcome["repurchase_ci"]
                cells.append(f"{outcome['repurchase']:.0%} ({ci[0] * 100:.0f}-{ci[1] * 100:.0f})"
                             if outcome["customers"] else "-")
            spread = seg["repurchase_range"]
            table.add_row(plain_line(seg["name"]), *cells,
                          "-" if spread is None else f"{_pct(seg['repurchase'])} ({spread[0] * 100:.0f}-"
                                                     f"{spread[1] * 100:.0f})")
        console.print(table)
        money = f" {data['currency']}" if data["currency"] else ""
        detail = _table(f"Per customer in the {horizon} days after {latest['as_of']} (95% CI) — {name}",
                        "orders and revenue: bootstrap intervals; lapsed: no counted order for more than the "
                        "map's lapsed days at the horizon's end (Wilson)")
        for column in ("segment", "n", "orders", f"net revenue{money}", "lapsed"):
            detail.add_column(column, justify="left" if column == "segment" else "right", no_wrap=True)
        for outcome in latest["maps"][index]["segments"]:
            n = outcome["customers"]
            lapsed_ci = outcome["lapsed_ci"]
            detail.add_row(plain_line(outcome["name"]), f"{n:,}",
                           _ci(outcome["orders_per_customer"], outcome["orders_ci"], "{:.2f}"),
                           _ci(outcome["revenue_per_customer"], outcome["revenue_ci"], "{:,.0f}"),
                           "-" if not n else f"{outcome['lapsed_share']:.0%} ({lapsed_ci[0] * 100:.0f}-"
                                             f"{lapsed_ci[1] * 100:.0f})")
        console.print(detail)
        pairs = _table(f"Neighbouring segments: does repurchase differ? — {name}",
                       f"{TEST_NAME}. Rebought: customers who bought again / customers, summed over the "
                       f"cut-offs; diff (percentage points) and Cohen's h averaged; adj. p: lowest-highest. "
                       f"Merge: adjusted p > {data['alpha']} and |h| < {SMALL_EFFECT_H} in every cut-off "
                       f"((k/n) = cut-offs alike / tested). * a segment had fewer than {FEW_CUSTOMERS} customers.")
        for column in ("pair", "rebought", "diff pp", "h", "adj. p", "suggestion"):
            pairs.add_column(column, justify="left" if column in ("pair", "suggestion") else "right", no_wrap=True)
        counts = _pair_counts(cutoffs, index)
        for pair in sorted(summary["pairs"], key=lambda p: (not p["suggest_merge"], -p["p_adjusted_max"])):
            k_a, n_a, k_b, n_b = counts[(pair["a"], pair["b"])]
            p_range = (f"{pair['p_adjusted_min']:.2f}" if pair["tested"] == 1
                       else f"{pair['p_adjusted_min']:.2f}-{pair['p_adjusted_max']:.2f}")
            verdict = f"{'merge' if pair['suggest_merge'] else 'keep'} ({pair['mergeable']}/{pair['tested']})"
            pairs.add_row(plain(f"{pair['a']}\nvs {pair['b']}" + (" *" if pair["few_customers"] else "")),
                          f"{k_a}/{n_a}\nvs {k_b}/{n_b}", f"{pair['difference'] * 100:+.1f}",
                          f"{pair['cohens_h']:+.2f}", p_range, verdict)
        console.print(pairs)
        merges = [f"{p['a']} + {p['b']}" for p in summary["pairs"] if p["suggest_merge"]]
        console.print(plain_line(f"Suggested merges ({name}): " + ("; ".join(merges) if merges else "none")),
                      soft_wrap=True)
    predictors = _table(f"Predicting who buys again within {horizon} days: AUC per cut-off (cross-fitted rates)",
                        "AUC: 0.5 = chance, 1 = perfect; log loss (average): lower is better.")
    predictors.add_column("predictor", no_wrap=True)
    for cut in cutoffs:
        predictors.add_column(cut["as_of"], justify="right", no_wrap=True)
    predictors.add_column("AUC avg", justify="right")
    predictors.add_column("log loss", justify="right")
    for i, pred in enumerate(data["predictors"]):
        cells = [_num(cut["predictors"][i]["auc"]) for cut in cutoffs]
        predictors.add_row(plain_line(pred["name"]), *cells, _num(pred["auc"]), _num(pred["log_loss"]))
    console.print(predictors)
    for c in data["comparisons"]:
        if c["auc_gain"] is not None:
            console.print(plain_line(f"{c['predictor']} vs {c['baseline']}: AUC {c['auc_gain']:+.3f} on average, "
                                     f"higher in {c['better_in']} of {c['compared']} cut-offs"))
    for note in data["notes"]:
        console.print(plain_line(f"Note: {note}"))
    if data["method"]["rates_from"]:
        console.print(plain_line(data["method"]["rates_from"]))


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _pair_counts(cutoffs: list[dict[str, Any]], index: int) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """Repurchase counts of each pair summed over cut-offs (customer-periods)."""
    out: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for cut in cutoffs:
        for p in cut["maps"][index]["pairs"]:
            k_a, n_a, k_b, n_b = out.get((p["a"], p["b"]), (0, 0, 0, 0))
            out[(p["a"], p["b"])] = (k_a + p["a_repurchased"], n_a + p["a_customers"], k_b + p["b_repurchased"],
                                     n_b + p["b_customers"])
    return out


@click.command("validate")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The latest cut-off (default: the horizon before the last counted order).")
@click.option("--horizon", "horizon", default="90d", show_default=True,
              help="How long to follow customers after each cut-off (90d, 13w).")
@click.option("--cutoffs", "cutoffs", type=click.IntRange(min=1, max=36), default=DEFAULT_CUTOFFS, show_default=True,
              help=f"How many cut-offs, {CUTOFF_SPACING_DAYS} days apart, ending at the latest.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also validate this segment map (TOML, as `insight segments --map`), side by side.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=ALPHA, show_default=True,
              help="Significance level after Benjamini-Hochberg.")
@click.option("--rate", "rates", multiple=True, metavar="CUR=RATE",
              help="Exchange rate into the report currency (default: the latest snapshot's rates).")
@click.option("--currency", default=None, help="Report currency (default: the latest snapshot's).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained page with the outcome chart and merge suggestions.")
@json_option
@click.pass_context
def validate(ctx, as_of, horizon, cutoffs, map_path, alpha, rates, currency, html_path, as_json) -> None:
    """Backtest the segments: do they tell apart who buys again?

    \b
    For past cut-off dates the customers are scored from the orders alone (nothing is stored) and each
    segment is followed over the horizon: share who bought again (Wilson 95% CI), orders and net revenue
    per customer (bootstrap 95% CI), share lapsed. Neighbouring segments on the R x F grid are compared
    on repurchase (Fisher's exact test, Benjamini-Hochberg); pairs that do not differ, with a small effect
    (|Cohen's h| < 0.2), in every cut-off are suggested for merging. Segments are compared with lifecycle
    stage alone and a "bought in the last 90 days" flag as predictors of repurchase (AUC, log loss).
    Excluded orders (cancelled, test, refunded...) are no repurchase.
    """
    days = parse_days(horizon, "--horizon", "90d or 13w", minimum=1)
    db = open_existing(db_from_context(ctx))
    rates_from = None
    given = parse_rates(rates)
    if not given and currency is None:
        stored = latest_snapshot_rates(db)
        given, currency, rates_from = stored.rates, stored.currency, stored.note
    try:
        maps = [load_segment_map(None)]
        if map_path is not None:
            maps.append(load_segment_map(map_path))
    except SegmentMapError as exc:
        fail_command(str(exc), as_json)
    try:
        result = validate_segments(db, horizon_days=days, cutoffs=cutoffs, as_of=as_of.date() if as_of else None,
                                   maps=maps, config=RfmConfig(rates=given, currency=currency), alpha=alpha)
    except RfmError as exc:
        fail_command(str(exc), as_json)
    data = payload(result, rates_from)
    if html_path is not None:
        from insight.analysis.segment_validation_html import render_html

        try:
            html_path.write_text(render_html(data), encoding="utf-8")
        except OSError as exc:
            fail_command(f"{html_path}: cannot write the page: {exc.strerror or exc}", as_json)
        data["html"] = str(html_path)
    emit(data, as_json, lambda console: _render_with_page(console, data))


def _render_with_page(console: Console, data: dict[str, Any]) -> None:
    render(console, data)
    if data.get("html"):
        console.print(plain_line(f"Wrote {data['html']}"))


COMMANDS = [validate]
