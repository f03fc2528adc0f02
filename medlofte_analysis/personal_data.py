"""Recognise personal data in a cell's text: identity numbers, e-mail, phone, names, name columns.

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
- A person's full name in free text (`find_person_name`): a given name followed by a surname,
  both capitalised ("Möte med rektor Anna Lindqvist", "Kontakt: Maria Andersson"), also with
  middle names, hyphens ("Anna-Karin Lindqvist-Berg"), a genitive s ("Erik Johanssons") or a
  lowercase noble particle ("Carl af Ugglas"). Name-ness is decided by a lexicon, not by
  capitals alone: every part of the given name must be one of the 500 most common female or male
  given names in Sweden (Institutet för språk och folkminnen, Isof, name statistics 2023,
  https://www.isof.se/namn/personnamn/namnstatistik), and the surname one of the 500 most common
  surnames (Skatteverket, "Sök bland de vanligaste efternamnen", 2025), or end in a surname
  ending that at least `SURNAME_ENDING_MIN` of those surnames share (-sson, -berg, -ström, -lund,
  -gren, -qvist/-kvist: derived from the list when it is loaded, not typed here), so that
  "Erik Wennerström" is found although he is not among the 500. Both lists are the ones
  the Faker package ships (`faker.providers.person.sv_SE`, MIT licence; its sources are named in
  that file), loaded once, on the first cell that has two adjacent capitalised words.
  Not refused, on purpose: a given name alone ("Anna", "ring Per") or a surname alone
  ("Andersson ringde"), since alone they are too often ordinary words, months or places (Per,
  Bo, Maj, Juni, Berg, Lund) and would refuse legitimate notes; place and organisation names
  ("Knivsta kommun", "Region Uppsala", "Polisen", "Brå", "Länsstyrelsen"), which do not start
  with a given name. Known misses: initials ("A. Lindqvist"), names written in lower or upper
  case only, a given name outside the 500 followed by any surname, and a rare surname with none
  of the shared endings ("Anna Wiklander"). Known false alarms: a street, school, fund or model
  named after a real or fictional person ("Anna Lindhs plats", Kolada's "Nils
  Holgersson-modellen") and, rarely, a municipality that is also a given name (Mark, Nora,
  Vilhelmina) followed by one with a surname ending ("Nora Lindesberg" written without a comma).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections import Counter
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn

IDENTITY_NUMBER = re.compile(
    r"(?<![\d])(?P<century>19|20)?\s?(?P<yy>\d{2})\s?(?P<mm>\d{2})\s?(?P<dd>\d{2})"
    r"\s*(?P<sep>[-+\u2013\u2014]?)\s*(?P<serial>\d{4})(?![\d])"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
# Cheap prefilter for a name: a capitalised word, blanks (and perhaps a short lowercase particle),
# then a capital letter. Most cells (numbers, codes, lowercase text) stop here.
CAPITALISED_PAIR = re.compile(
    r"[A-ZÀ-ÖØ-Þ][^\W\d_]+[ \t\u00a0]+(?:[a-z]{2,3}[ \t\u00a0]+)?[A-ZÀ-ÖØ-Þ]"
)
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # letters, parts joined by hyphens
BLANKS = re.compile(r"[ \t\u00a0]+")  # what may stand between the words of one name
# Lowercase particles of noble and foreign surnames ("Carl af Ugglas", "Anna von Essen").
NAME_PARTICLES: frozenset[str] = frozenset(
    {"af", "von", "van", "de", "der", "du", "da", "di", "del"}
)
MAX_MIDDLE_NAMES: int = 2
# A surname ending (its last four letters) counts when this many of the 500 surnames share it.
SURNAME_ENDING_MIN: int = 10
SURNAME_ENDING_LENGTH: int = 4
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


@dataclass(frozen=True)
class NameLexicon:
    """Sweden's most common given names and surnames, and the endings the surnames share."""

    given_names: frozenset[str]
    surnames: frozenset[str]
    surname_endings: frozenset[str]


