"""Municipality names → four-character codes, through one table: Kolada's municipality list.

Sources name municipalities differently ("Knivsta", "Knivsta kommun", "Dalarnas län",
"Hela landet").
`catalog/municipality_name_variants.csv` lists the variants the sources really use; an unknown
name is an error that names it, never a silent drop.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import read_csv_strict
from medlofte_analysis.config import PACKAGE_DIR
from medlofte_analysis.errors import InputError

VARIANTS_PATH: Path = PACKAGE_DIR / "catalog" / "municipality_name_variants.csv"
KOLADA_LIST: str = "kolada_rkolada_sysdata/kolada_municipalities.csv"


def normalise_name(name: str) -> str:
    """Unicode NFC, non-breaking spaces to spaces, collapsed white space, lower case."""
    text = unicodedata.normalize("NFC", str(name)).replace("\u00a0", " ")
    return " ".join(text.split()).casefold()


def load_kolada_municipalities(path: Path) -> pd.DataFrame:
    """Read Kolada's municipality list (`id,title,type`), codes kept as 4-character strings."""
    frame = read_csv_strict(path, ("id", "title", "type"))
    bad = frame.loc[~frame["id"].str.fullmatch(r"\d{4}")]
    if not bad.empty:
        row = int(bad.index[0]) + 2
        raise InputError(path, f"row {row}, column id", "a four-digit code", bad["id"].iloc[0])
    return frame.rename(columns={"id": "code", "title": "name"}).sort_values(
        "code", ignore_index=True
    )


def name_lookup(
    municipalities: pd.DataFrame, variants_path: Path = VARIANTS_PATH
) -> dict[str, str]:
    """Map every known spelling (normalised) to its code.

    Each Kolada title maps to its code, also with " kommun" appended (Brå SOL style), plus the
    variants in the variants table.
    """
    lookup: dict[str, str] = {}
    for code, name in zip(municipalities["code"], municipalities["name"], strict=True):
        lookup[normalise_name(name)] = code
        lookup[normalise_name(f"{name} kommun")] = code
    variants = pd.read_csv(variants_path, dtype=str, keep_default_na=False, encoding="utf-8")
    for variant, code in zip(variants["variant"], variants["code"], strict=True):
        lookup[normalise_name(variant)] = code
    return lookup


def codes_for_names(
    names: pd.Series, lookup: dict[str, str], path: Path | str, column: str, first_row: int = 2
) -> pd.Series:
    """Map a column of names to codes; raise naming the file, row and name for an unknown one.

    `first_row` is the file row of the series' first element (2 for a CSV with one header row).
    """
    unique = pd.unique(names.astype(str))
    code_of = {name: lookup.get(normalise_name(name)) for name in unique}
    codes = names.astype(str).map(code_of)
    unknown = codes.isna()
    if unknown.any():
        position = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {first_row + position}, column {column}",
            "a municipality, county or 'Hela landet' name known from Kolada's list "
            "(add a spelling to catalog/municipality_name_variants.csv if it is a real variant)",
            names.iloc[position],
        )
    return codes.astype("string")
