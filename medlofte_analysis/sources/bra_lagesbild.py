"""Brå "Indikatorer för kommuners lägesbild" in long form → the tidy indicator table.

The long form (columns geografi, enhet, ar, variabel, varde, kalla) is what Region Dalarna's
parser of Brå's per-municipality workbooks produces (data/raw/bra_kommunindikatorer_region_dalarna),
and what `bra_lagesbild_xlsx.read_lagesbild_workbook` produces from a workbook downloaded from
https://bra.se/statistik/indikatorer-for-kommuners-lagesbild. Anmälda brott rows give a count
("Antal") and a rate ("Antal per 100 000 inv"); NTU rows give a share with its published 95 %
interval and, per area and year, the number of respondents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from medlofte_analysis.cleaning import parse_number_column, parse_year_column, read_csv_strict
from medlofte_analysis.errors import InputError
from medlofte_analysis.municipalities import codes_for_names

LONG_COLUMNS: tuple[str, ...] = ("geografi", "enhet", "ar", "variabel", "varde", "kalla")
KALLA_CRIME = "Anmälda brott"
KALLA_NTU = "Nationella trygghetsundersökningen (NTU)"
ENHET_COUNT = "Antal"
ENHET_RATE = "Antal per 100 000 inv"
ENHET_CI_LOWER = "KI (95 %) undre gräns"
ENHET_CI_UPPER = "KI (95 %) övre gräns"
NTU_RESPONDENTS = "Antal svarande i NTU."
TOTAL_CRIME = "Totalt antal anmälda brott"
POPULATION_NOTE = (
    "härledd: Brå:s antal / antal per 100 000 inv × 100 000 för totalt antal anmälda brott "
    "(derived from Brå's published count and rate)"
)


def read_lagesbild_long(path: Path) -> pd.DataFrame:
    """Read the long table and parse `varde` strictly (missing markers → NaN with a reason)."""
    frame = read_csv_strict(path, LONG_COLUMNS)
    values, reasons = parse_number_column(frame["varde"], path, "varde")
    years = parse_year_column(frame["ar"], path, "ar")
    frame = frame.assign(varde=values, missing_reason=reasons, ar=years)
    key = ["geografi", "enhet", "ar", "variabel"]
    duplicated = frame.duplicated(key)
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {row + 2}",
            f"one row per {key}",
            frame.loc[duplicated, key].iloc[0].tolist(),
        )
    negative = (frame["kalla"] == KALLA_CRIME) & (frame["varde"] < 0)
    if negative.any():
        row = int(negative.to_numpy().nonzero()[0][0])
        raise InputError(
            path, f"row {row + 2}, column varde", "a count or rate ≥ 0", frame["varde"].iloc[row]
        )
    return frame


def lagesbild_to_tidy(
    long: pd.DataFrame,
    catalog: pd.DataFrame,
    lookup: dict[str, str],
    path: Path | str,
) -> tuple[pd.DataFrame, list[str]]:
    """Turn the long table into tidy indicator rows; return them and the unmapped variables.

    Variables not in the catalog are returned (for the build record), never silently dropped.
    Population: the denominator implied by Brå's own count and rate for all reported offences
    (rate rounded to whole numbers, so relative error below 0.5 / rate, about 1e-4).
    """
    mapping = catalog.loc[catalog["source"] == "bra_lagesbild"].set_index("source_ref")
    codes = codes_for_names(long["geografi"], lookup, path, "geografi")
    long = long.assign(municipality_code=codes)
    known = set(mapping.index) | {NTU_RESPONDENTS}
    unmapped = sorted(set(long["variabel"]) - known)
    key = ["municipality_code", "ar", "variabel"]

    crime = long.loc[long["kalla"] == KALLA_CRIME]
    counts = crime.loc[crime["enhet"] == ENHET_COUNT].set_index(key)
    rates = crime.loc[crime["enhet"] == ENHET_RATE].set_index(key)
    orphans = ~counts.index.isin(rates.index)
    if orphans.any():
        code, year, variable = counts.index[orphans][0]
        raise InputError(
            path,
            f"the {ENHET_COUNT!r} row for {variable!r}, {year}, municipality {code}",
            f"a matching {ENHET_RATE!r} row (a count without its rate cannot be used)",
        )
    crime_rows = rates[["varde", "missing_reason"]].rename(columns={"varde": "value"})
    crime_rows["count"] = counts["varde"].reindex(crime_rows.index)
    crime_rows = crime_rows.reset_index()
    totals = crime_rows.loc[crime_rows["variabel"] == TOTAL_CRIME]
    population = (totals["count"] / totals["value"] * 100_000).round()
    population.index = pd.MultiIndex.from_frame(totals[["municipality_code", "ar"]])
    crime_rows["population"] = population.reindex(
        pd.MultiIndex.from_frame(crime_rows[["municipality_code", "ar"]])
    ).to_numpy()
    crime_rows["population_source"] = np.where(
        crime_rows["population"].notna(), POPULATION_NOTE, ""
    )

    ntu = long.loc[long["kalla"] == KALLA_NTU]
    respondents = ntu.loc[ntu["variabel"] == NTU_RESPONDENTS].set_index(["municipality_code", "ar"])
    ntu = ntu.loc[ntu["variabel"] != NTU_RESPONDENTS]
    is_lower = ntu["enhet"] == ENHET_CI_LOWER
    is_upper = ntu["enhet"] == ENHET_CI_UPPER
    shares = ntu.loc[~is_lower & ~is_upper].set_index(key)
    ntu_rows = shares[["varde", "missing_reason"]].rename(columns={"varde": "value"})
    ntu_rows["ci_lower"] = ntu.loc[is_lower].set_index(key)["varde"].reindex(ntu_rows.index)
    ntu_rows["ci_upper"] = ntu.loc[is_upper].set_index(key)["varde"].reindex(ntu_rows.index)
    ntu_rows = ntu_rows.reset_index()
    ntu_rows["n_respondents"] = (
        respondents["varde"]
        .reindex(pd.MultiIndex.from_frame(ntu_rows[["municipality_code", "ar"]]))
        .to_numpy()
    )

    tidy = pd.concat([crime_rows, ntu_rows], ignore_index=True)
    tidy = tidy.loc[tidy["variabel"].isin(mapping.index)]
    tidy = tidy.assign(
        indicator_id=tidy["variabel"].map(mapping["indicator_id"]),
        unit=tidy["variabel"].map(mapping["unit"]),
        year=tidy["ar"].astype(int),
        quality="primary",
    )
    return tidy.drop(columns=["variabel", "ar"]), unmapped
