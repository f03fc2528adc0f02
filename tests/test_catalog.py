"""The indicator catalog is data with allowed values, covering the pledge's four focus areas."""

import pytest

from medlofte_analysis.catalog import FOCUS_AREAS, load_catalog
from medlofte_analysis.errors import InputError


def test_every_focus_area_has_a_primary_outcome():
    catalog = load_catalog()
    primaries = set(catalog.loc[catalog["primary"], "focus_area"])
    assert primaries == set(FOCUS_AREAS) - {"kontext"}


def test_police_activity_outputs_have_no_desired_direction():
    catalog = load_catalog().set_index("indicator_id")
    assert catalog.loc["bra_narkotika", "kind"] == "police_activity"
    assert catalog.loc["bra_narkotika", "desired_direction"] == "none"
    assert catalog.loc["bra_trafikbrott", "desired_direction"] == "none"


def test_violence_in_close_relationships_is_ambiguous():
    catalog = load_catalog().set_index("indicator_id")
    assert catalog.loc["bra_vnr_kvinnor", "desired_direction"] == "ambiguous"


def test_a_bad_value_names_row_and_column(tmp_path):
    path = tmp_path / "indicators.csv"
    text = (load_catalog.__defaults__[0]).read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[2] = lines[2].replace(",outcome,", ",outcomes,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column kind"):
        load_catalog(path)
