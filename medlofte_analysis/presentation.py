"""Tables and Swedish text for the notebooks and the report, built from the results table.

Every number shown is rounded here (deterministic output for nbval), every estimate is shown
with its interval, and every "no detectable change" with the change that could have been
detected. The written interpretation is generated from the verdicts, so it cannot drift from
them.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from medlofte_analysis.catalog import FOCUS_AREAS
from medlofte_analysis.config import MANUAL_DIR, PROCESSED_DIR, RAW_DIR
from medlofte_analysis.evaluate import Evaluation, years_label
from medlofte_analysis.manifest import read_manifest, read_sources
from medlofte_analysis.verdict import VERDICTS_SV

KIND_SV: dict[str, str] = {
    "outcome": "utfall",
    "police_activity": "polisens aktivitet",
    "survey": "enkät",
    "context": "bakgrund",
}
DIRECTION_SV: dict[str, str] = {
    "decrease": "minskning önskas",
    "increase": "ökning önskas",
    "ambiguous": "tvetydig (mörkertal)",
    "none": "ingen önskad riktning (mäter aktivitet)",
}


# The statistics modules write their notes in English; the reader gets them in Swedish.
NOTES_SV: tuple[tuple[str, str], ...] = (
    (r"pre-period includes pandemic years? ([0-9–]+)", r"förperioden innehåller pandemiåren \1"),
    (
        r"single baseline year: the estimate rests on one year and cannot show pre-trends",
        "ett enda basår: skattningen vilar på ett år och kan inte visa trender före",
    ),
    (
        r"poor pre-period fit: pre_rmspe ([0-9.e+]+) > 10% of the target's pre-period mean "
        r"([0-9.e+]+); the synthetic control is not credible",
        r"dålig anpassning före: RMSPE \1 är över 10 % av kommunens medelvärde \2; den "
        "syntetiska kontrollen är inte trovärdig",
    ),
    (
        r"exact pre-period fit \(target inside the donors' convex hull, weights not unique\): "
        r"the post/pre RMSPE ratio is [a-z0-9/() ]+; consider a smaller, more similar donor pool "
        r"\(Abadie 2021\)",
        "exakt anpassning före (vikterna är inte unika): placebotestet blir oinformativt; välj "
        "en mindre och mer lik jämförelsegrupp",
    ),
    (
        r"only (\d+) pre-period years?( \(< \d+\))?: (the fit can match noise|trend and dispersion "
        r"estimates are unstable)",
        r"bara \1 år i förperioden: anpassningen kan följa slumpen",
    ),
    (
        r"only (\d+) donor\(s\) \(< \d+\): the permutation p-value cannot be below "
        r"1/\(J\+1\) = ([0-9.]+)",
        r"bara \1 jämförelsekommuner: p-värdet kan inte bli lägre än \2",
    ),
    (r"some pre-period counts are zero", "några år i förperioden har noll händelser"),
    (
        r"no baseline events: ratio and upper limits are infinite",
        "inga händelser under basåret: kvoten och övre gränsen är oändliga",
    ),
    (
        r"no follow-up events: ratio and lower limits are 0",
        "inga händelser under uppföljningen: kvoten och nedre gränsen är 0",
    ),
    (
        r"projected follow-up total is small \(([0-9.]+)\): intervals are rough",
        r"litet förväntat antal (\1): intervallen är grova",
    ),
    (
        r"Pearson dispersion ([0-9.e+-]+) < 1 floored at 1 \(Poisson\)",
        r"ingen överspridning (Pearson \1 < 1, satt till 1)",
    ),
    (
        r"observed follow-up total is 0: ratio interval from prediction limits is degenerate "
        r"\(upper limit NaN\); use p_value",
        "inga observerade händelser under uppföljningen: intervallet saknar övre gräns; läs "
        "p-värdet",
    ),
    (
        r"nominally significant, not after multiple-testing adjustment \(p = ([0-9.]+), "
        r"q = ([0-9.]+)\)",
        r"säker för sig (p = \1) men inte efter justering för många prövningar (q = \2)",
    ),
)


def note_sv(note: str) -> str:
    """A note from the statistics in Swedish, where a translation is known."""
    for pattern, replacement in NOTES_SV:
        note = re.sub(pattern, replacement, note)
    return note


def _number(value: float, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}".replace("-", "−")


def _p(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return "<0,001" if value < 0.001 else f"{value:.3f}".replace(".", ",")


def _interval(low: float, high: float, digits: int = 2) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"{_number(low, digits)} till {_number(high, digits)}"


def _mde(row: pd.Series) -> str:
    up, down = row["mde_increase"], row["mde_decrease"]
    if not math.isfinite(up):
        return "–"
    if row["estimate_kind"].startswith("kvot"):
        low = f"{(down - 1) * 100:+.0f} %" if math.isfinite(down) and down > 0 else "ingen"
        return f"{(up - 1) * 100:+.0f} % / {low}".replace("-", "−")
    return f"±{up:.1f} pe"


def intro_markdown(evaluation: Evaluation) -> str:
    """Who is evaluated, when, against whom, and (for demonstrations) what this is not."""
    config = evaluation.config
    lines = [
        f"**{evaluation.municipality_name}** (kommunkod {config.municipality}). "
        f"Basår: **{years_label(config.baseline_years)}**; uppföljning: "
        f"**{years_label(config.followup_years)}**; förperiod för trender: "
        f"{config.pre_period[0]}–{config.pre_period[1]}.",
    ]
    if evaluation.comparison:
        names = ", ".join(evaluation.name_of(c) for c in evaluation.comparison)
        group = (
            f"Koladas grupp *{evaluation.comparison_title}*: "
            if evaluation.comparison_title
            else ""
        )
        lines.append(f"Jämförelsegrupp ({len(evaluation.comparison)} kommuner): {group}{names}.")
    if config.comparison.county:
        lines.append(
            f"Enkätindikatorer jämförs med {evaluation.name_of(config.comparison.county)} (länet)."
        )
    if config.kind == "demonstration":
        lines.append(f"> **Demonstration.** {config.note}")
    elif config.note:
        lines.append(config.note)
    return "\n\n".join(lines)


def results_table(evaluation: Evaluation, focus_area: str) -> pd.DataFrame:
    """Every method's result for the indicators of one focus area, rounded, in Swedish."""
    rows = evaluation.results.loc[evaluation.results["focus_area"] == focus_area]
    table = pd.DataFrame(
        {
            "Indikator": rows["name_sv"] + rows["primary"].map({True: " (primärt)", False: ""}),
            "Metod": rows["method_sv"],
            "SMS-nivå": rows["msms_level"],
            "Skattning": [_number(v) for v in rows["estimate"]],
            "Mått": rows["estimate_kind"],
            "95 %-intervall": [
                _interval(lo, hi) for lo, hi in zip(rows["ci_lower"], rows["ci_upper"], strict=True)
            ],
            "p": [_p(v) for v in rows["p_value"]],
            "q (BH)": [_p(v) for v in rows["q_value"]],
            "Minsta upptäckbara förändring": [_mde(row) for _, row in rows.iterrows()],
            "Bedömning": rows["verdict"].map(VERDICTS_SV),
            "Anmärkning": rows["note"].map(note_sv),
        }
    )
    return table.reset_index(drop=True)


