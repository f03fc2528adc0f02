"""Loader for the pledge's implementation log (årshjul): `templates/aktivitetslogg_mall.xlsx`.

The workbook is this project's own template (written by `medlofte_analysis.templates_excel`),
filled in by the municipality and the police: one row per activity of the årshjul. Sheet
"Aktiviteter", header in row 1, data from row 2; the column names are `ACTIVITY_COLUMNS`:
focus area, activity type from `ACTIVITY_TYPES`, responsible party (kommun / polis /
gemensamt), planned month or quarter, status (planerad / genomförd / delvis), an amount with
its unit and a free-text note. Entirely blank rows are skipped. kommunkod follows the same rule
as the survey template (text "0330", or a numeric cell left-padded).

Logs filled in on the first template (`LEGACY_COLUMNS`: planerad ja/nej, genomförd
ja/nej/delvis, no type, party or period) keep loading: the status is taken from genomförd, the
type, party and period are left blank (period = the whole year).

Personal data and unsafe files are refused before anything is read (`workbooks.check_workbook`:
identity numbers, e-mail, phone numbers, a person's full name in free text, name columns, in
every sheet, comment, property and formula).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.surveys import (
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
ACTIVITY_TYPES: tuple[str, ...] = (
    "trafikkontroll – hastighet",
    "trafikkontroll – nykterhet",
    "skolbesök",
    "närvaro på prioriterad plats",
    "gemensam narkotikainsats",
    "SSPF-möte",
    "informationsinsats om våld i nära relation",
    "medborgardialog",
    "kommunikation till medborgare",
    "annan",
)
RESPONSIBLE: tuple[str, ...] = ("kommun", "polis", "gemensamt")
STATUSES: tuple[str, ...] = ("planerad", "genomförd", "delvis")
MONTHS_SV: tuple[str, ...] = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
ACTIVITY_COLUMNS: dict[str, str] = {
    "kommunkod": "Kommunkod med fyra siffror som text, t.ex. 0330 för Knivsta.",
    "år": "Året aktiviteten är planerad till.",
    "fokusområde": "Ett av: " + ", ".join(FOCUS_AREAS) + " (unga med normbrytande beteende, "
    "polisiär närvaro, narkotika, våld i nära relation).",
    "aktivitetstyp": "En av: " + "; ".join(ACTIVITY_TYPES) + ".",
    "aktivitet": "Aktiviteten med några ord, t.ex. 'Hastighetskontroll vid skola'.",
    "ansvarig": "Vem som ansvarar: " + ", ".join(RESPONSIBLE) + ".",
    "planerad_tid": "Planerad månad (1–12 eller t.ex. 'mars') eller kvartal ('kv1'–'kv4'). "
    "Lämna tom om aktiviteten pågår hela året.",
    "status": "planerad (inte genomförd än, eller inte alls), genomförd eller delvis.",
    "antal": "Antal genomförda tillfällen eller liknande (heltal eller decimaltal, 0 eller mer). "
    "Lämna tom om det inte är känt; skriv aldrig 0 för okänt.",
    "enhet": "Vad antal räknar, t.ex. 'kontroller', 'skolbesök', 'möten'. Antal summeras bara "
    "inom samma enhet.",
    "kommentar": "Annat att veta. Skriv aldrig namn, personnummer, e-post, telefonnummer eller "
    "uppgifter om enskilda.",
}
LEGACY_COLUMNS: tuple[str, ...] = (
    "kommunkod",
    "år",
    "fokusområde",
    "aktivitet",
    "planerad",
    "genomförd",
    "antal",
    "enhet",
    "kommentar",
)
OUTPUT_COLUMNS: tuple[str, ...] = (
    "municipality_code",
    "year",
    "focus_area",
    "activity_type",
    "activity",
    "responsible",
    "first_month",
    "last_month",
    "planned",
    "status",
    "amount",
    "unit",
    "comment",
    "missing_reason",
)


def _normalised(text: str) -> str:
    """Case-folded, single spaces, a hyphen between words read as the template's en dash."""
    folded = re.sub(r"\s+", " ", text.casefold()).strip()
    return re.sub(r" [-—] ", " – ", folded)


