"""Order importers: Shopify, WooCommerce, UCI Online Retail / --map; RFM exclusion rules; atomic, idempotent."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import ingest.orders as orders_module
from ingest.errors import ImportFailure
from ingest.order_formats import detect_format, parse_amount, parse_timestamp
from ingest.orders import import_orders, read_orders
from insight.cli import cli
from insight.core.db import table_counts
from insight.core.identity import (
    CustomerResolver,
    find_customer_id,
    identifier,
    normalise_order_number,
    order_holder,
)

UCI_MAP = {
    "order": ["Invoice"], "date": ["InvoiceDate"], "customer_id": ["Customer ID"], "quantity": ["Quantity"],
    "price": ["Price"], "name": ["Description"], "sku": ["StockCode"],
}


@pytest.fixture
def orders_dir(fixtures: Path) -> Path:
    return fixtures / "orders"


def run_import(db, path: Path, clock, fmt=None, mapping=None, strict=False, progress=None):
    return import_orders(db, path, fmt=fmt, mapping=mapping or {}, strict=strict, progress=progress, clock=clock)


def order_rows(db, platform: str, shop: str = "default") -> dict[str, dict]:
    cursor = db.execute("SELECT * FROM orders WHERE platform = ? AND shop = ?", [platform, shop])
    names = [c[0] for c in cursor.description]
    return {row[names.index("order_number")]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def edited_copy(src: Path, dst: Path, order: str, **changes: str) -> Path:
    """A copy of a Shopify export with cells of `order`'s first row changed (by column name, '_' for ' ')."""
    rows = list(csv.reader(src.read_text(encoding="utf-8").splitlines()))
    header = rows[0]
    row = next(r for r in rows[1:] if r[0] == order)
    for name, value in changes.items():
        row[header.index(name.replace("_", " "))] = value
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return dst


def customer_of(db, email: str) -> int | None:
    row = db.execute("SELECT customer_id FROM customer_identifiers WHERE kind = 'email' AND value = ?", [email]).fetchone()
    return row[0] if row else None


# --- Shopify ---------------------------------------------------------------------------------------


def test_shopify_orders_group_lines_and_keep_order_level_values(db, orders_dir, clock):
    summary = run_import(db, orders_dir / "shopify_orders.csv", clock)
    assert (summary.format, summary.rows_read, summary.imported, summary.rejected) == ("shopify", 19, 17, [])
    rows = order_rows(db, "shopify")
    first = rows["1001"]  # two line items; order-level columns only on the first
    assert (first["total"], first["subtotal"], first["taxes"], first["currency"]) == (100.0, 92.0, 8.0, "USD")
    lines = db.execute(
        "SELECT position, name, sku, quantity, price FROM order_lines WHERE order_id = ? ORDER BY position", [first["id"]]
    ).fetchall()
    assert lines == [(1, "Linen Shirt - Sand / M", "SKU-0001", 1.0, 68.0), (2, "Organic Socks 3-Pack", "SKU-0008", 1.0, 24.0)]
    assert first["created_at"] == "2026-11-20T10:00:00-05:00"
    assert first["external_id"] == "5001123"


def test_created_day_is_the_utc_date(db, orders_dir, clock):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    late_evening = order_rows(db, "shopify")["1004"]  # 22:30 at -05:00 is 03:30 UTC the next day
    assert (late_evening["created_at"], late_evening["created_day"]) == ("2026-11-10T22:30:00-05:00", "2026-11-11")


def test_exclusion_rules_and_net_revenue(db, orders_dir, clock):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    rows = order_rows(db, "shopify")
    reasons = {number: row["exclusion_reason"] for number, row in rows.items() if not row["counts_for_rfm"]}
    assert reasons == {
        "1008": "cancelled",  # voided with a Cancelled at date
        "1009": "fully_refunded",
        "1012": "test",  # Bogus gateway
        "1013": "zero_value",  # 100% discount seeding order
        "1017": "no_customer",  # POS sale without an email
    }
    partial = rows["1003"]
    assert (partial["counts_for_rfm"], partial["total"], partial["refunded"], partial["net_revenue"]) == (1, 80.0, 30.0, 50.0)
    assert rows["1009"]["net_revenue"] == 0.0


def test_one_customer_per_normalised_email_and_order_numbers_as_identifiers(db, orders_dir, clock):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    rows = order_rows(db, "shopify")
    ana = customer_of(db, "ana@example.com")
    assert {rows[n]["customer_id"] for n in ("1001", "1002", "1003")} == {ana}  # ' Ana@Example.COM ' included
    assert customer_of(db, "ben@example.com") == rows["1004"]["customer_id"]  # 'Ben@Example.com'
    # Order numbers are stored scoped to their shop; a bare '#1001' (what a survey carries) still finds Ana.
    assert order_holder(db, "1001@shopify/default") == ana
    assert db.execute("SELECT COUNT(*) FROM customer_identifiers WHERE kind = 'order'").fetchone()[0] == 0
    assert find_customer_id(db, identifier("order", "#1001")) == ana
    assert rows["1017"]["customer_id"] is None


