"""One call evaluates a whole configuration: every indicator × method → one tidy results table.

Methods (each cites its own module):
- `fore_efter`: follow-up vs baseline in the municipality alone, exact conditional rate ratio
  (counts) or difference of survey shares with SEs from the published intervals. Maryland
  Scientific Methods Scale (SMS) level 2.
- `trend`: observed follow-up vs the pre-period log-linear trend projected forward
  (quasi-Poisson interrupted time series). SMS level 2 (no comparison group).
- `diff_i_diff`: ratio of rate ratios against the comparison group (quasi-Poisson GLM with
  municipality and year effects), or for surveys the difference of differences against the
  county. SMS level 3.
- `syntetisk_kontroll`: synthetic control from the comparison pool, placebo-in-space p-value.
  SMS level 3.
The headline row of an indicator is its best-level method that could be estimated (DiD, else
before–after). q-values: Benjamini–Hochberg within (method, primary/secondary family).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from medlofte_analysis.catalog import alternatives, load_catalog
from medlofte_analysis.config import PROCESSED_DIR, PROJECT_ROOT
from medlofte_analysis.evaluation_config import (
    EvaluationConfig,
    check_config,
    load_config,
    name_run,
)
from medlofte_analysis.schema import NUMERIC_INDICATOR_COLUMNS
from medlofte_analysis.stats.did import difference_in_differences
from medlofte_analysis.stats.multiple import bh_qvalues
from medlofte_analysis.stats.power import minimum_detectable_ratio
from medlofte_analysis.stats.proportions import (
    ProportionDifference,
    difference_from_published_intervals,
    newcombe_difference,
)
from medlofte_analysis.stats.rate_ratio import rate_ratio
from medlofte_analysis.stats.synth import synthetic_control
from medlofte_analysis.stats.trend import trend_projection
from medlofte_analysis.verdict import mde_text, verdict, verdict_text_sv

METHODS_SV: dict[str, str] = {
    "fore_efter": "före–efter i kommunen",
    "trend": "jämfört med trenden före",
    "diff_i_diff": "skillnad i skillnader mot jämförelsegruppen",
    "syntetisk_kontroll": "syntetisk kontroll",
}
SYNTH_POOR_FIT = 0.10  # pre-period RMSPE above 10 % of the target's mean: not credible
MSMS: dict[str, int] = {"fore_efter": 2, "trend": 2, "diff_i_diff": 3, "syntetisk_kontroll": 3}
RESULT_COLUMNS: tuple[str, ...] = (
    "focus_area",
    "indicator_id",
    "name_sv",
    "kind",
    "desired_direction",
    "primary",
    "method",
    "method_sv",
    "msms_level",
    "headline",
    "baseline_label",
    "followup_label",
    "baseline_value",
    "followup_value",
    "estimate",
    "ci_lower",
    "ci_upper",
    "estimate_kind",
    "interval_kind",
    "p_value",
    "q_value",
    "mde_increase",
    "mde_decrease",
    "verdict",
    "verdict_sv",
    "note",
    "source_sv",
    "concept",
)
SOURCE_HINTS: dict[str, str] = {
    "bra_lagesbild": "Brå, Indikatorer för kommuners lägesbild: ladda ner kommunens Excelfil på "
    "bra.se/statistik/indikatorer-for-kommuners-lagesbild (variabel '{ref}') och lägg till den "
    "med `medlofte fetch bra-xlsx --file <fil>`",
    "kolada": "Kolada nyckeltal {ref}: kör `{command}`, sedan `make all`",
    "survey_template": "{ref}: fyll i Excelmallen templates/enkatresultat_mall.xlsx och lägg "
    "till den med `medlofte fetch enkat --file <fil>`",
    "bra_yearly_csv": "Brå, {ref} ÅÅÅÅ.csv (bra.se; läggs till med `medlofte fetch bra-csv`)",
}


SOURCE_SV: dict[str, str] = {
    "bra_lagesbild": "Brå, lägesbild: {ref}",
    "kolada": "Kolada {ref}",
    "survey_template": "{ref} (ifylld mall)",
    "bra_yearly_csv": "Brå, {ref} (årsfil)",
}


@dataclass(frozen=True)
class SeriesChoice:
    """Which source's series an evaluation uses for one name of its file (a concept or an
    indicator id) in its municipality, and the follow-up years that source has."""

    name: str
    indicator_id: str
    followup_years: tuple[int, ...]
    alternatives: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Inputs:
    """The processed tables an evaluation reads."""

    indicators: pd.DataFrame
    catalog: pd.DataFrame
    groups: pd.DataFrame
    municipalities: pd.DataFrame


def years_label(years: tuple[int, ...] | list[int]) -> str:
    """'2022' or '2024–2025'."""
    years = sorted(years)
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def comparison_units(config: EvaluationConfig, groups: pd.DataFrame) -> tuple[str, ...]:
    """The comparison municipalities: the newest Kolada group with the configured title
    (a title such as "Liknande kommuner socioekonomi, Knivsta" matches "…, Knivsta, 2024"),
    plus any explicit codes; the target itself is never a comparison unit."""
    codes: list[str] = list(config.comparison.municipalities)
    title = config.comparison.kolada_group
    if title:
        matching = groups.loc[groups["group_title"].str.startswith(title)]
        if not matching.empty:
            years = matching["group_title"].str.extract(r"(\d{4})\s*$")[0].fillna("0")
            newest = matching.loc[years == years.max(), "group_id"].max()
            codes += matching.loc[matching["group_id"] == newest, "member_code"].tolist()
    return tuple(sorted(set(codes) - {config.municipality}))


def comparison_group_title(config: EvaluationConfig, groups: pd.DataFrame) -> str:
    """The full title of the Kolada group used (with its year), or '' if none."""
    title = config.comparison.kolada_group
    if not title:
        return ""
    matching = groups.loc[groups["group_title"].str.startswith(title), "group_title"]
    return str(sorted(matching.unique())[-1]) if not matching.empty else ""


def count_series(indicators: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """Counts and exposures (population) per municipality and year for one indicator.

    Where a source gives only a rate (Kolada), the count is derived as rate × population /
    100 000, rounded, and flagged in `count_derived`.
    """
    rows = indicators.loc[indicators["indicator_id"] == indicator_id]
    derived = rows["count"].isna() & rows["value"].notna() & rows["population"].notna()
    count = rows["count"].where(~derived, (rows["value"] * rows["population"] / 1e5).round())
    return pd.DataFrame(
        {
            "unit": rows["municipality_code"].to_numpy(),
            "year": rows["year"].to_numpy(),
            "count": count.to_numpy(),
            "exposure": rows["population"].to_numpy(),
            "rate": rows["value"].to_numpy(),
            "count_derived": derived.to_numpy(),
        }
    )


def _missing_years(series: pd.DataFrame, unit: str, years: tuple[int, ...], column: str) -> list:
    have = series.loc[(series["unit"] == unit) & series[column].notna(), "year"]
    return [year for year in years if year not in set(have)]


def usable_years(indicators: pd.DataFrame, indicator_id: str, unit: str, code: str) -> set[int]:
    """Years in which `code` has a value the methods can use: a count with its population
    (or a rate and population to derive it) for rates per 100 000, a share with an interval or
    a number of respondents for survey shares, any value otherwise."""
    rows = indicators.loc[
        (indicators["indicator_id"] == indicator_id) & (indicators["municipality_code"] == code)
    ]
    if unit == "per 100 000 inv":
        ok = (rows["count"].notna() | rows["value"].notna()) & rows["population"].notna()
    elif unit == "procent":
        interval = rows["ci_lower"].notna() & rows["ci_upper"].notna()
        respondents = rows["n_respondents"].notna() if "n_respondents" in rows else False
        ok = rows["value"].notna() & (interval | respondents)
    else:
        ok = rows["value"].notna()
    return set(rows.loc[ok, "year"].astype(int))


def choose_series(config: EvaluationConfig, inputs: Inputs) -> dict[str, SeriesChoice]:
    """Per name of the evaluation file, the source whose series the evaluation uses.

    A concept's alternatives are tried best source first (`catalog.SOURCE_PREFERENCE`): the
    first with every baseline year and every follow-up year for the municipality; else the
    first with every baseline year and some follow-up years (the follow-up is then shortened
    to those years, and the results say so); else the best source (its results say what is
    missing). One comparison never mixes sources: the municipality and its comparison group
    use the chosen source's series only, so a series break between sources cannot enter it.
    """
    catalog = inputs.catalog.set_index("indicator_id", drop=False)
    needed_base = set(config.baseline_years)
    choices: dict[str, SeriesChoice] = {}
    for name in config.indicators:
        options = alternatives(inputs.catalog, name) or [name]
        chosen, follow = options[0], config.followup_years
        partial: tuple[str, tuple[int, ...]] | None = None
        for option in options:
            info = catalog.loc[option]
            if info["kind"] == "survey":
                # Surveys are published in waves: their methods pick the waves themselves
                # (`choose_waves`), so the follow-up is never shortened here.
                chosen, follow, partial = option, config.followup_years, None
                break
            have = usable_years(inputs.indicators, option, info["unit"], config.municipality)
            available = tuple(y for y in config.followup_years if y in have)
            base_ok = needed_base <= have
            complete = available == config.followup_years
            if base_ok and complete:
                chosen, follow, partial = option, config.followup_years, None
                break
            if base_ok and available and partial is None:
                partial = (option, available)
        else:
            if partial is not None:
                chosen, follow = partial
        note = ""
        if follow != config.followup_years:
            missing = [y for y in config.followup_years if y not in follow]
            note = (
                f"Uppföljningen omfattar bara {years_label(follow)}: källan saknar "
                f"{', '.join(map(str, missing))}. "
            )
        choices[name] = SeriesChoice(name, chosen, follow, tuple(options), note)
    return choices


def resolve_series(config: EvaluationConfig, inputs: Inputs) -> EvaluationConfig:
    """The configuration with each concept replaced by the indicator id of its chosen source
    (focus areas and primary outcomes), so that every table and figure reads one series."""
    choices = choose_series(config, inputs)

    def concrete(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(choices[n].indicator_id if n in choices else n for n in names))

    return replace(
        config,
        focus_areas={area: concrete(ids) for area, ids in config.focus_areas.items()},
        primary=concrete(config.primary),
        extra={**config.extra, "series": {c.indicator_id: c for c in choices.values()}},
    )


def _base_row(config: EvaluationConfig, info: pd.Series, method: str) -> dict:
    return {
        "focus_area": info["focus_area"],
        "indicator_id": info["indicator_id"],
        "name_sv": info["name_sv"],
        "kind": info["kind"],
        "desired_direction": info["desired_direction"],
        "primary": bool(info["primary_eval"]),
        "method": method,
        "method_sv": METHODS_SV[method],
        "msms_level": MSMS[method],
        "headline": False,
        "baseline_label": years_label(config.baseline_years),
        "followup_label": years_label(config.followup_years),
        "baseline_value": math.nan,
        "followup_value": math.nan,
        "estimate": math.nan,
        "ci_lower": math.nan,
        "ci_upper": math.nan,
        "estimate_kind": "",
        "interval_kind": "",
        "p_value": math.nan,
        "q_value": math.nan,
        "mde_increase": math.nan,
        "mde_decrease": math.nan,
        "verdict": "",
        "verdict_sv": "",
        "note": "",
        "source_sv": SOURCE_SV[info["source"]].format(ref=info["source_ref"]),
        "concept": info["concept_eval"],
    }


def _cannot(row: dict, reason: str) -> dict:
    row.update(verdict="cannot_judge", note=reason)
    return row


def _count_methods(
    config: EvaluationConfig,
    info: pd.Series,
    series: pd.DataFrame,
    comparison: tuple[str, ...],
) -> list[dict]:
    target = config.municipality
    base_years, follow_years = config.baseline_years, config.followup_years
    pre_years = tuple(range(config.pre_period[0], config.pre_period[1] + 1))
    rows: list[dict] = []
    derived_note = (
        "Antal härlett ur publicerad takt × folkmängd. "
        if series.loc[series["unit"] == target, "count_derived"].any()
        else ""
    )

    # Before–after in the municipality alone.
    row = _base_row(config, info, "fore_efter")
    missing = _missing_years(series, target, base_years + follow_years, "count")
    missing += [
        y
        for y in _missing_years(series, target, base_years + follow_years, "exposure")
        if y not in missing
    ]
    if missing:
        rows.append(_cannot(row, f"saknar värden för {', '.join(map(str, sorted(missing)))}"))
        return rows + [
            _cannot(
                _base_row(config, info, m),
                f"saknar värden för {', '.join(map(str, sorted(missing)))}",
            )
            for m in ("trend", "diff_i_diff", "syntetisk_kontroll")
        ]
    own = series.loc[series["unit"] == target].set_index("year")
    c0, e0 = own.loc[list(base_years), "count"].sum(), own.loc[list(base_years), "exposure"].sum()
    follow = own.loc[list(follow_years)]
    c1, e1 = follow["count"].sum(), follow["exposure"].sum()
    result = rate_ratio(c1, e1, c0, e0, alpha=config.alpha)
    pre_own = own.loc[[y for y in pre_years if y in own.index and pd.notna(own.loc[y, "count"])]]
    trend = trend_projection(
        pre_own.index.to_numpy(),
        pre_own["count"].to_numpy(),
        pre_own["exposure"].to_numpy(),
        np.array(follow_years),
        own.loc[list(follow_years), "count"].to_numpy(),
        own.loc[list(follow_years), "exposure"].to_numpy(),
        alpha=config.alpha,
    )
    dispersion = trend.dispersion if math.isfinite(trend.dispersion) else 1.0
    exposure_ratio = e1 / e0
    overdispersion_note = (
        "Överspridningen gör att det exakta Poissontestet underskattar osäkerheten här; "
        "jämförelsegruppens metod tar hänsyn till den. "
        if dispersion > 1.5
        else ""
    )
    mde_up = minimum_detectable_ratio(c0, exposure_ratio, dispersion, config.alpha, 0.8, "increase")
    mde_down = minimum_detectable_ratio(
        c0, exposure_ratio, dispersion, config.alpha, 0.8, "decrease"
    )
    row.update(
        baseline_value=c0 / e0 * 1e5,
        followup_value=c1 / e1 * 1e5,
        estimate=result.ratio,
        ci_lower=result.ci_lower,
        ci_upper=result.ci_upper,
        estimate_kind="kvot (takt efter/före)",
        interval_kind="95 % exakt konfidensintervall",
        p_value=result.p_value,
        mde_increase=mde_up,
        mde_decrease=mde_down,
        note=(
            f"{derived_note}{int(c0)} händelser {years_label(base_years)}, {int(c1)} "
            f"{years_label(follow_years)}; överspridning {dispersion:.2f} från "
            f"trendanpassningen. {overdispersion_note}{result.note}"
        ).strip(),
    )
    if c0 + c1 == 0:
        _cannot(row, "inga anmälda händelser under perioderna")
    rows.append(row)

    # Trend-adjusted before–after.
    row = _base_row(config, info, "trend")
    row.update(
        baseline_value=trend.expected,
        followup_value=trend.observed,
        estimate=trend.ratio,
        ci_lower=trend.ci_lower,
        ci_upper=trend.ci_upper,
        estimate_kind="kvot (observerat/förväntat enligt trend)",
        interval_kind="95 % prediktionsintervall",
        p_value=trend.p_value,
        mde_increase=mde_up,
        mde_decrease=mde_down,
        note=(
            f"Trend {years_label(tuple(pre_own.index))} ({trend.n_pre_years} år). {trend.warning}"
        ).strip(),
    )
    if not math.isfinite(trend.ratio):
        _cannot(row, trend.warning or "trenden kunde inte skattas")
    rows.append(row)

    # Difference-in-differences against the comparison group.
    row = _base_row(config, info, "diff_i_diff")
    panel_years = base_years + follow_years
    panel = series.loc[
        series["unit"].isin((target,) + comparison) & series["year"].isin(panel_years)
    ].dropna(subset=["count", "exposure"])
    units_with_data = sorted(set(panel["unit"]) - {target})
    if not units_with_data:
        rows.append(_cannot(row, "jämförelsegruppen saknar data för indikatorn"))
    else:
        did = difference_in_differences(
            panel[["unit", "year", "count", "exposure"]],
            target,
            base_years,
            follow_years,
            alpha=config.alpha,
        )
        row.update(
            baseline_value=did.rr_target,
            followup_value=did.rr_comparison,
            estimate=did.ratio_of_rate_ratios,
            ci_lower=did.ci_lower,
            ci_upper=did.ci_upper,
            estimate_kind="kvot av kvoter (kommunen/jämförelsegruppen)",
            interval_kind="95 % konfidensintervall (kvasi-Poisson)",
            p_value=did.p_value,
            mde_increase=did.min_detectable_ratio,
            mde_decrease=1 / did.min_detectable_ratio if did.min_detectable_ratio else math.nan,
            note=(f"{did.n_comparison_units} jämförelsekommuner. {did.note}").strip(),
        )
        if not math.isfinite(did.ratio_of_rate_ratios):
            _cannot(row, did.note or "kunde inte skattas")
        rows.append(row)

    # Synthetic control on rates.
    row = _base_row(config, info, "syntetisk_kontroll")
    synth_years = [y for y in pre_years if y not in follow_years] + list(follow_years)
    wide = series.loc[
        series["unit"].isin((target,) + comparison) & series["year"].isin(synth_years)
    ].pivot_table(index="year", columns="unit", values="rate", aggfunc="first")
    pre_available = [y for y in pre_years if y in wide.index]
    if len(wide.columns) < 2 or not pre_available:
        rows.append(_cannot(row, "för få jämförelsekommuner med data"))
    else:
        synth = synthetic_control(wide, target, pre_available, list(follow_years))
        pre_mean = float(wide.loc[pre_available, target].mean())
        smallest_p = 1 / (synth.n_placebos + 1) if synth.n_placebos else math.nan
        power_note = (
            f"Med {synth.n_placebos} placebokommuner kan placebotestet inte ge p under "
            f"{smallest_p:.3f}".replace(".", ",")
            + f": metoden kan inte påvisa en förändring på {config.alpha * 100:g} %-nivån. "
            if math.isfinite(smallest_p) and smallest_p > config.alpha
            else ""
        )
        row.update(
            baseline_value=float(synth.synthetic.loc[list(follow_years)].mean())
            if synth.synthetic is not None
            else math.nan,
            followup_value=float(wide.loc[list(follow_years), target].mean()),
            estimate=1 + synth.relative_post_gap
            if math.isfinite(synth.relative_post_gap)
            else math.nan,
            estimate_kind="kvot (observerat/syntetisk kontroll)",
            interval_kind="inget konfidensintervall: permutationstest (placebo i rummet)",
            p_value=synth.p_value,
            note=(
                f"{synth.n_donors} donatorer, RMSPE före {synth.pre_rmspe:.1f} "
                f"(kommunens medelvärde {pre_mean:.1f}). {power_note}{synth.warning}"
            ).strip(),
        )
        # Abadie, Diamond & Hainmueller (2010): without a close pre-period fit the synthetic
        # control is no counterfactual, and an exact fit makes the placebo ratio meaningless.
        if synth.pre_rmspe > SYNTH_POOR_FIT * pre_mean:
            _cannot(
                row,
                f"den syntetiska kontrollen följer inte kommunen under förperioden "
                f"(RMSPE {synth.pre_rmspe:.1f} mot medelvärdet {pre_mean:.1f})",
            )
        elif not math.isfinite(synth.rmspe_ratio):
            _cannot(row, "exakt anpassning under förperioden: placebotestet är oinformativt")
        elif not math.isfinite(row["estimate"]) or not math.isfinite(synth.p_value):
            _cannot(row, synth.warning or "kunde inte skattas")
        rows.append(row)
    return rows


# --- Surveys as published: waves, shares, indices ------------------------------------------
# A survey is published in waves (Liv & hälsa ung every second year, Polisens trygghetsmätning
# some years), so the years compared are waves, not the configured years:
# - the waves of an indicator are the years entered for it in any unit (municipality or county),
#   including a row entered with a missing value for a wave that is released but not typed in;
# - baseline: the latest wave at or before the baseline year, else (a first wave after it) the
#   latest wave before the follow-up period starts;
# - follow-up: the latest wave in the follow-up period, else the nearest one after it.
SURVEY_SHORT: dict[str, str] = {"Liv & hälsa ung": "LHU", "NTU": "NTU"}


def survey_waves(frame: pd.DataFrame) -> tuple[int, ...]:
    """The waves of one survey indicator: every year entered for it, in any unit."""
    return tuple(sorted({int(year) for year in frame["year"]}))


def choose_waves(
    waves: tuple[int, ...], baseline_years: tuple[int, ...], followup_years: tuple[int, ...]
) -> tuple[int | None, int | None]:
    """(baseline wave, follow-up wave) by the rules above; None where no wave qualifies."""
    before = [w for w in waves if w <= max(baseline_years)]
    if not before:
        before = [w for w in waves if w < min(followup_years)]
    during = [w for w in waves if min(followup_years) <= w <= max(followup_years)]
    after = [w for w in waves if w > max(followup_years)]
    baseline = max(before) if before else None
    followup = max(during) if during else (min(after) if after else None)
    return baseline, followup


def waves_label(info: pd.Series, baseline: int | None, followup: int | None) -> str:
    """'LHU 2023 → 2025': which waves were compared."""
    name = info["source_ref"] if info["source"] == "survey_template" else "NTU"
    name = SURVEY_SHORT.get(name, name)
    return f"{name} {baseline if baseline else '?'} → {followup if followup else '?'}"


def _value(frame: pd.DataFrame, unit: str, year: int | None) -> pd.Series | None:
    rows = frame.loc[(frame["municipality_code"] == unit) & (frame["year"] == year)]
    if year is None or rows.empty or pd.isna(rows["value"].iloc[0]):
        return None
    return rows.iloc[0]


def _share(frame: pd.DataFrame, unit: str, year: int | None) -> pd.Series | None:
    row = _value(frame, unit, year)
    if row is None:
        return None
    has_interval = pd.notna(row["ci_lower"]) and pd.notna(row["ci_upper"])
    return row if has_interval or pd.notna(row["n_respondents"]) else None


def _share_difference(
    followup: pd.Series, baseline: pd.Series, alpha: float
) -> tuple[ProportionDifference, str]:
    """Follow-up minus baseline share: from the published intervals where both have one
    (SE derived from them), else from the numbers of respondents (Newcombe 1998, method 10)."""
    if all(pd.notna(s["ci_lower"]) and pd.notna(s["ci_upper"]) for s in (followup, baseline)):
        diff = difference_from_published_intervals(
            followup["value"] / 100,
            followup["ci_lower"] / 100,
            followup["ci_upper"] / 100,
            baseline["value"] / 100,
            baseline["ci_lower"] / 100,
            baseline["ci_upper"] / 100,
            alpha=alpha,
        )
        return diff, "95 % konfidensintervall (SE ur publicerade intervall)"
    p1, n1 = followup["value"] / 100, followup["n_respondents"]
    p0, n0 = baseline["value"] / 100, baseline["n_respondents"]
    diff = newcombe_difference(p1, n1, p0, n0, alpha=alpha)
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return replace(diff, se=se), "95 % konfidensintervall (Newcombe, ur antal svarande)"


def _wave_rows(config: EvaluationConfig, info: pd.Series, waves: tuple[int | None, ...]) -> list:
    rows = [_base_row(config, info, method) for method in ("fore_efter", "diff_i_diff")]
    for row in rows:
        row.update(
            baseline_label=str(waves[0] or "–"),
            followup_label=str(waves[1] or "–"),
            note=waves_label(info, *waves) + ". " if any(waves) else "",
        )
    return rows


def _missing_waves(waves: tuple[int | None, int | None], found: tuple[object, object]) -> str:
    if waves[0] is None or waves[1] is None:
        return (
            "ingen inmatad våg att jämföra (behövs: senaste våg till och med basåret och en våg "
            "under eller närmast efter uppföljningen)"
        )
    missing = [str(w) for w, value in zip(waves, found, strict=True) if value is None]
    return f"saknar andel med intervall eller antal svarande för {', '.join(missing)}"


def _index_methods(config: EvaluationConfig, info: pd.Series, frame: pd.DataFrame) -> list:
    """An index without a published interval: the change on its own published scale, the
    county's change beside it, verdict "descriptive_only" (no test is possible)."""
    waves = choose_waves(survey_waves(frame), config.baseline_years, config.followup_years)
    own, county_row = _wave_rows(config, info, waves)
    b, f = (_value(frame, config.municipality, w) for w in waves)
    if b is None or f is None:
        reason = _missing_waves(waves, (b, f)).replace(
            "andel med intervall eller antal svarande", "värde"
        )
        return [_cannot(own, own["note"] + reason), _cannot(county_row, "saknar kommunens värden")]
    own.update(
        baseline_value=b["value"],
        followup_value=f["value"],
        estimate=f["value"] - b["value"],
        estimate_kind="skillnad på indexets publicerade skala (efter − före)",
        interval_kind="inget intervall publicerat",
        verdict="descriptive_only",
        note=own["note"] + "Index utan publicerat intervall: förändringen redovisas "
        "beskrivande, utan test.",
    )
    county = config.comparison.county
    cb, cf = (_value(frame, county, w) if county else None for w in waves)
    if cb is None or cf is None:
        return [own, _cannot(county_row, "länet saknar värden för jämförelse")]
    county_row.update(
        baseline_value=f["value"] - b["value"],
        followup_value=cf["value"] - cb["value"],
        estimate=(f["value"] - b["value"]) - (cf["value"] - cb["value"]),
        estimate_kind="skillnad i förändring på indexets skala (kommunen − länet)",
        interval_kind="inget intervall publicerat",
        verdict="descriptive_only",
        note=county_row["note"]
        + f"Länet {_decimal(cb['value'])} → {_decimal(cf['value'])}, kommunen "
        f"{_decimal(b['value'])} → {_decimal(f['value'])}; beskrivande, utan test.",
    )
    return [own, county_row]


