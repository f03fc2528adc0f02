"""The årshjul followed up: what was planned, what was carried out, by whom, and how much.

Implementation before effect (Brå 2018:14; the EMMIE framework's "I"): an evaluation that does
not show what was done cannot tell "it did not work" from "it did not happen". Built from the
activity log (`sources.activities`), one per evaluation:

- `activity_log_path`: `data/manual/aktivitetslogg_<kommunkod>_<första>-<sista>.xlsx`; a log
  saved under the first template's name `aktivitetslogg.xlsx` is still read, filtered to the
  evaluation's municipality and follow-up years;
- `load_log`: the evaluation's rows, or None when there is no log (then `no_log_markdown`
  says so and how to supply one; "0 planned activities" is never reported for a missing log);
- tables: the activities, the share of the plan carried out per focus area and per party, the
  amounts summed only within one unit (controls are never added to school visits);
- `arshjul_figure`: a Gantt-style year wheel, months × activities, planned against done;
- `implementation_sentences`: one Swedish sentence per focus area for the summary, with the
  caveat that an activity carried out beside a change is not proof that it caused it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.patches
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from medlofte_analysis.catalog import FOCUS_AREAS
from medlofte_analysis.config import MANUAL_DIR
from medlofte_analysis.evaluation_config import EvaluationConfig
from medlofte_analysis.plots import placeholder
from medlofte_analysis.sources.activities import FOCUS_AREAS as LOG_FOCUS_AREAS
from medlofte_analysis.sources.activities import MONTHS_SV, OUTPUT_COLUMNS, read_activity_workbook

LEGACY_LOG: str = "aktivitetslogg.xlsx"
STATUS_SV: dict[str, str] = {
    "genomförd": "genomförd",
    "delvis": "delvis genomförd",
    "planerad": "inte genomförd",
}
STATUS_STYLE: dict[str, dict[str, object]] = {
    # readable in greyscale: filled, hatched, open
    "genomförd": {"facecolor": "0.2", "edgecolor": "0.2", "hatch": None},
    "delvis": {"facecolor": "0.75", "edgecolor": "0.2", "hatch": "///"},
    "planerad": {"facecolor": "white", "edgecolor": "0.2", "hatch": None},
}
CAVEAT: str = (
    "Att en aktivitet genomfördes samtidigt som ett utfall förändrades bevisar inte att "
    "aktiviteten orsakade förändringen."
)


def activity_log_path(config: EvaluationConfig, manual_dir: Path = MANUAL_DIR) -> Path:
    """Where this evaluation's activity log is expected (by municipality and follow-up period)."""
    years = sorted(config.followup_years)
    return Path(manual_dir) / f"aktivitetslogg_{config.municipality}_{years[0]}-{years[-1]}.xlsx"


def find_log(config: EvaluationConfig, manual_dir: Path = MANUAL_DIR) -> Path | None:
    """The evaluation's own log, else a log saved under the first template's name, else None."""
    for path in (activity_log_path(config, manual_dir), Path(manual_dir) / LEGACY_LOG):
        if path.exists():
            return path
    return None


def load_log(config: EvaluationConfig, manual_dir: Path = MANUAL_DIR) -> pd.DataFrame | None:
    """The log's rows for the evaluation's municipality and follow-up years; None without a log
    or when the log holds no row for them (a log written for another evaluation)."""
    path = find_log(config, manual_dir)
    if path is None:
        return None
    log = read_activity_workbook(path)
    own = log.loc[
        (log["municipality_code"] == config.municipality) & log["year"].isin(config.followup_years)
    ]
    return None if own.empty else own.reset_index(drop=True)


def no_log_markdown(config: EvaluationConfig, name: str, manual_dir: Path = MANUAL_DIR) -> str:
    """Why there is no implementation section, and how to supply the log."""
    years = sorted(config.followup_years)
    period = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    expected = activity_log_path(config, manual_dir).name
    return (
        f"**Aktivitetslogg saknas för {name} {period}.** Det finns ingen ifylld logg över "
        "årshjulets aktiviteter för den här kommunen och perioden. Därför kan rapporten inte "
        "visa vad som faktiskt genomfördes, och en utebliven effekt kan lika gärna bero på att "
        "insatserna inte blev av. Så lämnar ni loggen: fyll i mallen "
        f"`templates/aktivitetslogg_mall.xlsx`, spara den som `data/manual/{expected}` och "
        "kör `make all` igen."
    )


def _period(first: int, last: int) -> str:
    if (first, last) == (1, 12):
        return "helår"
    if first == last:
        return MONTHS_SV[first - 1]
    if last - first == 2 and last % 3 == 0:
        return f"kv {last // 3}"
    return f"{MONTHS_SV[first - 1]}–{MONTHS_SV[last - 1]}"


