"""A Brå lägesbild workbook downloaded by hand flows from `medlofte fetch` into the table.

The numbers are SYNTHETIC (made up for the test), in the layout of Brå's workbook.
"""

import shutil

import pytest
from openpyxl import Workbook

from medlofte_analysis.build import build_tables
from medlofte_analysis.errors import InputError
from medlofte_analysis.fetch import register_bra_workbook

HEADER = [
    "Region",
    "Antal 2022",
    "Antal 2024",
    "Antal per 100 000 inv 2022",
    "Antal per 100 000 inv 2024",
]


def _workbook(tmp_path):
    book = Workbook()
    total = book.active
    total.title = "Anmälda brott totalt"
    for row in (
        ["Totalt antal anmälda brott (anmälda brott) i kommunen, länet och hela landet"],
        HEADER,
        ["Knivsta", 1500, 1600, 7500, 7619],
    ):
        total.append(row)
    drugs = book.create_sheet("Narkotikabrott anmälda")
    for row in (
        ["Narkotikabrott (anmälda brott) i kommunen, länet och hela landet"],
        HEADER,
        ["Knivsta", 60, 90, 300, 429],
    ):
        drugs.append(row)
    path = tmp_path / "Knivsta.xlsx"
    book.save(path)
    return path


def test_a_registered_workbook_gives_counts_rates_and_implied_population(tmp_path, shipped_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    paths = register_bra_workbook(
        _workbook(tmp_path), raw, origin="https://bra.se/", now="2026-05-01T12:00:00Z"
    )
    assert [p.relative_to(raw).as_posix() for p in paths] == [
        "bra_lagesbild_xlsx/2026-05-01/Knivsta/Knivsta.xlsx"
    ]
    table = build_tables(raw).indicators
    rows = table.loc[
        (table["municipality_code"] == "0330") & (table["indicator_id"] == "bra_narkotika")
    ]
    assert rows[["year", "count", "value"]].values.tolist() == [[2022, 60, 300], [2024, 90, 429]]
    # 1500 / 7500 × 100 000 = 20 000 inhabitants in 2022.
    assert rows["population"].tolist()[0] == pytest.approx(20_000)


def test_a_file_that_is_not_a_workbook_is_refused_before_anything_is_written(
    tmp_path, shipped_raw_dir
):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    before = (raw / "manifest.csv").read_bytes()
    bogus = tmp_path / "Knivsta.xlsx"
    bogus.write_text("inte en arbetsbok", encoding="utf-8")
    with pytest.raises(InputError):
        register_bra_workbook(bogus, raw, origin="x", now="2026-05-01T12:00:00Z")
    assert (raw / "manifest.csv").read_bytes() == before
    assert not (raw / "bra_lagesbild_xlsx").exists()