def test_reimport_is_idempotent(db, orders_dir, clock):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    before = table_counts(db)
    again = run_import(db, orders_dir / "shopify_orders.csv", clock)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 17)
    after = table_counts(db)
    assert after.pop("import_batches") == before.pop("import_batches") + 1
    assert after == before


def test_changed_order_updates_in_place(db, orders_dir, clock, tmp_path):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    original = order_rows(db, "shopify")["1001"]
    later = edited_copy(orders_dir / "shopify_orders.csv", tmp_path / "later_export.csv", "#1001",
                        Financial_Status="refunded", Refunded_Amount="100.00")
    summary = run_import(db, later, clock)
    assert (summary.imported, summary.updated, summary.duplicates) == (0, 1, 16)
    updated = order_rows(db, "shopify")["1001"]
    assert updated["id"] == original["id"]
    assert (updated["refunded"], updated["net_revenue"], updated["counts_for_rfm"], updated["exclusion_reason"]) == (
        100.0, 0.0, 0, "fully_refunded")
    assert db.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ?", [original["id"]]).fetchone()[0] == 2


def test_an_order_number_known_from_feedback_merges_into_the_buyer(db, orders_dir, clock):
    from insight.core.db import transaction

    with transaction(db):  # e.g. a post-purchase survey that only carried the order number
        survey_customer = CustomerResolver(db, "survey", clock).resolve([identifier("order", "#1016")])
    summary = run_import(db, orders_dir / "shopify_orders.csv", clock)
    assert summary.details["customers_merged"] == 1
    assert customer_of(db, "jonas.k@example.com") == survey_customer
    rows = order_rows(db, "shopify")
    assert rows["1015"]["customer_id"] == rows["1016"]["customer_id"] == survey_customer


def test_progress_reports_rows(db, orders_dir, clock):
    seen: list[int] = []
    run_import(db, orders_dir / "shopify_orders.csv", clock, progress=seen.append)
    assert seen and seen[-1] == 19


# --- WooCommerce ------------------------------------------------------------------------------------


def test_woocommerce_export(db, orders_dir, clock):
    summary = run_import(db, orders_dir / "woocommerce_orders.csv", clock)
    assert (summary.format, summary.imported, summary.rows_read) == ("woocommerce", 7, 8)
    rows = order_rows(db, "woocommerce")
    assert {n: (r["financial_status"], r["exclusion_reason"]) for n, r in rows.items()} == {
        "2001": ("completed", None),
        "2002": ("refunded", "fully_refunded"),
        "2003": ("cancelled", "cancelled"),
        "2004": ("pending", "unpaid"),
        "2005": ("processing", None),
        "2006": ("completed", None),
        "2007": ("completed", None),
    }
    assert (rows["2007"]["refunded"], rows["2007"]["net_revenue"]) == (20.0, 60.0)  # refund exported as -20.00
    assert (rows["2001"]["total"], rows["2001"]["currency"], rows["2001"]["created_day"]) == (59.9, "EUR", "2026-11-02")
    assert db.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ?", [rows["2001"]["id"]]).fetchone()[0] == 2
    # Customer User 12 ties Kai's two emails together; 0 (guest) ties nothing.
    assert customer_of(db, "kai@example.com") == customer_of(db, "kai.work@example.com") == rows["2006"]["customer_id"]
    assert customer_of(db, "lena@example.com") != customer_of(db, "jo@example.com")
    assert db.execute("SELECT COUNT(*) FROM customer_identifiers WHERE kind = 'customer_id' AND value = '0'").fetchone()[0] == 0


# --- UCI Online Retail and --map ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt,mapping", [(None, None), ("generic", UCI_MAP)], ids=["detected", "mapped"])
def test_online_retail_layout(db, orders_dir, clock, fmt, mapping):
    summary = run_import(db, orders_dir / "online_retail.csv", clock, fmt=fmt, mapping=mapping)
    assert summary.format == ("online_retail" if fmt is None else "generic")
    rows = order_rows(db, "generic")
    assert set(rows) == {"489434", "489435", "489436", "489437", "C489449"}
    assert rows["489434"]["total"] == pytest.approx(12 * 6.95 + 12 * 6.75 + 48 * 2.10)  # no total column: lines
    assert rows["489434"]["created_at"] == "2010-12-01T07:45:00"  # 12/1/2010 month-first (12/13/2010 decides)
    assert rows["C489449"]["exclusion_reason"] == "cancelled"  # negative quantities: a credit note
    assert rows["489435"]["exclusion_reason"] == "no_customer"
    # '13085.0' normalised (and scoped to its shop); the id on the second line of 489436 is used when the
    # first line lacks it
    customer = find_customer_id(db, identifier("customer_id", "13085"))
    assert rows["489436"]["customer_id"] == rows["489434"]["customer_id"] == customer
    assert rows["489436"]["counts_for_rfm"] == 1


def test_detect_format_from_headers():
    assert detect_format(["Name", "Email", "Financial Status", "Lineitem name"]) == "shopify"
    assert detect_format(["order_id", "order_number", "status", "billing_email"]) == "woocommerce"
    assert detect_format(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate"]) == "online_retail"
    assert detect_format(["Date", "Amount"]) is None


# --- values --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,value", [
    ("12.50", 12.5), ("$1,234.50", 1234.5), ("1.234,50 €", 1234.5), ("12,50", 12.5), ("(5.00)", -5.0),
    ("1,234", 1234.0), ("", None),
])
def test_parse_amount(text, value):
    assert parse_amount(text) == value


