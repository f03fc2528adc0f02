"""A configuration that cannot be run is refused before any notebook runs."""

import pytest

from medlofte_analysis.errors import ConfigError
from medlofte_analysis.evaluate import load_inputs
from medlofte_analysis.evaluation_config import check_config, load_config

KNIVSTA = """
[evaluation]
id = "t"
municipality = "{code}"
baseline_years = [2022]
followup_years = [{follow}]
pre_period = [2017, 2022]
[comparison]
county = "0003"
[focus_areas.narkotika]
indicators = ["{indicator}"]
"""


def _check(tmp_path, code="0330", follow="2024, 2025", indicator="kolada_n07544"):
    path = tmp_path / "e.toml"
    path.write_text(KNIVSTA.format(code=code, follow=follow, indicator=indicator), encoding="utf-8")
    inputs = load_inputs()
    check_config(load_config(path), inputs.catalog, inputs.municipalities, inputs.indicators)


def test_the_shipped_knivsta_configuration_is_accepted(tmp_path):
    _check(tmp_path)


def test_unknown_municipality_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="kommunkoden '9999'"):
        _check(tmp_path, code="9999")


def test_indicator_missing_from_the_catalog_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="indikatorn 'kolada_x' finns inte i katalogen"):
        _check(tmp_path, indicator="kolada_x")


def test_years_outside_the_data_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="året 2031 ligger utanför data"):
        _check(tmp_path, follow="2031")


def test_one_parameter_evaluates_another_municipality():
    config = load_config(
        __import__("medlofte_analysis.config").config.PROJECT_ROOT
        / "evaluations"
        / "knivsta-2024-2025.toml",
        municipality="0305",
    )
    assert (config.municipality, config.id) == ("0305", "knivsta-2024-2025-0305")
    assert config.comparison.kolada_group == "Liknande kommuner socioekonomi, {kommun}"


def test_another_municipality_gets_its_own_county_and_kolada_group(shipped_processed_dir):
    from medlofte_analysis.evaluate import run_evaluation

    evaluation = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "0305", processed_dir=shipped_processed_dir
    )
    assert evaluation.config.comparison.county == "0003"
    assert evaluation.comparison_title == "Liknande kommuner socioekonomi, Håbo, 2024"
    assert "0305" not in evaluation.comparison and len(evaluation.comparison) > 3


def test_another_municipality_on_knivstas_focus_areas_is_titled_and_named_for_itself(
    shipped_processed_dir,
):
    from medlofte_analysis.evaluate import run_evaluation

    config = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "0305", processed_dir=shipped_processed_dir
    ).config
    assert config.title == (
        "Visar fokusområdena effekt? Håbo 2024–2025 jämfört med 2022, med Knivstas fokusområden"
    )
    assert config.id == "habo-med-knivsta-2024-2025"


def test_falun_on_the_demonstration_file_is_titled_falun_and_told_it_left_the_pool(
    shipped_processed_dir,
):
    from medlofte_analysis.evaluate import run_evaluation

    evaluation = run_evaluation(
        "evaluations/demo-dalarna.toml", "2080", processed_dir=shipped_processed_dir
    )
    assert "Falun 2022 jämfört med 2024" in evaluation.config.title
    assert "Mora" not in evaluation.config.title + evaluation.config.note
    assert "har tagits bort ur den" in evaluation.config.note
    assert "2080" not in evaluation.comparison


def test_falun_judges_its_primary_crime_outcomes_from_the_shipped_bra_data(
    shipped_processed_dir,
):
    from medlofte_analysis.evaluate import run_evaluation

    results = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "2080", processed_dir=shipped_processed_dir
    ).results
    head = results.loc[results["headline"] & results["primary"]].set_index("concept")
    for concept in ("skadegorelse", "trafikbrott", "narkotikabrott"):
        assert head.loc[concept, "verdict"] != "cannot_judge"
        assert head.loc[concept, "source_sv"].startswith("Brå, lägesbild")
