"""Tests for medlofte_analysis.stats.roots.power_root on curves with known roots."""

import math

import pytest
from scipy import special

from medlofte_analysis.stats.roots import power_root


def _normal_power(log_r: float) -> float:
    """Power of a two-sided z-test (SE 0.5) at a log ratio: 0.8 at (1.96 + 0.8416) * 0.5."""
    return float(
        special.ndtr(abs(log_r) / 0.5 - 1.959964) + special.ndtr(-abs(log_r) / 0.5 - 1.959964)
    )


ROOT = (1.959964 + 0.841621) * 0.5


def test_root_found_from_a_guess_below_it():
    found = power_root(lambda x: _normal_power(x) - 0.8, 0.0, 8.0, 0.3)
    assert found == pytest.approx(ROOT, abs=2e-3)


def test_root_found_from_a_guess_above_it():
    found = power_root(lambda x: _normal_power(x) - 0.8, 0.0, 8.0, 5.0, first_step=0.1)
    assert found == pytest.approx(ROOT, abs=2e-3)


def test_root_found_towards_a_decrease():
    found = power_root(lambda x: _normal_power(x) - 0.8, 0.0, -8.0, -1.0)
    assert found == pytest.approx(-ROOT, abs=2e-3)


def test_root_found_without_a_guess():
    found = power_root(lambda x: _normal_power(x) - 0.8, 0.0, 8.0, None)
    assert found == pytest.approx(ROOT, abs=2e-3)


def test_none_when_the_power_is_not_reached_by_the_outer_end():
    capped = lambda x: min(_normal_power(x), 0.7) - 0.8  # noqa: E731
    assert power_root(capped, 0.0, 8.0, 1.0) is None


def test_each_point_evaluated_once():
    seen: list[float] = []

    def gap(x: float) -> float:
        seen.append(x)
        return _normal_power(x) - 0.8

    power_root(gap, 0.0, 8.0, ROOT + 0.01)
    assert len(seen) == len(set(seen))
    assert math.isfinite(seen[0])
