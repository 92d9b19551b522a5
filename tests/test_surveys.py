import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ingest.errors import ImportFailure
from ingest.model import ImportOptions
from ingest.store import store_parsed
from ingest.survey_columns import CHOICE, EMAIL, EMPTY, OPEN, SCALE, classify
from ingest.surveys import known_question_kinds, parse_survey
from insight.core.redact import Redactor

SURVEYS = Path(__file__).parent / "fixtures" / "surveys"


def parse(path, fmt=None, mapping=None, open_text=(), choice=()):
    return parse_survey(Path(path), fmt=fmt, mapping=mapping or {}, open_text=set(open_text), choice=set(choice))


def by_id(parsed):
    return {d.external_id: d for d in parsed.documents}


def answers(doc):
    return {u.question: u.text for u in doc.units}


def counts(db):
    return {t: db[t].count for t in ("documents", "units", "attributes", "customers", "import_batches")}


# --- formats -------------------------------------------------------------------------------------------


def test_typeform_csv(fixtures):
    parsed = parse(SURVEYS / "typeform.csv")
    assert (parsed.format, parsed.rows_read, len(parsed.documents), parsed.rejected) == ("typeform", 12, 12, [])
    doc = by_id(parsed)["typeform:k2x9a1"]
    assert doc.created_at == "2026-10-03T14:22:10+00:00"
    assert [i.key for i in doc.identifiers] == ["email:jo.bloggs@example.com", "order:1001"]
    assert doc.metadata["utm_source"] == "instagram" and doc.metadata["Network ID"] == "a1b2c3d4e5"
    assert doc.metadata["started_at"] == "2026-10-03T14:20:01+00:00"
    assert answers(doc) == {
        "What almost stopped you from buying?":
            "Honestly the price, I wasn't sure a serum at that price would be any better than my drugstore one."
    }  # 'No' to "Anything else" is not a unit
    multi = "Instagram / TikTok / A friend / Podcast"
    assert set(doc.attributes) == {
        ("Is this your first order with us?", "Yes"),
        (multi, "Instagram"),
        ("How likely are you to recommend Dewdrop to a friend? (0-10)", "9"),  # HTML stripped from header
    }
    two_picks = by_id(parsed)["typeform:k2x9a4"]
    assert {(multi, "Instagram"), (multi, "TikTok")} <= set(two_picks.attributes)
    other = by_id(parsed)["typeform:k2x9a7"]
    assert answers(other)[f"{multi} / Other"] == "My dermatologist"
    multiline = answers(by_id(parsed)["typeform:k2x9a2"])["Anything else you'd like to tell us?"]
    assert multiline == "Love the packaging. Please do refills!\nAlso a travel size would be great."
    # a Shopify internal order id is not an order number: kept as metadata only
    internal = by_id(parsed)["typeform:k2x9a9"]
    assert [i.kind for i in internal.identifiers] == ["email"] and internal.metadata["order_id"] == "5123456789012"
    # a partial response has no submit date: its start date is used
    assert by_id(parsed)["typeform:k2x9b1"].created_at == "2026-10-13T13:13:13+00:00"
    assert parsed.details["open_text"] == [f"{multi} / Other", "What almost stopped you from buying?",
                                           "Anything else you'd like to tell us?"]


def test_typeform_xlsx_gives_the_same_documents_as_the_csv():
    from_csv, from_xlsx = parse(SURVEYS / "typeform.csv"), parse(SURVEYS / "typeform.xlsx")
    assert from_xlsx.format == "typeform"
    assert [d.content_hash() for d in from_xlsx.documents] == [d.content_hash() for d in from_csv.documents]


def test_google_forms_joined_checkboxes_and_generated_ids():
    parsed = parse(SURVEYS / "google_forms.csv")
    assert parsed.format == "google_forms" and len(parsed.documents) == 5
    first = parsed.documents[0]
    assert first.created_at == "2026-10-03T14:22:10"
    assert ("Which products did you buy?", "Hyaluronic Dew Serum") in first.attributes
    assert ("Which products did you buy?", "Daily Gel Cleanser") in first.attributes
    assert answers(first) == {"What made you choose us over other brands?":
                              "The ingredient list is short and I can actually read it"}
    assert parsed.documents[3].created_at == "2026-10-13T21:40:00"  # month-first, decided from the column
    ids = [d.external_id for d in parsed.documents]
    assert len(set(ids)) == 5 and all(i.startswith("google_forms:") for i in ids)
    assert ids == [d.external_id for d in parse(SURVEYS / "google_forms.csv").documents]  # stable


def test_surveymonkey_two_header_rows_csv_and_xlsx():
    parsed = parse(SURVEYS / "surveymonkey.csv")
    assert (parsed.format, parsed.rows_read, len(parsed.documents)) == ("surveymonkey", 3, 3)
    jo, sam, third = parsed.documents
    assert jo.external_id == "surveymonkey:114523987001" and jo.created_at == "2026-10-03T14:22:10"
    assert ("Which of these did you buy?", "Hyaluronic Dew Serum") in jo.attributes
    assert ("How easy was checkout?", "Very easy") in jo.attributes
    assert answers(sam)["Which of these did you buy? (other)"] == "a travel kit"
    assert set(third.attributes) >= {("Which of these did you buy?", "Hyaluronic Dew Serum"),
                                     ("Which of these did you buy?", "Cloud Moisturiser")}
    assert answers(third)["Anything else?"].startswith("The account creation step nearly lost me.")
    assert third.identifiers == []  # no email given; names and IP address are never kept
    assert "First Name" not in jo.metadata and "IP Address" not in jo.metadata
    xlsx = parse(SURVEYS / "surveymonkey.xlsx")
    assert [d.content_hash() for d in xlsx.documents] == [d.content_hash() for d in parsed.documents]


