import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.email_clean import clean_message, is_auto_reply, strip_quoted, strip_signature
from ingest.errors import ImportFailure
from ingest.model import ImportOptions
from ingest.store import store_parsed
from ingest.tickets import parse_tickets
from insight.cli import cli
from insight.core.db import open_db
from insight.core.redact import Redactor

TICKETS = Path(__file__).parent / "fixtures" / "tickets"
GENERIC_MAP = {"id": ["Conversation"], "text": ["Message"], "email": ["From"], "date": ["Sent"],
               "subject": ["Topic"], "role": ["Sender"]}


def parse(name: str, mapping=None, fmt=None):
    return parse_tickets(TICKETS / name, fmt=fmt, mapping=mapping or {})


def doc(parsed, external_id: str):
    return next(d for d in parsed.documents if d.external_id == external_id)


def roles(document):
    return [(u.role, u.analyse) for u in document.units]


def test_zendesk_ticket_with_quoted_reply_and_signature():
    parsed = parse("zendesk_api.json")
    assert parsed.format == "zendesk" and parsed.kind == "ticket"
    ticket = doc(parsed, "zendesk:3021")
    assert ticket.title == "Pump on my serum broke"
    assert [i.key for i in ticket.identifiers] == ["email:jo.bloggs@example.com", "customer_id:6620011"]
    assert ticket.metadata["tags"] == ["damaged", "pump", "serum"]
    assert (ticket.metadata["status"], ticket.metadata["channel"], ticket.metadata["satisfaction"]) == (
        "solved", "email", "good")
    first, agent, last = ticket.units
    assert first.text == ("Hi, the pump on my niacinamide serum broke after two days. It just spins and nothing "
                          "comes out.\nCan I get a replacement? My order was #1042.")
    assert "Thanks" not in first.text and "iPhone" not in first.text and "555" not in first.text
    assert last.text == "Got it, the new one works. Would be nice if the pump was sturdier though."
    assert "wrote:" not in last.text and ">" not in last.text
    # Agent replies are context (not analysed); the internal note is never imported.
    assert roles(ticket) == [("customer", True), ("agent", False), ("customer", True)]
    assert [u.turn for u in ticket.units] == [0, 1, 2]
    assert all("flagging batch" not in u.text for u in ticket.units)
    assert parsed.details["internal_notes_skipped"] == 1


def test_zendesk_html_body_auto_reply_and_description_only():
    parsed = parse("zendesk_api.json")
    wismo = doc(parsed, "zendesk:3022")
    assert [u.text for u in wismo.units] == ["Ordered 10 days ago and tracking hasn't moved.\nIs it lost?"]
    assert parsed.details["empty_after_cleaning"] == 1  # the out-of-office reply
    pause = doc(parsed, "zendesk:3023")
    assert [u.text for u in pause.units] == ["How do I pause my routine subscription for a month?"]
    assert [(r.record, r.reason) for r in parsed.rejected] == [("ticket record 4", "no id")]


def test_zendesk_ndjson_export_takes_email_from_the_mail_channel():
    parsed = parse("zendesk_export.json")
    assert parsed.format == "zendesk" and len(parsed.documents) == 2
    lid = doc(parsed, "zendesk:4101")
    assert [i.key for i in lid.identifiers] == ["email:lee.m@example.com"]
    assert lid.units[0].text == "The lid of the balm tub arrived cracked. The balm itself is fine."
    reaction = doc(parsed, "zendesk:4102")
    assert reaction.identifiers == [] and reaction.metadata["requester_id"] == "8102"
    assert reaction.units[0].text == "I got red bumps after two days of the serum. Should I stop?"
    assert reaction.record == "ticket 4102 (line 2)"


def test_zendesk_and_freshdesk_csv_exports():
    view = parse("zendesk_view.csv")
    assert view.format == "zendesk_csv"
    late = doc(view, "zendesk:5001")
    assert late.units[0].text == "My order still hasn't arrived after 12 days.\nCan you check?"
    assert late.metadata["tags"] == ["shipping", "late"] and late.metadata["solved_at"] == "2026-10-05T09:00:00"
    assert "satisfaction" not in doc(view, "zendesk:5002").metadata  # 'Unoffered' is not a score
    fresh = parse("freshdesk.csv")
    assert fresh.format == "freshdesk"
    refund = doc(fresh, "freshdesk:61")
    assert refund.units[0].text == "The bottle leaked in transit.\nI'd like a refund please."
    assert refund.metadata["tags"] == ["leak", "refund"] and refund.metadata["channel"] == "Email"
    assert [i.key for i in refund.identifiers] == ["email:maria.lopez@example.com"]


