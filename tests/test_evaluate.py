"""The evaluation engine wires the statistics to the catalog's interpretation.

Small inline frames: counts are SYNTHETIC (made up for the test), except the last test which
uses the real Brå figures for Mora.
"""

import math

import pandas as pd
import pytest

from medlofte_analysis.catalog import load_catalog
from medlofte_analysis.evaluate import Inputs, data_gaps, evaluate, run_evaluation
from medlofte_analysis.evaluation_config import Comparison, EvaluationConfig

YEARS = list(range(2017, 2025))


def _config(indicators: dict[str, tuple[str, ...]], comparison=("2021", "2023")):
    return EvaluationConfig(
        id="test",
        title="test",
        municipality="2062",
        kind="evaluation",
        baseline_years=(2022,),
        followup_years=(2024,),
        pre_period=(2017, 2022),
        focus_areas=indicators,
        primary=(),
        comparison=Comparison(municipalities=comparison),
    )


def _inputs(counts: dict[tuple[str, str], list[float]], population: float = 20_000.0) -> Inputs:
    rows = []
    for (code, indicator), series in counts.items():
        for year, count in zip(YEARS, series, strict=True):
            rows.append(
                {
                    "municipality_code": code,
                    "year": year,
                    "indicator_id": indicator,
                    "value": count / population * 1e5,
                    "count": count,
                    "population": population,
                    "unit": "per 100 000 inv",
                    "ci_lower": math.nan,
                    "ci_upper": math.nan,
                }
            )
    municipalities = pd.DataFrame(
        {"code": ["2062", "2021", "2023"], "name": ["Mora", "Vansbro", "Malung-Sälen"]}
    )
    groups = pd.DataFrame(columns=["group_id", "group_title", "member_code", "member_name"])
    return Inputs(pd.DataFrame(rows), load_catalog(), groups, municipalities)


def _row(results: pd.DataFrame, indicator: str, method: str) -> pd.Series:
    return results.loc[(results["indicator_id"] == indicator) & (results["method"] == method)].iloc[
        0
    ]


FLAT = [20.0] * 8


def test_before_after_is_the_hand_computed_rate_ratio():
    counts = {
        ("2062", "bra_skadegorelse"): FLAT[:5] + [10.0, 20.0, 30.0],
        ("2021", "bra_skadegorelse"): FLAT,
        ("2023", "bra_skadegorelse"): FLAT,
    }
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}), _inputs(counts))
    assert _row(results, "bra_skadegorelse", "fore_efter")["estimate"] == pytest.approx(3.0)


def test_did_uses_the_whole_pre_period_as_baseline():
    counts = {
        ("2062", "bra_skadegorelse"): FLAT[:5] + [10.0, 20.0, 30.0],
        ("2021", "bra_skadegorelse"): FLAT[:5] + [20.0, 20.0, 40.0],
        ("2023", "bra_skadegorelse"): FLAT[:5] + [20.0, 20.0, 40.0],
    }
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}), _inputs(counts))
    row = _row(results, "bra_skadegorelse", "diff_i_diff")
    # Baseline 2017-2022 (6 years), follow-up 2024; 1/2 added to each count. By hand:
    # municipality (30.5 / 1) / (110.5 / 6), comparison (80.5 / 2) / (240.5 / 12).
    assert row["estimate"] == pytest.approx((30.5 / (110.5 / 6)) / ((80.5 / 2) / (240.5 / 12)))
    assert row["baseline_label"] == "2017–2022"
    assert row["headline"] and row["msms_level"] == 3


def test_a_large_rise_in_narcotics_offences_is_more_enforcement_not_deterioration():
    counts = {
        ("2062", "bra_narkotika"): FLAT[:5] + [20.0, 20.0, 80.0],
        ("2021", "bra_narkotika"): FLAT,
        ("2023", "bra_narkotika"): FLAT,
    }
    results = evaluate(_config({"narkotika": ("bra_narkotika",)}), _inputs(counts))
    assert _row(results, "bra_narkotika", "diff_i_diff")["verdict"] == "more_enforcement"


