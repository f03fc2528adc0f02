"""Multiple testing across the indicators of a report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bh_qvalues", "fcr_interval_levels"]


def bh_qvalues(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini & Hochberg (1995) step-up adjusted p-values ("q-values").

    With the ``m`` non-missing p-values sorted ``p_(1) <= ... <= p_(m)``:
    ``q_(i) = min_{j >= i} min(1, m * p_(j) / j)`` (Benjamini, Y. & Hochberg, Y. 1995,
    *JRSS B* 57, 289-300). Rejecting ``q <= Q`` controls the false discovery rate at ``Q``.

    NaN inputs stay NaN in place and do not count in ``m``. Returns a float array of the
    input's length (empty in, empty out). Raises ``ValueError`` for p-values outside [0, 1]
    or input that is not one-dimensional.
    """
    p = np.asarray(p_values, dtype="float64")
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    valid = p[ok]
    if valid.size == 0:
        return out
    if np.any((valid < 0) | (valid > 1)):
        bad = valid[(valid < 0) | (valid > 1)].tolist()
        raise ValueError(f"p_values must lie in [0, 1] (NaN allowed), got {bad}")
    m = valid.size
    order = np.argsort(valid, kind="mergesort")
    ranked = valid[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(ranked, 1.0)
    out[ok] = q
    return out


def fcr_interval_levels(p_values: Sequence[float] | np.ndarray, alpha: float) -> np.ndarray:
    """Per-test alpha for intervals that agree with the BH verdict at level ``alpha``.

    Benjamini & Yekutieli (2005, *JASA* 100, 71-81): with ``R`` of the ``m`` non-missing
    p-values selected by BH (``q < alpha``), intervals at level ``1 - R alpha/m`` for the
    selected control the false coverage rate at ``alpha``; since test and interval agree,
    each excludes the null. The others get ``1 - (R+1) alpha/m``: under the step-up rule every
    non-selected p exceeds ``(R+1) alpha/m``, so their intervals contain the null. NaN
    p-values give NaN. With a single test the level is ``alpha`` itself.
    """
    p = np.asarray(p_values, dtype="float64")
    q = bh_qvalues(p)
    out = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    m = int(tested.sum())
    if m == 0:
        return out
    selected = tested & (q < alpha)
    n_selected = int(selected.sum())
    out[selected] = alpha * n_selected / m
    out[tested & ~selected] = alpha * min(m, n_selected + 1) / m
    return out