def test_gorgias_messages_by_agent_flag_and_internal_notes_skipped():
    parsed = parse("gorgias.json")
    assert parsed.format == "gorgias"
    charged = doc(parsed, "gorgias:880001")
    assert roles(charged) == [("customer", True), ("agent", False)]
    assert "wrote:" not in charged.units[0].text and "shipped" not in charged.units[0].text
    assert [i.key for i in charged.identifiers] == ["email:dana.w@example.com", "customer_id:6620150"]
    chat = doc(parsed, "gorgias:880002")
    assert chat.units[0].text == "Do you ship to Canada?"
    assert [i.key for i in chat.identifiers] == ["email:visitor42@example.com"]


def test_helpscout_threads_are_put_in_time_order_and_notes_dropped():
    parsed = parse("helpscout.json")
    assert parsed.format == "helpscout"
    conversation = doc(parsed, "helpscout:2391938111")
    assert [u.text for u in conversation.units] == [
        "The refill pouch leaked all over the box. The seal looks split.",
        "We're sending a new pouch.",
        "Thanks, the replacement arrived fine.",
    ]
    assert roles(conversation)[1] == ("agent", False)
    assert conversation.metadata["tags"] == ["refill", "leak"]


def test_intercom_bots_and_notes_are_not_units():
    parsed = parse("intercom.json")
    assert parsed.format == "intercom"
    swap = doc(parsed, "intercom:147")
    assert roles(swap) == [("customer", True), ("agent", False), ("customer", True)]
    assert all("Our team will reply" not in u.text and "VIP" not in u.text for u in swap.units)
    assert swap.created_at == "2026-10-11T09:00:00+00:00"
    assert [i.key for i in swap.identifiers] == ["email:jess.tan@example.com", "customer_id:6620201"]
    assert doc(parsed, "intercom:148").title == "Discount code"


def test_generic_csv_with_map_groups_messages_by_id():
    parsed = parse("generic.csv", GENERIC_MAP)
    assert parsed.format == "generic"
    gift = doc(parsed, "generic:c-1")
    assert [(u.role, u.text) for u in gift.units] == [
        ("customer", "Can you gift wrap an order?"), ("agent", "Yes! Add a note at checkout."),
        ("customer", "Great, thanks!"),
    ]
    assert [(r.record, r.reason) for r in parsed.rejected] == [("line 7", "no ticket id in column 'Conversation'")]


@pytest.mark.parametrize(
    ("name", "mapping", "message"),
    [
        ("broken.json", {}, r"broken.json, line 2, column 12: invalid JSON"),
        ("unknown.csv", {}, r"unknown.csv, line 1: a CSV this tool does not recognise.*--map id=COLUMN"),
        ("generic.csv", {"id": ["Conversation"], "text": ["Body"]}, r"--map text=Body: no such column"),
        ("generic.csv", {"id": ["Conversation"]}, r"needs --map text=COLUMN"),
        ("generic.csv", {"id": ["Conversation"], "text": ["Message"], "colour": ["x"]}, r"unknown field\(s\) colour"),
    ],
)
def test_bad_files_fail_with_file_record_and_expectation(name, mapping, message):
    with pytest.raises(ImportFailure, match=message):
        parse(name, mapping)


