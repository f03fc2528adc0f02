"""Tests for the SCB PxWeb parsers: SYNTHETIC population figures in SCB's formats, and REAL
responses recorded from SCB's live PxWebApi 2.0 (fixtures/, see its README)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.scb_pxweb import (
    COLUMNS,
    parse_jsonstat2,
    parse_pxweb_v1,
    population_query_v1,
)

V1_COLUMNS = [
    {"code": "Region", "text": "region", "type": "d"},
    {"code": "Tid", "text": "år", "type": "t"},
    {"code": "BE0101N1", "text": "Folkmängd", "type": "c"},
]


def _v1(rows, columns=V1_COLUMNS):
    return {"columns": columns, "comments": [], "data": rows, "metadata": []}


def test_v1_totals_parse():
    frame = parse_pxweb_v1(_v1([{"key": ["0330", "2022"], "values": ["20000"]}]), "scb.json")
    assert tuple(frame.columns) == COLUMNS
    row = frame.iloc[0]
    assert (row["municipality_code"], row["year"], row["age"], row["sex"]) == (
        "0330",
        2022,
        "total",
        "total",
    )
    assert row["population"] == 20000.0


def test_v1_by_age_and_sex_maps_sex_codes():
    columns = [
        {"code": "Region", "text": "region", "type": "d"},
        {"code": "Alder", "text": "ålder", "type": "d"},
        {"code": "Kon", "text": "kön", "type": "d"},
        {"code": "Tid", "text": "år", "type": "t"},
        {"code": "BE0101N1", "text": "Folkmängd", "type": "c"},
    ]
    rows = [
        {"key": ["0330", "15", "1", "2022"], "values": ["150"]},
        {"key": ["0330", "15", "2", "2022"], "values": ["140"]},
    ]
    frame = parse_pxweb_v1(_v1(rows, columns), "scb.json")
    assert frame["sex"].tolist() == ["män", "kvinnor"]
    assert frame["age"].tolist() == ["15", "15"]


def test_v1_dotdot_is_missing_with_reason():
    frame = parse_pxweb_v1(_v1([{"key": ["0330", "2022"], "values": [".."]}]), "scb.json")
    assert math.isnan(frame["population"].item()) and "'..'" in frame["missing_reason"].item()


def test_v1_county_code_is_padded():
    frame = parse_pxweb_v1(_v1([{"key": ["03", "2022"], "values": ["1"]}]), "scb.json")
    assert frame["municipality_code"].item() == "0003"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"key": ["330", "2022"], "values": ["1"]}], r"data\[0\]\.key Region"),
        ([{"key": ["0330", "22"], "values": ["1"]}], r"data\[0\]\.key Tid"),
        ([{"key": ["0330", "2022"], "values": ["abc"]}], r"data\[0\]\.values\[0\]"),
        ([{"key": ["0330"], "values": ["1"]}], r"data\[0\]\.key"),
        ([{"key": ["0330", "2022"], "values": ["1"]}] * 2, r"data\[1\].*also at data\[0\]"),
    ],
)
def test_v1_bad_rows_raise(rows, message):
    with pytest.raises(InputError, match=rf"scb\.json: {message}"):
        parse_pxweb_v1(_v1(rows), "scb.json")


def _jsonstat(values, status=None):
    payload = {
        "version": "2.0",
        "class": "dataset",
        "id": ["Region", "Civilstand", "Kon", "ContentsCode", "Tid"],
        "size": [2, 1, 2, 1, 2],
        "dimension": {
            "Region": {
                "category": {
                    "index": {"0330": 0, "0305": 1},
                    "label": {"0330": "Knivsta", "0305": "Håbo"},
                }
            },
            "Civilstand": {
                "category": {"index": {"TOT": 0}, "label": {"TOT": "totalt"}},
                # SCB marks a total this way (the recorded TAB638 answer does so for Region "00").
                "extension": {"elimination": True, "eliminationValueCode": "TOT"},
            },
            "Kon": {"category": {"index": {"1": 0, "2": 1}, "label": {"1": "män", "2": "kvinnor"}}},
            "ContentsCode": {"category": {"index": {"BE0101N1": 0}}},
            "Tid": {"category": {"index": {"2023": 0, "2024": 1}}},
        },
        "value": values,
    }
    if status is not None:
        payload["status"] = status
    return payload


def test_jsonstat2_is_row_major():
    frame = parse_jsonstat2(_jsonstat([1, 2, 3, 4, 5, 6, 7, 8]), "v2.json")
    assert len(frame) == 8
    row = frame.loc[
        (frame["municipality_code"] == "0305") & (frame["sex"] == "män") & (frame["year"] == 2024)
    ]
    assert row["population"].item() == 6.0
    assert set(frame["age"]) == {"total"}


def test_jsonstat2_null_uses_status_marker():
    frame = parse_jsonstat2(_jsonstat([1, None, 3, 4, 5, 6, 7, 8], {"1": ".."}), "v2.json")
    missing = frame.loc[frame["population"].isna()]
    assert len(missing) == 1 and "'..'" in missing["missing_reason"].item()


def test_jsonstat2_wrong_value_count_raises():
    with pytest.raises(InputError, match=r"v2\.json: value.*8 values"):
        parse_jsonstat2(_jsonstat([1, 2, 3]), "v2.json")


def test_jsonstat2_several_marital_states_are_refused_not_summed():
    payload = _jsonstat([1] * 16)
    payload["size"][1] = 2
    payload["dimension"]["Civilstand"]["category"]["index"] = {"OG": 0, "G": 1}
    with pytest.raises(InputError, match=r"dimension\.Civilstand.*left out of the query"):
        parse_jsonstat2(payload, "v2.json")


def test_jsonstat2_other_contents_alone_is_refused_not_read_as_population():
    payload = _jsonstat([1] * 8)
    payload["dimension"]["ContentsCode"]["category"]["index"] = {"BE0101N2": 0}
    with pytest.raises(InputError, match=r"dimension\.ContentsCode.*BE0101N1"):
        parse_jsonstat2(payload, "v2.json")


def test_query_v1_totals_has_region_contents_and_years():
    query = population_query_v1(["0330", "0305"], [2022, 2023], by_age_sex=False)
    codes = [part["code"] for part in query["query"]]
    assert codes == ["Region", "ContentsCode", "Tid"]
    assert query["query"][2]["selection"] == {"filter": "item", "values": ["2022", "2023"]}
    assert query["response"] == {"format": "json"}


def test_query_v1_by_age_sex_adds_ages_and_sexes():
    query = population_query_v1(["0330"], [2022], by_age_sex=True)
    parts = {part["code"]: part["selection"]["values"] for part in query["query"]}
    assert parts["Kon"] == ["1", "2"]
    assert parts["Alder"][0] == "0" and parts["Alder"][-1] == "100+" and len(parts["Alder"]) == 101


def test_query_v1_refuses_integer_like_codes():
    with pytest.raises(InputError, match="codes"):
        population_query_v1(["330"], [2022], by_age_sex=False)


def test_table_metadata_json_stat2_gives_the_years_the_table_holds():
    from medlofte_analysis.sources.scb_pxweb import table_categories

    payload = {
        "version": "2.0",
        "class": "dataset",
        "id": ["Region", "Tid"],
        "size": [1, 2],
        "dimension": {
            "Region": {"category": {"index": {"0330": 0}}},
            "Tid": {"category": {"index": {"2023": 0, "2024": 1}}},
        },
    }
    assert table_categories(payload, "meta")["Tid"] == ["2023", "2024"]


def test_table_metadata_of_the_beta_variables_form_is_read_too():
    from medlofte_analysis.sources.scb_pxweb import table_categories

    payload = {
        "variables": [
            {"id": "Region", "values": [{"code": "0330", "label": "Knivsta"}]},
            {"id": "Tid", "type": "TimeVariable", "values": [{"code": "2024", "label": "2024"}]},
        ]
    }
    assert table_categories(payload, "meta") == {"Region": ["0330"], "Tid": ["2024"]}


def test_table_metadata_without_tid_is_refused():
    from medlofte_analysis.sources.scb_pxweb import table_categories

    with pytest.raises(InputError, match="'Tid'"):
        table_categories(
            {"id": ["Region"], "dimension": {"Region": {"category": {"index": []}}}}, "m"
        )


def test_v2_query_leaves_out_eliminated_variables_and_counts_cells():
    from medlofte_analysis.sources.scb_pxweb import population_query_v2, query_cells

    query = population_query_v2(["0330", "03"], [2023, 2024], by_age_sex=False)
    assert [item["variableCode"] for item in query["selection"]] == [
        "Region",
        "ContentsCode",
        "Tid",
    ]
    assert query_cells(query) == 4
    assert query_cells(population_query_v2(["0330"], [2024], by_age_sex=True)) == 202


# --- REAL responses of SCB's live PxWebApi 2.0, recorded by rOpenGov/pxweb (see fixtures/README.md)

FIXTURES = Path(__file__).parent / "fixtures"


def _recorded(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_recorded_tab638_metadata_holds_every_code_our_query_asks_for():
    from medlofte_analysis.sources.scb_pxweb import population_query_v2, table_categories

    categories = table_categories(_recorded("scb_tab638_metadata_excerpt.json"), "meta")
    assert categories["Tid"][0] == "1968" and categories["Tid"][-1] == "2024"
    assert len(categories["Tid"]) == 57
    assert categories["Kon"] == ["1", "2"]
    assert categories["Alder"][-2:] == ["100+", "tot"]
    assert {"00", "03", "0330"} <= set(categories["Region"])
    query = population_query_v2(["0330", "03", "00"], [2023, 2024], by_age_sex=True)
    for item in query["selection"]:
        assert set(item["valueCodes"]) <= set(categories[item["variableCode"]])


def test_recorded_tab638_answer_for_one_marital_state_is_refused_not_read_as_the_total():
    # SCB answers Civilstand=OG with Civilstand as a dimension of one category ("ogifta"):
    # that is a subset of the population, and was read as the total before.
    with pytest.raises(InputError, match=r"dimension\.Civilstand.*left out of the query"):
        parse_jsonstat2(_recorded("scb_tab638_data_recorded.json"), "TAB638.json")


def test_recorded_tab638_layout_parses_once_the_subset_variable_is_eliminated():
    # The recorded answer with Civilstand removed, as SCB removes a variable left out of the
    # query (at age 0 every person is ogift, so 50 937 is the whole count).
    payload = _recorded("scb_tab638_data_recorded.json")
    position = payload["id"].index("Civilstand")
    del payload["id"][position], payload["size"][position], payload["dimension"]["Civilstand"]
    frame = parse_jsonstat2(payload, "TAB638.json")
    assert frame.to_dict("records") == [
        {
            "municipality_code": "0000",
            "year": 2024,
            "age": "0",
            "sex": "män",
            "population": 50937.0,
            "missing_reason": "",
        }
    ]
