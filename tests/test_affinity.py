"""Category affinity and cadence on a hand-built order history with answers worked out by hand.

Shopify export, as of 2026-11-24 (every line one unit; Serum 30.00, Moisturiser 34.00, Cleanser 24.00):
  alice  Serum 08-27, 09-27, 10-26 (gaps 31, 29: cadence 30, next 11-25, due in 1 day); Moisturiser 09-27
  bob    Serum 06-01, 07-31 (gap 60, next 09-29: long past, neither due nor overdue)
  carol  Moisturiser + Cleanser + Serum in one order 11-01
  dan    Moisturiser + Serum 10-10
  erin   Cleanser 11-15 (two lines of it in one order: one purchase)
  frank  Serum 10-01, 10-29 (gap 28, next 11-26, due in 2 days); Cleanser 10-29
  gina   Serum 11-01, 11-11 (gap 10, next 11-21: 3 days overdue)
Customers who bought: Serum 6 (all but erin), Moisturiser 3 (alice, carol, dan), Cleanser 3 (carol, erin, frank).
Single-category: bob, erin, gina = 3 of 7. Pairs over 7 customers:
  Moisturiser+Serum: alice, carol, dan = 3; support 3/7; Moisturiser -> Serum 3/3; Serum -> Moisturiser 3/6;
                     lift 3 x 7 / (3 x 6) = 7/6
  Cleanser+Serum:    carol, frank = 2; support 2/7; lift 2 x 7 / (3 x 6) = 7/9
  Cleanser+Moisturiser: carol = 1; lift 1 x 7 / (3 x 3) = 7/9
Line revenue: Serum 11 lines x 30 = 330, Moisturiser 3 x 34 = 102, Cleanser 4 x 24 = 96 (erin's two lines): 528.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from ingest.errors import ImportFailure
from ingest.order_formats import line_category
from ingest.orders import import_orders, read_orders
from ingest.sku_categories import load_category_map
from insight.analysis.affinity import (
    EVERYONE,
    PurchaseLine,
    affinity_report,
    customer_cadences,
    due_rows,
    product_name,
)
from insight.analysis.rfm import RfmConfig, compute_snapshot
from insight.cli import cli
from insight.core.db import open_db

TODAY = date(2026, 11, 24)
PRODUCTS = {  # sku: (Lineitem name, price, product type)
    "SER-1": ("Niacinamide Serum - 30ml", 30.0, "Serum"),
    "MST-1": ("Cloud Moisturiser - 50ml / Fragrance-free", 34.0, "Moisturiser"),
    "CLN-1": ("Gel Cleanser", 24.0, "Cleanser"),
}
HISTORY = {  # email: [(day, [skus])]
    "alice": [("2026-08-27", ["SER-1"]), ("2026-09-27", ["SER-1", "MST-1"]), ("2026-10-26", ["SER-1"])],
    "bob": [("2026-06-01", ["SER-1"]), ("2026-07-31", ["SER-1"])],
    "carol": [("2026-11-01", ["MST-1", "CLN-1", "SER-1"])],
    "dan": [("2026-10-10", ["MST-1", "SER-1"])],
    "erin": [("2026-11-15", ["CLN-1", "CLN-1"])],
    "frank": [("2026-10-01", ["SER-1"]), ("2026-10-29", ["SER-1", "CLN-1"])],
    "gina": [("2026-11-01", ["SER-1"]), ("2026-11-11", ["SER-1"])],
}
HEADER = ["Name", "Email", "Financial Status", "Created at", "Total", "Lineitem quantity", "Lineitem name",
          "Lineitem price", "Lineitem sku", "Vendor"]


def shopify_csv(path: Path, history: dict, *, product_type: bool = True, tags: dict[str, str] | None = None) -> Path:
    header = HEADER + (["Lineitem product type"] if product_type else []) + (["Tags"] if tags is not None else [])
    rows = [",".join(header)]
    number = 1000
    for who, orders in history.items():
        for day, skus in orders:
            number += 1
            total = sum(PRODUCTS[s][1] for s in skus)
            for i, sku in enumerate(skus):
                name, price, kind = PRODUCTS[sku]
                order_cells = [f"#{number}", f"{who}@example.com", "paid", f"{day} 10:00:00 +0000", f"{total:.2f}"]
                if i:
                    order_cells = [f"#{number}", "", "", f"{day} 10:00:00 +0000", ""]
                cells = order_cells + ["1", name, f"{price:.2f}", sku, "Fernleaf"] + ([kind] if product_type else [])
                if tags is not None:
                    cells.append(f'"{tags.get(who, "")}"' if not i else "")
                rows.append(",".join(cells))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def shop(db, tmp_path, clock):
    import_orders(db, shopify_csv(tmp_path / "orders.csv", HISTORY), fmt=None, mapping={}, strict=False,
                  progress=None, clock=clock)
    compute_snapshot(db, as_of=TODAY, config=RfmConfig(), clock=clock)
    return db


def cid(db, who: str) -> int:
    return db.execute("SELECT customer_id FROM customer_identifiers WHERE value = ?", [f"{who}@example.com"]).fetchone()[0]


# --- import: categories and vendors on order lines ---------------------------------------------------


def test_shopify_lines_keep_product_type_and_vendor(shop):
    rows = shop.execute("SELECT name, category, vendor FROM order_lines ORDER BY order_id, position").fetchall()
    assert rows[0] == ("Niacinamide Serum - 30ml", "Serum", "Fernleaf")
    assert {r[1] for r in rows} == {"Serum", "Moisturiser", "Cleanser"}


def test_woocommerce_categories_take_the_first_listed_at_its_most_specific_level(db, tmp_path, clock):
    path = tmp_path / "woo.csv"
    path.write_text(
        "Order Number,Order Date,Order Status,Billing Email,Order Total,Item Name,SKU,Quantity,Item Cost,"
        "Product Categories\n"
        '7,2026-11-01 10:00:00,completed,wo@example.com,50.00,Vit C,VC1,1,30.00,"Skincare > Serums, Gifts"\n'
        "7,2026-11-01 10:00:00,completed,wo@example.com,50.00,Balm,BL1,1,20.00,Cleansers\n",
        encoding="utf-8",
    )
    import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None, clock=clock)
    assert [r[0] for r in db.execute("SELECT category FROM order_lines ORDER BY position")] == ["Serums", "Cleansers"]
    assert line_category("Tools | Brushes") == "Tools" and line_category(" > ") is None


def test_an_export_without_category_or_vendor_columns_hashes_its_orders_as_before(db, tmp_path, clock):
    """Orders stored by versions before these fields carry this hash: re-importing the same export after the
    upgrade finds them unchanged (duplicates), not 'updated'. The raw cells in ORDER_FIELDS order, then the
    line's five cells (name, sku, quantity, price, line_items)."""
    plain = tmp_path / "plain.csv"
    plain.write_text("Name,Email,Financial Status,Created at,Total,Lineitem name,Lineitem quantity,Lineitem price\n"
                     "#1,a@example.com,paid,2026-11-01 10:00:00 +0000,10.00,Tee,1,10.00\n", encoding="utf-8")
    order_cells = ["#1", "2026-11-01 10:00:00 +0000", "a@example.com"] + [""] * 7 + ["10.00", "", "paid"] + [""] * 4
    raw = "\x1f".join(order_cells) + "\x1e" + "\x1f".join(["Tee", "", "1", "10.00", ""])
    (draft,) = read_orders(plain).orders
    assert draft.digest == hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()
    assert draft.lines[0][6:] == [None, None]


