"""Where a power curve reaches the wanted power: the root search shared by the detectable
changes of every method.

Power grows with the size of the change, so the root is bracketed and then found by Brent's
method (``scipy.optimize.brentq``; Brent 1973, *Algorithms for Minimization without
Derivatives*, ch. 4). Each power evaluation costs an exact or bootstrap calculation, so a
guess from a cheap approximation brackets the root in a few evaluations, and every value is
computed once (brentq evaluates the bracket's ends again).
"""

from __future__ import annotations

from collections.abc import Callable

from scipy import optimize

__all__ = ["power_root"]

#: Tolerance on the log ratio: 0.2 % of the detectable ratio, far below what is reported.
XTOL = 2e-3
#: First step out from a root's guess: a good approximation's root is usually within a few
#: hundredths of the exact one on the log scale.
FIRST_STEP = 0.02


def power_root(
    gap: Callable[[float], float],
    inner: float,
    outer: float,
    guess: float | None,
    xtol: float = XTOL,
    first_step: float = FIRST_STEP,
) -> float | None:
    """Where ``gap`` (below 0 at ``inner``, rising towards ``outer``) first reaches 0, or None
    when it does not by ``outer``. With a ``guess`` the bracket is found by stepping out
    from it (``first_step`` on the log scale, doubling), so a good guess costs a few
    evaluations; without one, ``inner`` and ``outer`` are the bracket."""
    known: dict[float, float] = {}

    def evaluate(log_r: float) -> float:
        if log_r not in known:
            known[log_r] = gap(log_r)
        return known[log_r]

    if guess is None:
        # no root (also a power that is NaN, or already reached at no change, as from a
        # degenerate shock law): nothing is reported as detectable rather than raising
        if not (evaluate(outer) >= 0 and evaluate(inner) < 0):
            return None
        return float(optimize.brentq(evaluate, inner, outer, xtol=xtol))
    sign = 1.0 if outer > inner else -1.0
    guess = min(max(guess, min(inner, outer)), max(inner, outer))
    step = first_step * sign
    if evaluate(guess) >= 0:
        hi, lo = guess, guess - step
        while (lo - inner) * sign > 0 and evaluate(lo) >= 0:
            step *= 2.0
            hi, lo = lo, lo - step
        lo = lo if (lo - inner) * sign > 0 else inner
    else:
        lo, hi = guess, min(guess + step, outer) if sign > 0 else max(guess + step, outer)
        while evaluate(hi) < 0:
            if hi == outer:
                return None
            step *= 2.0
            lo = hi
            hi = min(hi + step, outer) if sign > 0 else max(hi + step, outer)
    return float(optimize.brentq(evaluate, lo, hi, xtol=xtol))
