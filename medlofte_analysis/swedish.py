"""Numbers and words as a Swedish reader expects them, in text, tables and figure axes.

Numbers are formatted by Babel with the Swedish locale (CLDR `sv_SE`): decimal comma and
grouped thousands. Three typographic choices are made on top of the locale, in this module only:
- thousands are separated by a non-breaking thin space (U+202F, as in Språkrådet's
  *Svenska skrivregler*), where CLDR uses a non-breaking space;
- negative numbers take the real minus sign (U+2212), through the format pattern;
- a number and its per cent sign are held together by a no-break space (U+00A0), so that a
  printed line never breaks between them (:func:`unbroken_percent` for finished text).

Why Babel: it is the well-kept locale library of the Python ecosystem (used by Sphinx, Flask
and Django tooling); hand-written `.replace(".", ",")` misses grouping and rounding rules.
"""

from __future__ import annotations

import math
import re

from babel.numbers import format_decimal

LOCALE = "sv_SE"
THIN_SPACE = "\u202f"  # non-breaking thin space between groups of thousands
MINUS = "\u2212"
MISSING = "–"
_CLDR_GROUP = "\u00a0"


def _pattern(digits: int, sign: bool) -> str:
    fraction = "." + "0" * digits if digits > 0 else ""
    body = f"#,##0{fraction}"
    return f"+{body};{MINUS}{body}" if sign else f"{body};{MINUS}{body}"


def number(value: float | None, digits: int = 2, sign: bool = False) -> str:
    """`value` rounded to `digits` decimals in Swedish: 1234.5 -> '1 234,50'; '–' if missing."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    value = float(value)
    if round(value, digits) == 0:
        value = 0.0  # no '−0,00'
    text = format_decimal(value, format=_pattern(digits, sign), locale=LOCALE)
    return text.replace(_CLDR_GROUP, THIN_SPACE)


def integer(value: float | None) -> str:
    """A whole number with thousands grouped: 1510 -> '1 510'."""
    return number(value, 0)


def percent_change(ratio: float | None) -> str:
    """A ratio as a signed percentage change: 25.37 -> '+2 437 %' (no-break space before %)."""
    if ratio is None or not math.isfinite(float(ratio)):
        return MISSING
    return f"{number((float(ratio) - 1) * 100, 0, sign=True)}\u00a0%"


_PERCENT = re.compile(r"(\d) %")


def unbroken_percent(text: str) -> str:
    """``text`` with the space between a number and its per cent sign made a no-break space:
    '95 %-intervall' never breaks after '95' on a printed line. For finished text (report
    HTML, PDF data); the words themselves keep an ordinary space where they are made."""
    return _PERCENT.sub("\\1\u00a0%", text)


def count_noun(count: int, singular: str, plural: str) -> str:
    """A count with its noun in agreement: (1, 'händelse', 'händelser') -> '1 händelse'."""
    return f"{integer(count)} {singular if count == 1 else plural}"


# Numbers written by the statistics layer into its notes with a decimal point (e.g.
# "överspridning 1.02") or as long integers ("1510 händelser", "+2437 %"). Years (four digits,
# 1900–2099) and codes with leading zeros are left alone.
_DECIMAL = re.compile(r"(?<![\w.,])([+\-−]?)(\d+)\.(\d+)(?![\w.]|,\d)")
_LONG_INTEGER = re.compile(r"(?<![\w.,−+\-])(\d{4,})(?![\w.,])")
_SIGNED_PERCENT = re.compile(r"(?<![\w.,])([+\-−])(\d+) ?%")


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= 2099


def localise_numbers(text: str) -> str:
    """Rewrite the numbers of a generated sentence in Swedish style (decimal comma, grouping).

    Only for text produced by this project's own statistics; published free text is shown
    as it is.
    """

    def decimal(match: re.Match[str]) -> str:
        sign = MINUS if match.group(1) in "-−" and match.group(1) else match.group(1)
        value = float(f"{match.group(2)}.{match.group(3)}")
        return sign + number(value, len(match.group(3)))

    def long_integer(match: re.Match[str]) -> str:
        digits = match.group(1)
        if _is_year(digits) or digits.startswith("0"):
            return digits
        return integer(int(digits))

    def signed_percent(match: re.Match[str]) -> str:
        sign = MINUS if match.group(1) in "-−" else "+"
        return f"{sign}{integer(int(match.group(2)))}\u00a0%"

    text = _SIGNED_PERCENT.sub(signed_percent, text)
    text = _DECIMAL.sub(decimal, text)
    return _LONG_INTEGER.sub(long_integer, text)
