"""Order exports as columns: the rows of a file read into string columns, and the order rules of
`ingest.order_formats` applied to whole columns instead of one Python call per order.

Why: a 1M-line Shopify export spent ~10 s in a Python loop per order (parse the date, the six amounts, the
lines, hash the cells) and ~3 s making a Python string of every cell. Here pyarrow's CSV reader parses the
file in C++ (only the columns the layout uses become arrays), rows are grouped into orders with a dictionary
encoding, and each value rule runs vectorised for the plain forms exports write ('12.50', '#1001',
'2026-10-03 14:22:10 -0500') and through the scalar rule in `ingest.order_formats` for everything else, once
per distinct value. The scalar rules stay the definition: `tests/test_order_columns.py` checks that each
vectorised recogniser gives what the scalar rule gives.

`read_fast` takes only files whose every row is one line with one cell per header column and no quote the
csv module would refuse; anything else is read by the csv module row by row (`ingest.orders`), whose width
rules decide what a ragged row is, and then goes through the same columns (`columns_of`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ingest.dates import guess_dayfirst
from ingest.errors import Rejected
from ingest.limits import MAX_FIELD_CHARS
from ingest.order_formats import (
    AMOUNT_FIELDS,
    BASE_ORDER_FIELDS,
    LINE_FIELDS,
    LINE_FIELDS_BEFORE,
    ORDER_FIELDS,
    Identity,
    Layout,
    LineRow,
    OrderDraft,
    _amount,
    _lines,
    _number,
    category_cell,
    classify,
    content_digest,
    currency_cell,
    exclusions,
    expand_short_year,
    external_id_cell,
    identity_cells,
    lines_total,
    order_number_cell,
    real_day,
    shop_cell,
    status_cell,
    stripped,
    timestamp_cell,
    vendor_cell,
)

# The C allocator rather than pyarrow's bundled mimalloc: each column step allocates fresh buffers, which
# mimalloc hands back to the system and faults in again (a 1M-line import: ~1.4 s more system time).
pa.set_memory_pool(pa.system_memory_pool())


@dataclass
class Rows:
    """The data rows of an export: one string column per used header position, each row's first line."""

    columns: dict[int, pa.Array]
    lines: np.ndarray  # int64, the physical line each row starts on
    size: int

    def column(self, position: int | None) -> pa.Array:
        """The cells of a header position; '' for every row when the layout has no such column."""
        if position is None or position not in self.columns:
            return pa.repeat("", self.size).cast(pa.string())
        return self.columns[position]


def columns_of(rows: Sequence[Sequence[str]], positions: set[int], lines: Sequence[int]) -> Rows:
    """Rows the csv module read (already padded to the header's width) as columns."""
    columns = {p: pa.array([row[p] for row in rows], pa.string()) for p in positions}
    return Rows(columns, np.asarray(lines, dtype=np.int64), len(rows))


# --- the fast reader ---------------------------------------------------------------------------


def read_fast(text: str, width: int, positions: set[int], delimiter: str, utf8: bytes | None = None) -> Rows | None:
    """Rows of `text` (header on line 1, `width` cells) by pyarrow, or None when the file needs the csv module.

    None for: a row with more or fewer cells than the header, a row spanning lines (a quoted line break), a
    cell over MAX_FIELD_CHARS, lone carriage returns, and a quote that closes a cell and is followed by more
    text (strict csv refuses '"a"b'; pyarrow would read 'ab').
    """
    try:
        data = utf8 if utf8 is not None else text.encode("utf-8")  # `utf8`: the file's bytes, when they are that
    except UnicodeEncodeError:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    if b'"' in data and _odd_quote(delimiter).search(data):
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # Every cell, used or not, within the limit (bytes >= characters): the csv path rejects a row for any.
    if table.num_rows and max(pc.max(pc.binary_length(c)).as_py() or 0 for c in table.columns) > MAX_FIELD_CHARS:
        return None
    lines = _row_lines(data)
    if table.num_rows != len(lines):
        return None  # a row spanning lines
    return Rows({p: table.column(names[p]).combine_chunks() for p in sorted(positions)}, lines, table.num_rows)


def _odd_quote(delimiter: str) -> re.Pattern[bytes]:
    """A quote with ordinary text on both sides: a closing quote followed by text, which strict csv refuses
    (or a quote inside an unquoted cell, which it keeps: both are left to the csv module)."""
    other = re.escape(delimiter.encode())
    return re.compile(rb'[^\r\n"' + other + rb']"[^\r\n"' + other + rb"]")


