"""The one place where the SQLite schema is defined and migrated.

Every table is created by a numbered migration below; `open_db` applies the ones a file has not seen yet,
inside a transaction each, and records them in `schema_migrations`. Add a new migration at the end of
MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from insight.core.clock import Clock, utc_now_iso
from insight.core.errors import InsightError

DEFAULT_DB = "insight.core.db"
DB_ENV_VAR = "INSIGHT_DB"
BUSY_TIMEOUT_MS = 60_000  # a writer waits this long for another one (an import redacting names) to finish


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "initial schema",
        """
-- One row per file imported: where it came from, what it held, what happened to it.
CREATE TABLE import_batches (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('survey', 'interview', 'review', 'ticket', 'orders')),
    format          TEXT NOT NULL,          -- typeform, zoom_vtt, shopify, ...
    file_path       TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    window_start    TEXT,                   -- ISO date; the 30-day window this import belongs to
    window_end      TEXT,
    rows_read       INTEGER NOT NULL DEFAULT 0,
    rows_imported   INTEGER NOT NULL DEFAULT 0,  -- new documents / orders
    rows_updated    INTEGER NOT NULL DEFAULT 0,  -- changed in place
    rows_duplicate  INTEGER NOT NULL DEFAULT 0,  -- already present, unchanged
    rows_rejected   INTEGER NOT NULL DEFAULT 0,
    details         TEXT,                   -- JSON: rejected records, interviewer taken, warnings
    imported_at     TEXT NOT NULL
);

-- A person who bought or spoke. Identifiers that belong to the same person point at one row.
CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    display_key     TEXT NOT NULL,          -- the identifier shown to users (usually an email)
    created_at      TEXT NOT NULL
);

-- Normalised identifiers: email (lower-case, trimmed), customer_id (platform id), order (number without '#').
CREATE TABLE customer_identifiers (
    kind            TEXT NOT NULL CHECK (kind IN ('email', 'customer_id', 'order')),
    value           TEXT NOT NULL,
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    source          TEXT,                   -- which kind of import (or 'user') supplied it
    PRIMARY KEY (kind, value)
);
CREATE INDEX idx_customer_identifiers_customer ON customer_identifiers(customer_id);

-- One survey response / interview transcript / review / support ticket.
CREATE TABLE documents (
    id              INTEGER PRIMARY KEY,
    source          TEXT NOT NULL CHECK (source IN ('survey', 'interview', 'review', 'ticket')),
    external_id     TEXT NOT NULL,          -- the tool's own id (response token, ticket id) or a content hash
    format          TEXT NOT NULL,
    batch_id        INTEGER REFERENCES import_batches(id) ON DELETE SET NULL,
    customer_id     INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    customer_key    TEXT,                   -- the identifier the document carried, e.g. 'email:jo@example.com'
    created_at      TEXT,                   -- ISO 8601
    window_start    TEXT,                   -- ISO date
    window_end      TEXT,
    title           TEXT,                   -- ticket subject, review title, interview file name
    rating          REAL,                   -- review stars normalised to 1-5
    content_hash    TEXT NOT NULL,          -- sha256 of the parsed content: a change updates in place
    metadata        TEXT,                   -- JSON: tags, status, product, speakers, ...
    UNIQUE (source, external_id)
);
CREATE INDEX idx_documents_customer ON documents(customer_id);
CREATE INDEX idx_documents_window ON documents(window_start);

-- The analysable pieces of a document: an answer, a speaker turn passage, a review, a customer message.
CREATE TABLE units (
    id              INTEGER PRIMARY KEY,
    document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,       -- order inside the document
    kind            TEXT NOT NULL,          -- answer | turn | review | message
    question        TEXT,                   -- survey question this answers
    speaker         TEXT,                   -- transcript speaker / message author (redacted to a role if PII)
    role            TEXT NOT NULL DEFAULT 'customer',  -- customer | interviewer | agent | system
    analyse         INTEGER NOT NULL DEFAULT 1,        -- 0: kept for context only (interviewer, agent)
    turn            INTEGER,                -- transcript turn / ticket message this passage belongs to
    text            TEXT NOT NULL,          -- PII-redacted text: what is analysed and shown
    raw_text        TEXT,                   -- only kept with --keep-raw
    text_hash       TEXT NOT NULL,          -- sha256 of text; key of the embedding cache
    started_at      TEXT,                   -- transcript offset or message time
    ended_at        TEXT,
    UNIQUE (document_id, position)
);
CREATE INDEX idx_units_text_hash ON units(text_hash);
CREATE INDEX idx_units_question ON units(question);

