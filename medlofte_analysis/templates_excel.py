"""Write the Excel templates analysts fill in: survey results and the activity log (årshjul).

`templates/enkatresultat_mall.xlsx` (read by `sources.surveys.read_survey_workbook`) and
`templates/aktivitetslogg_mall.xlsx` (read by `sources.activities.read_activity_workbook`).
Each has the data sheet with the header row only (no values are pre-filled: the project never
ships invented figures) and an "Instruktioner" sheet in Swedish. The files are byte-for-byte
reproducible: fixed document properties and fixed zip entry timestamps.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from medlofte_analysis.config import TEMPLATES_DIR
from medlofte_analysis.sources.activities import (
    ACTIVITY_COLUMNS,
    ACTIVITY_SHEET,
    ACTIVITY_TYPES,
    FOCUS_AREAS,
    RESPONSIBLE,
    STATUSES,
)
from medlofte_analysis.sources.surveys import SURVEY_COLUMNS, SURVEY_SHEET, SURVEY_SOURCES

SURVEY_TEMPLATE: str = "enkatresultat_mall.xlsx"
ACTIVITY_TEMPLATE: str = "aktivitetslogg_mall.xlsx"
FIXED_TIME: datetime.datetime = datetime.datetime(2024, 1, 1, 0, 0, 0)
TEMPLATE_ROWS: int = 500
EXAMPLE_NOTE: str = (
    "Mallen innehåller inga förifyllda värden. Skriv bara in siffror som finns i en publicerad "
    "rapport eller i er egen uppföljning, och ange källan i kolumnen kommentar."
)
SURVEY_INTRO: str = (
    "Enkätresultat för utvärdering av medborgarlöftet. En rad per resultat (kommun, år, källa, "
    "indikator och grupp). Källor: Polisens trygghetsmätning, Liv & hälsa ung (Region Uppsala), "
    "NTU (Brå)."
)
ACTIVITY_INTRO: str = (
    "Aktivitetslogg (årshjul) för medborgarlöftet: en rad per planerad aktivitet, med när den "
    "är planerad, vem som ansvarar och om den genomförts. Spara den ifyllda loggen som "
    "data/manual/aktivitetslogg_<kommunkod>_<första år>-<sista år>.xlsx, t.ex. "
    "aktivitetslogg_0330_2024-2025.xlsx. Filen får INTE innehålla personuppgifter: inga namn, "
    "personnummer, e-postadresser eller telefonnummer, inte heller i kommentarer, dolda blad "
    "eller dokumentegenskaper. En sådan fil läses inte in."
)


def _data_sheet(
    workbook: Workbook,
    title: str,
    columns: dict[str, str],
    lists: dict[str, tuple[str, ...]],
) -> None:
    sheet = workbook.active
    sheet.title = title
    for index, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=name)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(name) + 4)
    code_letter = get_column_letter(list(columns).index("kommunkod") + 1)
    for row in range(2, TEMPLATE_ROWS + 2):
        sheet[f"{code_letter}{row}"].number_format = "@"
    for name, allowed in lists.items():
        letter = get_column_letter(list(columns).index(name) + 1)
        validation = DataValidation(
            type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True
        )
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def _instructions_sheet(workbook: Workbook, intro: str, columns: dict[str, str]) -> None:
    sheet = workbook.create_sheet("Instruktioner")
    sheet["A1"] = "Kolumn"
    sheet["B1"] = "Förklaring"
    sheet["A1"].font = Font(bold=True)
    sheet["B1"].font = Font(bold=True)
    for row, (name, explanation) in enumerate(columns.items(), start=2):
        sheet.cell(row=row, column=1, value=name)
        sheet.cell(row=row, column=2, value=explanation).alignment = Alignment(wrap_text=True)
    last = len(columns) + 3
    sheet.cell(row=last, column=1, value="Om mallen").font = Font(bold=True)
    sheet.cell(row=last, column=2, value=intro).alignment = Alignment(wrap_text=True)
    sheet.cell(row=last + 1, column=1, value="Exempel").font = Font(bold=True)
    sheet.cell(row=last + 1, column=2, value=EXAMPLE_NOTE).alignment = Alignment(wrap_text=True)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 100


def deterministic_bytes(workbook: Workbook) -> bytes:
    """Serialise with fixed document properties and zip timestamps."""
    workbook.properties.creator = "medlofte-analysis"
    workbook.properties.lastModifiedBy = None
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            archive.writestr(fixed, source.read(info.filename))
    return output.getvalue()


def survey_template() -> bytes:
    """The survey results template (sheet "Resultat" + "Instruktioner") as .xlsx bytes."""
    workbook = Workbook()
    _data_sheet(workbook, SURVEY_SHEET, SURVEY_COLUMNS, {"källa": SURVEY_SOURCES})
    _instructions_sheet(workbook, SURVEY_INTRO, SURVEY_COLUMNS)
    return deterministic_bytes(workbook)


def activity_template() -> bytes:
    """The activity log template (sheet "Aktiviteter" + "Instruktioner") as .xlsx bytes."""
    workbook = Workbook()
    lists = {
        "fokusområde": FOCUS_AREAS,
        "aktivitetstyp": ACTIVITY_TYPES,
        "ansvarig": RESPONSIBLE,
        "status": STATUSES,
    }
    _data_sheet(workbook, ACTIVITY_SHEET, ACTIVITY_COLUMNS, lists)
    _instructions_sheet(workbook, ACTIVITY_INTRO, ACTIVITY_COLUMNS)
    return deterministic_bytes(workbook)


def write_templates(directory: Path = TEMPLATES_DIR) -> list[Path]:
    """Write both templates into `directory` (created if needed); return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (
        (SURVEY_TEMPLATE, survey_template()),
        (ACTIVITY_TEMPLATE, activity_template()),
    ):
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for written_path in write_templates():
        print(written_path)
