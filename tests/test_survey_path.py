"""A filled-in survey template flows from data/raw into the table and into the evaluation.

Every figure below is SYNTHETIC (made up for the test), typed into the real template.
"""

import shutil

import pytest
from openpyxl import load_workbook

from medlofte_analysis.build import build_tables
from medlofte_analysis.config import TEMPLATES_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.evaluate import Inputs, evaluate, load_inputs
from medlofte_analysis.evaluation_config import Comparison, EvaluationConfig
from medlofte_analysis.fetch import register_survey_workbook
from medlofte_analysis.stats.proportions import newcombe_difference

NOW = "2026-05-01T12:00:00Z"


def _filled(tmp_path, rows):
    path = tmp_path / "enkater-knivsta.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "enkatresultat_mall.xlsx", path)
    workbook = load_workbook(path)
    sheet = workbook["Resultat"]
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    workbook.save(path)
    return path


ROWS = [
    [
        "0330",
        2022,
        "Liv & hälsa ung",
        "lhu_narkotika_ak9",
        "Använt narkotika",
        "åk 9",
        6.0,
        400,
        None,
        None,
        "syntetiskt testvärde",
    ],
    [
        "0330",
        2025,
        "Liv & hälsa ung",
        "lhu_narkotika_ak9",
        "Använt narkotika",
        "åk 9",
        4.0,
        380,
        None,
        None,
        "syntetiskt testvärde",
    ],
]


def test_a_registered_survey_workbook_enters_the_table_as_transcribed(tmp_path, shipped_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    register_survey_workbook(
        _filled(tmp_path, ROWS), raw, origin="Liv & hälsa ung 2022, 2025", now=NOW
    )
    table = build_tables(raw).indicators
    rows = table.loc[table["indicator_id"] == "lhu_narkotika_ak9"]
    assert rows[["year", "value", "n_respondents"]].values.tolist() == [
        [2022, 6.0, 400.0],
        [2025, 4.0, 380.0],
    ]
    assert set(rows["quality"]) == {"transcribed"}


def test_an_indicator_id_outside_the_catalog_is_refused_naming_the_row(tmp_path, shipped_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    bad = [ROWS[0][:3] + ["lhu_okand"] + ROWS[0][4:]]
    # Refused by fetch itself (issue 12: nothing the build would refuse enters data/raw).
    with pytest.raises(InputError, match=r"data row 1 .*column indikator_id.*lhu_okand"):
        register_survey_workbook(_filled(tmp_path, bad), raw, origin="test", now=NOW)
    assert not (raw / "enkater").exists()


def test_shares_without_interval_are_compared_with_newcombe_from_respondents(
    tmp_path, shipped_raw_dir, shipped_processed_dir
):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    register_survey_workbook(_filled(tmp_path, ROWS), raw, origin="test", now=NOW)
    shipped = load_inputs(shipped_processed_dir)
    inputs = Inputs(
        build_tables(raw).indicators, shipped.catalog, shipped.groups, shipped.municipalities
    )
    config = EvaluationConfig(
        id="t",
        title="t",
        municipality="0330",
        kind="evaluation",
        baseline_years=(2022,),
        followup_years=(2024, 2025),
        pre_period=(2017, 2022),
        focus_areas={"narkotika": ("lhu_narkotika_ak9",)},
        primary=(),
        comparison=Comparison(county="0003"),
    )
    row = evaluate(config, inputs).iloc[0]
    reference = newcombe_difference(0.04, 380, 0.06, 400)
    assert row["estimate"] == pytest.approx(-2.0)
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx(
        (reference.ci_lower * 100, reference.ci_upper * 100)
    )
    assert "Newcombe" in row["interval_kind"]