def test_unrecognised_json_names_the_shapes_it_knows(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('{"items": [{"name": "x"}]}')
    with pytest.raises(ImportFailure, match="not a ticket export this tool knows.*Zendesk.*Gorgias.*Help Scout.*Intercom"):
        parse_tickets(path, fmt=None, mapping={})


def test_import_is_idempotent_redacted_and_updates_changed_tickets(db, clock, tmp_path):
    first = store_parsed(db, parse("zendesk_api.json"), ImportOptions(), Redactor(), clock)
    again = store_parsed(db, parse("zendesk_api.json"), ImportOptions(), Redactor(), clock)
    assert (first.imported, again.imported, again.duplicates) == (3, 0, 3)
    data = json.loads((TICKETS / "zendesk_api.json").read_text())
    data["tickets"][2]["description"] = "How do I pause? Call me on 07700 900123 or mail ana@example.com"
    data["tickets"][2]["status"] = "open"
    changed = tmp_path / "zendesk_api.json"
    changed.write_text(json.dumps(data))
    summary = store_parsed(db, parse_tickets(changed, fmt=None, mapping={}), ImportOptions(), Redactor(), clock)
    assert (summary.imported, summary.updated, summary.duplicates) == (0, 1, 2)
    text = db.execute(
        "SELECT group_concat(u.text, ' ') FROM units u JOIN documents d ON d.id = u.document_id "
        "WHERE d.external_id = 'zendesk:3023' GROUP BY u.passage ORDER BY u.passage"
    ).fetchone()[0]
    assert text == "How do I pause? Call me on [PHONE] or mail [EMAIL]"
    assert db.execute("SELECT COUNT(*) FROM documents WHERE source = 'ticket'").fetchone()[0] == 3


def test_strict_import_writes_nothing_when_a_record_is_bad(db, clock):
    with pytest.raises(ImportFailure, match="ticket record 4: no id"):
        store_parsed(db, parse("zendesk_api.json"), ImportOptions(strict=True), Redactor(), clock)
    assert db["documents"].count == 0 and db["import_batches"].count == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Still broken.\n\nOn Tue, 3 Mar 2026 at 10:02, Support <help@x.com> wrote:\n> old", "Still broken."),
        ("Merci.\n\nLe mar. 3 mars 2026 à 10:02, Support <help@x.com> a écrit :\n> vieux", "Merci."),
        ("No tracking yet.\n\n________________________________\nFrom: Support <help@x.com>\nSent: Tuesday\n"
         "To: me\nSubject: Re: order", "No tracking yet."),
        ("Please cancel.\n-----Original Message-----\nFrom: Support", "Please cancel."),
        ("From: my sister's account, sorry.\nThe balm is great.", "From: my sister's account, sorry.\nThe balm is great."),
        ("Too greasy for me.\n-- \nJo Bloggs | Designer\nwww.example.com", "Too greasy for me."),
        ("Where is it?\n\nBest,\nJo", "Where is it?"),
        ("Which product caused the rash?\nThanks, Amira", "Which product caused the rash?"),
        ("It arrived.\nThanks, appreciate it!", "It arrived.\nThanks, appreciate it!"),
        ("Thanks for the fast refund, really appreciated the help with the broken pump.",
         "Thanks for the fast refund, really appreciated the help with the broken pump."),
        ("<p>Love it</p><blockquote>On Mon we wrote: hi</blockquote><div class=\"gmail_signature\">Jo</div>", "Love it"),
        ("Out of office: back on Monday", ""),
        ("", ""),
    ],
)
def test_clean_message(body, expected):
    assert clean_message(body) == expected


def test_cleaning_pieces_keep_the_customers_words():
    assert strip_quoted("a\n> b\nc") == "a\nc"
    assert strip_signature("It leaked.\nSent from my iPhone") == "It leaked."
    assert strip_signature("Thanks\nand one more thing: the lid is loose.\nIt is a long sentence here that is long "
                           "enough to be words not a name block") .startswith("Thanks")
    assert is_auto_reply("Automatic reply: Order 1042") and not is_auto_reply("I got an automatic reply from you")


def test_cli_imports_tickets_with_map_and_json_summary(tmp_path):
    db_path = tmp_path / "cli.db"
    runner = CliRunner()
    result = runner.invoke(cli, [
        "--db", str(db_path), "import", "ticket", str(TICKETS / "generic.csv"), "--no-redact", "--json",
        "--map", "id=Conversation,text=Message,email=From,date=Sent,subject=Topic,role=Sender",
        "--window", "2026-10-15..2026-11-13",
    ])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["totals"]["imported"] == 2 and payload["totals"]["rejected"] == 1
    db = open_db(db_path)
    windows = set(db.execute("SELECT window_start, window_end FROM documents").fetchall())
    assert windows == {("2026-10-15", "2026-11-13")}
    failed = runner.invoke(cli, ["--db", str(db_path), "import", "ticket", str(TICKETS / "broken.json"),
                                 "--no-redact", "--json"])
    assert failed.exit_code == 1
    assert "invalid JSON" in json.loads(failed.output)["failed"][0]["error"]


