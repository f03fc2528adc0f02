"""An evaluation as data: a TOML file names the municipality, the focus areas with their
indicators, the baseline, the follow-up, the pre-period and the comparison group.

`load_config` reads it and `check_config` refuses, before any notebook runs, a configuration
with an unknown municipality, an indicator missing from the catalog, or years outside the data.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from medlofte_analysis.catalog import FOCUS_AREAS, known_names
from medlofte_analysis.errors import ConfigError


@dataclass(frozen=True)
class Comparison:
    """Who the target is compared with.

    `kolada_group`: the title of a Kolada municipality group, e.g. "Liknande kommuner
    socioekonomi, {kommun}" ({kommun} = the municipality's name; the newest year's group with
    that title is used);
    `municipalities`: an explicit list of codes (used when no group is named, or added to it);
    `county`: a county code ("0003" = Uppsala län) used as a second, broader comparison.
    """

    kolada_group: str = ""
    municipalities: tuple[str, ...] = ()
    county: str = ""


@dataclass(frozen=True)
class EvaluationConfig:
    """One evaluation: what to compare, when, with whom."""

    id: str
    title: str
    municipality: str
    kind: str
    baseline_years: tuple[int, ...]
    followup_years: tuple[int, ...]
    pre_period: tuple[int, int]
    focus_areas: dict[str, tuple[str, ...]]
    primary: tuple[str, ...]
    comparison: Comparison
    alpha: float = 0.05
    note: str = ""
    path: str = ""
    pledge_text: str = ""
    contact: str = ""  # who answers questions on the report (a unit, an e-mail to a function box)
    extra: dict = field(default_factory=dict)
    file_municipality: str = ""
    pledge_municipality: str = ""
    pledge: dict[str, str] = field(default_factory=dict)

    @property
    def is_other_municipality(self) -> bool:
        """True when the run evaluates another municipality than the file's own."""
        return bool(self.file_municipality) and self.municipality != self.file_municipality

    @property
    def indicators(self) -> tuple[str, ...]:
        """Every indicator of the evaluation, in focus-area order, without repeats."""
        seen: dict[str, None] = {}
        for ids in self.focus_areas.values():
            for indicator in ids:
                seen.setdefault(indicator, None)
        return tuple(seen)


def _years(value: object, path: Path, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, int) for v in value):
        raise ConfigError(
            f"{path}: [{key}] ska vara en lista med år, t.ex. [2022]; hittade {value!r}"
        )
    return tuple(sorted(value))


def load_config(path: Path, municipality: str | None = None) -> EvaluationConfig:
    """Read an evaluation file; `municipality` overrides its municipality code (one parameter)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(
            f"{path}: utvärderingsfilen finns inte (se mappen evaluations/)"
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: inte giltig TOML ({error})") from error
    try:
        evaluation = data["evaluation"]
        areas = data["focus_areas"]
    except KeyError as error:
        raise ConfigError(f"{path}: tabellen [{error.args[0]}] saknas") from error
    unknown_areas = sorted(set(areas) - set(FOCUS_AREAS))
    if unknown_areas:
        raise ConfigError(
            f"{path}: okänt fokusområde {unknown_areas}; ska vara ett av {sorted(FOCUS_AREAS)}"
        )
    focus_areas = {name: tuple(spec.get("indicators", [])) for name, spec in areas.items()}
    primary = tuple(i for spec in areas.values() for i in spec.get("primary", []))
    pre = evaluation.get("pre_period", [])
    if not (isinstance(pre, list) and len(pre) == 2 and all(isinstance(y, int) for y in pre)):
        raise ConfigError(
            f"{path}: pre_period ska vara [första_år, sista_år], t.ex. [2015, 2022], inte {pre!r}"
        )
    comparison = data.get("comparison", {})
    code = municipality or evaluation.get("municipality", "")
    config = EvaluationConfig(
        id=str(evaluation.get("id", Path(path).stem)),
        title=str(evaluation.get("title", "")),
        municipality=str(code),
        kind=str(evaluation.get("kind", "evaluation")),
        baseline_years=_years(evaluation.get("baseline_years"), path, "baseline_years"),
        followup_years=_years(evaluation.get("followup_years"), path, "followup_years"),
        pre_period=(pre[0], pre[1]),
        focus_areas=focus_areas,
        primary=primary,
        comparison=Comparison(
            kolada_group=str(comparison.get("kolada_group", "")),
            municipalities=tuple(str(c) for c in comparison.get("municipalities", [])),
            county=str(comparison.get("county", "")),
        ),
        alpha=float(evaluation.get("alpha", 0.05)),
        note=str(evaluation.get("note", "")),
        path=str(path),
        pledge_text=str(evaluation.get("pledge_text", "")),
        contact=str(evaluation.get("contact", "")).strip(),
        file_municipality=str(evaluation.get("municipality", "")),
        pledge_municipality=str(
            evaluation.get("pledge_municipality", evaluation.get("municipality", ""))
        ),
        pledge={name: str(spec["pledge"]) for name, spec in areas.items() if "pledge" in spec},
    )
    if municipality and municipality != evaluation.get("municipality"):
        # Another municipality: its own id and its own county (the first two digits of a
        # municipality code are its county's code). A Kolada group title written with the
        # placeholder {kommun} follows the municipality; a fixed title or list is kept.
        county = f"00{municipality[:2]}" if config.comparison.county else ""
        config = replace(
            config,
            id=f"{config.id}-{municipality}",
            comparison=replace(config.comparison, county=county),
        )
    return config


def resolve_group_title(config: EvaluationConfig, municipality_name: str) -> EvaluationConfig:
    """Fill the {kommun} placeholder of the Kolada group title with the municipality's name."""
    title = config.comparison.kolada_group.replace("{kommun}", municipality_name)
    return replace(config, comparison=replace(config.comparison, kolada_group=title))