@functools.cache
def name_lexicon() -> NameLexicon:
    """Load the lexicon once, on first use (importing Faker's data takes about 0.2 s)."""
    from faker.providers.person.sv_SE import Provider  # Isof given names, Skatteverket surnames

    surnames = frozenset(Provider.last_names)
    endings = Counter(
        name[-SURNAME_ENDING_LENGTH:] for name in surnames if len(name) >= SURNAME_ENDING_LENGTH + 2
    )
    return NameLexicon(
        given_names=frozenset(Provider.first_names_female) | frozenset(Provider.first_names_male),
        surnames=surnames,
        surname_endings=frozenset(e for e, count in endings.items() if count >= SURNAME_ENDING_MIN),
    )


def _is_given_name(word: str, lexicon: NameLexicon) -> bool:
    return all(part in lexicon.given_names for part in word.split("-"))


def _is_surname_part(part: str, lexicon: NameLexicon) -> bool:
    for form in (part, part[:-1] if part.endswith("s") else None):  # "Johanssons": genitive
        if not form:
            continue
        if form in lexicon.surnames:
            return True
        if (
            len(form) >= SURNAME_ENDING_LENGTH + 2
            and form[-SURNAME_ENDING_LENGTH:] in lexicon.surname_endings
        ):
            return True
    return False


def _is_surname(word: str, lexicon: NameLexicon) -> bool:
    parts = word.split("-")
    return all(part.istitle() for part in parts) and any(
        _is_surname_part(part, lexicon) for part in parts
    )


def _name_end(text: str, words: list[re.Match[str]], first: int, lexicon: NameLexicon) -> int:
    """Index of the last word of the name starting with given name `words[first]`, or -1."""

    def joined(index: int) -> bool:  # words[index] follows words[index - 1] after blanks only
        if index >= len(words):
            return False
        gap = text[words[index - 1].end() : words[index].start()]
        return BLANKS.fullmatch(gap) is not None

    position = first + 1
    while joined(position):
        word = words[position].group()
        if word in NAME_PARTICLES:
            following = position + 1
            if joined(following) and words[following].group().istitle():
                return following
            return -1
        if _is_surname(word, lexicon):
            while joined(position + 1) and _is_surname(words[position + 1].group(), lexicon):
                position += 1
            return position
        if position - first > MAX_MIDDLE_NAMES or not _is_given_name(word, lexicon):
            return -1
        position += 1  # a middle name
    return -1


def _mask_name(name: str) -> str:
    return WORD.sub(
        lambda match: "-".join(
            part[0] + "*" * (len(part) - 1) for part in match.group().split("-")
        ),
        name,
    )


def find_person_name(text: str) -> Finding | None:
    """The first likely full name of a person in `text`: a given name, then a surname.

    Both come from a lexicon (`name_lexicon`): Sweden's 500 most common given names and 500 most
    common surnames, or a surname with an ending those share. A given name alone ("Anna") is NOT
    a finding: too many given names are also ordinary words, months or places (Per, Bo, Maj,
    Juni, Nora), and refusing them would refuse ordinary notes. Masked to the first letters:
    "Anna Lindqvist" -> "A*** L********".
    """
    if CAPITALISED_PAIR.search(text) is None:
        return None
    lexicon = name_lexicon()
    words = list(WORD.finditer(text))
    for index, match in enumerate(words):
        if not _is_given_name(match.group(), lexicon):
            continue
        last = _name_end(text, words, index, lexicon)
        if last >= 0:
            return Finding("ett personnamn", _mask_name(text[match.start() : words[last].end()]))
    return None


def find_personal_data(text: str, *, names: bool = True) -> Finding | None:
    """The first identity number, e-mail address, phone number or (if `names`) person's name.

    `names=False` leaves out `find_person_name`, for the places where Excel itself writes the
    user's name (a workbook's author, a note's author).
    """
    return (
        find_identity_number(text)
        or find_email(text)
        or find_phone_number(text)
        or (find_person_name(text) if names else None)
    )


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