def test_follow_ups_that_only_say_thanks_are_context_not_feedback():
    from ingest.email_clean import is_acknowledgement

    for text in ("Perfect, thanks!", "Thank you so much", "Ok thanks, I'll wait a couple more days then.",
                 "Great, thanks for sorting it out."):
        assert is_acknowledgement(text), text
    for text in ("Thanks, but it still doesn't work", "Thanks! Can I also change the address?",
                 "The pump leaked again, thanks", "Love the cream", "Great, thanks! The new serum gave me a rash.",
                 "Ok thanks. It smells awful.", "Thanks, the replacement leaked too.",
                 "Thanks. The replacement arrived but the box was crushed and the serum bottle had cracked"):
        assert not is_acknowledgement(text), text


def test_a_thanks_only_follow_up_is_kept_unanalysed_but_a_first_message_never_is():
    from ingest.ticket_formats import Message, Ticket
    from ingest.tickets import ticket_document

    def message(role: str, body: str) -> Message:
        return Message(body=body, role=role, is_html=False)

    ticket = Ticket(id="t1", record="ticket t1", email="a@example.com", messages=[
        message("customer", "Perfect, thanks, it all arrived today"),
        message("agent", "Hi, how can I help?"),
        message("customer", "My parcel never arrived."),
        message("agent", "Sent a new one."),
        message("customer", "Perfect, thanks"),
    ])
    units = ticket_document(ticket).units
    assert [(u.role, u.analyse) for u in units] == [
        ("customer", True), ("agent", False), ("customer", True), ("agent", False), ("customer", False)
    ]


def test_an_out_of_office_reply_is_recognised_wherever_its_phrases_sit():
    from ingest.email_clean import is_auto_reply

    assert is_auto_reply("Thank you for your email. I am out of the office until Tuesday 3 March with limited "
                         "access to email. For anything urgent please call the front desk on [PHONE].")
    assert is_auto_reply("Hello,\nThis is an automated reply: we will be in touch.")
    assert not is_auto_reply("Hi, I am out of the office until Monday but my partner can take the parcel")
    assert not is_auto_reply("I was out of the office last week so I missed the courier. Can you resend it?")
    assert not is_auto_reply("Thank you for your email. If it is urgent: the parcel is damaged and leaking.")
    assert not is_auto_reply("Thank you for your message. I will get back to you when I have checked the box.")


# --- issue 14: Freshdesk, wrong JSON types, sizes ---------------------------------------------------------


def test_freshdesk_api_json_is_its_own_format():
    """Old code took Freshdesk JSON for Zendesk: status stored as '2', notes and replies not told apart."""
    parsed = parse("freshdesk_api.json")
    assert parsed.format == "freshdesk" and parsed.rejected == []
    pump = doc(parsed, "freshdesk:1201")
    assert (pump.metadata["status"], pump.metadata["priority"], pump.metadata["channel"]) == ("open", "medium", "email")
    assert [i.key for i in pump.identifiers] == ["email:ines.moreau@example.com"]
    assert roles(pump) == [("customer", True), ("agent", False), ("customer", True)]
    assert not any("QA" in u.text for u in pump.units)  # the private note is not imported
    assert pump.units[0].text.startswith("Hi, the pump on my niacinamide serum")
    assert doc(parsed, "freshdesk:1202").metadata["status"] == "closed"
    assert parsed.details["internal_notes_skipped"] == 1


def test_freshdesk_csv_with_requester_email():
    parsed = parse("freshdesk_export.csv")
    assert parsed.format == "freshdesk" and len(parsed.documents) == 2
    swap = doc(parsed, "freshdesk:1301")
    assert [i.key for i in swap.identifiers] == ["email:dana.whitfield@example.com"]
    assert swap.units[0].text == "I ordered the sheer SPF but got the tinted one.\nCan I swap it?"
    assert swap.metadata["tags"] == ["wrong item", "spf"] and swap.created_at.startswith("2026-10-20T10:12")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("created_at", 1e20, "created_at 1e+20 is not a date"),
        ("comments", 5, "comments is a number (5), expected a list"),
        ("comments", ["x"], "comments[1] is text, expected an object"),
        ("subject", ["a"], "subject is a list, expected text"),
        ("tags", 5, "tags is a number (5), expected a list"),
        ("description", 42, "description is a number (42), expected text"),
        ("requester", {"email": 12345}, "email is a number (12345), expected text"),
        ("id", {"a": 1}, "id is an object, expected an id or text"),
    ],
)
def test_a_field_of_the_wrong_type_rejects_only_its_record(tmp_path, field, value, reason):
    """Old code: TypeError / AttributeError / OverflowError tracebacks, or a list stored as a title."""
    good = {"id": 1, "subject": "Late", "description": "Where is my parcel?", "requester_id": 7,
            "created_at": "2026-10-02T08:00:00Z", "comments": [{"author_id": 7, "plain_body": "Where is it?"}]}
    bad = {**good, "id": 2, field: value} | ({"requester_id": None} if field == "requester" else {})
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps({"tickets": [good, bad], "users": [{"id": 7, "role": "end-user"}]}))
    parsed = parse_tickets(path, fmt=None, mapping={})
    assert [d.external_id for d in parsed.documents] == ["zendesk:1"]
    assert len(parsed.rejected) == 1 and reason in parsed.rejected[0].reason, parsed.rejected


