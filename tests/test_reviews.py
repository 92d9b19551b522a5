import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.errors import ImportFailure
from ingest.model import ImportOptions
from ingest.review_fields import normalise_rating, rating_from_text, review_date
from ingest.reviews import parse_reviews, review_external_id
from ingest.store import store_parsed
from insight.cli import cli
from insight.core.redact import Redactor

REVIEWS = Path(__file__).parent / "fixtures" / "reviews"


def parse(name: str):
    return parse_reviews(REVIEWS / name, fmt=None)


def by_text(parsed, start: str):
    return next(d for d in parsed.documents if d.units[0].text.startswith(start))


@pytest.mark.parametrize(
    ("name", "fmt", "count", "start", "expected"),
    [
        ("jsonld_product.html", "json-ld", 2, "Takes off sunscreen",
         {"rating": 4.0, "title": "Melts makeup, no residue", "author": "Priya K.", "day": "2026-09-14",
          "product": "Oat Milk Cleansing Balm"}),
        ("jsonld_graph.html", "json-ld", 2, "Leaves a white cast",
         {"rating": 2.0, "title": "White cast", "author": "Dana W.", "day": "2026-08-30", "product": "Mineral SPF 30"}),
        ("amazon.html", "amazon", 2, "Doesn't strip my skin",
         {"rating": 4.0, "title": "Gentle but the bottle is flimsy", "author": "Jordan", "day": "2026-03-03",
          "verified": True}),
        ("judgeme.html", "judgeme", 2, "I have rosacea",
         {"rating": 5.0, "title": "Finally a cleanser that doesn't sting", "author": "Chris T.", "day": "2026-10-12",
          "verified": True, "product": "Daily Gel Cleanser"}),
        ("yotpo.html", "yotpo", 2, "Absorbs fast",
         {"rating": 4.0, "title": "Light but not enough in winter", "author": "Taylor M.", "day": "2026-10-18",
          "verified": True, "product": "Hydrating Gel Moisturiser"}),
        ("okendo.html", "okendo", 1, "Love that I can refill",
         {"rating": 5.0, "title": "Refill pouch is genius", "author": "Jamie L.", "verified": True,
          "product": "Daily Gel Cleanser"}),
        ("loox.html", "loox", 1, "The refill arrived", {"rating": 4.0, "author": "Morgan P.", "day": "2026-10-09"}),
        ("trustpilot.html", "json-ld+trustpilot", 2, "My order was two weeks late",
         {"rating": 4.0, "title": "Late delivery, great support", "author": "Kim Oduya", "day": "2026-10-11",
          "verified": True, "product": "Fernleaf Skin"}),
        ("saved_page.mhtml", "judgeme", 2, "I have rosacea", {"rating": 5.0, "author": "Chris T."}),
    ],
)
def test_each_page_shape_yields_its_reviews(name, fmt, count, start, expected):
    parsed = parse(name)
    assert (parsed.kind, parsed.format, len(parsed.documents)) == ("review", fmt, count)
    doc = by_text(parsed, start)
    assert doc.source == "review" and doc.units[0].kind == "review"
    assert doc.rating == expected["rating"]
    assert doc.title == expected.get("title", doc.title)
    assert doc.metadata["author"] == expected["author"]
    assert doc.created_at.startswith(expected.get("day", doc.created_at[:10]))
    assert doc.metadata.get("verified") == expected.get("verified", doc.metadata.get("verified"))
    assert doc.metadata.get("product") == expected.get("product", doc.metadata.get("product"))
    # The author is PII: it lives in metadata, never in the text that is embedded and shown.
    assert expected["author"] not in doc.units[0].text


def test_markup_is_stripped_and_words_kept():
    doc = by_text(parse("jsonld_product.html"), "Takes off")
    assert doc.units[0].text == "Takes off sunscreen in one go.\nThe tub is a bit small for the price & I go through it fast."
    amazon = by_text(parse("amazon.html"), "Doesn't")
    assert amazon.units[0].text == "Doesn't strip my skin at all.\nThe bottle dented in shipping though."
    assert "out of 5 stars" not in amazon.title


def test_ratings_on_other_scales_are_normalised():
    sam = by_text(parse("jsonld_product.html"), "Smells faintly")
    assert sam.rating == 5.0  # 10 of 0..10
    assert normalise_rating("4", "5") == 4.0
    assert normalise_rating(80, 100) == 4.2  # 0..100 scales start at 0
    assert normalise_rating(6, 5) is None
    assert rating_from_text("4.0 out of 5 stars") == 4.0
    assert rating_from_text("Rated 3 out of 5") == 3.0
    assert rating_from_text("5.0 star rating") == 5.0
    assert rating_from_text("Helpful") is None
    assert review_date("Reviewed on nothing") is None
    assert review_date("10/18/26") == "2026-10-18T00:00:00"


