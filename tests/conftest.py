"""Shared fixtures for the tests at this level."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# SYNTHETIC activity log rows (not real activities), typed into the real template.
ACTIVITY_ROWS: list[list] = [
    ["0330", 2024, "narvaro", "Hastighetskontroll vid skola", "ja", "ja", 12, "kontroller", ""],
    ["0330", 2024, "narvaro", "Skolbesök", "ja", "delvis", 3, "skolbesök", ""],
    ["0330", 2025, "narkotika", "Samverkansmöte", "ja", "nej", None, "", ""],
]


@pytest.fixture
def activity_log_dir(tmp_path: Path) -> Path:
    """A folder holding aktivitetslogg.xlsx filled with the SYNTHETIC `ACTIVITY_ROWS`."""
    from openpyxl import load_workbook

    from medlofte_analysis.config import TEMPLATES_DIR

    path = tmp_path / "aktivitetslogg.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "aktivitetslogg_mall.xlsx", path)
    book = load_workbook(path)
    for number, row in enumerate(ACTIVITY_ROWS, start=2):
        for column, value in enumerate(row, start=1):
            book["Aktiviteter"].cell(row=number, column=column, value=value)
    book.save(path)
    return tmp_path
