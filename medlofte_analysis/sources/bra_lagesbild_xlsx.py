"""Loader for Brå's "Indikatorer för kommuners lägesbild" workbook (one .xlsx per municipality).

Source: https://bra.se/statistik/indikatorer-for-kommuners-lagesbild (Brå; "Källa: Brå").
No real workbook is available offline; the layout below is taken from Region Dalarna's R parser
(`hamta_bra_kommunindikatorer()`, github.com/Region-Dalarna/brott and
github.com/Analytikernatverket/hamta_data_playwright `bra_kommunindikatorer.R`), whose output is the
snapshot `data/raw/bra_kommunindikatorer_region_dalarna/bra_kommunindikatorer_dalarna_riket.csv`
(see data/raw/SOURCES.md §3). The result has exactly that snapshot's long format
(geografi, enhet, ar, variabel, varde, kalla) plus `missing_reason`, so downstream code treats both
alike.

Layout assumptions (as the R parser reads the workbook):

* One sheet per indicator; cell A1 holds the indicator title. Blank sheets are skipped.
* **Anmälda brott sheets** are recognised by "anmälda" in the sheet name or "(anmälda brott)" in
  the title. Row 2 is the header: A2 = region column (any text), the other headers are
  "<enhet> <year>" ("Antal 2016" … "Antal per 100 000 inv 2024"); data from row 3, one row per
  region (kommun, län, "Hela landet"). variabel = title without " i kommunen, länet …" and
  without "(anmälda brott)"; kalla = "Anmälda brott".
* **NTU sheets** (every other sheet). Two layouts are accepted:
  - *year rows* (the layout the current R parser reads, and the one the snapshot comes from):
    some rows have a four-digit year in column A; the row just above the first year row is the
    header row, the row above that names the regions, each at the start of its block of columns.
    A block is [share or count, "KI (95 %) undre gräns", "KI (95 %) övre gräns"] (or a single
    column when there is no "KI … övre" header, e.g. the "Antal svarande i NTU" sheet).
  - *period columns* (older layout): row 2 header, A2 = region column, other headers end in a
    year: period labels such as "2017–2020", "KI (95 %) undre gräns 2017–2020",
    "KI (95 %) övre gräns 2017–2020" and "Antal svarande 2017–2020"; data from row 3.
  ar = the last four-digit year of the label (NTU municipal figures are pooled over several years).
  variabel = title without ", enligt NTU …" and without a " YYYY–YYYY" period; kalla =
  "Nationella trygghetsundersökningen (NTU)". enhet = "KI (95 %) undre gräns" /
  "KI (95 %) övre gräns" for interval columns, "Antal svarande" for a respondents column, and for
  the value column the text after "NTU YYYY–YYYY. " in the title ("" when the title has none, as
  in the snapshot's "Antal svarande i NTU.").
* Suppressed or blank cells ("..", "-", "x", blank) become NaN with a `missing_reason`. Unlike the
  R parser, NTU years without a value are kept (as missing), not dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from medlofte_analysis import workbooks
from medlofte_analysis.cleaning import parse_swedish_number
from medlofte_analysis.errors import InputError

COLUMNS: tuple[str, ...] = (
    "geografi",
    "enhet",
    "ar",
    "variabel",
    "varde",
    "kalla",
    "missing_reason",
)
KALLA_ANMALDA: str = "Anmälda brott"
KALLA_NTU: str = "Nationella trygghetsundersökningen (NTU)"
KI_LOWER: str = "KI (95 %) undre gräns"
KI_UPPER: str = "KI (95 %) övre gräns"
RESPONDENTS: str = "Antal svarande"

_HEADER_YEAR = re.compile(r"^(.*?)\s*(\d{4})$")
_YEAR_CELL = re.compile(r"^\d{4}$")


def _text(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


def _cell(sheet_name: str, row: int, column: int) -> str:
    return f"sheet '{sheet_name}', cell {get_column_letter(column)}{row}"


def variable_from_title(title: str) -> str:
    """The indicator name of a sheet title, as Region Dalarna's parser derives `variabel`."""
    text = re.sub(r" i kommunen, länet.*$", "", title)
    text = text.replace("(anmälda brott)", "")
    text = re.sub(r", enligt NTU.*$", "", text)
    text = re.sub(r" [0-9]{4}[-–][0-9]{4}", "", text)
    return text.strip()


def ntu_unit_from_title(title: str) -> str:
    """The unit text after "NTU YYYY–YYYY. " in an NTU title ("" when there is none)."""
    match = re.search(r"NTU [0-9]{4}[-–][0-9]{4}\. (.*)$", title)
    return match.group(1) if match else ""


def _ntu_column_unit(header: str, title: str) -> str:
    lowered = header.casefold()
    if "ki" in lowered.split() or lowered.startswith("ki "):
        if "undre" in lowered:
            return KI_LOWER
        if "övre" in lowered:
            return KI_UPPER
    if "svarande" in lowered:
        return RESPONDENTS
    return ntu_unit_from_title(title)


def _value(raw: object, path: Path, location: str) -> tuple[float, str]:
    value, reason = parse_swedish_number(raw, path, location)
    return (float("nan") if value is None else value), reason