def _row_lines(data: bytes) -> np.ndarray:
    """The line (1-based) of each non-empty line after the first: the rows, when each row is one line."""
    if b"\n\n" not in data and b"\n\r\n" not in data:  # no blank line: the rows are lines 2, 3, ...
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        return np.arange(2, lines + 1, dtype=np.int64)
    buffer = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(buffer == 10)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(buffer)]))
    carriage = (ends > starts) & (buffer[np.maximum(ends - 1, 0)] == 13)
    lengths = ends - starts - carriage
    return (np.flatnonzero(lengths[1:] > 0) + 2).astype(np.int64)


# --- applying rules to columns -----------------------------------------------------------------

_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
_BLANK = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]*$"


def blank(column: pa.Array) -> np.ndarray:
    """Cells that are empty or whitespace as `str.strip` sees it (not `not cell.strip()`: True)."""
    return _mask(pc.match_substring_regex(column, _BLANK))


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def take(column: pa.Array, indices: np.ndarray) -> pa.Array:
    return column.take(pa.array(indices, pa.int64()))


def distinct_apply(func: Callable[..., Any], *columns: pa.Array) -> list[Any]:
    """[func(*cells) for each row], calling `func` once per distinct combination of cells."""
    if not columns or len(columns[0]) == 0:
        return []
    if len(columns) == 1:
        encoded = pc.dictionary_encode(columns[0])
        results = [func(v) for v in encoded.dictionary.to_pylist()]
        codes = encoded.indices.to_numpy(zero_copy_only=False)
    else:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column in columns:  # one int64 per combination: mixed radix, re-numbered before it could overflow
            code = pc.dictionary_encode(column).indices.to_numpy(zero_copy_only=False).astype(np.int64)
            radix = int(code.max()) + 1
            if (int(key.max()) + 1) * radix >= 2**62:
                key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
            key = key * radix + code
        _, first, codes = np.unique(key, return_index=True, return_inverse=True)
        cells = [take(c, first).to_pylist() for c in columns]
        results = [func(*row) for row in zip(*cells, strict=True)]
    return list(map(results.__getitem__, np.asarray(codes).reshape(-1).tolist()))


def apply_where(values: list[Any], column: pa.Array, where: np.ndarray, func: Callable[[str], Any]) -> dict[int, str]:
    """values[i] = func(cell) for the rows `where` is True (once per distinct cell); the ValueError messages of
    the rows `func` refuses, by row."""
    rows = np.flatnonzero(where)
    errors: dict[int, str] = {}
    if not len(rows):
        return errors

    def safe(cell: str) -> Any:
        try:
            return func(cell)
        except ValueError as exc:
            return exc

    for row, result in zip(rows.tolist(), distinct_apply(safe, take(column, rows)), strict=True):
        if isinstance(result, ValueError):
            errors[row] = str(result)
        else:
            values[row] = result
    return errors


# Decimals as exports write them: float() and pyarrow's cast read them to the same double.
_PLAIN_NUMBER = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"


def numbers(column: pa.Array, rule: Callable[[str], float | None]) -> tuple[list[float | None], dict[int, str]]:
    """Each cell as `rule` reads it (None for ''), and the refused cells' messages by row. `rule` must read a
    plain decimal as float() does (`_amount`, `_number`)."""
    plain = pc.match_substring_regex(column, _PLAIN_NUMBER)
    values: list[Any] = pc.cast(pc.if_else(plain, column, pa.scalar(None, pa.string())), pa.float64()).to_pylist()
    other = ~_mask(plain) & _mask(pc.not_equal(column, ""))
    return values, apply_where(values, column, other, rule)


_SHOPIFY_STAMP = r"^\d{4}-[01]\d-[0-3]\d ([01]\d|2[0-3]):[0-5]\d:[0-5]\d [+-]([01]\d|2[0-3])[0-5]\d$"