# --- categories, mix, single-category share, pairs ----------------------------------------------------


def test_category_mix_single_category_share_and_pairs_by_hand(shop):
    report = affinity_report(shop, min_pair_customers=1, min_pair_support=0.0)
    assert report.sources == {"export": 18}
    everyone = report.segment(EVERYONE)
    assert (everyone.customers, everyone.customers_with_lines) == (7, 7)
    mix = {c.category: (c.customers, c.revenue) for c in everyone.mix}
    assert mix == {"Serum": (6, 330.0), "Moisturiser": (3, 102.0), "Cleanser": (3, 96.0)}
    serum = everyone.mix[0]
    assert serum.category == "Serum"
    assert serum.customer_share == pytest.approx(6 / 7) and serum.revenue_share == pytest.approx(330 / 528)
    assert (everyone.single_category, everyone.single_category_share) == (3, pytest.approx(3 / 7))
    assert dict(everyone.single_category_top) == {"Serum": 2, "Cleanser": 1}
    pairs = {(p.a, p.b): p for p in everyone.pairs}
    ms = pairs[("Moisturiser", "Serum")]
    assert ms.customers == 3 and ms.support == pytest.approx(3 / 7)
    assert ms.confidence_ab == pytest.approx(1.0) and ms.confidence_ba == pytest.approx(0.5)
    assert ms.lift == pytest.approx(7 / 6)
    assert pairs[("Cleanser", "Serum")].lift == pytest.approx(7 / 9)
    assert pairs[("Cleanser", "Moisturiser")].customers == 1
    assert everyone.pairs[0] is ms  # highest lift first


