"""One call evaluates a whole configuration: every indicator × method → one tidy results table.

Methods (each cites its own module):
- `fore_efter`: follow-up vs baseline in the municipality alone, exact conditional rate ratio
  (counts) or difference of survey shares with SEs from the published intervals. Maryland
  Scientific Methods Scale (SMS) level 2.
- `trend`: observed follow-up vs the pre-period log-linear trend projected forward
  (quasi-Poisson interrupted time series). SMS level 2 (no comparison group).
- `diff_i_diff`: ratio of rate ratios against the comparison group over the whole pre-period,
  tested against the comparison units as placebos (stats.did, stats.placebo_inference), or for
  surveys the difference of differences against the county. SMS level 3.
- `syntetisk_kontroll`: synthetic control from the comparison pool; its follow-up gap tested
  against the donors' placebo gaps the same way (stats.synth.gap_test). SMS level 3.
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
from medlofte_analysis.stats.did import placebo_difference_in_differences
from medlofte_analysis.stats.dispersion import PooledDispersion
from medlofte_analysis.stats.multiple import bh_qvalues, fcr_interval_levels
from medlofte_analysis.stats.placebo_inference import PlaceboTest
from medlofte_analysis.stats.proportions import (
    ProportionDifference,
    difference_from_published_intervals,
    newcombe_difference,
)
from medlofte_analysis.stats.rate_ratio import overdispersed_rate_ratio, panel_rate_ratio
from medlofte_analysis.stats.synth import synthetic_control
from medlofte_analysis.stats.trend import trend_projection
from medlofte_analysis.verdict import (
    NOMINAL_ONLY_CODE,
    mde_text,
    nominal_only_text,
    verdict,
    verdict_text_sv,
)

METHODS_SV: dict[str, str] = {
    "fore_efter": "före–efter i kommunen",
    "trend": "jämfört med trenden före",
    "diff_i_diff": "skillnad i skillnader mot jämförelsegruppen",
    "syntetisk_kontroll": "syntetisk kontroll",
}
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
    indicators = inputs.indicators
    own_rows = indicators.loc[indicators["municipality_code"] == config.municipality]
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
            have = usable_years(own_rows, option, info["unit"], config.municipality)
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


P_VALUE_RULE_NOTE = (
    "p-värdet är tvåsidigt enligt den centrala regeln (dubbla den mindre svansen), som "
    "stämmer med intervallet; R:s poisson.test summerar i stället alla utfall som är minst "
    "lika osannolika och kan ge ett lägre p."
)


def _shocks_note(
    pooled: PooledDispersion, pre_years: tuple[int, ...], phi: float, shock_df: float
) -> str:
    """Swedish: which overdispersion estimate the single-municipality methods used."""
    if not math.isfinite(pooled.sigma2):
        return (
            "Överspridningen kunde inte skattas (för få år): exakt Poissontest, som "
            "underskattar osäkerheten om antalen varierar mer än slumpen."
        )
    return (
        f"Överspridning skattad gemensamt ur {pooled.n_units} kommuners år "
        f"{years_label(pre_years)} (årsvariation σ² = {_sv(pooled.sigma2, '.3f')} på "
        f"log-skala, autokorrelation {_sv(pooled.rho, '.2f')}); för kommunens perioder blir "
        f"överspridningsfaktorn {_sv(phi, '.2f')}, där osäkerheten i skattningen är inräknad "
        f"(den motsvarar {_sv(shock_df, '.0f')} frihetsgrader)."
    )


def _sv(value: float, spec: str) -> str:
    """A number with a decimal comma (Svenska skrivregler)."""
    return format(value, spec).replace(".", ",")


def _rate_ratio_interval(c1: float, e1: float, c0: float, e0: float, phi: float):
    """The before–after interval at another level (for the FCR-adjusted interval)."""

    def at(alpha: float) -> tuple[float, float]:
        r = overdispersed_rate_ratio(c1, e1, c0, e0, phi, alpha)
        return r.ci_lower, r.ci_upper

    return at


def _trend(
    pre_own: pd.DataFrame,
    own: pd.DataFrame,
    follow_years,
    pooled: PooledDispersion,
    alpha,
    *,
    with_mde: bool = True,
):
    """The trend projection of the municipality, shocks borrowed from the panel if pooled."""
    return trend_projection(
        pre_own.index.to_numpy(),
        pre_own["count"].to_numpy(),
        pre_own["exposure"].to_numpy(),
        np.array(follow_years),
        own.loc[list(follow_years), "count"].to_numpy(),
        own.loc[list(follow_years), "exposure"].to_numpy(),
        alpha=alpha,
        shocks=pooled if math.isfinite(pooled.sigma2) else None,
        with_mde=with_mde,
    )


def _trend_interval(pre_own: pd.DataFrame, own: pd.DataFrame, follow_years, pooled):
    """The trend interval at another level (for the FCR-adjusted interval)."""

    def at(alpha: float) -> tuple[float, float]:
        t = _trend(pre_own, own, follow_years, pooled, alpha, with_mde=False)
        return t.ci_lower, t.ci_upper

    return at


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
    # Year-to-year overdispersion pooled over the target's and the comparison units' pre-years
    panel_years = sorted(set(pre_years) | set(base_years) | set(follow_years))
    panel = series.loc[
        series["unit"].isin((target,) + comparison) & series["year"].isin(panel_years)
    ].dropna(subset=["count", "exposure"])[["unit", "year", "count", "exposure"]]
    before_after = panel_rate_ratio(
        panel, target, base_years, follow_years, pre_years, alpha=config.alpha
    )
    result = before_after.result
    shocks_note = _shocks_note(
        before_after.pooled, pre_years, before_after.dispersion, before_after.shock_df
    )
    pre_own = own.loc[[y for y in pre_years if y in own.index and pd.notna(own.loc[y, "count"])]]
    trend = _trend(pre_own, own, follow_years, before_after.pooled, config.alpha)
    row.update(
        baseline_value=c0 / e0 * 1e5,
        followup_value=c1 / e1 * 1e5,
        estimate=result.ratio,
        ci_lower=result.ci_lower,
        ci_upper=result.ci_upper,
        estimate_kind="kvot (takt efter/före)",
        interval_kind=(
            "95 % konfidensintervall (betabinomialt, med överspridning)"
            if before_after.dispersion > 1
            else "95 % exakt konfidensintervall"
        ),
        p_value=result.p_value,
        mde_increase=before_after.mde_increase,
        mde_decrease=before_after.mde_decrease,
        note=(
            f"{derived_note}{int(c0)} händelser {years_label(base_years)}, {int(c1)} "
            f"{years_label(follow_years)}. {shocks_note} {P_VALUE_RULE_NOTE} {result.note}"
        ).strip(),
        _interval=_rate_ratio_interval(c1, e1, c0, e0, before_after.dispersion),
    )
    if c0 + c1 == 0:
        _cannot(row, "inga anmälda händelser under perioderna")
    rows.append(row)

    # Trend-adjusted before–after.
    row = _base_row(config, info, "trend")
    trend_source = (
        "överspridning lånad från panelen (se före–efter)"
        if trend.dispersion_source == "panel"
        else "överspridning ur kommunens egna förår"
    )
    row.update(
        baseline_value=trend.expected,
        followup_value=trend.observed,
        estimate=trend.ratio,
        ci_lower=trend.ci_lower,
        ci_upper=trend.ci_upper,
        estimate_kind="kvot (observerat/förväntat enligt trend)",
        interval_kind="95 % prediktionsintervall",
        p_value=trend.p_value,
        mde_increase=trend.mde_increase,
        mde_decrease=trend.mde_decrease,
        note=(
            f"Trend {years_label(tuple(pre_own.index))} ({trend.n_pre_years} år), "
            f"{trend_source}. {trend.warning}"
        ).strip(),
        _interval=_trend_interval(pre_own, own, follow_years, before_after.pooled),
    )
    if not math.isfinite(trend.ratio):
        _cannot(row, trend.warning or "trenden kunde inte skattas")
    rows.append(row)

    # Comparison-group methods: difference-in-differences and synthetic control.
    did_baseline = tuple(int(y) for y in pre_own.index if y not in follow_years)
    shocks = before_after.pooled
    rows.append(_did_row(config, info, series, comparison, did_baseline, shocks))
    rows.append(_synth_row(config, info, series, comparison, pre_years, shocks))
    return rows


def _placebo_note(test: PlaceboTest, alpha: float) -> str:
    """In words: what the placebo test compared, and when no change could be detected."""
    larger = round((1 - test.rank_p) * (test.n_placebos + 1))
    reference = (
        "normalfördelning" if test.df >= 1000 else f"t-fördelning med {test.df:.0f} frihetsgrader"
    )
    note = (
        f"Osäkerheten är skattad ur hur mycket de {test.n_placebos} jämförelsekommunerna "
        f"varierar när var och en behandlas som om den vore kommunen (placebo), med hänsyn "
        f"till deras storlek (årsvariation utöver Poissonslumpen: varians "
        f"{_sv(test.tau2, '.3f')} på log-skalan; {reference}). Kommunens avvikelse är större "
        f"än hos {larger} av {test.n_placebos} jämförelsekommuner."
    )
    if math.isfinite(test.tau2_power) and test.tau2_power != test.tau2:
        note += (
            f" Den minsta upptäckbara förändringen räknas med variansen "
            f"{_sv(test.tau2_power, '.3f')}: placeboskattningen vägd samman med den stadigare "
            f"skattningen ur kommunens och jämförelsekommunernas alla år under förperioden."
        )
    if not math.isfinite(test.mde_increase) and not math.isfinite(test.mde_decrease):
        note += (
            f" Med så få händelser kan metoden inte påvisa någon förändring på "
            f"{alpha * 100:g} %-nivån."
        )
    return note


def _did_row(
    config: EvaluationConfig,
    info: pd.Series,
    series: pd.DataFrame,
    comparison: tuple[str, ...],
    baseline: tuple[int, ...],
    shocks: PooledDispersion | None = None,
) -> dict:
    """Ratio of rate ratios over the whole pre-period against the comparison group, tested
    against the comparison units as placebos (stats.did.placebo_difference_in_differences)."""
    row = _base_row(config, info, "diff_i_diff")
    target, follow_years = config.municipality, config.followup_years
    panel = series.loc[
        series["unit"].isin((target,) + comparison) & series["year"].isin(baseline + follow_years)
    ].dropna(subset=["count", "exposure"])
    if not baseline or not set(panel["unit"]) - {target}:
        return _cannot(row, "jämförelsegruppen saknar data för indikatorn")
    did = placebo_difference_in_differences(
        panel[["unit", "year", "count", "exposure"]],
        target,
        baseline,
        follow_years,
        alpha=config.alpha,
        shocks=shocks,
    )
    row.update(baseline_label=years_label(baseline))
    if did.test is None:
        return _cannot(
            row,
            f"för få jämförelsekommuner med data för alla år ({did.n_comparison_units}; "
            "minst 2 behövs för placebotestet)",
        )
    test = did.test
    row.update(
        baseline_value=did.rr_target,
        followup_value=did.rr_comparison,
        estimate=test.estimate,
        ci_lower=test.ci_lower,
        ci_upper=test.ci_upper,
        estimate_kind="kvot av kvoter (kommunen/jämförelsegruppen)",
        interval_kind="95 % konfidensintervall (placebotest mot jämförelsekommunerna)",
        p_value=test.p_value,
        mde_increase=test.mde_increase,
        mde_decrease=test.mde_decrease,
        _interval=test.interval,
        note=(
            f"Hela förperioden {years_label(baseline)} ({len(baseline)} år) mot "
            f"{years_label(follow_years)}; {did.n_comparison_units} jämförelsekommuner med "
            f"data för alla år. {_placebo_note(test, config.alpha)}"
        ),
    )
    return row


def _year_by_unit(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` of one-row-per-(year, unit) ``rows`` as a year × unit table, both sorted
    and NaN where a pair has no row: ``rows.set_index(["year", "unit"])[column].unstack()``,
    built with numpy (it runs for every indicator of every municipality)."""
    years, year_index = np.unique(rows["year"].to_numpy(), return_inverse=True)
    units, unit_index = np.unique(rows["unit"].to_numpy(), return_inverse=True)
    table = np.full((years.size, units.size), np.nan)
    table[year_index, unit_index] = rows[column].to_numpy(dtype=float)
    return pd.DataFrame(
        table, index=pd.Index(years, name="year"), columns=pd.Index(units, name="unit")
    )