def test_parse_timestamp():
    assert parse_timestamp("2026-10-03 14:22:10 -0500") == ("2026-10-03T14:22:10-05:00", "2026-10-03")
    assert parse_timestamp("2026-10-03 20:22:10 -0500") == ("2026-10-03T20:22:10-05:00", "2026-10-04")
    assert parse_timestamp("03/10/2026 14:22", dayfirst=True) == ("2026-10-03T14:22:00", "2026-10-03")
    assert parse_timestamp("yesterday") is None


# --- bad input -----------------------------------------------------------------------------------------


def test_unknown_layout_names_file_and_what_is_expected(db, tmp_path, clock):
    path = tmp_path / "export.csv"
    path.write_text("Date,Amount\n2026-10-01,12.00\n", encoding="utf-8")
    with pytest.raises(ImportFailure) as info:
        run_import(db, path, clock)
    assert "export.csv" in info.value.message and "--map" in info.value.message
    assert table_counts(db)["orders"] == 0


def test_map_naming_a_missing_column(db, orders_dir, clock):
    with pytest.raises(ImportFailure) as info:
        run_import(db, orders_dir / "online_retail.csv", clock, fmt="generic", mapping={**UCI_MAP, "email": ["E-mail"]})
    assert "no column named 'E-mail'" in info.value.message


def test_bad_record_rejected_with_its_line_and_the_rest_imported(db, orders_dir, clock, tmp_path):
    bad = edited_copy(orders_dir / "shopify_orders.csv", tmp_path / "orders.csv", "#1006", Created_at="15th of Sept")
    summary = run_import(db, bad, clock)
    assert summary.imported == 16
    assert [(r.record, r.reason) for r in summary.rejected] == [
        ("line 12", "order #1006: date '15th of Sept' is not a date (expected e.g. 2026-10-03 14:22:10 -0500)")
    ]
    with pytest.raises(ImportFailure) as info:  # --strict: nothing from the file
        run_import(db, bad, clock, strict=True)
    assert "orders.csv, line 12" in info.value.message


def test_strict_failure_writes_nothing(db, orders_dir, clock, tmp_path):
    bad = edited_copy(orders_dir / "shopify_orders.csv", tmp_path / "orders.csv", "#1010", Total="45.oo")
    with pytest.raises(ImportFailure) as info:
        run_import(db, bad, clock, strict=True)
    assert "total '45.oo' is not an amount" in info.value.message
    counts = table_counts(db)
    assert (counts["orders"], counts["customers"], counts["import_batches"]) == (0, 0, 0)


def test_failure_while_writing_rolls_everything_back(db, orders_dir, clock, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(orders_module, "_details", boom)
    with pytest.raises(RuntimeError):
        run_import(db, orders_dir / "shopify_orders.csv", clock)
    counts = table_counts(db)
    assert counts["orders"] == counts["order_lines"] == counts["customers"] == counts["customer_identifiers"] == 0


@pytest.mark.parametrize("content,problem", [
    (b"%PDF-1.4 binary", "PDF"), (b"   \n", "empty"), (b"Name,Email\n", "not a known order export"),
])
def test_unusable_files(db, tmp_path, clock, content, problem):
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailure) as info:
        run_import(db, path, clock)
    assert problem in info.value.message


def test_missing_file(db, tmp_path, clock):
    with pytest.raises(ImportFailure, match="file not found"):
        run_import(db, tmp_path / "nope.csv", clock)