def test_a_pair_below_the_minimum_support_is_not_reported(shop):
    pairs = affinity_report(shop, min_pair_customers=3, min_pair_support=0.0).segment(EVERYONE).pairs
    assert [(p.a, p.b) for p in pairs] == [("Moisturiser", "Serum")]
    assert affinity_report(shop, min_pair_customers=1, min_pair_support=0.5).segment(EVERYONE).pairs == []


def test_every_segment_adds_up_to_everyone(shop):
    report = affinity_report(shop)
    segments = [s for s in report.segments if s.segment != EVERYONE]
    assert sum(s.customers for s in segments) == 7
    assert sum(s.single_category for s in segments) == 3
    for s in segments:
        for c in s.mix:
            assert c.everyone_share == pytest.approx({"Serum": 6 / 7, "Moisturiser": 3 / 7, "Cleanser": 3 / 7}[c.category])


def test_the_users_sku_map_wins_and_product_names_stand_in_without_categories(db, tmp_path, clock):
    import_orders(db, shopify_csv(tmp_path / "o.csv", HISTORY, product_type=False), fmt=None, mapping={},
                  strict=False, progress=None, clock=clock)
    compute_snapshot(db, as_of=TODAY, config=RfmConfig(), clock=clock)
    names = {c.category for c in affinity_report(db).segment(EVERYONE).mix}
    assert names == {"Niacinamide Serum", "Cloud Moisturiser", "Gel Cleanser"}  # Shopify's ' - variant' dropped
    sheet = tmp_path / "map.csv"
    sheet.write_text("sku,category\nSER-1,Treatment\nMST-1,Treatment\n", encoding="utf-8")
    loaded = load_category_map(db, sheet, clock)
    assert (loaded.skus, loaded.replaced) == (2, 0)
    report = affinity_report(db)
    assert report.sources == {"map": 14, "product name": 4}
    mix = {c.category: c.customers for c in report.segment(EVERYONE).mix}
    assert mix == {"Treatment": 7 - 1, "Gel Cleanser": 3}
    # alice and dan bought only Treatment now (serum and moisturiser are one category), with bob, erin, gina
    assert report.segment(EVERYONE).single_category == 5


@pytest.mark.parametrize("body, message", [
    ("sku,category\nSER-1\n", "line 2"),
    ("SER-1,Serum\nSER-1,Mask\n", "mapped to 'Serum' and to 'Mask'"),
    ("sku,category\n\n", "no rows found"),
])
def test_a_bad_category_map_names_the_file_and_line(db, tmp_path, body, message):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(body, encoding="utf-8")
    with pytest.raises(ImportFailure) as info:
        load_category_map(db, sheet)
    assert str(sheet) in info.value.message and message in info.value.message


# --- cadence and due ------------------------------------------------------------------------------------


