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
