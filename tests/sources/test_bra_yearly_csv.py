"""Tests for the Brå yearly municipality CSV loader (SYNTHETIC numbers, real file format)."""

from __future__ import annotations

import math

import pytest

from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.bra_yearly_csv import (
    COLUMNS,
    read_bra_yearly_csv,
    unmapped_rows,
    yearly_to_tidy,
)

HEADER = "Kommun;Antal;Per 100 000 inv."
# SYNTHETIC figures in Brå's format: BOM, ';', CRLF, space / NBSP thousands, decimal comma.
GOOD_LINES = [
    HEADER,
    "Knivsta;1 234;5 678,9",
    "Håbo;..;",
    "Uppsala;12\u00a0345;9\u00a0876,5",
    "Hela landet;1 400 000;13 300",
]


def _write(tmp_path, lines, encoding="utf-8-sig", name="Anmälda brott i kommunerna 2024.csv"):
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def test_reads_codes_numbers_and_year(tmp_path, lookup):
    frame = read_bra_yearly_csv(_write(tmp_path, GOOD_LINES), 2024, lookup)
    assert tuple(frame.columns) == COLUMNS
    knivsta = frame.loc[frame["municipality_code"] == "0330"].iloc[0]
    assert (knivsta["count"], knivsta["rate_per_100k"], knivsta["year"]) == (1234.0, 5678.9, 2024)
    assert frame.loc[frame["municipality_name"] == "Uppsala", "count"].item() == 12345.0


def test_hela_landet_gets_code_0000(tmp_path, lookup):
    frame = read_bra_yearly_csv(_write(tmp_path, GOOD_LINES), 2024, lookup)
    assert (
        frame.loc[frame["municipality_name"] == "Hela landet", "municipality_code"].item() == "0000"
    )


def test_missing_markers_are_nan_with_reason(tmp_path, lookup):
    frame = read_bra_yearly_csv(_write(tmp_path, GOOD_LINES), 2024, lookup)
    habo = frame.loc[frame["municipality_code"] == "0305"].iloc[0]
    assert math.isnan(habo["count"]) and math.isnan(habo["rate_per_100k"])
    assert "'..'" in habo["missing_reason"] and "blank" in habo["missing_reason"]


def test_codes_are_strings(tmp_path, lookup):
    frame = read_bra_yearly_csv(_write(tmp_path, GOOD_LINES), 2024, lookup)
    assert all(isinstance(code, str) and len(code) == 4 for code in frame["municipality_code"])


def test_wrong_encoding_raises(tmp_path, lookup):
    path = _write(tmp_path, GOOD_LINES, encoding="cp1252")
    with pytest.raises(InputError, match=r"line 3.*utf-8-sig"):
        read_bra_yearly_csv(path, 2024, lookup)


def test_empty_file_raises(tmp_path, lookup):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="non-empty file"):
        read_bra_yearly_csv(path, 2024, lookup)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["Kommun,Antal,Per 100 000 inv.", "Knivsta,1,2"], r"line 1.*';' as column separator"),
        (["Kommun;Antal", "Knivsta;1"], r"line 1, column 3.*Per 100 000 inv\."),
        (["Kommun;Anmälda;Per 100 000 inv.", "Knivsta;1;2"], r"line 1, column 2.*'Antal'"),
        ([HEADER, "Knivsta;12a;2"], r"line 2, column Antal.*'12a'"),
        ([HEADER, "Atlantis;1;2", "Gondor;1;2"], r"column Kommun.*most rows.*'Atlantis'"),
        ([HEADER, "Knivsta;1;2", "Knivsta kommun;1;2"], r"line 3, column Kommun.*line 2"),
        ([HEADER, "Knivsta;-5;2"], r"line 2, column Antal.*0 or more"),
        ([HEADER, "Knivsta;1"], r"line 2.*3 fields"),
        ([HEADER], r"line 2.*at least one data row"),
    ],
)
def test_bad_input_raises_naming_line_and_column(tmp_path, lookup, lines, message):
    with pytest.raises(InputError, match=message):
        read_bra_yearly_csv(_write(tmp_path, lines), 2024, lookup)


def test_header_less_2021_file_reads_its_first_line_as_data(tmp_path, lookup):
    # The 2021 file starts with data; SYNTHETIC numbers.
    frame = read_bra_yearly_csv(
        _write(tmp_path, ["Ale kommun;2731;8547", "Knivsta;1;2"]), 2021, lookup
    )
    assert frame["municipality_code"].tolist() == ["1440", "0330"]
    assert frame["count"].tolist() == [2731.0, 1.0]


def test_genitive_kommun_name_maps_to_the_municipality(tmp_path, lookup):
    frame = read_bra_yearly_csv(_write(tmp_path, [HEADER, "Arjeplogs kommun;10;20"]), 2024, lookup)
    assert frame["municipality_code"].item() == "2506"


def test_en_dash_in_a_name_maps_like_a_hyphen(tmp_path, lookup):
    frame = read_bra_yearly_csv(_write(tmp_path, [HEADER, "Malung\u2013Sälen;10;20"]), 2024, lookup)
    assert frame["municipality_code"].item() == "2023"


def test_stockholm_district_row_is_kept_unmapped_not_dropped(tmp_path, lookup):
    lines = [HEADER, "Stockholm;100;200", "Rinkeby-Kista;10;20", "Knivsta;1;2"]
    frame = read_bra_yearly_csv(_write(tmp_path, lines), 2024, lookup)
    assert len(frame) == 3
    assert unmapped_rows(frame, "f.csv") == ["f.csv: Rinkeby-Kista"]
    assert set(yearly_to_tidy(frame)["municipality_code"]) == {"0180", "0330"}
