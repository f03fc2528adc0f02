"""The results for Excel: one row per indicator × method, Swedish column names and units.

Two files beside the HTML report, `reports/<id>-resultat.xlsx` and `reports/<id>-resultat.csv`.
The CSV is what Swedish Excel opens with a double click: UTF-8 with a byte-order mark (else
Excel reads it as Windows-1252 and breaks å, ä, ö), semicolon as separator and decimal comma
(Excel's list separator and decimal symbol in the Swedish locale), CRLF line ends (RFC 4180).
The workbook is written with openpyxl and made byte-identical across runs like the Excel
templates (`templates_excel.deterministic_bytes`: fixed document dates and zip timestamps).

The numbers are those of `evaluate`'s results table, unrounded beyond six decimals; the words
(method, verdict, kind, notes) come from the translations the report uses.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from medlofte_analysis.catalog import FOCUS_AREAS
from medlofte_analysis.evaluate import Evaluation
from medlofte_analysis.presentation import DIRECTION_SV, KIND_SV, note_sv
from medlofte_analysis.templates_excel import deterministic_bytes
from medlofte_analysis.verdict import VERDICTS_SV

CSV_SEPARATOR = ";"
CSV_DECIMAL = ","
CSV_ENCODING = "utf-8-sig"  # UTF-8 with BOM
SHEET_NAME = "Resultat"
DECIMALS = 6

# What the two values of a row are, per unit of the indicator and method.
VALUES_SV: dict[tuple[str, str], tuple[str, str]] = {
    ("rate", "fore_efter"): (
        "takt per 100 000 invånare, basperioden",
        "takt per 100 000 invånare, uppföljningen",
    ),
    ("rate", "trend"): (
        "antal händelser under uppföljningen, förväntat enligt trenden",
        "antal händelser under uppföljningen, observerat",
    ),
    ("rate", "diff_i_diff"): (
        "kvot efter/före i kommunen",
        "kvot efter/före i jämförelsegruppen",
    ),
    ("rate", "syntetisk_kontroll"): (
        "takt per 100 000 invånare under uppföljningen, syntetisk kontroll",
        "takt per 100 000 invånare under uppföljningen, kommunen",
    ),
    ("share", "fore_efter"): ("andel i procent, basåret", "andel i procent, uppföljningsåret"),
    ("share", "diff_i_diff"): (
        "förändring i procentenheter, kommunen",
        "förändring i procentenheter, länet",
    ),
}
UNIT_SV: dict[str, str] = {"per 100 000 inv": "per 100 000 invånare", "procent": "procent"}
YES_NO: dict[bool, str] = {True: "ja", False: "nej"}
NUMERIC_COLUMNS: tuple[str, ...] = (
    "Värde 1",
    "Värde 2",
    "Skattning",
    "Nedre gräns",
    "Övre gräns",
    "p-värde",
    "q-värde (Benjamini–Hochberg)",
    "Minsta upptäckbara ökning",
    "Minsta upptäckbara minskning",
)


def _finite(value: float) -> float:
    """The value rounded to `DECIMALS`, or NaN (an empty cell) when infinite or missing."""
    return round(float(value), DECIMALS) if math.isfinite(value) else math.nan


def _values_meaning(unit: str, method: str, which: int) -> str:
    key = ("share" if unit == "procent" else "rate", method)
    return VALUES_SV[key][which] if key in VALUES_SV else ""


def results_export_table(evaluation: Evaluation) -> pd.DataFrame:
    """One row per indicator × method with Swedish column names; numbers as numbers.

    Infinite limits (no events in one period) are left empty; the note says why.
    """
    results = evaluation.results
    units = evaluation.inputs.catalog.set_index("indicator_id")["unit"]
    unit = results["indicator_id"].map(units).fillna("")
    numbers = {
        "Värde 1": results["baseline_value"],
        "Värde 2": results["followup_value"],
        "Skattning": results["estimate"],
        "Nedre gräns": results["ci_lower"],
        "Övre gräns": results["ci_upper"],
        "p-värde": results["p_value"],
        "q-värde (Benjamini–Hochberg)": results["q_value"],
        "Minsta upptäckbara ökning": results["mde_increase"],
        "Minsta upptäckbara minskning": results["mde_decrease"],
    }
    table = pd.DataFrame(
        {
            "Kommun": evaluation.municipality_name,
            "Kommunkod": evaluation.config.municipality,
            "Fokusområde": results["focus_area"].map(FOCUS_AREAS),
            "Indikator": results["name_sv"],
            "Indikator-id": results["indicator_id"],
            "Primärt utfall": results["primary"].map(YES_NO),
            "Typ": results["kind"].map(KIND_SV),
            "Önskad riktning": results["desired_direction"].map(DIRECTION_SV),
            "Enhet": unit.map(lambda u: UNIT_SV.get(u, u)),
            "Metod": results["method_sv"],
            "Nivå på Maryland-skalan": results["msms_level"].astype(int),
            "Huvudresultat för indikatorn": results["headline"].map(YES_NO),
            "Basperiod": results["baseline_label"],
            "Uppföljning": results["followup_label"],
            "Värde 1 avser": [
                _values_meaning(u, m, 0) for u, m in zip(unit, results["method"], strict=True)
            ],
            "Värde 2 avser": [
                _values_meaning(u, m, 1) for u, m in zip(unit, results["method"], strict=True)
            ],
            **{name: column.map(_finite) for name, column in numbers.items()},
            "Skattningens mått": results["estimate_kind"],
            "Intervall": results["interval_kind"],
            "Bedömning": results["verdict"].map(VERDICTS_SV),
            "Bedömning i ord": results["verdict_sv"].map(note_sv),
            "Anmärkning": results["note"].map(note_sv),
        }
    )
    return table.reset_index(drop=True)


def write_results_csv(table: pd.DataFrame, path: Path) -> Path:
    """Semicolon-separated, decimal comma, UTF-8 with BOM, CRLF: Swedish Excel opens it as is."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(
        path,
        sep=CSV_SEPARATOR,
        decimal=CSV_DECIMAL,
        encoding=CSV_ENCODING,
        index=False,
        lineterminator="\r\n",
    )
    return path


def write_results_xlsx(table: pd.DataFrame, path: Path, title: str = "") -> Path:
    """An Excel workbook with one sheet, a bold frozen header and filters; byte-identical."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append(list(table.columns))
    for values in table.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and math.isnan(v) else v for v in values])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        if column in NUMERIC_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0000"
        longest = max([len(str(column))] + [len(str(v)) for v in table[column]])
        sheet.column_dimensions[letter].width = min(max(10, longest + 2), 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    workbook.properties.title = title or "Resultat"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(deterministic_bytes(workbook))
    return path


def write_results(evaluation: Evaluation, reports_dir: Path) -> tuple[Path, Path]:
    """Write `<id>-resultat.xlsx` and `<id>-resultat.csv` into `reports_dir`."""
    table = results_export_table(evaluation)
    stem = Path(reports_dir) / f"{evaluation.config.id}-resultat"
    return (
        write_results_xlsx(table, stem.with_suffix(".xlsx"), evaluation.config.title),
        write_results_csv(table, stem.with_suffix(".csv")),
    )
