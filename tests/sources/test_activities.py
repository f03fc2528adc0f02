"""Tests for the activity-log reader (SYNTHETIC activities typed into the template)."""

from __future__ import annotations

import math

import pytest

from medlofte_analysis.errors import InputError, PersonalDataError
from medlofte_analysis.sources.activities import (
    ACTIVITY_COLUMNS,
    OUTPUT_COLUMNS,
    read_activity_workbook,
)
from medlofte_analysis.templates_excel import activity_template

# kommunkod, år, fokusområde, aktivitetstyp, aktivitet, ansvarig, planerad_tid, status, antal,
# enhet, kommentar. SYNTHETIC test data.
NAMES = list(ACTIVITY_COLUMNS)
GOOD = [
    "0330",
    2024,
    "narvaro",
    "trafikkontroll – hastighet",
    "Hastighetskontroll vid skola",
    "polis",
    "kv2",
    "delvis",
    3,
    "kontroller",
    "syntetiskt testvärde",
]


def _row(**changes):
    values = dict(zip(NAMES, GOOD, strict=True))
    values.update(changes)
    return [values[name] for name in NAMES]


def test_reads_a_filled_template(fill_template):
    frame = read_activity_workbook(fill_template(activity_template(), "Aktiviteter", [_row()]))
    assert tuple(frame.columns) == OUTPUT_COLUMNS
    row = frame.iloc[0]
    assert (row["municipality_code"], row["focus_area"], row["responsible"]) == (
        "0330",
        "narvaro",
        "polis",
    )
    assert (row["activity_type"], row["first_month"], row["last_month"]) == (
        "trafikkontroll – hastighet",
        4,
        6,
    )
    assert (row["status"], row["amount"], row["unit"], row["planned"]) == (
        "delvis",
        3.0,
        "kontroller",
        True,
    )


@pytest.mark.parametrize(
    ("written", "months"),
    [(None, (1, 12)), (3, (3, 3)), ("mars", (3, 3)), ("okt", (10, 10)), ("KV 4", (10, 12))],
)
def test_planned_month_or_quarter(fill_template, written, months):
    path = fill_template(activity_template(), "Aktiviteter", [_row(planerad_tid=written)])
    frame = read_activity_workbook(path)
    assert (frame["first_month"].item(), frame["last_month"].item()) == months


def test_a_hyphen_is_read_as_the_lists_en_dash(fill_template):
    path = fill_template(
        activity_template(), "Aktiviteter", [_row(aktivitetstyp="Trafikkontroll - nykterhet")]
    )
    assert read_activity_workbook(path)["activity_type"].item() == "trafikkontroll – nykterhet"


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
        ({"aktivitetstyp": "fika"}, "Aktiviteter!D2"),
        ({"ansvarig": "skolan"}, "Aktiviteter!F2"),
        ({"planerad_tid": "kv5"}, "Aktiviteter!G2"),
        ({"status": "klart"}, "Aktiviteter!H2"),
        ({"antal": -2}, "Aktiviteter!I2"),
        ({"enhet": None}, "Aktiviteter!J2"),
        ({"kommunkod": "33"}, "Aktiviteter!A2"),
    ],
)
def test_bad_cell_raises_naming_sheet_and_cell(fill_template, change, cell):
    path = fill_template(activity_template(), "Aktiviteter", [_row(**change)])
    with pytest.raises(InputError, match=rf"filled\.xlsx: {cell}"):
        read_activity_workbook(path)


def test_a_log_on_the_first_template_keeps_loading(write_xlsx):
    # SYNTHETIC log in the first template's columns (before type, party, period and status).
    legacy = [
        ["kommunkod", "år", "fokusområde", "aktivitet", "planerad", "genomförd", "antal"]
        + ["enhet", "kommentar"],
        ["0330", 2024, "narvaro", "Skolbesök", "ja", "ja", 12, "skolbesök", ""],
        ["0330", 2024, "narkotika", "Samverkansmöte", "ja", "", None, "", ""],
        ["0330", 2025, "unga", "Extra insats", "nej", "delvis", None, "", ""],
    ]
    frame = read_activity_workbook(write_xlsx("gammal.xlsx", {"Aktiviteter": legacy}))
    assert frame["status"].tolist() == ["genomförd", "planerad", "delvis"]
    assert frame["planned"].tolist() == [True, True, False]
    assert set(frame["activity_type"]) == {""} and set(frame["responsible"]) == {""}
    assert (frame["first_month"].tolist(), frame["last_month"].tolist()) == ([1] * 3, [12] * 3)


def test_personal_identity_number_is_refused_and_masked(fill_template):
    # Skatteverket's test number; every other form and place is tested in tests/test_workbooks.py
    path = fill_template(activity_template(), "Aktiviteter", [_row(kommentar="gäller 121212-1212")])
    with pytest.raises(PersonalDataError, match=r"Aktiviteter cell K2: ett personnummer") as caught:
        read_activity_workbook(path)
    assert "121212-****" in str(caught.value)
