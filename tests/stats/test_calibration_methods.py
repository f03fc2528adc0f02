"""The comparison-group methods in the calibration suite, quick mode: SYNTHETIC panels
(seeded), loose bounds so the test is not flaky; the full figures come from
benchmarks/bench_calibration.py."""

import pytest

from medlofte_analysis.stats.calibration import Cell, calibrate_cell, load_registry
from medlofte_analysis.stats.simulate import PanelShape

SHAPE = PanelShape(sigma2=0.03, tau2=0.007, rho=0.4, unit_log_sd=0.3, population_log_sd=0.6)
CELL = Cell(n_comparison=7, events_per_year=20.0, n_baseline=6, n_followup=1)


@pytest.mark.parametrize("name", ["diff_i_diff", "syntetisk_kontroll"])
def test_comparison_group_methods_hold_their_level_in_quick_mode(name):
    row = calibrate_cell(load_registry()[name], SHAPE, CELL, reps=60, seed=12)
    assert row["n_tested"] >= 30  # most synthetic controls are judged at 20 events a year
    assert row["type1"] <= 0.15
    assert row["coverage"] >= 0.85
    assert 0.45 <= row["power_increase"] <= 1.0