def test_qualtrics_three_header_rows_bom_and_time_zone():
    parsed = parse(SURVEYS / "qualtrics.csv")
    assert (parsed.format, len(parsed.documents)) == ("qualtrics", 3)
    jo = by_id(parsed)["qualtrics:R_1a2B3c4D5e6F7g8"]
    assert jo.created_at == "2026-10-03T10:22:11-04:00"  # RecordedDate in the export's America/New_York
    assert [i.key for i in jo.identifiers] == ["email:jo@example.com", "order:1001"]
    assert ("Which of these matter most to you when buying skincare?", "Ingredients") in jo.attributes
    assert ("Which of these matter most to you when buying skincare?", "Price") in jo.attributes
    assert ("How satisfied are you with... - Packaging", "Very satisfied") in jo.attributes
    assert answers(jo) == {"What is the one thing we could do better?": "Tell me how long a bottle lasts before I buy it"}
    sam = by_id(parsed)["qualtrics:R_2b3C4d5E6f7G8h9"]
    assert answers(sam)["How did you hear about us? - Other"] == "My dermatologist"
    assert [i.key for i in sam.identifiers] == ["email:sam@example.org", "order:1002"]  # case, '#'
    assert "RecipientFirstName" not in jo.metadata and "LocationLatitude" not in jo.metadata


def test_post_purchase_long_format_groups_rows_by_order():
    parsed = parse(SURVEYS / "fairing.csv")
    assert (parsed.format, parsed.rows_read, len(parsed.documents)) == ("post_purchase", 8, 4)
    sam = by_id(parsed)["post_purchase:order:1002"]
    assert [i.key for i in sam.identifiers] == ["email:sam@example.org", "customer_id:7002", "order:1002"]
    assert sam.attributes == [("How did you hear about us?", "Other")]
    assert answers(sam) == {"How did you hear about us? (other)": "My dermatologist recommended you",
                            "What almost stopped you from buying today?": "Shipping cost to Ireland"}
    assert sam.created_at == "2026-10-04T09:03:12+00:00" and sam.metadata["Order Total"] == "32.50"
    lee = by_id(parsed)["post_purchase:order:1003"]
    assert lee.units == []  # 'nothing' is not something to analyse


def test_generic_mapping_semicolons_and_cp1252():
    parsed = parse(SURVEYS / "generic_semicolon_cp1252.csv",
                   mapping={"id": ["ResponseNo"], "text": ["Q3 What should we improve?"],
                            "choice": ["Q1 Favourite product"], "email": ["E-mail"], "date": ["Submitted"]})
    assert parsed.format == "generic" and len(parsed.documents) == 3
    first = parsed.documents[0]
    assert first.external_id.startswith("generic:") and first.external_id.endswith(":101")
    assert answers(first) == {"Q3 What should we improve?": "Le flacon est très joli mais la pompe fuit – please fix"}
    assert first.attributes == [("Q1 Favourite product", "Dew Serum")]
    assert parsed.documents[2].created_at == "2026-10-15T18:41:00"  # day-first, seen from '15/10/2026'


def test_generic_mapping_errors_name_the_column(tmp_path):
    with pytest.raises(ImportFailure, match=r"no column 'Q9'.*expected one of the columns: ResponseNo"):
        parse(SURVEYS / "generic_semicolon_cp1252.csv", mapping={"text": ["Q9"]})
    with pytest.raises(ImportFailure, match="unknown --map field"):
        parse(SURVEYS / "generic_semicolon_cp1252.csv", mapping={"body": ["Q3"]})
    with pytest.raises(ImportFailure, match="--map only applies to generic"):
        parse(SURVEYS / "typeform.csv", fmt="typeform", mapping={"text": ["x"]})


# --- open text vs choice -------------------------------------------------------------------------------


def test_classification_by_content():
    assert classify(["Instagram", "TikTok", "Instagram", "A friend"] * 5).kind == CHOICE
    assert classify([f"The shipping took {n} days and nobody answered my emails" for n in range(12)]).kind == OPEN
    assert classify(["price", "shipping cost", "reviews", "skin type", "ingredients", "packaging", "delivery time",
                     "vegan?", "too many products", "account creation", "stock"]).kind == OPEN  # short but unique
    assert classify(["9", "10", "7", "8", ""]).kind == SCALE
    assert classify(["jo@example.com", "sam@example.org"]).kind == EMAIL
    assert classify(["", "n/a", "-"]).kind == EMPTY
    assert classify(["No", "Nothing", "no", "Shipping was slow and the box was damaged"]).kind == OPEN


def test_user_overrides_the_classification():
    parsed = parse(SURVEYS / "google_forms.csv", open_text={"how did you hear about us?"},
                   choice={"What made you choose us over other brands?"})
    first = parsed.documents[0]
    assert answers(first) == {"How did you hear about us?": "Instagram"}
    assert ("What made you choose us over other brands?",
            "The ingredient list is short and I can actually read it") in first.attributes
    with pytest.raises(ImportFailure, match="name no question column: Nope"):
        parse(SURVEYS / "typeform.csv", open_text={"Nope"})