def test_a_product_bought_every_30_days_has_cadence_30_and_is_due(shop):
    report = affinity_report(shop, within_days=14)
    alice = report.cadences[cid(shop, "alice")]
    (serum,) = alice.products  # the moisturiser was bought once: no cadence
    assert (serum.product, serum.orders, serum.median_days) == ("Niacinamide Serum", 3, 30.0)
    assert (serum.last_order, serum.next_order) == ("2026-10-26", "2026-11-25")
    assert alice.median_days == 30.0 and alice.repeats == 2
    due = due_rows(report.cadences, TODAY, 14)
    assert [(r.customer_id, r.days_until) for r in due] == [(cid(shop, "alice"), 1), (cid(shop, "frank"), 2)]
    everyone = report.segment(EVERYONE)
    assert (everyone.due, everyone.overdue) == (2, 1)  # gina was due on 11-21
    assert (everyone.late, everyone.median_days_late) == (1, 56)  # bob was due on 09-29
    assert cid(shop, "erin") not in report.cadences  # two lines on one day are one purchase
    assert everyone.customers_with_cadence == 4 and everyone.median_cadence_days == pytest.approx((28 + 30) / 2)


def test_a_product_on_a_subscription_is_not_due_unless_asked(db, db_path, tmp_path, clock):
    history = {"alice": HISTORY["alice"], "hana": [("2026-10-01", ["SER-1"]), ("2026-10-31", ["SER-1"])]}
    orders = shopify_csv(tmp_path / "subs.csv", history, tags={"hana": "Subscription, Subscription Recurring Order"})
    import_orders(db, orders, fmt=None, mapping={}, strict=False, progress=None, clock=clock)
    assert db.execute("SELECT email, subscription FROM orders ORDER BY id").fetchall()[-2:] == [
        ("hana@example.com", 1), ("hana@example.com", 1)]
    compute_snapshot(db, as_of=TODAY, config=RfmConfig(), clock=clock)
    report = affinity_report(db)
    hana = report.cadences[cid(db, "hana")].products[0]
    assert (hana.median_days, hana.next_order, hana.subscription) == (30.0, "2026-11-30", True)
    assert [r.customer_id for r in due_rows(report.cadences, TODAY, 14)] == [cid(db, "alice")]
    assert len(due_rows(report.cadences, TODAY, 14, subscriptions=True)) == 2
    assert report.segment(EVERYONE).due == 1
    _, payload = invoke(db_path, "segments", "due", "--json")
    assert [r["customer"] for r in payload["due"]] == ["alice@example.com"]
    assert payload["subscription_products_left_out"] == 1
    _, payload = invoke(db_path, "segments", "due", "--include-subscriptions", "--json")
    assert [(r["customer"], r["subscription"]) for r in payload["due"]] == [
        ("alice@example.com", False), ("hana@example.com", True)]


def test_the_window_bounds_the_due_list():
    lines = [PurchaseLine(1, date(2026, 10, 1), "Serum", "Serum", 30.0, "export"),
             PurchaseLine(1, date(2026, 10, 31), "Serum", "Serum", 30.0, "export")]
    cadences = customer_cadences(lines)
    assert [r.next_order for r in due_rows(cadences, date(2026, 11, 20), 10)] == ["2026-11-30"]
    assert due_rows(cadences, date(2026, 11, 20), 9) == []
    assert due_rows(cadences, date(2026, 12, 1), 30) == []  # already past
    assert customer_cadences(lines, min_orders=3) == {}


def test_product_names_group_shopify_variants():
    assert product_name("Cloud Moisturiser - 50ml / Fragrance-free", "X", "shopify") == "Cloud Moisturiser"
    assert product_name("Tea - Green", None, "woocommerce") == "Tea - Green"
    assert product_name(None, "SKU9", "shopify") == "SKU SKU9"


# --- CLI -----------------------------------------------------------------------------------------------


def invoke(db_path, *args):
    result = CliRunner().invoke(cli, ["--db", str(db_path), *args])
    return result, (json.loads(result.output) if "--json" in args else None)


