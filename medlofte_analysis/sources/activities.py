"""Loader for the pledge's implementation log (årshjul): `templates/aktivitetslogg_mall.xlsx`.

The workbook is this project's own template (written by `medlofte_analysis.templates_excel`),
filled in by the municipality and the police: one row per activity of the årshjul, whether it
was planned and whether it was carried out, with an output count (controls, school visits …).
Sheet "Aktiviteter", header in row 1, data from row 2; the column names are
`ACTIVITY_COLUMNS`. Entirely blank rows are skipped. kommunkod follows the same rule as the
survey template (text "0330", or a numeric cell left-padded).

Personal data is refused before anything else is read: every cell of every sheet is scanned for
a Swedish personal identity number (YYMMDD-NNNN, YYMMDD+NNNN, YYYYMMDDNNNN, YYYYMMDD-NNNN,
YYMMDDNNNN, incl. samordningsnummer days 61–91), and the header row of every sheet for a column
such as "namn" or "personnummer"; either raises `PersonalDataError` naming the sheet and cell,
with the number masked. Free-text names inside a comment cannot be detected reliably: the
instructions tell users never to write them.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import openpyxl
import pandas as pd

from medlofte_analysis.errors import InputError, PersonalDataError
from medlofte_analysis.sources.surveys import (
    cell_ref,
    municipality_code,
    open_workbook,
    optional_number,
    required_text,
    template_rows,
    text_value,
    year_value,
)

ACTIVITY_SHEET: str = "Aktiviteter"
FOCUS_AREAS: tuple[str, ...] = ("unga", "narvaro", "narkotika", "vald_nara_relation")
PLANNED_VALUES: tuple[str, ...] = ("ja", "nej")
DONE_VALUES: tuple[str, ...] = ("ja", "nej", "delvis")
ACTIVITY_COLUMNS: dict[str, str] = {
    "kommunkod": "Kommunkod med fyra siffror som text, t.ex. 0330 för Knivsta.",
    "år": "Året aktiviteten gäller.",
    "fokusområde": "Ett av: " + ", ".join(FOCUS_AREAS) + " (unga med normbrytande beteende, "
    "polisiär närvaro, narkotika, våld i nära relation).",
    "aktivitet": "Aktiviteten med några ord, t.ex. 'Hastighetskontroll vid skola'.",
    "planerad": "ja om aktiviteten stod i årshjulet, annars nej.",
    "genomförd": "ja, nej eller delvis. Lämna tom om uppföljningen inte är gjord än.",
    "antal": "Antal genomförda tillfällen eller liknande (heltal eller decimaltal, 0 eller mer). "
    "Lämna tom om det inte är känt; skriv aldrig 0 för okänt.",
    "enhet": "Vad antal räknar, t.ex. 'kontroller', 'skolbesök', 'utbildningstillfällen'.",
    "kommentar": "Annat att veta. Skriv aldrig namn, personnummer eller uppgifter om enskilda.",
}
OUTPUT_COLUMNS: tuple[str, ...] = (
    "municipality_code",
    "year",
    "focus_area",
    "activity",
    "planned",
    "carried_out",
    "amount",
    "unit",
    "comment",
    "missing_reason",
)
PERSONAL_HEADER_WORDS: frozenset[str] = frozenset(
    {
        "namn",
        "förnamn",
        "efternamn",
        "personnummer",
        "personnr",
        "pnr",
        "samordningsnummer",
        "födelsedatum",
        "name",
    }
)
PERSONAL_NUMBER = re.compile(
    r"(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
    r"[-+ ]?\d{4}(?!\d)"
)


def mask_personal_number(text: str) -> str:
    """Replace every digit of a matched number by 'X' so a message never echoes it."""
    return re.sub(r"\d", "X", text)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def check_no_personal_data(workbook: openpyxl.Workbook, path: Path) -> None:
    """Raise PersonalDataError for a personal identity number anywhere or a personal header."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                text = _cell_text(cell.value)
                if not text:
                    continue
                ref = cell_ref(sheet.title, cell.column_letter, cell.row)
                match = PERSONAL_NUMBER.search(text)
                if match:
                    raise PersonalDataError(
                        path,
                        ref,
                        "no personal identity numbers (remove the cell's content)",
                        mask_personal_number(match.group(0)),
                    )
                if cell.row == 1:
                    words = set(re.findall(r"[a-zåäöé]+", text.casefold()))
                    hits = sorted(words & PERSONAL_HEADER_WORDS)
                    if hits or "personnummer" in text.casefold():
                        raise PersonalDataError(
                            path,
                            ref,
                            "no column for personal data such as names or personal identity "
                            "numbers",
                            text,
                        )


def _choice(value: object, allowed: tuple[str, ...], path: Path, ref: str) -> str:
    text = text_value(value).casefold()
    if text not in allowed:
        raise InputError(path, ref, f"one of {list(allowed)}", value)
    return text


def read_activity_workbook(path: Path) -> pd.DataFrame:
    """Read a filled-in activity log (sheet "Aktiviteter") to a tidy table.

    Columns: municipality_code (4-char str), year (int), focus_area (one of FOCUS_AREAS),
    activity (str), planned (bool), carried_out ("ja", "nej", "delvis" or "" when not yet
    followed up), amount (float, NaN when blank), unit (str), comment (str), missing_reason (why
    amount is missing; "" when present). Refuses personal data (see module docstring).
    """
    path = Path(path)
    workbook = open_workbook(path)
    check_no_personal_data(workbook, path)
    records: list[dict[str, object]] = []
    for _, values, ref in template_rows(workbook, ACTIVITY_SHEET, tuple(ACTIVITY_COLUMNS), path):
        done_text = text_value(values["genomförd"])
        amount, reason = optional_number(values["antal"], path, ref("antal"))
        if not math.isnan(amount) and amount < 0:
            raise InputError(path, ref("antal"), "a number of 0 or more", amount)
        unit = text_value(values["enhet"])
        if not math.isnan(amount) and not unit:
            raise InputError(path, ref("enhet"), "the unit of antal, e.g. 'kontroller'", None)
        records.append(
            {
                "municipality_code": municipality_code(values["kommunkod"], path, ref("kommunkod")),
                "year": year_value(values["år"], path, ref("år")),
                "focus_area": _choice(values["fokusområde"], FOCUS_AREAS, path, ref("fokusområde")),
                "activity": required_text(
                    values["aktivitet"], path, ref("aktivitet"), "a short activity description"
                ),
                "planned": _choice(values["planerad"], PLANNED_VALUES, path, ref("planerad"))
                == "ja",
                "carried_out": _choice(done_text, DONE_VALUES, path, ref("genomförd"))
                if done_text
                else "",
                "amount": amount,
                "unit": unit,
                "comment": text_value(values["kommentar"]),
                "missing_reason": reason,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(OUTPUT_COLUMNS))
    frame["year"] = frame["year"].astype(int)
    frame["planned"] = frame["planned"].astype(bool)
    frame["amount"] = frame["amount"].astype(float)
    return frame
