"""Property tests (hypothesis) for PII redaction (insight/core/redact.py): an email or a valid phone number
anywhere in any text is gone afterwards; redacting twice changes nothing; and what the module promises to
leave alone (order totals, dates and timestamps, short order numbers, text without digits or '@') is left
alone."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from insight.core.name_words import NameWords
from insight.core.redact import (
    EMAIL_TOKEN,
    PHONE_TOKEN,
    Redactor,
    redact_greetings,
    redact_patterns,
)

REGIONS = ("US", "GB")  # the default national regions
# Text around the PII: any characters, and digit-heavy text, where phones and cards are found.
NOISE = st.one_of(st.text(max_size=30), st.text(alphabet="0123456789 -+().,:/#abc\n", max_size=30))

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-éüø", min_size=1,
                max_size=20).filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
EMAILS = st.builds(lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}", LOCAL,
                   st.lists(LABEL, min_size=1, max_size=3), st.sampled_from(["com", "co.uk", "de", "io", "shop"]))


@given(NOISE, EMAILS, NOISE)
@example("write to ", "jo.tane+orders@example.co.uk", ", thanks")
@example("", "a@b.io", "")
def test_an_email_anywhere_is_removed(before, email, after):
    text = before + email + after
    out = redact_patterns(text, REGIONS)
    assert email not in out and EMAIL_TOKEN in out


REGION_NUMBERS = ("US", "GB", "DE", "FR", "AU", "IN", "BR", "JP", "NZ", "ZA", "CA", "ES")
TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """A number each country's numbering plan allows: an example number with its last digits changed."""
    region = draw(st.sampled_from(REGION_NUMBERS))
    example_number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    national = str(example_number.national_number)
    tail = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse(f"+{example_number.country_code}{national[:-4]}{tail}", None)
    assume(phonenumbers.is_valid_number(number))
    return region, number


FORMATS = (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@given(st.text(max_size=30), phones(), st.sampled_from(FORMATS), st.text(max_size=30))
def test_a_valid_phone_number_with_its_country_code_is_removed(before, phone, fmt, after):
    """Written with +country, a number valid in its country is a phone in any text (separated from the text
    around it by a space: '12+44 20...' would be another number)."""
    _, number = phone
    written = phonenumbers.format_number(number, fmt)
    out = redact_patterns(f"{before} {written} {after}", REGIONS)
    assert written not in out and PHONE_TOKEN in out


@given(st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"]), max_size=30), phones(),
       st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"]), max_size=30))
def test_a_national_number_of_the_configured_regions_is_removed(before, phone, after):
    """'020 7946 0018', '(201) 555-0123': a national number is a phone when valid in one of the regions."""
    region, number = phone
    assume(region in REGIONS)
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    out = redact_patterns(f"{before} {written} {after}", REGIONS)
    assert written not in out and PHONE_TOKEN in out


@given(st.one_of(NOISE, st.builds("".join, st.lists(st.one_of(NOISE, EMAILS, phones().map(
    lambda p: phonenumbers.format_number(p[1], phonenumbers.PhoneNumberFormat.INTERNATIONAL))), max_size=5))))
@example("4111 1111 1111 1111 or +44 20 7946 0018")
@example("call 07700 900123 or jo@example.com")
def test_redacting_twice_changes_nothing(text):
    once = redact_patterns(text, REGIONS)
    assert redact_patterns(once, REGIONS) == once
    assert Redactor(phone_regions=REGIONS).redact(once) == once


@given(st.text(max_size=60).filter(lambda t: "@" not in t and sum(c.isdigit() for c in t) < 7))
def test_text_without_an_at_sign_and_with_few_digits_is_unchanged(text):
    assert redact_patterns(text, REGIONS) == text


WORDS = st.sampled_from(["order", "total", "was", "arrived", "on", "paid", "refund", "of", "the", "jar", "thanks",
                         "delivered", "Tuesday", "at", "for", "my", "and", "ref", "size"])
MONEY = st.integers(min_value=0, max_value=10**8).map(lambda c: f"${c / 100:,.2f}")
DATES = st.datetimes(min_value=datetime(2000, 1, 1),
                     max_value=datetime(2030, 12, 31)).flatmap(
    lambda m: st.sampled_from([m.strftime("%Y-%m-%d"), m.strftime("%Y-%m-%d %H:%M:%S"), m.strftime("%Y-%m-%dT%H:%M:%S"),
                               m.strftime("%d/%m/%Y"), m.strftime("%m/%d/%Y %H:%M")]))
ORDER_NUMBERS = st.integers(min_value=1, max_value=999_999).map(lambda n: f"#{n}")


@given(st.lists(st.one_of(WORDS, MONEY, DATES, ORDER_NUMBERS), min_size=1, max_size=12))
@example(["paid", "$1,234.56", "on", "2026-10-03 14:22:10", "order", "#100234"])
@example(["#131000", "01/01/2000"])  # an order number then a slashed date: no phone
def test_totals_dates_and_order_numbers_are_left_alone(words):
    """The module's promise: cards are checked with Luhn 'so order totals and dates survive'; order numbers
    and timestamps, which no numbering plan allows, are left alone."""
    text = " ".join(words)
    assert redact_patterns(text, REGIONS) == text


NAMES = NameWords(common={"thanks", "hello", "support"})


@given(st.text(max_size=40), st.sampled_from(["Hi", "Hello", "Dear", "Thanks"]), st.sampled_from(
    ["Sarah", "Élise", "Tomás", "Oluwaseun"]), st.text(max_size=40))
def test_greeting_redaction_is_idempotent(before, greeting, name, after):
    text = f"{before}\n{greeting} {name},\n{after}"
    once = redact_greetings(text, NAMES)
    assert redact_greetings(once, NAMES) == once


@pytest.mark.parametrize("text,redacted", [
    # a phone number followed by another number was one too-long candidate and stayed whole
    ("call (201) 555-0123 2 days ago", "call [PHONE] 2 days ago"),
    ("my mobile is +44 7400 120000 3pm is best", "my mobile is [PHONE] 3pm is best"),
    ("ring 020 7946 0018 1 more time", "ring [PHONE] 1 more time"),
    # an order number then a date was read as a card when the digits passed Luhn
    ("order #52250 2002-09-29", "order #52250 2002-09-29"),
    ("card 4111-1111-1111-1111 and 3782 822463 10005", "card [CARD] and [CARD]"),
    # a number written with +country is a phone, even when its digits pass Luhn
    ("+5511961236487", "[PHONE]"),
    # an address right after another one, and a redacted number followed by digits, on a second pass
    ("a@b.io+c@d.io", "[EMAIL][EMAIL]"),
    ("[PHONE]:0000000", "[PHONE]:0000000"),
    # a price then a date read as a UK number; a national number after "( "
    ("refund of $0.13 2000-01-01", "refund of $0.13 2000-01-01"),
    ("( 07400 120000 )", "[PHONE] )"),
])
def test_what_the_properties_found(text, redacted):
    assert redact_patterns(text, REGIONS) == redacted
