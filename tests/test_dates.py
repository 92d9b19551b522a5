import pytest

from ingest.dates import guess_dayfirst, parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-03 14:22:10", "2026-10-03T14:22:10"),  # Typeform, Qualtrics
        ("2026-10-03T14:22:10.000Z", "2026-10-03T14:22:10+00:00"),  # APIs, Fairing
        ("2026-10-03T14:22:10.123456789Z", "2026-10-03T14:22:10.123456+00:00"),
        ("2026-10-03T14:22:10+02:00", "2026-10-03T14:22:10+02:00"),
        ("2026-10-03 14:22:10 -0500", "2026-10-03T14:22:10-05:00"),  # Shopify
        ("2026-10-03", "2026-10-03T00:00:00"),
        ("2026-10-03 9:05", "2026-10-03T09:05:00"),
        ("10/3/2026 14:22:10", "2026-10-03T14:22:10"),  # Google Forms (US)
        ("10/03/2026 02:22:10 PM", "2026-10-03T14:22:10"),  # SurveyMonkey
        ("10/03/2026 12:05:00 AM", "2026-10-03T00:05:00"),
        ("10/03/2026 12:05:00 PM", "2026-10-03T12:05:00"),
        ("10/3/2026", "2026-10-03T00:00:00"),
        ("March 3, 2026", "2026-03-03T00:00:00"),  # review pages
        ("3 Mar 2026 14:22", "2026-03-03T14:22:00"),
        ("Reviewed in the United States on March 3, 2026", "2026-03-03T00:00:00"),  # Amazon
        ("2026/10/03 8:54:18 PM GMT+5:30", "2026-10-03T20:54:18+05:30"),  # Google Forms, some locales
        ("2026/10/04 12:42:16 AM GMT+5:30", "2026-10-04T00:42:16+05:30"),
        ("2026/06/22 11:07:29 AM AST", "2026-06-22T11:07:29"),  # a named zone names no one offset: dropped
        ("10/3/2026 14:22:10 GMT-4", "2026-10-03T14:22:10-04:00"),
        ("2026.10.03", "2026-10-03T00:00:00"),
    ],
)
def test_real_export_formats(text, expected):
    assert parse_datetime(text) == expected


def test_dayfirst_and_unambiguous_days():
    assert parse_datetime("03/10/2026 14:22", dayfirst=True) == "2026-10-03T14:22:00"
    # a first part above 12 can only be a day, whatever the caller guessed
    assert parse_datetime("15/10/2026 14:22") == "2026-10-15T14:22:00"
    assert parse_datetime("03.10.2026 14:22", dayfirst=True) == "2026-10-03T14:22:00"


def test_assume_utc_only_for_naive_times():
    assert parse_datetime("2026-10-03 14:22:10", assume_utc=True) == "2026-10-03T14:22:10+00:00"
    assert parse_datetime("2026-10-03 14:22:10 -0500", assume_utc=True) == "2026-10-03T14:22:10-05:00"


@pytest.mark.parametrize("text", ["", "   ", None, "Yes", "5", "10", "2026-13-45", "13/13/2026", "soon", "Q3 2026"])
def test_not_dates_give_none(text):
    assert parse_datetime(text) is None


def test_guess_dayfirst_from_a_column():
    assert guess_dayfirst(["03/10/2026", "15/10/2026 09:00"]) is True
    assert guess_dayfirst(["10/3/2026", "10/13/2026 09:00"]) is False
    assert guess_dayfirst(["01/02/2026", "", "n/a"]) is False  # ambiguous: US order


@pytest.mark.parametrize(
    ("text", "dayfirst", "expected"),
    [
        ("3/11/20 23:38", False, "2020-03-11T23:38:00"),  # Excel re-save of a Google Forms timestamp
        ("3/11/20 23:38", True, "2020-11-03T23:38:00"),
        ("25/12/99 8:05", False, "1999-12-25T08:05:00"),  # a first field above 12 is a day
        ("1/2/68", False, "2068-01-02T00:00:00"),  # strptime's %y pivot
        ("1/2/69", False, "1969-01-02T00:00:00"),
        ("10/03/26 02:22 PM", False, "2026-10-03T14:22:00"),
    ],
)
def test_two_digit_years(text, dayfirst, expected):
    assert parse_datetime(text, dayfirst=dayfirst) == expected


def test_date_order_looks_at_every_value_and_says_why():
    from ingest.dates import date_order

    late = date_order(["03/04/2020 09:10", "05/04/2020 18:22", "14/04/2020 11:01"])
    assert late.dayfirst and late.reason == "a first field above 12, e.g. '14/04/2020 11:01'"
    us = date_order(["3/11/20 23:38", "3/13/20 17:41"])
    assert not us.dayfirst and us.label == "month-first (M/D/Y)" and "'3/13/20 17:41'" in us.reason
    assert date_order(["01/02/2026"]).reason == "no field above 12 in any value: US order assumed"
    mixed = date_order(["13/01/2026", "01/13/2026", "01/14/2026"])
    assert not mixed.dayfirst and mixed.reason.startswith("mixed: 1 values day-first")
    assert date_order(["2026-10-03", ""]).slashed == 0
