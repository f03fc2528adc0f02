"""Multiple testing across the indicators of a report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bh_qvalues"]


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
