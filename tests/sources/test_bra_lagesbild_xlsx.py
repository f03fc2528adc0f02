"""Tests for the Brå lägesbild workbook loader (fixtures generated in tmp_path)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.bra_lagesbild_xlsx import (
    COLUMNS,
    KALLA_ANMALDA,
    KALLA_NTU,
    read_lagesbild_workbook,
)

SNAPSHOT = (
    RAW_DIR / "bra_kommunindikatorer_region_dalarna" / "bra_kommunindikatorer_dalarna_riket.csv"
)
ANMALDA_TITLE = "Narkotikabrott (anmälda brott) i kommunen, länet och hela landet"
NTU_UNIT = "Andel (%) i befolkningen (16–84 år) som känner sig ganska/mycket otrygga."
NTU_TITLE = (
    "Otrygghet vid utevistelse sent på kvällen i det egna bostadsområdet, enligt NTU 2017–2024. "
    + NTU_UNIT
)

# SYNTHETIC numbers, layout of Brå's workbook.
ANMALDA_SHEET = [
    [ANMALDA_TITLE],
    [
        "Region",
        "Antal 2023",
        "Antal 2024",
        "Antal per 100 000 inv 2023",
        "Antal per 100 000 inv 2024",
    ],
    ["Testkommun", 10, "..", 50.5, None],
    ["Testlän", 200, 210, 60, 61],
    ["Hela landet", "1 000", "1\u00a0100", "70,5", 71],
]
NTU_PERIOD_SHEET = [
    [NTU_TITLE],
    [
        "Region",
        "2017–2020",
        "KI (95 %) undre gräns 2017–2020",
        "KI (95 %) övre gräns 2017–2020",
        "Antal svarande 2017–2020",
        "2021–2024",
        "KI (95 %) undre gräns 2021–2024",
        "KI (95 %) övre gräns 2021–2024",
        "Antal svarande 2021–2024",
    ],
    ["Testkommun", 30, 25, 35, 400, "..", "..", "..", 90],
    ["Hela landet", 28, 27, 29, 70000, 27, 26, 28, 60000],
]


def _value(frame: pd.DataFrame, geografi: str, enhet: str, ar: int, variabel: str) -> pd.Series:
    rows = frame.loc[
        (frame["geografi"] == geografi)
        & (frame["enhet"] == enhet)
        & (frame["ar"] == ar)
        & (frame["variabel"] == variabel)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture
def two_sheet_frame(write_xlsx):
    path = write_xlsx(
        "Testkommun.xlsx",
        {"Narkotikabrott (anmälda)": ANMALDA_SHEET, "Otrygghet (NTU)": NTU_PERIOD_SHEET},
    )
    return read_lagesbild_workbook(path)


def test_columns_are_the_snapshot_columns_plus_missing_reason(two_sheet_frame):
    snapshot_columns = list(pd.read_csv(SNAPSHOT, nrows=1).columns)
    assert list(two_sheet_frame.columns) == snapshot_columns + ["missing_reason"]
    assert tuple(two_sheet_frame.columns) == COLUMNS


def test_anmalda_values_units_and_variable(two_sheet_frame):
    row = _value(two_sheet_frame, "Hela landet", "Antal per 100 000 inv", 2023, "Narkotikabrott")
    assert row["varde"] == 70.5
    assert row["kalla"] == KALLA_ANMALDA
    assert _value(two_sheet_frame, "Hela landet", "Antal", 2024, "Narkotikabrott")["varde"] == 1100


def test_suppressed_and_blank_cells_are_missing_with_reason(two_sheet_frame):
    suppressed = _value(two_sheet_frame, "Testkommun", "Antal", 2024, "Narkotikabrott")
    blank = _value(two_sheet_frame, "Testkommun", "Antal per 100 000 inv", 2024, "Narkotikabrott")
    assert math.isnan(suppressed["varde"]) and "'..'" in suppressed["missing_reason"]
    assert math.isnan(blank["varde"]) and blank["missing_reason"] == "blank in source"


def test_ntu_period_columns_give_last_year_unit_and_intervals(two_sheet_frame):
    variabel = "Otrygghet vid utevistelse sent på kvällen i det egna bostadsområdet"
    share = _value(two_sheet_frame, "Testkommun", NTU_UNIT, 2020, variabel)
    lower = _value(two_sheet_frame, "Testkommun", "KI (95 %) undre gräns", 2020, variabel)
    upper = _value(two_sheet_frame, "Testkommun", "KI (95 %) övre gräns", 2020, variabel)
    n = _value(two_sheet_frame, "Testkommun", "Antal svarande", 2024, variabel)
    assert (share["varde"], lower["varde"], upper["varde"], n["varde"]) == (30, 25, 35, 90)
    assert share["kalla"] == KALLA_NTU


def test_ntu_year_rows_layout(write_xlsx):
    sheet = [
        [NTU_TITLE],
        [None, "Testkommun", None, None, "Hela landet", None, None],
        [
            "År",
            "Andel (%)",
            "KI (95 %) undre gräns",
            "KI (95 %) övre gräns",
            "Andel (%)",
            "KI (95 %) undre gräns",
            "KI (95 %) övre gräns",
        ],
        ["2023", 31, 26, 36, 27, 26, 28],
        ["2024", "..", "..", "..", 26, 25, 27],
    ]
    frame = read_lagesbild_workbook(write_xlsx("k.xlsx", {"Otrygghet": sheet}))
    variabel = "Otrygghet vid utevistelse sent på kvällen i det egna bostadsområdet"
    assert _value(frame, "Hela landet", "KI (95 %) övre gräns", 2024, variabel)["varde"] == 27
    assert math.isnan(_value(frame, "Testkommun", NTU_UNIT, 2024, variabel)["varde"])
    assert len(frame) == 12


def _snapshot_rows(geografi: str, variabel: str) -> pd.DataFrame:
    snapshot = pd.read_csv(SNAPSHOT, dtype={"enhet": str}, keep_default_na=False)
    rows = snapshot.loc[(snapshot["geografi"] == geografi) & (snapshot["variabel"] == variabel)]
    return rows.astype({"ar": int, "varde": float}).reset_index(drop=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["geografi", "enhet", "ar", "variabel", "varde", "kalla"]
    return frame[columns].sort_values(["enhet", "ar"], ignore_index=True)


def test_round_trip_of_real_anmalda_rows(write_xlsx):
    # Real rows copied from the committed Brå snapshot (Avesta, Narkotikabrott, 16 rows).
    real = _snapshot_rows("Avesta", "Narkotikabrott")
    headers = [f"{e} {a}" for e, a in zip(real["enhet"], real["ar"], strict=True)]
    sheet = [[ANMALDA_TITLE], ["Region", *headers], ["Avesta", *real["varde"].tolist()]]
    frame = read_lagesbild_workbook(write_xlsx("Avesta.xlsx", {"Narkotikabrott (anmälda)": sheet}))
    pd.testing.assert_frame_equal(_sorted(frame), _sorted(real), check_dtype=False)


def test_round_trip_of_real_ntu_rows(write_xlsx):
    # Real rows copied from the committed Brå snapshot (Avesta, otrygghet sen kväll, 27 rows).
    variabel = "Otrygghet vid utevistelse sent på kvällen i det egna bostadsområdet"
    real = _snapshot_rows("Avesta", variabel)
    unit = next(e for e in real["enhet"] if not e.startswith("KI"))
    title = f"{variabel}, enligt NTU 2017–2025. {unit}"
    years = sorted(real["ar"].unique())
    sheet = [
        [title],
        [None, "Avesta", None, None],
        ["År", "Andel (%)", "KI (95 %) undre gräns", "KI (95 %) övre gräns"],
    ]
    for year in years:
        by_unit = real.loc[real["ar"] == year].set_index("enhet")["varde"]
        sheet.append(
            [
                str(year),
                by_unit[unit],
                by_unit["KI (95 %) undre gräns"],
                by_unit["KI (95 %) övre gräns"],
            ]
        )
    frame = read_lagesbild_workbook(write_xlsx("Avesta.xlsx", {"Otrygghet": sheet}))
    pd.testing.assert_frame_equal(_sorted(frame), _sorted(real), check_dtype=False)


@pytest.mark.parametrize(
    ("sheet", "location"),
    [
        ([[None], ["Region", "Antal 2024"], ["X", 1]], "cell A1"),
        ([[ANMALDA_TITLE], ["Region", "Antal"], ["X", 1]], "cell B2"),
        ([[ANMALDA_TITLE], ["Region", "Antal 2024"], ["X", "tio"]], "cell B3"),
        ([[ANMALDA_TITLE], ["Region", "Antal 2024"], [None, 4]], "cell A3"),
        ([[ANMALDA_TITLE], ["Region", "Antal 2024"]], "row 3"),
    ],
)
def test_bad_sheet_raises_naming_sheet_and_cell(write_xlsx, sheet, location):
    path = write_xlsx("bad.xlsx", {"Narkotikabrott (anmälda)": sheet})
    with pytest.raises(InputError, match=rf"bad\.xlsx.*Narkotikabrott \(anmälda\).*{location}"):
        read_lagesbild_workbook(path)


def test_not_a_workbook_raises(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("Kommun;Antal\n", encoding="utf-8")
    with pytest.raises(InputError, match="ingen Excelarbetsbok"):
        read_lagesbild_workbook(path)