def shopify_stamps(column: pa.Array) -> tuple[list[str | None], list[str | None], np.ndarray]:
    """(ISO timestamps, UTC days, which rows were read) for cells in Shopify's '2026-10-03 14:22:10 -0500'
    form on a real day; the rest are left to the scalar rule. Equal to `parse_timestamp` on what it reads."""
    size = len(column)
    at: list[str | None] = [None] * size
    day: list[str | None] = [None] * size
    matched = _mask(pc.match_substring_regex(column, _SHOPIFY_STAMP))
    rows = np.flatnonzero(matched)
    if not len(rows):
        return at, day, matched
    cells = take(column, rows)

    def part(start: int, stop: int) -> pa.Array:
        return pc.utf8_slice_codeunits(cells, start, stop)

    local_day = part(0, 10)
    year = part(0, 4)
    real = np.asarray(distinct_apply(real_day, local_day), dtype=bool)
    # Year 1 and 9999 are left to datetime (it refuses to step outside them).
    real &= ~_mask(pc.is_in(year, pa.array(["0001", "9999"])))

    def number(start: int, stop: int) -> np.ndarray:
        return pc.cast(part(start, stop), pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)

    local = number(11, 13) * 60 + number(14, 16)
    offset = number(21, 23) * 60 + number(23, 25)
    east = _mask(pc.equal(part(20, 21), "+"))
    utc = np.where(east, local - offset, local + offset)
    shift = (utc >= 1440).astype(np.int64) - (utc < 0).astype(np.int64)
    stamps = pc.binary_join_element_wise(local_day, "T", part(11, 19), part(20, 23), ":", part(23, 25), "")
    days = local_day
    if shift.any():
        moved = np.asarray(pc.cast(local_day.filter(pa.array(real)), pa.date32())
                           .to_numpy(zero_copy_only=False)).astype("datetime64[D]")
        full = np.zeros(len(rows), dtype="datetime64[D]")
        full[real] = moved
        shifted = pc.cast(pa.array(full + shift.astype("timedelta64[D]")), pa.string())
        days = pc.if_else(pa.array(shift != 0), shifted, local_day)
    stamp_list, day_list = stamps.to_pylist(), days.to_pylist()
    for i, row in enumerate(rows.tolist()):
        if real[i]:
            at[row], day[row] = stamp_list[i], day_list[i]
    read = np.zeros(size, dtype=bool)
    read[rows[real]] = True
    return at, day, read


_SLASHED_STAMP = r"^(?P<day>[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}) (?P<hour>[0-9]{1,2}):(?P<minute>[0-5][0-9])$"


def slashed_stamps(
    column: pa.Array, dayfirst: bool, rule: Callable[[str, bool], tuple[str, str]]
) -> tuple[list[str | None], list[str | None], np.ndarray]:
    """(ISO timestamps, days, which rows were read) for cells like UCI Online Retail's '12/1/2010 8:26': the
    date part through `rule` (`timestamp_cell`) once per distinct date, the time joined to it. Equal to
    `rule(cell)` on what it reads; cells of any other form, or with a date or hour `rule` refuses, are left."""
    size = len(column)
    at: list[str | None] = [None] * size
    day: list[str | None] = [None] * size
    rows = np.flatnonzero(_mask(pc.match_substring_regex(column, _SLASHED_STAMP)))
    read = np.zeros(size, dtype=bool)
    if not len(rows):
        return at, day, read
    parts = pc.extract_regex(take(column, rows), _SLASHED_STAMP)
    hour = pc.struct_field(parts, "hour")

    def midnight(date_part: str) -> str | None:
        try:
            return rule(f"{date_part} 00:00", dayfirst)[1]
        except ValueError:
            return None

    days = pa.array(distinct_apply(midnight, pc.struct_field(parts, "day")), pa.string())
    valid = _mask(pc.is_valid(days)) & (pc.cast(hour, pa.int32()).to_numpy(zero_copy_only=False) <= 23)
    stamps = pc.binary_join_element_wise(days, "T", pc.utf8_lpad(hour, 2, "0"), ":", pc.struct_field(parts, "minute"),
                                         ":00", "").to_pylist()
    day_list = days.to_pylist()
    for i, row in enumerate(rows.tolist()):
        if valid[i]:
            at[row], day[row] = stamps[i], day_list[i]
    read[rows[valid]] = True
    return at, day, read


def plain_values(column: pa.Array, pattern: str, start: int, rule: Callable[[str], Any]) -> list[Any]:
    """Cells matching `pattern` as they are (from `start`), the rest through `rule` once per distinct cell."""
    plain = pc.match_substring_regex(column, pattern)
    values: list[Any] = pc.if_else(plain, pc.utf8_slice_codeunits(column, start) if start else column,
                                   pa.scalar(None, pa.string())).to_pylist()
    apply_where(values, column, ~_mask(plain), rule)
    return values