def scorecard_table(evaluation: Evaluation) -> pd.DataFrame:
    """Resultattavla: the headline verdict of each indicator, primary outcomes first."""
    head = evaluation.results.loc[evaluation.results["headline"]].copy()
    head["order"] = head["focus_area"].map({k: i for i, k in enumerate(FOCUS_AREAS)})
    head = head.sort_values(["primary", "order"], ascending=[False, True], kind="mergesort")
    return pd.DataFrame(
        {
            "Fokusområde": head["focus_area"].map(FOCUS_AREAS),
            "Indikator": head["name_sv"],
            "Primärt": head["primary"].map({True: "ja", False: "nej"}),
            "Typ": head["kind"].map(KIND_SV),
            "Bedömning": head["verdict"].map(VERDICTS_SV),
            "Skattning (95 %-intervall)": [
                f"{_number(e)} ({_interval(lo, hi)})" if math.isfinite(e) else "–"
                for e, lo, hi in zip(
                    head["estimate"], head["ci_lower"], head["ci_upper"], strict=True
                )
            ],
            "Metod (SMS-nivå)": head["method_sv"] + " (" + head["msms_level"].astype(str) + ")",
        }
    ).reset_index(drop=True)


def verdict_counts(evaluation: Evaluation) -> pd.DataFrame:
    """Number of indicators per verdict, primary and other outcomes apart."""
    head = evaluation.results.loc[evaluation.results["headline"]]
    table = pd.crosstab(
        head["verdict"].map(VERDICTS_SV), head["primary"].map({True: "primära", False: "övriga"})
    )
    return table.reindex(columns=["primära", "övriga"], fill_value=0).rename_axis(
        index="Bedömning", columns=None
    )


