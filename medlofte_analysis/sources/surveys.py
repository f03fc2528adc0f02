"""Loader for survey results typed in by analysts: `templates/enkatresultat_mall.xlsx`.

The workbook is this project's own template (written by `medlofte_analysis.templates_excel`),
filled in by hand from published reports: Polisens trygghetsmätning (Polisen), Liv & hälsa ung
(Region Uppsala) and NTU tables (Brå). Sheet "Resultat", header in row 1, one result per row
from row 2; the column names are `SURVEY_COLUMNS`. Entirely blank rows are skipped.

Validation (InputError naming the sheet and cell, e.g. "Resultat!G5"): share outside 0–100,
ki_undre above the share or ki_ovre below it, antal_svarande not a positive integer, unknown
källa, kommunkod not four digits, year not a year, duplicate (kommunkod, år, källa,
indikator_id, grupp). kommunkod: a text cell must hold exactly four digits ("0330"); a NUMERIC
cell (Excel turns a typed 0330 into the number 330) is accepted and left-padded with zeros to
four digits, since the leading zero can only have been lost by Excel. Numbers may be typed with a
decimal comma; "..", "-", "x" or a blank share is missing (NaN with `missing_reason`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from medlofte_analysis import workbooks
from medlofte_analysis.cleaning import parse_swedish_number
from medlofte_analysis.errors import InputError

SURVEY_SHEET: str = "Resultat"
TEMPLATE_MAX_ROWS: int = 20_000
SURVEY_SOURCES: tuple[str, ...] = ("Polisens trygghetsmätning", "Liv & hälsa ung", "NTU")
# header -> Swedish explanation for the Instruktioner sheet
SURVEY_COLUMNS: dict[str, str] = {
    "kommunkod": "Kommunkod med fyra siffror som text, t.ex. 0330 för Knivsta, eller länets "
    "kod för länets värde (t.ex. 0003 för Uppsala län); länet ritas bredvid kommunen.",
    "år": "Året för enkätens våg (t.ex. 2023 och 2025 för Liv & hälsa ung). Skriv bara år då "
    "enkäten publicerats; en publicerad våg som saknar värde skrivs med '..' i andel_procent. "
    "För sammanslagna år (NTU): periodens sista år; skriv perioden i kommentar.",
    "källa": "En av: " + ", ".join(SURVEY_SOURCES) + ".",
    "indikator_id": "Indikatorns id i indikatorkatalogen (samma id varje år), t.ex. "
    "ptm_oro_brott, lhu_narkotika_ak9 eller lhu_otrygg_ak9.",
    "fråga": "Frågan eller indikatorn ordagrant som i rapporten.",
    "grupp": "Vilka svaren gäller, t.ex. 'alla', 'åk 9', 'gy 2', 'kvinnor'.",
    "andel_procent": "Andel i procent (0–100), decimalkomma går bra. För ett index "
    "(ptm_problemindex): indexvärdet på den publicerade skalan. Lämna tom eller skriv '..' "
    "om värdet saknas eller är sekretessmarkerat; skriv aldrig 0 för saknat.",
    "antal_svarande": "Antal som svarat (heltal större än 0), om rapporten anger det.",
    "ki_undre": "Undre gräns för 95 % konfidensintervall i procent, om rapporten anger det.",
    "ki_ovre": "Övre gräns för 95 % konfidensintervall i procent, om rapporten anger det.",
    "kommentar": "Varifrån värdet kommer (rapport, sida, tabell) och annat att veta. "
    "Skriv aldrig namn eller personnummer.",
}
OUTPUT_COLUMNS: tuple[str, ...] = (
    "municipality_code",
    "year",
    "source",
    "indicator_id",
    "question",
    "group",
    "share_percent",
    "n_respondents",
    "ci_lower",
    "ci_upper",
    "comment",
    "missing_reason",
)
SURVEY_KEY: tuple[str, ...] = ("municipality_code", "year", "source", "indicator_id", "group")


def cell_ref(sheet: str, column_letter: str, row: int) -> str:
    """Excel-style reference such as 'Resultat!G5'."""
    return f"{sheet}!{column_letter}{row}"


def open_workbook(path: Path) -> openpyxl.Workbook:
    """Open a filled-in template with cached values, after `workbooks.check_workbook` (size,
    zip bomb, personal data anywhere in the file; the templates hold at most TEMPLATE_MAX_ROWS)."""
    return workbooks.open_workbook(path, read_only=False, max_rows=TEMPLATE_MAX_ROWS)


def header_columns(
    sheet: Worksheet, expected: tuple[str, ...], path: Path
) -> dict[str, tuple[int, str]]:
    """Map each expected header (row 1) to (column index, column letter); unknown ones raise."""
    found: dict[str, tuple[int, str]] = {}
    for cell in sheet[1]:
        text = "" if cell.value is None else str(cell.value).strip()
        if not text:
            continue
        if text not in expected:
            raise InputError(
                path,
                cell_ref(sheet.title, cell.column_letter, 1),
                f"one of the template's columns {list(expected)}",
                text,
            )
        if text in found:
            raise InputError(
                path, cell_ref(sheet.title, cell.column_letter, 1), "each column once", text
            )
        found[text] = (cell.column - 1, cell.column_letter)
    missing = [name for name in expected if name not in found]
    if missing:
        raise InputError(
            path,
            f"{sheet.title}!1:1",
            f"the template's columns {list(expected)}",
            f"{missing} missing",
        )
    return found


def text_value(value: object) -> str:
    """A cell as stripped text ('' for blank)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def municipality_code(value: object, path: Path, ref: str) -> str:
    """Four-digit code from a text cell, or from a numeric cell left-padded (330 → '0330')."""
    if isinstance(value, bool):
        raise InputError(path, ref, "a four-digit municipality code such as 0330", value)
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        if float(value).is_integer() and 1 <= value <= 9999:
            return f"{int(value):04d}"
        raise InputError(path, ref, "a four-digit municipality code such as 0330", value)
    text = text_value(value)
    if not re.fullmatch(r"\d{4}", text):
        raise InputError(path, ref, "a four-digit municipality code such as 0330", value)
    return text


