"""The columnar order reader gives what the scalar rules give: each vectorised recogniser in
`ingest.order_columns` against its rule in `ingest.order_formats` (hypothesis), the pyarrow reader against
the csv module's reading of every order fixture (same drafts, same rejections, same database), and the
files the fast reader must leave to the csv module."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import ingest.orders
from ingest.errors import ImportFailure
from ingest.order_columns import (
    _order_numbers,
    blank,
    distinct_apply,
    numbers,
    read_fast,
    shopify_stamps,
    slashed_stamps,
)
from ingest.order_formats import (
    _amount,
    _number,
    _shopify_stamp,
    order_number_cell,
    parse_timestamp,
    timestamp_cell,
)
from ingest.orders import import_orders, read_orders
from insight.core.clock import fixed_clock
from insight.core.db import open_db

FIXTURES = Path(__file__).parent / "fixtures"
ORDER_FILES = sorted((FIXTURES / "orders").glob("*.csv")) + sorted((FIXTURES / "orders_real").glob("*.csv"))
CLOCK = fixed_clock("2026-11-01T12:00:00+00:00")

AMOUNT_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(places=2, allow_nan=False, allow_infinity=False).map(str),
    st.from_regex(r"-?[0-9]{1,18}(\.[0-9]{1,18})?", fullmatch=True),
    st.sampled_from(["", " ", "12.50", "$1,234.50", "1.234,50 €", "(5.00)", "5.00-", "nan", "1e5", "0012", "-0",
                     "1_000", " 7 ", "١٢"]),
    st.text(max_size=8),
)


def _rule(func, text):
    try:
        return func(text)
    except ValueError as exc:
        return ("error", str(exc))


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


@given(st.lists(AMOUNT_TEXT, max_size=30))
@example(["12.50", "", "abc", "12.50", "1" * 40, "0." + "1" * 20])
def test_numbers_read_a_column_as_the_scalar_rules(texts):
    column = pa.array(texts, pa.string())
    for rule in (lambda t: _amount(t, "total"), lambda t: _number(t, "price")):
        values, errors = numbers(column, rule)
        got = [("error", errors[i]) if i in errors else v for i, v in enumerate(values)]
        want = [None if t == "" else _rule(rule, t) for t in texts]
        assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (got, want)


OFFSETS = st.integers(min_value=-95, max_value=95).map(lambda q: timezone(timedelta(minutes=15 * q)))
MOMENTS = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
SHOPIFY_TEXT = st.one_of(
    st.builds(lambda m, tz: m.replace(tzinfo=tz).strftime("%Y-%m-%d %H:%M:%S %z"), MOMENTS, OFFSETS),
    st.from_regex(r"[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] [+-][0-2][0-9][0-5][0-9]", fullmatch=True),
    st.sampled_from(["2026-02-30 10:00:00 -0500", "2026-10-03 23:59:59 -2359", "0001-01-01 00:10:00 +0100",
                     "9999-12-31 23:00:00 -0200", "2026-10-03 14:22:10 -0000", "3/11/20 23:38", "", "yesterday"]),
)


@given(st.lists(SHOPIFY_TEXT, max_size=20))
@example(["2026-10-03 20:22:10 -0500", "2026-10-03 01:00:00 +0530", "2024-02-29 23:30:00 -0100"])
def test_shopify_stamps_are_what_parse_timestamp_reads(texts):
    at, day, read = shopify_stamps(pa.array(texts, pa.string()))
    for i, text in enumerate(texts):
        if read[i]:
            assert (at[i], day[i]) == (_shopify_stamp(text) or parse_timestamp(text))
        else:  # left to the scalar rule (`timestamp_cell`)
            assert at[i] is None and day[i] is None
    assert read.sum() >= sum(_shopify_stamp(t) is not None and t[:4] not in ("0001", "9999") for t in texts)


SLASHED_TEXT = st.one_of(
    st.from_regex(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-5][0-9]", fullmatch=True),
    st.sampled_from(["12/1/2010 8:26", "13/1/2010 8:26", "2/30/2010 8:26", "12/1/2010 24:00", "12/1/0000 1:00",
                     "1/13/2010 23:59", "12/1/10 8:26", "12/1/2010 8:26:10", ""]),
)


@given(st.lists(SLASHED_TEXT, max_size=20), st.booleans())
@example(["12/1/2010 8:26", "12/1/2010 08:26", "2/30/2010 8:26", "13/1/2010 8:26"], False)
def test_slashed_stamps_are_what_parse_timestamp_reads(texts, dayfirst):
    at, day, read = slashed_stamps(pa.array(texts, pa.string()), dayfirst, timestamp_cell)
    for i, text in enumerate(texts):
        if read[i]:
            assert (at[i], day[i]) == parse_timestamp(text, dayfirst=dayfirst)
        else:
            assert at[i] is None and day[i] is None


@given(st.lists(st.one_of(st.from_regex(r"#?[0-9]{1,8}", fullmatch=True), st.text(max_size=6),
                          st.sampled_from(["#1001", "1001", "001001", "#0012", "1,001", "Order No. 1001", "#", "²"])),
                max_size=20))
def test_order_numbers_are_order_number_cell(texts):
    assert _order_numbers(pa.array(texts, pa.string())) == [order_number_cell(t) for t in texts]


@given(st.lists(st.text(alphabet=st.sampled_from(" \t\x1c\x1f\x85\xa0\u2028\u3000\u200bax"), max_size=4), max_size=20))
def test_blank_is_what_strip_leaves_empty(texts):
    assert blank(pa.array(texts, pa.string())).tolist() == [not t.strip() for t in texts]


def test_distinct_apply_calls_once_per_combination():
    calls: list[tuple[str, str]] = []
    a = pa.array(["x", "y", "x", "x", ""])
    b = pa.array(["1", "1", "1", "2", ""])
    assert distinct_apply(lambda p, q: calls.append((p, q)) or p + q, a, b) == ["x1", "y1", "x1", "x2", ""]
    assert sorted(calls) == [("", ""), ("x", "1"), ("x", "2"), ("y", "1")]


# --- the fast reader against the csv module ----------------------------------------------------------


def _slow(monkeypatch) -> None:
    monkeypatch.setattr(ingest.orders, "read_fast", lambda *args: None)


@pytest.mark.parametrize("path", ORDER_FILES, ids=lambda p: p.name)
def test_fast_and_csv_readers_give_the_same_orders(path, monkeypatch):
    def parsed():
        try:
            p = read_orders(path)
        except ImportFailure as exc:
            return str(exc)
        return p.orders, [(r.record, r.reason) for r in p.rejected], p.rows_read, p.notes

    fast = parsed()
    _slow(monkeypatch)
    assert parsed() == fast


def _dump(db) -> dict[str, list[tuple]]:
    keys = {"orders": "id", "order_lines": "order_id, position", "customers": "id",
            "customer_identifiers": "kind, value"}
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY {k}").fetchall() for t, k in keys.items()}


def test_fast_and_csv_readers_store_the_same_database(tmp_path, monkeypatch):
    """Every order fixture imported in turn (into one database: updates, duplicates and refusals included)."""
    def run(name: str) -> tuple[dict, list]:
        db = open_db(tmp_path / name, CLOCK)
        outcomes = []
        for path in ORDER_FILES:
            try:
                s = import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None, clock=CLOCK)
                outcomes.append((s.imported, s.updated, s.duplicates, s.details))
            except ImportFailure as exc:
                outcomes.append(str(exc))
        return _dump(db), outcomes

    fast = run("fast.db")
    _slow(monkeypatch)
    assert run("slow.db") == fast
    assert fast[0]["orders"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8", newline="")
    return path


HEADER = "Name,Email,Financial Status,Created at,Total,Lineitem name,Lineitem quantity,Lineitem price\n"
ROW = "#1001,a@example.com,paid,2026-10-03 14:22:10 -0500,10.00,Tee,1,10.00\n"


@pytest.mark.parametrize("body", [
    '#1002,b@example.com,paid,2026-10-03 14:22:10 -0500,"10.00"x,Tee,1,10.00\n',  # strict csv refuses this quote
    '#1002,b@example.com,paid,2026-10-03 14:22:10 -0500,10.00,"Tee\nshirt",1,10.00\n',  # a cell on two lines
    "#1002,b@example.com,paid\n",  # fewer cells than the header
    "#1002,b@example.com,paid,2026-10-03 14:22:10 -0500,10.00,Tee,1,10.00,\n",  # a trailing empty cell
    "   \n",  # a line of spaces
], ids=["closing-quote-then-text", "multi-line-cell", "short-row", "trailing-cell", "spaces"])
def test_the_fast_reader_leaves_files_the_csv_module_reads_differently(tmp_path, body):
    text = HEADER + ROW + body
    assert read_fast(text, 8, set(range(8)), ",") is None


def test_the_fast_reader_takes_a_plain_export_with_quoted_cells_and_crlf(tmp_path):
    text = (HEADER + ROW + '#1002,b@example.com,paid,2026-10-03 14:22:10 -0500,10.00,"Tee, blue",2,5.00\n'
            + "\n").replace("\n", "\r\n")
    rows = read_fast(text, 8, {0, 5}, ",")
    assert rows is not None and rows.size == 2 and rows.lines.tolist() == [2, 3]
    assert rows.column(5).to_pylist() == ["Tee", "Tee, blue"]
    orders = read_orders(_write(tmp_path, text)).orders
    assert [o.order_number for o in orders] == ["1001", "1002"] and orders[1].lines[0][2] == "Tee, blue"


def test_a_failed_first_import_leaves_the_orders_index_and_no_rows(tmp_path, monkeypatch):
    """The customer index is dropped and rebuilt inside the import's transaction: a failure between the drop
    and the rebuild (here an INSERT naming a column that does not exist) rolls both back."""
    import sqlite3

    db = open_db(tmp_path / "x.db", CLOCK)
    monkeypatch.setattr(ingest.orders, "_ORDER_COLUMNS", ingest.orders._ORDER_COLUMNS.replace("subscription", "nope"))
    with pytest.raises(sqlite3.OperationalError):
        import_orders(db, FIXTURES / "orders" / "shopify_orders.csv", fmt=None, mapping={}, strict=False,
                      progress=None, clock=CLOCK)
    assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'idx_orders_customer'").fetchone()[0] == 1
    monkeypatch.undo()
    summary = import_orders(db, FIXTURES / "orders" / "shopify_orders.csv", fmt=None, mapping={}, strict=False,
                            progress=None, clock=CLOCK)
    assert summary.imported and db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'idx_orders_customer'"
                                           ).fetchone()[0] == 1
    plan = " ".join(str(r) for r in db.execute("EXPLAIN QUERY PLAN SELECT id FROM orders WHERE customer_id = 1"))
    assert "idx_orders_customer" in plan
