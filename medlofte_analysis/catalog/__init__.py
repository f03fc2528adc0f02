"""The indicator catalog: what each indicator measures and how to read a change, in advance.

The catalog is data (`indicators.csv` beside this file); `load_catalog` reads and validates it.

Indicators are concepts, sources are alternatives: each row is one source's series (a Kolada
KPI, a variable of Brå's lägesbild, Brå's yearly file). Rows that publish the same measure
share a `concept` id (e.g. `narkotikabrott`: Kolada N07544 and Brå's "Narkotikabrott"). An
evaluation file may name a concept (the evaluation then uses, per municipality, the best source
that has the years it needs) or one row's `indicator_id` (that source only). A row with no
concept is a concept of its own.
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
    "concept",
)
# Preference among a concept's sources when several have the years an evaluation needs:
# Kolada publishes every municipality with one definition and a fetch date; Brå's lägesbild
# is the same statistics per municipality workbook; Brå's yearly file lacks some years.
SOURCE_PREFERENCE: tuple[str, ...] = (
    "kolada",
    "bra_lagesbild",
    "bra_yearly_csv",
    "survey_template",
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
    clash = frame["concept"].isin(set(frame["indicator_id"]))
    if clash.any():
        row = int(clash.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {row + 2}, column concept",
            "a concept id that is not also an indicator id",
            frame["concept"].iloc[row],
        )
    frame["primary"] = frame["primary"] == "true"
    return frame.loc[:, list(COLUMNS)]


def alternatives(catalog: pd.DataFrame, name: str) -> list[str]:
    """The indicator ids an evaluation file's `name` may use, best source first.

    A concept id gives every row of the concept, ordered by `SOURCE_PREFERENCE` (then catalog
    order); an indicator id gives itself only; an unknown name gives [].
    """
    if name in set(catalog["indicator_id"]):
        return [name]
    rows = catalog.loc[catalog["concept"] == name]
    rank = rows["source"].map({s: i for i, s in enumerate(SOURCE_PREFERENCE)})
    return rows.assign(rank=rank).sort_values("rank", kind="mergesort")["indicator_id"].tolist()


def known_names(catalog: pd.DataFrame) -> set[str]:
    """Every name an evaluation file may use: indicator ids and concept ids."""
    return set(catalog["indicator_id"]) | set(catalog["concept"]) - {""}


def kolada_kpis(indicator_ids: Iterable[str], catalog: pd.DataFrame | None = None) -> list[str]:
    """The Kolada KPIs (e.g. "N07544") behind the given indicator or concept ids, sorted.

    A concept contributes the KPI of its Kolada alternative; an indicator id from another
    source contributes the Kolada KPI of its concept, if any (the series to fetch for it).
    """
    catalog = load_catalog() if catalog is None else catalog
    concept_of = dict(zip(catalog["indicator_id"], catalog["concept"], strict=True))
    kpis: set[str] = set()
    for name in indicator_ids:
        names = {name, concept_of.get(name, "")} - {""}
        for each in names:
            rows = catalog.loc[catalog["indicator_id"].isin(alternatives(catalog, each))]
            kpis |= set(rows.loc[rows["source"] == "kolada", "source_ref"])
    return sorted(kpis)
