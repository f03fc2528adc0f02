"""Tests for the activity-log reader (SYNTHETIC activities typed into the template)."""

from __future__ import annotations

import math

import pytest

from medlofte_analysis.errors import InputError, PersonalDataError
from medlofte_analysis.sources.activities import OUTPUT_COLUMNS, read_activity_workbook
from medlofte_analysis.templates_excel import activity_template

# kommunkod, år, fokusområde, aktivitet, planerad, genomförd, antal, enhet, kommentar
GOOD = [
    "0330",
    2024,
    "narvaro",
    "Hastighetskontroll vid skola",
    "ja",
    "delvis",
    3,
    "kontroller",
    "syntetiskt testvärde",
]


def _row(**changes):
    names = [
        "kommunkod",
        "år",
        "fokusområde",
        "aktivitet",
        "planerad",
        "genomförd",
        "antal",
        "enhet",
        "kommentar",
    ]
    values = dict(zip(names, GOOD, strict=True))
    values.update(changes)
    return [values[name] for name in names]


def test_reads_a_filled_template(fill_template):
    frame = read_activity_workbook(fill_template(activity_template(), "Aktiviteter", [_row()]))
    assert tuple(frame.columns) == OUTPUT_COLUMNS
    row = frame.iloc[0]
    assert (row["municipality_code"], row["focus_area"], row["planned"]) == (
        "0330",
        "narvaro",
        True,
    )
    assert (row["carried_out"], row["amount"], row["unit"]) == ("delvis", 3.0, "kontroller")


def test_blank_amount_is_missing_not_zero(fill_template):
    path = fill_template(activity_template(), "Aktiviteter", [_row(antal=None, enhet=None)])
    frame = read_activity_workbook(path)
    assert (
        math.isnan(frame["amount"].item()) and frame["missing_reason"].item() == "blank in source"
    )


@pytest.mark.parametrize(
    ("change", "cell"),
    [
        ({"fokusområde": "trafik"}, "Aktiviteter!C2"),
        ({"planerad": "kanske"}, "Aktiviteter!E2"),
        ({"genomförd": "klart"}, "Aktiviteter!F2"),
        ({"antal": -2}, "Aktiviteter!G2"),
        ({"enhet": None}, "Aktiviteter!H2"),
        ({"kommunkod": "33"}, "Aktiviteter!A2"),
    ],
)
def test_bad_cell_raises_naming_sheet_and_cell(fill_template, change, cell):
    path = fill_template(activity_template(), "Aktiviteter", [_row(**change)])
    with pytest.raises(InputError, match=rf"filled\.xlsx: {cell}"):
        read_activity_workbook(path)


def test_personal_identity_number_is_refused_and_masked(fill_template):
    # Skatteverket's test number; every other form and place is tested in tests/test_workbooks.py
    path = fill_template(activity_template(), "Aktiviteter", [_row(kommentar="gäller 121212-1212")])
    with pytest.raises(PersonalDataError, match=r"Aktiviteter cell I2: ett personnummer") as caught:
        read_activity_workbook(path)
    assert "121212-****" in str(caught.value)