def _or_empty(log: pd.DataFrame | None) -> pd.DataFrame:
    return pd.DataFrame(columns=list(OUTPUT_COLUMNS)) if log is None else log


#: The source line of every table made from the activity log.
LOG_SOURCE = "aktivitetsloggen för årshjulet (kommunens och polisens egna uppgifter)"


def _captioned(table: pd.DataFrame, caption: str) -> pd.DataFrame:
    """``table`` with the caption and source its display shows (``presentation.show``)."""
    table.attrs = {"caption": caption, "source": LOG_SOURCE}
    return table


def activities_table(log: pd.DataFrame | None) -> pd.DataFrame:
    """One row per activity, in Swedish, ordered by year, month and focus area (empty without
    a log)."""
    log = _or_empty(log)
    ordered = log.assign(order=log["focus_area"].map({k: i for i, k in enumerate(FOCUS_AREAS)}))
    ordered = ordered.sort_values(["year", "first_month", "order", "activity"], kind="mergesort")
    table = pd.DataFrame(
        {
            "År": ordered["year"],
            "Planerad tid": [
                _period(a, b)
                for a, b in zip(ordered["first_month"], ordered["last_month"], strict=True)
            ],
            "Fokusområde": ordered["focus_area"].map(FOCUS_AREAS),
            "Typ": ordered["activity_type"].replace("", "–"),
            "Aktivitet": ordered["activity"],
            "Ansvarig": ordered["responsible"].replace("", "–"),
            "Status": ordered["status"].map(STATUS_SV),
            "Antal": ordered["amount"],
            "Enhet": ordered["unit"].replace("", "–"),
        }
    ).reset_index(drop=True)
    return _captioned(table, "Årshjulets aktiviteter: planerad tid, ansvarig och status")


def _counts(log: pd.DataFrame) -> dict[str, int]:
    planned = log.loc[log["planned"]]
    return {
        "Planerade": len(planned),
        "Genomförda": int((planned["status"] == "genomförd").sum()),
        "Delvis": int((planned["status"] == "delvis").sum()),
        "Ej genomförda": int((planned["status"] == "planerad").sum()),
    }


def share_carried_out(log: pd.DataFrame | None, by: str) -> pd.DataFrame:
    """Planned activities carried out, in part or not, per focus area ("focus_area") or per
    party ("responsible"); the share counts fully carried-out activities of the planned ones."""
    log = _or_empty(log)
    label = {"focus_area": "Fokusområde", "responsible": "Ansvarig"}[by]
    rows = []
    for key, group in log.groupby(by, sort=True):
        counts = _counts(group)
        share = 100 * counts["Genomförda"] / counts["Planerade"] if counts["Planerade"] else None
        name = FOCUS_AREAS.get(key, key) if by == "focus_area" else (key or "ej angiven")
        rows.append({label: name, **counts, "Andel genomförda (%)": share})
    table = pd.DataFrame(
        rows,
        columns=[label, "Planerade", "Genomförda", "Delvis", "Ej genomförda"]
        + ["Andel genomförda (%)"],
    ).round({"Andel genomförda (%)": 0})
    per = {"focus_area": "fokusområde", "responsible": "ansvarig part"}[by]
    return _captioned(table, f"Planerade aktiviteter och hur många som genomfördes, per {per}")


def amounts_by_unit(log: pd.DataFrame | None) -> pd.DataFrame:
    """The amounts carried out, summed only within one focus area and one unit."""
    log = _or_empty(log)
    known = log.loc[log["amount"].notna()]
    summed = (
        known.groupby(["focus_area", "unit"], sort=True)["amount"]
        .agg(["sum", "size"])
        .reset_index()
    )
    table = pd.DataFrame(
        {
            "Fokusområde": summed["focus_area"].map(FOCUS_AREAS),
            "Enhet": summed["unit"],
            "Antal (summa)": summed["sum"].round(0),
            "Antal aktiviteter": summed["size"],
        }
    )
    return _captioned(table, "Genomförda antal per fokusområde och enhet")


def _whole(number: float) -> str:
    value = round(number)
    return (
        f"{value:,}".replace(",", "\u00a0")
        if value == number
        else f"{number:.1f}".replace(".", ",")
    )


def implementation_sentences(log: pd.DataFrame) -> dict[str, str]:
    """One sentence per focus area: "10 av 12 planerade aktiviteter genomfördes (1 delvis);
    64 kontroller, 12 skolbesök." Amounts are summed within one unit only."""
    sentences: dict[str, str] = {}
    for area in [a for a in FOCUS_AREAS if a in set(log["focus_area"])]:
        rows = log.loc[log["focus_area"] == area]
        counts = _counts(rows)
        text = f"{counts['Genomförda']} av {counts['Planerade']} planerade aktiviteter genomfördes"
        if counts["Delvis"]:
            text += f" ({counts['Delvis']} delvis)"
        amounts = rows.loc[rows["amount"].notna()].groupby("unit", sort=True)["amount"].sum()
        if len(amounts):
            text += "; " + ", ".join(f"{_whole(v)} {unit}" for unit, v in amounts.items())
        sentences[area] = text + "."
    return sentences


