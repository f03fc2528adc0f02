"""Tests for the survey-results template reader (SYNTHETIC values typed into the template)."""

from __future__ import annotations

import math

import pytest

from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.surveys import OUTPUT_COLUMNS, read_survey_workbook
from medlofte_analysis.templates_excel import survey_template

# kommunkod, år, källa, indikator_id, fråga, grupp, andel, n, ki_undre, ki_ovre, kommentar
GOOD = [
    "0330",
    2024,
    "Liv & hälsa ung",
    "otrygg_ute",
    "Känner dig otrygg ute?",
    "åk 9",
    "12,5",
    300,
    9,
    16,
    "syntetiskt testvärde",
]


def _row(**changes):
    names = [
        "kommunkod",
        "år",
        "källa",
        "indikator_id",
        "fråga",
        "grupp",
        "andel_procent",
        "antal_svarande",
        "ki_undre",
        "ki_ovre",
        "kommentar",
    ]
    values = dict(zip(names, GOOD, strict=True))
    values.update(changes)
    return [values[name] for name in names]


def test_reads_a_filled_template(fill_template):
    frame = read_survey_workbook(fill_template(survey_template(), "Resultat", [_row()]))
    assert tuple(frame.columns) == OUTPUT_COLUMNS
    row = frame.iloc[0]
    assert (row["municipality_code"], row["year"], row["share_percent"]) == ("0330", 2024, 12.5)
    assert (row["n_respondents"], row["ci_lower"], row["ci_upper"]) == (300, 9, 16)


def test_numeric_code_is_left_padded(fill_template):
    frame = read_survey_workbook(
        fill_template(survey_template(), "Resultat", [_row(kommunkod=330)])
    )
    assert frame["municipality_code"].item() == "0330"


def test_missing_share_is_nan_with_reason(fill_template):
    path = fill_template(
        survey_template(), "Resultat", [_row(andel_procent="..", ki_undre=None, ki_ovre=None)]
    )
    frame = read_survey_workbook(path)
    assert math.isnan(frame["share_percent"].item()) and "'..'" in frame["missing_reason"].item()


def test_blank_rows_are_skipped(fill_template):
    path = fill_template(survey_template(), "Resultat", [_row(), [None] * 11, _row(grupp="åk 7")])
    assert len(read_survey_workbook(path)) == 2


def test_empty_template_reads_as_empty_table(tmp_path):
    path = tmp_path / "mall.xlsx"
    path.write_bytes(survey_template())
    assert read_survey_workbook(path).empty


@pytest.mark.parametrize(
    ("change", "cell"),
    [
        ({"andel_procent": 101}, "Resultat!G2"),
        ({"andel_procent": -1}, "Resultat!G2"),
        ({"ki_undre": 13}, "Resultat!I2"),
        ({"ki_ovre": 12}, "Resultat!J2"),
        ({"antal_svarande": 0}, "Resultat!H2"),
        ({"antal_svarande": 12.5}, "Resultat!H2"),
        ({"källa": "Enkät X"}, "Resultat!C2"),
        ({"kommunkod": "330"}, "Resultat!A2"),
        ({"kommunkod": "Knivsta"}, "Resultat!A2"),
        ({"år": "tjugo"}, "Resultat!B2"),
        ({"grupp": None}, "Resultat!F2"),
        ({"andel_procent": "mycket"}, "Resultat!G2"),
    ],
)
def test_bad_cell_raises_naming_sheet_and_cell(fill_template, change, cell):
    path = fill_template(survey_template(), "Resultat", [_row(**change)])
    with pytest.raises(InputError, match=rf"filled\.xlsx: {cell}"):
        read_survey_workbook(path)


def test_duplicate_key_names_both_rows(fill_template):
    path = fill_template(survey_template(), "Resultat", [_row(), _row(andel_procent=13)])
    with pytest.raises(InputError, match=r"Resultat!A3.*same as row 2"):
        read_survey_workbook(path)


def test_renamed_column_raises(write_xlsx):
    path = write_xlsx("x.xlsx", {"Resultat": [["kommun", "år"]]})
    with pytest.raises(InputError, match=r"Resultat!A1.*'kommun'"):
        read_survey_workbook(path)


def test_missing_sheet_raises(write_xlsx):
    with pytest.raises(InputError, match="a sheet named 'Resultat'"):
        read_survey_workbook(write_xlsx("x.xlsx", {"Blad1": [["a"]]}))
