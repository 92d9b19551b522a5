"""Row checks both survey layouts share (one response per row, or one answer per row): which rows do not
line up with the header, and who a row's customer is."""

from __future__ import annotations

from ingest.errors import ImportFailure
from ingest.sheets import Sheet
from ingest.survey_columns import is_blank, looks_like_internal_order_id
from ingest.survey_formats import Column
from insight.core.identity import Identifier, identifier

MISFIT_SHARE = 0.05  # more rows than this whose cells do not line up with the header: the file is refused


def misfit_rows(sheet: Sheet, first: int, width: int) -> dict[int, str]:
    """Rows whose cells do not line up with the header, with why; ImportFailure when they are more than a
    few, since then the header itself is off (a deleted header cell shifts every answer one question over).

    A CSV row must have one cell per header column. Trailing empty cells past the header are tolerated only
    when no row has filled ones (a tool that ends every row with a separator). XLSX rows are positioned
    cells and always line up."""
    if sheet.unit != "line":
        return {}
    rows = range(first, len(sheet.rows))
    overfull = {i for i in rows if len(sheet.rows[i]) > width and any(c.strip() for c in sheet.rows[i][width:])}
    misfits: dict[int, str] = {}
    for i in rows:
        cells = len(sheet.rows[i])
        if cells < width or (cells > width and (overfull or i in overfull)):
            misfits[i] = (f"{cells} cells but the header has {width}: the row does not line up with the header"
                          " (a stray separator, an unquoted line break or a missing cell?)")
    total = len(rows)
    if len(misfits) >= 2 and len(misfits) > MISFIT_SHARE * total:
        first_bad = min(misfits)
        raise ImportFailure(
            sheet.path,
            f"{len(misfits)} of {total} rows do not have the header's {width} cells (first: {sheet.record(first_bad)}"
            f" has {len(sheet.rows[first_bad])}): answers would land under the wrong questions",
            record=sheet.record(0), expected="one cell per header column in every row (was a header cell deleted?)",
        )
    return misfits


def row_identifiers(row: list[str], columns: list[Column]) -> tuple[list[Identifier], dict[str, str]]:
    """Customer keys (email first, then customer id, then order number) and the row's metadata columns."""
    found: dict[str, Identifier] = {}
    metadata: dict[str, str] = {}
    for column in columns:
        value = row[column.index].strip() if column.index < len(row) else ""
        if not value or is_blank(value):
            continue
        if column.role == "meta":
            metadata[column.name] = value
        elif column.role == "order" and looks_like_internal_order_id(value):
            metadata[column.name] = value
        elif column.role in ("email", "customer_id", "order") and column.role not in found:
            ident = identifier(column.role, value)
            if ident is not None:
                found[column.role] = ident
    ordered = [found[k] for k in ("email", "customer_id", "order") if k in found]
    return ordered, metadata