def test_excel_cp1252_semicolon_export(db, orders_dir, tmp_path, clock):
    text = (orders_dir / "woocommerce_orders.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines()]
    path = tmp_path / "woo_excel.csv"
    path.write_bytes("\r\n".join(";".join(cells) for cells in rows).encode("cp1252"))
    summary = run_import(db, path, clock)
    assert (summary.imported, summary.rejected) == (7, [])
    assert read_orders(path).orders[0].order_number == "2001"


def test_orders_without_customer_columns_are_refused(db, tmp_path, clock):
    path = tmp_path / "x.csv"
    path.write_text("Invoice,Date,Total\n1,2026-10-01,5\n", encoding="utf-8")
    with pytest.raises(ImportFailure, match="email, customer_id, phone or billing_name"):
        run_import(db, path, clock, fmt="generic", mapping={"order": ["Invoice"], "date": ["Date"], "total": ["Total"]})


def test_generic_orders_identified_by_phone_alone_are_imported(db, tmp_path, clock):
    path = tmp_path / "cod.csv"
    path.write_text("Invoice,Date,Total,Phone,Country\n1,2026-10-01,5,+44 7911 123456,GB\n"
                    "2,2026-10-09,7,07911 123456,GB\n", encoding="utf-8")
    summary = run_import(db, path, clock, fmt="generic", mapping={
        "order": ["Invoice"], "date": ["Date"], "total": ["Total"], "phone": ["Phone"], "billing_country": ["Country"]})
    assert (summary.imported, summary.rejected) == (2, [])
    owners = {r[0] for r in db.execute("SELECT customer_id FROM orders")}
    assert len(owners) == 1 and None not in owners  # one buyer, by their normalised phone


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_import_orders_json(db_path, orders_dir, tmp_path):
    copy = tmp_path / "online_retail.csv"
    shutil.copy(orders_dir / "online_retail.csv", copy)
    mapping = "order=Invoice,date=InvoiceDate,customer_id=Customer ID,quantity=Quantity,price=Price,name=Description"
    result = CliRunner().invoke(
        cli, ["--db", str(db_path), "import", "orders", str(orders_dir / "shopify_orders.csv"), str(copy),
              "--format", "generic", "--map", mapping, "--json"],
    )
    payload = json.loads(result.output)  # one JSON object, nothing else
    assert result.exit_code == 1  # the Shopify file has no 'Invoice' column under --format generic
    assert [f["file"] for f in payload["files"]] == [str(copy)]
    assert "no column named 'Invoice'" in payload["failed"][0]["error"]
    assert payload["files"][0]["details"]["excluded"] == {"cancelled": 1, "no_customer": 1}


# --- shops: order numbers are unique per shop only (issue 14) ----------------------------------------------


def other_shop_copy(src: Path, dst: Path, keep: int = 17) -> Path:
    """Another shop's Shopify export with the same order numbers: other buyers, a year earlier.

    Only the first `keep` orders (by number) are kept, so the rest of the numbers exist in one shop only.
    """
    rows = list(csv.reader(src.read_text(encoding="utf-8").splitlines()))
    header = rows[0]
    name, email, created, paid = (header.index(c) for c in ("Name", "Email", "Created at", "Paid at"))
    kept = sorted({r[name] for r in rows[1:]})[:keep]
    out = [header]
    for row in rows[1:]:
        if row[name] not in kept:
            continue
        if row[email]:
            row[email] = "outlet." + row[email].strip()
        for col in (created, paid):
            row[col] = row[col].replace("2026-", "2025-")
        out.append(row)
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(out)
    return dst


def test_a_second_shops_overlapping_numbers_are_refused_not_merged(db, orders_dir, clock, tmp_path):
    # Old code: the second file 'updated' 17 orders of the first shop and merged their buyers.
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    before = table_counts(db)
    first_shop = order_rows(db, "shopify")
    outlet = other_shop_copy(orders_dir / "shopify_orders.csv", tmp_path / "orders_export.csv")
    with pytest.raises(ImportFailure) as info:
        run_import(db, outlet, clock)
    message = info.value.message
    assert "orders_export.csv: 15 order numbers (#1001, #1002, #1003, #1004, #1005 and 10 more)" in message
    assert "--shop NAME" in message  # #1011 (same date) and #1017 (no buyer either side) are not collisions
    assert "\n" not in message
    assert table_counts(db) == before  # nothing written, not even the batch

    summary = import_orders(db, outlet, fmt=None, mapping={}, strict=False, progress=None, clock=clock, shop="Outlet")
    assert (summary.imported, summary.updated, summary.details["customers_merged"]) == (17, 0, 0)
    assert summary.details["shops"] == {"outlet": 17}
    assert order_rows(db, "shopify") == first_shop  # the first shop's orders untouched
    numbers = db.execute("SELECT shop, customer_id FROM orders WHERE order_number = '1001' ORDER BY shop").fetchall()
    assert [s for s, _ in numbers] == ["default", "outlet"] and numbers[0][1] != numbers[1][1]
    again = import_orders(db, outlet, fmt=None, mapping={}, strict=False, progress=None, clock=clock, shop="outlet")
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 17)


def test_the_same_file_under_another_shop_name_is_refused(db, orders_dir, clock):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    with pytest.raises(ImportFailure) as info:
        import_orders(db, orders_dir / "shopify_orders.csv", fmt=None, mapping={}, strict=False, progress=None,
                      clock=clock, shop="main")
    assert "already stored, unchanged, under shopify shop 'default'" in info.value.message
    assert "--shop default" in info.value.message
    assert table_counts(db)["orders"] == 17


def test_a_corrected_email_on_the_same_order_is_an_update_not_a_collision(db, orders_dir, clock, tmp_path):
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    fixed = edited_copy(orders_dir / "shopify_orders.csv", tmp_path / "fixed.csv", "#1016", Email="jonas@example.com")
    summary = run_import(db, fixed, clock)
    assert (summary.imported, summary.updated, summary.duplicates) == (0, 1, 16)
    assert order_rows(db, "shopify")["1016"]["email"] == "jonas@example.com"


