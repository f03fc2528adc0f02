"""Bad input in the Brå lägesbild long table gets an error naming file, row and expectation."""

import pytest

from medlofte_analysis.errors import InputError
from medlofte_analysis.sources.bra_lagesbild import read_lagesbild_long

HEADER = "geografi,enhet,ar,variabel,varde,kalla\n"
ROW = "Orsa,Antal,2022,Narkotikabrott,{value},Anmälda brott\n"


def _write(tmp_path, text):
    path = tmp_path / "long.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_negative_count_is_rejected(tmp_path):
    with pytest.raises(InputError, match=r"row 2, column varde.*≥ 0"):
        read_lagesbild_long(_write(tmp_path, HEADER + ROW.format(value="-3")))


def test_duplicate_key_is_rejected(tmp_path):
    text = HEADER + ROW.format(value="3") + ROW.format(value="4")
    with pytest.raises(InputError, match=r"row 3.*one row per"):
        read_lagesbild_long(_write(tmp_path, text))


def test_renamed_column_is_rejected(tmp_path):
    text = HEADER.replace("varde", "value") + ROW.format(value="3")
    with pytest.raises(InputError, match=r"header row.*varde"):
        read_lagesbild_long(_write(tmp_path, text))


def test_suppressed_cell_becomes_missing_not_zero(tmp_path):
    frame = read_lagesbild_long(_write(tmp_path, HEADER + ROW.format(value="..")))
    assert frame["varde"].isna().all() and frame["missing_reason"].iloc[0].startswith("suppressed")


def test_semicolon_separated_file_is_a_clear_error(tmp_path):
    text = HEADER.replace(",", ";") + ROW.format(value="3").replace(",", ";")
    with pytest.raises(InputError, match=r"header row: expected columns separated by ','"):
        read_lagesbild_long(_write(tmp_path, text))


def test_latin1_file_is_a_clear_error(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes((HEADER + ROW.format(value="3")).encode("latin-1"))
    with pytest.raises(InputError, match=r"line 2.*utf-8"):
        read_lagesbild_long(path)


def test_header_only_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"at least one data row"):
        read_lagesbild_long(_write(tmp_path, HEADER))