def join(columns: Sequence[pa.Array], separator: str) -> pa.Array:
    return pc.binary_join_element_wise(*columns, separator)


def join_groups(cells: pa.Array, starts: np.ndarray, separator: str) -> pa.Array:
    """The cells of each group (consecutive rows from starts[g] to starts[g + 1]) joined by `separator`."""
    lists = pa.ListArray.from_arrays(pa.array(starts, pa.int32()), cells)
    return pc.binary_join(lists, separator)


# --- orders from columns -----------------------------------------------------------------------


def positions_read(layout: Layout) -> set[int]:
    """The header positions whose cells are needed: the layout's fields and their repeated columns."""
    return set(layout.columns.values()) | {o for others in layout.duplicates.values() for o in others}


def drafts(
    rows: Rows, layout: Layout, shop: str, count_pending: bool = False
) -> tuple[list[OrderDraft], list[tuple[int, Rejected]], list[Rejected]]:
    """OrderDrafts of a file's rows: grouped by order number (and shop column), values read and classified.

    Returns the orders (first appearance order; '#1001' and '1001' are one order), the rows rejected for an
    empty order number (with their row index, to merge with the reader's), and the orders rejected for a
    value that is not what its column holds.
    """
    cols, header = layout.columns, layout.header
    _merge_repeated(rows, layout)
    number = rows.column(cols["order"])
    no_number = blank(number)
    rejected_rows = [(int(i), Rejected(f"line {rows.lines[i]}", f"no order number in column {header[cols['order']]!r}"))
                     for i in np.flatnonzero(no_number)]
    valid = np.flatnonzero(~no_number)
    if not len(valid):
        return [], rejected_rows, []
    # Shopify writes order-level cells on an order's first row only: its rows are grouped by number alone.
    shop_col = cols.get("shop") if layout.format != "shopify" else None
    keys = take(number if shop_col is None else join([rows.column(shop_col), number], "\x1f"), valid)
    encoded = pc.dictionary_encode(keys)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(counts)))
    in_file = valid[np.argsort(codes, kind="stable")]  # rows grouped by order, in file order within each
    first = in_file[starts[:-1]]
    values = _order_values(rows, layout, in_file, starts, first)
    cells = {f: values[i] for i, f in enumerate(ORDER_FIELDS)}
    orders = _Orders(len(counts), cells, layout.platform, shop)
    lines, line_errors = _line_rows(rows, layout, in_file, starts, counts)
    line_cells = [take(rows.column(cols.get(f)), in_file) for f in _line_fields(layout)]
    raw = join([join(values[:len(BASE_ORDER_FIELDS)], "\x1f"),
                join_groups(join(line_cells, "\x1f"), starts, "\x1e")], "\x1e").cast(pa.binary()).to_pylist()
    return _assemble(orders, lines, line_errors, raw, rows.lines[first], encoded.dictionary, count_pending), \
        rejected_rows, orders.rejected


def _merge_repeated(rows: Rows, layout: Layout) -> None:
    """A column pasted twice: its value from the later copy where the first is empty (as the csv path did)."""
    for pos, others in layout.duplicates.items():
        for other in others:
            if pos not in rows.columns or other not in rows.columns:
                continue
            first, later = rows.columns[pos], rows.columns[other]
            use = blank(first) & ~blank(later)
            if use.any():
                rows.columns[pos] = pc.if_else(pa.array(use), later, first)


def _order_values(rows: Rows, layout: Layout, in_file: np.ndarray, starts: np.ndarray, first: np.ndarray) -> list[pa.Array]:
    """Each order's ORDER_FIELDS cells: from its first row; other exports than Shopify's fill a field empty
    there from the order's first later row that has it."""
    fill = layout.format != "shopify"
    out = []
    end = len(in_file)
    for f in ORDER_FIELDS:
        position = layout.columns.get(f)
        column = rows.column(position)
        pick = first
        if fill and position is not None:
            has = _mask(pc.not_equal(column, ""))[in_file]
            at = np.minimum.reduceat(np.where(has, np.arange(end), end), starts[:-1])
            pick = np.where(at < end, in_file[np.minimum(at, end - 1)], first)
        out.append(take(column, pick))
    return out