# --- malformed input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nSam: hi\n", "transcript"),
        (b"Name,Email,Financial Status,Paid at,Lineitem name,Total\n#1001,a@b.co,paid,,Serum,10\n", "orders export"),
        (b"Id,Subject,Requester,Requester email,Status\n1,Help,Jo,jo@example.com,open\n", "support-ticket"),
        (b"When,What\n2026-10-01,hello\n", "no survey tool's columns among 2 columns \\('When', 'What'\\)"),
        (b'#,Q\n"abc,unterminated\n', "malformed CSV"),
    ],
)
def test_bad_files_fail_with_the_file_name_and_reason(tmp_path, content, message):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailure, match=message) as info:
        parse(path)
    assert str(path) in info.value.message


def test_docx_passed_as_survey_and_unknown_format(tmp_path, fixtures):
    docx_path = Path(__file__).parent / "fixtures" / "interviews" / "2026-10-08_ana@example.com.docx"
    with pytest.raises(ImportFailure, match="not an XLSX workbook"):
        parse(docx_path)
    with pytest.raises(ImportFailure, match="unknown survey format 'surveygizmo'; known formats: typeform"):
        parse(SURVEYS / "typeform.csv", fmt="surveygizmo")
    with pytest.raises(ImportFailure, match=r"no '#' column"):
        parse(SURVEYS / "google_forms.csv", fmt="typeform")


def test_utf16_and_bom_exports_decode(tmp_path):
    text = (SURVEYS / "google_forms.csv").read_text(encoding="utf-8")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(text, encoding="utf-16")
    bom = tmp_path / "bom.csv"
    bom.write_text(text, encoding="utf-8-sig")
    expected = [d.content_hash() for d in parse(SURVEYS / "google_forms.csv").documents]
    assert [d.content_hash() for d in parse(utf16).documents] == expected
    assert [d.content_hash() for d in parse(bom).documents] == expected


def test_bad_rows_are_rejected_with_their_line_and_the_rest_imported(tmp_path):
    rows = list(csv.reader((SURVEYS / "typeform.csv").open(newline="", encoding="utf-8")))
    rows[3] = rows[3] + ["stray", "cells"]  # ragged: line 5 (line 3 holds a two-line answer)
    rows[4][0] = ""  # no response token: identified by a hash of its answers instead
    rows[5][16] = "yesterday-ish"  # unreadable Submit Date
    path = tmp_path / "typeform.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    parsed = parse(path)
    assert [(r.record, r.reason) for r in parsed.rejected] == [
        ("line 5", "21 cells but the header has 19: the row does not line up with the header"
                   " (a stray separator, an unquoted line break or a missing cell?)"),
        ("line 7", "unreadable date 'yesterday-ish' in column 'Submit Date (UTC)' (expected a date such as "
                   "2026-10-03 14:22:10, 10/3/2026 14:22 or 3/10/26 14:22)"),
    ]
    assert len(parsed.documents) == 10
    assert sum(d.external_id.startswith("typeform:row-") for d in parsed.documents) == 1


def test_an_answer_over_the_cell_limit_rejects_that_response_only(tmp_path):
    """Old code refused the whole survey: 'the cell in column ... has 150,000 characters'."""
    rows = list(csv.reader((SURVEYS / "typeform.csv").open(newline="", encoding="utf-8")))
    rows[3][7] = "too long " * 20_000  # line 5 (line 3 holds a two-line answer)
    path = tmp_path / "typeform.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    parsed = parse(path)
    assert [(r.record, r.reason) for r in parsed.rejected] == [
        ("line 5", "the cell in column 'What almost stopped you from buying?' has 180,000 characters, over the "
                   "limit of 100,000")]
    assert len(parsed.documents) == len(parse(SURVEYS / "typeform.csv").documents) - 1
    assert parsed.rows_read == len(rows) - 1
    assert rows[3][0] not in {d.external_id.removeprefix("typeform:") for d in parsed.documents}


def test_replaced_bytes_are_noted_in_the_survey_summary(tmp_path):
    data = (SURVEYS / "typeform.csv").read_bytes().replace(b"Honestly", "Tomás and Renée: honest".encode() + b"\xffly", 1)
    path = tmp_path / "typeform.csv"
    path.write_bytes(data)  # UTF-8 but for one bad byte: stays UTF-8 (not 'TomÃ¡s'), the byte replaced
    parsed = parse(path)
    assert any(u.text.startswith("Tomás and Renée: honest\ufffdly the price") for d in parsed.documents for u in d.units)
    assert parsed.details["encoding"] == "1 byte(s) that are not valid utf-8 replaced with U+FFFD (first on line 2)"
    assert "encoding" not in parse(SURVEYS / "typeform.csv").details


# --- storing: idempotent, windows, redaction, atomic ------------------------------------------------


def test_reimport_and_overlapping_next_export(db, tmp_path, clock):
    first = store_parsed(db, parse(SURVEYS / "typeform.csv"), ImportOptions(), Redactor(), clock)
    assert (first.imported, first.duplicates, first.units) == (12, 0, 16)
    again = store_parsed(db, parse(SURVEYS / "typeform.xlsx"), ImportOptions(), Redactor(), clock)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 12)
    # next window's export repeats two responses (one edited) and adds one
    rows = list(csv.reader((SURVEYS / "typeform.csv").open(newline="", encoding="utf-8")))
    nxt = [rows[0], rows[11], rows[12], list(rows[12])]
    nxt[2][7] = "The price of shipping, compared with the product itself"
    nxt[3][0], nxt[3][16] = "k2x9c1", "2026-11-02 10:00:00"
    path = tmp_path / "typeform_november.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(nxt)
    summary = store_parsed(db, parse(path), ImportOptions(), Redactor(), clock)
    assert (summary.imported, summary.updated, summary.duplicates) == (1, 1, 1)
    assert db["documents"].count == 13
    edited = db.execute("SELECT u.text FROM units u JOIN documents d ON d.id = u.document_id "
                        "WHERE d.external_id = 'typeform:k2x9b2' AND u.question LIKE 'What almost%'").fetchone()
    assert edited == ("The price of shipping, compared with the product itself",)
    assert db.execute("SELECT window_start FROM documents WHERE external_id = 'typeform:k2x9c1'").fetchone() == (
        "2026-11-01",)


