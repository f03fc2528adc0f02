"""Verdict codes follow the catalog's interpretation written down in advance."""

import math

import pytest

from medlofte_analysis.verdict import mde_text, verdict


@pytest.mark.parametrize(
    ("estimate", "q", "kind", "direction", "expected"),
    [
        (0.5, 0.01, "outcome", "decrease", "improvement"),
        (2.0, 0.01, "outcome", "decrease", "deterioration"),
        (2.0, 0.01, "survey", "increase", "improvement"),
        (2.0, 0.01, "police_activity", "none", "more_enforcement"),
        (0.5, 0.01, "police_activity", "none", "less_enforcement"),
        (2.0, 0.01, "outcome", "ambiguous", "ambiguous_change"),
        (2.0, 0.20, "outcome", "decrease", "no_detectable_change"),
        (math.nan, 0.01, "outcome", "decrease", "cannot_judge"),
    ],
)
def test_verdict_table(estimate, q, kind, direction, expected):
    assert verdict(estimate, q, kind, direction, null_value=1.0) == expected


def test_difference_scale_uses_zero_as_no_change():
    assert verdict(-3.0, 0.01, "survey", "decrease", null_value=0.0) == "improvement"


def test_mde_text_for_no_baseline_events():
    assert "Inga händelser" in mde_text(math.inf, 0.0, ratio_scale=True)


def test_mde_text_shows_percent_changes():
    assert mde_text(2.0, 0.5, ratio_scale=True).startswith(
        "Minsta upptäckbara förändring (80 % styrka): +100 % eller −50 %"
    )


def test_mde_text_when_a_method_has_no_power_calculation_does_not_claim_zero_events():
    text = mde_text(math.nan, math.nan, ratio_scale=True)
    assert "kan inte beräknas" in text and "Inga händelser" not in text