def _read_wide(
    rows: list[tuple[object, ...]], path: Path, sheet: str, title: str, anmalda: bool
) -> list[dict[str, object]]:
    """Row 2 header with "<label> <year>" columns, data from row 3 (anmälda; old NTU layout)."""
    if len(rows) < 3:
        raise InputError(path, f"sheet '{sheet}', row 3", "data rows below the header in row 2")
    header = rows[1]
    columns: list[tuple[int, str, int]] = []
    for index, label in enumerate(header[1:], start=1):
        text = _text(label)
        if not text:
            continue
        match = _HEADER_YEAR.match(text)
        if not match:
            raise InputError(
                path,
                _cell(sheet, 2, index + 1),
                "a header ending in a four-digit year ('Antal 2024', '2017–2020')",
                label,
            )
        unit = match.group(1).strip() if anmalda else _ntu_column_unit(text, title)
        if anmalda and not unit:
            raise InputError(path, _cell(sheet, 2, index + 1), "'<enhet> <year>'", label)
        columns.append((index, unit, int(match.group(2))))
    if not columns:
        raise InputError(path, f"sheet '{sheet}', row 2", "year columns in the header row")
    variabel = variable_from_title(title)
    kalla = KALLA_ANMALDA if anmalda else KALLA_NTU
    records: list[dict[str, object]] = []
    for row_number, row in enumerate(rows[2:], start=3):
        geografi = _text(row[0] if row else None)
        if not geografi:
            if any(_text(v) for v in row):
                raise InputError(path, _cell(sheet, row_number, 1), "a region name", None)
            continue
        for index, unit, year in columns:
            raw = row[index] if index < len(row) else None
            value, reason = _value(raw, path, _cell(sheet, row_number, index + 1))
            records.append(
                {
                    "geografi": geografi,
                    "enhet": unit,
                    "ar": year,
                    "variabel": variabel,
                    "varde": value,
                    "kalla": kalla,
                    "missing_reason": reason,
                }
            )
    return records


def _read_year_rows(
    rows: list[tuple[object, ...]], path: Path, sheet: str, title: str, year_rows: list[int]
) -> list[dict[str, object]]:
    """NTU layout with years as rows and one block of columns per region."""
    header_index = year_rows[0] - 1
    if header_index < 2:
        raise InputError(
            path,
            f"sheet '{sheet}', row {header_index + 1}",
            "a region row and a header row above the first year row",
        )
    header = [_text(v) for v in rows[header_index]]
    regions_row = rows[header_index - 1]
    value_columns = [i for i, h in enumerate(header) if i > 0 and h]
    if not value_columns:
        raise InputError(path, f"sheet '{sheet}', row {header_index + 1}", "column headers")
    upper = [i for i in value_columns if "övre" in header[i].casefold()]
    block = (upper[0] - value_columns[0] + 1) if upper else 1
    variabel = variable_from_title(title)
    records: list[dict[str, object]] = []
    for position, column in enumerate(value_columns):
        start = value_columns[position - position % block]
        region = _text(regions_row[start] if start < len(regions_row) else None)
        if not region:
            raise InputError(
                path,
                _cell(sheet, header_index, start + 1),
                "a region name above each block of columns",
                None,
            )
        unit = _ntu_column_unit(header[column], title)
        for row_index in year_rows:
            row = rows[row_index]
            raw = row[column] if column < len(row) else None
            value, reason = _value(raw, path, _cell(sheet, row_index + 1, column + 1))
            records.append(
                {
                    "geografi": region,
                    "enhet": unit,
                    "ar": int(_text(row[0])),
                    "variabel": variabel,
                    "varde": value,
                    "kalla": KALLA_NTU,
                    "missing_reason": reason,
                }
            )
    return records


def read_lagesbild_sheet(
    rows: list[tuple[object, ...]], path: Path, sheet: str
) -> list[dict[str, object]]:
    """Parse one sheet's cell values (rows of tuples, as openpyxl gives them) to long records."""
    if not rows or not any(_text(v) for row in rows for v in row):
        return []
    title = _text(rows[0][0] if rows[0] else None)
    if not title:
        raise InputError(path, f"sheet '{sheet}', cell A1", "the indicator title", None)
    anmalda = "anmälda" in sheet.casefold() or "(anmälda brott)" in title
    if anmalda:
        return _read_wide(rows, path, sheet, title, anmalda=True)
    year_rows = [
        i for i, row in enumerate(rows) if i >= 2 and row and _YEAR_CELL.match(_text(row[0]))
    ]
    if year_rows:
        return _read_year_rows(rows, path, sheet, title, year_rows)
    return _read_wide(rows, path, sheet, title, anmalda=False)


def read_lagesbild_workbook(path: Path) -> pd.DataFrame:
    """Read one Brå lägesbild workbook to the snapshot's long format plus `missing_reason`.

    Columns: geografi (str), enhet (str), ar (int), variabel (str), varde (float, NaN when
    missing), kalla (str), missing_reason (str, "" when present). See the module docstring for
    the layout this assumes.
    """
    path = Path(path)
    workbook = workbooks.open_workbook(path)  # bounded, and refused if it holds personal data
    records: list[dict[str, object]] = []
    try:
        for sheet in workbook.worksheets:
            rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
            records.extend(read_lagesbild_sheet(rows, path, sheet.title))
    finally:
        workbook.close()
    if not records:
        raise InputError(path, None, "at least one indicator sheet with data", "no data")
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    duplicated = frame.duplicated(["geografi", "enhet", "ar", "variabel"], keep=False)
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        raise InputError(
            path,
            f"indicator '{first['variabel']}'",
            "one value per region, unit and year",
            f"{first['geografi']} {first['enhet']} {first['ar']} twice",
        )
    frame["ar"] = frame["ar"].astype(int)
    frame["varde"] = frame["varde"].astype(float)
    return frame