def test_customer_keys_link_to_one_customer_and_attributes_are_stored(db, clock):
    store_parsed(db, parse(SURVEYS / "typeform.csv"), ImportOptions(), Redactor(), clock)
    store_parsed(db, parse(SURVEYS / "fairing.csv"), ImportOptions(), Redactor(), clock)
    # order #1001 from Typeform and Fairing's 'jo@example.com' + #1001 are the same person
    owners = db.execute("SELECT DISTINCT customer_id FROM documents WHERE external_id IN "
                        "('typeform:k2x9a1', 'post_purchase:order:1001')").fetchall()
    assert len(owners) == 1
    assert db.execute("SELECT count(*) FROM attributes WHERE name = 'Is this your first order with us?' "
                      "AND value = 'No'").fetchone() == (4,)


def test_redaction_by_default_and_raw_only_on_request(db, clock):
    store_parsed(db, parse(SURVEYS / "typeform.csv"), ImportOptions(), Redactor(), clock)
    text, raw = db.execute("SELECT text, raw_text FROM units WHERE text LIKE 'Call me%'").fetchone()
    assert text == "Call me on [PHONE] about the discount code" and raw is None


def test_a_failing_file_leaves_the_database_as_it_was(db, tmp_path, clock):
    store_parsed(db, parse(SURVEYS / "typeform.csv"), ImportOptions(), Redactor(), clock)
    before = counts(db)
    bad = tmp_path / "bad.csv"
    shutil.copy(SURVEYS / "typeform.csv", bad)
    with bad.open("a", encoding="utf-8") as fh:
        fh.write("k2x9z9,Yes,,,,,,fine,9,,z@example.com,1,,completed,2026-10-20 10:00:00,,bad date,x,\n")
    with pytest.raises(ImportFailure, match="line 15"):
        store_parsed(db, parse(bad), ImportOptions(strict=True), Redactor(), clock)
    assert counts(db) == before


def test_cli_json_summary(db_path, tmp_path):
    from click.testing import CliRunner

    from insight.cli import cli

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    args = ["--db", str(db_path), "import", "survey", str(SURVEYS / "qualtrics.csv"), str(empty), "--json",
            "--no-redact", "--window", "2026-10-01..2026-10-31"]
    result = CliRunner().invoke(cli, args)
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and payload["ok"] is False
    assert payload["totals"]["imported"] == 3 and payload["files"][0]["format"] == "qualtrics"
    assert payload["failed"] == [{"file": str(empty), "error": f"{empty}: the file is empty"}]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT DISTINCT window_start, window_end FROM documents").fetchall() == [
            ("2026-10-01", "2026-10-31")]
    again = json.loads(CliRunner().invoke(cli, args[:5] + ["--json", "--no-redact"]).stdout)
    assert again["totals"]["duplicates"] == 3 and again["ok"] is True


def test_next_small_export_reads_questions_as_stored_before(db, tmp_path, clock):
    from ingest.surveys import known_question_kinds

    store_parsed(db, parse(SURVEYS / "typeform.csv"), ImportOptions(), Redactor(), clock)
    rows = list(csv.reader((SURVEYS / "typeform.csv").open(newline="", encoding="utf-8")))
    small = [rows[0], list(rows[12]), list(rows[12])]
    small[1][0], small[1][7] = "k2x9d1", "Price"  # two short answers alone look like a choice…
    small[2][0], small[2][7] = "k2x9d2", "Shipping"
    path = tmp_path / "typeform_small.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(small)
    assert "What almost stopped you from buying?" in parse(path).details["choices"]
    known = known_question_kinds(db)  # …but earlier imports stored that question as open text
    assert known["What almost stopped you from buying?"] == OPEN and known["Is this your first order with us?"] == CHOICE
    parsed = parse_survey(path, fmt=None, mapping={}, open_text=set(), choice=set(), known=known)
    assert answers(parsed.documents[0]) == {"What almost stopped you from buying?": "Price"}


def test_answers_with_nothing_to_say():
    from ingest.survey_columns import says_nothing

    assert all(says_nothing(t) for t in ["No.", "Not a thing", "nothing at all", ":)", "🙏", " n/a ", "OK!"])
    assert not any(says_nothing(t) for t in ["nothing stopped me, the price was fine", "No white cast", "ok price"])
    assert classify(["Yes", "No", "Yes", "yes"]).kind == CHOICE  # a yes/no question is still a choice


def test_knocommerce_style_long_export_groups_by_email_and_day(tmp_path):
    path = tmp_path / "kno.csv"
    path.write_text(
        "Submitted At,Customer Email,Question Title,Answer,Order Total\n"
        "2026-10-03 14:22:10,Jo@Example.com,Where did you first hear about us?,Podcast,54.00\n"
        "2026-10-03 14:22:30,jo@example.com,What nearly stopped you?,Not sure the serum suits oily skin,54.00\n"
        "2026-10-09 08:00:00,jo@example.com,Where did you first hear about us?,Instagram,20.00\n"
        "2026-10-04 09:00:00,,Where did you first hear about us?,TikTok,10.00\n",
        encoding="utf-8",
    )
    parsed = parse(path)
    assert parsed.format == "post_purchase" and len(parsed.documents) == 2
    first, second = parsed.documents
    assert first.external_id == "post_purchase:email:jo@example.com:2026-10-03"
    assert answers(first) == {"What nearly stopped you?": "Not sure the serum suits oily skin"}
    assert first.attributes == [("Where did you first hear about us?", "Podcast")]
    assert second.attributes == [("Where did you first hear about us?", "Instagram")]
    assert [(r.record, r.reason) for r in parsed.rejected] == [
        ("line 5", "no response id, order or customer to group this answer by")]