def interpretation_markdown(evaluation: Evaluation, focus_area: str) -> str:
    """A written interpretation that follows the verdicts of one focus area."""
    head = evaluation.results.loc[
        evaluation.results["headline"] & (evaluation.results["focus_area"] == focus_area)
    ]
    if head.empty:
        return "Inga indikatorer är valda för fokusområdet."
    judged = head.loc[head["verdict"] != "cannot_judge"]
    parts: list[str] = []
    if judged.empty:
        parts.append(
            "**Inget av fokusområdets mått kan bedömas med de data som finns här.** "
            "Det betyder inte att insatserna saknat effekt, utan att underlaget saknas; se "
            "listan över saknade data nedan."
        )
    for _, row in head.sort_values("primary", ascending=False, kind="mergesort").iterrows():
        label = "Primärt utfall" if row["primary"] else "Övrigt mått"
        parts.append(
            f"- **{row['name_sv']}** ({label.lower()}, "
            f"{KIND_SV[row['kind']]}, {DIRECTION_SV[row['desired_direction']]}): "
            f"{row['verdict_sv']}"
        )
    if (judged["verdict"] == "no_detectable_change").any():
        parts.append(
            "\n*Ingen påvisbar förändring* betyder inte *ingen förändring*: för små tal är den "
            "minsta förändring som hade kunnat upptäckas stor, och då är slutsatsen att vi "
            "inte kan avgöra saken."
        )
    levels = sorted(set(judged["msms_level"]))
    if levels:
        parts.append(
            f"\nBedömningarna når nivå {', '.join(map(str, levels))} på Maryland-skalan "
            "(Scientific Methods Scale). Ingen av dem visar orsakssamband med säkerhet: "
            "annat kan ha förändrats samtidigt, och kommuner som väljs för att läget "
            "var dåligt förbättras ofta ändå (regression mot medelvärdet)."
        )
    return "\n".join(parts)


def gaps_table(evaluation: Evaluation, focus_area: str | None = None) -> pd.DataFrame:
    """Which years are missing for which indicators, and where a user gets them."""
    gaps = evaluation.gaps
    if focus_area is not None:
        gaps = gaps.loc[gaps["focus_area"] == focus_area]
    return pd.DataFrame(
        {
            "Indikator": gaps["name_sv"],
            "Saknade år": gaps["missing_years"],
            "Var data finns": gaps["where_to_get"],
        }
    ).reset_index(drop=True)


def coverage_table(evaluation: Evaluation) -> pd.DataFrame:
    """Years with a value per indicator: the municipality and the comparison group."""
    frame = evaluation.inputs.indicators
    frame = frame.loc[
        frame["indicator_id"].isin(evaluation.config.indicators) & frame["value"].notna()
    ]
    own = frame.loc[frame["municipality_code"] == evaluation.config.municipality]
    others = frame.loc[frame["municipality_code"].isin(evaluation.comparison)]
    catalog = evaluation.inputs.catalog.set_index("indicator_id")
    rows = []
    for indicator in evaluation.config.indicators:
        years = sorted(own.loc[own["indicator_id"] == indicator, "year"])
        other = others.loc[others["indicator_id"] == indicator]
        rows.append(
            {
                "Indikator": catalog.loc[indicator, "name_sv"],
                "Källa": catalog.loc[indicator, "source"],
                "År i kommunen": _years_text(years),
                "Jämförelsekommuner med data": other["municipality_code"].nunique(),
            }
        )
    return pd.DataFrame(rows)


