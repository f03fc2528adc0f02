"""Fixture factories for the source-loader tests.

Every fixture file is generated here, in tmp_path, in the real published layout. All numbers in
these fixtures are SYNTHETIC (made up for tests) unless a test copies rows of a committed raw
snapshot, which it says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.municipalities import load_kolada_municipalities, name_lookup

XlsxWriter = Callable[[str, dict[str, list[list[object]]]], Path]


@pytest.fixture(scope="session")
def lookup() -> dict[str, str]:
    """Name → code lookup built from the committed Kolada municipality list."""
    municipalities = load_kolada_municipalities(
        RAW_DIR / "kolada_rkolada_sysdata" / "kolada_municipalities.csv"
    )
    return name_lookup(municipalities)


@pytest.fixture
def write_xlsx(tmp_path: Path) -> XlsxWriter:
    """Return a function writing {sheet name: rows} to tmp_path/<name> (row 1 first)."""

    def write(name: str, sheets: dict[str, list[list[object]]]) -> Path:
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for title, rows in sheets.items():
            sheet = workbook.create_sheet(title)
            for row in rows:
                sheet.append(row)
        path = tmp_path / name
        workbook.save(path)
        return path

    return write


TemplateFiller = Callable[[bytes, str, list[list[object]]], Path]


@pytest.fixture
def fill_template(tmp_path: Path) -> TemplateFiller:
    """Return a function that writes rows (from row 2) into a sheet of template bytes."""

    def fill(template: bytes, sheet_name: str, rows: list[list[object]]) -> Path:
        path = tmp_path / "filled.xlsx"
        path.write_bytes(template)
        workbook = openpyxl.load_workbook(path)
        sheet = workbook[sheet_name]
        for row_number, row in enumerate(rows, start=2):
            for column, value in enumerate(row, start=1):
                sheet.cell(row=row_number, column=column, value=value)
        workbook.save(path)
        return path

    return fill