def test_a_large_rise_in_violence_against_women_is_ambiguous():
    counts = {
        ("2062", "bra_vnr_kvinnor"): FLAT[:5] + [20.0, 20.0, 80.0],
        ("2021", "bra_vnr_kvinnor"): FLAT,
        ("2023", "bra_vnr_kvinnor"): FLAT,
    }
    results = evaluate(_config({"vald_nara_relation": ("bra_vnr_kvinnor",)}), _inputs(counts))
    assert _row(results, "bra_vnr_kvinnor", "diff_i_diff")["verdict"] == "ambiguous_change"


def test_a_large_fall_in_criminal_damage_is_an_improvement():
    counts = {
        ("2062", "bra_skadegorelse"): [80.0] * 5 + [80.0, 80.0, 10.0],
        ("2021", "bra_skadegorelse"): [80.0] * 8,
        ("2023", "bra_skadegorelse"): [80.0] * 8,
    }
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}), _inputs(counts))
    assert _row(results, "bra_skadegorelse", "diff_i_diff")["verdict"] == "improvement"


def test_no_change_in_small_counts_says_what_could_have_been_detected():
    counts = {
        ("2062", "bra_ran_unga"): [3.0] * 8,
        ("2021", "bra_ran_unga"): [3.0] * 8,
        ("2023", "bra_ran_unga"): [3.0] * 8,
    }
    results = evaluate(_config({"unga": ("bra_ran_unga",)}), _inputs(counts))
    row = _row(results, "bra_ran_unga", "fore_efter")
    assert row["verdict"] == "no_detectable_change"
    assert row["mde_increase"] > 3  # with 3 events a year, only a large rise is detectable
    assert "Minsta upptäckbara förändring" in row["verdict_sv"]
    assert "inte kunnat skiljas från slumpen" in row["verdict_sv"]


def test_missing_follow_up_year_cannot_be_judged_and_names_the_year():
    counts = {
        ("2062", "bra_skadegorelse"): FLAT[:7] + [math.nan],
        ("2021", "bra_skadegorelse"): FLAT,
        ("2023", "bra_skadegorelse"): FLAT,
    }
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}), _inputs(counts))
    row = _row(results, "bra_skadegorelse", "fore_efter")
    assert row["verdict"] == "cannot_judge" and "2024" in row["note"]


def test_an_indicator_without_any_data_is_listed_as_a_gap_with_its_source():
    config = _config({"narkotika": ("kolada_n07544",)})
    gaps = data_gaps(config, _inputs({("2021", "bra_narkotika"): FLAT}))
    assert gaps["missing_years"].tolist() == ["2017–2022, 2024"]
    assert "N07544" in gaps["where_to_get"].iloc[0]


def test_without_comparison_units_the_headline_falls_back_to_before_after():
    counts = {("2062", "bra_skadegorelse"): FLAT}
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}, comparison=()), _inputs(counts))
    head = results.loc[results["headline"]].iloc[0]
    assert (head["method"], head["msms_level"]) == ("fore_efter", 2)


def test_mora_narcotics_before_after_uses_the_published_counts(shipped_processed_dir):
    # Raw Brå figures: Mora 2022: 201 offences, 2024: 200; population implied by Brå's rate
    # for all offences: 20 674 (2022) and 20 539 (2024).
    evaluation = run_evaluation(
        "evaluations/demo-dalarna.toml", processed_dir=shipped_processed_dir
    )
    row = _row(evaluation.results, "bra_narkotika", "fore_efter")
    assert row["estimate"] == pytest.approx((200 / 20539) / (201 / 20674))
    assert row["verdict"] == "no_detectable_change"


