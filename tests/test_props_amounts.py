"""Property tests (hypothesis) for money as order exports write it: every rendering of an amount that real
exports use reads back as that amount, or is refused with ValueError; never another number.

Renderings: plain ('1234.56'), US grouping ('1,234.56'), European ('1.234,56', '1234,56', '1 234,56' with a
space, no-break or narrow no-break space), Swiss ("1'234.56"), Indian lakh grouping ('1,23,456.78'),
Excel's General format (trailing zeros dropped: '12.5', '12'), whole amounts ('€12', '$1,234'), currency
symbols and ISO codes before or after, and negatives as '-12.00', '(12.00)', '12.00-' (SAP, IBM i).
European whole amounts with a thousands dot ('1.234') are left out on purpose: '1.234' is also 1.234 as
written by every other export, and the parser reads it so.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ingest.order_formats import _amount, _amounts, _lines, parse_amount

CENTS = st.integers(min_value=0, max_value=10**11)  # up to a billion, in cents


def group(digits: str, sep: str, indian: bool = False) -> str:
    """'1234567' -> '1,234,567' (or '12,34,567', lakh/crore grouping)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return sep.join([*groups, tail])


@st.composite
def rendered(draw: st.DrawFn) -> tuple[str, Decimal]:
    """(text, the amount it means) in one of the renderings real exports use."""
    cents = draw(CENTS)
    value = Decimal(cents) / 100
    whole, frac = divmod(cents, 100)
    digits = str(whole)
    style = draw(st.sampled_from(["plain", "us", "eu", "eu_plain", "space", "swiss", "indian", "general", "whole"]))
    if style == "whole":
        value = Decimal(whole)
        body = draw(st.sampled_from([digits, group(digits, ",")]))
    elif style == "general":  # Excel General: '12.5', '12', '1234.56'
        body = format(value.normalize(), "f") if cents else "0"
    else:
        dec, sep, indian = {
            "plain": (".", "", False), "us": (".", ",", False), "eu": (",", ".", False), "eu_plain": (",", "", False),
            "swiss": (".", "'", False), "indian": (".", ",", True),
            "space": (",", draw(st.sampled_from([" ", "\u00a0", "\u202f"])), False),
        }[style]
        body = (group(digits, sep, indian) if sep else digits) + dec + f"{frac:02d}"
    symbol = draw(st.sampled_from(["", "$", "€", "£", "¥", "₹", "USD", "EUR", "GBP"]))
    spaced = draw(st.sampled_from(["", " "])) if len(symbol) == 1 else " "
    before = bool(symbol) and draw(st.booleans())
    negative = draw(st.booleans()) and value != 0
    sign = draw(st.sampled_from(["minus", "minus_after_symbol", "parens", "trailing"])) if negative else ""
    if sign == "trailing":  # '12.00-', '$12.00-', '12.00- EUR'
        body += "-"
    elif sign == "minus_after_symbol" and before:  # '$-12.00', 'USD -12.00'
        body = "-" + body
    core = (symbol + spaced + body) if before else (body + spaced + symbol) if symbol else body
    if sign == "parens" and before and draw(st.booleans()):  # Excel's accounting format: '$ (12.00)'
        core = symbol + " (" + body + ")"
    elif sign == "parens":
        core = "(" + core + ")"
    elif sign == "minus" or (sign == "minus_after_symbol" and not before):
        core = "-" + core
    if negative:
        value = -value
    pad = draw(st.sampled_from(["", " ", "  "]))
    return pad + core + pad, value


@given(rendered())
@example(("0,500", Decimal("0.5")))  # no thousands group starts with 0: half a unit, not 500
@example(("1,234", Decimal("1234")))
@example(("(1,234.50)", Decimal("-1234.5")))
@example(("12.00-", Decimal("-12")))
@example(("1.234,56 €", Decimal("1234.56")))
@example(("1,23,456.78", Decimal("123456.78")))
def test_every_rendering_of_an_amount_reads_back_as_it(case):
    text, value = case
    assert parse_amount(text) == float(value)


# Text that looks like an amount: digits, separators, signs, brackets, symbols, letters of codes.
AMOUNTISH = st.text(alphabet="0123456789.,'-+() $€£₹EURSDnaif\u00a0", max_size=16)


@given(st.one_of(AMOUNTISH, st.text(max_size=20)))
@example("nan")
@example("-Infinity")
@example("12)")
@example("(12")
@example("((12))")
@example("(-12)")
def test_any_text_is_an_amount_none_or_refused(text):
    """Never another exception, never NaN or infinity (an order total of NaN failed the whole import), and
    unbalanced or doubled signs are refused rather than read as a positive number."""
    try:
        value = parse_amount(text)
    except ValueError:
        return
    assert value is None or math.isfinite(value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_round_trips(x):
    """What a program wrote (repr, fixed 2 decimals, US grouping) is what is read."""
    assert parse_amount(repr(x)) == x
    assert parse_amount(f"{x:.2f}") == float(f"{x:.2f}")
    assert parse_amount(f"{x:,.2f}") == float(f"{x:.2f}")
    assert parse_amount(f"({abs(x):,.2f})") == -abs(float(f"{x:.2f}"))


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_not_a_number_is_refused_by_every_order_amount_path(text):
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount(text)
    with pytest.raises(ValueError, match="total"):
        _amount(text, "total")
    with pytest.raises(ValueError, match="total"):
        _amounts(("10.00", "", "", "", text, ""))
    with pytest.raises(ValueError, match="price"):
        _lines([("Tee", "T1", "1", text, "")])


def test_trailing_minus_and_a_leading_zero_group():
    assert parse_amount("12-") == -12.0 and parse_amount("1.234,50- EUR") == -1234.5
    assert parse_amount("0,500") == 0.5 and parse_amount("1,500") == 1500.0
    for text in ("12)", "(12", "((12))", "(-12)", "-12-", "(12)-"):
        with pytest.raises(ValueError):
            parse_amount(text)
