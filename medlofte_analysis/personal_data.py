"""Recognise personal data in a cell's text: identity numbers, e-mail, phone numbers, name columns.

Pure functions on strings (no files): `find_personal_data` returns the first finding in a text,
with its kind in Swedish and the value masked, or None. `workbooks.check_workbook` applies it
to every place of a workbook.

- Personal identity numbers (personnummer, Skatteverket SKV 704) and coordination numbers
  (samordningsnummer, SKV 707: day of birth + 60) in every written form: with or without the
  century, with '-', '+', an en or em dash, spaces or nothing between the date and the last four
  digits, and spaces between the date's parts. A candidate counts only if its date is a real
  calendar date (day + 60 allowed) and its ten digits pass the Luhn check (`stdnum.luhn`, from
  the well-kept python-stdnum), so dates, amounts and years are not taken for numbers.
- E-mail addresses: something@domain.tld.
- Phone numbers: Google's libphonenumber (the `phonenumbers` package) finds numbers that are
  valid in the Swedish numbering plan (region "SE", leniency VALID), incl. "+46 …".
- Name-like column headers: a header word such as Namn, Handläggare, Kontaktperson, E-post or a
  compound ending in "namn" (elevnamn), except names of places and categories (kommunnamn).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn

IDENTITY_NUMBER = re.compile(
    r"(?<![\d])(?P<century>19|20)?\s?(?P<yy>\d{2})\s?(?P<mm>\d{2})\s?(?P<dd>\d{2})"
    r"\s*(?P<sep>[-+\u2013\u2014]?)\s*(?P<serial>\d{4})(?![\d])"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
HEADER_WORDS: frozenset[str] = frozenset(
    {
        "namn",
        "name",
        "förnamn",
        "efternamn",
        "tilltalsnamn",
        "personnummer",
        "personnr",
        "pnr",
        "samordningsnummer",
        "födelsedatum",
        "handläggare",
        "kontaktperson",
        "kontaktpersoner",
        "kontaktuppgifter",
        "e-post",
        "epost",
        "e-postadress",
        "email",
        "e-mail",
        "mejl",
        "telefon",
        "telefonnummer",
        "mobil",
        "mobilnummer",
        "adress",
        "hemadress",
        "gatuadress",
    }
)
# Compounds ending in "namn" that name a place or category, not a person.
NOT_PERSON_NAMES: tuple[str, ...] = (
    "kommun",
    "län",
    "region",
    "grupp",
    "indikator",
    "område",
    "kategori",
    "brott",
    "kpi",
    "aktivitet",
    "skol",
    "plats",
    "blad",
    "fil",
)


@dataclass(frozen=True)
class Finding:
    """What was found (Swedish, for the message) and the value with its identifying part masked."""

    kind: str
    masked: str


def _real_date(century: str | None, yy: str, mm: str, dd: str) -> bool:
    month, day = int(mm), int(dd)
    if day > 60:  # samordningsnummer: day of birth + 60
        day -= 60
    if not 1 <= month <= 12 or day < 1:
        return False
    year = int((century or "20") + yy)
    return day <= calendar.monthrange(year, month)[1]


def find_identity_number(text: str) -> Finding | None:
    """The first personal identity or coordination number in `text` (date valid, Luhn valid)."""
    position = 0
    while match := IDENTITY_NUMBER.search(text, position):
        parts = match.groupdict()
        digits = parts["yy"] + parts["mm"] + parts["dd"] + parts["serial"]
        if _real_date(parts["century"], parts["yy"], parts["mm"], parts["dd"]) and luhn.is_valid(
            digits
        ):
            kind = "ett samordningsnummer" if int(parts["dd"]) > 60 else "ett personnummer"
            date = (parts["century"] or "") + parts["yy"] + parts["mm"] + parts["dd"]
            return Finding(kind, f"{date}{parts['sep'] or '-'}****")
        position = match.start() + 1
    return None


def find_email(text: str) -> Finding | None:
    """The first e-mail address in `text`, masked to its first letter and domain."""
    match = EMAIL.search(text)
    if match is None:
        return None
    local, domain = match.group(0).split("@", 1)
    return Finding("en e-postadress", f"{local[0]}***@{domain}")


def find_phone_number(text: str) -> Finding | None:
    """The first phone number valid in Sweden's numbering plan, digits after the third masked."""
    if sum(character.isdigit() for character in text) < 7:
        return None
    for match in phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.VALID):
        raw = match.raw_string
        seen = 0
        masked = []
        for character in raw:
            if character.isdigit():
                seen += 1
                masked.append(character if seen <= 3 else "*")
            else:
                masked.append(character)
        return Finding("ett telefonnummer", "".join(masked))
    return None


def find_personal_data(text: str) -> Finding | None:
    """The first identity number, e-mail address or phone number in a cell's text."""
    return find_identity_number(text) or find_email(text) or find_phone_number(text)


def find_number_cell(value: int | float) -> Finding | None:
    """A numeric cell holding a 10- or 12-digit identity number (typed without separators)."""
    if isinstance(value, float) and not value.is_integer():
        return None
    digits = str(int(value))
    if len(digits) not in (10, 12):
        return None
    return find_identity_number(digits)


def is_personal_header(text: str) -> bool:
    """True for a column header that names personal data (Namn, Handläggare, E-post …)."""
    folded = text.casefold()
    if "personnummer" in folded or "samordningsnummer" in folded:
        return True
    words = re.findall(r"[a-zåäöéü]+(?:-[a-zåäöéü]+)*", folded)
    for word in words:
        if word in HEADER_WORDS:
            return True
        if word.endswith("namn") and not word.startswith(NOT_PERSON_NAMES):
            return True
    return False
