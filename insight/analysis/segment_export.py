"""Activation lists: a snapshot's segment members, or who left a segment, as a CSV a marketing platform imports.

A member is written only with an email or a phone the customer really has (identifiers an import stored:
a phone is stored, in E.164, only for a buyer whose orders carried no email; never derived from a display
key or a name), and each list says how many members were left out and why:
- no_contact — the customer is known by a billing address, platform id or order number only;
- erased    — scored in the snapshot but erased since (`insight forget`, or merged into another customer:
              both delete the customer's scores, so the two cannot be told apart afterwards).

Platforms (column names as their CSV imports expect them; the mapping is in the README):
- csv       — every field under plain snake_case names, for a spreadsheet or any other tool;
- klaviyo   — a list upload: `Email` first, then custom profile properties;
- shopify   — the customer CSV import: `Email`, `Tags`, `Note` (no consent column: see `SHOPIFY_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from insight.analysis.rfm import LIFECYCLE_STAGES, Snapshot, latest_snapshot, previous_snapshot
from insight.core.errors import InsightError

FORMATS = ("csv", "klaviyo", "shopify")
NOT_SCORED = "(not scored)"

# Klaviyo list import: the first column is `Email` (or `Email Address` / `Phone Number`); any other column
# becomes a custom profile property of that name; dates as YYYY-MM-DD.
KLAVIYO_COLUMNS = {
    "email": "Email", "phone": "Phone Number", "segment": "RFM Segment", "lifecycle": "Lifecycle Stage",
    "r": "RFM Recency Score",
    "f": "RFM Frequency Score", "m": "RFM Monetary Score", "last_order": "Last Order Date",
    "previous_segment": "Previous RFM Segment", "moved_on": "RFM Segment Since", "as_of": "RFM Scored On",
}
KLAVIYO_SUPPRESS_COLUMNS = {
    "email": "Email", "phone": "Phone Number", "left_segment": "Left RFM Segment", "segment": "RFM Segment", "lifecycle": "Lifecycle Stage",
    "moved_on": "RFM Segment Since", "as_of": "RFM Scored On",
}
KLAVIYO_SUPPRESS_LIFECYCLE_COLUMNS = {
    "email": "Email", "phone": "Phone Number", "left_lifecycle": "Left Lifecycle Stage", "lifecycle": "Lifecycle Stage",
    "segment": "RFM Segment", "moved_on": "Lifecycle Stage Since", "as_of": "RFM Scored On",
}
# Shopify customer CSV import: headers are case-sensitive, `Email` is the required column. `Accepts Email
# Marketing` is left out on purpose: insight does not know anyone's consent, and a 'no' (or a blank) written
# over an existing customer with "Overwrite customers with the same email" would unsubscribe them. The same
# holds for `Accepts SMS Marketing` (and Klaviyo's SMS consent): a phone is written, a subscription never.
SHOPIFY_COLUMNS = ("Email", "Phone", "Tags", "Note")
CSV_COLUMNS = (
    "email", "phone", "customer_id", "segment", "lifecycle", "r", "f", "m", "recency_days", "frequency", "monetary",
    "last_order", "previous_segment", "moved_on", "as_of",
)
CSV_SUPPRESS_COLUMNS = (
    "email", "phone", "customer_id", "left_segment", "segment", "lifecycle", "previous_lifecycle", "moved_on", "as_of",
)
CSV_SUPPRESS_LIFECYCLE_COLUMNS = (
    "email", "phone", "customer_id", "left_lifecycle", "lifecycle", "segment", "previous_segment", "moved_on", "as_of",
)


class ExportError(InsightError, ValueError):
    """A request that cannot be answered (no snapshot, an unknown segment): one line for the user."""


@dataclass
class Row:
    """One exported customer: a member of a segment, or (suppression) one who left `left_segment`."""

    customer_id: int
    email: str
    segment: str
    lifecycle: str
    r: int | None
    f: int | None
    m: int | None
    recency_days: int | None
    frequency: int | None
    monetary: float | None
    last_order: str | None
    previous_segment: str | None  # the segment before the current one (None: in it since first scored)
    moved_on: str | None  # the first snapshot that showed the current segment, when there was one before
    as_of: str
    left_segment: str | None = None
    previous_lifecycle: str | None = None
    left_lifecycle: str | None = None  # suppression by lifecycle stage: the stage they left
    phone: str = ""  # E.164, for a buyer known by phone (no email): what an SMS platform takes


@dataclass
class ExportResult:
    rows: list[Row]
    snapshot: str
    previous_snapshot: str | None
    segments: list[str]  # the segments asked for (all of the map's with --all; [] for a lifecycle stage)
    suppress_moved: bool
    members: int  # members (or leavers) the snapshot holds for the request, exported or not
    not_exported: dict[str, int] = field(default_factory=dict)  # reason -> count
    several_emails: int = 0  # written with the email of their latest order
    erased_unknown_segment: int = 0  # erased since the snapshot, segment unknown (asked for some segments)
    lifecycle: str | None = None  # the lifecycle stage asked for instead of segments

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot, "previous_snapshot": self.previous_snapshot, "segments": self.segments,
            "suppress_moved": self.suppress_moved, "members": self.members, "exported": len(self.rows),
            "not_exported": self.not_exported, "several_emails": self.several_emails,
            "erased_unknown_segment": self.erased_unknown_segment, "lifecycle": self.lifecycle,
        }


def export_segments(
    db: sqlite_utils.Database, *, segment: str | None = None, as_of: str | None = None, suppress_moved: bool = False,
    lifecycle: str | None = None,
) -> ExportResult:
    """Members of `segment` (None: every segment) in the latest snapshot on or before `as_of`, or with
    `suppress_moved` everyone who left it since the snapshot before. `lifecycle` (Active, At Risk, Lapsed)
    asks for a lifecycle stage instead: a win-back list is often 'At Risk', and who left it is Active again."""
    snapshot = latest_snapshot(db, as_of)
    if snapshot is None:
        raise ExportError("no RFM snapshot yet: run `insight segments` first" if as_of is None
                          else f"no RFM snapshot on or before {as_of}: run `insight segments --as-of {as_of}`")
    names = _segment_names(db, snapshot)
    stage = None if lifecycle is None else _match_segment(lifecycle, list(LIFECYCLE_STAGES), "lifecycle stage")
    wanted = [] if stage is not None else names if segment is None else [_match_segment(segment, names)]
    earlier = previous_snapshot(db, snapshot)
    if suppress_moved:
        if earlier is None:
            raise ExportError(f"no snapshot before {snapshot.as_of} to compare with: run `insight segments --as-of "
                              "DATE` for an earlier date first")
        candidates = (_lifecycle_leavers(db, earlier, snapshot, stage) if stage is not None
                      else _leavers(db, earlier, snapshot, set(wanted)))
        erased = _erased(db, earlier)
    else:
        candidates = _members(db, snapshot, set(wanted), stage)
        erased = _erased(db, snapshot)
    # Which segment an erased customer was in is erased with them: counted as members only for --all.
    every = stage is None and set(wanted) >= set(names)
    erased_unknown = 0 if every else erased
    erased = erased if every else 0
    emails, several = _emails(db, [c.customer_id for c in candidates])
    phones = _phones(db, [c.customer_id for c in candidates if c.customer_id not in emails])
    if not suppress_moved or stage is not None:
        _history(db, snapshot, candidates, keep_moved_on=suppress_moved)
    rows = []
    not_exported: dict[str, int] = {}
    for candidate in candidates:
        email, phone = emails.get(candidate.customer_id), phones.get(candidate.customer_id)
        if email is None and phone is None:
            not_exported["no_contact"] = not_exported.get("no_contact", 0) + 1
            continue
        candidate.email, candidate.phone = email or "", phone or ""
        rows.append(candidate)
    if erased:
        not_exported["erased"] = erased
    return ExportResult(
        rows, snapshot.as_of, earlier.as_of if earlier else None, wanted, suppress_moved,
        len(candidates) + erased, dict(sorted(not_exported.items())),
        sum(1 for c in rows if c.customer_id in several), erased_unknown, stage,
    )


def _segment_names(db: sqlite_utils.Database, snapshot: Snapshot) -> list[str]:
    """The snapshot's segment names in map order, then any scored under a name the map no longer has."""
    rules = snapshot.params.get("segment_map", {}).get("rules", [])
    scored = [s for (s,) in db.execute(
        "SELECT DISTINCT segment FROM rfm_scores WHERE snapshot_id = ? ORDER BY segment", [snapshot.id])]
    return list(dict.fromkeys([r["name"] for r in rules] + scored))