# --- real exports that broke the importer (issue 14) -----------------------------------------------------

REAL = Path(__file__).parent / "fixtures" / "surveys_real"


def write_rows(path, rows, encoding="utf-8"):
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


def read_rows(path):
    return list(csv.reader(path.open(newline="", encoding="utf-8-sig")))


def shuffled_columns(rows, seed=7):
    import random

    order = list(range(len(rows[0])))
    random.Random(seed).shuffle(order)
    assert order != sorted(order)
    # columns with the same header cannot be told apart: those keep their order among themselves
    same: dict[str, list[int]] = {}
    for i in range(len(rows[0])):
        same.setdefault(rows[0][i], []).append(i)
    taken = {name: iter(indexes) for name, indexes in same.items()}
    order = [next(taken[rows[0][i]]) for i in order]
    return [[row[i] for i in order] for row in rows]


def attribute_rows(db):
    return sorted(db.execute("SELECT d.external_id, a.name, a.value FROM attributes a "
                             "JOIN documents d ON d.id = a.document_id").fetchall())


def unit_rows(db):
    return sorted(db.execute("SELECT u.id, d.external_id, u.position, u.question, u.text FROM units u "
                             "JOIN documents d ON d.id = u.document_id").fetchall())


def test_qualtrics_choice_and_its_text_column_reimport_changes_nothing(db, clock):
    """Q1 and Q1_TEXT share a label: the second import used to read Q1 as open text (the kind remembered
    for the label) and delete its choices."""
    path = REAL / "qualtrics_other_text.csv"
    first = store_parsed(db, parse(path), ImportOptions(), Redactor(enabled=False), clock)
    assert (first.imported, first.rejected) == (5, [])
    attributes, units = attribute_rows(db), unit_rows(db)
    again = store_parsed(db, parse_survey(path, fmt=None, mapping={}, open_text=set(), choice=set(),
                                          known=known_question_kinds(db)), ImportOptions(), Redactor(enabled=False), clock)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 5)
    assert attribute_rows(db) == attributes and unit_rows(db) == units
    assert ("qualtrics:R_2b3C4d5E6f7G8h9", "Which best describes you?", "Other") in attributes
    assert any(u[3] == "Which best describes you? (other)" and u[4] == "Retired nurse" for u in units)


def test_qualtrics_metadata_is_never_an_answer_and_the_import_id_row_is_a_header():
    parsed = parse(REAL / "qualtrics_other_text.csv")
    assert (parsed.rows_read, len(parsed.documents), parsed.rejected) == (5, 5, [])
    questions = {n for d in parsed.documents for n, _ in d.attributes} | {u.question for d in parsed.documents
                                                                         for u in d.units}
    assert questions == {"Which best describes you?", "Which best describes you? (other)",
                         "What is the one thing we could do better?", "How would you rate your last order?"}
    doc = by_id(parsed)["qualtrics:R_1a2B3c4D5e6F7g8"]
    assert doc.metadata["Region"] == "IE" and doc.metadata["Q4_Browser"] == "Chrome"  # kept, not analysed
    assert "LocationLatitude" not in doc.metadata and "LocationAccuracy" not in doc.metadata
    assert [i.key for i in doc.identifiers] == ["email:ana@example.com", "order:1001"]


def test_legacy_qualtrics_with_v1_to_v10_metadata_columns():
    parsed = parse(REAL / "qualtrics_legacy.csv")
    assert (parsed.format, parsed.rows_read, len(parsed.documents), parsed.rejected) == ("qualtrics", 3, 3, [])
    doc = by_id(parsed)["qualtrics:R_1bMh2dZ3tF4sW5b"]
    assert doc.created_at == "2014-03-12T09:03:12" and doc.metadata["started_at"] == "2014-03-12T09:01:44"
    assert set(doc.attributes) == {("How did you hear about us?", "Other"),
                                   ("How satisfied are you overall?", "Very satisfied")}
    assert answers(doc) == {"How did you hear about us? (other)": "My pharmacist",
                            "What nearly stopped you from buying?": "Shipping cost to Ireland"}
    assert "Lee, Sam" not in json.dumps(doc.metadata) and "LocationAccuracy" not in doc.metadata
    assert [i.key for i in by_id(parsed)["qualtrics:R_0aLg1cY2sE3rV4a"].identifiers] == ["email:ana@example.com"]


def test_a_header_that_lost_a_cell_is_refused(tmp_path):
    rows = read_rows(REAL / "google_forms_excel_resaved.csv")
    del rows[0][3]  # every answer after it would sit one question to the left
    with pytest.raises(ImportFailure, match=r"6 of 6 rows do not have the header's 7 cells .*line 2.* has 8"):
        parse(write_rows(tmp_path / "lost.csv", rows))


def test_one_row_narrower_than_the_header_is_rejected_not_padded(tmp_path):
    rows = read_rows(SURVEYS / "typeform.csv")
    rows = rows + [list(r) for r in rows[1:13]]  # 24 responses: one bad row is a small share
    for n, row in enumerate(rows[13:]):
        row[0] = f"copy{n}"
    del rows[5][7]  # a cell missing mid-row: the row cannot be trusted
    parsed = parse(write_rows(tmp_path / "narrow.csv", rows))
    assert [r.reason.split(":")[0] for r in parsed.rejected] == ["18 cells but the header has 19"]
    assert len(parsed.documents) == 23