def genitive(name: str) -> str:
    """Swedish genitive: 'Knivsta' → 'Knivstas', 'Hofors' → 'Hofors'."""
    return name if name[-1:].lower() in {"s", "x", "z"} else f"{name}s"


def slug(text: str) -> str:
    """An ASCII file-name part: 'Håbo' → 'habo', 'Malung-Sälen' → 'malung-salen'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def name_run(config: EvaluationConfig, names: dict[str, str]) -> EvaluationConfig:
    """Title, file id, notes and comparison group that follow the municipality evaluated.

    `{kommun}` in the title or note is the municipality's name as Kolada writes it ("Falun"),
    `{kommuns}` its genitive; the official "… kommun" cannot be derived from the name
    (Leksands kommun, Falu kommun), so titles use the plain name. Another municipality than
    the file's gets its own id (`<name>-med-<file id>`) and, for an evaluation of another
    municipality's focus areas, a title that says so; when it is in the file's explicit
    comparison list, the note says it was taken out of it.
    """
    name = names.get(config.municipality, config.municipality)
    fill = {"{kommun}": name, "{kommuns}": genitive(name)}
    title, note = config.title, config.note
    for key, value in fill.items():
        title, note = title.replace(key, value), note.replace(key, value)
    config = resolve_group_title(config, name)
    if not config.is_other_municipality:
        return replace(config, title=title, note=note)
    home = names.get(config.file_municipality, config.file_municipality)
    file_id = config.id.removesuffix(f"-{config.municipality}")
    if config.kind != "demonstration":
        follow, base = _years_text(config.followup_years), _years_text(config.baseline_years)
        title = (
            f"Visar fokusområdena effekt? {name} {follow} jämfört med {base}, "
            f"med {genitive(home)} fokusområden"
        )
    if config.municipality in config.comparison.municipalities:
        note += (
            f" {name} står i utvärderingsfilens jämförelsegrupp och har tagits bort ur "
            "den: kommunen jämförs inte med sig själv."
        )
    return replace(config, title=title, note=note.strip(), id=f"{slug(name)}-med-{file_id}")


def _years_text(years: tuple[int, ...]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def check_config(
    config: EvaluationConfig,
    catalog: pd.DataFrame,
    municipalities: pd.DataFrame,
    indicators: pd.DataFrame,
) -> None:
    """Refuse a configuration that cannot be run, with a message that says what to fix."""
    where = config.path or config.id
    codes = set(municipalities["code"])
    if config.municipality not in codes:
        raise ConfigError(
            f"{where}: kommunkoden {config.municipality!r} finns inte i Koladas "
            "kommunlista (fyra siffror, t.ex. '0330' för Knivsta, '2080' för Falun)"
        )
    for code in config.comparison.municipalities + (
        (config.comparison.county,) if config.comparison.county else ()
    ):
        if code not in codes:
            raise ConfigError(f"{where}: jämförelsekoden {code!r} finns inte i Koladas kommunlista")
    known = known_names(catalog)
    for indicator in config.indicators + config.primary:
        if indicator not in known:
            raise ConfigError(
                f"{where}: indikatorn {indicator!r} finns inte i katalogen (ett "
                "indicator_id eller concept i medlofte_analysis/catalog/indicators.csv)"
            )
    for indicator in config.primary:
        if indicator not in config.indicators:
            raise ConfigError(
                f"{where}: det primära utfallet {indicator!r} står inte bland något "
                "fokusområdes indicators"
            )
    first, last = int(indicators["year"].min()), int(indicators["year"].max())
    for year in config.baseline_years + config.followup_years:
        if not first <= year <= last:
            raise ConfigError(f"{where}: året {year} ligger utanför data ({first}–{last})")
    if max(config.baseline_years) >= min(config.followup_years):
        raise ConfigError(f"{where}: basåren (baseline_years) ska komma före uppföljningsåren")
    if config.pre_period[1] < max(config.baseline_years) or config.pre_period[0] > min(
        config.baseline_years
    ):
        raise ConfigError(f"{where}: pre_period {list(config.pre_period)} ska innehålla basåren")