def _decimal(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _survey_methods(config: EvaluationConfig, info: pd.Series, rows_all: pd.DataFrame) -> list:
    frame = rows_all.loc[rows_all["indicator_id"] == info["indicator_id"]]
    waves = choose_waves(survey_waves(frame), config.baseline_years, config.followup_years)
    base_year, follow_year = waves
    target = config.municipality
    results: list[dict] = []
    row, county_row = _wave_rows(config, info, waves)
    label = row["note"]
    b, f = _share(frame, target, base_year), _share(frame, target, follow_year)
    if b is None or f is None:
        return [
            _cannot(row, label + _missing_waves(waves, (b, f))),
            _cannot(county_row, "saknar kommunens värden"),
        ]
    diff, interval_kind = _share_difference(f, b, config.alpha)
    z = stats.norm.ppf(1 - config.alpha / 2) + stats.norm.ppf(0.8)
    overlap = (
        "NTU:s kommunvärden är flerårsmedel: perioderna kan överlappa, så skillnaden "
        "underskattas och osäkerheten överskattas. "
        if info["source"] == "bra_lagesbild"
        else ""
    )
    row.update(
        baseline_value=b["value"],
        followup_value=f["value"],
        estimate=diff.difference * 100,
        ci_lower=diff.ci_lower * 100,
        ci_upper=diff.ci_upper * 100,
        estimate_kind="skillnad i procentenheter (efter − före)",
        interval_kind=interval_kind,
        p_value=diff.p_value,
        mde_increase=z * diff.se * 100,
        mde_decrease=-z * diff.se * 100,
        note=f"{label}{overlap}{diff.method}",
    )
    results.append(row)
    row = county_row
    county = config.comparison.county
    cb = _share(frame, county, base_year) if county else None
    cf = _share(frame, county, follow_year) if county else None
    if cb is None or cf is None:
        results.append(_cannot(row, "länet saknar värden för jämförelse"))
        return results
    county_diff, _ = _share_difference(cf, cb, config.alpha)
    estimate = diff.difference - county_diff.difference
    se = math.hypot(diff.se, county_diff.se)
    half = stats.norm.ppf(1 - config.alpha / 2) * se
    row.update(
        baseline_value=diff.difference * 100,
        followup_value=county_diff.difference * 100,
        estimate=estimate * 100,
        ci_lower=(estimate - half) * 100,
        ci_upper=(estimate + half) * 100,
        estimate_kind="skillnad i skillnader, procentenheter (kommunen − länet)",
        interval_kind="95 % konfidensintervall (normalapproximation)",
        p_value=float(2 * stats.norm.sf(abs(estimate) / se)) if se > 0 else math.nan,
        mde_increase=z * se * 100,
        mde_decrease=-z * se * 100,
        note=f"{label}{overlap}Jämfört med länet ({county}); kommunen ingår i länets värde.",
    )
    results.append(row)
    return results


def evaluate(config: EvaluationConfig, inputs: Inputs) -> pd.DataFrame:
    """Evaluate every indicator of the configuration; one row per indicator × method."""
    catalog = inputs.catalog.set_index("indicator_id", drop=False)
    comparison = comparison_units(config, inputs.groups)
    if "series" not in config.extra:  # run_evaluation has resolved it already
        config = resolve_series(config, inputs)
    rows: list[dict] = []
    for area, indicator_ids in config.focus_areas.items():
        for indicator_id in indicator_ids:
            info = catalog.loc[indicator_id].copy()
            info["focus_area"] = area
            info["primary_eval"] = (
                indicator_id in config.primary if config.primary else bool(info["primary"])
            )
            choice = config.extra["series"][indicator_id]
            info["concept_eval"] = choice.name
            first = len(rows)
            if info["unit"] == "per 100 000 inv":
                series = count_series(inputs.indicators, indicator_id)
                own = replace(config, followup_years=choice.followup_years)
                rows += _count_methods(own, info, series, comparison)
            elif info["unit"] == "procent":
                own = replace(config, followup_years=choice.followup_years)
                rows += _survey_methods(own, info, inputs.indicators)
            elif info["kind"] == "survey" and info["source"] == "survey_template":
                frame = inputs.indicators
                own = replace(config, followup_years=choice.followup_years)
                rows += _index_methods(own, info, frame.loc[frame["indicator_id"] == indicator_id])
            else:
                row = _base_row(config, info, "fore_efter")
                own = inputs.indicators.loc[
                    (inputs.indicators["indicator_id"] == indicator_id)
                    & (inputs.indicators["municipality_code"] == config.municipality)
                    & inputs.indicators["value"].notna()
                ]
                reason = (
                    "index utan publicerat intervall: redovisas som värde"
                    if len(own)
                    else "saknar värden för kommunen"
                )
                rows.append(_cannot(row, reason))
            for row in rows[first:]:
                row["note"] = f"{choice.note}{row['note']}"
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return _finish(results, config.alpha)


def _finish(results: pd.DataFrame, alpha: float) -> pd.DataFrame:
    results = results.copy()
    for _, index in results.groupby(["method", "primary"]).groups.items():
        results.loc[index, "q_value"] = bh_qvalues(results.loc[index, "p_value"].to_numpy())
    ratio_scale = results["estimate_kind"].str.startswith("kvot") | (results["estimate_kind"] == "")
    order = {"diff_i_diff": 0, "syntetisk_kontroll": 2, "fore_efter": 1, "trend": 3}
    for i, row in results.iterrows():
        if row["verdict"] == "descriptive_only":  # an index without interval: no test
            results.loc[i, "verdict_sv"] = (
                f"Endast beskrivande ({row['method_sv']}): indexet publiceras utan intervall, "
                "så förändringen kan inte prövas statistiskt."
            )
            continue
        reason = row["note"] if row["verdict"] == "cannot_judge" else ""
        null = 1.0 if ratio_scale[i] else 0.0
        code = verdict(
            row["estimate"],
            row["q_value"],
            row["kind"],
            row["desired_direction"],
            null,
            alpha,
            reason,
        )
        sentence = mde_text(row["mde_increase"], row["mde_decrease"], bool(ratio_scale[i]))
        results.loc[i, "verdict"] = code
        results.loc[i, "verdict_sv"] = verdict_text_sv(
            code,
            row["kind"],
            row["desired_direction"],
            int(row["msms_level"]),
            row["method_sv"],
            sentence,
            reason,
        )
    judged = results.loc[results["verdict"] != "cannot_judge"].copy()
    judged["rank"] = judged["method"].map(order)
    best = judged.sort_values("rank", kind="mergesort").groupby("indicator_id").head(1).index
    headline_ids = set(results.loc[best, "indicator_id"])
    fallback = (
        results.loc[~results["indicator_id"].isin(headline_ids)]
        .groupby("indicator_id")
        .head(1)
        .index
    )
    results.loc[list(best) + list(fallback), "headline"] = True
    return results


def data_gaps(config: EvaluationConfig, inputs: Inputs) -> pd.DataFrame:
    """Which indicators lack which years for the municipality, and where a user gets them:
    for Kolada the exact fetch command of this evaluation and municipality, for what no API
    serves the manual route (Brå's workbook, the survey template)."""
    command = (
        f"medlofte fetch --config {config.path or 'evaluations/' + config.id + '.toml'} "
        f"--municipality {config.municipality}"
    )
    years = tuple(range(config.pre_period[0], config.pre_period[1] + 1))
    years = tuple(sorted(set(years) | set(config.followup_years)))
    catalog = inputs.catalog.set_index("indicator_id")
    have = inputs.indicators.loc[
        (inputs.indicators["municipality_code"] == config.municipality)
        & inputs.indicators["value"].notna()
    ]
    rows = []
    for area, ids in config.focus_areas.items():
        for indicator_id in ids:
            present = set(have.loc[have["indicator_id"] == indicator_id, "year"])
            info = catalog.loc[indicator_id]
            if info["source"] == "survey_template":
                label, n_missing = _survey_gap(config, inputs, indicator_id, present)
            else:
                missing = [y for y in years if y not in present]
                label, n_missing = _compact_years(missing), len(missing)
            if not n_missing:
                continue
            choice = config.extra.get("series", {}).get(indicator_id)
            options = choice.alternatives if choice else (indicator_id,)
            hints = [
                SOURCE_HINTS[catalog.loc[o, "source"]].format(
                    ref=catalog.loc[o, "source_ref"], command=command
                )
                for o in options
            ]
            rows.append(
                {
                    "focus_area": area,
                    "indicator_id": indicator_id,
                    "name_sv": info["name_sv"],
                    "missing_years": label,
                    "n_missing": n_missing,
                    "where_to_get": " eller ".join(hints),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "focus_area",
            "indicator_id",
            "name_sv",
            "missing_years",
            "n_missing",
            "where_to_get",
        ],
    )


def _survey_gap(
    config: EvaluationConfig, inputs: Inputs, indicator_id: str, present: set[int]
) -> tuple[str, int]:
    """The waves a survey indicator lacks for the municipality: only waves that exist (entered
    for some unit, with or without a value), never every calendar year; without any wave, the
    two waves the comparison needs, described."""
    frame = inputs.indicators.loc[inputs.indicators["indicator_id"] == indicator_id]
    waves = survey_waves(frame)
    if not waves:
        return (
            f"våg {max(config.baseline_years)} eller senast före, och våg "
            f"{years_label(config.followup_years)} eller närmast efter (vågor: inga inmatade)",
            2,
        )
    missing = [w for w in waves if w not in present]
    chosen = choose_waves(waves, config.baseline_years, config.followup_years)
    label = _compact_years(missing) if missing else ""
    if None in chosen:
        label = (
            (label + "; " if label else "")
            + "ingen våg för "
            + ("basåret" if chosen[0] is None else "uppföljningen")
        )
        return label, len(missing) + 1
    return label, len(missing)


def _compact_years(years: list[int]) -> str:
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(years_label(run) for run in runs)


def load_inputs(processed_dir: Path = PROCESSED_DIR) -> Inputs:
    """Read the processed tables (codes as strings, blanks as missing) and the catalog."""
    indicators = pd.read_csv(
        processed_dir / "indicators.csv",
        dtype={"municipality_code": str},
        keep_default_na=False,
        na_values={c: [""] for c in NUMERIC_INDICATOR_COLUMNS},
    )
    municipalities = pd.read_csv(
        processed_dir / "municipalities.csv", dtype=str, keep_default_na=False
    )
    groups = pd.read_csv(
        processed_dir / "municipality_groups.csv", dtype=str, keep_default_na=False
    )
    return Inputs(indicators, load_catalog(), groups, municipalities)


@dataclass(frozen=True)
class Evaluation:
    """A configuration, its inputs, and everything computed from them for the notebooks."""

    config: EvaluationConfig
    inputs: Inputs
    results: pd.DataFrame
    gaps: pd.DataFrame
    comparison: tuple[str, ...]
    comparison_title: str

    @property
    def municipality_name(self) -> str:
        names = dict(
            zip(self.inputs.municipalities["code"], self.inputs.municipalities["name"], strict=True)
        )
        return names[self.config.municipality]

    def name_of(self, code: str) -> str:
        """Municipality name for a code."""
        names = dict(
            zip(self.inputs.municipalities["code"], self.inputs.municipalities["name"], strict=True)
        )
        return names.get(code, code)


def run_evaluation(
    config_path: str, municipality: str = "", processed_dir: Path = PROCESSED_DIR
) -> Evaluation:
    """Load, check and evaluate one configuration (a path relative to the project root)."""
    inputs = load_inputs(processed_dir)
    path = Path(config_path)
    config = load_config(path if path.is_absolute() else PROJECT_ROOT / path, municipality or None)
    config = replace(config, path=path.as_posix() if not path.is_absolute() else path.name)
    check_config(config, inputs.catalog, inputs.municipalities, inputs.indicators, inputs.groups)
    names = dict(zip(inputs.municipalities["code"], inputs.municipalities["name"], strict=True))
    config = resolve_series(name_run(config, names), inputs)
    with warnings.catch_warnings():
        # statsmodels warns on perfect fits of tiny series; the results carry their own notes.
        warnings.simplefilter("ignore")
        results = evaluate(config, inputs)
    return Evaluation(
        config=config,
        inputs=inputs,
        results=results,
        gaps=data_gaps(config, inputs),
        comparison=comparison_units(config, inputs.groups),
        comparison_title=comparison_group_title(config, inputs.groups),
    )