def test_synthetic_control_is_tested_against_the_donors_as_placebos(shipped_processed_dir):
    # 14 placebos: the gap test reaches 5 % (a rank test could not go below 1/15 = 0.067).
    results = run_evaluation(
        "evaluations/demo-dalarna.toml", processed_dir=shipped_processed_dir
    ).results
    row = _row(results, "bra_totalt", "syntetisk_kontroll")
    assert "de 14 jämförelsekommunerna" in row["note"]
    assert row["ci_lower"] < row["estimate"] < row["ci_upper"]
    assert row["mde_increase"] > 1 > row["mde_decrease"] > 0


def test_did_names_its_baseline_period_and_placebo_test(shipped_processed_dir):
    results = run_evaluation(
        "evaluations/demo-dalarna.toml", processed_dir=shipped_processed_dir
    ).results
    row = _row(results, "bra_totalt", "diff_i_diff")
    assert row["baseline_label"] == "2017–2022"
    assert "Hela förperioden 2017–2022 (6 år)" in row["note"] and "placebo" in row["note"]


def test_synthetic_control_with_a_poor_pre_period_fit_is_not_judged(shipped_processed_dir):
    results = run_evaluation(
        "evaluations/demo-dalarna.toml", processed_dir=shipped_processed_dir
    ).results
    row = _row(results, "bra_skadegorelse", "syntetisk_kontroll")
    assert row["verdict"] == "cannot_judge"
    assert "följer inte kommunen under förperioden" in row["note"]


def test_intervals_agree_with_the_verdict_after_adjustment():
    # SYNTHETIC: one large change among flat series; the FCR-adjusted interval of every
    # judged row excludes 1 exactly when its verdict is a change (Benjamini & Yekutieli 2005)
    counts = {
        ("2062", "bra_skadegorelse"): FLAT[:5] + [20.0, 21.0, 80.0],
        ("2062", "bra_trafikbrott"): FLAT,
        ("2062", "bra_narkotika"): FLAT,
    }
    for code in ("2021", "2023"):
        for indicator in ("bra_skadegorelse", "bra_trafikbrott", "bra_narkotika"):
            counts[(code, indicator)] = FLAT
    config = _config({"narvaro": ("bra_skadegorelse", "bra_trafikbrott", "bra_narkotika")})
    results = evaluate(config, _inputs(counts))
    rows = results.loc[
        results["method"].isin(["fore_efter", "trend"]) & (results["verdict"] != "cannot_judge")
    ]
    for _, row in rows.iterrows():
        excludes = row["ci_lower"] > 1 or row["ci_upper"] < 1
        assert excludes == (row["verdict"] != "no_detectable_change"), row["indicator_id"]
    assert rows["interval_kind"].str.contains("FCR").all()


def test_before_after_note_names_the_pooled_dispersion():
    counts = {
        ("2062", "bra_skadegorelse"): FLAT,
        ("2021", "bra_skadegorelse"): [20.0, 30.0, 15.0, 25.0, 12.0, 28.0, 20.0, 20.0],
        ("2023", "bra_skadegorelse"): FLAT,
    }
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}), _inputs(counts))
    note = _row(results, "bra_skadegorelse", "fore_efter")["note"]
    assert "Överspridning skattad gemensamt ur 3 kommuners år 2017–2022" in note
    assert "centrala regeln" in note


def test_comparison_group_note_names_the_steadied_variance_of_its_detectable_change():
    counts = {
        ("2062", "bra_skadegorelse"): [20.0, 35.0, 12.0, 28.0, 15.0, 30.0, 20.0, 25.0],
        ("2021", "bra_skadegorelse"): [30.0, 14.0, 26.0, 40.0, 18.0, 22.0, 35.0, 20.0],
        ("2023", "bra_skadegorelse"): [18.0, 30.0, 36.0, 15.0, 27.0, 40.0, 22.0, 30.0],
    }
    results = evaluate(_config({"narvaro": ("bra_skadegorelse",)}), _inputs(counts))
    note = _row(results, "bra_skadegorelse", "diff_i_diff")["note"]
    assert "placeboskattningen vägd samman med den stadigare" in note
