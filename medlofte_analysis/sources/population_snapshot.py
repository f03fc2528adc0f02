"""Population snapshots in data/raw other than SCB's API: Kolada N01951 2010–2016 by name
(jensfinnas/dagenssamhalle-notebooks) and SCB figures quoted on public pages (secondary)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import parse_swedish_number
from medlofte_analysis.errors import InputError
from medlofte_analysis.municipalities import codes_for_names

KOLADA_2010_2016_COLUMNS: tuple[str, ...] = ("Nyckeltal", "Region", "År", "Invånare")


def read_kolada_population_by_name(path: Path, lookup: dict[str, str]) -> pd.DataFrame:
    """Kolada "Invånare totalt, antal" by municipality name and year → population rows."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [column for column in KOLADA_2010_2016_COLUMNS if column not in frame.columns]
    if missing or frame.empty:
        raise InputError(
            path, "header row", f"columns {list(KOLADA_2010_2016_COLUMNS)}", list(frame.columns)
        )
    codes = codes_for_names(frame["Region"], lookup, path, "Region")
    parsed = [
        parse_swedish_number(text, path, f"row {i + 2}, column Invånare")
        for i, text in enumerate(frame["Invånare"])
    ]
    return pd.DataFrame(
        {
            "municipality_code": codes,
            "year": frame["År"].astype(int),
            "age_group": "total",
            "sex": "total",
            "population": [v if v is not None else float("nan") for v, _ in parsed],
            "quality": "primary",
            "population_source": "Kolada N01951 Invånare totalt, antal (SCB, 31 december)",
        }
    )