def _synth_row(
    config: EvaluationConfig,
    info: pd.Series,
    series: pd.DataFrame,
    comparison: tuple[str, ...],
    pre_years: tuple[int, ...],
    shocks: PooledDispersion | None = None,
) -> dict:
    """Synthetic control on rates; its follow-up count tested against the donors' placebo
    gaps (stats.synth.gap_test)."""
    row = _base_row(config, info, "syntetisk_kontroll")
    target, follow_years = config.municipality, config.followup_years
    synth_years = [y for y in pre_years if y not in follow_years] + list(follow_years)
    subset = series.loc[
        series["unit"].isin((target,) + comparison) & series["year"].isin(synth_years)
    ].drop_duplicates(["year", "unit"])
    rates, counts = _year_by_unit(subset, "rate"), _year_by_unit(subset, "count")
    wide = rates.dropna(how="all").dropna(axis=1, how="all")
    pre_available = [y for y in pre_years if y in wide.index and y not in follow_years]
    if len(wide.columns) < 3 or not pre_available:
        return _cannot(row, "för få jämförelsekommuner med data")
    synth = synthetic_control(
        wide,
        target,
        pre_available,
        list(follow_years),
        counts=counts,
        alpha=config.alpha,
        shocks=shocks,
    )
    pre_mean = float(wide.loc[pre_available, target].mean())
    row.update(baseline_label=years_label(pre_available))
    if synth.synthetic is not None:
        row.update(
            baseline_value=float(synth.synthetic.loc[list(follow_years)].mean()),
            followup_value=float(wide.loc[list(follow_years), target].mean()),
        )
    fit = (
        f"{synth.n_donors} donatorer, anpassad på {years_label(pre_available)}; RMSPE före "
        f"{_sv(synth.pre_rmspe, '.1f')} (kommunens medelvärde {_sv(pre_mean, '.1f')})."
    )
    # Abadie, Diamond & Hainmueller (2010): without a close pre-period fit the synthetic
    # control is no counterfactual; with an exact fit the weights (and so the follow-up
    # counterfactual) are not unique.
    if synth.test is None or not math.isfinite(synth.test.p_value):
        return _cannot(row, f"kunde inte skattas (för få donatorer med data). {fit}")
    if synth.pre_rmspe > synth.fit_limit:
        return _cannot(
            row,
            f"den syntetiska kontrollen följer inte kommunen under förperioden "
            f"(RMSPE {_sv(synth.pre_rmspe, '.1f')} mot medelvärdet {_sv(pre_mean, '.1f')}; "
            f"gränsen {_sv(synth.fit_limit, '.1f')} är det största av 10 % av medelvärdet och "
            "två gånger kommunens egen slumpvariation)",
        )
    if synth.pre_rmspe == 0.0:
        return _cannot(
            row, "exakt anpassning under förperioden: vikterna och jämförelsen är inte unika"
        )
    test = synth.test
    row.update(
        estimate=test.estimate,
        ci_lower=test.ci_lower,
        ci_upper=test.ci_upper,
        estimate_kind="kvot (observerat/syntetisk kontroll)",
        interval_kind="95 % konfidensintervall (placebotest mot donatorerna)",
        p_value=test.p_value,
        mde_increase=test.mde_increase,
        mde_decrease=test.mde_decrease,
        _interval=test.interval,
        note=f"{fit} {_placebo_note(test, config.alpha)}",
    )
    return row


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
        figures = [s[c] for s in (followup, baseline) for c in ("value", "ci_lower", "ci_upper")]
        # NTU publishes whole percent: model the rounding in the SEs
        rounding = 0.01 if all(float(x).is_integer() for x in figures) else 0.0
        diff = difference_from_published_intervals(
            followup["value"] / 100,
            followup["ci_lower"] / 100,
            followup["ci_upper"] / 100,
            baseline["value"] / 100,
            baseline["ci_lower"] / 100,
            baseline["ci_upper"] / 100,
            alpha=alpha,
            rounding=rounding,
        )
        rounded = ", avrundning till hela procent inräknad" if rounding else ""
        return diff, f"95 % konfidensintervall (SE ur publicerade intervall{rounded}, logit-skala)"
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


