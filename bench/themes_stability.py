"""How stable theme ids are, at both levels, on the bundled sample: prints the share of ids kept.

Starts from a database the demo built (`insight --db DB demo --no-tui`), copied so it is left alone, with its
themes cleared. Then, per scope:
- seeds: themes with random_state 42 (the default), then again with random_state 7: the share of the first
  run's sub-themes and parents that are still active, under the same id, after the second;
- windows: themes over the first 30-day window only, then over the next window: the share of the first
  window's sub-themes and parents that keep their id in the second.
A theme keeps its id when its centroid matches (sub-themes, cosine >= 0.8) or it holds most of the same
sub-themes (parents); see insight/analysis/themes.py and insight/analysis/theme_tree.py.

    .venv/bin/python bench/themes_stability.py --db /tmp/demo/insight.db
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insight.analysis.cluster import ClusterParams  # noqa: E402
from insight.analysis.embed import load_embedder  # noqa: E402
from insight.analysis.nlp import cached_pipeline  # noqa: E402
from insight.analysis.sentiment import scorer_for  # noqa: E402
from insight.analysis.themes import ThemeRunSummary, run_themes  # noqa: E402
from insight.core.db import open_db, transaction  # noqa: E402

THEME_TABLES = ("unit_themes", "theme_prevalence", "theme_edits", "themes", "theme_runs")


def fresh_copy(source: Path, folder: Path, name: str) -> Path:
    """A consistent copy (SQLite's backup API: the source may be in WAL mode) without its themes."""
    target = folder / name
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    db = open_db(target)
    with transaction(db):
        for table in THEME_TABLES:
            db.conn.execute(f"DELETE FROM {table}")
    db.conn.close()
    return target


def kept(first: list[ThemeRunSummary], second: list[ThemeRunSummary]) -> dict[str, tuple[int, int]]:
    """Per level: (ids of the first run still there after the second, ids of the first run)."""
    after = {s.scope: s for s in second}
    out = {"sub": [0, 0], "parent": [0, 0]}
    for run in first:
        if run.note or run.scope not in after:
            continue
        later = after[run.scope]
        for level, before, now in (("sub", run.themes, later.themes), ("parent", run.parents, later.parents)):
            ids = {t.id for t in now}
            out[level][0] += sum(1 for t in before if t.id in ids)
            out[level][1] += len(before)
    return {level: (a, b) for level, (a, b) in out.items()}


def show(name: str, figures: dict[str, tuple[int, int]]) -> None:
    parts = [f"{level}-themes {a}/{b} kept ({a / b:.0%})" if b else f"{level}-themes none" for level, (a, b)
             in figures.items()]
    print(f"  {name:<28} " + ", ".join(parts), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a database `insight demo --no-tui` built")
    args = parser.parse_args()
    embedder, nlp = load_embedder(), cached_pipeline().nlp
    sentiment = scorer_for(embedder.name)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(fresh_copy(args.db, Path(tmp), "seeds.db"))
        first = run_themes(db, embedder, nlp, params=ClusterParams(), sentiment=sentiment)
        second = run_themes(db, embedder, nlp, params=replace(ClusterParams(), random_state=7), sentiment=sentiment)
        print(f"sample: {sum(s.units for s in first):,} mentions in {len(first)} scopes")
        show("seeds 42 -> 7 (all windows)", kept(first, second))

        db = open_db(fresh_copy(args.db, Path(tmp), "windows.db"))
        found = db.conn.execute(
            "SELECT window_start, MAX(window_end) FROM documents WHERE window_start IS NOT NULL "
            "GROUP BY window_start ORDER BY window_start").fetchall()
        windows, spans = [start for start, _ in found], [f"{start}..{end}" for start, end in found]
        if len(spans) < 2:
            print(f"  windows: the sample has {len(windows)} window(s); two are needed")
            return 0
        early = run_themes(db, embedder, nlp, window=spans[-2], sentiment=sentiment)
        late = run_themes(db, embedder, nlp, window=spans[-1], sentiment=sentiment)
        show(f"window {windows[-2]} -> {windows[-1]}", kept(early, late))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
