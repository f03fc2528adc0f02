"""Kolada snapshots already in data/raw: the municipality list, municipality groups, and the
2025 values of N07540 (anmälda brott totalt per 100 000 inv) and N01951 (invånare totalt) that
Cortxt-io/juvahem fetched from the Kolada v3 API (one year, all 290 municipalities).

Kolada's API responses themselves are parsed by `kolada_api`; these are tables derived from them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import parse_number_column, parse_year_column, read_csv_strict
from medlofte_analysis.errors import InputError

JUVAHEM_COLUMNS: tuple[str, ...] = (
    "kommun_code",
    "kommun",
    "year",
    "kolada_kpi",
    "indicator",
    "value",
    "unit",
    "source",
)
GROUP_COLUMNS: tuple[str, ...] = ("group_id", "group_title", "member_id", "member_title")
POPULATION_KPI = "N01951"


def read_juvahem_values(path: Path) -> pd.DataFrame:
    """Read the juvahem Kolada table: kpi, municipality_code, year, value (codes as strings)."""
    frame = read_csv_strict(path, JUVAHEM_COLUMNS)
    bad = ~frame["kommun_code"].str.fullmatch(r"\d{4}")
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {row + 2}, column kommun_code",
            "a four-digit code",
            frame["kommun_code"].iloc[row],
        )
    numbers, reasons = parse_number_column(frame["value"], path, "value")
    return pd.DataFrame(
        {
            "kpi": frame["kolada_kpi"],
            "municipality_code": frame["kommun_code"],
            "year": parse_year_column(frame["year"], path, "year").to_numpy(),
            "value": numbers.to_numpy(),
            "missing_reason": reasons.to_numpy(),
        }
    )


def kolada_values_to_tidy(values: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Kolada KPI values (kpi, municipality_code, year, value) → tidy indicator rows.

    Kolada publishes rates only; counts stay missing here (the evaluation derives them from
    rate × population and says so). Only KPIs in the catalog are kept; the population KPI goes to
    the population table instead.
    """
    mapping = catalog.loc[catalog["source"] == "kolada"].set_index("source_ref")
    rows = values.loc[values["kpi"].isin(mapping.index)]
    return rows.assign(
        indicator_id=rows["kpi"].map(mapping["indicator_id"]),
        unit=rows["kpi"].map(mapping["unit"]),
        quality="primary",
    ).drop(columns=["kpi"])


def kolada_population(values: pd.DataFrame) -> pd.DataFrame:
    """The N01951 (invånare totalt, 31 december) rows as population rows."""
    rows = values.loc[values["kpi"] == POPULATION_KPI]
    return pd.DataFrame(
        {
            "municipality_code": rows["municipality_code"],
            "year": rows["year"],
            "age_group": "total",
            "sex": "total",
            "population": rows["value"],
            "quality": "primary",
            "population_source": "Kolada N01951 Invånare totalt, antal (SCB, 31 december)",
        }
    )


def read_municipality_groups(path: Path) -> pd.DataFrame:
    """Kolada's municipality groups, long: group_id, group_title, member_code, member_name."""
    frame = read_csv_strict(path, GROUP_COLUMNS)
    bad = ~frame["member_id"].str.fullmatch(r"\d{4}")
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {row + 2}, column member_id",
            "a four-digit code",
            frame["member_id"].iloc[row],
        )
    return frame.rename(columns={"member_id": "member_code", "member_title": "member_name"})
