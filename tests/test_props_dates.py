"""Property tests (hypothesis) for dates as exports write them: any moment rendered the way Shopify,
WooCommerce, Google Forms, SurveyMonkey, Typeform, European Excel, UCI Online Retail or Excel's re-save with
a two-digit year write it comes back as the same moment (to the rendering's precision, offset kept) and the
same UTC day; a column's day order is read from its values; arbitrary text never raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ingest.dates import date_order, guess_dayfirst, parse_datetime
from ingest.order_formats import _shopify_stamp, parse_timestamp

# Offsets in use: whole hours and the :30/:45 zones (India, Nepal, Chatham), -12:00..+14:00.
OFFSETS = st.integers(min_value=-48, max_value=56).map(lambda q: timezone(timedelta(minutes=15 * q)))
MOMENTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2068, 12, 31, 23, 59, 59))
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _offset(moment: datetime, colon: bool) -> str:
    text = moment.strftime("%z")
    return text[:3] + ":" + text[3:] if colon else text


def _clock12(moment: datetime) -> tuple[int, str]:
    return (moment.hour % 12 or 12), ("AM" if moment.hour < 12 else "PM")


# name -> (render(moment) -> text, precision kept, dayfirst to pass, whether the offset is written)
def _render(style: str, m: datetime) -> str:
    h12, ampm = _clock12(m)
    return {
        "iso": m.isoformat(),
        "iso_space_z": m.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + "Z",
        "iso_fraction": m.strftime("%Y-%m-%dT%H:%M:%S.%f") + _offset(m, True),
        "shopify": m.strftime("%Y-%m-%d %H:%M:%S ") + _offset(m, False),
        "woocommerce": m.strftime("%Y-%m-%d %H:%M"),
        "google_forms": f"{m.month}/{m.day}/{m.year} {m.hour}:{m:%M:%S}",
        "surveymonkey": f"{m:%m/%d/%Y} {h12:02d}:{m:%M:%S} {ampm}",
        "european": f"{m:%d.%m.%Y %H:%M}",
        "dayfirst_slash": f"{m:%d/%m/%Y %H:%M:%S}",
        "uci": f"{m.month}/{m.day}/{m.year} {m.hour}:{m:%M}",
        "excel_short_year": f"{m.month}/{m.day}/{m:%y} {m.hour}:{m:%M}",
        "excel_short_year_dayfirst": f"{m.day}/{m.month}/{m:%y} {m.hour}:{m:%M}",
        "written": f"{MONTHS[m.month - 1]} {m.day}, {m.year}",
        "written_time": f"{m.day} {MONTHS[m.month - 1][:3]} {m.year} {h12}:{m:%M} {ampm}",
        "amazon": f"Reviewed in the United States on {MONTHS[m.month - 1]} {m.day}, {m.year}",
    }[style]


STYLES = {  # style -> (kept precision, dayfirst, offset written)
    "iso": ("us", False, True), "iso_space_z": ("s", False, True), "iso_fraction": ("us", False, True),
    "shopify": ("s", False, True), "woocommerce": ("min", False, False), "google_forms": ("s", False, False),
    "surveymonkey": ("s", False, False), "european": ("min", True, False), "dayfirst_slash": ("s", True, False),
    "uci": ("min", False, False), "excel_short_year": ("min", False, False),
    "excel_short_year_dayfirst": ("min", True, False), "written": ("day", False, False),
    "written_time": ("min", True, False), "amazon": ("day", False, False),
}


def _truncate(m: datetime, precision: str) -> datetime:
    if precision == "day":
        return m.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "min":
        return m.replace(second=0, microsecond=0)
    if precision == "s":
        return m.replace(microsecond=0)
    return m


@st.composite
def rendered(draw: st.DrawFn) -> tuple[str, datetime, bool, bool]:
    """(text, the moment it means, dayfirst, offset written)."""
    style = draw(st.sampled_from(sorted(STYLES)))
    precision, dayfirst, zoned = STYLES[style]
    moment = draw(MOMENTS)
    if zoned:
        moment = moment.replace(tzinfo=draw(OFFSETS))
    if style == "iso_space_z":
        moment = moment.astimezone(UTC)
    return _render(style, moment), _truncate(moment, precision), dayfirst, zoned


@given(rendered())
@example(("3/11/20 23:38", datetime(2020, 3, 11, 23, 38), False, False))  # Excel's re-save of a Shopify export
@example(("12/31/68 0:00", datetime(2068, 12, 31), False, False))
@example(("1/1/69 0:00", datetime(1969, 1, 1), False, False))
@example(("2026-10-03 20:22:10 -0500", datetime(2026, 10, 3, 20, 22, 10, tzinfo=timezone(timedelta(hours=-5))),
          False, True))
def test_every_rendering_reads_back_as_the_same_moment(case):
    text, moment, dayfirst, zoned = case
    parsed = datetime.fromisoformat(parse_datetime(text, dayfirst=dayfirst))
    assert parsed == moment and (parsed.utcoffset() == moment.utcoffset())
    iso, day = parse_timestamp(text, dayfirst=dayfirst)
    assert datetime.fromisoformat(iso) == moment
    assert day == (moment.astimezone(UTC).date() if zoned else moment.date()).isoformat()


@given(MOMENTS, OFFSETS)
def test_shopifys_fast_path_agrees_with_the_parser(moment, offset):
    """Orders read '2026-10-03 14:22:10 -0500' by string arithmetic; it must say what datetime says, or
    step aside (None) when the UTC day differs."""
    text = _render("shopify", moment.replace(tzinfo=offset))
    fast = _shopify_stamp(text)
    assert fast is None or fast == parse_timestamp(text)


@given(st.text(alphabet="0123456789-: +", min_size=25, max_size=25))
@example("2026-02-30 10:00:00 -0500")
@example("2026-13-01 10:00:00 -0500")
@example("2026-10-03 24:00:00 -0500")
@example("2026-10-03 10:00:00 -0575")
def test_shopifys_fast_path_never_lets_an_impossible_date_through(text):
    """An impossible date shaped like Shopify's was stored as it was ('2026-02-30') before."""
    fast = _shopify_stamp(text)
    if fast is not None:
        assert fast == parse_timestamp(text)
        datetime.fromisoformat(fast[0]) and datetime.fromisoformat(fast[1])