def _survey_interval(followup: pd.Series, baseline: pd.Series):
    """The survey difference's interval at another level (for the FCR-adjusted interval)."""

    def at(alpha: float) -> tuple[float, float]:
        diff, _ = _share_difference(followup, baseline, alpha)
        return diff.ci_lower * 100, diff.ci_upper * 100

    return at


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
        _interval=_survey_interval(f, b),
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
        _interval=lambda a: tuple(
            (estimate + sign * stats.norm.ppf(1 - a / 2) * se) * 100 for sign in (-1, 1)
        ),
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
    # The count methods read the municipality and its comparison units only: select their
    # rows once, not in every method's filter of the whole country's series.
    indicators = inputs.indicators
    own_panel = indicators.loc[
        indicators["municipality_code"].isin((config.municipality,) + comparison)
    ]
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
                series = count_series(own_panel, indicator_id)
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
    intervals = [row.pop("_interval", None) for row in rows]
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    return _finish(results, config.alpha, intervals)


def _finish(results: pd.DataFrame, alpha: float, intervals: list | None = None) -> pd.DataFrame:
    """q-values, FCR-adjusted intervals, verdicts and the headline row per indicator.

    ``intervals[i]`` (optional) recomputes row i's interval at another level: the interval
    shown is then the false-coverage-rate adjusted one of Benjamini & Yekutieli (2005,
    *JASA* 100, 71-81), consistent with the BH verdict: with ``R`` of the family's ``m``
    tested rows significant (q < alpha), a significant row gets level ``1 - R alpha/m``, the
    others ``1 - (R+1) alpha/m`` (every non-selected p exceeds ``(R+1) alpha/m`` under the
    step-up rule), so an interval excludes the null exactly when the verdict says change.
    """
    results = results.copy()
    intervals = intervals or [None] * len(results)
    # Plain arrays and lists in the loops, one column assignment each at the end: the same
    # values as cell-by-cell .loc updates, without pandas' per-cell overhead.
    p_all = results["p_value"].to_numpy(dtype=float)
    q_all = results["q_value"].to_numpy(dtype=float, copy=True)
    ci_lower = results["ci_lower"].to_numpy(dtype=float, copy=True)
    ci_upper = results["ci_upper"].to_numpy(dtype=float, copy=True)
    interval_kind = results["interval_kind"].tolist()
    nominal_only = np.zeros(len(results), dtype=bool)
    for _, index in results.groupby(["method", "primary"]).groups.items():
        rows = results.index.get_indexer(index)
        p = p_all[rows]
        q = bh_qvalues(p)
        q_all[rows] = q
        tested = np.isfinite(p)
        m = int(tested.sum())
        levels = fcr_interval_levels(p, alpha)
        for i, level in zip(rows, levels, strict=True):
            interval = intervals[i]
            if interval is None or not np.isfinite(level) or m < 2:
                continue
            ci_lower[i], ci_upper[i] = interval(float(level))
            kind = str(interval_kind[i])
            level_text = f"{_sv(100 * (1 - level), '.1f')} %"
            interval_kind[i] = (
                f"{kind.replace('95 %', level_text, 1) if '95 %' in kind else level_text}"
                f", justerat för {m} prövningar (FCR, Benjamini–Yekutieli)"
            )
        selected = tested & (q < alpha)
        nominal_only[rows] = tested & ~selected & (p <= alpha)
    results["q_value"] = q_all
    results["ci_lower"] = ci_lower
    results["ci_upper"] = ci_upper
    results["interval_kind"] = pd.Series(interval_kind, index=results.index, dtype="str")
    ratio_scale = (
        results["estimate_kind"].str.startswith("kvot") | (results["estimate_kind"] == "")
    ).to_numpy()
    order = {"diff_i_diff": 0, "syntetisk_kontroll": 2, "fore_efter": 1, "trend": 3}
    verdicts, verdicts_sv, notes = [], [], []
    for i, row in enumerate(results.to_dict("records")):
        code, text, note = row["verdict"], row["verdict_sv"], row["note"]
        if row["verdict"] == "descriptive_only":  # an index without interval: no test
            text = (
                f"Endast beskrivande ({row['method_sv']}): indexet publiceras utan intervall, "
                "så förändringen kan inte prövas statistiskt."
            )
        else:
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
            if nominal_only[i] and code == "no_detectable_change":
                sentence = nominal_only_text(row["p_value"], row["q_value"]) + " " + sentence
                note = (
                    f"{row['note']} {NOMINAL_ONLY_CODE} (p = {row['p_value']:.3f}, "
                    f"q = {row['q_value']:.3f})"
                ).strip()
            text = verdict_text_sv(
                code,
                row["kind"],
                row["desired_direction"],
                int(row["msms_level"]),
                row["method_sv"],
                sentence,
                reason,
            )
        verdicts.append(code)
        verdicts_sv.append(text)
        notes.append(note)
    for column, values in (("verdict", verdicts), ("verdict_sv", verdicts_sv), ("note", notes)):
        results[column] = pd.Series(values, index=results.index, dtype="str")
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