def _match_segment(name: str, names: list[str], what: str = "segment") -> str:
    wanted = " ".join(name.split()).casefold()
    for known in names:
        if known.casefold() == wanted:
            return known
    where = " in this snapshot" if what == "segment" else ""
    raise ExportError(f"no {what} named {name!r}{where}; {what}s: {', '.join(names)}")


def _last_order(as_of: str, recency_days: int | None) -> str | None:
    if recency_days is None:
        return None
    return (date.fromisoformat(as_of) - timedelta(days=int(recency_days))).isoformat()


def _members(db: sqlite_utils.Database, snapshot: Snapshot, segments: set[str], stage: str | None = None) -> list[Row]:
    rows = db.execute(
        """SELECT customer_id, segment, lifecycle, r_score, f_score, m_score, recency_days, frequency, monetary
           FROM rfm_scores WHERE snapshot_id = ? ORDER BY monetary DESC, customer_id""", [snapshot.id],
    ).fetchall()
    return [
        Row(cid, "", seg, life, r, f, m, rec, freq, mon, _last_order(snapshot.as_of, rec), None, None, snapshot.as_of)
        for cid, seg, life, r, f, m, rec, freq, mon in rows if (seg in segments if stage is None else life == stage)
    ]


def _leavers(db: sqlite_utils.Database, earlier: Snapshot, later: Snapshot, segments: set[str]) -> list[Row]:
    """Customers in one of `segments` in `earlier` and in another segment (or none) in `later`."""
    rows = db.execute(
        """SELECT a.customer_id, a.segment, a.lifecycle, b.segment, b.lifecycle, b.r_score, b.f_score, b.m_score,
                  b.recency_days, b.frequency, b.monetary
           FROM rfm_scores a LEFT JOIN rfm_scores b ON b.snapshot_id = ? AND b.customer_id = a.customer_id
           WHERE a.snapshot_id = ? AND (b.segment IS NULL OR b.segment != a.segment)
           ORDER BY a.segment, a.customer_id""", [later.id, earlier.id],
    ).fetchall()
    out = []
    for cid, left, was, seg, life, r, f, m, rec, freq, mon in rows:
        if left not in segments:
            continue
        out.append(Row(cid, "", seg or NOT_SCORED, life or NOT_SCORED, r, f, m, rec, freq, mon,
                       _last_order(later.as_of, rec), left, later.as_of, later.as_of, left, was))
    return out