@given(st.lists(st.tuples(MOMENTS, st.sampled_from(["european", "dayfirst_slash", "excel_short_year_dayfirst",
                                                     "google_forms", "uci", "excel_short_year"])),
                min_size=1, max_size=20), st.booleans())
def test_a_columns_day_order_comes_from_its_values(rows, dayfirst):
    """A column of one order: guessed day-first only when some value proves it, month-first only when some
    value proves that; with the guess every proving column's values read back as their days."""
    styles = [s for _, s in rows]
    pick = [s for s in styles if STYLES[s][1] == dayfirst] or [styles[0]]
    style = pick[0]
    texts = [_render(style, m) for m, _ in rows]
    days = [m.date() for m, _ in rows]
    truth = STYLES[style][1]
    proof = any((m.day > 12) for m, _ in rows)  # the day field alone can exceed 12
    guessed = guess_dayfirst(texts)
    assert date_order(texts).slashed == len(texts)
    if proof:
        assert guessed == truth
        assert [datetime.fromisoformat(parse_datetime(t, dayfirst=guessed)).date() for t in texts] == days
    else:
        assert guessed is False  # nothing tells: US order, as documented


@given(st.text(max_size=40), st.booleans(), st.booleans())
@example("Reviewed on March 32, 2026", False, False)
@example("99/99/9999 99:99", True, False)
@example("2026-10-03T25:00", False, True)
@example("0/0/00", False, False)
@example("March 3, 2026 " + "9" * 30, False, False)
def test_arbitrary_text_is_a_date_or_none_never_a_traceback(text, dayfirst, assume_utc):
    value = parse_datetime(text, dayfirst=dayfirst, assume_utc=assume_utc)
    assert value is None or datetime.fromisoformat(value)
    stamp = parse_timestamp(text, dayfirst=dayfirst)
    assert stamp is None or (datetime.fromisoformat(stamp[0]) and datetime.fromisoformat(stamp[1]))


DATEISH = st.text(alphabet="0123456789/.-: APMZaprmT+,", max_size=30)


@given(DATEISH, st.booleans())
def test_date_shaped_text_is_a_date_or_none(text, dayfirst):
    value = parse_datetime(text, dayfirst=dayfirst)
    assert value is None or datetime.fromisoformat(value)
    stamp = parse_timestamp(text, dayfirst=dayfirst)
    assert stamp is None or datetime.fromisoformat(stamp[0])


@pytest.mark.parametrize("text", ["2026-02-30 10:00:00 -0500", "2026-10-03 24:00:00 -0500", "abcd-ef-gh 10:00:00 -0500"])
def test_an_impossible_shopify_stamp_is_not_a_date(text):
    assert _shopify_stamp(text) is None and parse_timestamp(text) is None