def test_page_mixing_json_ld_and_microdata_imports_each_review_once(db, clock):
    parsed = parse("mixed_jsonld_microdata.html")
    assert parsed.details["extractors"] == {"json-ld": 2, "microdata": 2}
    assert parsed.rows_read == 4 and len(parsed.documents) == 2
    pump = by_text(parsed, "The serum itself")
    assert (pump.rating, pump.title, pump.metadata["author"]) == (2.0, "Pump stopped working", "Alex R.")
    summary = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    passages = db.execute("SELECT COUNT(DISTINCT document_id || '/' || passage) FROM units").fetchone()[0]
    assert (summary.imported, db["documents"].count, passages) == (2, 2, 2)


def test_same_review_on_two_pages_is_stored_once(db, clock):
    first = store_parsed(db, parse("judgeme.html"), ImportOptions(), Redactor(), clock)
    second = store_parsed(db, parse("judgeme_page2.html"), ImportOptions(), Redactor(), clock)
    again = store_parsed(db, parse("judgeme.html"), ImportOptions(), Redactor(), clock)
    assert (first.imported, second.imported, second.duplicates) == (2, 0, 1)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 2)
    assert db["documents"].count == 2


def test_same_review_in_page_and_export_gets_one_id():
    page = by_text(parse("judgeme.html"), "I have rosacea")
    export = by_text(parse("judgeme_export.csv"), "I have rosacea")
    assert page.external_id == export.external_id
    assert review_external_id("Daily Gel Cleanser", "Chris T.", "2026-10-12T00:00:00", "a b") == review_external_id(
        "daily-gel-cleanser", "chris t", "2026-10-12T23:00:00+00:00", "A, b!"
    )


def test_page_without_reviews_says_what_was_looked_for(db, clock):
    parsed = parse("no_reviews.html")
    assert parsed.documents == []
    note = parsed.details["note"]
    for looked_for in ("JSON-LD", "microdata", "Amazon", "Judge.me", "Yotpo", "Okendo", "Loox", "Trustpilot"):
        assert looked_for in note
    summary = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    assert summary.imported == 0 and db["import_batches"].count == 1


def test_broken_html_still_yields_reviews_and_reports_bad_json_ld():
    parsed = parse("broken.html")
    texts = sorted(d.units[0].text for d in parsed.documents)
    assert texts == ["Nice tin & lasts long", "Tastes of crayon.\nWould not rebuy"]
    assert any("JSON-LD block 1 is not valid JSON" in w for w in parsed.details["warnings"])
    assert all("\n" not in d.metadata.get("author", "") for d in parsed.documents)


def test_not_a_page_is_a_clear_failure():
    with pytest.raises(ImportFailure, match="PNG image"):
        parse("screenshot.png")
    with pytest.raises(ImportFailure, match="not an HTML page"):
        parse_reviews(REVIEWS / "notes.txt", fmt="html")
    with pytest.raises(ImportFailure, match="unknown review format 'pdf'"):
        parse_reviews(REVIEWS / "judgeme.html", fmt="pdf")