def implementation_markdown(
    config: EvaluationConfig, name: str, log: pd.DataFrame | None, manual_dir: Path = MANUAL_DIR
) -> str:
    """What the log says in one paragraph, or that there is none and how to supply it."""
    if log is None:
        return no_log_markdown(config, name, manual_dir)
    counts = _counts(log)
    units = amounts_by_unit(log)
    return (
        f"Loggen för {name} har {counts['Planerade']} planerade aktiviteter; "
        f"{counts['Genomförda']} genomfördes, {counts['Delvis']} delvis och "
        f"{counts['Ej genomförda']} inte (ännu). Antal summeras bara inom samma enhet "
        f"({len(units)} kombinationer av fokusområde och enhet). {CAVEAT}"
    )


def implementation_summary_markdown(
    config: EvaluationConfig, name: str, manual_dir: Path = MANUAL_DIR
) -> str:
    """The implementation lines of "Svaret i korthet": one per focus area, and the caveat."""
    log = load_log(config, manual_dir)
    if log is None:
        return (
            "Genomförandet kan inte bedömas: det finns ingen aktivitetslogg för "
            f"{name} (se avsnittet Genomförande)."
        )
    sentences = implementation_sentences(log)
    lines = ["**Genomförande enligt aktivitetsloggen** (årshjulet):"]
    for area in [a for a in config.focus_areas if a in LOG_FOCUS_AREAS]:
        text = sentences.get(area, "inga aktiviteter i loggen.")
        lines.append(f"- {FOCUS_AREAS.get(area, area)}: {text}")
    lines.append(f"\n{CAVEAT}")
    return "\n".join(lines)


def arshjul_figure(log: pd.DataFrame | None, years: tuple[int, ...] | list[int]) -> Figure:
    """Gantt-style year wheel: one row per activity, months of the follow-up on the x axis; a
    filled bar is carried out, a hatched bar partly, an open bar planned but not carried out.
    Without a log: a plain placeholder saying so."""
    if log is None:
        fig, ax = plt.subplots(figsize=(8.5, 1.4))
        ax.set_title("Årshjulet: planerade aktiviteter och vad som genomfördes", loc="left")
        placeholder(ax, "Ingen aktivitetslogg för perioden (se texten nedan)")
        return fig
    table = log.assign(order=log["focus_area"].map({k: i for i, k in enumerate(FOCUS_AREAS)}))
    table = table.sort_values(["order", "year", "first_month", "activity"], kind="mergesort")
    first_year = min(years)
    months = 12 * (max(years) - first_year + 1)
    height = max(2.2, 0.32 * len(table) + 1.4)
    fig, ax = plt.subplots(figsize=(8.5, height))
    labels = []
    for position, row in enumerate(table.itertuples(index=False)):
        start = 12 * (row.year - first_year) + row.first_month - 1
        width = row.last_month - row.first_month + 1
        style = STATUS_STYLE[row.status]
        ax.barh(position, width, left=start, height=0.6, linewidth=1, **style)
        party = f" ({row.responsible})" if row.responsible else ""
        labels.append(f"{row.activity}{party}")
    ax.set_yticks(range(len(table)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, months)
    ticks = list(range(0, months, 3))
    ax.set_xticks(
        ticks, [f"{MONTHS_SV[t % 12][:3]}\n{first_year + t // 12}" for t in ticks], fontsize=8
    )
    for boundary in range(12, months, 12):
        ax.axvline(boundary, color="0.5", linewidth=0.8)
    handles = [
        matplotlib.patches.Patch(label=STATUS_SV[status].capitalize(), linewidth=1, **style)
        for status, style in STATUS_STYLE.items()
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 0.6 / height),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    ax.set_title("Årshjulet: planerade aktiviteter och vad som genomfördes", loc="left")
    fig.tight_layout()
    return fig


def log_source_markdown(config: EvaluationConfig, manual_dir: Path = MANUAL_DIR) -> str:
    """The activity log as an item of the report's sources (or that there is none)."""
    path = find_log(config, manual_dir)
    log = load_log(config, manual_dir)
    if path is None or log is None:
        return (
            "- **Aktivitetslogg (årshjulet)**: saknas för den här utvärderingen "
            f"(väntas som `data/manual/{activity_log_path(config, manual_dir).name}`)."
        )
    return (
        f"- **Aktivitetslogg (årshjulet)** (kommunen och polisen), fil `data/manual/{path.name}`: "
        f"{len(log)} aktiviteter för kommunkod {config.municipality}. Egna uppgifter om "
        "genomförandet, inte publicerad statistik."
    )