def _line_fields(layout: Layout) -> tuple[str, ...]:
    # Without a category or vendor column, lines are the five cells they were before those fields (same hash).
    return LINE_FIELDS if layout.has("category") or layout.has("vendor") else LINE_FIELDS[:LINE_FIELDS_BEFORE]


class _Orders:
    """Each order's values as lists, read from its cells by the rules of `ingest.order_formats`."""

    def __init__(self, size: int, cells: dict[str, pa.Array], platform: str, shop: str) -> None:
        self.size = size
        self.rejected: list[Rejected] = []
        dates = cells["date"]
        head = dates.slice(0, 100).to_pylist()
        dayfirst = False
        if any("/" in d or "." in d[:6] for d in head):
            dayfirst = guess_dayfirst(map(expand_short_year, dates.to_pylist()))
        at, day, read = shopify_stamps(dates)
        if not read.all():
            slashed_at, slashed_day, slashed = slashed_stamps(dates, dayfirst, timestamp_cell)
            for row in np.flatnonzero(slashed & ~read).tolist():
                at[row], day[row] = slashed_at[row], slashed_day[row]
            read |= slashed
        stamps: list[Any] = [None] * size
        self.errors: list[dict[int, str]] = [apply_where(stamps, dates, ~read, lambda t: timestamp_cell(t, dayfirst))]
        for row in np.flatnonzero(~read).tolist():
            if stamps[row] is not None:
                at[row], day[row] = stamps[row]
        self.at: list[Any] = at  # a str for every order that is not rejected
        self.day: list[Any] = day
        self.number = _order_numbers(cells["order"])
        self.amounts: list[list[float | None]] = []
        for name in AMOUNT_FIELDS:
            amounts, errors = numbers(cells[name], partial(_amount, name=name))
            self.amounts.append(amounts)
            self.errors.append(errors)
        cache: dict[tuple[str, ...], Identity] = {}
        self.identity: list[Identity] = distinct_apply(
            lambda *c: identity_cells(*c, cache=cache, platform=platform, shop=shop),
            *(cells[f] for f in ("email", "customer_id", "shop", "phone", "billing_name", "billing_address",
                                 "billing_zip", "billing_city", "billing_country")),
        )
        self.shop: list[str] = distinct_apply(lambda c: shop_cell(c, shop), cells["shop"])
        self.external = plain_values(cells["external_id"], r"^[0-9]+$", 0, external_id_cell)
        self.currency: list[str | None] = distinct_apply(currency_cell, cells["currency"])
        self.status: list[str | None] = distinct_apply(status_cell, cells["status"])
        self.cancelled: list[str | None] = distinct_apply(stripped, cells["cancelled_at"])
        self.tags, self.payment, self.paid_at, self.outstanding = (
            cells[f].to_pylist() for f in ("tags", "payment_method", "paid_at", "outstanding"))
        self.platform = platform

    def error(self, g: int) -> str | None:
        """The first value of order `g` that is not what its column holds (date first, then the amounts)."""
        for errors in self.errors:
            if errors and g in errors:
                return errors[g]
        return None


def _order_numbers(column: pa.Array) -> list[str]:
    """`order_number_cell` of each cell: '1001' and '#1001' (no leading zero) vectorised, the rest by the rule."""
    plain = pc.match_substring_regex(column, r"^[1-9][0-9]*$")
    hashed = pc.match_substring_regex(column, r"^#[1-9][0-9]*$")
    values: list[Any] = pc.if_else(plain, column, pc.if_else(hashed, pc.utf8_slice_codeunits(column, 1),
                                                             pa.scalar(None, pa.string()))).to_pylist()
    apply_where(values, column, ~(_mask(plain) | _mask(hashed)), order_number_cell)
    return values