def test_feedback_order_numbers_link_only_where_one_shop_has_them(db, orders_dir, clock, tmp_path):
    from insight.core.db import transaction

    run_import(db, orders_dir / "shopify_orders.csv", clock)
    outlet = other_shop_copy(orders_dir / "shopify_orders.csv", tmp_path / "outlet.csv", keep=5)  # #1001-#1005
    import_orders(db, outlet, fmt=None, mapping={}, strict=False, progress=None, clock=clock, shop="outlet")
    jonas = customer_of(db, "jonas.k@example.com")
    assert find_customer_id(db, identifier("order", "#1016")) == jonas  # one shop has #1016
    assert find_customer_id(db, identifier("order", "#1001")) is None  # two shops: not guessed
    with transaction(db):  # what a survey answer carrying only "Order #…" does
        resolver = CustomerResolver(db, "survey", clock)
        assert resolver.resolve([identifier("order", "1016")]) == jonas
        assert resolver.resolve([identifier("order", "#1001")]) is None
        assert resolver.ambiguous == 1
        assert resolver.resolve([identifier("email", "new@example.com"), identifier("order", "#1002")]) is not None
    assert db.execute("SELECT COUNT(*) FROM customer_identifiers WHERE kind = 'order' AND value IN ('1001', '1002', "
                      "'1016')").fetchone()[0] == 0  # bare numbers matched to a shop's order are not stored


def test_feedback_linked_by_an_order_number_is_unlinked_when_a_second_shop_has_it(db, orders_dir, clock, tmp_path):
    from insight.core.db import transaction

    with transaction(db):  # a survey imported first, answered by the buyer of #1002 with nothing but the number
        survey_customer = CustomerResolver(db, "survey", clock).resolve([identifier("order", "#1002")])
        db.conn.execute(
            "INSERT INTO documents (source, external_id, format, customer_id, customer_key, content_hash) "
            "VALUES ('survey', 'r1', 'typeform', ?, 'order:1002', 'h')", [survey_customer])
    run_import(db, orders_dir / "shopify_orders.csv", clock)
    ana = customer_of(db, "ana@example.com")
    assert db.execute("SELECT customer_id FROM documents").fetchone()[0] == ana  # merged into the buyer
    outlet = other_shop_copy(orders_dir / "shopify_orders.csv", tmp_path / "outlet.csv", keep=5)
    summary = import_orders(db, outlet, fmt=None, mapping={}, strict=False, progress=None, clock=clock, shop="outlet")
    assert (summary.details["order_numbers_ambiguous"], summary.details["feedback_unlinked"]) == (1, 1)
    assert "now exist in several shops" in summary.details["note"]
    assert db.execute("SELECT customer_id FROM documents").fetchone()[0] is None
    assert customer_of(db, "ana@example.com") == ana  # her orders stay hers


def test_migration_4_scopes_existing_orders_to_the_default_shop(tmp_path, clock, monkeypatch):
    import insight.core.db as dbmod

    path = tmp_path / "v3.db"
    monkeypatch.setattr(dbmod, "MIGRATIONS", dbmod.MIGRATIONS[:3])
    old = dbmod.open_db(path, clock)
    old.conn.execute("INSERT INTO customers (id, display_key, created_at) VALUES (1, 'ana@example.com', 'x')")
    old.conn.executemany("INSERT INTO customer_identifiers (kind, value, customer_id, source) VALUES (?, ?, 1, ?)",
                         [("email", "ana@example.com", "orders"), ("order", "1001", "orders"), ("order", "77", "survey"),
                          ("customer_id", "12", "orders"), ("customer_id", "99", "survey")])
    old.conn.execute(
        "INSERT INTO orders (id, platform, order_number, customer_id, email, created_at, created_day, total, "
        "net_revenue, content_hash) VALUES (5, 'shopify', '1001', 1, 'ana@example.com', '2026-10-01T10:00:00', "
        "'2026-10-01', 50, 50, 'h')")
    old.conn.executemany("INSERT INTO order_lines (order_id, position, name, quantity, price) VALUES (5, ?, ?, 1, 25)",
                         [(1, "Soap"), (2, "Brush")])
    old.conn.commit()
    old.conn.close()
    monkeypatch.undo()

    db = dbmod.open_db(path, clock)
    assert dbmod.schema_version(db) == dbmod.MIGRATIONS[-1].version
    assert db.execute("SELECT id, platform, shop, order_number, customer_id, total FROM orders").fetchall() == [
        (5, "shopify", "default", "1001", 1, 50.0)]
    assert db.execute("SELECT position, name FROM order_lines WHERE order_id = 5 ORDER BY position").fetchall() == [
        (1, "Soap"), (2, "Brush")]
    assert sorted(db.execute("SELECT kind, value, source FROM customer_identifiers").fetchall()) == [
        ("customer_id", "12@shopify/default", "orders"), ("customer_id", "99", "survey"),
        ("email", "ana@example.com", "orders"), ("order", "77", "survey")]  # #1001's buyer: orders (migration 9)
    assert find_customer_id(db, identifier("order", "1001")) == 1
    db.conn.execute("INSERT INTO orders (platform, shop, order_number, created_at, created_day, content_hash) "
                    "VALUES ('shopify', 'outlet', '1001', 'x', 'x', 'h2')")  # a second shop's #1001 fits now
    db.conn.execute("DELETE FROM orders WHERE id = 5")
    assert db.execute("SELECT COUNT(*) FROM order_lines").fetchone()[0] == 0  # the cascade still holds


# --- real export layouts and Excel re-saves (tests/fixtures/orders_real) --------------------------------------


