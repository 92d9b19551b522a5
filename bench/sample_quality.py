"""Themes on the bundled sample against the groups its text was written in.

`data/source/survey/*.txt` holds each survey question's answers in `== group ==` blocks and every sample
ticket carries its topic as its first tag; `data/build_sample.py` assembles `data/sample` from them. After
`make demo` (or `insight --db DB demo --no-tui`), this reads the database and prints, per scope: documents,
sub-themes, the largest sub-theme's share of documents, parent themes and the largest parent's share,
unassigned mentions, and NMI / ARI of each document's sub-theme (the one most of its analysed mentions
joined) against its planted group. The planted groups are what the
writer meant, not ground truth: several are deliberately broad ("nothing", "price").

    .venv/bin/python bench/sample_quality.py --db demo.db
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "source"


def key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def survey_groups(folder: Path) -> dict[str, dict[str, str]]:
    """question -> normalised answer -> planted group."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        question = next((m.group(1) for ln in lines if (m := re.search(r'"(.+?)"', ln)) and ln.startswith("#")), None)
        if not question:
            continue
        groups: dict[str, str] = {}
        group, answer = None, ""
        for raw in lines + ["== end =="]:
            if raw.startswith("#"):
                continue
            m = re.match(r"^== (.+?) ==\s*$", raw)
            if m or not raw.strip() or not raw.startswith((" ", "\t")):
                if answer and group:
                    groups[key(answer)] = group
                answer = ""
            if m:
                group = m.group(1)
            elif raw.strip():
                answer = f"{answer} {raw.strip()}".strip()
        out[question] = groups
    return out


def scores(truth: list[str], found: list[int]) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return normalized_mutual_info_score(truth, found), adjusted_rand_score(truth, found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "demo.db")
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"{args.db}: not found; run `make demo` (or insight --db FILE demo --no-tui) first")
    conn = sqlite3.connect(args.db)
    planted = survey_groups(SOURCE / "survey")
    columns = {r[1] for r in conn.execute("PRAGMA table_info(units)")}
    passage = "u.passage" if "passage" in columns else "u.position"  # a database from before mentions
    rows = conn.execute(
        f"""SELECT d.id, d.source, d.metadata, u.question, {passage}, u.text, u.analyse, ut.scope, ut.theme_id
           FROM units u JOIN documents d ON d.id = u.document_id LEFT JOIN unit_themes ut ON ut.unit_id = u.id
           ORDER BY d.id, u.position"""
    ).fetchall()
    passages: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    themes_of: dict[tuple[str, int], Counter] = defaultdict(Counter)
    meta: dict[int, tuple[str, str, str | None]] = {}
    for doc_id, source, metadata, question, passage, text, analyse, scope, theme in rows:
        passages[(doc_id, passage)].append(text)
        meta[doc_id] = (source, metadata, question)
        if scope and analyse:
            themes_of[(scope, doc_id)][theme if theme is not None else -1] += 1
    by_scope: dict[str, tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
    for (scope, doc_id), counter in themes_of.items():
        source, metadata, _ = meta[doc_id]
        theme = counter.most_common(1)[0][0]
        group = None
        if source == "ticket":
            tags = (json.loads(metadata or "{}").get("tags") or [None])
            group = tags[0]
        elif source == "survey" and scope.startswith("survey: "):
            question = scope[len("survey: "):]
            texts = [" ".join(t) for (d, _), t in passages.items() if d == doc_id]
            answers = planted.get(question, {})
            group = next((answers[key(t)] for t in texts if key(t) in answers), None)
        if group is not None:
            by_scope[scope][0].append(group)
            by_scope[scope][1].append(theme)
    print(f"{'scope':<48} {'docs':>5} {'themes':>6} {'largest':>8} {'parents':>7} {'largest':>8} {'unassigned':>10}"
          "  planted: matched  NMI    ARI")
    parents = {scope: (n, largest) for scope, n, largest in conn.execute(
        "SELECT scope, COUNT(*), MAX(share) FROM themes WHERE status = 'active' AND level = 'parent' GROUP BY scope")}
    for scope, docs, n_themes, largest, unassigned, mentions in conn.execute(
        """SELECT t.scope, (SELECT COUNT(DISTINCT u.document_id) FROM unit_themes x JOIN units u ON u.id = x.unit_id
                           WHERE x.scope = t.scope),
                  COUNT(*), MAX(t.share),
                  (SELECT COUNT(*) FROM unit_themes x WHERE x.scope = t.scope AND x.theme_id IS NULL),
                  (SELECT COUNT(*) FROM unit_themes x WHERE x.scope = t.scope)
           FROM themes t WHERE t.status = 'active' AND t.level = 'sub' GROUP BY t.scope ORDER BY t.scope"""
    ):
        truth, found = by_scope.get(scope, ([], []))
        planted_part = "          -"
        if len(set(truth)) > 1:
            nmi, ari = scores(truth, found)
            planted_part = f"{len(truth):>6} ({len(set(truth))} groups)  {nmi:.3f}  {ari:.3f}"
        n_parents, parent_largest = parents.get(scope, (0, 0.0))
        print(f"{scope[:48]:<48} {docs:>5} {n_themes:>6} {largest:>8.1%} {n_parents:>7} {parent_largest:>8.1%} "
              f"{unassigned / mentions:>10.1%}  {planted_part}")


if __name__ == "__main__":
    main()
