"""Names → four-character codes through Kolada's list; an unknown name is an error."""

import pandas as pd
import pytest

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.municipalities import (
    codes_for_names,
    load_kolada_municipalities,
    name_lookup,
)


@pytest.fixture(scope="module")
def lookup():
    return name_lookup(
        load_kolada_municipalities(RAW_DIR / "kolada_rkolada_sysdata" / "kolada_municipalities.csv")
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Knivsta", "0330"),
        ("Knivsta kommun", "0330"),
        ("KNIVSTA", "0330"),
        ("Malung-Sälen", "2023"),
        ("Upplands\u00a0Väsby", "0114"),
        ("Dalarnas län", "0020"),
        ("Uppsala län", "0003"),
        ("Hela landet", "0000"),
        ("Falu kommun", "2080"),
    ],
)
def test_known_spellings_map_to_codes(lookup, name, code):
    assert codes_for_names(pd.Series([name]), lookup, "f.csv", "Kommun").tolist() == [code]


def test_unknown_name_is_an_error_naming_file_row_and_name(lookup):
    names = pd.Series(["Knivsta", "Knivstad"])
    with pytest.raises(InputError, match=r"f\.csv: row 3, column Kommun.*'Knivstad'"):
        codes_for_names(names, lookup, "f.csv", "Kommun")


def test_codes_are_four_character_strings():
    frame = load_kolada_municipalities(
        RAW_DIR / "kolada_rkolada_sysdata" / "kolada_municipalities.csv"
    )
    assert frame["code"].str.len().eq(4).all()
    assert len(frame.loc[frame["type"] == "K"]) == 290