-- Structured answers (choice questions, NPS): crossed with segments later.
CREATE TABLE attributes (
    document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    value           TEXT NOT NULL,
    PRIMARY KEY (document_id, name, value)
);
CREATE INDEX idx_attributes_name ON attributes(name, value);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,          -- shopify | woocommerce | generic
    order_number    TEXT NOT NULL,          -- normalised, without '#'
    external_id     TEXT,                   -- platform's internal id
    customer_id     INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    email           TEXT,
    created_at      TEXT NOT NULL,          -- ISO 8601 with offset as exported
    created_day     TEXT NOT NULL,          -- ISO date in UTC, for recency
    currency        TEXT,
    subtotal        REAL,
    shipping        REAL,
    taxes           REAL,
    discount        REAL,
    total           REAL NOT NULL DEFAULT 0,
    refunded        REAL NOT NULL DEFAULT 0,
    net_revenue     REAL NOT NULL DEFAULT 0,  -- total - refunded
    financial_status TEXT,
    cancelled_at    TEXT,
    counts_for_rfm  INTEGER NOT NULL DEFAULT 1,
    exclusion_reason TEXT,                  -- cancelled | fully_refunded | test | zero_value
    batch_id        INTEGER REFERENCES import_batches(id) ON DELETE SET NULL,
    content_hash    TEXT NOT NULL,
    UNIQUE (platform, order_number)
);
CREATE INDEX idx_orders_customer ON orders(customer_id);

CREATE TABLE order_lines (
    order_id        INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    name            TEXT,
    sku             TEXT,
    quantity        REAL,
    price           REAL,
    PRIMARY KEY (order_id, position)
);

-- Each `insight segments` run: the RFM picture as of a date. All snapshots are kept.
CREATE TABLE rfm_snapshots (
    id              INTEGER PRIMARY KEY,
    as_of           TEXT NOT NULL UNIQUE,   -- ISO date
    created_at      TEXT NOT NULL,
    currency        TEXT,
    customers       INTEGER NOT NULL,
    params          TEXT                    -- JSON: segment map, lifecycle thresholds, rates
);

CREATE TABLE rfm_scores (
    snapshot_id     INTEGER NOT NULL REFERENCES rfm_snapshots(id) ON DELETE CASCADE,
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    recency_days    INTEGER NOT NULL,
    frequency       INTEGER NOT NULL,
    monetary        REAL NOT NULL,
    r_score         INTEGER NOT NULL,
    f_score         INTEGER NOT NULL,
    m_score         INTEGER NOT NULL,
    segment         TEXT NOT NULL,
    lifecycle       TEXT NOT NULL,          -- Active | At Risk | Lapsed
    PRIMARY KEY (snapshot_id, customer_id)
);
CREATE INDEX idx_rfm_scores_customer ON rfm_scores(customer_id);

-- Embedding cache: a text is embedded once per model.
CREATE TABLE embeddings (
    model           TEXT NOT NULL,
    text_hash       TEXT NOT NULL,
    dim             INTEGER NOT NULL,
    vector          BLOB NOT NULL,          -- float32, little-endian
    PRIMARY KEY (model, text_hash)
);

-- One `insight themes` computation for one scope (a question, a source kind, or pooled).
CREATE TABLE theme_runs (
    id              INTEGER PRIMARY KEY,
    scope           TEXT NOT NULL,          -- e.g. 'survey: What almost stopped you from buying?'
    created_at      TEXT NOT NULL,
    model           TEXT NOT NULL,
    window_start    TEXT,
    window_end      TEXT,
    params          TEXT,                   -- JSON
    units           INTEGER NOT NULL,
    themes          INTEGER NOT NULL,
    unassigned      INTEGER NOT NULL,
    embedded        INTEGER NOT NULL,       -- texts newly embedded by this run
    reused          INTEGER NOT NULL        -- texts found in the cache
);

