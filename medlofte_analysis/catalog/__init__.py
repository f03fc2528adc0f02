"""The indicator catalog: what each indicator measures and how to read a change, in advance.

The catalog is data (`indicators.csv` beside this file); `load_catalog` reads and validates it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import read_csv_strict
from medlofte_analysis.config import CATALOG_PATH
from medlofte_analysis.errors import InputError

FOCUS_AREAS: dict[str, str] = {
    "unga": "Unga med normbrytande beteende",
    "narvaro": "Polisiär närvaro på prioriterade platser (trafik, skolor)",
    "narkotika": "Insatser i samverkan mot narkotika",
    "vald_nara_relation": "Våld i nära relation",
    "kontext": "Bakgrund (inget fokusområde)",
}
SOURCES: frozenset[str] = frozenset(
    {"bra_lagesbild", "bra_yearly_csv", "kolada", "survey_template"}
)
KINDS: frozenset[str] = frozenset({"outcome", "police_activity", "survey", "context"})
DIRECTIONS: frozenset[str] = frozenset({"decrease", "increase", "ambiguous", "none"})
COLUMNS: tuple[str, ...] = (
    "indicator_id",
    "name_sv",
    "name_en",
    "focus_area",
    "source",
    "source_ref",
    "unit",
    "kind",
    "desired_direction",
    "primary",
    "interpretation_sv",
    "series_breaks",
)


def load_catalog(path: Path = CATALOG_PATH) -> pd.DataFrame:
    """Read the indicator catalog and check every column holds an allowed value."""
    frame = read_csv_strict(path, COLUMNS)
    allowed = {
        "focus_area": set(FOCUS_AREAS),
        "source": SOURCES,
        "kind": KINDS,
        "desired_direction": DIRECTIONS,
        "primary": {"true", "false"},
    }
    for column, values in allowed.items():
        bad = ~frame[column].isin(values)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                path,
                f"row {row + 2}, column {column}",
                f"one of {sorted(values)}",
                frame[column].iloc[row],
            )
    duplicated = frame["indicator_id"].duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {row + 2}, column indicator_id",
            "a unique id",
            frame["indicator_id"].iloc[row],
        )
    frame["primary"] = frame["primary"] == "true"
    return frame.loc[:, list(COLUMNS)]


def kolada_kpis(indicator_ids: Iterable[str], catalog: pd.DataFrame | None = None) -> list[str]:
    """The Kolada KPI ids (e.g. "N07544") behind these indicators, in order, without repeats.

    The one place that maps indicators to Kolada series: indicators from other sources add
    nothing. Unknown indicator ids raise an InputError naming the catalog.
    """
    catalog = load_catalog() if catalog is None else catalog
    by_id = catalog.set_index("indicator_id")
    kpis: dict[str, None] = {}
    for indicator_id in indicator_ids:
        if indicator_id not in by_id.index:
            raise InputError(CATALOG_PATH, "column indicator_id", "a known indicator", indicator_id)
        row = by_id.loc[indicator_id]
        if row["source"] == "kolada":
            kpis.setdefault(str(row["source_ref"]), None)
    return list(kpis)