def test_shuffled_columns_give_the_same_records(db, tmp_path, clock):
    for name in ("qualtrics_other_text.csv", "google_forms_excel_resaved.csv"):
        store_parsed(db, parse(REAL / name), ImportOptions(), Redactor(enabled=False), clock)
    before, attributes = unit_rows(db), attribute_rows(db)
    for name in ("qualtrics_other_text.csv", "google_forms_excel_resaved.csv"):
        rows = read_rows(REAL / name)
        head = 3 if name.startswith("qualtrics") else 1
        body = shuffled_columns(rows)
        path = write_rows(tmp_path / name, body[:head] + body[head:])
        summary = store_parsed(db, parse(path), ImportOptions(), Redactor(enabled=False), clock)
        assert (summary.imported, summary.updated, summary.rejected) == (0, 0, []), name
        assert summary.duplicates == len(rows) - head
    assert unit_rows(db) == before and attribute_rows(db) == attributes
    store_parsed(db, parse(REAL / "surveymonkey_no_collector.csv"), ImportOptions(), Redactor(enabled=False), clock)
    before, attributes = unit_rows(db), attribute_rows(db)
    monkey = read_rows(REAL / "surveymonkey_no_collector.csv")
    order = [0, 1, 2, 3, 4, 5, 6, 9, 8, 7]  # questions reordered (SurveyMonkey keeps its id columns first)
    path = write_rows(tmp_path / "monkey.csv", [[r[i] for i in order] for r in monkey])
    summary = store_parsed(db, parse(path), ImportOptions(), Redactor(enabled=False), clock)
    assert (summary.imported, summary.updated, summary.duplicates) == (0, 0, 4)
    assert unit_rows(db) == before and attribute_rows(db) == attributes


def test_excel_resaved_dates_with_two_digit_years_are_read_per_column():
    parsed = parse(REAL / "google_forms_excel_resaved.csv")
    assert (len(parsed.documents), parsed.rejected) == (6, [])
    assert [d.created_at for d in parsed.documents][:2] == ["2020-03-11T23:38:00", "2020-03-12T08:05:00"]
    assert parsed.details["date_order"] == {"Timestamp": "month-first (M/D/Y): a second field above 12, "
                                                         "e.g. '3/13/20 17:41'"}
    dayfirst = parse(REAL / "google_forms_dayfirst.csv")
    # '03/04/2020' is only known to be 3 April from the third row's '14/04/2020'
    assert [d.created_at[:10] for d in dayfirst.documents] == ["2020-04-03", "2020-04-05", "2020-04-14"]
    assert "day-first" in dayfirst.details["note"]


def test_surveymonkey_without_collector_id_and_with_empty_respondent_ids():
    parsed = parse(REAL / "surveymonkey_no_collector.csv")
    assert (parsed.format, len(parsed.documents), parsed.rejected) == ("surveymonkey", 4, [])
    ids = [d.external_id for d in parsed.documents]
    assert len(set(ids)) == 4 and all(i.startswith("surveymonkey:row-") for i in ids)
    assert ids == [d.external_id for d in parse(REAL / "surveymonkey_no_collector.csv").documents]
    forced = parse(REAL / "surveymonkey_no_collector.csv", fmt="surveymonkey")
    assert [d.external_id for d in forced.documents] == ids
    assert parsed.documents[0].created_at == "2020-03-11T23:38:40"


def test_undetected_export_says_in_one_short_line_what_was_expected(tmp_path):
    header = ["Survey name"] + [f"Question number {n} about the product you bought last" for n in range(60)]
    path = write_rows(tmp_path / "export.csv", [header, ["x"] * len(header)])
    with pytest.raises(ImportFailure) as info:
        parse(path)
    message = info.value.message
    assert len(message) < 400 and "\n" not in message
    assert "61 columns ('Survey name', 'Question number 0 about…'" in message
    assert "SurveyMonkey 'Respondent ID'" in message and "Qualtrics 'ResponseId'" in message


def test_identity_questions_are_identifiers_or_dropped_never_feedback():
    parsed = parse(REAL / "google_forms_excel_resaved.csv")
    stored = json.dumps([(d.attributes, [u.text for u in d.units], d.metadata) for d in parsed.documents])
    for name in ("Ana Silva", "Sam Lee", "Priya Nair", "What is your name?"):
        assert name not in stored
    assert parsed.details["identity_questions"] == {"What is your name?": "name: dropped"}


@pytest.mark.parametrize(
    ("header", "values", "kind"),
    [
        ("What is your name?", ["Ana Silva", "jo", "Sam Lee"], "name"),
        ("Full name", ["Ana Silva", "Jo Bloggs"], "name"),
        ("Name one thing we should change", ["The price is too high. Really.", "Slow shipping! Every time."], None),
        ("Contact", ["ana@example.com", "jo@example.org", "sam@example.net"], "email"),
        ("Best number to reach you", ["+44 7700 900123", "(555) 010-9999", "087 123 4567"], "phone"),
        ("Shipping address", ["1 Main St, Cork", "22 Rue de Rivoli, Paris"], "address"),
        ("How did you hear about us?", ["Instagram", "A friend", "Google search"], None),
        ("Favourite product", ["Dew Serum", "Cloud Moisturiser", "Night Cream", "Gel Cleanser", "Sheer SPF"], None),
        # Typeform keeps a phone as text with a leading apostrophe; the header may be in another language
        ("Tu número 📲", ["'+56911122233", "'+56944455566", "'+56977788899"], "phone"),
        ("Teléfono", ["912 345 678", "600 11 22 33"], "phone"),
    ],
)
def test_identity_kind_by_header_and_by_content(header, values, kind):
    from ingest.survey_columns import identity_kind

    assert identity_kind(header, values) == kind