@pytest.fixture
def real(fixtures: Path) -> Path:
    return fixtures / "orders_real"


def test_row_narrower_than_the_header_is_rejected_not_read_shifted(db, real, clock):
    # Old code padded the short row of #2004: its total became 0 and it was stored as a zero-value order.
    summary = run_import(db, real / "woocommerce_width_mismatch.csv", clock)
    assert sorted(order_rows(db, "woocommerce")) == ["2001", "2003", "2005"]
    assert [(r.record, r.reason.split(" (")[0]) for r in summary.rejected] == [
        ("line 3", "the row has 11 cells but the header has 10"),
        ("line 5", "the row has 9 cells but the header has 10"),
    ]


def test_a_file_with_many_misaligned_rows_is_refused(db, real, clock):
    # Old code imported the 4 aligned rows and rejected 6: a file whose columns cannot be trusted.
    with pytest.raises(ImportFailure) as info:
        run_import(db, real / "woocommerce_broken_separator.csv", clock)
    assert "6 of 10 rows have more or fewer cells than the header (first: line 3" in info.value.message
    assert table_counts(db)["orders"] == 0


def test_excel_resaved_shopify_export(db, real, clock):
    # Old code rejected every order: '3/11/20 23:38' (a two-digit year) was not a date.
    summary = run_import(db, real / "shopify_excel_resaved.csv", clock)
    assert (summary.format, summary.imported, summary.rejected) == ("shopify", 5, [])
    rows = order_rows(db, "shopify")
    assert (rows["1001"]["created_at"], rows["1001"]["total"], rows["1001"]["subtotal"]) == (
        "2020-03-11T23:38:00", 1234.5, 1150.0)
    assert rows["1003"]["total"] == 2480.0
    assert db.execute("SELECT quantity FROM order_lines WHERE order_id = ?", [rows["1003"]["id"]]).fetchone() == (1000.0,)
    assert {r["external_id"] for r in rows.values()} == {None}  # '4.56789E+12' is every order's 'id': no id
    assert rows["1002"]["refunded"] == 30.0
    assert rows["1004"]["exclusion_reason"] == "cancelled"
    assert rows["1001"]["customer_id"] == rows["1004"]["customer_id"] == customer_of(db, "maya@example.com")


def test_excel_copy_after_the_original_updates_in_place_keeping_what_excel_lost(db, real, clock):
    run_import(db, real / "shopify_original.csv", clock)
    original = order_rows(db, "shopify")
    summary = run_import(db, real / "shopify_excel_resaved.csv", clock)
    assert (summary.imported, summary.updated) == (0, 5)  # the same orders: no collision, no new rows
    rows = order_rows(db, "shopify")
    assert (rows["1001"]["created_at"], rows["1001"]["created_day"]) == ("2020-03-11T23:38:10-05:00", "2020-03-12")
    assert rows["1001"]["external_id"] == "4567890123456"
    assert {n: (r["id"], r["customer_id"], r["total"]) for n, r in rows.items()} == {
        n: (r["id"], r["customer_id"], r["total"]) for n, r in original.items()}


def test_woocommerce_advanced_order_export_labels(db, real, clock):
    # Old code refused the file: 'Email (Billing)' was not known, so it was not recognised as WooCommerce.
    summary = run_import(db, real / "woocommerce_advanced_export.csv", clock)
    assert (summary.format, summary.imported, summary.rejected) == ("woocommerce", 6, [])
    rows = order_rows(db, "woocommerce")
    assert {n: (r["financial_status"], r["exclusion_reason"]) for n, r in rows.items()} == {
        "3101": ("completed", None), "3102": ("pending payment", "unpaid"), "3103": ("refunded", "fully_refunded"),
        "3104": ("processing", None), "3105": ("cancelled", "cancelled"),
        "3106": ("on hold", "pending"),  # a bank transfer not yet arrived: awaiting payment (--count-pending)
    }
    assert (rows["3101"]["total"], rows["3101"]["taxes"], rows["3101"]["shipping"]) == (27.89, 3.99, 4.9)
    assert (rows["3104"]["refunded"], rows["3104"]["net_revenue"], rows["3104"]["discount"]) == (21.0, 74.59, 5.0)
    lines = db.execute("SELECT name, sku FROM order_lines WHERE order_id = ? ORDER BY position", [rows["3101"]["id"]])
    assert lines.fetchall() == [("Sencha Green Tea", "TEA-01"), ("Stoneware Cup", "CUP-02")]
    assert rows["3104"]["customer_id"] == rows["3105"]["customer_id"]  # JAN.K@EXAMPLE.COM is jan.k@example.com


def test_legacy_shopify_layout_without_id_refunds_or_tags(db, real, clock):
    summary = run_import(db, real / "shopify_legacy.csv", clock)
    assert (summary.format, summary.imported, summary.rejected) == ("shopify", 4, [])
    rows = order_rows(db, "shopify")
    assert {n: r["exclusion_reason"] for n, r in rows.items()} == {
        "1031": None, "1032": "no_customer", "1033": None, "1034": "fully_refunded"}
    assert (rows["1031"]["total"], rows["1031"]["created_day"], rows["1031"]["external_id"]) == (
        100.63, "2014-11-25", None)
    assert db.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ?", [rows["1031"]["id"]]).fetchone() == (2,)