-- A theme keeps its id across runs (matched by centroid); user edits live on it.
CREATE TABLE themes (
    id              INTEGER PRIMARY KEY,
    scope           TEXT NOT NULL,
    label           TEXT NOT NULL,          -- generated label
    user_label      TEXT,                   -- a researcher's rename: wins over label
    keywords        TEXT,                   -- JSON list of distinctive words/phrases (c-TF-IDF)
    phrases         TEXT,                   -- JSON list of verbatim phrases many customers used
    quotes          TEXT,                   -- JSON list of representative unit ids
    centroid        BLOB,                   -- float32 mean embedding
    size            INTEGER NOT NULL DEFAULT 0,
    share           REAL NOT NULL DEFAULT 0,
    mean_rating     REAL,
    status          TEXT NOT NULL DEFAULT 'active',  -- active | vanished | merged
    merged_into     INTEGER REFERENCES themes(id),
    first_run_id    INTEGER REFERENCES theme_runs(id),
    last_run_id     INTEGER REFERENCES theme_runs(id),
    change          TEXT                    -- new | grown | shrunk | stable | vanished (vs previous run)
);
CREATE INDEX idx_themes_scope ON themes(scope);

CREATE TABLE unit_themes (
    unit_id         INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    theme_id        INTEGER REFERENCES themes(id) ON DELETE SET NULL,  -- NULL: unassigned
    run_id          INTEGER NOT NULL REFERENCES theme_runs(id) ON DELETE CASCADE,
    similarity      REAL,                   -- cosine similarity to the theme centroid
    reassigned      INTEGER NOT NULL DEFAULT 0,  -- 1: outlier moved to the nearest theme
    PRIMARY KEY (unit_id, scope)
);
CREATE INDEX idx_unit_themes_theme ON unit_themes(theme_id);

-- Theme prevalence per window, for trends.
CREATE TABLE theme_prevalence (
    theme_id        INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    window_start    TEXT NOT NULL,
    units           INTEGER NOT NULL,
    customers       INTEGER NOT NULL,
    share           REAL NOT NULL,
    PRIMARY KEY (theme_id, window_start)
);

-- Researchers' edits (rename, merge, split), replayed after every re-run.
CREATE TABLE theme_edits (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('rename', 'merge', 'split')),
    theme_id        INTEGER NOT NULL,
    other_theme_id  INTEGER,
    payload         TEXT                    -- JSON
);

-- Full-text search over unit text (external content, kept in sync by triggers; Datasette understands it).
CREATE VIRTUAL TABLE units_fts USING fts5(
    text, question, speaker, content='units', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER units_ai AFTER INSERT ON units BEGIN
    INSERT INTO units_fts (rowid, text, question, speaker) VALUES (new.id, new.text, new.question, new.speaker);
END;
CREATE TRIGGER units_ad AFTER DELETE ON units BEGIN
    INSERT INTO units_fts (units_fts, rowid, text, question, speaker)
    VALUES ('delete', old.id, old.text, old.question, old.speaker);
END;
CREATE TRIGGER units_au AFTER UPDATE ON units BEGIN
    INSERT INTO units_fts (units_fts, rowid, text, question, speaker)
    VALUES ('delete', old.id, old.text, old.question, old.speaker);
    INSERT INTO units_fts (rowid, text, question, speaker) VALUES (new.id, new.text, new.question, new.speaker);
END;
""",
    ),
    Migration(
        2,
        "theme quotes in order from an index",
        """
-- A theme's quotes page by similarity without sorting all its units (the TUI's theme screen).
CREATE INDEX idx_unit_themes_theme_similarity ON unit_themes(theme_id, similarity DESC, unit_id);
DROP INDEX idx_unit_themes_theme;
""",
    ),
    Migration(
        3,
        "mentions, sentiment and theme counts per document",
        """
-- A unit is now one mention: a sentence, or a clause of a sentence that joins two topics. The text a
-- person wrote or said as one piece (an answer, a message, a review, an interview passage) is its passage.
ALTER TABLE units ADD COLUMN passage INTEGER;      -- index of the passage in the document
ALTER TABLE units ADD COLUMN context TEXT;         -- why a customer's mention is context only:
                                                   -- greeting | thanks | sign-off | fragment (NULL: analysed)
