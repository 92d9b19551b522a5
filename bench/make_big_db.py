"""Generate a large synthetic insight database for the TUI bench: 100,000 units, 200 themes by default.

Rows are inserted straight into the schema (no importers, no models), fast and reproducible (seeded):
~30,000 customers in 11 RFM segments over two snapshots, three 30-day windows, survey answers (two
questions), reviews, multi-message tickets and long interview transcripts, every analysed unit assigned
to one of 200 themes (or left unassigned), prevalence per window, and 384-d cached embeddings. The themes
are sub-themes under 20 parent themes (about ten each, per scope), counted by insight's own code;
`--parents 0` leaves them flat, as before schema 5.

    .venv/bin/python bench/make_big_db.py /tmp/big.db [--units 100000 --themes 200 --parents 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from insight.core.clock import fixed_clock
from insight.core.db import open_db

SEGMENTS = ("Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising", "Need Attention",
            "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost")
WINDOWS = (("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30"))
QUESTIONS = ("What almost stopped you from buying?", "What made you buy?")
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
WORDS = ("shipping cost delivery late parcel tracking size fit tight loose merino wool soft warm itchy price "
         "expensive discount code friend recommended gift colour faded washing holes heel toe cushion hiking "
         "running blisters return exchange refund packaging plastic recycled sustainable quality thin thick "
         "checkout payment klarna paypal account login email newsletter instagram tiktok ads influencer review "
         "stars customer service agent reply slow quick helpful rude box note handwritten smell fabric seams").split()
FILLER = "i was really quite not so very the a my it they them these and but because when after before".split()
STAMP = "2026-11-24T12:00:00+00:00"


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def build(path: Path, units: int = 100_000, themes: int = 200, dim: int = 384, seed: int = 42,
          parents: int = 20) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    db = open_db(path, fixed_clock(STAMP))
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")
    n_customers = max(100, units * 3 // 10)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO customers (id, display_key, created_at) VALUES (?, ?, ?)",
                     ((i, f"customer{i}@example.com", STAMP) for i in range(1, n_customers + 1)))
    conn.executemany("INSERT INTO customer_identifiers VALUES ('email', ?, ?, 'orders')",
                     ((f"customer{i}@example.com", i) for i in range(1, n_customers + 1)))
    seg_now = rng.integers(0, len(SEGMENTS), n_customers)
    seg_before = np.where(rng.random(n_customers) < 0.15, rng.integers(0, len(SEGMENTS), n_customers), seg_now)
    conn.executemany("INSERT INTO rfm_snapshots (id, as_of, created_at, currency, customers, params) VALUES (?,?,?,?,?,?)",
                     [(1, "2026-10-25", STAMP, "EUR", n_customers, "{}"), (2, "2026-11-24", STAMP, "EUR", n_customers, "{}")])
    for snapshot, segs in ((1, seg_before), (2, seg_now)):
        conn.executemany(
            "INSERT INTO rfm_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((snapshot, i + 1, int(10 + s * 30 + i % 20), int(1 + (10 - s) // 2), float(20 + (11 - s) * 15 + i % 50),
              5 - s // 3, 5 - s // 3, 3, SEGMENTS[s], "Active" if s < 6 else ("At Risk" if s < 9 else "Lapsed"))
             for i, s in enumerate(segs.tolist())),
        )
    conn.executemany(
        """INSERT INTO orders (id, platform, order_number, customer_id, email, created_at, created_day, currency, total,
           net_revenue, content_hash) VALUES (?, 'shopify', ?, ?, ?, '2026-10-10T10:00:00+00:00', '2026-10-10', 'EUR',
           ?, ?, ?)""",
        ((i, str(10_000 + i), i, f"customer{i}@example.com", 40.0, 40.0, f"o{i}") for i in range(1, n_customers + 1)),
    )
    conn.executemany(
        """INSERT INTO import_batches (id, kind, format, file_path, file_sha256, rows_read, rows_imported, imported_at)
           VALUES (?, ?, ?, ?, 'x', 0, 0, ?)""",
        [(1, "orders", "shopify", "orders.csv", STAMP), (2, "survey", "typeform", "survey.csv", STAMP),
         (3, "review", "judgeme", "reviews.csv", STAMP), (4, "ticket", "zendesk", "tickets.json", STAMP),
         (5, "interview", "zoom_vtt", "interviews/", STAMP)],
    )
    # Themes: scopes are the two questions, review, ticket, interview; sizes follow a long tail.
    scopes = [f"survey: {QUESTIONS[0]}", f"survey: {QUESTIONS[1]}", "review", "ticket", "interview"]
    scope_of_theme = [scopes[t % len(scopes)] for t in range(themes)]
    theme_words = [rng.choice(len(WORDS), 3, replace=False) for _ in range(themes)]
    centroids = rng.normal(size=(themes, dim)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    for run, scope in enumerate(scopes, start=1):
        conn.execute("""INSERT INTO theme_runs (id, scope, created_at, model, units, themes, unassigned, embedded, reused)
                        VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0)""", (run, scope, STAMP, MODEL))
    weights = 1.0 / np.arange(1, themes + 1) ** 0.8
    doc_rows, unit_rows, ut_rows, emb_rows, attr_rows = [], [], [], [], []
    source_mix = rng.choice(4, size=units, p=[0.55, 0.2, 0.2, 0.05])  # survey review ticket interview
    unit_id = doc_id = 0
    made = 0
    while made < units:
        kind = int(source_mix[made])
        source = ("survey", "review", "ticket", "interview")[kind]
        window = int(rng.integers(0, len(WINDOWS)))
        customer = int(rng.integers(1, n_customers + 1)) if rng.random() > 0.1 else None
        doc_id += 1
        day = int(rng.integers(1, 29))
        created = f"{WINDOWS[window][0][:8]}{day:02d}T10:00:00+00:00"
        parts = {"survey": 1, "review": 1, "ticket": 4, "interview": 40}[source]
        doc_rows.append((doc_id, source, f"{source}-{doc_id}", {"survey": "typeform", "review": "judgeme",
                         "ticket": "zendesk", "interview": "zoom_vtt"}[source], 2 + min(kind, 3), customer,
                         f"email:customer{customer}@example.com" if customer else None, created, WINDOWS[window][0],
                         WINDOWS[window][1], f"{source} {doc_id}", float(rng.integers(1, 6)) if source == "review" else None,
                         f"h{doc_id}", json.dumps({"tags": ["bench"]})))
        in_scope = [t for t in range(themes) if scope_of_theme[t].startswith(source)] if source != "survey" else None
        question = QUESTIONS[int(rng.integers(0, 2))] if source == "survey" else None
        if source == "survey":
            in_scope = [t for t in range(themes) if scope_of_theme[t] == f"survey: {question}"]
            attr_rows.append((doc_id, "How did you hear about us?", ("Instagram", "A friend", "Google", "TikTok")[doc_id % 4]))
        probs = weights[in_scope] / weights[in_scope].sum()
        for position in range(parts):
            unit_id += 1
            analysed = source in ("survey", "review") or position % 2 == 0
            theme = int(rng.choice(in_scope, p=probs)) if analysed else None
            words = [WORDS[w] for w in theme_words[theme]] if theme is not None else []
            filler = rng.choice(len(WORDS), 6)
            text = " ".join(words + [FILLER[int(x) % len(FILLER)] for x in filler[:3]] + [WORDS[int(x)] for x in filler[3:]])
            text = f"{text} #{unit_id}"
            role = "customer" if analysed else ("agent" if source == "ticket" else "interviewer")
            unit_rows.append((unit_id, doc_id, position, {"survey": "answer", "review": "review", "ticket": "message",
                              "interview": "turn"}[source], question, role.title(), role, int(analysed),
                              position if parts > 1 else None, text, sha(text)))
            if analysed:
                made += 1
                if rng.random() < 0.06:
                    ut_rows.append((unit_id, scope_of_theme[theme], None, 1 + scopes.index(scope_of_theme[theme]), None))
                else:
                    vec = centroids[theme] + rng.normal(scale=0.6 / np.sqrt(dim), size=dim).astype(np.float32)
                    vec /= np.linalg.norm(vec)
                    ut_rows.append((unit_id, scope_of_theme[theme], theme + 1, 1 + scopes.index(scope_of_theme[theme]),
                                    float(vec @ centroids[theme])))
                    emb_rows.append((MODEL, sha(text), dim, vec.astype("<f4").tobytes()))
            if made >= units:
                break
    conn.executemany("INSERT INTO documents (id, source, external_id, format, batch_id, customer_id, customer_key, "
                     "created_at, window_start, window_end, title, rating, content_hash, metadata) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", doc_rows)
    conn.executemany("INSERT INTO units (id, document_id, position, kind, question, speaker, role, analyse, turn, text, "
                     "text_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", unit_rows)
    conn.executemany("INSERT INTO attributes VALUES (?, ?, ?)", attr_rows)
    sizes = np.zeros(themes, dtype=int)
    for row in ut_rows:
        if row[2] is not None:
            sizes[row[2] - 1] += 1
    conn.executemany(
        """INSERT INTO themes (id, scope, label, keywords, phrases, quotes, centroid, size, share, status, first_run_id,
           last_run_id, change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)""",
        ((t + 1, scope_of_theme[t], " / ".join(WORDS[w] for w in theme_words[t][:2]) + f" {t + 1}",
          json.dumps([WORDS[w] for w in theme_words[t]]), json.dumps([" ".join(WORDS[w] for w in theme_words[t][:2])]),
          json.dumps([r[0] for r in ut_rows if r[2] == t + 1][:3]), centroids[t].astype("<f4").tobytes(), int(sizes[t]),
          float(sizes[t] / max(sizes.sum(), 1)), 1 + scopes.index(scope_of_theme[t]), 1 + scopes.index(scope_of_theme[t]),
          ("new", "grown", "shrunk", "stable")[t % 4]) for t in range(themes)),
    )
    conn.executemany("INSERT INTO unit_themes (unit_id, scope, theme_id, run_id, similarity) VALUES (?, ?, ?, ?, ?)", ut_rows)
    conn.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?, ?, ?)", emb_rows)
    conn.execute(
        """INSERT INTO theme_prevalence
           SELECT ut.theme_id, d.window_start, COUNT(*), COUNT(DISTINCT d.customer_id),
                  CAST(COUNT(*) AS REAL) / (SELECT COUNT(*) FROM units u2 JOIN documents d2 ON d2.id = u2.document_id
                                            WHERE u2.analyse = 1 AND d2.window_start = d.window_start),
                  COUNT(DISTINCT d.id)
           FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
           WHERE ut.theme_id IS NOT NULL GROUP BY ut.theme_id, d.window_start"""
    )
    conn.commit()
    if parents:
        add_parents(db, parents)
    conn.execute("PRAGMA optimize")
    db.conn.close()
    return {"seconds": time.perf_counter() - started, "units": made, "all_units": unit_id, "documents": doc_id,
            "themes": themes, "customers": n_customers}


def add_parents(db, parents: int) -> None:  # noqa: ANN001 - a sqlite_utils.Database
    """Group each scope's themes, largest first, into parent themes of about the same number of sub-themes,
    then count both levels (sizes, shares, prevalence) as a theme run does."""
    from insight.core.db import transaction
    from insight.core.theme_counts import refresh_scopes

    conn = db.conn
    rows = conn.execute("SELECT id, scope, label, first_run_id FROM themes ORDER BY scope, size DESC, id").fetchall()
    per_parent = max(1, round(len(rows) / parents))
    next_id = 1 + max(r[0] for r in rows)
    with transaction(db):
        for scope in dict.fromkeys(r[1] for r in rows):
            mine = [r for r in rows if r[1] == scope]
            for start in range(0, len(mine), per_parent):
                group = mine[start:start + per_parent]
                conn.execute(
                    """INSERT INTO themes (id, scope, label, keywords, phrases, quotes, status, first_run_id, last_run_id,
                       change, level) VALUES (?, ?, ?, '[]', '[]', '[]', 'active', ?, ?, 'stable', 'parent')""",
                    (next_id, scope, "all about " + group[0][2].split(" / ")[0] + f" {next_id}", group[0][3],
                     group[0][3]),
                )
                conn.executemany("UPDATE themes SET parent_id = ? WHERE id = ?", [(next_id, r[0]) for r in group])
                next_id += 1
        refresh_scopes(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--units", type=int, default=100_000, help="analysed units")
    parser.add_argument("--themes", type=int, default=200)
    parser.add_argument("--parents", type=int, default=20, help="parent themes over them (0: one flat level)")
    args = parser.parse_args()
    figures = build(args.path, args.units, args.themes, parents=args.parents)
    print(f"{args.path}: {figures['units']:,} analysed units ({figures['all_units']:,} with context turns), "
          f"{figures['documents']:,} documents, {figures['themes']} themes, {figures['customers']:,} customers "
          f"in {figures['seconds']:.1f} s")


if __name__ == "__main__":
    main()
