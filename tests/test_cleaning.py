"""Swedish number formats and missing markers."""

import pytest

from medlofte_analysis.cleaning import parse_swedish_number, read_text
from medlofte_analysis.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234", 1234.0),
        ("1\u00a0234,5", 1234.5),
        ("12,5", 12.5),
        ("12.5", 12.5),
        ("−3", -3.0),
        ("9029.49261", 9029.49261),
        (17, 17.0),
    ],
)
def test_parses_swedish_numbers(text, expected):
    assert parse_swedish_number(text, "f.csv", "row 2") == (expected, "")


@pytest.mark.parametrize("marker", ["..", "-", "x", "", "  "])
def test_missing_markers_become_missing_with_a_reason(marker):
    value, reason = parse_swedish_number(marker, "f.csv", "row 2")
    assert value is None and reason


def test_unparseable_number_names_file_and_cell():
    with pytest.raises(InputError, match=r"f\.csv: row 7, column Antal: expected a number"):
        parse_swedish_number("12 st", "f.csv", "row 7, column Antal")


def test_wrong_encoding_names_the_file_and_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Kommun;Antal\nUpplands Väsby;1\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"latin\.csv: line 2.*utf-8-sig"):
        read_text(path)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="non-empty file"):
        read_text(path)


def test_column_parser_matches_the_cell_parser_and_keeps_reasons():
    import pandas as pd

    from medlofte_analysis.cleaning import parse_number_column

    values, reasons = parse_number_column(pd.Series(["1 234,5", "..", "7"]), "f.csv", "varde")
    assert values.tolist()[0] == 1234.5 and values.isna().tolist() == [False, True, False]
    assert reasons.tolist()[1].startswith("suppressed")


def test_column_parser_names_the_first_bad_row():
    import pandas as pd

    from medlofte_analysis.cleaning import parse_number_column

    with pytest.raises(InputError, match=r"row 4, column varde"):
        parse_number_column(pd.Series(["1", "2", "tre"]), "f.csv", "varde")
