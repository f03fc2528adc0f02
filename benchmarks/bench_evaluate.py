"""Benchmark the whole evaluation for all 290 municipalities (a script, not a test).

SYNTHETIC DATA of national shape, generated here and never written to disk: for every
municipality of data/processed/municipalities.csv (the real codes, names and Kolada
comparison groups "Liknande kommuner socioekonomi, <kommun>, 2024"), counts of every count
indicator of the Knivsta evaluation for 2015-2025, drawn from the lognormal-Poisson model of
:mod:`medlofte_analysis.stats.simulate` with its shape (shock variance, autocorrelation,
spread of rates) estimated from the shipped Dalarna panel, and populations spread like
Sweden's municipalities (lognormal, median 16 000). The survey indicators have no rows (they
are judged "cannot judge" as for a municipality without survey results).

Then ``evaluate`` (every indicator x every method, with the calibrated inference) runs for
every municipality with evaluations/knivsta-2024-2025.toml and that municipality as the
parameter, on ``--jobs`` worker processes. Prints seconds in total and per municipality, and
the share of rows each method could judge. Target: <= 60 s on 2 cores.

Run:  .venv/bin/python benchmarks/bench_evaluate.py [--jobs 2] [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medlofte_analysis.catalog import alternatives  # noqa: E402
from medlofte_analysis.config import PROJECT_ROOT  # noqa: E402
from medlofte_analysis.evaluate import Inputs, evaluate, load_inputs  # noqa: E402
from medlofte_analysis.evaluation_config import load_config, resolve_group_title  # noqa: E402
from medlofte_analysis.stats.simulate import estimate_panel_shape  # noqa: E402

CONFIG = PROJECT_ROOT / "evaluations" / "knivsta-2024-2025.toml"
YEARS = np.arange(2015, 2026)
SEED = 20261127


def national_inputs(seed: int = SEED) -> Inputs:
    """The real catalog, municipalities and groups; SYNTHETIC indicator rows (module doc)."""
    real = load_inputs()
    shape = estimate_panel_shape(real.indicators)
    config = load_config(CONFIG)
    catalog = real.catalog.set_index("indicator_id")
    # A concept names several sources: the evaluation uses the best one that has the years
    # (evaluate.choose_series), so the counts are generated for that one.
    best = [(alternatives(real.catalog, name) or [name])[0] for name in config.indicators]
    count_ids = [i for i in best if catalog.loc[i, "unit"] == "per 100 000 inv"]
    codes = real.municipalities.loc[real.municipalities["type"] == "K", "code"].to_numpy()
    rng = np.random.default_rng(seed)
    n, t = len(codes), len(YEARS)
    population = np.clip(rng.lognormal(math.log(16_000), 0.9, n), 2_500, 1_000_000)
    frames = []
    for indicator in count_ids:
        rate = rng.lognormal(math.log(300), 0.8) / 1e5 * rng.lognormal(0, shape.unit_log_sd, n)
        gamma = rng.normal(0.0, math.sqrt(shape.tau2), t)
        u = np.empty((n, t))
        u[:, 0] = rng.normal(0.0, math.sqrt(shape.sigma2), n)
        for k in range(1, t):
            innovation = rng.normal(0.0, math.sqrt(shape.sigma2 * (1 - shape.rho**2)), n)
            u[:, k] = shape.rho * u[:, k - 1] + innovation
        mean = population[:, None] * rate[:, None] * np.exp(gamma[None, :] + u)
        counts = rng.poisson(mean).astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "municipality_code": np.repeat(codes, t),
                    "year": np.tile(YEARS, n),
                    "indicator_id": indicator,
                    "value": (counts / population[:, None] * 1e5).ravel(),
                    "count": counts.ravel(),
                    "population": np.repeat(population, t),
                    "unit": "per 100 000 inv",
                    "ci_lower": math.nan,
                    "ci_upper": math.nan,
                    "n_respondents": math.nan,
                }
            )
        )
    indicators = pd.concat(frames, ignore_index=True)
    return replace(real, indicators=indicators)


_INPUTS: Inputs | None = None


def _init(inputs: Inputs) -> None:
    global _INPUTS
    _INPUTS = inputs


def evaluate_one(code: str) -> pd.DataFrame:
    """evaluate() for one municipality (inputs set by the worker initialiser)."""
    assert _INPUTS is not None
    names = dict(zip(_INPUTS.municipalities["code"], _INPUTS.municipalities["name"], strict=True))
    config = resolve_group_title(load_config(CONFIG, code), names[code])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(config, _INPUTS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--quick", action="store_true", help="the first 20 municipalities only")
    args = ap.parse_args()
    t0 = time.perf_counter()
    inputs = national_inputs()
    codes = sorted(inputs.indicators["municipality_code"].unique())
    if args.quick:
        codes = codes[:20]
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    cpu0 = os.times()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(inputs,)) as pool:
            results = list(pool.map(evaluate_one, codes, chunksize=4))
    else:
        _init(inputs)
        results = [evaluate_one(code) for code in codes]
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    cpu = sum(b - a for a, b in zip(cpu0[:4], cpu1[:4], strict=True))
    table = pd.concat(results, ignore_index=True)
    n_ind = table["indicator_id"].nunique()
    print(f"== evaluate(): {len(codes)} municipalities x {n_ind} indicators x every method")
    print(f"   (SYNTHETIC counts of national shape, {YEARS[0]}-{YEARS[-1]}; jobs={args.jobs})")
    print(f"   data generation      {t_gen:8.2f} s")
    print(f"   evaluate, all        {wall:8.2f} s  (target <= 60 s on 2 cores)")
    print(f"   CPU, all processes   {cpu:8.2f} s  (wall > CPU / jobs: the cores were shared)")
    print(f"   per municipality     {wall / len(codes) * 1e3:8.1f} ms wall")
    print(f"   result rows          {len(table):8d}")
    judged = table.assign(judged=table["verdict"] != "cannot_judge")
    for method, share in judged.groupby("method")["judged"].mean().items():
        print(f"   judged {method:<20} {share:6.1%} of its rows")


if __name__ == "__main__":
    main()