ALTER TABLE units ADD COLUMN sentiment TEXT CHECK (sentiment IN ('negative', 'neutral', 'positive'));
ALTER TABLE units ADD COLUMN sentiment_score REAL; -- -1 (negative) .. +1 (positive), set by `insight themes`
-- The splitter that produced a document's mentions (NULL: whole texts from before mentions, re-derived).
ALTER TABLE documents ADD COLUMN mentions_version INTEGER;
-- Sentiment updates must not rewrite the full-text index.
DROP TRIGGER units_au;
CREATE TRIGGER units_au AFTER UPDATE OF text, question, speaker ON units BEGIN
    INSERT INTO units_fts (units_fts, rowid, text, question, speaker)
    VALUES ('delete', old.id, old.text, old.question, old.speaker);
    INSERT INTO units_fts (rowid, text, question, speaker) VALUES (new.id, new.text, new.question, new.speaker);
END;
-- themes.size now counts documents once per theme; these say what it is made of.
ALTER TABLE themes ADD COLUMN kind TEXT NOT NULL DEFAULT 'topic';  -- topic | general (low-information praise)
ALTER TABLE themes ADD COLUMN mentions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE themes ADD COLUMN customers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE themes ADD COLUMN reassigned INTEGER NOT NULL DEFAULT 0;  -- members placed by outlier reassignment
ALTER TABLE themes ADD COLUMN positive INTEGER NOT NULL DEFAULT 0;    -- mentions by sentiment
ALTER TABLE themes ADD COLUMN neutral INTEGER NOT NULL DEFAULT 0;
ALTER TABLE themes ADD COLUMN negative INTEGER NOT NULL DEFAULT 0;
-- Prevalence per window: `units` counts mentions, `documents` the documents they came from, `share` is of
-- the window's documents.
ALTER TABLE theme_prevalence ADD COLUMN documents INTEGER NOT NULL DEFAULT 0;
""",
    ),
    Migration(
        4,
        "order numbers scoped to their shop",
        """
-- Two shops both have an order #1001: an order is (platform, shop, order_number), not (platform, number).
-- SQLite cannot change a UNIQUE constraint in place, so orders is rebuilt. order_lines is set aside first:
-- with foreign keys on, dropping orders while order_lines still pointed at it would cascade-delete the lines.
CREATE TABLE orders_v4 (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,          -- shopify | woocommerce | generic
    shop            TEXT NOT NULL DEFAULT 'default',  -- from the export, `--shop NAME`, else 'default'
    order_number    TEXT NOT NULL,          -- normalised, without '#'
    external_id     TEXT,                   -- platform's internal id
    customer_id     INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    email           TEXT,
    created_at      TEXT NOT NULL,          -- ISO 8601 with offset as exported
    created_day     TEXT NOT NULL,          -- ISO date in UTC, for recency
    currency        TEXT,
    subtotal        REAL,
    shipping        REAL,
    taxes           REAL,
    discount        REAL,
    total           REAL NOT NULL DEFAULT 0,
    refunded        REAL NOT NULL DEFAULT 0,
    net_revenue     REAL NOT NULL DEFAULT 0,  -- total - refunded
    financial_status TEXT,
    cancelled_at    TEXT,
    counts_for_rfm  INTEGER NOT NULL DEFAULT 1,
    exclusion_reason TEXT,                  -- cancelled | fully_refunded | test | zero_value | unpaid | no_customer
    batch_id        INTEGER REFERENCES import_batches(id) ON DELETE SET NULL,
    content_hash    TEXT NOT NULL,
    UNIQUE (platform, shop, order_number)
);
INSERT INTO orders_v4 (id, platform, shop, order_number, external_id, customer_id, email, created_at, created_day,
    currency, subtotal, shipping, taxes, discount, total, refunded, net_revenue, financial_status, cancelled_at,
    counts_for_rfm, exclusion_reason, batch_id, content_hash)
SELECT id, platform, 'default', order_number, external_id, customer_id, email, created_at, created_day,
    currency, subtotal, shipping, taxes, discount, total, refunded, net_revenue, financial_status, cancelled_at,
    counts_for_rfm, exclusion_reason, batch_id, content_hash FROM orders;