def _years_text(years: list[int]) -> str:
    if not years:
        return "saknas"
    return (
        years_label(years)
        if years == list(range(years[0], years[-1] + 1))
        else ", ".join(map(str, years))
    )


def sources_table(raw_dir: Path = RAW_DIR) -> pd.DataFrame:
    """The raw sources with publisher, retrieval, licence, attribution and file counts."""
    files = pd.Series([row["source_id"] for row in read_manifest(raw_dir)]).value_counts()
    rows = [
        {
            "Källa": s["title"],
            "Utgivare": s["publisher"],
            "Hämtad": s["retrieved"],
            "Licens": s["licence"],
            "Källhänvisning": s["attribution"],
            "Tillförlitlighet": s["confidence"],
            "Filer": int(files.get(key, 0)),
        }
        for key, s in sorted(read_sources(raw_dir).items())
    ]
    return pd.DataFrame(rows)


def context_figures_table(
    evaluation: Evaluation, processed_dir: Path = PROCESSED_DIR
) -> pd.DataFrame:
    """Secondary figures (quoted on public web pages) for the municipality: context only."""
    frame = pd.read_csv(processed_dir / "context_figures.csv", dtype=str, keep_default_na=False)
    own = frame.loc[frame["area_code"] == evaluation.config.municipality]
    return (
        pd.DataFrame(
            {
                "År": own["year"],
                "Uppgift": own["indicator"],
                "Värde": own["value"],
                "Enhet": own["unit"],
                "Citerad av": own["publisher_of_figure"],
                "Kvalitet": own["quality"].map({"secondary": "sekundär (citat)"}),
            }
        )
        .sort_values(["Uppgift", "År"], kind="mergesort")
        .reset_index(drop=True)
    )


def activity_log_path(manual_dir: Path = MANUAL_DIR) -> Path:
    """Where the filled-in activity log is expected."""
    return manual_dir / "aktivitetslogg.xlsx"


