"""Benchmark: time the raw → processed build, on the shipped snapshot and at national scale.

The national-scale input is GENERATED (synthetic numbers, real municipality names): 290
municipalities × 11 years × 60 crime indicators in Brå's lägesbild long format, count and rate
per cell, with a catalog covering those 60 indicators. Prints rows per second and peak memory.
Target: the national-scale build in under 5 s on a 2-core machine.

Run: python benchmarks/bench_build.py
"""

from __future__ import annotations

import csv
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from medlofte_analysis.build import (
    KOLADA_GROUPS,
    KOLADA_JUVAHEM,
    KOLADA_MUNICIPALITIES,
    LAGESBILD_LONG,
    POPULATION_2010_2016,
    SHIPPED_INPUTS,
    WEB_TRANSCRIBED,
    build,
)
from medlofte_analysis.catalog import load_catalog
from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.manifest import MANIFEST_FIELDS, read_manifest, sha256_file

N_INDICATORS = 60
YEARS = range(2014, 2025)


def _timed(label: str, raw: Path, out: Path, catalog: Path | None = None) -> None:
    start = time.perf_counter()
    result = build(raw, out, catalog) if catalog else build(raw, out)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows = len(result.indicators)
    print(
        f"{label}: {elapsed:.2f} s, {rows} indicator rows, {rows / elapsed:,.0f} rows/s, "
        f"process peak resident memory so far {peak / 2**20:.0f} MiB"
    )


def _national_raw(root: Path) -> tuple[Path, Path]:
    raw = root / "raw"
    rng = np.random.default_rng(20240101)
    munis = pd.read_csv(RAW_DIR / KOLADA_MUNICIPALITIES, dtype=str, keep_default_na=False)
    names = munis.loc[munis["type"] == "K", "title"].tolist()
    for relative in (
        KOLADA_MUNICIPALITIES,
        KOLADA_GROUPS,
        KOLADA_JUVAHEM,
        POPULATION_2010_2016,
        WEB_TRANSCRIBED,
    ):
        (raw / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(RAW_DIR / relative, raw / relative)
    shutil.copyfile(RAW_DIR / "sources.csv", raw / "sources.csv")
    variables = ["Totalt antal anmälda brott"] + [
        f"Syntetisk brottskategori {i:02d}" for i in range(1, N_INDICATORS)
    ]
    (raw / LAGESBILD_LONG).parent.mkdir(parents=True, exist_ok=True)
    with open(raw / LAGESBILD_LONG, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["geografi", "enhet", "ar", "variabel", "varde", "kalla"])
        for name in names:
            population = float(rng.integers(2_500, 1_000_000))
            for variable in variables:
                rate = rng.uniform(5, 12_000)
                for year in YEARS:
                    count = float(rng.poisson(rate * population / 100_000))
                    writer.writerow([name, "Antal", year, variable, count, "Anmälda brott"])
                    writer.writerow(
                        [
                            name,
                            "Antal per 100 000 inv",
                            year,
                            variable,
                            round(count / population * 100_000),
                            "Anmälda brott",
                        ]
                    )
    entries = {row["path"]: row for row in read_manifest(RAW_DIR)}
    with open(raw / "manifest.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for relative in sorted(SHIPPED_INPUTS):
            row = dict(entries[relative])
            row.update(
                sha256=sha256_file(raw / relative), bytes=str((raw / relative).stat().st_size)
            )
            writer.writerow(row)
    catalog = load_catalog()
    template = catalog.loc[catalog["indicator_id"] == "bra_stold"].iloc[0]
    rows = [dict(template, indicator_id="bra_totalt", source_ref=variables[0])]
    rows += [
        dict(template, indicator_id=f"syn_{i:02d}", source_ref=v)
        for i, v in enumerate(variables[1:], start=1)
    ]
    catalog_path = root / "catalog.csv"
    frame = pd.DataFrame(rows)
    frame["primary"] = frame["primary"].map({True: "true", False: "false"})
    frame.to_csv(catalog_path, index=False)
    return raw, catalog_path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _timed("shipped snapshot", RAW_DIR, root / "out-shipped")
        start = time.perf_counter()
        raw, catalog = _national_raw(root)
        print(
            f"generated national-scale input in {time.perf_counter() - start:.1f} s "
            f"({(raw / LAGESBILD_LONG).stat().st_size / 2**20:.0f} MiB)"
        )
        _timed(
            "national scale (290 × 11 years × 60 indicators)", raw, root / "out-national", catalog
        )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory: {maxrss:.0f} MiB")


if __name__ == "__main__":
    main()