CREATE TABLE order_lines_v4_keep AS SELECT order_id, position, name, sku, quantity, price FROM order_lines;
DROP TABLE order_lines;
DROP TABLE orders;
ALTER TABLE orders_v4 RENAME TO orders;
CREATE INDEX idx_orders_customer ON orders(customer_id);
CREATE TABLE order_lines (
    order_id        INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    name            TEXT,
    sku             TEXT,
    quantity        REAL,
    price           REAL,
    PRIMARY KEY (order_id, position)
);
INSERT INTO order_lines (order_id, position, name, sku, quantity, price)
SELECT order_id, position, name, sku, quantity, price FROM order_lines_v4_keep;
DROP TABLE order_lines_v4_keep;
-- Order numbers and platform customer ids as customer identifiers carry their shop too ('1001@shopify/default',
-- '12@woocommerce/default'); a bare '1001' is what feedback carries (a survey's "Order #1001") and is matched
-- to the shop-scoped ones when unambiguous. Bare ones the orders import wrote are replaced.
INSERT OR IGNORE INTO customer_identifiers (kind, value, customer_id, source)
SELECT 'order', order_number || '@' || platform || '/' || shop, customer_id, 'orders' FROM orders
WHERE customer_id IS NOT NULL;
DELETE FROM customer_identifiers WHERE kind = 'order' AND source = 'orders' AND instr(value, '@') = 0;
INSERT OR IGNORE INTO customer_identifiers (kind, value, customer_id, source)
SELECT 'customer_id', ci.value || '@' || o.platform || '/default', ci.customer_id, 'orders'
FROM customer_identifiers ci
JOIN (SELECT customer_id, MIN(platform) AS platform FROM orders GROUP BY customer_id) o ON o.customer_id = ci.customer_id
WHERE ci.kind = 'customer_id' AND ci.source = 'orders' AND instr(ci.value, '@') = 0;
DELETE FROM customer_identifiers WHERE kind = 'customer_id' AND source = 'orders' AND instr(value, '@') = 0
AND customer_id IN (SELECT customer_id FROM orders WHERE customer_id IS NOT NULL);
""",
    ),
    Migration(
        5,
        "themes in two levels: parent themes over sub-themes",
        """
-- Each run groups a scope's themes (the sub-themes, which hold the mentions) under parent themes. A parent is
-- a row of `themes` too (labels, quotes, counts, edits, trend); a sub-theme points at its parent. Themes from
-- before this version have no parent until the next run and read as top-level themes.
ALTER TABLE themes ADD COLUMN level TEXT NOT NULL DEFAULT 'sub' CHECK (level IN ('parent', 'sub'));
ALTER TABLE themes ADD COLUMN parent_id INTEGER REFERENCES themes(id) ON DELETE SET NULL;
ALTER TABLE themes ADD COLUMN previous_parent_id INTEGER;  -- the parent before this run, when it moved
CREATE INDEX idx_themes_parent ON themes(parent_id);
-- Every (theme, mention) pair at both levels: a mention is in its sub-theme (unit_themes) and in that
-- sub-theme's parent. Counts, trends and lifts read this, so a parent counts a customer once however many of
-- its sub-themes they are in.
CREATE VIEW theme_units AS
    SELECT unit_id, scope, theme_id, run_id, similarity, reassigned, 'sub' AS level
    FROM unit_themes WHERE theme_id IS NOT NULL
    UNION ALL
    SELECT ut.unit_id, ut.scope, t.parent_id, ut.run_id, NULL, ut.reassigned, 'parent'
    FROM unit_themes ut JOIN themes t ON t.id = ut.theme_id
    WHERE t.parent_id IS NOT NULL;
""",
    ),
    Migration(
        6,
        "buyers without an email: phone and billing identifiers",
        """
-- Cash-on-delivery exports carry no email and no customer id: such a buyer is identified by their phone
-- (E.164, '+61412345678') or else their billing name + street address + postcode + country
-- ('jo tane|12 smith st|0812|au'). SQLite cannot change a CHECK constraint in place: the table is rebuilt,
-- every row kept. Nothing references customer_identifiers, so no cascade is set off by the rebuild.
CREATE TABLE customer_identifiers_v6 (
    kind            TEXT NOT NULL CHECK (kind IN ('email', 'customer_id', 'order', 'phone', 'billing')),
    value           TEXT NOT NULL,
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    source          TEXT,                   -- which kind of import (or 'user') supplied it
    PRIMARY KEY (kind, value)
);
INSERT INTO customer_identifiers_v6 (kind, value, customer_id, source)
SELECT kind, value, customer_id, source FROM customer_identifiers;
DROP TABLE customer_identifiers;
ALTER TABLE customer_identifiers_v6 RENAME TO customer_identifiers;
CREATE INDEX idx_customer_identifiers_customer ON customer_identifiers(customer_id);
""",
    ),
    Migration(
        7,
        "product categories on order lines, subscription orders",
        """
-- What a line's product is, as the export says (Shopify product type, WooCommerce categories; NULL when the
-- export has no such column) and who makes it (Shopify's Vendor). Lines imported before stay NULL until
-- their order is imported again.
ALTER TABLE order_lines ADD COLUMN category TEXT;
ALTER TABLE order_lines ADD COLUMN vendor TEXT;
-- An order the export tags as a subscription's (Recharge and Shopify subscription apps tag 'Subscription',
-- 'Subscription Recurring Order'): its reorders come by themselves, so no reminder is due for them.
ALTER TABLE orders ADD COLUMN subscription INTEGER NOT NULL DEFAULT 0;
-- A user's SKU -> category map (`insight segments affinity --categories FILE`): wins over the export's.
CREATE TABLE sku_categories (
    sku             TEXT PRIMARY KEY,
    category        TEXT NOT NULL,
    source          TEXT NOT NULL,          -- the file it came from
    loaded_at       TEXT NOT NULL
);
""",
    ),
    Migration(
        8,
        "full-text index declared the way Datasette and sqlite-utils detect it",
        """
