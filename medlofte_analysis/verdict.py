"""A verdict per indicator that a reader can act on, read through the catalog's interpretation.

Written down in advance, per indicator kind and desired direction (DOMAIN.md):
- outcome/survey with a desired direction: a significant change the right way is an improvement,
  the wrong way a deterioration;
- police-activity outputs (narcotics, traffic offences): a rise is more enforcement, not worse
  safety;
- ambiguous indicators (violence in close relationships, large hidden figure): a change is
  ambiguous, not a failure;
- no significant change: "no detectable change", with the smallest change that could have been
  detected; where that is large, the text says the evaluation could not tell;
- missing data or no events: cannot be judged, with the reason.
Significance uses the Benjamini–Hochberg q-value of the indicator's family (Benjamini &
Hochberg 1995).
"""

from __future__ import annotations

import math

VERDICTS_SV: dict[str, str] = {
    "improvement": "Förbättring",
    "deterioration": "Försämring",
    "more_enforcement": "Mer polisiär aktivitet",
    "less_enforcement": "Mindre polisiär aktivitet",
    "ambiguous_change": "Förändring, tvetydig",
    "no_detectable_change": "Ingen påvisbar förändring",
    "cannot_judge": "Kan inte bedömas",
    "descriptive_only": "Endast beskrivande",
}
MSMS_TEXT_SV: dict[int, str] = {
    2: "nivå 2 (före–efter utan jämförelsegrupp)",
    3: "nivå 3 (före–efter med jämförelsegrupp)",
}
LARGE_MDE = 0.5  # a minimum detectable change above ±50 % means "could not tell"
#: Reason code in the notes: p <= alpha on its own, but q >= alpha after the BH adjustment.
NOMINAL_ONLY_CODE = "nominally significant, not after multiple-testing adjustment"


def nominal_only_text(p_value: float, q_value: float) -> str:
    """Swedish: a change that is significant on its own but not among all the tests made."""
    p = f"{p_value:.3f}".replace(".", ",")
    q = f"{q_value:.2f}".replace(".", ",")
    return (
        f"För sig ser förändringen säker ut (p = {p}), men inte när hänsyn tas till att "
        f"många indikatorer prövas samtidigt (q = {q}); den kan vara en slumpträff."
    )


def _percent(change: float) -> str:
    return f"{change * 100:+.0f} %".replace("-", "−")


def mde_text(mde_increase: float, mde_decrease: float, ratio_scale: bool) -> str:
    """Swedish sentence on the smallest change that could have been detected (80 % power)."""
    if math.isnan(mde_increase):
        return "Minsta upptäckbara förändring kan inte beräknas för metoden; se anmärkningen."
    if ratio_scale:
        if not math.isfinite(mde_increase):
            return "Inga händelser under basåren: ingen förändring hade kunnat upptäckas."
        up = _percent(mde_increase - 1)
        down = _percent(mde_decrease - 1) if mde_decrease > 0 else "ingen minskning"
        text = f"Minsta upptäckbara förändring (80 % styrka): {up} eller {down}."
        if mde_increase - 1 > LARGE_MDE:
            text += " Små tal: en måttlig effekt hade inte kunnat skiljas från slumpen."
        return text
    return f"Minsta upptäckbara förändring (80 % styrka): ±{mde_increase:.1f} procentenheter."


def verdict(
    estimate: float,
    q_value: float,
    kind: str,
    desired_direction: str,
    null_value: float,
    alpha: float = 0.05,
    reason_missing: str = "",
) -> str:
    """Return the verdict code for one estimate (ratio: null 1; difference: null 0)."""
    if reason_missing or not math.isfinite(estimate) or not math.isfinite(q_value):
        return "cannot_judge"
    if q_value >= alpha:
        return "no_detectable_change"
    rise = estimate > null_value
    if kind == "police_activity" or desired_direction == "none":
        return "more_enforcement" if rise else "less_enforcement"
    if desired_direction == "ambiguous":
        return "ambiguous_change"
    good = (not rise) if desired_direction == "decrease" else rise
    return "improvement" if good else "deterioration"


def verdict_text_sv(
    code: str,
    kind: str,
    desired_direction: str,
    msms_level: int,
    method_sv: str,
    mde_sentence: str,
    reason_missing: str = "",
) -> str:
    """A Swedish sentence a board member can read: the verdict, what it means, how sure."""
    level = MSMS_TEXT_SV.get(msms_level, f"nivå {msms_level}")
    if code == "cannot_judge":
        return f"Kan inte bedömas: {reason_missing or 'för få händelser eller saknade värden'}."
    head = VERDICTS_SV[code]
    if code == "no_detectable_change":
        body = f"{head} ({method_sv}; Maryland-skalan {level}). {mde_sentence}"
    else:
        body = f"{head} ({method_sv}; Maryland-skalan {level})."
    if code == "more_enforcement":
        body += (
            " Indikatorn mäter polisens egen aktivitet: en ökning tyder på att insatserna "
            "genomförts, inte på fler problem."
        )
    if code == "ambiguous_change":
        body += (
            " Stort mörkertal: fler anmälningar kan betyda ökad medvetenhet och "
            "anmälningsbenägenhet lika väl som mer våld."
        )
    return body