def test_a_body_that_is_a_number_rejects_the_ticket(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps([{"id": 9, "requester_id": 1, "comments": [{"author_id": 1, "plain_body": 3.5}]}]))
    parsed = parse_tickets(path, fmt=None, mapping={})
    assert parsed.documents == [] and "comments.plain_body is a number (3.5), expected text" in parsed.rejected[0].reason


def test_deeply_nested_ticket_json_is_refused(tmp_path):
    """Old code: RecursionError."""
    path = tmp_path / "tickets.json"
    path.write_text('{"tickets": [{"id": 1, "tags": ' + "[" * 10_000 + "]" * 10_000 + "}]}")
    with pytest.raises(ImportFailure, match="tickets.json: JSON nested"):
        parse_tickets(path, fmt=None, mapping={})
    path.write_text('{"tickets": [{"id": 1, "tags": ' + "[" * 500 + "]" * 500 + "}]}")  # parses, too deep to walk
    with pytest.raises(ImportFailure, match="nested more than 100 levels"):
        parse_tickets(path, fmt=None, mapping={})


def test_a_5_mb_message_rejects_its_ticket_not_the_file(tmp_path):
    """Old code stored a 5 MB unit (and spaCy's NER crashed on it with E088)."""
    tickets = [{"id": 1, "requester_id": 7, "description": "word " * 1_000_000},
               {"id": 2, "requester_id": 7, "description": "Where is my parcel?"}]
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps({"tickets": tickets}))
    parsed = parse_tickets(path, fmt=None, mapping={})
    assert [d.external_id for d in parsed.documents] == ["zendesk:2"]
    assert "5,000,000 characters, over the limit of 1,000,000" in parsed.rejected[0].reason
    csv_path = tmp_path / "tickets.csv"
    csv_path.write_text("Ticket ID,Subject,Description\n1,Big,\"" + "word " * 30_000 + "\"\n2,Small,Where is it?\n")
    parsed = parse_tickets(csv_path, fmt=None, mapping={})
    assert [d.external_id for d in parsed.documents] == ["freshdesk:2"]
    assert parsed.rejected[0].record == "line 2" and "'Description' has 150,000 characters" in parsed.rejected[0].reason


def test_a_ticket_csv_whose_header_lost_a_cell_is_refused_and_a_short_row_rejected(tmp_path):
    import csv

    header = ["Ticket ID", "Subject", "Description", "Status", "Priority", "Requester Email", "Created time"]
    rows = [[str(100 + i), f"Order {i}", f"My parcel {i} has not arrived yet.", "Open", "Low", f"c{i}@example.com",
             "2026-10-03 10:00:00"] for i in range(30)]
    shifted = tmp_path / "shifted.csv"
    with shifted.open("w", newline="") as handle:
        csv.writer(handle).writerows([header[:3] + header[4:], *rows])
    with pytest.raises(ImportFailure, match="rows do not have the header's 6 cells"):
        parse_tickets(shifted, fmt=None, mapping={})
    rows[4] = rows[4][:5]
    short = tmp_path / "short.csv"
    with short.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    parsed = parse_tickets(short, fmt=None, mapping={})
    assert len(parsed.documents) == 29 and [r.record for r in parsed.rejected] == ["line 6"]


REAL = Path(__file__).parent / "fixtures" / "tickets_real"


def test_zendesk_tickets_under_a_key_no_tool_names_are_found():
    """Scripts that save Zendesk's API pages put the tickets under their own key ('zendesk_tickets'): the
    file was refused as 'not a ticket export this tool knows'."""
    parsed = parse_tickets(REAL / "zendesk_wrapped_under_own_key.json")
    assert (parsed.format, [d.external_id for d in parsed.documents], parsed.rejected) == ("zendesk", ["zendesk:71", "zendesk:72"], [])
    assert doc(parsed, "zendesk:71").units[0].text.startswith("The lid of my jar arrived cracked")