def _line_rows(
    rows: Rows, layout: Layout, in_file: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> tuple[list[list[LineRow]], dict[int, str]]:
    """Each order's LineRows (as `_lines` makes them) and the first refused line cell of each order."""
    cells = [take(rows.column(layout.columns.get(f)), in_file) for f in LINE_FIELDS]
    groups = len(counts)
    group_of = np.repeat(np.arange(groups), counts)
    if layout.has("line_items") and not blank(cells[4]).all():  # WooCommerce's 'name:Tee|sku:T1|...' cells
        return _combined_line_rows(cells, starts, groups)
    quantity, quantity_errors = numbers(cells[2], lambda t: _number(t, "quantity"))
    price, price_errors = numbers(cells[3], lambda t: _number(t, "price"))
    errors: dict[int, str] = {}
    for i in sorted(set(quantity_errors) | set(price_errors)):
        errors.setdefault(int(group_of[i]), quantity_errors.get(i) or price_errors[i])
    size = len(in_file)
    kept = (_mask(pc.not_equal(cells[0], "")) | _mask(pc.not_equal(cells[1], ""))
            | np.fromiter((q is not None for q in quantity), bool, size) | np.fromiter((p is not None for p in price), bool, size))
    count = kept.astype(np.int64)
    total = np.cumsum(count)
    position = total - np.repeat(total[starts[:-1]] - count[starts[:-1]], counts)
    where = np.flatnonzero(kept)
    at = where.tolist()
    pick = [take(c, where) for c in cells]
    line_list = list(map(list, zip(
        [None] * len(at), position[where].tolist(), distinct_apply(stripped, pick[0]), distinct_apply(stripped, pick[1]),
        [quantity[i] for i in at], [price[i] for i in at], distinct_apply(category_cell, pick[5]),
        distinct_apply(vendor_cell, pick[6]), strict=True)))
    bounds = np.concatenate(([0], np.cumsum(np.add.reduceat(count, starts[:-1])))).tolist()
    return [line_list[bounds[g]:bounds[g + 1]] for g in range(groups)], errors


def _combined_line_rows(cells: list[pa.Array], starts: np.ndarray, groups: int) -> tuple[list[list[LineRow]], dict[int, str]]:
    """Orders with WooCommerce's combined 'Line Items' cells: `_lines` order by order."""
    texts = [c.to_pylist() for c in cells]
    bounds = starts.tolist()
    out: list[list[LineRow]] = []
    errors: dict[int, str] = {}
    for g in range(groups):
        raw = [tuple(t[i] for t in texts) for i in range(bounds[g], bounds[g + 1])]
        try:
            out.append(_lines(raw))
        except ValueError as exc:
            out.append([])
            errors[g] = str(exc)
    return out, errors


def _assemble(
    orders: _Orders, lines: list[list[LineRow]], line_errors: dict[int, str], raw: list[bytes], first_lines: np.ndarray,
    keys: pa.Array, count_pending: bool,
) -> list[OrderDraft]:
    """The OrderDrafts, one per order number of a shop: later groups of the same number add their lines."""
    by_number: dict[tuple[str, str], OrderDraft] = {}
    refused = set(line_errors).union(*orders.errors)
    sub, ship, tax, disc, total, refunded = orders.amounts
    totals = [lines_total(order_lines) if t is None else t for t, order_lines in zip(total, lines, strict=True)]
    refunds = [abs(r or 0.0) for r in refunded]
    reasons = exclusions(orders.platform, orders.status, orders.cancelled, totals, refunds, orders.tags, orders.payment,
                         orders.paid_at, orders.outstanding, [bool(i[0]) for i in orders.identity])
    digests = list(map(content_digest, raw))
    columns = zip(
        first_lines.tolist(), orders.number, orders.shop, orders.at, orders.day, orders.identity, orders.external,
        orders.currency, sub, ship, tax, disc, totals, refunds, orders.status, orders.cancelled, lines, raw,
        orders.tags, reasons, digests, strict=True,
    )
    for g, (line, number, shop, at, day, identity, external, currency, subtotal, shipping, taxes, discount, amount,
            refund, status, cancelled, order_lines, cells, tags, reason, digest) in enumerate(columns):
        record = f"line {line}"
        if refused and g in refused:
            key = str(keys[g].as_py())
            orders.rejected.append(Rejected(record, f"order {key.rpartition(chr(31))[2].strip()}: {orders.error(g) or line_errors[g]}"))
            continue
        idents, identity_key, email = identity
        draft = OrderDraft(
            number, record, shop, at, day, idents, identity_key, email, "", external, currency, subtotal, shipping,
            taxes, discount, amount, refund, status, cancelled, None, order_lines,
        )
        classify(draft, reason, cells, tags, count_pending, digest)
        kept = by_number.setdefault((shop, number), draft)
        if kept is not draft:  # '#1001' and '1001' in one file: one order
            for extra in draft.lines:
                extra[1] = len(kept.lines) + 1
                kept.lines.append(extra)
    return list(by_number.values())
