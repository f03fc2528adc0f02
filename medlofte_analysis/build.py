"""Raw → processed: a pure function of the files in data/raw and this code.

Stages follow owid/etl: load inputs, process, sanity-check outputs, save outputs. Outputs are
sorted tidy tables written to a temporary folder and moved into place only when every table has
passed validation, so a failed build leaves the previous data/processed/ intact. Two builds of
the same raw files give identical bytes (no timestamps; fixed sort order and number format).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medlofte_analysis import __version__, workbooks
from medlofte_analysis.catalog import load_catalog
from medlofte_analysis.config import CATALOG_PATH
from medlofte_analysis.errors import InputError
from medlofte_analysis.manifest import read_manifest, read_sources, sha256_file, verify_raw
from medlofte_analysis.municipalities import load_kolada_municipalities, name_lookup
from medlofte_analysis.schema import (
    INDICATOR_COLUMNS,
    INDICATOR_KEY,
    POPULATION_COLUMNS,
    POPULATION_KEY,
)
from medlofte_analysis.sources import (
    bra_lagesbild,
    bra_lagesbild_xlsx,
    bra_yearly_csv,
    kolada_api,
    kolada_snapshot,
    population_snapshot,
    scb_pxweb,
    surveys,
    web_transcribed,
)
from medlofte_analysis.validation import ValidationError, validate_indicators, validate_population

LAGESBILD_LONG = "bra_kommunindikatorer_region_dalarna/bra_kommunindikatorer_dalarna_riket.csv"
KOLADA_MUNICIPALITIES = "kolada_rkolada_sysdata/kolada_municipalities.csv"
KOLADA_GROUPS = "kolada_rkolada_sysdata/kolada_municipality_groups_long.csv"
KOLADA_JUVAHEM = "kolada_via_juvahem/kolada_N07540_N01951_latest_all_kommuner.csv"
POPULATION_2010_2016 = "bra_sol_and_kolada_pop_jensfinnas/kolada_befolkning_2010_2016.csv"
WEB_TRANSCRIBED = "web_pages_transcribed/transcribed_page_figures.csv"
# The shipped snapshots every build reads (fetched ones are found by their path patterns).
SHIPPED_INPUTS: tuple[str, ...] = (
    LAGESBILD_LONG,
    KOLADA_MUNICIPALITIES,
    KOLADA_GROUPS,
    KOLADA_JUVAHEM,
    POPULATION_2010_2016,
    WEB_TRANSCRIBED,
)

OUTPUT_FILES: tuple[str, ...] = (
    "indicators.csv",
    "population.csv",
    "context_figures.csv",
    "municipalities.csv",
    "municipality_groups.csv",
    "build_record.json",
)


KOLADA_PAGE = re.compile(r"^kolada_api/[^/]+/page-\d+\.json$")
SCB_POPULATION = re.compile(r"^scb_pxweb/[^/]+/befolkning(-\d+)?\.json$")
LAGESBILD_XLSX = re.compile(r"^bra_lagesbild_xlsx/.+\.xlsx$")
SURVEY_XLSX = re.compile(r"^enkater/.+\.xlsx$")
BRA_YEARLY_CSV = re.compile(r"^bra_yearly_csv/.*?(\d{4})[^/]*\.csv$")


@dataclass(frozen=True)
class BuildResult:
    """What a build produced: the tables (in memory) and the record written beside them."""

    indicators: pd.DataFrame
    population: pd.DataFrame
    context: pd.DataFrame
    municipalities: pd.DataFrame
    groups: pd.DataFrame
    record: dict


def _provenance(frame: pd.DataFrame, relative: str, entries: dict[str, dict]) -> pd.DataFrame:
    entry = entries[relative]
    if "indicator_id" in frame:
        _refuse_conflicts(frame, INDICATOR_KEY, relative)
    elif "age_group" in frame:
        _refuse_conflicts(frame, POPULATION_KEY[:-1], relative)
    return frame.assign(source_id=entry["source_id"], raw_path=relative, raw_sha256=entry["sha256"])


def _refuse_conflicts(frame: pd.DataFrame, key: tuple[str, ...], relative: str) -> None:
    """Refuse two rows of one raw file with the same key and different values.

    Identical repeats are harmless and are dropped later (counted in the build record under
    `identical_duplicate_rows_dropped`); a conflict would otherwise be settled silently by
    whichever row came last.
    """
    repeated = frame.loc[frame.duplicated(list(key), keep=False)]
    if repeated.empty:
        return
    distinct = repeated.astype(str).drop_duplicates()
    conflicting = distinct.duplicated(list(key), keep=False)
    if not conflicting.any():
        return
    first = distinct.loc[conflicting].iloc[0]
    where = ", ".join(f"{column}={first[column]}" for column in key)
    rows = distinct.loc[(distinct[list(key)] == first[list(key)]).all(axis=1)]
    differing = [c for c in rows.columns if rows[c].nunique() > 1]
    raise InputError(
        relative,
        f"the rows with {where}",
        "one value per key (two rows of the file disagree; remove the wrong one)",
        {c: rows[c].tolist() for c in differing},
    )


def _drop_identical(frame: pd.DataFrame, key: tuple[str, ...]) -> tuple[pd.DataFrame, dict]:
    """Drop identical repeats of a key within one raw file; count them by file."""
    repeated = frame.duplicated([*key, "raw_path"], keep="first")
    counts = {
        path: int(n) for path, n in sorted(frame.loc[repeated, "raw_path"].value_counts().items())
    }
    return frame.loc[~repeated], counts


def _refuse_non_finite(frame: pd.DataFrame, key: tuple[str, ...], table: str) -> None:
    """No ±Infinity in any number column (e.g. `Infinity` in JSON or an overflowing 1e309)."""
    numbers = frame.select_dtypes("number")
    infinite = ~np.isfinite(numbers.to_numpy(dtype="float64")) & numbers.notna().to_numpy()
    if infinite.any():
        row, column = (int(i[0]) for i in infinite.nonzero())
        first = frame.iloc[row]
        where = ", ".join(f"{c}={first[c]}" for c in key)
        raise InputError(
            first.get("raw_path", table),
            f"{table} row with {where}, column {numbers.columns[column]}",
            "a finite number",
            numbers.iloc[row, column],
        )


def _conform(frame: pd.DataFrame, columns: dict, key: tuple[str, ...]) -> pd.DataFrame:
    out = frame.reindex(columns=list(columns))
    for column, (dtype, _) in columns.items():
        if dtype == "float":
            out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
        elif dtype == "int":
            out[column] = out[column].astype("int64")
        else:
            out[column] = out[column].fillna("").astype(str)
    return out.sort_values(list(key), kind="mergesort", ignore_index=True)


def _attach_population(indicators: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Give rate-only rows (Kolada) the primary published total population of their year."""
    totals = population.loc[
        (population["quality"] == "primary")
        & (population["age_group"] == "total")
        & (population["sex"] == "total")
    ]
    by_key = totals.groupby(["municipality_code", "year"])[["population", "population_source"]]
    latest = by_key.last()
    key = pd.MultiIndex.from_frame(indicators[["municipality_code", "year"]])
    if "population" not in indicators:
        indicators = indicators.assign(population=np.nan, population_source="")
    needs = (indicators["population"].isna() & (indicators["unit"] == "per 100 000 inv")).to_numpy()
    found = latest.reindex(key)
    population_values = np.where(
        needs, found["population"].to_numpy(), indicators["population"].to_numpy()
    )
    source_values = np.where(
        needs,
        found["population_source"].fillna("").to_numpy(),
        indicators["population_source"].fillna("").to_numpy(),
    )
    return indicators.assign(population=population_values, population_source=source_values)


