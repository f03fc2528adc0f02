"""What one evaluation needs from the APIs, fetched with one command, and what is still missing.

`plan_fetch` derives everything from an evaluation file (nothing defaults to Knivsta): the
target, the members of its Kolada comparison group and its county, the Kolada KPIs of its
indicators (`catalog.kolada_kpis`, plus N01951 population) and the years from the pre-period
through the follow-up. `fetch_for_evaluation` fetches Kolada and SCB for them;
`coverage_table` says per indicator which years are covered and where the rest is published
(the Brå lägesbild workbook for manual download, the Excel template for surveys).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from medlofte_analysis.config import PROJECT_ROOT, RAW_DIR
from medlofte_analysis.fetch import (
    POPULATION_KPI,
    SCB_BASE,
    SCB_BASE_ENV,
    SCB_MAX_CELLS,
    SCB_TABLE,
    FetchOutcome,
    HttpClient,
    base_url,
    fetch_kolada,
    fetch_scb_population,
    kolada_urls,
    scb_queries,
    scb_region,
)

BRA_LAGESBILD_URL: str = "https://bra.se/statistik/indikatorer-for-kommuners-lagesbild"
SURVEY_TEMPLATE: str = "templates/enkatresultat_mall.xlsx"


@dataclass(frozen=True)
class FetchPlan:
    """What an evaluation needs from the APIs, derived from its file (nothing defaults)."""

    config_path: str
    municipality: str
    municipality_name: str
    comparison: tuple[str, ...]
    county: str
    indicators: tuple[str, ...]
    kpis: tuple[str, ...]
    years: tuple[int, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """Target first, then the comparison group, then the county."""
        seen = dict.fromkeys((self.municipality, *self.comparison, self.county))
        return tuple(code for code in seen if code)


def plan_fetch(
    config_path: str | Path, municipality: str | None = None, raw_dir: Path = RAW_DIR
) -> FetchPlan:
    """Derive the target, comparison group, county, KPIs and years from an evaluation file."""
    from medlofte_analysis.catalog import kolada_kpis, load_catalog
    from medlofte_analysis.errors import ConfigError
    from medlofte_analysis.evaluate import comparison_units
    from medlofte_analysis.evaluation_config import load_config, resolve_group_title
    from medlofte_analysis.municipalities import KOLADA_LIST, load_kolada_municipalities
    from medlofte_analysis.sources.kolada_snapshot import read_municipality_groups

    path = Path(config_path)
    if not path.is_absolute() and not path.exists():
        path = PROJECT_ROOT / path  # as `medlofte report`: relative to the project
    config = load_config(path, municipality)
    municipalities = load_kolada_municipalities(Path(raw_dir) / KOLADA_LIST)
    names = dict(zip(municipalities["code"], municipalities["name"], strict=True))
    if config.municipality not in names:
        raise ConfigError(
            f"{config_path}: kommunkoden {config.municipality!r} finns inte i Koladas "
            "kommunlista (fyra siffror, t.ex. 0330 för Knivsta)."
        )
    config = resolve_group_title(config, names[config.municipality])
    groups = read_municipality_groups(
        Path(raw_dir) / "kolada_rkolada_sysdata/kolada_municipality_groups_long.csv"
    )
    comparison = comparison_units(config, groups)
    if config.comparison.kolada_group and not any(
        groups["group_title"].str.startswith(config.comparison.kolada_group)
    ):
        raise ConfigError(
            f"{config_path}: Kolada-gruppen {config.comparison.kolada_group!r} finns inte i "
            "Koladas grupplista."
        )
    wanted = (*comparison, config.comparison.county)
    unknown = [code for code in wanted if code and code not in names]
    if unknown:
        raise ConfigError(f"{config_path}: jämförelsekoderna {unknown} finns inte hos Kolada.")
    first = min(config.pre_period[0], *config.baseline_years)
    last = max(config.pre_period[1], *config.followup_years)
    catalog = load_catalog()
    kpis = kolada_kpis(config.indicators, catalog)
    return FetchPlan(
        config_path=str(config_path),
        municipality=config.municipality,
        municipality_name=names[config.municipality],
        comparison=tuple(comparison),
        county=config.comparison.county,
        indicators=config.indicators,
        kpis=tuple(kpis + [POPULATION_KPI]) if kpis else (),
        years=tuple(range(first, last + 1)),
    )


def planned_requests(plan: FetchPlan, by_age_sex: bool = False) -> list[str]:
    """The requests a fetch would send, one line each (for `--dry-run`; no network)."""
    lines = (
        [f"GET {url}" for url in kolada_urls(plan.kpis, plan.codes, plan.years)]
        if (plan.kpis)
        else []
    )
    base = base_url(SCB_BASE_ENV, SCB_BASE)
    lines.append(f"GET {base}/tables/{SCB_TABLE}/metadata?lang=sv")
    regions = [scb_region(code) for code in plan.codes]
    for query in scb_queries(regions, plan.years, by_age_sex, SCB_MAX_CELLS):
        lines.append(
            f"POST {base}/tables/{SCB_TABLE}/data?lang=sv&outputFormat=json-stat2 "
            + json.dumps(query, ensure_ascii=False)
        )
    return lines


@dataclass
class EvaluationFetch:
    """The outcome of `fetch_for_evaluation`."""

    plan: FetchPlan
    kolada: FetchOutcome
    scb: FetchOutcome

    @property
    def paths(self) -> list[Path]:
        return self.kolada.paths + self.scb.paths

    @property
    def offline(self) -> bool:
        return self.kolada.offline or self.scb.offline


def fetch_for_evaluation(
    plan: FetchPlan,
    raw_dir: Path,
    *,
    now: str,
    client: HttpClient | None = None,
    by_age_sex: bool = False,
) -> EvaluationFetch:
    """Fetch Kolada values and SCB population for the plan; stop at once when offline."""
    client = client or HttpClient()
    if plan.kpis:
        kolada = fetch_kolada(plan.kpis, plan.codes, plan.years, raw_dir, now=now, client=client)
    else:
        kolada = FetchOutcome("kolada")
    if kolada.offline and not kolada.paths:
        return EvaluationFetch(plan, kolada, FetchOutcome("scb"))
    regions = plan.codes
    scb = fetch_scb_population(
        regions, plan.years, raw_dir, now=now, by_age_sex=by_age_sex, client=client
    )
    return EvaluationFetch(plan, kolada, scb)


def _years_text(years: list[int]) -> str:
    from medlofte_analysis.evaluate import _compact_years  # the report's own year ranges

    return _compact_years(years) or "–"


def coverage_table(result: EvaluationFetch, catalog: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per indicator of the plan: years now covered for the target, years still missing, and
    where the missing years are published (Swedish, for the closing table of the command)."""
    from medlofte_analysis.catalog import alternatives, load_catalog

    plan = result.plan
    frame = load_catalog() if catalog is None else catalog
    catalog = frame.set_index("indicator_id")
    values = result.kolada.values
    rows = []
    for name in plan.indicators:
        # A concept is shown by its best source (Kolada's KPI where Kolada publishes it).
        indicator_id = (alternatives(frame, name) or [name])[0]
        info = catalog.loc[indicator_id]
        covered: list[int] = []
        if info["source"] == "kolada" and len(values):
            have = values.loc[
                (values["kpi"] == info["source_ref"])
                & (values["municipality_code"] == plan.municipality)
                & (values["gender"] == "T")
                & values["value"].notna()
            ]
            covered = sorted(set(have["year"]))
        missing = [year for year in plan.years if year not in covered]
        rows.append(
            {
                "indikator": indicator_id,
                "namn": info["name_sv"],
                "år som finns": _years_text(covered),
                "år som saknas": _years_text(missing),
                "var de publiceras": where_published(
                    str(info["source"]), str(info["source_ref"]), plan
                )
                if missing
                else "",
            }
        )
    return pd.DataFrame(rows)


