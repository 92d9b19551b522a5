"""Order importers: Shopify, WooCommerce, UCI Online Retail / --map; RFM exclusion rules; atomic, idempotent."""

from __future__ import annotations

import csv
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
from insight.db import table_counts
from insight.identity import CustomerResolver, find_customer_id, identifier

UCI_MAP = {
    "order": ["Invoice"], "date": ["InvoiceDate"], "customer_id": ["Customer ID"], "quantity": ["Quantity"],
    "price": ["Price"], "name": ["Description"], "sku": ["StockCode"],
}


@pytest.fixture
def orders_dir(fixtures: Path) -> Path:
    return fixtures / "orders"


def run_import(db, path: Path, clock, fmt=None, mapping=None, strict=False, progress=None):
    return import_orders(db, path, fmt=fmt, mapping=mapping or {}, strict=strict, progress=progress, clock=clock)


def order_rows(db, platform: str) -> dict[str, dict]:
    cursor = db.execute("SELECT * FROM orders WHERE platform = ?", [platform])
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
    order_owner = db.execute(
        "SELECT customer_id FROM customer_identifiers WHERE kind = 'order' AND value = '1001@shopify/default'"
    ).fetchone()
    assert order_owner == (ana,)
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
    from insight.db import transaction

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
    # '13085.0' normalised; the id on the second line of 489436 is used when the first line lacks it
    customer = db.execute("SELECT customer_id FROM customer_identifiers WHERE kind = 'customer_id' AND value = '13085'").fetchone()[0]
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
    with pytest.raises(ImportFailure, match="email or customer_id"):
        run_import(db, path, clock, fmt="generic", mapping={"order": ["Invoice"], "date": ["Date"], "total": ["Total"]})


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