def test_nothing_on_the_page_is_fetched(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a parser tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    for path in sorted(REVIEWS.glob("*.htm*")):
        parse_reviews(path, fmt=None)


def test_judgeme_export_links_customers_and_names_bad_rows(db, clock):
    parsed = parse("judgeme_export.csv")
    assert parsed.format == "judgeme" and parsed.rows_read == 4
    assert [(r.record, r.reason) for r in parsed.rejected] == [
        ("line 5", "no review text (body and title are empty)"),
        ("line 6", "rating 'seven' is not a score on a 1-5 scale"),
    ]
    leak = by_text(parsed, "The pump leaked")
    assert [i.key for i in leak.identifiers] == ["email:pat.q@example.com"]
    summary = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    assert (summary.imported, summary.details["customers_created"]) == (2, 2)
    linked = db.execute("SELECT COUNT(*) FROM documents WHERE customer_id IS NOT NULL").fetchone()[0]
    assert linked == 2


def test_yotpo_export_and_google_play_utf16():
    yotpo = parse("yotpo_export.csv")
    assert yotpo.format == "yotpo"
    taylor = by_text(yotpo, "Absorbs fast")
    assert [i.key for i in taylor.identifiers] == ["email:taylor@example.com", "order:1077"]
    assert taylor.external_id == by_text(parse("yotpo.html"), "Absorbs fast").external_id
    play = parse("google_play.csv")
    assert play.format == "google_play" and len(play.documents) == 2
    logout = by_text(play, "App logs me out")
    assert (logout.rating, logout.created_at, logout.identifiers) == (2.0, "2026-10-04T11:20:31+00:00", [])


def test_app_store_export_with_semicolons_star_glyphs_and_day_first_dates():
    parsed = parse("appstore.csv")
    assert parsed.format == "appstore"
    crash = by_text(parsed, "Since 2.3")
    assert (crash.rating, crash.created_at, crash.title) == (2.0, "2026-10-03T00:00:00", "Crashes on launch")


def test_review_csv_without_text_column_fails_naming_it(tmp_path):
    path = tmp_path / "stars.csv"
    path.write_text("product,stars\nbalm,5\n")
    with pytest.raises(ImportFailure, match=r"stars.csv, line 1: no review text column"):
        parse_reviews(path, fmt=None)


def test_cli_imports_a_folder_and_reports_each_file(tmp_path):
    db_path = tmp_path / "cli.db"
    runner = CliRunner()
    args = ["--db", str(db_path), "import", "review", str(REVIEWS), "--no-redact", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    files = {Path(f["file"]).name: f for f in payload["files"]}
    assert "screenshot.png" not in files and "notes.txt" not in files
    assert "no reviews found" in files["no_reviews.html"]["details"]["note"]
    assert files["mixed_jsonld_microdata.html"]["imported"] == 2
    first_total = payload["totals"]["imported"] + payload["totals"]["updated"]
    again = json.loads(runner.invoke(cli, args).output)
    assert again["totals"]["imported"] == 0
    assert first_total > 0


# --- issue 14: another kind's export, JSON-LD of the wrong shape, sizes -------------------------------------

TICKET_FIXTURES = Path(__file__).parent / "fixtures" / "tickets"


@pytest.mark.parametrize("name", ["freshdesk.csv", "freshdesk_export.csv", "zendesk_view.csv"])
def test_a_ticket_export_is_refused_as_reviews(name):
    """Old code read a Freshdesk CSV as 2 'reviews' (Subject as title, Description as text)."""
    with pytest.raises(ImportFailure, match=r"line 1: this looks like a help-desk ticket export .*insight import ticket"):
        parse_reviews(TICKET_FIXTURES / name, fmt=None)


def _page(ld: str) -> str:
    return f'<html><head><script type="application/ld+json">{ld}</script></head><body><p>Shop</p></body></html>'


def test_deeply_nested_json_ld_is_skipped_with_a_warning(tmp_path):
    """Old code: RecursionError from json.loads, or from walking a merely deep block."""
    review = '{"@type": "Review", "reviewBody": "Lovely balm", "author": "Sam", "datePublished": "2026-10-02"}'
    for deep in ('{"a":' * 10_000 + "1" + "}" * 10_000, "[" * 600 + "]" * 600):
        path = tmp_path / "page.html"
        path.write_text(_page(deep).replace("</head>", f'<script type="application/ld+json">{review}</script></head>'))
        parsed = parse_reviews(path, fmt=None)
        assert [d.units[0].text for d in parsed.documents] == ["Lovely balm"]
        assert any("nested" in w and "skipped" in w for w in parsed.details["warnings"])


@pytest.mark.parametrize("field", ['"datePublished": 1e20', '"datePublished": ["2026"]', '"author": {"email": 12345}',
                                   '"reviewRating": {"ratingValue": [5]}', '"reviewBody": 42'])
def test_json_ld_fields_of_the_wrong_type_do_not_crash(tmp_path, field):
    """Old code: OverflowError ('datePublished: 1e20') or an int stored as an email."""
    good = '{"@type": "Review", "reviewBody": "Great cleanser", "author": "Sam"}'
    odd = '{"@type": "Review", "reviewBody": "Smells of oats", "author": "Ana", ' + field + "}"
    path = tmp_path / "page.html"
    path.write_text(_page(f"[{good}, {odd}]"))
    parsed = parse_reviews(path, fmt=None)
    texts = [d.units[0].text for d in parsed.documents]
    assert "Great cleanser" in texts
    for d in parsed.documents:
        assert d.created_at is None and all(isinstance(i.value, str) for i in d.identifiers)


def test_a_5_mb_review_is_rejected_not_stored(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("Review Title,Review Body,Rating\nBig,\"" + "word " * 30_000 + "\",5\nSmall,Nice balm,4\n")
    parsed = parse_reviews(path, fmt=None)
    assert [d.units[0].text for d in parsed.documents] == ["Nice balm"]
    assert parsed.rejected[0].record == "line 2" and "150,000 characters" in parsed.rejected[0].reason
    page = tmp_path / "page.html"
    page.write_text(_page('[{"@type": "Review", "reviewBody": "' + "word " * 30_000 + '"},'
                          '{"@type": "Review", "reviewBody": "Nice balm"}]'))
    parsed = parse_reviews(page, fmt=None)
    assert [d.units[0].text for d in parsed.documents] == ["Nice balm"] and len(parsed.rejected) == 1


JUDGEME_HEADER = ["title", "body", "rating", "review_date", "source", "curated", "reviewer_name", "reviewer_email",
                  "product_id", "product_handle"]


def _judgeme_rows(n: int) -> list[list[str]]:
    return [[f"Title {i}", f"The serum is lovely but the pump leaked ({i}).", str(1 + i % 5),
             f"2026-10-{1 + i % 28:02d} 10:00:00 UTC", "web", "ok", f"Reviewer {i}", f"r{i}@example.com", "123",
             "serum"] for i in range(n)]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_review_csv_whose_header_lost_a_cell_is_refused_not_read_shifted(tmp_path):
    """Old code accepted it: every review stored again with its author read from 'curated' ('ok')."""
    header = JUDGEME_HEADER[:4] + JUDGEME_HEADER[5:]  # 'source' lost from the header only
    path = _write_csv(tmp_path / "judgeme.csv", [header, *_judgeme_rows(20)])
    with pytest.raises(ImportFailure, match="20 of 20 rows do not have the header's 9 cells"):
        parse_reviews(path)


def test_one_review_row_that_does_not_line_up_is_rejected_alone(tmp_path):
    rows = _judgeme_rows(30)
    rows[7] = rows[7][:6]  # a row that stops short
    path = _write_csv(tmp_path / "judgeme.csv", [JUDGEME_HEADER, *rows])
    parsed = parse_reviews(path)
    assert len(parsed.documents) == 29
    assert [(r.record, "line up" in r.reason) for r in parsed.rejected] == [("line 9", True)]


REAL = Path(__file__).parent / "fixtures" / "reviews_real"


def test_review_csv_columns_found_by_header_words_and_no_rating_placeholders():
    """Exports name columns in their own words ('Feedback Text', 'Overall for product', 'Feedback Date'); a cell
    saying there is no rating is no rating, not a bad row; dotted dates are read day-first."""
    parsed = parse_reviews(REAL / "feedback_semicolon_dotted_dates.csv", fmt=None)
    assert parsed.rejected == []
    assert parsed.details["columns"] == {"body": "Feedback Text", "rating": "Overall for product",
                                         "date": "Feedback Date", "author": "Customer Name and Age"}
    lid = by_text(parsed, "Kansi sopii")
    assert (lid.rating, lid.created_at) == (4.0, "2025-09-14T00:00:00")
    flaking = by_text(parsed, "The coating")
    assert (flaking.rating, flaking.created_at) == (None, "2025-02-03T00:00:00")
    assert all("v14.9" not in d.units[0].text for d in parsed.documents)  # the name/age cell is not the text


def test_scraped_rate_review_csv_reads_rate_as_the_rating():
    parsed = parse_reviews(REAL / "scraped_rate_review.csv", fmt=None)
    assert [(d.rating, d.units[0].text[:11]) for d in parsed.documents] == [(5.0, "Fast pickup"), (2.0, "Waited an h")]
    assert [r.reason for r in parsed.rejected] == ["no review text (body and title are empty)"]


def test_a_review_the_app_marked_spam_is_rejected_and_the_shop_reply_is_not_the_text():
    parsed = parse_reviews(REAL / "judgeme_curated_and_reply.csv", fmt=None)
    assert parsed.format == "judgeme"
    assert [(r.record, r.reason) for r in parsed.rejected] == [
        ("line 4", "marked 'spam' by the review app, not a published review")]
    leaked = by_text(parsed, "The cap was loose")
    assert leaked.units[0].text == "The cap was loose and half of it leaked into the box."
    assert (leaked.rating, leaked.created_at) == (2.0, "2026-10-04T00:00:00")


def test_camel_case_and_dotted_headers_are_read_as_words():
    """Okendo-style 'reviewer.email', 'dateCreated', 'reviewId': the date and email were not found."""
    parsed = parse_reviews(REAL / "okendo_dotted_camel_headers.csv", fmt=None)
    jammed = by_text(parsed, "Pump jammed")
    assert jammed.created_at == "2026-10-03T10:00:00+00:00"
    assert [i.key for i in jammed.identifiers] == ["email:tess@example.com"]
    assert (jammed.metadata["author"], jammed.metadata["review_id"]) == ("Tess B", "ok-2")