def test_a_repeated_column_takes_the_later_copy_where_the_first_is_empty(db, real, clock):
    # Old code read only the first 'Email': the guest orders 502 and 503 had no customer.
    run_import(db, real / "woocommerce_repeated_columns.csv", clock)
    rows = order_rows(db, "woocommerce")
    assert {n: r["email"] for n, r in rows.items()} == {
        "501": "ola@example.com", "502": "guest.one@example.com", "503": "guest.two@example.com",
        "504": "ola@example.com"}
    assert {r["exclusion_reason"] for r in rows.values()} == {None}


def test_orders_of_two_shops_in_one_file_stay_apart(db, real, clock):
    # Old code grouped both shops' 1001 rows into one order of the first buyer.
    summary = run_import(db, real / "orders_two_shops.csv", clock)
    assert summary.imported == 4
    assert summary.details["shops"] == {"harbour goods": 2, "harbour outlet": 2}
    first = db.execute("SELECT shop, email, total FROM orders WHERE order_number = '1001' ORDER BY shop").fetchall()
    assert first == [("harbour goods", "maya@example.com", 30.0), ("harbour outlet", "theo@example.com", 75.0)]


def test_leading_zeros_excel_dropped_still_meet_the_original(db, real, clock):
    # Old code stored '000123' and '123' as two orders (and customer ids '00042' and '42' as two people).
    run_import(db, real / "woocommerce_padded_numbers.csv", clock)
    summary = run_import(db, real / "woocommerce_padded_numbers_excel.csv", clock)
    assert (summary.imported, summary.updated) == (0, 3)
    rows = order_rows(db, "woocommerce")
    assert sorted(rows) == ["123", "124", "125"]
    assert rows["125"]["exclusion_reason"] == "fully_refunded"  # refunded since: updated in place
    assert rows["123"]["customer_id"] == rows["124"]["customer_id"] == customer_of(db, "ana.work@example.com")
    assert rows["123"]["created_at"] == "2026-08-01T10:00:00"


@pytest.mark.parametrize("raw,value", [
    ("13085.0", "13085"), ("013085", "13085"), ("13,085", "13085"), ("1.23457E+12", None), ("0", "0"), ("C-0042", "C-0042"),
])
def test_customer_ids_as_excel_writes_them(raw, value):
    assert (identifier("customer_id", raw).value if identifier("customer_id", raw) else None) == value


def test_short_excel_years():
    assert parse_timestamp("3/11/20 23:38") == ("2020-03-11T23:38:00", "2020-03-11")
    assert parse_timestamp("11/3/99 8:05", dayfirst=True) == ("1999-03-11T08:05:00", "1999-03-11")
    assert normalise_order_number("#001001") == "1001"


def test_cli_second_shop(db_path, orders_dir, tmp_path):
    outlet = other_shop_copy(orders_dir / "shopify_orders.csv", tmp_path / "B.csv")
    base = ["--db", str(db_path), "import", "orders"]
    first = CliRunner().invoke(cli, [*base, str(orders_dir / "shopify_orders.csv"), "--json"])
    assert first.exit_code == 0
    refused = CliRunner().invoke(cli, [*base, str(outlet), "--json"])
    assert refused.exit_code == 1
    assert "pass --shop" not in refused.output and "--shop NAME" in json.loads(refused.output)["failed"][0]["error"]
    second = CliRunner().invoke(cli, [*base, str(outlet), "--shop", "outlet", "--json"])
    assert second.exit_code == 0 and json.loads(second.output)["totals"]["imported"] == 17


def test_title_rows_above_the_header_european_excel(db, real, clock):
    # Old code refused the file: it took the title row for the header.
    summary = run_import(db, real / "woocommerce_title_rows_semicolon.csv", clock)
    assert (summary.format, summary.imported, summary.rejected) == ("woocommerce", 3, [])
    assert "the header is on line 3" in summary.details["note"]
    rows = order_rows(db, "woocommerce")
    assert (rows["4001"]["total"], rows["4001"]["created_at"]) == (1234.5, "2020-03-13T09:15:00")  # day-first
    assert rows["4003"]["exclusion_reason"] == "fully_refunded"
    assert rows["4001"]["customer_id"] == rows["4003"]["customer_id"]


def test_title_rows_are_not_skipped_under_map(db, real, clock):
    with pytest.raises(ImportFailure, match="no column named 'Order Number'"):
        run_import(db, real / "woocommerce_title_rows_semicolon.csv", clock, fmt="generic",
                   mapping={"order": ["Order Number"], "date": ["Order Date"], "email": ["Billing Email"]})


