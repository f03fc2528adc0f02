"""The results export: Swedish Excel opens the CSV as is; the workbook reads back; both are
byte-identical on rerun."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.results_export import (
    NUMERIC_COLUMNS,
    results_export_table,
    write_results,
)


@pytest.fixture(scope="module")
def demo():
    return run_evaluation("evaluations/demo-dalarna.toml")


@pytest.fixture(scope="module")
def written(demo, tmp_path_factory):
    return write_results(demo, tmp_path_factory.mktemp("export"))


def test_one_row_per_indicator_and_method(demo):
    table = results_export_table(demo)
    assert len(table) == len(demo.results)
    assert table[["Indikator-id", "Metod"]].drop_duplicates().shape[0] == len(table)


def test_columns_are_swedish_and_name_the_unit(demo):
    table = results_export_table(demo)
    for column in ("Fokusområde", "Indikator", "Enhet", "Metod", "Skattning", "Bedömning"):
        assert column in table.columns
    assert set(table["Enhet"]) <= {"per 100 000 invånare", "procent"}
    assert set(table["Primärt utfall"]) == {"ja", "nej"}


def test_csv_has_bom_semicolons_and_decimal_comma(written):
    raw = written[1].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, first = raw.decode("utf-8-sig").split("\r\n")[:2]
    assert header.split(";")[:3] == ["Kommun", "Kommunkod", "Fokusområde"]
    assert "," in first and "." not in first.split(";")[16]  # Värde 1, a decimal number


def test_csv_reads_back_as_numbers_with_swedish_settings(written, demo):
    frame = pd.read_csv(written[1], sep=";", decimal=",", encoding="utf-8-sig", dtype={1: str})
    assert frame["Kommunkod"].unique().tolist() == ["2062"]
    for column in NUMERIC_COLUMNS:
        assert pd.api.types.is_float_dtype(frame[column]), column
    expected = demo.results["estimate"].round(6)
    assert frame["Skattning"].fillna(-1).tolist() == expected.fillna(-1).tolist()


def test_workbook_reads_back_with_the_same_header_and_numbers(written, demo):
    sheet = load_workbook(written[0]).active
    header = [cell.value for cell in sheet[1]]
    assert header == list(results_export_table(demo).columns)
    assert sheet.max_row == len(demo.results) + 1
    column = header.index("Skattning") + 1
    assert all(
        isinstance(row[0], int | float)
        for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True)
        if row[0] is not None
    )


def test_infinite_limits_are_empty_cells_not_text(tmp_path, demo):
    table = results_export_table(demo)
    assert not table[list(NUMERIC_COLUMNS)].isin([float("inf"), float("-inf")]).any().any()


def test_rerun_is_byte_identical(written, demo, tmp_path):
    again = write_results(demo, tmp_path)
    for first, second in zip(written, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
