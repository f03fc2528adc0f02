"""Brå's yearly municipal CSV, downloaded by hand, flows from `medlofte fetch` into the table.

The numbers are SYNTHETIC (made up for the test), in the real published format: UTF-8 with
BOM, ';' separator, CRLF, header 'Kommun;Antal;Per 100 000 inv.', space thousands separators.
"""

import json
import shutil

import pytest

from medlofte_analysis.build import build, build_tables
from medlofte_analysis.errors import InputError
from medlofte_analysis.fetch import register_bra_yearly_csv

NOW = "2026-05-01T12:00:00Z"


def _csv(tmp_path, name="Anmälda brott i kommunerna 2024.csv"):
    path = tmp_path / name
    text = "Kommun;Antal;Per 100 000 inv.\r\nKnivsta;1 700;8 000\r\nHåbo;2 000;8 700\r\n"
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def test_yearly_totals_enter_the_table_with_the_implied_population(tmp_path, shipped_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    register_bra_yearly_csv(_csv(tmp_path), raw, origin="https://bra.se/", now=NOW)
    table = build_tables(raw).indicators
    row = table.loc[
        (table["municipality_code"] == "0330") & (table["indicator_id"] == "bra_totalt_arsfil")
    ].iloc[0]
    # 1 700 / 8 000 × 100 000 = 21 250.
    assert (row["year"], row["count"], row["value"], row["population"]) == (
        2024,
        1700.0,
        8000.0,
        21250.0,
    )


def test_a_file_name_without_a_year_is_refused(tmp_path):
    with pytest.raises(InputError, match="the year in the name"):
        register_bra_yearly_csv(
            _csv(tmp_path, "kommuner.csv"), tmp_path / "raw", origin="x", now=NOW
        )


def test_a_later_snapshot_replacing_rows_is_recorded_in_the_build_record(tmp_path, shipped_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    register_bra_yearly_csv(_csv(tmp_path), raw, origin="x", now=NOW)
    register_bra_yearly_csv(
        _csv(tmp_path, "Anmälda brott i kommunerna 2024 reviderad.csv"), raw, origin="x", now=NOW
    )
    build(raw, tmp_path / "processed")
    record = json.loads((tmp_path / "processed" / "build_record.json").read_text("utf-8"))
    assert list(record["rows_replaced_by_later_snapshots"].values()) == [2]
