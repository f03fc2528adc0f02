"""Surveys as published: waves chosen from what exists, indices compared descriptively.

Every figure below is SYNTHETIC test data (made up for the tests), in the shape of transcribed
survey rows; odd-year waves as Liv & hälsa ung publishes them.
"""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook

from medlofte_analysis.build import build_tables
from medlofte_analysis.config import RAW_DIR, TEMPLATES_DIR
from medlofte_analysis.evaluate import (
    Inputs,
    choose_waves,
    data_gaps,
    evaluate,
    load_inputs,
)
from medlofte_analysis.evaluation_config import Comparison, EvaluationConfig
from medlofte_analysis.fetch import register_survey_workbook

SHIPPED = load_inputs()


def _config(**areas: tuple[str, ...]) -> EvaluationConfig:
    return EvaluationConfig(
        id="t",
        title="t",
        municipality="0330",
        kind="evaluation",
        baseline_years=(2022,),
        followup_years=(2024, 2025),
        pre_period=(2017, 2022),
        focus_areas=areas,
        primary=(),
        comparison=Comparison(county="0003"),
    )


def _inputs(rows: list[tuple]) -> Inputs:
    frame = pd.DataFrame(
        rows,
        columns=["municipality_code", "year", "indicator_id", "value", "n_respondents"],
    ).assign(ci_lower=math.nan, ci_upper=math.nan, count=math.nan, population=math.nan)
    return Inputs(frame, SHIPPED.catalog, SHIPPED.groups, SHIPPED.municipalities)


@pytest.mark.parametrize(
    ("waves", "chosen"),
    [
        ((2019, 2021, 2023, 2025), (2021, 2025)),  # latest at or before the baseline year
        ((2023, 2025), (2023, 2025)),  # first wave after the baseline, before the follow-up
        ((2022, 2026), (2022, 2026)),  # no wave in the follow-up: the nearest after it
        ((2022, 2024, 2025), (2022, 2025)),  # the latest wave in the follow-up
        ((2024, 2025), (None, 2025)),
        ((2018,), (2018, None)),
    ],
)
def test_baseline_and_followup_waves(waves, chosen):
    assert choose_waves(waves, (2022,), (2024, 2025)) == chosen


LHU = [
    ("0330", 2023, "lhu_narkotika_ak9", 6.0, 400),
    ("0330", 2025, "lhu_narkotika_ak9", 4.0, 380),
    ("0003", 2023, "lhu_narkotika_ak9", 7.0, 5000),
    ("0003", 2025, "lhu_narkotika_ak9", 7.5, 5100),
]


def test_odd_year_waves_are_compared_and_named():
    results = evaluate(_config(narkotika=("lhu_narkotika_ak9",)), _inputs(LHU))
    own = results.loc[results["method"] == "fore_efter"].iloc[0]
    assert (own["baseline_label"], own["followup_label"]) == ("2023", "2025")
    assert own["note"].startswith("LHU 2023 → 2025.") and own["estimate"] == pytest.approx(-2.0)
    county = results.loc[results["method"] == "diff_i_diff"].iloc[0]
    assert county["verdict"] != "cannot_judge" and county["followup_value"] == pytest.approx(0.5)


def test_missing_data_lists_only_published_waves():
    gaps = data_gaps(_config(narkotika=("lhu_narkotika_ak9",)), _inputs(LHU[1:]))
    assert gaps[["missing_years", "n_missing"]].values.tolist() == [["2023", 1]]


def test_without_any_wave_the_gap_names_the_waves_the_comparison_needs():
    gaps = data_gaps(_config(narkotika=("lhu_narkotika_ak9",)), _inputs([]))
    assert gaps["missing_years"].item().startswith("våg 2022 eller senast före, och våg 2024–2025")


PTM = [
    ("0330", 2022, "ptm_problemindex", 1.8, math.nan),
    ("0330", 2024, "ptm_problemindex", 1.5, math.nan),
    ("0003", 2022, "ptm_problemindex", 2.0, math.nan),
    ("0003", 2024, "ptm_problemindex", 2.1, math.nan),
]


def test_an_index_without_interval_is_descriptive_only_with_the_county_beside_it():
    results = evaluate(_config(narvaro=("ptm_problemindex",)), _inputs(PTM))
    own, county = results.iloc[0], results.iloc[1]
    assert (own["verdict"], county["verdict"]) == ("descriptive_only", "descriptive_only")
    assert own["estimate"] == pytest.approx(-0.3) and math.isnan(own["ci_lower"])
    assert county["followup_value"] == pytest.approx(0.1)
    assert "Länet 2 → 2,1, kommunen 1,8 → 1,5" in county["note"]
    assert own["verdict_sv"].startswith("Endast beskrivande")


def test_an_index_without_the_followup_wave_cannot_be_judged():
    results = evaluate(_config(narvaro=("ptm_problemindex",)), _inputs(PTM[:1]))
    assert results.iloc[0]["verdict"] == "cannot_judge"


def test_filled_template_knivsta_compares_lhu_2023_with_2025_and_the_county(tmp_path):
    # The "done when" of issue 10, on SYNTHETIC figures typed into the real template.
    path = tmp_path / "enkater.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "enkatresultat_mall.xlsx", path)
    workbook = load_workbook(path)
    for number, (code, year, indicator, share, n) in enumerate(LHU + PTM, start=2):
        source = "Liv & hälsa ung" if indicator.startswith("lhu") else "Polisens trygghetsmätning"
        row = [code, year, source, indicator, "fråga", "alla", share, n, None, None, "syntetiskt"]
        for column, value in enumerate(row, start=1):
            workbook["Resultat"].cell(row=number, column=column, value=value)
    workbook.save(path)
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    register_survey_workbook(path, raw, origin="test", now="2026-05-01T12:00:00Z")
    inputs = Inputs(
        build_tables(raw).indicators, SHIPPED.catalog, SHIPPED.groups, SHIPPED.municipalities
    )
    config = _config(narkotika=("lhu_narkotika_ak9",), narvaro=("ptm_problemindex",))
    results = evaluate(config, inputs).set_index(["indicator_id", "method"])
    assert results.loc[("lhu_narkotika_ak9", "fore_efter"), "note"].startswith("LHU 2023 → 2025")
    ptm = results.loc[("ptm_problemindex", "diff_i_diff")]
    assert ptm["note"].startswith("Polisens trygghetsmätning 2022 → 2024")
    assert ptm["verdict"] == "descriptive_only"


def test_the_trend_figure_draws_the_county_beside_the_municipality():
    from medlofte_analysis.evaluate import Evaluation
    from medlofte_analysis.plots import trend_figure

    config = _config(narkotika=("lhu_narkotika_ak9",))
    inputs = _inputs(LHU)
    evaluation = Evaluation(
        config, inputs, evaluate(config, inputs), data_gaps(config, inputs), (), ""
    )
    labels = trend_figure(evaluation, "lhu_narkotika_ak9").axes[0].get_legend_handles_labels()[1]
    assert labels == ["Region Uppsala", "Knivsta"]
