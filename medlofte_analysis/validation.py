"""Validation of the processed tables: a schema (types, ranges, unique key, known codes, years).

Run at the end of every build and by `medlofte validate`. Each problem names the table, the row
(by its key) and what was expected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from medlofte_analysis.manifest import sha256_file
from medlofte_analysis.schema import (
    INDICATOR_COLUMNS,
    INDICATOR_KEY,
    POPULATION_COLUMNS,
    POPULATION_KEY,
    QUALITIES,
    YEAR_RANGE,
)


class ValidationError(ValueError):
    """A processed table breaks the schema."""


def _describe(frame: pd.DataFrame, mask: pd.Series, key: tuple[str, ...]) -> str:
    first = frame.loc[mask, list(key)].iloc[0]
    return ", ".join(f"{column}={first[column]}" for column in key)


def _check_columns(frame: pd.DataFrame, columns: dict, table: str) -> list[str]:
    expected = list(columns)
    if list(frame.columns) != expected:
        return [f"{table}: expected columns {expected}, found {list(frame.columns)}"]
    return []


def _check_common(
    frame: pd.DataFrame,
    table: str,
    key: tuple[str, ...],
    known_codes: set[str],
    known_sources: set[str],
    sha_by_path: dict[str, str],
) -> list[str]:
    problems: list[str] = []
    duplicated = frame.duplicated(list(key), keep=False)
    if duplicated.any():
        problems.append(
            f"{table}: key {list(key)} not unique at {_describe(frame, duplicated, key)}"
        )
    bad_code = ~frame["municipality_code"].isin(known_codes)
    if bad_code.any():
        problems.append(f"{table}: unknown municipality code at {_describe(frame, bad_code, key)}")
    years = frame["year"]
    bad_year = (years < YEAR_RANGE[0]) | (years > YEAR_RANGE[1])
    if bad_year.any():
        problems.append(f"{table}: year outside {YEAR_RANGE} at {_describe(frame, bad_year, key)}")
    bad_quality = ~frame["quality"].isin(QUALITIES)
    if bad_quality.any():
        problems.append(
            f"{table}: quality not in {sorted(QUALITIES)} at {_describe(frame, bad_quality, key)}"
        )
    bad_source = ~frame["source_id"].isin(known_sources)
    if bad_source.any():
        problems.append(
            f"{table}: source_id not in sources.csv at {_describe(frame, bad_source, key)}"
        )
    recorded = frame["raw_path"].map(sha_by_path)
    bad_sha = recorded != frame["raw_sha256"]
    if bad_sha.any():
        problems.append(
            f"{table}: raw_sha256 does not match the manifest at {_describe(frame, bad_sha, key)}"
        )
    return problems


def validate_indicators(
    frame: pd.DataFrame,
    known_codes: set[str],
    known_indicators: set[str],
    known_sources: set[str],
    sha_by_path: dict[str, str],
) -> list[str]:
    """Return the schema problems of the indicator table (empty list: valid)."""
    problems = _check_columns(frame, INDICATOR_COLUMNS, "indicators")
    if problems:
        return problems
    key = INDICATOR_KEY
    problems += _check_common(frame, "indicators", key, known_codes, known_sources, sha_by_path)
    unknown = ~frame["indicator_id"].isin(known_indicators)
    if unknown.any():
        problems.append(f"indicators: indicator not in catalog at {_describe(frame, unknown, key)}")
    for column in ("value", "count", "population", "ci_lower", "ci_upper", "n_respondents"):
        negative = frame[column] < 0
        if negative.any():
            problems.append(f"indicators: negative {column} at {_describe(frame, negative, key)}")
    fractional = frame["count"].notna() & (frame["count"] % 1 != 0)
    if fractional.any():
        problems.append(
            f"indicators: count not a whole number at {_describe(frame, fractional, key)}"
        )
    share = frame["unit"] == "procent"
    over = share & (frame["value"] > 100)
    if over.any():
        problems.append(f"indicators: share above 100 % at {_describe(frame, over, key)}")
    outside = (frame["ci_lower"] > frame["value"]) | (frame["ci_upper"] < frame["value"])
    if outside.any():
        problems.append(
            f"indicators: value outside its published interval at {_describe(frame, outside, key)}"
        )
    unexplained = frame["value"].isna() & (frame["missing_reason"] == "")
    if unexplained.any():
        problems.append(
            f"indicators: missing value without a reason at {_describe(frame, unexplained, key)}"
        )
    return problems


def validate_population(
    frame: pd.DataFrame,
    known_codes: set[str],
    known_sources: set[str],
    sha_by_path: dict[str, str],
) -> list[str]:
    """Return the schema problems of the population table (empty list: valid)."""
    problems = _check_columns(frame, POPULATION_COLUMNS, "population")
    if problems:
        return problems
    problems += _check_common(
        frame, "population", POPULATION_KEY, known_codes, known_sources, sha_by_path
    )
    bad = ~(frame["population"] > 0)
    if bad.any():
        problems.append(
            f"population: population not > 0 at {_describe(frame, bad, POPULATION_KEY)}"
        )
    return problems


def check_processed_record(processed_dir: Path) -> list[str]:
    """Compare each processed table with the sha256 that `build_record.json` lists for it.

    A table edited, truncated or replaced after the build (or a mix of two builds) no longer
    matches its record; the problem names the file and says to rebuild.
    """
    record_path = Path(processed_dir) / "build_record.json"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        outputs = {entry["path"]: entry["sha256"] for entry in record["outputs"]}
    except FileNotFoundError:
        return [f"{record_path}: saknas; kör `medlofte build`"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"{record_path}: inte en byggpost med `outputs` ({error}); kör `medlofte build`"]
    problems: list[str] = []
    for name, expected in sorted(outputs.items()):
        path = Path(processed_dir) / name
        if Path(name).name != name:
            problems.append(f"{record_path}: otillåten sökväg {name!r} i `outputs`")
        elif not path.is_file():
            problems.append(f"{path}: saknas, men finns i build_record.json; kör `medlofte build`")
        elif sha256_file(path) != expected:
            problems.append(
                f"{path}: sha256 stämmer inte med build_record.json (filen har ändrats eller "
                "kortats efter bygget); kör `medlofte build`"
            )
    return problems