def _lifecycle_leavers(db: sqlite_utils.Database, earlier: Snapshot, later: Snapshot, stage: str) -> list[Row]:
    """Customers in lifecycle `stage` in `earlier` and in another stage (or unscored) in `later`."""
    rows = db.execute(
        """SELECT a.customer_id, b.segment, b.lifecycle, b.r_score, b.f_score, b.m_score, b.recency_days,
                  b.frequency, b.monetary
           FROM rfm_scores a LEFT JOIN rfm_scores b ON b.snapshot_id = ? AND b.customer_id = a.customer_id
           WHERE a.snapshot_id = ? AND a.lifecycle = ? AND (b.lifecycle IS NULL OR b.lifecycle != a.lifecycle)
           ORDER BY a.customer_id""", [later.id, earlier.id, stage],
    ).fetchall()
    return [
        Row(cid, "", seg or NOT_SCORED, life or NOT_SCORED, r, f, m, rec, freq, mon, _last_order(later.as_of, rec),
            None, later.as_of, later.as_of, None, stage, stage)
        for cid, seg, life, r, f, m, rec, freq, mon in rows
    ]


def _erased(db: sqlite_utils.Database, snapshot: Snapshot) -> int:
    """Customers scored in `snapshot` whose scores are gone since (forgotten or merged): only the total is
    known (rfm_snapshots.customers against the rows left)."""
    kept = int(db.execute("SELECT COUNT(*) FROM rfm_scores WHERE snapshot_id = ?", [snapshot.id]).fetchone()[0])
    return max(snapshot.customers - kept, 0)


