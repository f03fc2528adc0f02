"""An evaluation as data: a TOML file names the municipality, the focus areas with their
indicators, the baseline, the follow-up, the pre-period and the comparison group.

`load_config` reads it and `check_config` refuses, before any notebook runs, a configuration
with an unknown municipality, an indicator missing from the catalog, or years outside the data.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable
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
    contact: str = ""
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


ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
KINDS: tuple[str, ...] = ("evaluation", "demonstration")


def _text(value: object) -> bool:
    return isinstance(value, str)


def _texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _years_list(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _pair(value: object) -> bool:
    return _years_list(value) and len(value) == 2 and value[0] <= value[1]


def _alpha(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value < 1
    )


# The declared schema: section → key → (check, what is expected, in Swedish).
Rule = tuple[Callable[[object], bool], str]
EVALUATION_KEYS: dict[str, Rule] = {
    "id": (
        lambda v: isinstance(v, str) and ID_PATTERN.fullmatch(v) is not None,
        'små bokstäver a–z, siffror och bindestreck, t.ex. "knivsta-2024-2025"',
    ),
    "title": (_text, "en text"),
    "municipality": (_text, 'en kommunkod i citattecken, t.ex. "0330"'),
    "kind": (lambda v: v in KINDS, f"ett av {', '.join(KINDS)}"),
    "baseline_years": (_years_list, "en icke-tom lista med årtal, t.ex. [2022]"),
    "followup_years": (_years_list, "en icke-tom lista med årtal, t.ex. [2024, 2025]"),
    "pre_period": (_pair, "[första år, sista år], t.ex. [2015, 2022]"),
    "alpha": (_alpha, "ett tal större än 0 och mindre än 1, t.ex. 0.05"),
    "note": (_text, "en text"),
    "pledge_text": (_text, "en text"),
    "contact": (_text, "en text"),
    "pledge_municipality": (_text, 'en kommunkod i citattecken, t.ex. "0330"'),
}
REQUIRED_EVALUATION_KEYS: tuple[str, ...] = (
    "municipality",
    "baseline_years",
    "followup_years",
    "pre_period",
)
COMPARISON_KEYS: dict[str, Rule] = {
    "kolada_group": (_text, "titeln på en Kolada-grupp i citattecken"),
    "municipalities": (_texts, "en lista med kommunkoder i citattecken"),
    "county": (_text, 'en länskod i citattecken, t.ex. "0003"'),
}
FOCUS_AREA_KEYS: dict[str, Rule] = {
    "indicators": (
        lambda v: _texts(v) and bool(v),
        "en icke-tom lista med indikator-id:n ur katalogen",
    ),
    "primary": (_texts, "en lista med indikator-id:n (en delmängd av områdets indicators)"),
    "pledge": (_text, "löftets egen text för fokusområdet"),
}
SECTIONS: tuple[str, ...] = ("evaluation", "comparison", "focus_areas")


def _suggest(name: str, valid: Iterable[str]) -> str:
    """' — menade du `x`?' for the nearest valid name (difflib), or ''."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" — menade du `{close[0]}`?" if close else ""