def test_two_shops_customer_ids_are_two_people(db, orders_dir, clock, tmp_path):
    # Old code: WooCommerce 'Customer User' 12 of the outlet merged with customer 12 of the first shop (Kai).
    run_import(db, orders_dir / "woocommerce_orders.csv", clock)
    kai = customer_of(db, "kai@example.com")
    text = (orders_dir / "woocommerce_orders.csv").read_text(encoding="utf-8")
    outlet = tmp_path / "outlet.csv"
    outlet.write_text(text.replace("@example.com", "@outlet.example").replace("2026-", "2025-"), encoding="utf-8")
    summary = import_orders(db, outlet, fmt=None, mapping={}, strict=False, progress=None, clock=clock, shop="outlet")
    assert summary.details["customers_merged"] == 0
    other = customer_of(db, "kai@outlet.example")
    assert other != kai and customer_of(db, "kai.work@outlet.example") == other  # 12 still ties within a shop
    assert find_customer_id(db, identifier("customer_id", "12")) is None  # customer 12 of which shop? not guessed


def test_a_customer_id_known_from_feedback_still_meets_the_buyer(db, orders_dir, clock):
    from insight.core.db import transaction

    with transaction(db):  # e.g. a post-purchase survey that carried the shop's customer id only
        survey_customer = CustomerResolver(db, "survey", clock).resolve([identifier("customer_id", "13085")])
    summary = run_import(db, orders_dir / "online_retail.csv", clock)
    assert summary.details["customers_merged"] == 1
    assert order_rows(db, "generic")["489434"]["customer_id"] == survey_customer
    with transaction(db):
        assert CustomerResolver(db, "survey", clock).resolve([identifier("customer_id", "13085.0")]) == survey_customer


# --- how the file is read: the reading layer every kind shares ---------------------------------------


def padded_shopify(orders_dir: Path, copies: int = 260) -> tuple[list[str], list[list[str]]]:
    """The Shopify fixture's header and rows plus `copies` one-line orders (#5000...): over 64 KB."""
    rows = list(csv.reader((orders_dir / "shopify_orders.csv").read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    single = next(r for r in body if r[0] == "#1017")
    extra = [[f"#{5000 + i}", *single[1:]] for i in range(copies)]
    return header, body + extra


def write_rows(path: Path, rows: list[list[str]], encoding: str) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def line_item(db, order: str) -> str:
    return db.execute("SELECT l.name FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.order_number = ?",
                      [order]).fetchone()[0]


def test_an_undefined_cp1252_byte_late_in_the_file_is_replaced_and_reported(db, orders_dir, clock, tmp_path):
    """Old code: UnicodeDecodeError from `_group` (only the first 64 KB were checked)."""
    header, rows = padded_shopify(orders_dir)
    rows[-1][header.index("Lineitem name")] = "Café Mug BAD"
    path = tmp_path / "excel.csv"
    data = io.StringIO()
    csv.writer(data).writerows([header, *rows])
    raw = data.getvalue().encode("cp1252")
    assert raw.index(b"BAD") > 65536
    path.write_bytes(raw.replace(b"BAD", b"\x81"))
    summary = run_import(db, path, clock)
    assert summary.imported == len({r[0] for r in rows}) and summary.rejected == []
    assert line_item(db, "5259") == "Café Mug \ufffd"
    assert summary.details["encoding"].startswith("1 byte(s) that are not valid cp1252 replaced with U+FFFD")


def test_utf8_with_one_bad_byte_stays_utf8(db, orders_dir, clock, tmp_path):
    """Old code re-read the whole file as cp1252: 'TomÃ¡s'."""
    header, rows = padded_shopify(orders_dir, copies=3)
    rows[-1][header.index("Lineitem name")] = "Tomás Renée Mug BAD"
    path = write_rows(tmp_path / "orders.csv", [header, *rows], "utf-8")
    path.write_bytes(path.read_bytes().replace(b"BAD", b"\xff"))
    summary = run_import(db, path, clock)
    assert line_item(db, "5002") == "Tomás Renée Mug \ufffd"
    assert summary.details["encoding"] == (f"1 byte(s) that are not valid utf-8 replaced with U+FFFD (first on line "
                                           f"{len(rows) + 1})")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(db, orders_dir, clock, tmp_path, encoding):
    """Old code: refused, with NULs in the header it could not match."""
    header, rows = padded_shopify(orders_dir, copies=2)
    rows[-1][header.index("Lineitem name")] = "Tomás Mug"
    summary = run_import(db, write_rows(tmp_path / "orders.csv", [header, *rows], encoding), clock)
    assert (summary.format, summary.imported, summary.rejected) == ("shopify", len({r[0] for r in rows}), [])
    assert line_item(db, "5001") == "Tomás Mug" and "encoding" not in summary.details


def test_a_cell_over_the_limit_rejects_its_row_not_the_file(db, orders_dir, clock, tmp_path):
    """Old code: 'malformed CSV: field larger than field limit (131072)' for the whole file."""
    header, rows = padded_shopify(orders_dir, copies=2)
    rows[-1][header.index("Lineitem name")] = "x" * 5_000_000
    summary = run_import(db, write_rows(tmp_path / "orders.csv", [header, *rows], "utf-8"), clock)
    assert [(r.record, r.reason) for r in summary.rejected] == [
        (f"line {len(rows) + 1}", "the cell in column 'Lineitem name' has 5,000,000 characters, over the limit of "
                                  "100,000")]
    assert summary.imported == len({r[0] for r in rows}) - 1
    assert "5001" not in order_rows(db, "shopify") and line_item(db, "5000") == "Canvas Tote"