def _emails(db: sqlite_utils.Database, customer_ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """Each customer's email identifier: the one on their latest order when they have several, else the
    first in order. Returns (customer -> email, the customers who have several)."""
    found: dict[int, list[str]] = {}
    for cid, email in _in_chunks(
        db, "SELECT customer_id, value FROM customer_identifiers WHERE kind = 'email' AND customer_id IN ({}) "
        "ORDER BY customer_id, value", customer_ids,
    ):
        found.setdefault(int(cid), []).append(email)
    several = {cid for cid, emails in found.items() if len(emails) > 1}
    latest: dict[int, str] = {}
    if several:
        for cid, email in _in_chunks(
            db, "SELECT customer_id, email FROM orders WHERE email IS NOT NULL AND customer_id IN ({}) "
            "ORDER BY created_at", sorted(several),
        ):
            if email in found[int(cid)]:
                latest[int(cid)] = email
    return {cid: latest.get(cid, emails[0]) for cid, emails in found.items()}, several


def _phones(db: sqlite_utils.Database, customer_ids: list[int]) -> dict[int, str]:
    """Each customer's phone identifier (the first, when an import stored several)."""
    found: dict[int, str] = {}
    for cid, phone in _in_chunks(
        db, "SELECT customer_id, value FROM customer_identifiers WHERE kind = 'phone' AND customer_id IN ({}) "
        "ORDER BY customer_id, value", customer_ids,
    ):
        found.setdefault(int(cid), phone)
    return found


def _history(db: sqlite_utils.Database, snapshot: Snapshot, rows: list[Row], keep_moved_on: bool = False) -> None:
    """Fill each member's previous segment and the date they moved into the current one, from every earlier
    snapshot: the moved-on date is the first snapshot of the current run (an upper bound on the move).
    `keep_moved_on`: only the previous segment (a lifecycle leaver's date is the stage move's)."""
    if not rows:
        return
    by_customer = {row.customer_id: row for row in rows}
    history: dict[int, list[tuple[str, str]]] = {}
    for cid, as_of, seg in _in_chunks(
        db, """SELECT s.customer_id, n.as_of, s.segment FROM rfm_scores s JOIN rfm_snapshots n ON n.id = s.snapshot_id
               WHERE n.as_of < ? AND s.customer_id IN ({}) ORDER BY n.as_of DESC""",
        sorted(by_customer), before=[snapshot.as_of],
    ):
        history.setdefault(int(cid), []).append((as_of, seg))
    for cid, past in history.items():
        row = by_customer[cid]
        since = row.as_of
        for as_of, seg in past:  # newest first
            if seg != row.segment:
                row.previous_segment = seg
                if not keep_moved_on:
                    row.moved_on = since
                break
            since = as_of


def _in_chunks(db: sqlite_utils.Database, sql: str, ids: list[int], before: list[Any] | None = None) -> Iterable[tuple]:
    for at in range(0, len(ids), 500):
        chunk = ids[at:at + 500]
        yield from db.execute(sql.format(", ".join("?" * len(chunk))), [*(before or []), *chunk]).fetchall()


# --- writing ------------------------------------------------------------------------------------


def to_csv(result: ExportResult, fmt: str) -> str:
    """The rows as the platform's CSV import expects them."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    header, records = table(result, fmt)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[record.get(column, "") for column in header] for record in records])
    return out.getvalue()


def table(result: ExportResult, fmt: str) -> tuple[list[str], list[dict[str, Any]]]:
    """(header, one dict per row keyed by the header) for `fmt`."""
    if fmt == "shopify":
        return list(SHOPIFY_COLUMNS), [_shopify(row, result.suppress_moved) for row in result.rows]
    by_stage = result.suppress_moved and result.lifecycle is not None
    if fmt == "klaviyo":
        columns = (KLAVIYO_SUPPRESS_LIFECYCLE_COLUMNS if by_stage else KLAVIYO_SUPPRESS_COLUMNS
                   if result.suppress_moved else KLAVIYO_COLUMNS)
        return list(columns.values()), [
            {name: _cell(asdict(row)[key]) for key, name in columns.items()} for row in result.rows
        ]
    names = (CSV_SUPPRESS_LIFECYCLE_COLUMNS if by_stage else CSV_SUPPRESS_COLUMNS if result.suppress_moved
             else CSV_COLUMNS)
    return list(names), [{name: _cell(asdict(row)[name]) for name in names} for row in result.rows]


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _shopify(row: Row, suppress: bool) -> dict[str, str]:
    """Tags a Shopify customer segment can filter on ('customer_tags CONTAINS "rfm: At Risk"'), and a note."""
    if suppress and row.left_lifecycle is not None:
        tags = [f"lifecycle left: {row.left_lifecycle}", f"lifecycle: {row.lifecycle}", f"rfm: {row.segment}"]
        note = f"Left lifecycle stage {row.left_lifecycle} (now {row.lifecycle}, {row.segment}) by {row.as_of}"
    elif suppress:
        tags = [f"rfm left: {row.left_segment}", f"rfm: {row.segment}"]
        note = f"Left RFM segment {row.left_segment} (now {row.segment}) by {row.as_of}"
    else:
        tags = [f"rfm: {row.segment}", f"lifecycle: {row.lifecycle}"]
        if row.previous_segment:
            tags.append(f"rfm from: {row.previous_segment}")
        note = (f"RFM {row.segment}, {row.lifecycle}: R{row.r} F{row.f} M{row.m} as of {row.as_of}; "
                f"last order {row.last_order}")
        if row.previous_segment:
            note += f"; moved from {row.previous_segment} by {row.moved_on}"
    return {"Email": row.email, "Phone": row.phone, "Tags": ", ".join(t.replace(",", " ") for t in tags), "Note": note}
