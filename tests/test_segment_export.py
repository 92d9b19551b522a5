"""Activation lists: `insight segments export` on hand-built order histories whose segments are known."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from shopify_rows import order, write_orders

from ingest.orders import import_orders
from insight.analysis.forget import forget_customer
from insight.analysis.rfm import compute_snapshot
from insight.analysis.segment_export import ExportError, export_segments, to_csv
from insight.cli import cli

T1, T2 = date(2026, 10, 25), date(2026, 11, 24)


def stamp(day: date) -> str:
    return f"{day.isoformat()} 10:00:00 +0000"


def history() -> list[dict]:
    """As of T1, ana, ben and a phone-only buyer each have 3 orders ~a year old (R1 F4: At Risk, lifecycle
    Lapsed), four one-order customers are recent, and cara's one order is 120 days old (lifecycle At Risk).
    Ana buys again 10 days before T2: R5 F5, Champions, lifecycle Active; ben and the phone-only buyer stay
    At Risk. Cara buys again 15 days before T2: lifecycle Active."""
    rows, number = [], 100

    def add(email: str, day: date, phone: str = "", **billing: str) -> None:
        nonlocal number
        number += 1
        rows.append(order(number, email, "paid", stamp(day), "50.00", stamp(day), phone=phone,
                          **({"country": "AU"} | billing)))

    for days_before in (400, 380, 360):
        add("ana@example.com", T1 - timedelta(days=days_before))
        add("ben@example.com", T1 - timedelta(days=days_before))
        add("", T1 - timedelta(days=days_before), phone="+61 412 345 678")
    for i, days_before in enumerate((10, 20, 30, 40)):
        add(f"new{i}@example.com", T1 - timedelta(days=days_before))
    add("cara@example.com", T1 - timedelta(days=120))
    add("ana@example.com", T2 - timedelta(days=10))
    add("cara@example.com", T2 - timedelta(days=15))
    return rows


@pytest.fixture
def scored(db, tmp_path, clock):
    import_orders(db, write_orders(tmp_path / "orders.csv", history()), fmt=None, mapping={}, strict=False,
                  progress=None, clock=clock)
    compute_snapshot(db, as_of=T1, clock=clock)
    compute_snapshot(db, as_of=T2, clock=clock)
    return db


def test_a_customer_who_moved_from_at_risk_to_active_is_on_the_suppression_list(scored):
    result = export_segments(scored, segment="At Risk", suppress_moved=True)
    assert [(r.email, r.left_segment, r.segment, r.lifecycle, r.moved_on) for r in result.rows] == [
        ("ana@example.com", "At Risk", "Champions", "Active", T2.isoformat())]
    assert (result.snapshot, result.previous_snapshot, result.members, result.not_exported) == (
        T2.isoformat(), T1.isoformat(), 1, {})


def test_who_left_the_at_risk_lifecycle_stage_for_active(scored):
    result = export_segments(scored, lifecycle="at risk", suppress_moved=True)
    assert [(r.email, r.left_lifecycle, r.lifecycle, r.previous_segment, r.moved_on) for r in result.rows] == [
        ("cara@example.com", "At Risk", "Active", "Hibernating", T2.isoformat())]
    plain = list(csv.DictReader(io.StringIO(to_csv(result, "csv"))))
    assert (plain[0]["left_lifecycle"], plain[0]["lifecycle"]) == ("At Risk", "Active")
    active = export_segments(scored, lifecycle="Active")
    assert {r.email for r in active.rows} == {"ana@example.com", "cara@example.com"} | {
        f"new{i}@example.com" for i in range(4)}


def test_members_with_their_previous_segment_and_those_without_email_counted(scored):
    at_risk = export_segments(scored, segment="at risk")  # names match without case
    # The phone-only buyer goes out with their phone (what an SMS platform takes), never with a made-up email.
    assert [(r.email, r.phone) for r in at_risk.rows] == [("ben@example.com", ""), ("", "+61412345678")]
    assert at_risk.members == 2 and at_risk.not_exported == {}
    ben = at_risk.rows[0]
    assert (ben.r, ben.f, ben.previous_segment, ben.moved_on, ben.last_order) == (
        1, 4, None, None, (T1 - timedelta(days=360)).isoformat())  # At Risk in both snapshots: no move
    champions = export_segments(scored, segment="Champions")
    ana = champions.rows[0]
    assert (ana.email, ana.previous_segment, ana.moved_on, ana.lifecycle, ana.frequency) == (
        "ana@example.com", "At Risk", T2.isoformat(), "Active", 4)


def test_platform_columns(scored):
    result = export_segments(scored, segment="Champions")
    klaviyo = list(csv.reader(io.StringIO(to_csv(result, "klaviyo"))))
    assert klaviyo[0][0] == "Email" and "RFM Segment" in klaviyo[0] and "Previous RFM Segment" in klaviyo[0]
    assert dict(zip(klaviyo[0], klaviyo[1], strict=True))["Previous RFM Segment"] == "At Risk"
    shopify = list(csv.DictReader(io.StringIO(to_csv(result, "shopify"))))
    assert list(shopify[0]) == ["Email", "Phone", "Tags", "Note"]
    assert shopify[0]["Tags"] == "rfm: Champions, lifecycle: Active, rfm from: At Risk"
    plain = list(csv.DictReader(io.StringIO(to_csv(result, "csv"))))
    assert (plain[0]["email"], plain[0]["segment"], plain[0]["previous_segment"]) == ("ana@example.com", "Champions", "At Risk")


def test_forgotten_customers_are_counted_never_exported(scored):
    forget_customer(scored, "ben@example.com", vacuum=False)
    everyone = export_segments(scored, segment=None)
    assert "ben@example.com" not in {r.email for r in everyone.rows}
    assert everyone.not_exported == {"erased": 1}
    one = export_segments(scored, segment="At Risk")  # which segment ben was in went with him
    assert ([r.phone for r in one.rows], one.not_exported, one.erased_unknown_segment) == (["+61412345678"], {}, 1)


def test_a_customer_with_two_emails_gets_the_one_of_their_latest_order(db, tmp_path, clock):
    # WooCommerce customer 42 bought as ana.work@ and, later, as ana@: one customer, two emails.
    path = tmp_path / "woo.csv"
    path.write_text(
        "Order Number,Order Status,Order Date,Customer User,Billing Email,Order Total,Currency,Item Name,Quantity,Item Cost\n"
        "123,wc-completed,2026-08-01 10:00:00,42,ana.work@example.com,30.00,EUR,Soap,3,10.00\n"
        "124,wc-completed,2026-08-02 10:00:00,42,ana@example.com,10.00,EUR,Soap,1,10.00\n"
        "125,wc-completed,2026-08-03 10:00:00,77,bo@example.com,20.00,EUR,Brush,1,20.00\n", encoding="utf-8")
    import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None, clock=clock)
    compute_snapshot(db, as_of=date(2026, 8, 10), clock=clock)
    result = export_segments(db, segment=None)
    assert sorted(r.email for r in result.rows) == ["ana@example.com", "bo@example.com"]
    assert result.several_emails == 1


def test_an_unknown_segment_is_a_one_line_error(scored):
    with pytest.raises(ExportError, match="no segment named 'Whales'.*Champions"):
        export_segments(scored, segment="Whales")


def test_cli_export_json_and_file(scored, db_path, tmp_path):
    base = ["--db", str(db_path), "segments", "export"]
    as_json = CliRunner().invoke(cli, [*base, "--segment", "At Risk", "--suppress-moved", "--format", "klaviyo", "--json"])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.output)
    assert payload["rows"] == [{"Email": "ana@example.com", "Phone Number": "", "Left RFM Segment": "At Risk", "RFM Segment": "Champions",
                                "Lifecycle Stage": "Active", "RFM Segment Since": "2026-11-24",
                                "RFM Scored On": "2026-11-24"}]
    out = tmp_path / "at_risk.csv"
    to_file = CliRunner().invoke(cli, [*base, "--segment", "At Risk", "--format", "shopify", "--out", str(out), "--json"])
    summary = json.loads(to_file.output)
    assert (summary["exported"], summary["not_exported"], "rows" in summary) == (2, {}, False)
    assert out.read_text().splitlines()[1].startswith("ben@example.com,")
    human = CliRunner().invoke(cli, [*base, "--all", "--out", str(out)])
    assert human.exit_code == 0 and "not exported" not in human.output
    stage = CliRunner().invoke(cli, [*base, "--lifecycle", "At Risk", "--suppress-moved", "--json"])
    assert [r["email"] for r in json.loads(stage.output)["rows"]] == ["cara@example.com"]
    neither = CliRunner().invoke(cli, [*base, "--json"])
    assert neither.exit_code == 2 and json.loads(neither.output)["ok"] is False


def test_cli_export_without_snapshots(db, db_path):
    result = CliRunner().invoke(cli, ["--db", str(db_path), "segments", "export", "--all", "--json"])
    assert result.exit_code == 1 and "run `insight segments` first" in json.loads(result.output)["error"]


def test_a_buyer_known_by_billing_address_only_is_counted_not_exported(db, db_path, tmp_path, clock):
    """Cash on delivery without email or a valid phone: the billing name + address identifies the buyer for
    RFM, but no platform can reach an address-only profile, so the list counts them instead."""
    rows = [order(1, "", "paid", stamp(T1), "50.00", stamp(T1), name="Jo Tane", address="12 Smith St",
                  city="Darwin", zip_="0812", country="AU"),
            order(2, "", "paid", stamp(T1), "40.00", stamp(T1), phone="0412 345 678", country="AU"),
            order(3, "bo@example.com", "paid", stamp(T1), "30.00", stamp(T1))]
    import_orders(db, write_orders(tmp_path / "cod.csv", rows), fmt=None, mapping={}, strict=False, progress=None,
                  clock=clock)
    compute_snapshot(db, as_of=T1, clock=clock)
    result = export_segments(db, segment=None)
    assert sorted((r.email, r.phone) for r in result.rows) == [("", "+61412345678"), ("bo@example.com", "")]
    assert (result.members, result.not_exported) == (3, {"no_contact": 1})
    klaviyo = list(csv.DictReader(io.StringIO(to_csv(result, "klaviyo"))))
    assert sorted((r["Email"], r["Phone Number"]) for r in klaviyo) == [("", "+61412345678"), ("bo@example.com", "")]
    human = CliRunner().invoke(cli, ["--db", str(db_path), "segments", "export", "--all", "--out",
                                     str(tmp_path / "all.csv")])
    assert human.exit_code == 0 and "not exported: 1 — no email or phone known" in human.output
