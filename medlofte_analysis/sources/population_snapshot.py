"""Population snapshots in data/raw other than SCB's API: Kolada N01951 2010–2016 by name
(jensfinnas/dagenssamhalle-notebooks) and SCB figures quoted on public pages (secondary)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import parse_number_column, parse_year_column, read_csv_strict
from medlofte_analysis.municipalities import codes_for_names

KOLADA_2010_2016_COLUMNS: tuple[str, ...] = ("Nyckeltal", "Region", "År", "Invånare")


def read_kolada_population_by_name(path: Path, lookup: dict[str, str]) -> pd.DataFrame:
    """Kolada "Invånare totalt, antal" by municipality name and year → population rows."""
    frame = read_csv_strict(path, KOLADA_2010_2016_COLUMNS)
    codes = codes_for_names(frame["Region"], lookup, path, "Region")
    numbers, _ = parse_number_column(frame["Invånare"], path, "Invånare")
    return pd.DataFrame(
        {
            "municipality_code": codes,
            "year": parse_year_column(frame["År"], path, "År").to_numpy(),
            "age_group": "total",
            "sex": "total",
            "population": numbers.to_numpy(),
            "quality": "primary",
            "population_source": "Kolada N01951 Invånare totalt, antal (SCB, 31 december)",
        }
    )
