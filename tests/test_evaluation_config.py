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


# --- The declared schema: every mistake refused with a message that says what to fix --------

VALID = """
[evaluation]
id = "t"
municipality = "0330"
baseline_years = [2022]
followup_years = [2024]
pre_period = [2017, 2022]
alpha = 0.05
contact = "brottsforebyggare@knivsta.se"
[comparison]
kolada_group = "Liknande kommuner socioekonomi, {kommun}"
[focus_areas.narkotika]
indicators = ["kolada_n07544"]
primary = ["kolada_n07544"]
[focus_areas.unga]
indicators = ["kolada_n07542"]
"""


def _load(tmp_path, text, name="e.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_valid_schema_example_with_a_contact_is_accepted(tmp_path):
    config = _load(tmp_path, VALID)
    assert (config.contact, config.primary) == ("brottsforebyggare@knivsta.se", ("kolada_n07544",))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "baseline_years =",
            "baseline_yeas =",
            r"Okänd nyckel `baseline_yeas`.*menade du `baseline_years`\?",
        ),
        (
            "primary = [",
            "primary_outcomes = [",
            r"Okänd nyckel `primary_outcomes`.*menade du `primary`\?",
        ),
        (
            "[comparison]",
            "[comparision]",
            r"Okänd sektion `\[comparision\]`.*menade du `comparison`\?",
        ),
        ("[focus_areas.unga]", "[focus_areas.ung]", r"Okänt fokusområde.*menade du `unga`\?"),
        ("alpha = 0.05", "alpha = 2", r"`alpha`.*större än 0 och mindre än 1.*fann 2"),
        ("alpha = 0.05", "alpha = nan", r"`alpha`.*fann nan"),
        ("alpha = 0.05", "alpha = inf", r"`alpha`.*fann inf"),
        ("alpha = 0.05", "alpha = 0", r"`alpha`.*fann 0"),
        ("alpha = 0.05", 'alpha = "x"', r"`alpha`.*fann 'x'"),
        ("alpha = 0.05", "alpha = true", r"`alpha`.*fann True"),
        ('id = "t"', 'id = "../../x"', r"`id`.*bindestreck.*'\.\./\.\./x'"),
        ('id = "t"', 'id = "/tmp/x"', r"`id`.*'/tmp/x'"),
        ('id = "t"', 'id = "Knivsta 2024"', r"`id`.*'Knivsta 2024'"),
        ("[2024]", '["2024"]', r"`followup_years`.*lista med årtal"),
        ("[2024]", "[2024.5]", r"`followup_years`.*lista med årtal"),
        ("[2024]", "[]", r"`followup_years`.*icke-tom"),
        ("[2024]", "[2021]", r"basåren \[2022\] måste ligga före uppföljningsåren \[2021\]"),
        ("[2017, 2022]", "[2022, 2017]", r"`pre_period`"),
        ('indicators = ["kolada_n07542"]', "indicators = []", r"`indicators`.*icke-tom"),
        ('indicators = ["kolada_n07542"]', "", r"\[focus_areas.unga\] saknar `indicators`"),
        ('municipality = "0330"', "municipality = 330", r"`municipality`.*citattecken"),
        ('kolada_group = "', 'kolada_group = ["', r"toml|TOML"),
        (
            'primary = ["kolada_n07544"]',
            'primary = ["kolada_n07542"]',
            r"primärutfallet 'kolada_n07542'",
        ),
    ],
)
def test_a_schema_violation_is_refused_with_what_to_fix(tmp_path, old, new, message):
    assert old in VALID
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, VALID.replace(old, new, 1))


def test_a_missing_required_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="`pre_period` saknas"):
        _load(tmp_path, VALID.replace("pre_period = [2017, 2022]\n", ""))


def test_an_empty_focus_areas_table_is_refused(tmp_path):
    text = VALID.split("[focus_areas.narkotika]")[0] + "[focus_areas]\n"
    with pytest.raises(ConfigError, match="minst ett fokusområde"):
        _load(tmp_path, text)


def test_a_file_name_that_is_not_a_slug_is_refused_when_id_is_missing(tmp_path):
    with pytest.raises(ConfigError, match=r"filnamnet.*"):
        _load(tmp_path, VALID.replace('id = "t"\n', ""), name="Min utvärdering.toml")


def test_a_file_not_in_utf8_is_one_config_error(tmp_path):
    path = tmp_path / "e.toml"
    path.write_bytes(VALID.replace("t", "\xe5").encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_a_municipality_override_that_is_not_four_digits_is_refused(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(VALID, encoding="utf-8")
    with pytest.raises(ConfigError, match="fyra siffror"):
        load_config(path, municipality="../x")


def test_an_unknown_kolada_group_is_refused_with_the_nearest_title(tmp_path):
    inputs = load_inputs()
    config = _load(tmp_path, VALID.replace("socioekonomi", "socioekonomy"))
    with pytest.raises(
        ConfigError,
        match=r"Okänd Kolada-grupp.*menade du `Liknande kommuner socioekonomi, Knivsta`",
    ):
        check_config(
            config, inputs.catalog, inputs.municipalities, inputs.indicators, inputs.groups
        )


def test_a_known_kolada_group_passes_the_group_check(tmp_path):
    inputs = load_inputs()
    config = _load(tmp_path, VALID)
    check_config(config, inputs.catalog, inputs.municipalities, inputs.indicators, inputs.groups)


@pytest.mark.parametrize(
    "parts",
    [("../../x.html",), ("/tmp/x.html",), ("..", "notebooks"), ("a/../../b", "notebooks"), (".",)],
)
def test_no_output_path_leaves_reports(tmp_path, parts):
    from medlofte_analysis.report import inside_reports

    with pytest.raises(ConfigError, match="utanför"):
        inside_reports(tmp_path / "reports", *parts)


def test_an_output_path_inside_reports_is_allowed(tmp_path):
    from medlofte_analysis.report import inside_reports

    assert inside_reports(tmp_path, "knivsta-2024-2025.html") == tmp_path / "knivsta-2024-2025.html"