def test_repeated_question_columns_stay_apart(db, clock):
    parsed = parse(REAL / "google_forms_excel_resaved.csv")
    labels = [f"How do you feel about this label design? [{n}]" for n in (1, 2, 3)]
    assert parsed.details["choices"][1:] == labels
    store_parsed(db, parsed, ImportOptions(), Redactor(enabled=False), clock)
    repeated = [a for a in attribute_rows(db) if a[1].startswith("How do you feel")]
    assert len(repeated) == 18  # 6 responses x 3 columns, 'Love it' twice in one response included


def test_cli_exits_non_zero_when_every_record_is_rejected(db_path, tmp_path):
    from click.testing import CliRunner

    from insight.cli import cli

    rows = read_rows(SURVEYS / "typeform.csv")
    for row in rows[1:]:
        row[16] = row[14] = "someday"  # no readable date at all
    bad = write_rows(tmp_path / "bad.csv", rows)
    base = ["--db", str(db_path), "import", "survey"]
    result = CliRunner().invoke(cli, [*base, str(bad), "--json", "--no-redact"])
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and payload["ok"] is False
    assert payload["failed"][0]["file"] == str(bad)
    assert payload["failed"][0]["error"].startswith(f"{bad}: nothing imported: all 12 records rejected (first: line 2:")
    good = [*base, str(SURVEYS / "typeform.csv"), "--json", "--no-redact"]
    assert CliRunner().invoke(cli, good).exit_code == 0
    again = CliRunner().invoke(cli, good)  # a re-import: all duplicates is a success
    assert again.exit_code == 0 and json.loads(again.stdout)["totals"]["duplicates"] == 12


def test_post_purchase_long_export_excel_dates_and_a_name_question():
    parsed = parse(REAL / "post_purchase_excel_resaved.csv")
    assert (parsed.format, parsed.rejected, len(parsed.documents)) == ("post_purchase", [], 2)
    first = by_id(parsed)["post_purchase:order:2001"]
    assert first.created_at == "2020-03-11T23:38:00"
    assert "Ana Silva" not in json.dumps([first.attributes, [u.text for u in first.units]])
    assert parsed.details["identity_questions"] == {"What is your name?": "dropped"}


def test_a_response_stored_under_its_old_id_is_matched_not_added_again(db, clock, tmp_path):
    # Google Forms without an email: earlier versions hashed the row in column order.
    path = REAL / "google_forms_dayfirst.csv"
    store_parsed(db, parse(path), ImportOptions(), Redactor(), clock)
    parsed = parse(path)
    for doc in parsed.documents:  # as an older version stored them
        db.execute("UPDATE documents SET external_id = ? WHERE external_id = ?", [doc.previous_ids[0], doc.external_id])
    db.conn.commit()
    count = db["documents"].count
    again = store_parsed(db, parse(path), ImportOptions(), Redactor(), clock)
    assert (again.imported, again.updated) == (0, count) and db["documents"].count == count
    ids = {r[0] for r in db.execute("SELECT external_id FROM documents")}
    assert ids == {d.external_id for d in parsed.documents}
    third = store_parsed(db, parse(path), ImportOptions(), Redactor(), clock)
    assert (third.imported, third.updated, third.duplicates) == (0, 0, count)


def test_import_window_takes_a_month_as_every_window_option_does(db_path):
    """`import --window 2026-10` was refused while `themes --window 2026-10` worked: one parser now."""
    from click.testing import CliRunner

    from insight.cli import cli

    args = ["--db", str(db_path), "import", "survey", str(SURVEYS / "qualtrics.csv"), "--json", "--no-redact",
            "--window", "2026-10"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT DISTINCT window_start, window_end FROM documents").fetchall() == [
            ("2026-10-01", "2026-10-31")]
    refused = CliRunner().invoke(cli, args[:-1] + ["2026-13"])
    assert refused.exit_code != 0 and "is not a month (YYYY-MM" in refused.output


def test_google_forms_year_first_timestamps_with_gmt_offset():
    """Google Forms in some locales writes '2026/10/07 8:54:18 PM GMT+5:30': every row was rejected."""
    parsed = parse(REAL / "google_forms_year_first_gmt.csv")
    assert parsed.rejected == []
    assert [d.created_at for d in parsed.documents] == [
        "2026-10-07T20:54:18+05:30", "2026-10-07T21:03:39+05:30", "2026-10-08T00:42:16+05:30"]
    leak = next(d for d in parsed.documents if d.created_at.startswith("2026-10-07T21"))
    assert [u.text for u in leak.units] == ["The refill pouch leaked a little, but support sent a new one fast"]


