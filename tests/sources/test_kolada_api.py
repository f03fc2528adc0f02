"""Tests for the Kolada API JSON parsers (SYNTHETIC values in the API's format)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.kolada_api import (
    VALUE_COLUMNS,
    parse_kolada_municipalities,
    parse_kolada_municipality_groups,
    parse_kolada_values,
    read_kolada_pages,
)

KOLADA_DIR = RAW_DIR / "kolada_rkolada_sysdata"


def _entry(kpi="N07540", code="0330", period=2024, value=100.0, status="", gender="T"):
    return {
        "kpi": kpi,
        "municipality": code,
        "period": period,
        "values": [{"gender": gender, "count": 1, "status": status, "value": value}],
    }


def test_v3_page_parses_to_tidy_rows():
    payload = {"values": [_entry(), _entry(period=2025, value=200.5)], "next_url": ""}
    frame = parse_kolada_values(payload, "page.json")
    assert tuple(frame.columns) == VALUE_COLUMNS
    assert frame["value"].tolist() == [100.0, 200.5]
    assert frame["municipality_code"].tolist() == ["0330", "0330"]
    assert frame["year"].tolist() == [2024, 2025]


def test_v2_page_with_genders_parses():
    entry = _entry()
    entry["values"] = [
        {"count": 1, "gender": "K", "status": "", "value": 1.0},
        {"count": 1, "gender": "M", "status": "", "value": 2.0},
        {"count": 1, "gender": "T", "status": "", "value": 3.0},
    ]
    frame = parse_kolada_values({"count": 1, "values": [entry], "next_page": None}, "v2.json")
    assert frame["gender"].tolist() == ["K", "M", "T"]


def test_null_value_is_missing_with_status_in_reason():
    frame = parse_kolada_values({"values": [_entry(value=None, status="Missing")]}, "p.json")
    assert math.isnan(frame["value"].item())
    assert "Missing" in frame["missing_reason"].item()


@pytest.mark.parametrize("flag", ["is_deleted", "isdeleted"])
def test_withdrawn_value_is_missing_with_the_withdrawn_reason(flag):
    entry = _entry(value=12.5)
    entry["values"][0][flag] = True
    frame = parse_kolada_values({"values": [entry]}, "p.json")
    assert math.isnan(frame["value"].item())
    assert frame["missing_reason"].item().startswith("withdrawn in Kolada")


def test_withdrawn_flag_applies_only_to_its_own_value():
    entry = _entry()
    entry["values"] = [
        {"gender": "K", "count": 1, "status": "", "value": 1.0, "is_deleted": True},
        {"gender": "T", "count": 1, "status": "", "value": 3.0, "is_deleted": False},
    ]
    frame = parse_kolada_values({"values": [entry]}, "p.json")
    assert frame["missing_reason"].tolist()[1] == "" and frame["value"].tolist()[1] == 3.0
    assert frame["missing_reason"].tolist()[0].startswith("withdrawn")


def test_outer_isdeleted_of_an_old_snapshot_is_still_withdrawn():
    entry = _entry()
    entry["isdeleted"] = True
    frame = parse_kolada_values({"values": [entry]}, "p.json")
    assert math.isnan(frame["value"].item()) and "withdrawn" in frame["missing_reason"].item()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, r"top level.*'values'"),
        ({"values": [_entry(code=330)]}, r"values\[0\]\.municipality.*four-character"),
        ({"values": [_entry(period="2024x")]}, r"values\[0\]\.period"),
        ({"values": [_entry(gender="X")]}, r"values\[0\]\.values\[0\]\.gender"),
        ({"values": [_entry(value="9,5")]}, r"values\[0\]\.values\[0\]\.value.*number or null"),
        ({"values": [_entry(), _entry()]}, r"values\[1\]\.values\[0\].*also at values\[0\]"),
    ],
)
def test_bad_payload_raises_naming_position(payload, message):
    with pytest.raises(InputError, match=rf"src\.json: {message}"):
        parse_kolada_values(payload, "src.json")


def test_read_pages_concatenates(tmp_path):
    first, second = tmp_path / "page-001.json", tmp_path / "page-002.json"
    first.write_text(json.dumps({"values": [_entry()], "next_url": "x"}), encoding="utf-8")
    second.write_text(
        json.dumps({"values": [_entry(period=2025)], "next_url": ""}), encoding="utf-8"
    )
    frame = read_kolada_pages([first, second])
    assert frame["year"].tolist() == [2024, 2025]


def test_duplicate_across_pages_names_both_files(tmp_path):
    first, second = tmp_path / "page-001.json", tmp_path / "page-002.json"
    for path in (first, second):
        path.write_text(json.dumps({"values": [_entry()]}), encoding="utf-8")
    with pytest.raises(InputError, match=r"page-002\.json.*page-001\.json"):
        read_kolada_pages([first, second])


def test_invalid_json_names_line(tmp_path):
    path = tmp_path / "page-001.json"
    path.write_text('{"values": [\n  oops]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"page-001\.json: line 2, column 3"):
        read_kolada_pages([path])


def test_municipality_list_round_trip_matches_snapshot_columns():
    # Real rows of the committed Kolada municipality list, wrapped in the API's JSON shape.
    snapshot = pd.read_csv(KOLADA_DIR / "kolada_municipalities.csv", dtype=str, nrows=12)
    payload = {"values": snapshot.to_dict("records")}
    frame = parse_kolada_municipalities(payload, "municipality.json")
    pd.testing.assert_frame_equal(frame, snapshot, check_dtype=False)


def test_municipality_groups_round_trip_matches_snapshot_long_table():
    # Real rows of the committed Kolada group list, regrouped into the API's nested JSON shape.
    snapshot = pd.read_csv(KOLADA_DIR / "kolada_municipality_groups_long.csv", dtype=str, nrows=10)
    groups = []
    for (group_id, group_title), members in snapshot.groupby(
        ["group_id", "group_title"], sort=False
    ):
        groups.append(
            {
                "id": group_id,
                "title": group_title,
                "members": [
                    {"id": i, "title": t}
                    for i, t in zip(members["member_id"], members["member_title"], strict=True)
                ],
            }
        )
    frame = parse_kolada_municipality_groups({"values": groups}, "groups.json")
    pd.testing.assert_frame_equal(frame, snapshot, check_dtype=False)


def test_municipality_with_numeric_id_raises():
    with pytest.raises(InputError, match=r"values\[0\]\.id"):
        parse_kolada_municipalities({"values": [{"id": 330, "title": "Knivsta", "type": "K"}]}, "m")
