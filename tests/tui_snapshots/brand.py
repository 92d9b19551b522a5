"""A fixed, small fictional brand ("Fernweh Socks") inserted row by row, for query and TUI tests.

Everything is deterministic (no clock, no randomness beyond a seeded generator) so SVG snapshots stay stable:
5 segments over 2 RFM snapshots, 10 themes over 2 windows, ~200 units from surveys, one interview
transcript, reviews and tickets, and cached embeddings for "similar to this quote".
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from insight.core.clock import fixed_clock
from insight.core.db import open_db

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
WINDOWS = (("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30"))
Q_STOP = "What almost stopped you from buying?"
Q_WHY = "What made you buy?"
SEGMENTS = ("Champions", "Loyal Customers", "New Customers", "At Risk", "Hibernating")


@dataclass(frozen=True)
class ThemeSpec:
    label: str
    scope: str
    source: str
    question: str | None
    phrases: tuple[str, ...]
    texts: tuple[str, ...]
    per_window: tuple[int, int]  # units in each window
    segments: tuple[str, ...]  # segments whose customers raise it most
    change: str


THEMES: tuple[ThemeSpec, ...] = (
    ThemeSpec("shipping cost / delivery fee", f"survey: {Q_STOP}", "survey", Q_STOP, ("shipping cost", "delivery fee"),
              ("The shipping cost was almost as much as the socks.", "Delivery fee felt steep for one pair.",
               "I nearly left when I saw the shipping cost at checkout.", "Free shipping threshold is too high."),
              (12, 16), ("New Customers", "Hibernating"), "grown"),
    ThemeSpec("sizing doubts / fit", f"survey: {Q_STOP}", "survey", Q_STOP, ("size chart", "between sizes"),
              ("I wasn't sure which size to pick, I'm between sizes.", "The size chart was confusing.",
               "Worried they would be too tight on my calves.", "No idea if a 43 is medium or large."),
              (10, 8), ("New Customers",), "shrunk"),
    ThemeSpec("price / too expensive", f"survey: {Q_STOP}", "survey", Q_STOP, ("too expensive",),
              ("Honestly the price, 18 euros for socks is a lot.", "Too expensive compared to supermarket socks.",
               "I waited for a discount code before buying."),
              (6, 7), ("Hibernating", "At Risk"), "stable"),
    ThemeSpec("merino wool / sustainable", f"survey: {Q_WHY}", "survey", Q_WHY, ("merino wool", "sustainable"),
              ("Merino wool that is sustainably farmed, that sold me.", "I wanted sustainable socks that last.",
               "The merino wool keeps my feet warm on hikes.", "Recycled packaging and sustainable wool."),
              (11, 12), ("Champions", "Loyal Customers"), "stable"),
    ThemeSpec("friend recommendation", f"survey: {Q_WHY}", "survey", Q_WHY, ("my friend", "recommended"),
              ("My friend recommended them after a ski trip.", "A colleague wore them and recommended them.",
               "My sister swears by these socks."),
              (5, 9), ("Loyal Customers",), "new"),
    ThemeSpec("hiking comfort / blisters", "interview", "interview", None, ("no blisters",),
              ("I walked twenty kilometres and had no blisters at all.", "On long hikes they stay in place.",
               "The cushioning under the heel is what I noticed first."),
              (4, 4), ("Champions",), "stable"),
    ThemeSpec("fabric quality / holes", "review", "review", None, ("holes after", "wore through"),
              ("Holes after three washes, disappointed.", "The heel wore through within a month.",
               "Thin fabric at the toe, started to pill quickly."),
              (6, 9), ("At Risk",), "grown"),
    ThemeSpec("fast delivery", "review", "review", None, ("arrived in two days",),
              ("Arrived in two days, well packed.", "Fast delivery and a lovely handwritten note.",
               "Quick shipping, socks are great."),
              (8, 6), ("Champions", "Loyal Customers"), "shrunk"),
    ThemeSpec("where is my order", "ticket", "ticket", None, ("where is my order", "tracking"),
              ("Where is my order? It has been ten days.", "The tracking link has not updated for a week.",
               "My parcel still shows as label created."),
              (7, 10), ("At Risk", "New Customers"), "grown"),
    ThemeSpec("returns and exchanges", "ticket", "ticket", None, ("exchange for a larger size",),
              ("Can I exchange for a larger size?", "How do I return an unopened pack?",
               "I'd like to swap the colour, they are too bright."),
              (4, 3), ("New Customers",), "stable"),
)

SPEAKERS = ("Interviewer", "Customer")
INTERVIEW_TURNS = (
    ("Interviewer", "Thanks for joining. How did you first hear about Fernweh?", 0),
    ("Customer", "A friend at my hiking club had a pair and would not stop talking about them.", 1),
    ("Interviewer", "What happened on your first long walk with them?", 0),
    ("Customer", "I walked twenty kilometres and had no blisters at all.", 1),
    ("Interviewer", "Anything you would change?", 0),
    ("Customer", "The cushioning under the heel is what I noticed first, but the toe could be thicker.", 1),
    ("Interviewer", "Would you buy them again?", 0),
    ("Customer", "On long hikes they stay in place, so yes, I already reordered twice.", 1),
)


def _hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _vector(theme_index: int, rng: random.Random, dim: int = 16) -> bytes:
    base = np.zeros(dim, dtype=np.float32)
    base[theme_index % dim] = 1.0
    noise = np.array([rng.uniform(-0.25, 0.25) for _ in range(dim)], dtype=np.float32)
    vec = base + noise
    return (vec / np.linalg.norm(vec)).astype("<f4").tobytes()


def build_small_brand(path: Path) -> sqlite_utils.Database:
    """Create the fixed brand database at `path` and return it (migrated, committed)."""
    db = open_db(path, fixed_clock("2026-11-24T12:00:00+00:00"))
    rng = random.Random(7)
    conn = db.conn
    stamp = "2026-11-24T12:00:00+00:00"
    customers = [(i, f"c{i:02d}@fernweh.test") for i in range(1, 41)]
    conn.executemany("INSERT INTO customers (id, display_key, created_at) VALUES (?, ?, ?)",
                     [(i, key, stamp) for i, key in customers])
    conn.executemany("INSERT INTO customer_identifiers (kind, value, customer_id, source) VALUES ('email', ?, ?, 'orders')",
                     [(key, i) for i, key in customers])
    # Segments: 8 customers each in the latest snapshot; 6 moved since the previous one.
    seg_of = {i: SEGMENTS[(i - 1) // 8] for i, _ in customers}
    previous = dict(seg_of)
    for moved, before in ((9, "Champions"), (10, "Champions"), (25, "Loyal Customers"), (26, "Loyal Customers"),
                          (27, "Loyal Customers"), (17, "Hibernating")):
        previous[moved] = before
    conn.executemany(
        "INSERT INTO rfm_snapshots (id, as_of, created_at, currency, customers, params) VALUES (?, ?, ?, 'EUR', 40, '{}')",
        [(1, "2026-10-25", stamp), (2, "2026-11-24", stamp)],
    )
    profile = {"Champions": (12, 6, 240.0), "Loyal Customers": (40, 4, 150.0), "New Customers": (15, 1, 36.0),
               "At Risk": (150, 3, 95.0), "Hibernating": (300, 1, 18.0)}
    scores = []
    for snapshot_id, mapping in ((1, previous), (2, seg_of)):
        for cid, segment in mapping.items():
            rec, freq, mon = profile[segment]
            scores.append((snapshot_id, cid, rec + cid % 5, freq, mon + cid, 3, 3, 3, segment,
                           "Active" if rec <= 90 else ("At Risk" if rec <= 180 else "Lapsed")))
    conn.executemany("INSERT INTO rfm_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", scores)
    conn.executemany(
        """INSERT INTO orders (id, platform, order_number, customer_id, email, created_at, created_day, currency,
           total, net_revenue, content_hash) VALUES (?, 'shopify', ?, ?, ?, ?, ?, 'EUR', ?, ?, ?)""",
        [(i, str(1000 + i), i, key, "2026-10-10T10:00:00+00:00", "2026-10-10", 20.0 + i, 20.0 + i, f"o{i}")
         for i, key in customers],
    )
    batches = [
        (1, "orders", "shopify", "exports/orders_export.csv", 40, "2026-11-20T09:00:00+00:00"),
        (2, "survey", "typeform", "exports/post_purchase_oct.csv", 80, "2026-11-20T09:05:00+00:00"),
        (3, "survey", "typeform", "exports/post_purchase_nov.csv", 90, "2026-11-21T09:05:00+00:00"),
        (4, "interview", "zoom_vtt", "interviews/2026-11-03_c02@fernweh.test.vtt", 1, "2026-11-21T10:00:00+00:00"),
        (5, "review", "judgeme", "reviews/judgeme.csv", 29, "2026-11-22T10:00:00+00:00"),
        (6, "ticket", "zendesk", "tickets/zendesk.json", 24, "2026-11-22T11:00:00+00:00"),
    ]
    conn.executemany(
        """INSERT INTO import_batches (id, kind, format, file_path, file_sha256, rows_read, rows_imported, imported_at)
           VALUES (?, ?, ?, ?, 'sha', ?, ?, ?)""",
        [(i, k, f, p, n, n, at) for i, k, f, p, n, at in batches],
    )
    scopes = list(dict.fromkeys(t.scope for t in THEMES))
    run_of = {scope: i for i, scope in enumerate(scopes, start=1)}
    conn.executemany(
        """INSERT INTO theme_runs (id, scope, created_at, model, window_start, window_end, units, themes, unassigned,
           embedded, reused) VALUES (?, ?, ?, ?, '2026-10-01', '2026-11-30', 0, 0, 0, 0, 0)""",
        [(run_of[scope], scope, stamp, MODEL) for scope in scopes],
    )
    doc_id = 0
    unit_id = 0
    theme_units: dict[int, list[int]] = {}
    prevalence: dict[tuple[int, str], set[int]] = {}
    embeddings: dict[str, bytes] = {}
    batch_of = {"survey": (2, 3), "review": (5, 5), "ticket": (6, 6), "interview": (4, 4)}

    def add_document(source: str, window: int, customer: int | None, title: str | None, rating: float | None,
                     metadata: dict, day: int) -> int:
        nonlocal doc_id
        doc_id += 1
        start, end = WINDOWS[window]
        created = f"{start[:8]}{day:02d}T1{day % 10}:00:00+00:00"
        key = f"email:c{customer:02d}@fernweh.test" if customer else None
        conn.execute(
            """INSERT INTO documents (id, source, external_id, format, batch_id, customer_id, customer_key, created_at,
               window_start, window_end, title, rating, content_hash, metadata) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [doc_id, source, f"{source}-{doc_id}", {"survey": "typeform", "review": "judgeme", "ticket": "zendesk",
             "interview": "zoom_vtt"}[source], batch_of[source][window], customer, key, created, start, end, title,
             rating, f"h{doc_id}", json.dumps(metadata)],
        )
        return doc_id

    def add_unit(document: int, position: int, kind: str, text: str, *, question=None, speaker=None,
                 role="customer", analyse=True, turn=None, theme: int | None = None, window: int = 0,
                 customer: int | None = None) -> int:
        nonlocal unit_id
        unit_id += 1
        conn.execute(
            """INSERT INTO units (id, document_id, position, kind, question, speaker, role, analyse, turn, text,
               text_hash, started_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
            [unit_id, document, position, kind, question, speaker, role, int(analyse), turn, text, _hash(text),
             f"00:{position:02d}:10" if kind == "turn" else None],
        )
        if theme is not None:
            theme_units.setdefault(theme, []).append(unit_id)
            prevalence.setdefault((theme, WINDOWS[window][0]), set()).add(customer or -unit_id)
            embeddings.setdefault(_hash(text), _vector(theme - 1, rng))
        return unit_id

    # The interview: one transcript, interviewer turns kept for context only.
    interview = add_document("interview", 1, 2, "2026-11-03_c02@fernweh.test.vtt", None,
                             {"speakers": list(SPEAKERS), "duration": "00:32:10"}, 3)
    interview_theme = 1 + next(i for i, t in enumerate(THEMES) if t.source == "interview")
    for position, (speaker, text, customer_turn) in enumerate(INTERVIEW_TURNS):
        themed = customer_turn and any(text.startswith(t[:20]) for t in THEMES[interview_theme - 1].texts)
        add_unit(interview, position, "turn", text, speaker=speaker, role="customer" if customer_turn else "interviewer",
                 analyse=bool(customer_turn), turn=position, theme=interview_theme if themed else None, window=1,
                 customer=2)
    for index, spec in enumerate(THEMES, start=1):
        if spec.source == "interview":
            continue
        for window, count in enumerate(spec.per_window):
            for n in range(count):
                favoured = n % 3 != 2
                pool = [c for c, s in seg_of.items() if (s in spec.segments) == favoured]
                customer = pool[(n * 7 + index * 3 + window) % len(pool)]
                text = spec.texts[n % len(spec.texts)]
                if n >= len(spec.texts):
                    text = f"{text} ({['again', 'really', 'to be honest', 'sadly', 'so true'][n % 5]})"
                day = 1 + (n * 3 + index) % 28
                if spec.source == "survey":
                    doc = add_document("survey", window, customer, None, None, {"form": "post-purchase"}, day)
                    add_unit(doc, 0, "answer", text, question=spec.question, theme=index, window=window,
                             customer=customer)
                    conn.execute("INSERT OR IGNORE INTO attributes VALUES (?, 'How did you hear about us?', ?)",
                                 [doc, ("Instagram", "A friend", "Google")[n % 3]])
                elif spec.source == "review":
                    rating = 2.0 if spec.label.startswith("fabric") else 5.0
                    anonymous = n % 4 == 3
                    doc = add_document("review", window, None if anonymous else customer, "Review", rating,
                                       {"product": "Trail Merino Crew"}, day)
                    add_unit(doc, 0, "review", text, theme=index, window=window,
                             customer=None if anonymous else customer)
                else:
                    doc = add_document("ticket", window, customer, text.split(".")[0][:40], None,
                                       {"status": "solved", "tags": ["shipping"]}, day)
                    add_unit(doc, 0, "message", text, speaker="customer", theme=index, window=window,
                             customer=customer, turn=0)
                    add_unit(doc, 1, "message", "Thanks for reaching out! I've checked with the carrier and "
                             "your parcel is on its way.", speaker="Agent Sam", role="agent", analyse=False, turn=1)
                    add_unit(doc, 2, "message", "Thank you, that helps.", speaker="customer", turn=2)
    totals = {w: sum(len(c) for (t, ww), c in prevalence.items() if ww == w) for w, _ in WINDOWS}
    analysed_total = sum(len(v) for v in theme_units.values())
    theme_rows = []
    for index, spec in enumerate(THEMES, start=1):
        ids = theme_units.get(index, [])
        texts = {u: conn.execute("SELECT text FROM units WHERE id = ?", [u]).fetchone()[0] for u in ids}
        representative = [u for u in ids if texts[u] in spec.texts][:3]
        rating = 2.0 if spec.label.startswith("fabric") else (5.0 if spec.source == "review" else None)
        run = run_of[spec.scope]
        theme_rows.append((index, spec.scope, run, spec.label, json.dumps(spec.label.replace(" /", "").split()[:4]),
                           json.dumps(list(spec.phrases)), json.dumps(representative), len(ids),
                           round(len(ids) / analysed_total, 4), rating, run, spec.change))
    conn.executemany(
        """INSERT INTO themes (id, scope, first_run_id, label, keywords, phrases, quotes, size, share, mean_rating,
           status, last_run_id, change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)""",
        theme_rows,
    )
    conn.executemany(
        "INSERT INTO unit_themes (unit_id, scope, theme_id, run_id, similarity, reassigned) VALUES (?, ?, ?, ?, ?, 0)",
        [(u, THEMES[t - 1].scope, t, run_of[THEMES[t - 1].scope], round(0.9 - (k % 7) * 0.05, 2))
         for t, ids in theme_units.items() for k, u in enumerate(ids)],
    )
    conn.executemany(
        "INSERT INTO theme_prevalence VALUES (?, ?, ?, ?, ?, ?)",
        [(t, w, len(c), len({x for x in c if x > 0}), round(len(c) / totals[w], 4), len(c))
         for (t, w), c in sorted(prevalence.items())],
    )
    conn.executemany("INSERT INTO embeddings VALUES (?, ?, 16, ?)", [(MODEL, h, v) for h, v in embeddings.items()])
    conn.commit()
    return db


async def settle(pilot) -> None:  # noqa: ANN001 - textual Pilot
    """Let workers finish and the screen redraw (three times: one load can start another)."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@dataclass(frozen=True)
class ParentSpec:
    label: str
    subthemes: tuple[int, ...]  # brand theme ids (THEMES, from 1)
    status: str = "active"


# Two levels over the brand's themes, as a run since schema 5 stores them: every sub-theme under one parent of
# its scope, two parents with a single sub-theme, and "fast delivery" moved here from a parent that vanished.
PARENTS: tuple[ParentSpec, ...] = (
    ParentSpec("cost at checkout", (1, 3)),
    ParentSpec("sizing", (2,)),
    ParentSpec("why they chose us", (4, 5)),
    ParentSpec("long hikes", (6,)),
    ParentSpec("product and delivery", (7, 8)),
    ParentSpec("orders and returns", (9, 10)),
    ParentSpec("shipping speed", (), status="vanished"),
)
MOVED = {8: "shipping speed"}  # sub-theme id -> the label of the parent it left
FEELING = {1: "negative", 2: "negative", 3: "negative", 4: "positive", 5: "positive", 6: "positive", 7: "negative",
           8: "positive", 9: "negative", 10: "neutral"}  # each sub-theme's mentions; every fourth is neutral


def add_theme_tree(path: Path) -> dict[str, int]:
    """Put parent themes over the brand's themes in the database at `path` (built by build_small_brand) and
    recount both levels with insight's own counting; returns the parents' ids by label."""
    from insight.core.db import transaction
    from insight.core.theme_counts import refresh_scopes

    db = open_db(path, fixed_clock("2026-11-24T12:00:00+00:00"))
    ids: dict[str, int] = {}
    with transaction(db):
        next_id = 1 + db.conn.execute("SELECT MAX(id) FROM themes").fetchone()[0]
        for spec in PARENTS:
            scope = THEMES[spec.subthemes[0] - 1].scope if spec.subthemes else THEMES[7].scope
            run = db.conn.execute("SELECT id FROM theme_runs WHERE scope = ?", [scope]).fetchone()[0]
            quotes = [q for sub in spec.subthemes for q in json.loads(
                db.conn.execute("SELECT quotes FROM themes WHERE id = ?", [sub]).fetchone()[0])[:2]]
            words = spec.label.split()
            db.conn.execute(
                """INSERT INTO themes (id, scope, first_run_id, label, keywords, phrases, quotes, status, last_run_id,
                   change, level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'parent')""",
                [next_id, scope, run, spec.label, json.dumps(words), json.dumps([spec.label]), json.dumps(quotes),
                 spec.status, run, "stable" if spec.status == "active" else "vanished"],
            )
            db.conn.executemany("UPDATE themes SET parent_id = ? WHERE id = ?", [(next_id, s) for s in spec.subthemes])
            ids[spec.label] = next_id
            next_id += 1
        for sub, left in MOVED.items():
            db.conn.execute("UPDATE themes SET previous_parent_id = ? WHERE id = ?", [ids[left], sub])
        for sub, feeling in FEELING.items():
            db.conn.execute(
                """UPDATE units SET sentiment = CASE WHEN id % 4 = 0 THEN 'neutral' ELSE ? END
                   WHERE id IN (SELECT unit_id FROM unit_themes WHERE theme_id = ?)""",
                [feeling, sub],
            )
        refresh_scopes(db)
    db.conn.close()
    return ids