def fetch_command(config_path: str, municipality: str) -> str:
    """The exact command that fetches what an evaluation needs from the APIs."""
    path = Path(config_path)
    if path.is_absolute():
        try:
            path = path.relative_to(PROJECT_ROOT)
        except ValueError:
            pass
    return f"medlofte fetch --config {path.as_posix()} --municipality {municipality}"


def where_published(source: str, ref: str, plan: FetchPlan) -> str:
    """Where an indicator's missing years are published, and how they enter (Swedish)."""
    if source == "kolada":
        return (
            f"Kolada {ref}: ännu inte publicerat eller borttaget; kör om "
            f"`{fetch_command(plan.config_path, plan.municipality)}` senare"
        )
    if source == "bra_lagesbild":
        return (
            f"Brå lägesbild: ladda ner {plan.municipality_name}s Excelfil på {BRA_LAGESBILD_URL}, "
            "lägg till med `medlofte fetch bra-xlsx --file <fil>`"
        )
    if source == "bra_yearly_csv":
        return "Brå: Anmälda brott i kommunerna ÅÅÅÅ.csv, `medlofte fetch bra-csv --file <fil>`"
    return f"{ref}: fyll i {SURVEY_TEMPLATE}, lägg till med `medlofte fetch enkat --file <fil>`"
