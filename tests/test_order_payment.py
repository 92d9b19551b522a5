"""What counts as revenue (orders awaiting payment, --count-pending) and buyers without an email."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from shopify_rows import order, write_orders

import insight.core.db as db_module
from ingest.orders import import_orders
from insight.analysis.rfm import compute_snapshot, latest_snapshot, members
from insight.cli import cli
from insight.core.db import migrate, open_db
from insight.core.identity import billing_value, find_customer_id, identifier, normalise_phone

# Hand-built: what each order is, and so whether it counts, is known.
ORDERS = [
    order(1, "asha@example.com", "paid", "2026-11-01 10:00:00 +0530", "1000.00", "2026-11-01 10:00:00 +0530"),
    order(2, "asha@example.com", "pending", "", "600.00", "2026-11-10 10:00:00 +0530", outstanding="600.00",
          payment="Cash on Delivery (COD)"),
    order(3, "ravi@example.com", "authorized", "", "300.00", "2026-11-11 10:00:00 +0530", outstanding="300.00"),
    order(4, "ravi@example.com", "voided", "", "200.00", "2026-11-12 10:00:00 +0530"),
    order(5, "meera@example.com", "partially_paid", "", "400.00", "2026-11-13 10:00:00 +0530", outstanding="400.00"),
    order(6, "meera@example.com", "partially_paid", "2026-11-14 10:00:00 +0530", "500.00",
          "2026-11-14 10:00:00 +0530", outstanding="250.00"),
    order(7, "ravi@example.com", "paid", "2026-10-01 10:00:00 +0530", "1000.00", "2026-10-01 10:00:00 +0530"),
    # Cash on delivery without an email: the same phone written two ways is one buyer.
    order(8, "", "paid", "2026-10-05 10:00:00 +0530", "700.00", "2026-10-05 10:00:00 +0530",
          phone="+91 98765 43210", payment="Cash on Delivery (COD)"),
    order(9, "", "paid", "2026-11-05 10:00:00 +0530", "800.00", "2026-11-05 10:00:00 +0530",
          phone="'098765 43210", payment="Cash on Delivery (COD)"),
    # No phone: billing name + street address, however it is spelled.
    order(10, "", "paid", "2026-10-06 10:00:00 +0530", "250.00", "2026-10-06 10:00:00 +0530",
          name="Kavya Rao", address="12, MG Road", city="Bengaluru", zip_="560001"),
    order(11, "", "paid", "2026-11-06 10:00:00 +0530", "350.00", "2026-11-06 10:00:00 +0530",
          name="KAVYA RAO", address="12 MG Road.", city="Bengaluru", zip_="560001"),
    # A name and a city only is many people: nobody.
    order(12, "", "paid", "2026-11-07 10:00:00 +0530", "90.00", "2026-11-07 10:00:00 +0530",
          name="Guest", city="Bengaluru"),
]


def reasons(db) -> dict[str, str | None]:
    return dict(db.execute("SELECT order_number, exclusion_reason FROM orders").fetchall())


def test_orders_awaiting_payment_do_not_count(db, tmp_path, clock):
    summary = import_orders(db, write_orders(tmp_path / "orders.csv", ORDERS), fmt=None, mapping={}, strict=False,
                            progress=None, clock=clock)
    assert reasons(db) == {
        "1": None, "2": "pending", "3": "authorized", "4": "voided", "5": "pending",
        "6": None,  # partially paid: half of it arrived, so it counts
        "7": None, "8": None, "9": None, "10": None, "11": None, "12": "no_customer",
    }
    details = summary.details
    assert details["excluded"] == {"authorized": 1, "no_customer": 1, "pending": 2, "voided": 1}
    assert details["counting_for_rfm"] == 7
    # 600 + 300 + 400 awaiting, next to 1000 + 500 + 1000 + 700 + 800 + 250 + 350 paid
    assert details["awaiting_payment"] == {
        "orders": 3, "counted": False, "currency": "INR", "revenue": 1300.0, "paid_revenue": 4600.0,
        "share_of_paid": round(1300 / 4600, 4),
    }
    assert "3 orders awaiting payment" in details["note"] and "--count-pending counts them" in details["note"]
    assert "not counted for RFM: authorized 1, no_customer 1, pending 2, voided 1" in details["note"]


def test_a_pending_order_does_not_count_for_rfm(db, tmp_path, clock):
    import_orders(db, write_orders(tmp_path / "orders.csv", ORDERS), fmt=None, mapping={}, strict=False, progress=None,
                  clock=clock)
    compute_snapshot(db, as_of=date(2026, 11, 24), clock=clock)
    snapshot = latest_snapshot(db)
    scored = {m.key: m for m in members(db, snapshot)}
    asha = scored["asha@example.com"]
    assert (asha.frequency, asha.monetary, asha.recency_days) == (1, 1000.0, 23)  # the pending #2 is not there
    assert scored["ravi@example.com"].frequency == 1  # authorized #3 and voided #4 are not counted


def test_count_pending_counts_them_and_a_reimport_switches(db, tmp_path, clock):
    path = write_orders(tmp_path / "orders.csv", ORDERS)
    import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None, clock=clock)
    again = import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None, clock=clock, count_pending=True)
    assert (again.imported, again.updated) == (0, 3)  # the three awaiting payment; nothing else changed
    found = reasons(db)
    assert (found["2"], found["3"], found["5"], found["4"]) == (None, None, None, "voided")  # voided never counts
    assert again.details["counted_pending"] == 3 and again.details["awaiting_payment"]["counted"] is True
    back = import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None, clock=clock)
    assert back.updated == 3 and reasons(db)["2"] == "pending"


def test_buyers_without_email_by_phone_then_billing_address(db, tmp_path, clock):
    summary = import_orders(db, write_orders(tmp_path / "orders.csv", ORDERS), fmt=None, mapping={}, strict=False,
                            progress=None, clock=clock)
    owner = dict(db.execute("SELECT order_number, customer_id FROM orders").fetchall())
    assert owner["8"] == owner["9"] == find_customer_id(db, identifier("phone", "+919876543210"))
    assert owner["10"] == owner["11"] is not None and owner["10"] != owner["8"]
    assert owner["12"] is None
    assert db.execute("SELECT kind, value FROM customer_identifiers WHERE customer_id = ? AND kind != 'order'",
                      [owner["10"]]).fetchall() == [("billing", "kavya rao|12 mg road|560001|in")]
    assert summary.details["identified_without_email"] == {"billing": 2, "phone": 2}
    # An email is never joined to a phone: the buyer with an email keeps only it.
    kinds = db.execute("SELECT DISTINCT kind FROM customer_identifiers WHERE customer_id = ?", [owner["1"]]).fetchall()
    assert sorted(k for (k,) in kinds) == ["email"]  # its orders name it through `orders`


def test_phone_and_billing_normalisation():
    assert normalise_phone("+61 412 345 678") == normalise_phone("'0412 345 678", "AU") == "+61412345678"
    assert normalise_phone("0412 345 678") is None  # national, and no country to read it in: not guessed
    assert normalise_phone("6.14123E+10", "AU") is None  # Excel lost its digits
    assert normalise_phone("12345", "US") is None
    assert billing_value("Jo Tane", "12 Smith St.", "'0812", "Darwin", "AU") == "jo tane|12 smith st|0812|au"
    assert billing_value("Guest", "", "0870", "Alice Springs", "AU") is None


def test_migration_6_keeps_every_identifier(tmp_path, monkeypatch, clock):
    path = tmp_path / "old.db"
    all_migrations = list(db_module.MIGRATIONS)
    monkeypatch.setattr(db_module, "MIGRATIONS", [m for m in all_migrations if m.version <= 5])
    old = open_db(path, clock)
    old.execute("INSERT INTO customers (id, display_key, created_at) VALUES (1, 'a@x.com', 'now'), (2, 'order:7', 'now')")
    old.execute("""INSERT INTO customer_identifiers (kind, value, customer_id, source) VALUES
                   ('email', 'a@x.com', 1, 'orders'), ('order', '7@shopify/default', 2, 'orders'),
                   ('customer_id', '12@shopify/default', 1, 'orders')""")
    old.conn.commit()
    monkeypatch.setattr(db_module, "MIGRATIONS", [m for m in all_migrations if m.version <= 7])
    assert 6 in migrate(old, clock)
    rows = old.execute("SELECT kind, value, customer_id, source FROM customer_identifiers ORDER BY kind").fetchall()
    assert rows == [("customer_id", "12@shopify/default", 1, "orders"), ("email", "a@x.com", 1, "orders"),
                    ("order", "7@shopify/default", 2, "orders")]
    old.execute("INSERT INTO customer_identifiers (kind, value, customer_id) VALUES ('phone', '+61412345678', 2)")
    old.execute("DELETE FROM customers WHERE id = 2")  # the foreign key still cascades
    assert old.execute("SELECT COUNT(*) FROM customer_identifiers WHERE customer_id = 2").fetchone() == (0,)


def test_cli_import_orders_count_pending_json(db_path, tmp_path):
    path = write_orders(tmp_path / "orders.csv", ORDERS)
    base = ["--db", str(db_path), "import", "orders", str(path), "--json"]
    plain = CliRunner().invoke(cli, base)
    assert plain.exit_code == 0, plain.output
    details = json.loads(plain.output)["files"][0]["details"]
    assert details["excluded"]["pending"] == 2 and details["awaiting_payment"]["orders"] == 3
    counted = CliRunner().invoke(cli, [*base, "--count-pending"])
    assert counted.exit_code == 0, counted.output
    details = json.loads(counted.output)["files"][0]["details"]
    assert "pending" not in details["excluded"] and details["counted_pending"] == 3
    human = CliRunner().invoke(cli, base[:-1])
    assert "awaiting payment" in human.output and "not counted for RFM" in human.output
