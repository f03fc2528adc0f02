"""Tests for the Excel template writer."""

from __future__ import annotations

import io

import openpyxl

from medlofte_analysis.config import TEMPLATES_DIR
from medlofte_analysis.sources.activities import ACTIVITY_COLUMNS
from medlofte_analysis.sources.surveys import SURVEY_COLUMNS
from medlofte_analysis.templates_excel import (
    ACTIVITY_TEMPLATE,
    SURVEY_TEMPLATE,
    activity_template,
    survey_template,
    write_templates,
)


def test_templates_are_byte_for_byte_reproducible():
    assert survey_template() == survey_template()
    assert activity_template() == activity_template()


def test_committed_templates_match_the_generator():
    assert (TEMPLATES_DIR / SURVEY_TEMPLATE).read_bytes() == survey_template()
    assert (TEMPLATES_DIR / ACTIVITY_TEMPLATE).read_bytes() == activity_template()


def test_survey_template_has_header_only_and_instructions():
    workbook = openpyxl.load_workbook(io.BytesIO(survey_template()))
    assert workbook.sheetnames == ["Resultat", "Instruktioner"]
    sheet = workbook["Resultat"]
    assert [cell.value for cell in sheet[1]] == list(SURVEY_COLUMNS)
    assert all(cell.value is None for row in sheet.iter_rows(min_row=2) for cell in row)
    explained = [row[0] for row in workbook["Instruktioner"].iter_rows(min_row=2, values_only=True)]
    assert set(SURVEY_COLUMNS) <= set(explained) and "Exempel" in explained


def test_activity_template_has_header_only_and_instructions():
    workbook = openpyxl.load_workbook(io.BytesIO(activity_template()))
    assert workbook.sheetnames == ["Aktiviteter", "Instruktioner"]
    assert [cell.value for cell in workbook["Aktiviteter"][1]] == list(ACTIVITY_COLUMNS)


def test_write_templates_writes_both(tmp_path):
    paths = write_templates(tmp_path)
    assert sorted(p.name for p in paths) == sorted([SURVEY_TEMPLATE, ACTIVITY_TEMPLATE])