def test_flattened_zendesk_messaging_placeholder_and_follow_up_line_are_not_customer_words():
    parsed = parse_tickets(REAL / "zendesk_flattened_messaging.json")
    assert parsed.format == "zendesk"
    chat = doc(parsed, "zendesk:9001")
    assert chat.units == []  # 'Conversation with Rita Lopes' is Zendesk's, not hers
    assert chat.title is None  # 'Conversa com Rita Lopes' is the help desk's title naming her: not kept
    late = doc(parsed, "zendesk:9002")
    assert [u.text for u in late.units] == ["Boa tarde, a recarga ainda não chegou e já passaram duas semanas."]
    assert [i.key for i in late.identifiers] == ["email:bea.m@example.com"]
    assert late.metadata["channel"] == "web"


@pytest.mark.parametrize(("body", "expected"), [
    ('This is a follow-up to your previous request #123 "Late parcel"\n\nStill nothing arrived.',
     "Still nothing arrived."),
    ("Conversation with Ana Silva", ""),
    ('My order #123 "Blue mug" is wrong', 'My order #123 "Blue mug" is wrong'),  # one line: the customer's own
])
def test_help_desk_lines_are_dropped_and_customer_lines_kept(body, expected):
    assert clean_message(body) == expected


def test_two_help_desks_ticket_numbers_never_overwrite_each_other(db, clock):
    """Zendesk's ticket 71 and Freshdesk's ticket 71 are two tickets: the second import used to update the
    first in place (both were stored under '71')."""
    zendesk = store_parsed(db, parse_tickets(REAL / "zendesk_wrapped_under_own_key.json"), ImportOptions(),
                           Redactor(), clock)
    freshdesk = store_parsed(db, parse_tickets(REAL / "freshdesk_structured_description.json"), ImportOptions(),
                             Redactor(), clock)
    assert (zendesk.imported, freshdesk.imported, freshdesk.updated) == (2, 1, 0)
    ids = sorted(r[0] for r in db.execute("SELECT external_id FROM documents WHERE source = 'ticket'"))
    assert ids == ["freshdesk:71", "zendesk:71", "zendesk:72"]


def test_a_ticket_stored_under_its_bare_number_is_matched_by_its_own_help_desk_only(db, clock):
    old = parse_tickets(REAL / "zendesk_wrapped_under_own_key.json")
    for document in old.documents:  # as earlier versions stored them
        document.external_id, document.previous_ids = document.external_id.split(":", 1)[1], []
    store_parsed(db, old, ImportOptions(), Redactor(), clock)
    again = store_parsed(db, parse_tickets(REAL / "zendesk_wrapped_under_own_key.json"), ImportOptions(),
                         Redactor(), clock)
    other = store_parsed(db, parse_tickets(REAL / "freshdesk_structured_description.json"), ImportOptions(),
                         Redactor(), clock)
    assert (again.imported, again.updated, other.imported) == (0, 2, 1)
    assert db["documents"].count == 3


def test_freshdesk_structured_description_and_a_ticket_csv_named_in_plain_words():
    fresh = parse_tickets(REAL / "freshdesk_structured_description.json")
    assert doc(fresh, "freshdesk:71").units[0].text.startswith("The reset link in the email expires")
    generic = parse_tickets(REAL / "generic_ticket_columns.csv")
    assert generic.format == "generic" and generic.rejected == []
    split = doc(generic, "generic:#2001")
    assert (split.title, split.created_at, split.metadata["channel"]) == (
        "Refill pouches arrive split", "2026-10-01T10:15:00", "email")
    assert [u.text for u in split.units] == [
        "Three of the last five refill pouches arrived split along the seam, the box was soaked."]
    assert "Willow" not in json.dumps(split.metadata)  # the customer's name column is not kept


def test_a_ticket_metrics_csv_without_message_text_is_refused_saying_so(tmp_path):
    path = tmp_path / "support_metrics.csv"
    path.write_text("ticket_id,created_date,channel,category,priority,csat_score\n"
                    "TKT-1,2026-10-01 10:00:00,Chat,Account Access,Low,2.0\n")
    with pytest.raises(ImportFailure, match=r"support_metrics.csv, line 1: this ticket CSV \('ticket_id' ids\) "
                                            r"has no message text column"):
        parse_tickets(path)