def test_cli_affinity_json_for_one_segment_and_everyone(shop, db_path):
    result, payload = invoke(db_path, "segments", "affinity", "--segment", "all customers", "--min-pair-customers",
                             "3", "--json")
    assert result.exit_code == 0, result.output
    assert payload["ok"] and payload["as_of"] == "2026-11-24" and payload["by"] == "category"
    (seg,) = payload["segments"]
    assert seg["segment"] == EVERYONE and seg["single_category"] == 3 and seg["due"] == 2
    assert [(p["a"], p["b"], p["customers"]) for p in seg["pairs"]] == [("Moisturiser", "Serum", 3)]
    result, payload = invoke(db_path, "segments", "affinity", "--by", "vendor", "--json")
    assert {c["category"] for s in payload["segments"] for c in s["mix"]} == {"Fernleaf"}
    result = CliRunner().invoke(cli, ["--db", str(db_path), "segments", "affinity"])
    assert result.exit_code == 0 and "Serum" in result.output and "category mix" in result.output


def test_cli_due_json_lists_who_reorders_within_the_window(shop, db_path):
    result, payload = invoke(db_path, "segments", "due", "--within", "14d", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["customer"], r["product"], r["median_days"], r["next_order"]) for r in payload["due"]] == [
        ("alice@example.com", "Niacinamide Serum", 30.0, "2026-11-25"),
        ("frank@example.com", "Niacinamide Serum", 28.0, "2026-11-26"),
    ]
    assert payload["customers"] == 2 and payload["overdue_customers"] == 1
    _, payload = invoke(db_path, "segments", "due", "--within", "1d", "--json")
    assert [r["customer"] for r in payload["due"]] == ["alice@example.com"]
    _, payload = invoke(db_path, "segments", "due", "--within", "2w", "--min-orders", "3", "--json")
    assert [r["customer"] for r in payload["due"]] == ["alice@example.com"]


def test_cli_due_for_one_segment_and_the_errors(shop, db_path, tmp_path):
    segment = shop.execute("SELECT segment FROM rfm_scores WHERE customer_id = ?", [cid(shop, "alice")]).fetchone()[0]
    _, payload = invoke(db_path, "segments", "due", "--segment", segment, "--json")
    assert "alice@example.com" in [r["customer"] for r in payload["due"]]
    assert all(r["segment"] == segment for r in payload["due"])
    result, payload = invoke(db_path, "segments", "due", "--segment", "Nobody", "--json")
    assert result.exit_code == 1 and "no segment 'Nobody'" in payload["error"]
    result, payload = invoke(db_path, "segments", "due", "--within", "soon", "--json")
    assert result.exit_code != 0 and "not a number of days" in payload["error"]
    bad = tmp_path / "bad.csv"
    bad.write_text("SER-1\n", encoding="utf-8")
    result, payload = invoke(db_path, "segments", "affinity", "--categories", str(bad), "--json")
    assert result.exit_code == 1 and str(bad) in payload["error"] and "line 1" in payload["error"]


def test_cli_affinity_with_a_category_map_and_without_a_snapshot(shop, db_path, tmp_path):
    sheet = tmp_path / "map.csv"
    sheet.write_text("SER-1;Treatment\n", encoding="utf-8")
    _, payload = invoke(db_path, "segments", "affinity", "--categories", str(sheet), "--segment", EVERYONE, "--json")
    assert payload["category_map"]["skus"] == 1 and payload["sources"] == {"map": 11, "export": 7}
    assert payload["segments"][0]["mix"][0]["category"] == "Treatment"
    open_db(tmp_path / "empty.db").conn.close()  # imported nothing yet: a missing file is another error
    result, payload = invoke(tmp_path / "empty.db", "segments", "due", "--json")
    assert result.exit_code == 1 and "no RFM snapshot" in payload["error"]


def test_plain_segments_still_computes_a_snapshot(shop, db_path):
    result, payload = invoke(db_path, "segments", "--as-of", "2026-11-24", "--json")
    assert result.exit_code == 0 and payload["snapshot"]["customers"] == 7


# --- the persona brief ---------------------------------------------------------------------------------


