"""`insight forget` from the command line: every trace of the customer goes, the file keeps none of their
bytes, and nothing is erased without a confirmation."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner
from conftest import FIXTURES, NOW
from test_themes import seed_units

from insight.analysis.embed import HashingEmbedder
from insight.analysis.nlp import LoadedPipeline
from insight.cli import cli
from insight.core.clock import fixed_clock
from insight.core.db import open_db
from insight.core.theme_counts import scope_counts

# Not jo@example.com: the schema's own comments quote that one.
EMAIL = "jo.bloggs@example.net"
# A phrase only Jo said in the interview, and a survey answer Jo shares word for word with another customer.
JO_PHRASE = "sceptical because I have really sensitive skin"
SHARED = "parcel delivery arrived late, parcel delivery late arrived"
JO_ANSWERS = ["parcel delivery took forever, jo courier depot", "courier lost my parcel delivery, jo tracking week"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def _fake_models(monkeypatch) -> None:
    monkeypatch.setattr("insight.analysis.embed.load_embedder", lambda name=None: HashingEmbedder())
    monkeypatch.setattr("insight.analysis.nlp.cached_pipeline",
                        lambda name=None: LoadedPipeline(spacy.blank("en"), "test", False, ""))


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    _fake_models(monkeypatch)
    return CliRunner()


def invoke(runner: CliRunner, db_path: Path, *args: str, input: str | None = None):
    return runner.invoke(cli, ["--db", str(db_path), *args], input=input)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict]:
    """Built once (themes take a while): orders, an interview transcript named after Jo, Jo's survey answers
    among 60 others, and themes."""
    tmp_path = tmp_path_factory.mktemp("brand")
    db_path = tmp_path / "template.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fake_models(monkeypatch)
        info = _build(db_path, fixed_clock(NOW), CliRunner(), FIXTURES, tmp_path)
    return db_path, info


@pytest.fixture
def brand(template, db_path) -> dict:
    shutil.copy(template[0], db_path)  # the build closes its connections: the WAL is checkpointed
    return template[1]


def _build(db_path: Path, clock, runner: CliRunner, fixtures: Path, tmp_path: Path) -> dict:
    db = open_db(db_path, clock)
    seed_units(db, {"delivery": 30, "fabric": 30})
    transcript = tmp_path / f"2026-10-03_{EMAIL}.vtt"
    shutil.copy(fixtures / "interviews" / "2026-10-03_jo@example.com.vtt", transcript)
    assert invoke(runner, db_path, "import", "orders", str(fixtures / "orders" / "woocommerce_orders.csv"),
                  "--json").exit_code == 0
    imported = invoke(runner, db_path, "import", "interview", str(transcript), "--json")
    assert imported.exit_code == 0, imported.output
    jo = db.execute("SELECT customer_id FROM customer_identifiers WHERE value = ?", [EMAIL]).fetchone()[0]
    db.conn.execute(
        """INSERT INTO orders (platform, order_number, customer_id, email, created_at, created_day, total,
           net_revenue, content_hash) VALUES ('shopify', '9001', ?, ?, '2026-10-01T10:00:00+00:00', '2026-10-01',
           40, 40, 'h')""",
        (jo, EMAIL),
    )
    # A record of another file that was rejected, with Jo's email in it.
    db.conn.execute(
        "UPDATE import_batches SET details = ? WHERE kind = 'orders'",
        (json.dumps({"rejected": [{"record": "row 3", "reason": f"no date for {EMAIL}"}, {"record": "row 9"}]}),),
    )
    jo_units = []
    for i, text in enumerate([*JO_ANSWERS, SHARED]):
        doc = db.conn.execute(
            """INSERT INTO documents (source, external_id, format, customer_id, customer_key, created_at,
               window_start, window_end, content_hash) VALUES ('survey', ?, 'test', ?, ?, '2026-10-02T10:00:00+00:00',
               '2026-10-01', '2026-10-28', ?)""",
            (f"jo-{i}", jo, f"email:{EMAIL}", _sha(text)),
        ).lastrowid
        jo_units.append(db.conn.execute(
            """INSERT INTO units (document_id, position, kind, question, text, text_hash, sentiment)
               VALUES (?, 0, 'answer', 'What almost stopped you from buying?', ?, ?, 'negative')""",
            (doc, text, _sha(text)),
        ).lastrowid)
    other = db.conn.execute("SELECT id FROM documents WHERE customer_id IS NULL LIMIT 1").fetchone()[0]
    db.conn.execute("INSERT INTO units (document_id, position, kind, question, text, text_hash) VALUES "
                    "(?, 1, 'answer', 'What almost stopped you from buying?', ?, ?)", (other, SHARED, _sha(SHARED)))
    db.conn.commit()
    themed = invoke(runner, db_path, "themes", "--param", "min_cluster_size=8", "--param",
                    "cluster_selection_method=eom", "--param", "split_fraction=0", "--param",
                    "reassign_member_quantile=-1", "--json")
    assert themed.exit_code == 0, themed.output
    # What the mentions pipeline keeps on a theme (schema 3), and a quote list that starts with Jo.
    theme = db.execute("SELECT theme_id FROM unit_themes WHERE unit_id = ?", [jo_units[0]]).fetchone()[0]
    assert theme is not None
    quotes = json.loads(db.execute("SELECT quotes FROM themes WHERE id = ?", [theme]).fetchone()[0])
    db.conn.execute("UPDATE themes SET quotes = ?, mentions = size, customers = size, negative = 5 WHERE id = ?",
                    (json.dumps([jo_units[0], *quotes]), theme))
    db.conn.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"customer": jo, "units": jo_units, "theme": theme, "transcript": transcript}


def _file_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_forget_leaves_no_trace_in_the_tables_or_the_file(db_path, runner, brand):
    db = open_db(db_path)
    before = {r[0]: r[1:] for r in db.execute("SELECT id, size, mentions, customers, negative FROM themes")}
    in_theme = db.execute(
        "SELECT COUNT(*) FROM unit_themes WHERE theme_id = ? AND unit_id IN (SELECT value FROM json_each(?))",
        [brand["theme"], json.dumps(brand["units"])],
    ).fetchone()[0]
    assert EMAIL.encode() in _file_bytes(db_path) and JO_PHRASE.encode() in _file_bytes(db_path)
    db.close()

    result = invoke(runner, db_path, "forget", EMAIL, "--yes", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ok"] and payload["customer_id"] == brand["customer"] and payload["documents"] == 4
    assert payload["orders"] >= 1 and payload["import_paths"] == 1 and payload["erased_from_disk"]

    db = open_db(db_path)
    # The transcript was named after Jo: its import keeps no path (the old code kept it).
    paths = [r[0] for r in db.execute("SELECT file_path FROM import_batches")]
    assert "[forgotten]" in paths and not any(EMAIL in p for p in paths)
    (details,) = db.execute("SELECT details FROM import_batches WHERE kind = 'orders'").fetchone()
    assert json.loads(details)["rejected"] == [{"record": "row 9"}]
    # Cached vectors of Jo's texts are gone, except the one another customer's identical answer still uses.
    hashes = {r[0] for r in db.execute("SELECT text_hash FROM embeddings")}
    assert not hashes & {_sha(t) for t in JO_ANSWERS} and _sha(SHARED) in hashes
    # Quotes and counts no longer include Jo.
    for (quotes,) in db.execute("SELECT quotes FROM themes WHERE quotes IS NOT NULL"):
        assert not set(json.loads(quotes)) & set(brand["units"])
    for theme_id, size in db.execute("SELECT id, size FROM themes"):
        assert size == db.execute(  # documents, once each
            "SELECT COUNT(DISTINCT u.document_id) FROM theme_units ut JOIN units u ON u.id = ut.unit_id "
            "WHERE ut.theme_id = ?", [theme_id]).fetchone()[0]
    # The theme's numbers are recounted without Jo: one home for them (core/theme_counts.scope_counts).
    stored = db.execute("SELECT size, mentions, customers, negative FROM themes WHERE id = ?", [brand["theme"]]).fetchone()
    (scope,) = db.execute("SELECT scope FROM themes WHERE id = ?", [brand["theme"]]).fetchone()
    fresh = scope_counts(db, scope)[brand["theme"]]
    assert stored == (fresh.documents, fresh.mentions, fresh.customers, fresh.negative)
    assert in_theme > 0 and stored[2] < before[brand["theme"]][2]
    prevalence = db.execute("SELECT COALESCE(SUM(units), 0) FROM theme_prevalence").fetchone()[0]
    assert prevalence == db.execute("SELECT COUNT(*) FROM theme_units").fetchone()[0]
    assert db.execute("SELECT COUNT(*) FROM units_fts WHERE units_fts MATCH 'sceptical'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM customers WHERE id = ?", [brand["customer"]]).fetchone()[0] == 0
    db.close()
    # Not even in free pages, the FTS index or the write-ahead log (the old code left all of them).
    data = _file_bytes(db_path)
    assert EMAIL.encode() not in data and JO_PHRASE.encode() not in data and b"sceptical" not in data


def test_forget_asks_first_and_json_without_yes_refuses(db_path, runner, brand):
    refused = invoke(runner, db_path, "forget", EMAIL, "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.output) == {"ok": False, "error": f"erasing {EMAIL} cannot be undone: pass --yes to confirm"}
    declined = invoke(runner, db_path, "forget", EMAIL, input="n\n")
    assert declined.exit_code == 1 and "4 documents" in declined.output
    db = open_db(db_path)
    assert db.execute("SELECT COUNT(*) FROM customers WHERE id = ?", [brand["customer"]]).fetchone()[0] == 1
    db.close()
    accepted = invoke(runner, db_path, "forget", EMAIL, input="y\n")
    assert accepted.exit_code == 0 and f"Erased customer {brand['customer']}" in accepted.output
    missing = invoke(runner, db_path, "forget", EMAIL, "--yes", "--json")
    assert missing.exit_code == 1 and json.loads(missing.output)["error"] == f"no customer matches {EMAIL!r}"


def test_a_locked_database_is_a_one_line_error(db_path, runner, brand, monkeypatch):
    monkeypatch.setattr("insight.core.db.BUSY_TIMEOUT_MS", 100, raising=False)  # the old code waited 10 s
    holder = sqlite3.connect(db_path)
    holder.execute("BEGIN IMMEDIATE")  # another import holding the write lock
    try:
        as_json = invoke(runner, db_path, "forget", EMAIL, "--yes", "--json")
        plain = invoke(runner, db_path, "forget", EMAIL, "--yes")
    finally:
        holder.rollback()
        holder.close()
    assert as_json.exit_code == 1 and as_json.exception is None or isinstance(as_json.exception, SystemExit)
    assert "locked by another insight process" in json.loads(as_json.output)["error"]
    assert plain.exit_code == 1 and len(plain.output.strip().splitlines()) == 1 and "locked" in plain.output
    assert "Traceback" not in plain.output



def test_a_reader_holding_the_log_is_reported(db_path, runner, brand, monkeypatch):
    monkeypatch.setattr("insight.analysis.forget.CHECKPOINT_WAIT_MS", 100)
    reader = sqlite3.connect(db_path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM units").fetchone()  # an open TUI's read snapshot
    try:
        result = invoke(runner, db_path, "forget", EMAIL, "--yes", "--json")
    finally:
        reader.rollback()
        reader.close()
    payload = json.loads(result.output)
    assert result.exit_code == 0 and payload["ok"] and not payload["erased_from_disk"]
    assert "close it and run `insight forget` again" in payload["warning"]


def _others(db, jo: int) -> dict[str, list[tuple]]:
    """Everything of the other customers (and of nobody) that forgetting Jo must leave as it was."""
    return {
        "customers": db.execute("SELECT * FROM customers WHERE id != ? ORDER BY id", [jo]).fetchall(),
        "identifiers": db.execute("SELECT * FROM customer_identifiers WHERE customer_id != ? ORDER BY kind, value",
                                  [jo]).fetchall(),
        "orders": db.execute("SELECT * FROM orders WHERE customer_id IS NOT ? ORDER BY id", [jo]).fetchall(),
        "order_lines": db.execute("SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id "
                                  "WHERE o.customer_id IS NOT ? ORDER BY l.order_id, l.position", [jo]).fetchall(),
        "documents": db.execute("SELECT * FROM documents WHERE customer_id IS NOT ? ORDER BY id", [jo]).fetchall(),
        "units": db.execute("SELECT u.* FROM units u JOIN documents d ON d.id = u.document_id "
                            "WHERE d.customer_id IS NOT ? ORDER BY u.id", [jo]).fetchall(),
        "unit_themes": db.execute("SELECT ut.* FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d "
                                  "ON d.id = u.document_id WHERE d.customer_id IS NOT ? ORDER BY ut.unit_id",
                                  [jo]).fetchall(),
        "themes": db.execute("SELECT id, label, level, parent_id, status FROM themes ORDER BY id").fetchall(),
        "search": db.execute("SELECT f.rowid FROM units_fts f JOIN units u ON u.id = f.rowid JOIN documents d "
                             "ON d.id = u.document_id WHERE units_fts MATCH 'parcel' AND d.customer_id IS NOT ? "
                             "ORDER BY f.rowid", [jo]).fetchall(),
    }


def _stats(runner: CliRunner, db_path: Path) -> dict:
    result = invoke(runner, db_path, "stats", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["tables"]


def test_forget_keeps_everyone_else_and_a_second_forget_changes_nothing(db_path, runner, brand):
    db = open_db(db_path)
    jo = brand["customer"]
    kept = _others(db, jo)
    jo_orders = db.execute("SELECT COUNT(*) FROM orders WHERE customer_id = ?", [jo]).fetchone()[0]
    db.close()
    assert kept["documents"] and kept["orders"] and kept["units"] and kept["search"]  # sanity: there is someone else
    before = _stats(runner, db_path)

    payload = json.loads(invoke(runner, db_path, "forget", EMAIL, "--yes", "--json").output)
    after = _stats(runner, db_path)
    db = open_db(db_path)
    assert _others(db, jo) == kept
    db.close()
    # stats says what forget said it erased, and nothing else went.
    assert before["customers"] - after["customers"] == 1
    assert before["customer_identifiers"] - after["customer_identifiers"] == payload["identifiers"]
    assert before["orders"] - after["orders"] == payload["orders"] == jo_orders
    assert before["documents"] - after["documents"] == payload["documents"]
    assert before["units"] - after["units"] == payload["units"]
    assert before["embeddings"] - after["embeddings"] == payload["embeddings"]
    assert before["import_batches"] == after["import_batches"] and before["themes"] == after["themes"]

    again = invoke(runner, db_path, "forget", EMAIL, "--yes", "--json")
    assert again.exit_code == 1 and json.loads(again.output) == {"ok": False, "error": f"no customer matches {EMAIL!r}"}
    assert _stats(runner, db_path) == after
    human = invoke(runner, db_path, "forget", EMAIL, "--yes")
    assert human.exit_code == 1 and human.stdout == "" and human.stderr.strip() == f"error: no customer matches {EMAIL!r}"


def test_forget_finds_the_customer_by_their_email_as_typed(db_path, runner, brand):
    ref = f"  {EMAIL.upper()} "
    shown = invoke(runner, db_path, "forget", ref, input="n\n")
    assert shown.exit_code == 1 and f"(customer {brand['customer']})" in shown.stderr and "4 documents" in shown.stderr
    result = invoke(runner, db_path, "forget", ref, "--yes")
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())  # Rich wraps the line
    assert shown.startswith(f"Erased customer {brand['customer']}: 1 identifiers, 1 orders, 4 documents")
    assert shown.endswith("database file rewritten.")
    db = open_db(db_path)
    assert db.execute("SELECT COUNT(*) FROM customer_identifiers WHERE value = ?", [EMAIL]).fetchone()[0] == 0
    db.close()
