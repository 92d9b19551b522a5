from pathlib import Path

import pytest

from ingest.errors import ImportFailure, Rejected
from ingest.model import DocumentDraft, ImportOptions, ParsedFile, UnitDraft
from ingest.store import store_parsed
from insight.core.identity import identifier
from insight.core.redact import Redactor
from insight.core.window import Window


def parsed_file(tmp_path: Path, answers: dict[str, str], rejected=()) -> ParsedFile:
    path = tmp_path / "export.csv"
    path.write_text("stand-in for the exported file\n")
    docs = [
        DocumentDraft(
            source="survey", external_id=rid, created_at="2026-10-03T14:22:10",
            identifiers=[identifier("email", f"{rid}@example.com")],
            units=[UnitDraft(text=text, kind="answer", question="What almost stopped you?")],
            attributes=[("How did you hear about us?", "TikTok")],
        )
        for rid, text in answers.items()
    ]
    return ParsedFile(str(path), "survey", "typeform", docs, list(rejected), rows_read=len(docs))


def counts(db):
    return {t: db[t].count for t in ("documents", "units", "attributes", "customers", "import_batches")}


def test_import_is_idempotent_and_updates_changed_records(db, tmp_path, clock):
    first = store_parsed(db, parsed_file(tmp_path, {"r1": "price", "r2": "shipping"}), ImportOptions(), Redactor(), clock)
    assert (first.imported, first.updated, first.duplicates) == (2, 0, 0)
    again = store_parsed(db, parsed_file(tmp_path, {"r1": "price", "r2": "shipping"}), ImportOptions(), Redactor(), clock)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 2)
    changed = store_parsed(db, parsed_file(tmp_path, {"r1": "price", "r2": "slow shipping", "r3": "x"}),
                           ImportOptions(), Redactor(), clock)
    assert (changed.imported, changed.updated, changed.duplicates) == (1, 1, 1)
    assert counts(db)["documents"] == 3 and counts(db)["units"] == 3
    assert db.execute("SELECT text FROM units JOIN documents d ON d.id = document_id WHERE external_id='r2'").fetchone()[0] == "slow shipping"


def test_redaction_default_and_keep_raw(db, tmp_path, clock):
    store_parsed(db, parsed_file(tmp_path, {"r1": "ring me on 07700 900123"}), ImportOptions(keep_raw=True), Redactor(), clock)
    text, raw = db.execute("SELECT text, raw_text FROM units").fetchone()
    assert text == "ring me on [PHONE]" and raw == "ring me on 07700 900123"


def test_window_defaults_to_month_and_can_be_given(db, tmp_path, clock):
    store_parsed(db, parsed_file(tmp_path, {"r1": "a"}), ImportOptions(), Redactor(), clock)
    assert db.execute("SELECT window_start, window_end FROM documents").fetchone() == ("2026-10-01", "2026-10-31")
    window = Window.parse("2026-09-15..2026-10-14")
    store_parsed(db, parsed_file(tmp_path, {"r2": "b"}), ImportOptions(window=window), Redactor(), clock)
    assert db.execute("SELECT window_start FROM documents WHERE external_id='r2'").fetchone() == ("2026-09-15",)
    with pytest.raises(ValueError):
        Window.parse("2026-10-31..2026-10-01")


def test_strict_rejects_whole_file_and_keeps_existing_data(db, tmp_path, clock):
    store_parsed(db, parsed_file(tmp_path, {"r1": "a"}), ImportOptions(), Redactor(), clock)
    before = counts(db)
    bad = parsed_file(tmp_path, {"r2": "b"}, rejected=[Rejected("line 3", "no response id")])
    with pytest.raises(ImportFailure, match="line 3: no response id"):
        store_parsed(db, bad, ImportOptions(strict=True), Redactor(), clock)
    assert counts(db) == before


def test_failure_midway_rolls_back_the_file(db, tmp_path, clock, monkeypatch):
    store_parsed(db, parsed_file(tmp_path, {"r1": "a"}), ImportOptions(), Redactor(), clock)
    before = counts(db)

    def explode(texts):
        raise RuntimeError("disk full")

    redactor = Redactor()
    monkeypatch.setattr(redactor, "redact_many", explode)
    with pytest.raises(RuntimeError):
        store_parsed(db, parsed_file(tmp_path, {"r2": "b", "r3": "c"}), ImportOptions(), redactor, clock)
    assert counts(db) == before


def test_update_without_identifiers_keeps_the_customer_link(db, tmp_path, clock):
    linked = parsed_file(tmp_path, {"r1": "great serum"})
    store_parsed(db, linked, ImportOptions(), Redactor(), clock)
    anonymous = parsed_file(tmp_path, {"r1": "great serum!"})
    anonymous.documents[0].identifiers = []
    summary = store_parsed(db, anonymous, ImportOptions(), Redactor(), clock)
    assert summary.updated == 1
    customer_id, key = db.execute("SELECT customer_id, customer_key FROM documents").fetchone()
    assert customer_id is not None and key == "email:r1@example.com"


def test_an_order_number_two_shops_hold_is_counted_ambiguous_not_linked(db, tmp_path, clock):
    from insight.core.db import transaction
    from insight.core.identity import CustomerResolver

    with transaction(db):  # '#1001' is an order of two shops, each with its own buyer
        resolver = CustomerResolver(db, "orders", clock)
        buyers = [resolver.resolve([identifier("email", f"{shop}@example.com")]) for shop in ("main", "outlet")]
        db.conn.executemany(
            "INSERT INTO orders (platform, shop, order_number, customer_id, created_at, created_day, content_hash) "
            "VALUES ('shopify', ?, '1001', ?, '2026-10-01T10:00:00', '2026-10-01', ?)",
            [(shop, cid, shop) for shop, cid in zip(("main", "outlet"), buyers, strict=True)],
        )
    parsed = parsed_file(tmp_path, {"r1": "late parcel"})
    parsed.documents[0].identifiers = [identifier("order", "#1001")]
    summary = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    assert summary.details["order_numbers_ambiguous"] == 1
    assert db.execute("SELECT customer_id FROM documents").fetchone()[0] is None


def test_a_record_repeated_in_one_file_is_kept_once_or_merged_never_lost(db, tmp_path, clock):
    parsed = parsed_file(tmp_path, {"r1": "price", "r2": "shipping"})
    same = parsed_file(tmp_path, {"r1": "price"}).documents[0]  # the same response again (a page exported twice)
    more = parsed_file(tmp_path, {"r2": "and the pump leaked"}).documents[0]  # a second row of one respondent
    parsed.documents += [same, more]
    summary = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    assert (summary.imported, summary.duplicates) == (2, 0)
    assert summary.details["repeated_in_file"] == {"identical_dropped": 1, "merged": 1}
    texts = [r[0] for r in db.execute(
        "SELECT text FROM units JOIN documents d ON d.id = document_id WHERE external_id = 'r2' ORDER BY position")]
    assert texts == ["shipping", "and the pump leaked"]
    again = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 2)