-- Datasette (and sqlite-utils' detect_fts) find a table's FTS index by `content=[units]` or `content="units"`
-- in its CREATE statement; migration 1 wrote `content='units'`, so `?_search=` did nothing. The index is
-- external content (the text lives in `units`): dropping and rebuilding it from `units` loses nothing.
DROP TRIGGER units_ai;
DROP TRIGGER units_ad;
DROP TRIGGER units_au;
DROP TABLE units_fts;
CREATE VIRTUAL TABLE units_fts USING fts5(
    text, question, speaker, content=[units], content_rowid=[id], tokenize='porter unicode61'
);
INSERT INTO units_fts (units_fts) VALUES ('rebuild');
CREATE TRIGGER units_ai AFTER INSERT ON units BEGIN
    INSERT INTO units_fts (rowid, text, question, speaker) VALUES (new.id, new.text, new.question, new.speaker);
END;
CREATE TRIGGER units_ad AFTER DELETE ON units BEGIN
    INSERT INTO units_fts (units_fts, rowid, text, question, speaker)
    VALUES ('delete', old.id, old.text, old.question, old.speaker);
END;
-- Sentiment updates must not rewrite the full-text index (as in migration 3).
CREATE TRIGGER units_au AFTER UPDATE OF text, question, speaker ON units BEGIN
    INSERT INTO units_fts (units_fts, rowid, text, question, speaker)
    VALUES ('delete', old.id, old.text, old.question, old.speaker);
    INSERT INTO units_fts (rowid, text, question, speaker) VALUES (new.id, new.text, new.question, new.speaker);
END;
""",
    ),
    Migration(
        9,
        "order numbers name their buyer through orders alone",
        """
-- An order's shop-scoped number ('1001@shopify/fernleaf') was also copied into customer_identifiers, one row
-- per order (452k rows for a 1M-line export, a third of what an orders import wrote). `orders` already holds
-- (platform, shop, order_number) -> customer_id and follows merges, so the copies go; bare numbers that
-- feedback carried ('#1001' in a survey) stay, as before.
DELETE FROM customer_identifiers WHERE kind = 'order' AND instr(value, '@') > 0;
""",
    ),
    Migration(
        10,
        "a theme's display label as a column",
        """
-- The label every screen, brief and export shows: a researcher's rename, else the generated label. Computed
-- by SQLite on read (VIRTUAL: nothing stored), so the rule lives here once instead of in every query, and
-- Datasette users see the same label insight does.
ALTER TABLE themes ADD COLUMN display_label TEXT GENERATED ALWAYS AS (COALESCE(user_label, label)) VIRTUAL;
""",
    ),
    Migration(
        11,
        "the latest snapshot's scores as a view",
        """
-- Every customer's scores and segment in the latest RFM snapshot (by as_of, as `insight segments` reports):
-- what "the customer's segment" means wherever no date is given, and what a Datasette user filters on.
CREATE VIEW latest_rfm_scores AS
    SELECT s.* FROM rfm_scores s
    WHERE s.snapshot_id = (SELECT id FROM rfm_snapshots ORDER BY as_of DESC LIMIT 1);
""",
    ),
    Migration(
        12,
        "theme membership: one view at both levels, with the sub-theme each mention came through",
        """
-- The one answer to "which mentions belong to theme N", for insight and for Datasette users alike. A merge
-- moves the merged theme's rows of unit_themes to the theme it joined (and every run replays merges before
-- it stores), so unit_themes only ever names live themes and this view needs no merge resolution. Each row
-- carries the sub-theme the mention is in and its similarity to that sub-theme's centroid at both levels,
-- so a parent's quotes can be taken from every side of it.
DROP VIEW theme_units;
CREATE VIEW theme_units AS
    SELECT unit_id, scope, theme_id, theme_id AS sub_theme_id, run_id, similarity, reassigned, 'sub' AS level
    FROM unit_themes WHERE theme_id IS NOT NULL
    UNION ALL
    SELECT ut.unit_id, ut.scope, t.parent_id, ut.theme_id, ut.run_id, ut.similarity, ut.reassigned, 'parent'
    FROM unit_themes ut JOIN themes t ON t.id = ut.theme_id
    WHERE t.parent_id IS NOT NULL;
