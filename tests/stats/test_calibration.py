"""The calibration suite in quick mode: SYNTHETIC panels (seeded), loose bounds so the test is
not flaky; the full figures come from benchmarks/bench_calibration.py."""

import math

import pandas as pd
import pytest

from medlofte_analysis.stats.calibration import (
    METHODS,
    Cell,
    MethodResult,
    calibrate,
    calibrate_cell,
    load_registry,
    own_design_power,
    register,
)
from medlofte_analysis.stats.simulate import PanelShape

SHAPE = PanelShape(sigma2=0.03, tau2=0.007, rho=0.4, unit_log_sd=0.3, population_log_sd=0.6)
CELL = Cell(n_comparison=7, events_per_year=20.0, n_baseline=1, n_followup=1)


@pytest.mark.parametrize("name", ["fore_efter", "trend"])
def test_single_municipality_methods_hold_their_level_in_quick_mode(name):
    row = calibrate_cell(load_registry()[name], SHAPE, CELL, reps=60, seed=11)
    assert row["type1"] <= 0.15
    assert row["coverage"] >= 0.85
    assert 0.45 <= row["power_increase"] <= 1.0


def test_registry_accepts_a_new_method():
    @register("test_always_null")
    def always_null(panel, alpha):
        return MethodResult(1.0, 0.5, 2.0, 1.0, math.nan, math.nan)

    try:
        row = calibrate_cell(METHODS["test_always_null"], SHAPE, CELL, reps=5, seed=1)
        assert row["type1"] == 0.0 and row["coverage"] == 1.0
        assert math.isnan(row["power_increase"])
    finally:
        del METHODS["test_always_null"]


def test_worker_processes_give_the_same_table():
    methods = {"fore_efter": load_registry()["fore_efter"]}
    cells = [CELL, Cell(14, 5.0, 6, 2)]
    one = calibrate(methods, SHAPE, cells, reps=6, seed=5, mde_reps=3)
    two = calibrate(methods, SHAPE, cells, reps=6, seed=5, mde_reps=3, jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_own_design_power_rejects_every_panel_of_a_method_that_always_rejects():
    def always_rejects(panel, alpha):
        return MethodResult(2.0, 1.5, 3.0, 0.001, 1.5, 0.5)

    row = own_design_power(always_rejects, SHAPE, CELL, reps=4, seed=1)
    assert row["own_power_increase"] == 1.0 and row["own_power_decrease"] == 1.0
    assert row["n_increase"] == 4


def test_own_design_power_is_nan_where_no_change_is_detectable():
    def no_decrease(panel, alpha):
        return MethodResult(2.0, 1.5, 3.0, 0.001, 1.5, 0.0)

    row = own_design_power(no_decrease, SHAPE, CELL, reps=3, seed=1)
    assert row["n_decrease"] == 0 and math.isnan(row["own_power_decrease_below_median"])


def _bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_calibration.py"
    spec = importlib.util.spec_from_file_location("bench_calibration", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_quick_mode_prints_every_cell(capsys):
    # benchmarks/bench_calibration.py --quick, cut to a few replicates: the shape is estimated
    # from the shipped Dalarna panel and every quick-grid cell gets a row
    bench = _bench()
    table = bench.run(quick=True, reps=10, methods=["fore_efter"], seed=3)
    assert len(table) == 4 and set(table["method"]) == {"fore_efter"}
    assert "estimated from" in capsys.readouterr().out


def test_benchmark_measures_a_power_miss_in_standard_errors():
    row = {"n_tested": 500, "coverage": 0.95, "type1": 0.05}
    table = pd.DataFrame([{**row, "power_increase": 0.73, "power_decrease": float("nan")}])
    se = (0.73 * 0.27 / 500) ** 0.5
    assert _bench().miss_in_standard_errors(table, 500)[0] == pytest.approx(0.02 / se)


def test_benchmark_without_a_miss_has_no_distance():
    row = {"n_tested": 500, "coverage": 0.95, "type1": 0.05, "power_decrease": 0.8}
    table = pd.DataFrame([{**row, "power_increase": 0.8}])
    assert math.isnan(_bench().miss_in_standard_errors(table, 500)[0])


def test_benchmark_own_design_mode_gives_a_row_per_cell():
    table = _bench().run_own_design(quick=True, reps=3, methods=["fore_efter"], seed=3)
    assert len(table) == 4 and "own_power_increase_below_median" in table.columns
