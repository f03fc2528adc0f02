"""Benchmark the synthetic-control engine (a script, not a test).

1. National scale: seeded synthetic data, 290 units x 11 years (2014-2024) x 60 indicators,
   Poisson counts around unit-level rates. For every indicator every unit is the target in
   turn, with full placebo-in-space inference (fit_all_units + placebo_inference_all: each
   unit fitted once, units whose weights touch the target refitted). Prints wall time, peak
   memory and the number of weight fits; spot-checks a few targets against
   synthetic_control().
2. One fit against pysyncon's Synth with a fixed V (if installed) on the same 289 donors x 8
   pre-years: both times, their ratio and both losses.

Run:  /tmp/venvtest/.venv/bin/python benchmarks/bench_synth.py [--quick] [--jobs N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medlofte_analysis.stats.synth import (  # noqa: E402
    fit_all_units,
    fit_weights,
    kkt_violation,
    placebo_inference_all,
    synthetic_control,
)

YEARS = list(range(2014, 2025))
PRE = YEARS[:8]  # 2014-2021
POST = YEARS[8:]  # 2022-2024
SEED = 20240330


def make_data(n_units: int, n_indicators: int, seed: int = SEED) -> list[pd.DataFrame]:
    """Rates per 100 000 (index = year, columns = 4-character unit codes), one per indicator."""
    rng = np.random.default_rng(seed)
    pop = np.clip(rng.lognormal(np.log(16_000), 1.0, n_units), 2_500, 1_000_000)
    growth = rng.normal(0.01, 0.01, n_units)
    pops = pop[None, :] * (1 + growth[None, :]) ** np.arange(len(YEARS))[:, None]
    units = [f"{i:04d}" for i in range(1, n_units + 1)]
    out = []
    for _ in range(n_indicators):
        base = rng.lognormal(np.log(150), 1.2)  # per 100 000
        unit_rr = rng.lognormal(0.0, 0.4, n_units)
        year_eff = np.exp(np.cumsum(rng.normal(0, 0.05, len(YEARS))))
        mu = pops * base / 1e5 * unit_rr[None, :] * year_eff[:, None]
        counts = rng.poisson(mu)
        out.append(pd.DataFrame(counts / pops * 1e5, index=YEARS, columns=units))
    return out


def run_indicator(rates: pd.DataFrame) -> tuple[int, int, int]:
    """All units as targets with placebo inference; returns (fits, refits, exact-fit targets)."""
    fits = fit_all_units(rates, PRE, POST)
    res = placebo_inference_all(rates, PRE, POST, fits=fits)
    return fits.n_fits, int(res["n_refits"].sum()), int(np.isinf(res["ratio"]).sum())


def national(n_units: int, n_indicators: int, jobs: int) -> None:
    t0 = time.perf_counter()
    data = make_data(n_units, n_indicators)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as ex:
            results = list(ex.map(run_indicator, data))
    else:
        results = [run_indicator(r) for r in data]
    wall = time.perf_counter() - t0
    n_fits = sum(r[0] for r in results)
    n_refits = sum(r[1] for r in results)
    n_exact = sum(r[2] for r in results)
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if jobs > 1:
        maxrss_mb = max(maxrss_mb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print(f"== national scale: {n_units} units x {len(YEARS)} years x {n_indicators} indicators")
    print(f"   pre {PRE[0]}-{PRE[-1]} ({len(PRE)} y), post {POST[0]}-{POST[-1]}, jobs={jobs}")
    print(f"   data generation       {t_gen:8.2f} s")
    print(f"   all targets + placebo {wall:8.2f} s  (target < 60 s)")
    total = n_fits + n_refits
    print(f"   weight fits           {total:8d}  ({n_fits} all-others + {n_refits} refits)")
    naive = n_indicators * n_units * n_units
    print(f"   naive approach        {naive:8d}  fits (1 + {n_units - 1} placebos per target)")
    print(f"   targets with exact pre-fit (ratio inf): {n_exact} of {n_units * n_indicators}")
    print(f"   peak RSS              {maxrss_mb:8.1f} MB (ru_maxrss)")

    # Spot check: the fast path equals synthetic_control() for a few targets.
    rates = data[0]
    fast = placebo_inference_all(rates, PRE, POST)
    rng = np.random.default_rng(1)
    worst = 0.0
    for u in rng.choice(rates.columns, 5, replace=False):
        r = synthetic_control(rates, u, PRE, POST)
        worst = max(worst, abs(r.p_value - fast.loc[u, "p_value"]))
    print(f"   spot check vs synthetic_control (5 targets): max |p diff| = {worst:.2e}")


def versus_pysyncon(n_units: int) -> None:
    rates = make_data(n_units, 1)[0]
    pre_mean = rates.loc[PRE].mean()
    # An interior target (exact fit, many optimal weight vectors) and the unit with the
    # highest pre-period mean (outside the donors' hull: unique optimum with positive loss).
    for label, target in (
        ("median", pre_mean.sort_values().index[n_units // 2]),
        ("highest", pre_mean.idxmax()),
    ):
        print(
            f"== one fit ({label}-rate target {target}): {n_units - 1} donors x {len(PRE)} "
            "pre-years vs pysyncon"
        )
        compare_one(rates, target)


def compare_one(rates: pd.DataFrame, target: str) -> None:
    pre = rates.loc[PRE]
    y = pre[target].to_numpy()
    A = pre.drop(columns=target).to_numpy()
    # pysyncon divides each predictor row by its standard deviation over all units (target
    # included) before solving; we give our solver the same scaled matrices so that both
    # solve exactly the same problem: min ||x1 - X0 w||^2, w >= 0, sum w = 1.
    sd = pre.std(axis=1).to_numpy()
    ys, As = y / sd, A / sd[:, None]

    reps = 200
    t0 = time.perf_counter()
    for _ in range(reps):
        w_ours = fit_weights(ys, As)
    t_ours = (time.perf_counter() - t0) / reps
    loss_ours = float(np.sum((ys - As @ w_ours) ** 2))
    print(
        f"   ours      {t_ours * 1e3:9.3f} ms  loss {loss_ours:.10g}  "
        f"KKT violation {kkt_violation(ys, As, w_ours):.1e}  support {int((w_ours > 0).sum())}"
    )
    try:
        from pysyncon import Synth
    except ImportError:
        print("   pysyncon not installed: pip install pysyncon")
        return
    X0 = pre.drop(columns=target)
    X1 = pre[target]
    synth = Synth()
    t0 = time.perf_counter()
    synth.fit(X0=X0, X1=X1, Z0=X0, Z1=X1, custom_V=np.ones(len(PRE)))
    t_pys = time.perf_counter() - t0
    w_pys = np.asarray(synth.W, dtype=float)
    loss_pys = float(np.sum((ys - As @ w_pys) ** 2))
    print(
        f"   pysyncon  {t_pys * 1e3:9.3f} ms  loss {loss_pys:.10g}  "
        f"(sum w = {w_pys.sum():.6f}, min w = {w_pys.min():.2e})"
    )
    print(f"   speed-up  {t_pys / t_ours:9.0f} x  (target >= 20 x)")
    print(
        f"   loss ours - pysyncon = {loss_ours - loss_pys:.3e}; ours <= pysyncon x 1.001: "
        f"{loss_ours <= loss_pys * 1.001 + 1e-12}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 indicators instead of 60")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes over indicators")
    args = ap.parse_args()
    n_units = 290
    national(n_units, 10 if args.quick else 60, args.jobs)
    versus_pysyncon(n_units)


if __name__ == "__main__":
    main()