""",
    ),
]

FTS_TABLE = "units_fts"


def default_db_path() -> Path:
    return Path(os.environ.get(DB_ENV_VAR) or DEFAULT_DB)


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open a database with the pragmas every connection needs (no migrations)."""
    db = sqlite_utils.Database(str(path))
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
    if str(path) != ":memory:":
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    return db


def is_locked(exc: sqlite3.OperationalError) -> bool:
    """SQLite's 'database is locked' / 'busy': another connection held the write lock past BUSY_TIMEOUT_MS."""
    text = str(exc)
    return "locked" in text or "busy" in text


def database_error(path: str | Path, exc: sqlite3.OperationalError) -> str:
    """One line for the errors SQLite gives a writer: another process holding the lock, a read-only file."""
    if is_locked(exc):
        return f"{path}: the database is locked by another insight process (an import?); try again when it ends"
    return f"{path}: {exc}"


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database, clock: Clock = utc_now_iso) -> list[int]:
    """Apply pending migrations, each atomically; returns the versions applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = schema_version(db)
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        with transaction(db):
            for statement in split_sql(migration.sql):
                db.conn.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, clock()],
            )
        applied.append(migration.version)
    return applied


def split_sql(script: str) -> list[str]:
    """Split a script into statements (executescript would commit mid-migration)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]}")
    return statements


def open_db(path: str | Path | None = None, clock: Clock = utc_now_iso) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate an insight database."""
    db = connect(path if path is not None else default_db_path())
    migrate(db, clock)
    return db


class DatabaseUnavailable(InsightError):
    """A database a command cannot use: missing (a typo in --db must not become a new empty file), not an
    SQLite file, or, for a read-only connection, older than this insight's schema. The message is one line
    naming the file; the command line prints it as the error."""


def missing_database(path: str | Path) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"{path}: no such database file (check --db or ${DB_ENV_VAR}; "
                               "`insight import ...` or `insight demo` creates one)")


def open_existing(path: str | Path, clock: Clock = utc_now_iso) -> sqlite_utils.Database:
    """`open_db` for commands that read or edit what was imported: a missing file is an error, an
    old-schema one is migrated here, on the writer side, once."""
    path = Path(path)
    if not path.is_file():
        raise missing_database(path)
    try:
        return open_db(path, clock)
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and is_locked(exc):
            raise  # another process writing: the command line says so (insight.cli)
        raise DatabaseUnavailable(f"{path}: not an insight database ({exc})") from None


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """All-or-nothing: commit on success, roll back everything on any exception."""
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("nested transaction: the caller already holds one")
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid the INSERT just run on `cursor` wrote (sqlite3 types `lastrowid` as Optional)."""
    rowid = cursor.lastrowid
    if rowid is None:
        raise RuntimeError("no row id: the statement was not an INSERT")
    return rowid


def table_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Row counts of the user-facing tables (FTS shadow tables left out)."""
    names = [n for n in db.table_names() if not n.startswith(FTS_TABLE)]
    return {name: db[name].count for name in sorted(names)}