def planned_months(value: object, path: Path, ref: str) -> tuple[int, int]:
    """The planned month or quarter as (first month, last month); blank is the whole year."""
    text = _normalised(text_value(value)).replace(" ", "")
    if not text:
        return 1, 12
    if re.fullmatch(r"\d{1,2}", text) and 1 <= int(text) <= 12:
        return int(text), int(text)
    quarter = re.fullmatch(r"(?:kv|q|kvartal)([1-4])", text)
    if quarter:
        last = 3 * int(quarter.group(1))
        return last - 2, last
    for number, month in enumerate(MONTHS_SV, start=1):
        if len(text) >= 3 and month.startswith(text):
            return number, number
    raise InputError(path, ref, "a month (1–12 or 'mars') or a quarter ('kv1'–'kv4')", value)


def _choice(value: object, allowed: tuple[str, ...], path: Path, ref: str) -> str:
    text = _normalised(text_value(value))
    for option in allowed:
        if _normalised(option) == text:
            return option
    raise InputError(path, ref, f"one of {list(allowed)}", value)


def _amount(values: dict[str, object], ref: Callable[[str], str], path: Path) -> tuple[float, str]:
    amount, reason = optional_number(values["antal"], path, ref("antal"))
    if not math.isnan(amount) and amount < 0:
        raise InputError(path, ref("antal"), "a number of 0 or more", amount)
    if not math.isnan(amount) and not text_value(values["enhet"]):
        raise InputError(path, ref("enhet"), "the unit of antal, e.g. 'kontroller'", None)
    return amount, reason


def _record(
    values: dict[str, object], ref: Callable[[str], str], path: Path, legacy: bool
) -> dict[str, object]:
    amount, reason = _amount(values, ref, path)
    if legacy:
        done = text_value(values["genomförd"])
        done = _choice(done, ("ja", "nej", "delvis"), path, ref("genomförd")) if done else ""
        planned = _choice(values["planerad"], ("ja", "nej"), path, ref("planerad")) == "ja"
        status = {"ja": "genomförd", "delvis": "delvis"}.get(done, "planerad")
        activity_type, responsible, months = "", "", (1, 12)
    else:
        planned = True
        status = _choice(values["status"], STATUSES, path, ref("status"))
        activity_type = _choice(values["aktivitetstyp"], ACTIVITY_TYPES, path, ref("aktivitetstyp"))
        responsible = _choice(values["ansvarig"], RESPONSIBLE, path, ref("ansvarig"))
        months = planned_months(values["planerad_tid"], path, ref("planerad_tid"))
    return {
        "municipality_code": municipality_code(values["kommunkod"], path, ref("kommunkod")),
        "year": year_value(values["år"], path, ref("år")),
        "focus_area": _choice(values["fokusområde"], FOCUS_AREAS, path, ref("fokusområde")),
        "activity_type": activity_type,
        "activity": required_text(
            values["aktivitet"], path, ref("aktivitet"), "a short activity description"
        ),
        "responsible": responsible,
        "first_month": months[0],
        "last_month": months[1],
        "planned": planned,
        "status": status,
        "amount": amount,
        "unit": text_value(values["enhet"]),
        "comment": text_value(values["kommentar"]),
        "missing_reason": reason,
    }


def read_activity_workbook(path: Path) -> pd.DataFrame:
    """Read a filled-in activity log (sheet "Aktiviteter"), current or first template, to a table.

    Columns: municipality_code (4-char str), year (int), focus_area (one of FOCUS_AREAS),
    activity_type (one of ACTIVITY_TYPES, "" in an old log), activity (str), responsible
    (kommun / polis / gemensamt, "" in an old log), first_month and last_month (int 1–12),
    planned (bool; always True in the current template, every row being in the årshjul), status
    (planerad / genomförd / delvis), amount (float, NaN when blank), unit (str), comment (str),
    missing_reason (why amount is missing; "" when present). Refuses personal data first.
    """
    path = Path(path)
    workbook = open_workbook(path)
    headers = set()
    if ACTIVITY_SHEET in workbook.sheetnames:
        headers = {text_value(cell.value) for cell in workbook[ACTIVITY_SHEET][1]}
    legacy = "status" not in headers and {"planerad", "genomförd"} <= headers
    columns = LEGACY_COLUMNS if legacy else tuple(ACTIVITY_COLUMNS)
    records = [
        _record(values, ref, path, legacy)
        for _, values, ref in template_rows(workbook, ACTIVITY_SHEET, columns, path)
    ]
    frame = pd.DataFrame.from_records(records, columns=list(OUTPUT_COLUMNS))
    for column in ("year", "first_month", "last_month"):
        frame[column] = frame[column].astype(int)
    frame["planned"] = frame["planned"].astype(bool)
    frame["amount"] = frame["amount"].astype(float)
    return frame
