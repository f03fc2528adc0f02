"""Figures transcribed from public web pages (newspapers, RegionFakta, Wikipedia quoting SCB/Brå).

Secondary quotes of official figures: they travel with quality 'secondary' into a table of their
own (context and cross-checks), never into a primary series.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import parse_number_column, parse_year_column, read_csv_strict

COLUMNS: tuple[str, ...] = (
    "kommun_code",
    "kommun",
    "year",
    "indicator",
    "value",
    "unit",
    "publisher_of_figure",
    "page_date",
    "source_url",
    "note",
)
POPULATION_INDICATORS: frozenset[str] = frozenset({"Folkmängd 31 december", "Folkmängd (kommun)"})


def read_transcribed(path: Path) -> pd.DataFrame:
    """Read the transcribed figures as context rows with quality 'secondary'."""
    frame = read_csv_strict(path, COLUMNS)
    numbers, _ = parse_number_column(frame["value"], path, "value")
    return pd.DataFrame(
        {
            "area_code": frame["kommun_code"],
            "area_name": frame["kommun"],
            "year": parse_year_column(frame["year"], path, "year").to_numpy(),
            "indicator": frame["indicator"],
            "value": numbers.to_numpy(),
            "unit": frame["unit"],
            "publisher_of_figure": frame["publisher_of_figure"],
            "page_date": frame["page_date"],
            "source_url": frame["source_url"],
            "note": frame["note"],
            "quality": "secondary",
        }
    )


def transcribed_population(context: pd.DataFrame) -> pd.DataFrame:
    """Population figures among the transcribed rows, as secondary population rows."""
    rows = context.loc[context["indicator"].isin(POPULATION_INDICATORS)]
    return pd.DataFrame(
        {
            # SCB writes the country as "00" and counties as two digits; Kolada pads them to four.
            "municipality_code": rows["area_code"].str.zfill(4),
            "year": rows["year"],
            "age_group": "total",
            "sex": "total",
            "population": rows["value"],
            "quality": "secondary",
            "population_source": rows["publisher_of_figure"] + ", " + rows["source_url"],
        }
    )