def test_typeform_with_a_title_row_above_its_header():
    """A spreadsheet of a Typeform export with each 'choose many' question's title in a row above the header
    (first cell empty) was refused as 'no survey tool's columns'; the titles now name those questions."""
    parsed = parse(REAL / "typeform_title_row.csv")
    assert parsed.format == "typeform" and parsed.rejected == [] and len(parsed.documents) == 3
    first = next(d for d in parsed.documents if d.external_id.endswith("k2a9x1"))
    assert first.created_at == "2026-10-03T09:15:00+00:00"
    attributes = set(first.attributes)
    assert ("Where do you use the cleanser?", "Face") in attributes
    assert ("Which sizes have you bought?", "Travel 50ml") in attributes
    # a choice nobody picked ('Refill 1L') right before the next title's choices does not join the two questions
    assert ("Which scents do you like?", "Cedar") in attributes
    assert ("Which sizes have you bought?", "Cedar") not in attributes
    other = next(d for d in parsed.documents if d.external_id.endswith("m8q2z7"))
    assert ("Where do you use the cleanser? / Other", "on my dog") in {(u.question, u.text) for u in other.units}
    assert all("#" not in d.external_id.split(":")[-1] for d in parsed.documents)  # the header is no record


def test_qualtrics_with_only_its_tag_row_keeps_the_first_response():
    """A Qualtrics export trimmed to its export-tag row: row 2 was read as the question texts, so the first
    response was lost and its answers became question labels."""
    parsed = parse(REAL / "qualtrics_tags_only.csv")
    assert parsed.format == "qualtrics" and parsed.rows_read == 3
    ids = [d.external_id for d in parsed.documents]
    assert ids[0] == "qualtrics:R_1aB2cD3eF4gH5iJ" and len(ids) == 3
    first = parsed.documents[0]
    assert [u.text for u in first.units] == ["The courier left the box in the rain and the labels peeled off"]
    assert first.units[0].question == "Q7"
    # a choice label with a comma that respondents picked alike is one choice, not two picks
    assert ("Household", "Two adults, no kids") in set(first.attributes)
    assert ("Delivery window", "Evenings, after 6pm") in set(first.attributes)


def test_long_export_with_its_own_column_names_groups_answers_by_respondent_and_day():
    """'question_category' / 'answer_content' / 'student_id' / 'answer_datetime' (a course platform's NPS
    export) was refused as 'no survey tool's columns'. A student id groups answers; it is not a customer key."""
    parsed = parse(REAL / "long_answers_other_names.csv")
    assert parsed.format == "post_purchase" and len(parsed.documents) == 2
    assert [(r.record, r.reason) for r in parsed.rejected] == [("line 5", "no question in column 'question_category'")]
    buffer = next(d for d in parsed.documents if d.external_id == "post_purchase:respondent:502:2026-10-10")
    assert [(u.question, u.text) for u in buffer.units] == [("commentary", "The videos buffer a lot on my phone")]
    assert ("NPS", "6") in set(buffer.attributes)
    assert buffer.identifiers == [] and buffer.created_at == "2026-10-10T18:01:28"


def test_qualtrics_picks_joined_by_a_bare_comma_keep_labels_that_hold_a_comma():
    """Qualtrics joins picks with ',' and its labels hold ', ': 'Business, Economics, and Finance,Statistics,
    Data Science' was split into four pieces at every comma."""
    from ingest.survey_columns import multi_select_separator, split_choice

    values = ["Business, Economics, and Finance", "Other", "Statistics, Data Science",
              "Business, Economics, and Finance,Statistics, Data Science", "Other"]
    separator = multi_select_separator(values)
    assert split_choice(values[3], separator) == ["Business, Economics, and Finance", "Statistics, Data Science"]
    google = ["Price, Scent", "Scent", "Price, Packaging", "Packaging"]  # Google Forms joins with ', '
    assert split_choice(google[0], multi_select_separator(google)) == ["Price", "Scent"]


def test_a_long_export_with_camel_case_headers_groups_a_respondents_rows(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text(
        "Responder,Question,OriginalResponse,ShortAnswer\n"
        "29,1,I looked at residencies in Houston.,Local\n"
        "28,1,The directory,Directory\n"
        "29,2,Elective rotations and the pgy-2 options.,Rotations\n",
        encoding="utf-8",
    )
    parsed = parse(path)
    assert parsed.format == "post_purchase" and len(parsed.documents) == 2 and not parsed.rejected
    by_key = {d.external_id: d for d in parsed.documents}
    assert answers(by_key["post_purchase:respondent:29:"]) == {
        "1": "I looked at residencies in Houston.", "2": "Elective rotations and the pgy-2 options."}


def test_qualtrics_previews_and_test_runs_are_refused_and_a_python_style_import_id_row_is_a_header(tmp_path):
    path = tmp_path / "qualtrics.csv"
    path.write_text(
        "StartDate,EndDate,Status,ResponseId,Q1\n"
        "Start Date,End Date,Response Type,Response ID,What could we do better?\n"
        "{'ImportId': 'startDate'},{'ImportId': 'endDate'},{'ImportId': 'status'},{'ImportId': '_recordId'},"
        "{'ImportId': 'QID1_TEXT'}\n"
        "2026-10-03 14:00:00,2026-10-03 14:05:00,IP Address,R_real1,The pump leaked in transit\n"
        "2026-10-03 15:00:00,2026-10-03 15:05:00,Survey Preview,R_prev1,Lorem ipsum dolor\n"
        "2026-10-03 16:00:00,2026-10-03 16:05:00,2,R_test1,Phasellus molestie\n"
        "2026-10-03 17:00:00,2026-10-03 17:05:00,0,R_real2,Shipping took two weeks\n",
        encoding="utf-8",
    )
    parsed = parse(path)
    assert parsed.format == "qualtrics" and sorted(d.external_id for d in parsed.documents) == [
        "qualtrics:R_real1", "qualtrics:R_real2"]
    assert [(r.record, r.reason.split(" (")[0]) for r in parsed.rejected] == [
        ("line 5", "a Qualtrics survey preview"), ("line 6", "a Qualtrics test response")]
