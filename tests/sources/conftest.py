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


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch):
    """The local Kolada/SCB stand-in on 127.0.0.1 (see replay.py), with the base addresses
    pointed at it through the environment variables fetch reads."""
    from replay import ReplayServer

    with ReplayServer() as server:
        monkeypatch.setenv("MEDLOFTE_KOLADA_URL", server.kolada_url)
        monkeypatch.setenv("MEDLOFTE_SCB_URL", server.scb_url)
        yield server


@pytest.fixture
def client():
    """An HTTP client with tiny backoffs and timeouts, so fault tests stay fast."""
    from medlofte_analysis.fetch import HttpClient, HttpSettings

    return HttpClient(
        HttpSettings(
            connect_timeout=1.0,
            read_timeout=0.5,
            deadline=5.0,
            retries=2,
            backoff_factor=0.01,
            backoff_max=0.05,
            max_retry_after=1.0,
            scb_min_interval=0.0,
            progress=False,
        )
    )


@pytest.fixture
def empty_raw(tmp_path: Path) -> Path:
    """A raw folder with only the headers of manifest.csv and sources.csv."""
    from medlofte_analysis.manifest import MANIFEST_FIELDS, SOURCE_FIELDS

    raw = tmp_path / "raw"
    raw.mkdir()
    for name, fields in (("manifest.csv", MANIFEST_FIELDS), ("sources.csv", SOURCE_FIELDS)):
        (raw / name).write_text(",".join(fields) + "\n", encoding="utf-8")
    return raw