def brief_shop(db) -> None:
    """tests/test_brief.py's brand (25 Champions c0..c24, snapshot 2026-11-24) with orders:
    c0..c5 Serum 10-01 and 10-31 + Moisturiser 10-31; c6..c11 Serum 10-01 and 10-31; c12..c24 Cleanser 11-01;
    At Risk r0..r3 Serum 06-01. Everyone with lines: 29; Cleanser 13 (45%), single-category 23 (79%).
    Champions: Serum 12 (48%), Moisturiser 6, Cleanser 13; single-category c6..c24 = 19 of 25, most Cleanser (13);
    Moisturiser -> Serum 6/6, lift 6 x 25 / (12 x 6) = 2.08; cadence 30 days for the 12 serum buyers, due 11-30."""
    from test_brief import brand

    brand(db)
    ids = dict(db.execute("SELECT display_key, id FROM customers"))
    number = 0

    def order(key: str, day: str, lines: list[tuple[str, str, float]]) -> None:
        nonlocal number
        number += 1
        total = sum(price for _, _, price in lines)
        oid = db.conn.execute(
            """INSERT INTO orders (platform, order_number, customer_id, created_at, created_day, total, net_revenue,
               content_hash) VALUES ('shopify', ?, ?, ?, ?, ?, ?, 'h')""",
            [str(number), ids[key], f"{day}T10:00:00+00:00", day, total, total]).lastrowid
        db.conn.executemany("INSERT INTO order_lines (order_id, position, name, quantity, price, category) "
                            "VALUES (?, ?, ?, 1, ?, ?)",
                            [(oid, i, name, price, cat) for i, (name, cat, price) in enumerate(lines)])

    for i in range(12):
        order(f"c{i}@x.com", "2026-10-01", [("Serum - 30ml", "Serum", 30.0)])
        order(f"c{i}@x.com", "2026-10-31", [("Serum - 30ml", "Serum", 30.0)]
              + ([("Cream", "Moisturiser", 34.0)] if i < 6 else []))
    for i in range(12, 25):
        order(f"c{i}@x.com", "2026-11-01", [("Gel", "Cleanser", 24.0)])
    for i in range(4):
        order(f"r{i}@x.com", "2026-06-01", [("Serum - 30ml", "Serum", 30.0)])
    db.conn.commit()


def test_the_brief_says_what_they_buy_and_who_is_due(db):
    from insight.analysis.brief import build_brief
    from insight.analysis.brief_render import render_html, render_markdown

    brief_shop(db)
    brief = build_brief(db, "Champions")
    assert brief.affinity is not None and brief.affinity.segment.single_category == 19
    md = render_markdown(brief)
    who, reach = md.split("## Who they are")[1].split("## What they say")[0], md.split("## How to reach them")[1]
    assert "Cleanser 52% of them (all customers 45%)" in who and "Serum 48% of them (all customers 55%)" in who
    assert "19 of the 25 with order lines (76%; all customers 79%) only ever bought from one of the categories" in who
    assert "categories from the export (47 lines)" in who
    assert "12 of them bought the same product again; median 30 days" in who
    assert "12 of them are due to reorder a product within 14 days" in reach
    assert "100% of their Moisturiser buyers also bought Serum (6 customers, 2.1×" in reach
    assert "13 of them have only ever bought Cleanser" in reach
    page = render_html(brief)
    assert page.count('class="bars categories"') == 1 and "<script" not in page and ">Serum</text>" in page
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg" class="bars categories"')
    svg = ElementTree.fromstring(page[start:page.index("</svg>", start) + 6])  # well-formed
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("height") == "12"]
    assert [round(float(r.get("width")) / 280, 2) for r in bars] == [0.52, 0.48, 0.24]  # Cleanser, Serum, Moist.


def test_a_brief_without_order_lines_has_no_purchase_sections(db):
    from test_brief import brand

    from insight.analysis.brief import build_brief
    from insight.analysis.brief_render import render_markdown

    brand(db)
    brief = build_brief(db, "Champions")
    assert brief.affinity is None
    assert "What they buy" not in render_markdown(brief) and "From what they buy" not in render_markdown(brief)


def test_the_samples_category_sheet_covers_every_sku_it_sells():
    from ingest.sku_categories import read_category_map
    from insight.demo import SAMPLE_DIR

    sheet = read_category_map(SAMPLE_DIR / "product_categories.csv")
    sold = {line[3] for order in read_orders(SAMPLE_DIR / "orders_shopify.csv").orders for line in order.lines}
    assert sold - {None} <= set(sheet) and len(set(sheet.values())) == 11
