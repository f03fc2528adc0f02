"""Indicators as concepts, sources as alternatives: per municipality the best source with the
years the evaluation needs, never two sources spliced within one comparison.

Counts are SYNTHETIC (made up for the test), built inline.
"""

import math

import pandas as pd

from medlofte_analysis.catalog import alternatives, kolada_kpis, load_catalog
from medlofte_analysis.evaluate import Inputs, choose_series, evaluate
from medlofte_analysis.evaluation_config import Comparison, EvaluationConfig


def _config(name: str, followup=(2024,)) -> EvaluationConfig:
    return EvaluationConfig(
        id="test",
        title="test",
        municipality="2062",
        kind="evaluation",
        baseline_years=(2022,),
        followup_years=followup,
        pre_period=(2018, 2022),
        focus_areas={"narkotika": (name,)},
        primary=(name,),
        comparison=Comparison(),
    )


def _inputs(series: dict[str, list[int]]) -> Inputs:
    """20 offences in each listed year for municipality 2062, per indicator id."""
    rows = [
        {
            "municipality_code": "2062",
            "year": year,
            "indicator_id": indicator,
            "value": 100.0,
            "count": 20.0,
            "population": 20_000.0,
            "unit": "per 100 000 inv",
            "ci_lower": math.nan,
            "ci_upper": math.nan,
            "n_respondents": math.nan,
        }
        for indicator, years in series.items()
        for year in years
    ]
    municipalities = pd.DataFrame({"code": ["2062"], "name": ["Mora"]})
    groups = pd.DataFrame(columns=["group_id", "group_title", "member_code", "member_name"])
    return Inputs(pd.DataFrame(rows), load_catalog(), groups, municipalities)


ALL_YEARS = list(range(2018, 2026))


def test_a_concept_lists_kolada_first_then_bra():
    assert alternatives(load_catalog(), "narkotikabrott") == ["kolada_n07544", "bra_narkotika"]


def test_an_indicator_id_names_its_own_source_only():
    assert alternatives(load_catalog(), "bra_narkotika") == ["bra_narkotika"]


def test_the_best_source_with_the_years_is_used():
    inputs = _inputs({"kolada_n07544": ALL_YEARS, "bra_narkotika": ALL_YEARS})
    choice = choose_series(_config("narkotikabrott"), inputs)["narkotikabrott"]
    assert choice.indicator_id == "kolada_n07544"


def test_a_source_without_the_years_gives_way_to_one_with_them():
    inputs = _inputs({"kolada_n07544": [2025], "bra_narkotika": ALL_YEARS})
    choice = choose_series(_config("narkotikabrott"), inputs)["narkotikabrott"]
    assert choice.indicator_id == "bra_narkotika"


def test_the_results_name_the_source_and_the_concept():
    inputs = _inputs({"bra_narkotika": ALL_YEARS})
    results = evaluate(_config("narkotikabrott"), inputs)
    row = results.loc[results["method"] == "fore_efter"].iloc[0]
    assert (row["concept"], row["indicator_id"]) == ("narkotikabrott", "bra_narkotika")
    assert row["source_sv"] == "Brå, lägesbild: Narkotikabrott"


def test_two_sources_are_never_spliced_within_one_comparison():
    # Baseline only in Kolada, follow-up only in Brå: no single source covers both.
    inputs = _inputs({"kolada_n07544": [2022], "bra_narkotika": [2024]})
    results = evaluate(_config("narkotikabrott"), inputs)
    row = results.loc[results["method"] == "fore_efter"].iloc[0]
    assert row["verdict"] == "cannot_judge"
    assert row["indicator_id"] == "kolada_n07544"


def test_a_source_lacking_the_last_follow_up_year_shortens_the_follow_up_and_says_so():
    inputs = _inputs({"bra_narkotika": list(range(2018, 2025))})
    results = evaluate(_config("narkotikabrott", followup=(2024, 2025)), inputs)
    row = results.loc[results["method"] == "fore_efter"].iloc[0]
    assert row["followup_label"] == "2024" and row["verdict"] != "cannot_judge"
    assert row["note"].startswith("Uppföljningen omfattar bara 2024: källan saknar 2025.")


def test_kolada_kpis_of_concepts_and_indicators():
    assert kolada_kpis(["narkotikabrott", "bra_skadegorelse", "kolada_n07402", "bra_vnr_man"]) == [
        "N07402",
        "N07544",
        "U07452",
    ]


def test_a_survey_with_the_last_follow_up_year_keeps_the_whole_follow_up():
    # The survey methods compare the last baseline year with the last follow-up year only.
    inputs = _inputs({})
    inputs = Inputs(
        pd.DataFrame(
            [
                {
                    "municipality_code": "2062",
                    "year": year,
                    "indicator_id": "lhu_narkotika_ak9",
                    "value": 5.0,
                    "count": math.nan,
                    "population": math.nan,
                    "unit": "procent",
                    "ci_lower": math.nan,
                    "ci_upper": math.nan,
                    "n_respondents": 400.0,
                }
                for year in (2022, 2025)
            ]
        ),
        inputs.catalog,
        inputs.groups,
        inputs.municipalities,
    )
    config = _config("lhu_narkotika_ak9", followup=(2024, 2025))
    choice = choose_series(config, inputs)["lhu_narkotika_ak9"]
    assert (choice.followup_years, choice.note) == ((2024, 2025), "")