def _check_keys(table: object, rules: dict[str, Rule], section: str, path: Path) -> dict:
    """Refuse a table that is not a table, has unknown keys, or a value of the wrong kind."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] i {path} ska vara en tabell, fann {table!r}")
    for key in table:
        if key not in rules:
            raise ConfigError(
                f"Okänd nyckel `{key}` i [{section}] i {path}{_suggest(key, rules)} "
                f"(giltiga nycklar: {', '.join(rules)})"
            )
    for key, value in table.items():
        check, expected = rules[key]
        if not check(value):
            raise ConfigError(
                f"`{key}` i [{section}] i {path}: förväntade {expected}, fann {value!r}"
            )
    return table


def _read_toml(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(
            f"{path}: utvärderingsfilen finns inte (se mappen evaluations/)"
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: filen är inte sparad som UTF-8 (byte {error.start}); spara den som UTF-8"
        ) from error
    except OSError as error:
        raise ConfigError(f"{path}: kan inte läsas ({error.strerror})") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: inte giltig TOML ({error})") from error


def validate_document(data: dict, path: Path) -> None:
    """Check a parsed evaluation file against the declared schema (keys, types, ranges)."""
    for section in data:
        if section not in SECTIONS:
            raise ConfigError(
                f"Okänd sektion `[{section}]` i {path}{_suggest(section, SECTIONS)} "
                f"(giltiga sektioner: {', '.join(f'[{s}]' for s in SECTIONS)})"
            )
    for section in ("evaluation", "focus_areas"):
        if section not in data:
            raise ConfigError(f"{path}: tabellen [{section}] saknas")
    evaluation = _check_keys(data["evaluation"], EVALUATION_KEYS, "evaluation", path)
    for key in REQUIRED_EVALUATION_KEYS:
        if key not in evaluation:
            raise ConfigError(f"{path}: nyckeln `{key}` saknas i [evaluation]")
    _check_keys(data.get("comparison", {}), COMPARISON_KEYS, "comparison", path)
    areas = data["focus_areas"]
    if not isinstance(areas, dict) or not areas:
        raise ConfigError(f"{path}: [focus_areas] ska ha minst ett fokusområde")
    for name, spec in areas.items():
        if name not in FOCUS_AREAS:
            raise ConfigError(
                f"Okänt fokusområde `[focus_areas.{name}]` i {path}"
                f"{_suggest(name, FOCUS_AREAS)} (giltiga: {', '.join(FOCUS_AREAS)})"
            )
        section = f"focus_areas.{name}"
        _check_keys(spec, FOCUS_AREA_KEYS, section, path)
        if "indicators" not in spec:
            raise ConfigError(f"{path}: [{section}] saknar `indicators` (en icke-tom lista)")
        outside = [i for i in spec.get("primary", []) if i not in spec["indicators"]]
        if outside:
            raise ConfigError(
                f"`primary` i [{section}] i {path}: primärutfallet {outside[0]!r} finns inte "
                "bland samma områdes `indicators`"
            )
    baseline, followup = evaluation["baseline_years"], evaluation["followup_years"]
    if max(baseline) >= min(followup):
        raise ConfigError(
            f"{path}: basåren {baseline} måste ligga före uppföljningsåren {followup}"
        )


def load_config(path: Path, municipality: str | None = None) -> EvaluationConfig:
    """Read an evaluation file; `municipality` overrides its municipality code (one parameter).

    The file is checked against the declared schema first (unknown keys and sections refused
    with the nearest valid name, types and ranges checked), so a misspelling never silently
    drops a setting.
    """
    data = _read_toml(path)
    validate_document(data, path)
    evaluation = data["evaluation"]
    areas = data["focus_areas"]
    focus_areas = {name: tuple(spec["indicators"]) for name, spec in areas.items()}
    primary = tuple(i for spec in areas.values() for i in spec.get("primary", []))
    pre = evaluation["pre_period"]
    comparison = data.get("comparison", {})
    code = municipality or evaluation["municipality"]
    config_id = evaluation.get("id", Path(path).stem)
    if municipality is not None and not re.fullmatch(r"\d{4}", municipality):
        raise ConfigError(
            f'kommunkoden {municipality!r} ska vara fyra siffror, t.ex. "0330" för Knivsta'
        )
    if not ID_PATTERN.fullmatch(config_id):
        raise ConfigError(
            f"`id` i [evaluation] i {path}: förväntade {EVALUATION_KEYS['id'][1]}, "
            f"fann {config_id!r} (filnamnet används när id saknas)"
        )
    config = EvaluationConfig(
        id=config_id,
        title=evaluation.get("title", ""),
        municipality=code,
        kind=evaluation.get("kind", "evaluation"),
        baseline_years=tuple(sorted(evaluation["baseline_years"])),
        followup_years=tuple(sorted(evaluation["followup_years"])),
        pre_period=(pre[0], pre[1]),
        focus_areas=focus_areas,
        primary=primary,
        comparison=Comparison(
            kolada_group=comparison.get("kolada_group", ""),
            municipalities=tuple(comparison.get("municipalities", [])),
            county=comparison.get("county", ""),
        ),
        alpha=float(evaluation.get("alpha", 0.05)),
        note=evaluation.get("note", ""),
        path=str(path),
        pledge_text=evaluation.get("pledge_text", ""),
        contact=evaluation.get("contact", "").strip(),
        file_municipality=evaluation["municipality"],
        pledge_municipality=evaluation.get("pledge_municipality", evaluation["municipality"]),
        pledge={name: spec["pledge"] for name, spec in areas.items() if "pledge" in spec},
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
    groups: pd.DataFrame | None = None,
) -> None:
    """Refuse a configuration that cannot be run, with a message that says what to fix.

    With `groups` (the Kolada municipality groups), a named comparison group that matches no
    group is refused instead of silently giving no comparison municipalities.
    """
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
    if groups is not None and config.comparison.kolada_group:
        _check_kolada_group(config, municipalities, groups, where)


def _check_kolada_group(
    config: EvaluationConfig, municipalities: pd.DataFrame, groups: pd.DataFrame, where: str
) -> None:
    names = dict(zip(municipalities["code"], municipalities["name"], strict=True))
    title = resolve_group_title(config, names[config.municipality]).comparison.kolada_group
    titles = groups["group_title"].astype(str).drop_duplicates()
    if titles.str.startswith(title).any():
        return
    undated = sorted(set(titles.str.replace(r",?\s*\d{4}\s*$", "", regex=True)))
    raise ConfigError(
        f"Okänd Kolada-grupp `{title}` i [comparison] i {where}{_suggest(title, undated)} "
        "(ingen grupp i data/processed/municipality_groups.csv har den titeln; utan den "
        "skulle jämförelsegruppen bli tom)"
    )