def survey_to_tidy(frame: pd.DataFrame, catalog: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Survey results typed into the template → tidy indicator rows (quality 'transcribed')."""
    units = catalog.set_index("indicator_id")["unit"]
    unknown = ~frame["indicator_id"].isin(units.index)
    if unknown.any():
        position = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"sheet Resultat, data row {position + 1} (blank rows not counted), "
            "column indikator_id",
            "an indicator id from the catalog (e.g. ptm_problemindex)",
            frame["indicator_id"].iloc[position],
        )
    sources = catalog.set_index("indicator_id")["source"]
    foreign = frame["indicator_id"].map(sources) != "survey_template"
    if foreign.any():
        position = int(foreign.to_numpy().nonzero()[0][0])
        indicator = frame["indicator_id"].iloc[position]
        raise InputError(
            path,
            f"sheet Resultat, data row {position + 1} (blank rows not counted), "
            "column indikator_id",
            "a survey indicator (source survey_template in the catalog, e.g. ptm_oro_brott); "
            f"{indicator} comes from {sources[indicator]}",
            indicator,
        )
    key = ["municipality_code", "year", "indicator_id"]
    groups = frame.duplicated(key, keep=False)
    if groups.any():
        rows = frame.loc[groups]
        first = rows.iloc[0]
        same = rows.loc[(rows[key] == first[key]).all(axis=1)]
        positions = [int(i) + 1 for i in (frame.index.get_indexer(same.index))]
        raise InputError(
            path,
            f"sheet Resultat, data rows {positions} (blank rows not counted)",
            "one result per municipality, year and indicator (the table keeps one group: "
            "type the group the indicator is defined for, e.g. 'åk 9', and leave out the others)",
            same["group"].tolist(),
        )
    return pd.DataFrame(
        {
            "municipality_code": frame["municipality_code"],
            "year": frame["year"],
            "indicator_id": frame["indicator_id"],
            "value": frame["share_percent"],
            "unit": frame["indicator_id"].map(units),
            "ci_lower": frame["ci_lower"],
            "ci_upper": frame["ci_upper"],
            "n_respondents": frame["n_respondents"],
            "missing_reason": frame["missing_reason"],
            "quality": "transcribed",
        }
    )


def _fetched_snapshots(
    raw_dir: Path, entries: dict[str, dict], catalog: pd.DataFrame, lookup: dict[str, str]
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[str], list[str]]:
    """Snapshots added by `medlofte fetch`: Kolada API pages, SCB population, Brå workbooks.

    Returns indicator frames, population frames, the unmapped Brå variables and the rows of Brå
    yearly files that name no municipality (listed in the build record). Files are read
    in path order (fetch dates sort), so a later snapshot of the same key replaces an earlier
    one when the frames are de-duplicated by the caller.
    """
    indicator_frames: list[pd.DataFrame] = []
    population_frames: list[pd.DataFrame] = []
    unmapped: list[str] = []
    unmapped_rows: list[str] = []
    for relative in sorted(entries):
        path = raw_dir / relative
        if KOLADA_PAGE.match(relative):
            values = kolada_api.read_kolada_pages([path])
            values = values.loc[values["gender"] == "T"]
            indicator_frames.append(
                _provenance(
                    kolada_snapshot.kolada_values_to_tidy(values, catalog), relative, entries
                )
            )
            population_frames.append(
                _provenance(kolada_snapshot.kolada_population(values), relative, entries)
            )
        elif SCB_POPULATION.match(relative):
            frame = scb_pxweb.parse_population(kolada_api.load_json(path), str(path))
            population_frames.append(
                _provenance(
                    pd.DataFrame(
                        {
                            "municipality_code": frame["municipality_code"],
                            "year": frame["year"],
                            "age_group": frame["age"],
                            "sex": frame["sex"],
                            "population": frame["population"],
                            "quality": "primary",
                            "population_source": "SCB BE0101N1 Folkmängd 31 december (PxWeb)",
                        }
                    ).dropna(subset=["population"]),
                    relative,
                    entries,
                )
            )
        elif LAGESBILD_XLSX.match(relative):
            long = bra_lagesbild_xlsx.read_lagesbild_workbook(path)
            tidy, missing = bra_lagesbild.lagesbild_to_tidy(long, catalog, lookup, path)
            indicator_frames.append(_provenance(tidy, relative, entries))
            unmapped += missing
        elif match := BRA_YEARLY_CSV.match(relative):
            yearly = bra_yearly_csv.read_bra_yearly_csv(path, int(match.group(1)), lookup)
            unmapped_rows += bra_yearly_csv.unmapped_rows(yearly, relative)
            indicator_frames.append(
                _provenance(bra_yearly_csv.yearly_to_tidy(yearly), relative, entries)
            )
        elif SURVEY_XLSX.match(relative):
            indicator_frames.append(
                _provenance(
                    survey_to_tidy(surveys.read_survey_workbook(path), catalog, path),
                    relative,
                    entries,
                )
            )
    return indicator_frames, population_frames, sorted(set(unmapped)), unmapped_rows


MUNICIPALITY_COUNT = 290  # Sweden's municipalities since 2003 (Knivsta's own split from Uppsala)


def _refuse_orphans(frame: pd.DataFrame, names: dict[str, str], key: tuple[str, ...]) -> None:
    """Refuse rows whose municipality code is not in Kolada's list (never drop them)."""
    orphan = ~frame["municipality_code"].isin(names)
    if orphan.any():
        first = frame.loc[orphan].iloc[0]
        where = ", ".join(f"{c}={first[c]}" for c in key)
        raise InputError(
            first["raw_path"],
            f"the row with {where}",
            f"a municipality or county code in {KOLADA_MUNICIPALITIES}",
            first["municipality_code"],
        )


def sanity_check_coverage(municipalities: pd.DataFrame, groups: pd.DataFrame) -> None:
    """Catch a truncated or foreign municipality list or group file by what they must cover.

    Kolada's list holds all 290 municipalities; every group member is in that list; every
    municipality belongs to at least one group (each has its own "Liknande kommuner" groups).
    """
    is_municipality = ~municipalities["code"].str.startswith("00")
    count = int(is_municipality.sum())
    if count != MUNICIPALITY_COUNT:
        raise InputError(
            KOLADA_MUNICIPALITIES,
            None,
            f"all {MUNICIPALITY_COUNT} municipalities (a truncated file?)",
            f"{count} municipalities",
        )
    unknown = ~groups["member_code"].isin(set(municipalities["code"]))
    if unknown.any():
        first = groups.loc[unknown].iloc[0]
        raise InputError(
            KOLADA_GROUPS,
            f"group {first['group_id']} ({first['group_title']})",
            f"members from {KOLADA_MUNICIPALITIES}",
            first["member_code"],
        )
    absent = sorted(set(municipalities.loc[is_municipality, "code"]) - set(groups["member_code"]))
    if absent:
        raise InputError(
            KOLADA_GROUPS,
            None,
            "every municipality in at least one group (a truncated file?)",
            f"{len(absent)} municipalities in no group, e.g. {absent[:3]}",
        )


def build_tables(raw_dir: Path, catalog_path: Path = CATALOG_PATH) -> BuildResult:
    """Build every processed table from the raw files (nothing is written)."""
    # Load inputs.
    problems = verify_raw(raw_dir)
    if problems:
        listed = "; ".join(f"{p.path}: {p.problem}" for p in problems[:5])
        raise ValidationError(f"data/raw does not match its manifest: {listed}")
    workbooks.check_folder(raw_dir)  # personal data or a zip bomb in any workbook: refused first
    entries = {row["path"]: row for row in read_manifest(raw_dir)}
    catalog = load_catalog(catalog_path)
    municipalities = load_kolada_municipalities(raw_dir / KOLADA_MUNICIPALITIES)
    groups = kolada_snapshot.read_municipality_groups(raw_dir / KOLADA_GROUPS)
    sanity_check_coverage(municipalities, groups)
    lookup = name_lookup(municipalities)
    names = dict(zip(municipalities["code"], municipalities["name"], strict=True))
    long = bra_lagesbild.read_lagesbild_long(raw_dir / LAGESBILD_LONG)
    kolada_values = kolada_snapshot.read_juvahem_values(raw_dir / KOLADA_JUVAHEM)
    population_old = population_snapshot.read_kolada_population_by_name(
        raw_dir / POPULATION_2010_2016, lookup
    )
    context = web_transcribed.read_transcribed(raw_dir / WEB_TRANSCRIBED)

    # Process data.
    lagesbild, unmapped = bra_lagesbild.lagesbild_to_tidy(
        long, catalog, lookup, raw_dir / LAGESBILD_LONG
    )
    lagesbild = _provenance(lagesbild, LAGESBILD_LONG, entries)
    fetched_indicators, fetched_population, fetched_unmapped, unmapped_rows = _fetched_snapshots(
        raw_dir, entries, catalog, lookup
    )
    unmapped = sorted(set(unmapped) | set(fetched_unmapped))
    kolada = _provenance(
        kolada_snapshot.kolada_values_to_tidy(kolada_values, catalog), KOLADA_JUVAHEM, entries
    )
    implied = lagesbild.loc[
        lagesbild["indicator_id"] == "bra_totalt",
        ["municipality_code", "year", "population", "source_id", "raw_path", "raw_sha256"],
    ].dropna(subset=["population"])
    implied = implied.assign(
        age_group="total",
        sex="total",
        quality="derived",
        population_source=bra_lagesbild.POPULATION_NOTE,
    )
    population = pd.concat(
        [
            implied,
            _provenance(kolada_snapshot.kolada_population(kolada_values), KOLADA_JUVAHEM, entries),
            _provenance(population_old, POPULATION_2010_2016, entries),
            _provenance(web_transcribed.transcribed_population(context), WEB_TRANSCRIBED, entries),
            *fetched_population,
        ],
        ignore_index=True,
    )
    population, population_repeats = _drop_identical(population, POPULATION_KEY)
    population = population.drop_duplicates(list(POPULATION_KEY), keep="last")
    _refuse_orphans(population, names, POPULATION_KEY)
    population = population.assign(municipality_name=population["municipality_code"].map(names))
    indicators = pd.concat([lagesbild, kolada, *fetched_indicators], ignore_index=True)
    indicators, indicator_repeats = _drop_identical(indicators, INDICATOR_KEY)
    _refuse_orphans(indicators, names, INDICATOR_KEY)
    # A snapshot fetched later (sorted after the shipped files) replaces the same key.
    replaced = indicators.loc[indicators.duplicated(list(INDICATOR_KEY), keep="last"), "raw_path"]
    indicators = indicators.drop_duplicates(list(INDICATOR_KEY), keep="last")
    indicators = _attach_population(indicators, population)
    indicators = indicators.assign(municipality_name=indicators["municipality_code"].map(names))
    indicators = _conform(indicators, INDICATOR_COLUMNS, INDICATOR_KEY)
    population = _conform(population, POPULATION_COLUMNS, POPULATION_KEY)
    _refuse_non_finite(indicators, INDICATOR_KEY, "indicators")
    _refuse_non_finite(population, POPULATION_KEY, "population")
    context = _provenance(context, WEB_TRANSCRIBED, entries).sort_values(
        ["area_code", "indicator", "year", "source_url"], kind="mergesort", ignore_index=True
    )
    groups = groups.sort_values(["group_id", "member_code"], ignore_index=True)

    # Sanity-check outputs.
    sources = set(read_sources(raw_dir))
    sha_by_path = {path: row["sha256"] for path, row in entries.items()}
    problems_found = validate_indicators(
        indicators, set(names), set(catalog["indicator_id"]), sources, sha_by_path
    ) + validate_population(population, set(names), sources, sha_by_path)
    if problems_found:
        raise ValidationError("; ".join(problems_found))
    inputs = sorted(SHIPPED_INPUTS)
    record = {
        "package": "medlofte-analysis",
        "version": __version__,
        "inputs": [{"path": p, "sha256": entries[p]["sha256"]} for p in inputs],
        "unmapped_variables": unmapped,
        "rows_replaced_by_later_snapshots": {
            path: int(n) for path, n in sorted(replaced.value_counts().items())
        },
        # Only when there are any, so builds without such rows keep their bytes.
        **({"unmapped_rows": unmapped_rows} if unmapped_rows else {}),
        "rows": {
            "indicators": len(indicators),
            "population": len(population),
            "context_figures": len(context),
            "municipality_groups": len(groups),
        },
    }
    repeats = {**indicator_repeats, **population_repeats}
    if repeats:
        # Said only when it happened, so that the record of the shipped data stays unchanged.
        record["identical_duplicate_rows_dropped"] = repeats
    return BuildResult(indicators, population, context, municipalities, groups, record)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.10g")


STAGING_PREFIX = ".processed-new-"
BACKUP_PREFIX = ".processed-old-"
LEFTOVER_SECONDS = 600


def recover_processed(processed_dir: Path, now: float | None = None) -> None:
    """Undo what a killed write left behind, so the next run starts from a complete folder.

    A kill between the two renames of `write_tables` leaves no `processed_dir` but the complete
    previous generation in a backup folder: the newest backup is moved back. Other backups are
    removed, and so are staging folders older than `LEFTOVER_SECONDS` (a younger one may belong
    to a build still running; readers never look at either).
    """
    parent = processed_dir.parent
    if not parent.is_dir():
        return
    now = time.time() if now is None else now
    prefix_new = f"{STAGING_PREFIX}{processed_dir.name}-"
    prefix_old = f"{BACKUP_PREFIX}{processed_dir.name}-"
    backups = sorted(
        (p for p in parent.iterdir() if p.name.startswith(prefix_old)),
        key=lambda p: p.stat().st_mtime,
    )
    if not processed_dir.exists() and backups:
        backups.pop().rename(processed_dir)
    stale = [
        p
        for p in parent.iterdir()
        if p.name.startswith(prefix_new) and now - p.stat().st_mtime > LEFTOVER_SECONDS
    ]
    for leftover in backups + stale:
        shutil.rmtree(leftover, ignore_errors=True)


def _swap_in(staging: Path, processed_dir: Path) -> None:
    """Make `staging` the live `processed_dir` in two renames (portable, also on Windows).

    Readers see either the old complete folder or the new complete one; a kill between the
    renames leaves a complete backup that `recover_processed` moves back.
    """
    if not processed_dir.exists():
        staging.rename(processed_dir)
        return
    backup = Path(
        tempfile.mkdtemp(prefix=f"{BACKUP_PREFIX}{processed_dir.name}-", dir=processed_dir.parent)
    )
    backup.rmdir()
    processed_dir.rename(backup)
    try:
        staging.rename(processed_dir)
    except BaseException:
        backup.rename(processed_dir)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def write_tables(result: BuildResult, processed_dir: Path) -> None:
    """Write all tables to a sibling staging folder, then swap it in as one directory.

    The record lists each table's sha256 (`outputs`), so `medlofte validate` detects a table
    changed or truncated after the build. Files in `processed_dir` that the build does not
    write are carried over into the new generation.
    """
    processed_dir = Path(processed_dir)
    processed_dir.parent.mkdir(parents=True, exist_ok=True)
    recover_processed(processed_dir)
    staging = Path(
        tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{processed_dir.name}-", dir=processed_dir.parent)
    )
    try:
        _write_csv(result.indicators, staging / "indicators.csv")
        _write_csv(result.population, staging / "population.csv")
        _write_csv(result.context, staging / "context_figures.csv")
        _write_csv(result.municipalities, staging / "municipalities.csv")
        _write_csv(result.groups, staging / "municipality_groups.csv")
        record = dict(result.record)
        record["outputs"] = [
            {"path": name, "sha256": sha256_file(staging / name)}
            for name in OUTPUT_FILES
            if name != "build_record.json"
        ]
        (staging / "build_record.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        if processed_dir.is_dir():
            for extra in processed_dir.iterdir():
                if extra.name not in OUTPUT_FILES and extra.is_file():
                    shutil.copy2(extra, staging / extra.name)
        os.chmod(staging, processed_dir.stat().st_mode & 0o777 if processed_dir.is_dir() else 0o755)
        _swap_in(staging, processed_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build(raw_dir: Path, processed_dir: Path, catalog_path: Path = CATALOG_PATH) -> BuildResult:
    """Build and write data/processed from data/raw; raise (writing nothing) on any problem."""
    result = build_tables(raw_dir, catalog_path)
    write_tables(result, processed_dir)
    return result