def year_value(value: object, path: Path, ref: str) -> int:
    """A year 1990–2100 from an int or text cell."""
    text = text_value(value)
    if isinstance(value, bool) or not re.fullmatch(r"\d{4}", text) or not 1990 <= int(text) <= 2100:
        raise InputError(path, ref, "a year such as 2024", value)
    return int(text)


def required_text(value: object, path: Path, ref: str, what: str) -> str:
    """A non-empty text cell."""
    text = text_value(value)
    if not text:
        raise InputError(path, ref, what, value)
    return text


def optional_number(value: object, path: Path, ref: str) -> tuple[float, str]:
    """A number (decimal comma allowed) or a missing marker → (NaN, reason)."""
    number, reason = parse_swedish_number(value, path, ref)
    return (float("nan") if number is None else number), reason


def template_rows(
    workbook: openpyxl.Workbook, sheet_name: str, column_names: tuple[str, ...], path: Path
) -> Iterator[tuple[int, dict[str, object], Callable[[str], str]]]:
    """Each non-blank data row of a template sheet: its Excel row number, its values by column
    name and a function giving a column's cell reference (e.g. "Resultat!G5") for errors."""
    if sheet_name not in workbook.sheetnames:
        raise InputError(path, None, f"a sheet named '{sheet_name}'", workbook.sheetnames)
    sheet = workbook[sheet_name]
    columns = header_columns(sheet, column_names, path)
    for row in sheet.iter_rows(min_row=2):
        values = {
            name: row[index].value if index < len(row) else None
            for name, (index, _) in columns.items()
        }
        if all(text_value(v) == "" for v in values.values()):
            continue
        number = row[0].row

        def ref(name: str, number: int = number) -> str:
            return cell_ref(sheet_name, columns[name][1], number)

        yield number, values, ref


def read_survey_workbook(path: Path) -> pd.DataFrame:
    """Read a filled-in survey template (sheet "Resultat") to a tidy table.

    Columns: municipality_code (4-char str), year (int), source, indicator_id, question, group
    (str), share_percent, n_respondents, ci_lower, ci_upper (float, NaN when blank),
    comment (str), missing_reason (why share_percent is missing; "" when present).
    """
    path = Path(path)
    workbook = open_workbook(path)
    records: list[dict[str, object]] = []
    first_row: dict[tuple[object, ...], int] = {}
    for number, values, ref in template_rows(workbook, SURVEY_SHEET, tuple(SURVEY_COLUMNS), path):
        source = text_value(values["källa"])
        if source not in SURVEY_SOURCES:
            raise InputError(path, ref("källa"), f"one of {list(SURVEY_SOURCES)}", values["källa"])
        share, share_reason = optional_number(values["andel_procent"], path, ref("andel_procent"))
        if not math.isnan(share) and not 0 <= share <= 100:
            raise InputError(path, ref("andel_procent"), "a share between 0 and 100", share)
        n, _ = optional_number(values["antal_svarande"], path, ref("antal_svarande"))
        if not math.isnan(n) and (n <= 0 or not n.is_integer()):
            raise InputError(path, ref("antal_svarande"), "a positive whole number", n)
        lower, _ = optional_number(values["ki_undre"], path, ref("ki_undre"))
        upper, _ = optional_number(values["ki_ovre"], path, ref("ki_ovre"))
        for name, bound in (("ki_undre", lower), ("ki_ovre", upper)):
            if not math.isnan(bound) and not 0 <= bound <= 100:
                raise InputError(path, ref(name), "a percentage between 0 and 100", bound)
        if not math.isnan(lower) and not math.isnan(share) and lower > share:
            raise InputError(path, ref("ki_undre"), f"a lower limit ≤ the share {share}", lower)
        if not math.isnan(upper) and not math.isnan(share) and upper < share:
            raise InputError(path, ref("ki_ovre"), f"an upper limit ≥ the share {share}", upper)
        if not math.isnan(lower) and not math.isnan(upper) and lower > upper:
            raise InputError(path, ref("ki_ovre"), f"an upper limit ≥ ki_undre {lower}", upper)
        record = {
            "municipality_code": municipality_code(values["kommunkod"], path, ref("kommunkod")),
            "year": year_value(values["år"], path, ref("år")),
            "source": source,
            "indicator_id": required_text(
                values["indikator_id"], path, ref("indikator_id"), "an indicator id"
            ),
            "question": required_text(values["fråga"], path, ref("fråga"), "the question text"),
            "group": required_text(
                values["grupp"], path, ref("grupp"), "the group, e.g. 'alla' or 'åk 9'"
            ),
            "share_percent": share,
            "n_respondents": n,
            "ci_lower": lower,
            "ci_upper": upper,
            "comment": text_value(values["kommentar"]),
            "missing_reason": share_reason,
        }
        key = tuple(record[k] for k in SURVEY_KEY)
        if key in first_row:
            raise InputError(
                path,
                cell_ref(SURVEY_SHEET, "A", number),
                f"one row per (kommunkod, år, källa, indikator_id, grupp); same as row "
                f"{first_row[key]}",
                key,
            )
        first_row[key] = number
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(OUTPUT_COLUMNS))
    frame["year"] = frame["year"].astype(int)
    numeric = ["share_percent", "n_respondents", "ci_lower", "ci_upper"]
    frame[numeric] = frame[numeric].astype(float)
    return frame