def implementation_table(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> pd.DataFrame:
    """Activities planned and carried out per focus area, from the analyst's activity log."""
    from medlofte_analysis.sources.activities import read_activity_workbook

    path = activity_log_path(manual_dir)
    if not path.exists():
        return pd.DataFrame(
            columns=[
                "Fokusområde",
                "Planerade",
                "Genomförda",
                "Delvis",
                "Ej genomförda",
                "Antal (summa)",
            ]
        )
    log = read_activity_workbook(path)
    log = log.loc[log["municipality_code"] == evaluation.config.municipality]
    grouped = log.groupby("focus_area")
    return pd.DataFrame(
        {
            "Fokusområde": [FOCUS_AREAS.get(area, area) for area in grouped.groups],
            "Planerade": grouped["planned"].sum().astype(int).to_list(),
            "Genomförda": grouped["carried_out"].apply(lambda s: int((s == "ja").sum())).to_list(),
            "Delvis": grouped["carried_out"].apply(lambda s: int((s == "delvis").sum())).to_list(),
            "Ej genomförda": grouped["carried_out"]
            .apply(lambda s: int((s == "nej").sum()))
            .to_list(),
            "Antal (summa)": grouped["amount"].sum(min_count=1).round(0).to_list(),
        }
    )


def implementation_markdown(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> str:
    """Whether an activity log exists, and what that means for the conclusions."""
    path = activity_log_path(manual_dir)
    if not path.exists():
        return (
            "**Aktivitetslogg saknas.** Det finns ingen ifylld logg över årshjulets "
            "aktiviteter (`data/manual/aktivitetslogg.xlsx`). Därför kan rapporten inte visa "
            "vad som faktiskt genomfördes, och en utebliven effekt kan lika gärna bero på att "
            "insatserna inte blev av. Fyll i mallen `templates/aktivitetslogg_mall.xlsx`."
        )
    table = implementation_table(evaluation, manual_dir)
    planned, done = int(table["Planerade"].sum()), int(table["Genomförda"].sum())
    return (
        f"Loggen för {evaluation.municipality_name} har {planned} planerade aktiviteter, "
        f"varav {done} markerade som genomförda."
    )


def activity_indicators_table(evaluation: Evaluation) -> pd.DataFrame:
    """The headline results of the police-activity indicators (outputs, not outcomes)."""
    results = evaluation.results
    rows = results.loc[results["headline"] & (results["kind"] == "police_activity")]
    return pd.DataFrame(
        {
            "Indikator": rows["name_sv"],
            "Skattning (95 %-intervall)": [
                f"{_number(e)} ({_interval(lo, hi)})" if math.isfinite(e) else "–"
                for e, lo, hi in zip(
                    rows["estimate"], rows["ci_lower"], rows["ci_upper"], strict=True
                )
            ],
            "Bedömning": rows["verdict"].map(VERDICTS_SV),
        }
    ).reset_index(drop=True)


def settings_table(evaluation: Evaluation) -> pd.DataFrame:
    """The evaluation's settings as a two-column table."""
    config = evaluation.config
    rows = [
        ("Utvärderingsfil", config.path),
        ("Kommun", f"{evaluation.municipality_name} ({config.municipality})"),
        ("Basår", years_label(config.baseline_years)),
        ("Uppföljning", years_label(config.followup_years)),
        ("Förperiod för trender", f"{config.pre_period[0]}–{config.pre_period[1]}"),
        ("Signifikansnivå", f"{config.alpha:.2f}".replace(".", ",")),
        ("Jämförelsegrupp", evaluation.comparison_title or "uttrycklig lista"),
        ("Antal jämförelsekommuner", str(len(evaluation.comparison))),
        (
            "Län för enkätjämförelse",
            evaluation.name_of(config.comparison.county) if config.comparison.county else "–",
        ),
        ("Primära utfall", ", ".join(config.primary) or "katalogens"),
    ]
    return pd.DataFrame(rows, columns=["Inställning", "Värde"])


def show(table: pd.DataFrame, table_id: str = "") -> HTML:
    """Display a table without its row numbers (and with a stable HTML id, if given)."""
    markup = table.to_html(
        index=False, border=0, classes="tabell", na_rep="–", table_id=table_id or None, escape=True
    )
    return HTML(markup)


def summary_markdown(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> str:
    """The answer in a few sentences: what could be judged, what it showed, what is missing."""
    head = evaluation.results.loc[evaluation.results["headline"]]
    primary = head.loc[head["primary"]]
    judged = primary.loc[primary["verdict"] != "cannot_judge"]
    name = evaluation.municipality_name
    lines: list[str] = []
    if judged.empty:
        lines.append(
            f"**Underlaget räcker inte för att bedöma något av de {len(primary)} primära "
            f"utfallen för {name}.** Det är inget besked om att löftet saknat effekt: de "
            "tidsserier som behövs finns inte i de data som rapporten byggts på. Listan "
            "*Data som saknas* nedan visar vilka serier och år som fattas och var de hämtas."
        )
    else:
        counts = judged["verdict"].map(VERDICTS_SV).value_counts().sort_index()
        summary = ", ".join(f"{label.lower()}: {n}" for label, n in counts.items())
        lines.append(f"Av {len(primary)} primära utfall kunde {len(judged)} bedömas ({summary}).")
        for _, row in judged.iterrows():
            detectable = (
                f"; minsta upptäckbara förändring {_mde(row)}"
                if row["verdict"] == "no_detectable_change"
                else ""
            )
            lines.append(
                f"- **{row['name_sv']}**: {VERDICTS_SV[row['verdict']].lower()} "
                f"({row['method_sv']}; skattning {_number(row['estimate'])}, "
                f"95 %-intervall {_interval(row['ci_lower'], row['ci_upper'])}, "
                f"q = {_p(row['q_value'])}{detectable})."
            )
        missing = len(primary) - len(judged)
        if missing:
            lines.append(f"\n{missing} primära utfall kunde inte bedömas (data saknas).")
        level = int(judged["msms_level"].max())
        lines.append(f"\nStarkaste design: nivå {level} på Maryland-skalan.")
    if not activity_log_path(manual_dir).exists():
        lines.append("\nGenomförandet kan inte bedömas: det finns ingen aktivitetslogg.")
    return "\n".join(lines)
