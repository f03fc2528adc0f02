"""Figures for the reader: Swedish labels, readable in greyscale, consistent styles.

- `trend_figure`: the municipality's rate per year (black line, markers) against the comparison
  group's median (dashed grey) and its range (light grey band); baseline and follow-up years
  shaded.
- `forest_figure`: the headline estimate of each indicator with its 95 % interval (forest plot,
  Lewis & Clarke 2001), ratios on a log scale.
- `scorecard_figure`: verdict per indicator, with a symbol as well as a shade so that the
  scorecard reads in greyscale.
"""

from __future__ import annotations

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from medlofte_analysis.evaluate import Evaluation
from medlofte_analysis.verdict import VERDICTS_SV

TARGET_STYLE = {"color": "black", "linewidth": 2.2, "marker": "o", "markersize": 5}
MEDIAN_STYLE = {"color": "0.35", "linewidth": 1.5, "linestyle": "--"}
BAND_COLOR = "0.85"
COUNTY_STYLE = {"color": "0.45", "linewidth": 1.5, "linestyle": ":", "marker": "s", "markersize": 4}
VERDICT_STYLE: dict[str, tuple[str, str]] = {
    # code: (symbol, grey shade)
    "improvement": ("▼ bättre", "0.55"),
    "deterioration": ("▲ sämre", "0.15"),
    "more_enforcement": ("▲ aktivitet", "0.7"),
    "less_enforcement": ("▼ aktivitet", "0.7"),
    "ambiguous_change": ("◆ tvetydig", "0.45"),
    "no_detectable_change": ("○ ingen påvisbar", "0.92"),
    "cannot_judge": ("? kan ej bedömas", "1.0"),
    "descriptive_only": ("= beskrivande", "0.97"),
}
plt.rcParams.update(
    {
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "medlofte",
        "figure.dpi": 100,
    }
)


def _shade_periods(ax: plt.Axes, evaluation: Evaluation) -> None:
    config = evaluation.config
    for years, label in ((config.baseline_years, "bas"), (config.followup_years, "uppföljning")):
        ax.axvspan(
            min(years) - 0.4,
            max(years) + 0.4,
            facecolor="none",
            edgecolor="0.6",
            hatch="//",
            linewidth=0,
            zorder=0.5,
        )
        ax.text(
            (min(years) + max(years)) / 2,
            1.0,
            label,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color="0.3",
        )


def placeholder(ax: plt.Axes, text: str) -> None:
    """An empty axis that says, in grey, why there is nothing to draw."""
    ax.axis("off")
    ax.text(
        0.5, 0.4, text, transform=ax.transAxes, ha="center", va="center", fontsize=12, color="0.3"
    )


def trend_figure(evaluation: Evaluation, indicator_id: str) -> Figure:
    """Rate (or share) per year: the municipality against the comparison group's band."""
    catalog = evaluation.inputs.catalog.set_index("indicator_id")
    info = catalog.loc[indicator_id]
    frame = evaluation.inputs.indicators
    rows = frame.loc[frame["indicator_id"] == indicator_id]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    target = rows.loc[rows["municipality_code"] == evaluation.config.municipality].sort_values(
        "year"
    )
    others = rows.loc[rows["municipality_code"].isin(evaluation.comparison)]
    county_code = evaluation.config.comparison.county
    county = rows.loc[
        (rows["municipality_code"] == county_code)
        & (info["kind"] == "survey")
        & rows["value"].notna()
    ].sort_values("year")
    if target.empty and others.empty and county.empty:
        fig.set_size_inches(7.5, 1.4)
        ax.set_title(info["name_sv"], fontsize=10, loc="left")
        placeholder(
            ax,
            f"Data saknas för {evaluation.municipality_name} och "
            "jämförelsegruppen\n(se Data som saknas)",
        )
        return fig
    if not others.empty:
        wide = others.pivot_table(index="year", columns="municipality_code", values="value")
        ax.fill_between(
            wide.index,
            wide.min(axis=1),
            wide.max(axis=1),
            color=BAND_COLOR,
            label=f"jämförelsegrupp, spridning ({wide.shape[1]} kommuner)",
        )
        ax.plot(wide.index, wide.median(axis=1), label="jämförelsegrupp, median", **MEDIAN_STYLE)
    if not county.empty:  # surveys: the county's published waves beside the municipality
        ax.plot(
            county["year"], county["value"], label=evaluation.name_of(county_code), **COUNTY_STYLE
        )
    if not target.empty:
        ax.plot(target["year"], target["value"], label=evaluation.municipality_name, **TARGET_STYLE)
        if target["ci_lower"].notna().any():
            ax.errorbar(
                target["year"],
                target["value"],
                yerr=[target["value"] - target["ci_lower"], target["ci_upper"] - target["value"]],
                fmt="none",
                ecolor="black",
                capsize=3,
                linewidth=1,
            )
    else:
        ax.text(
            0.5,
            0.5,
            f"Data saknas för {evaluation.municipality_name}",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="0.3",
        )
    _shade_periods(ax, evaluation)
    ax.set_title(info["name_sv"], fontsize=10, loc="left", pad=16)
    ax.set_ylabel("andel (%)" if info["unit"] == "procent" else f"antal {info['unit']}")
    ax.set_xlabel("år")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def forest_figure(results: pd.DataFrame, title: str) -> Figure:
    """Headline estimates with 95 % intervals; ratio rows on a log axis, survey rows in
    percentage points in a second panel."""
    head = results.loc[results["headline"] & results["estimate"].notna()]
    ratio = head.loc[head["estimate_kind"].str.startswith("kvot")]
    points = head.loc[head["estimate_kind"].str.contains("procentenheter")]
    panels = [(frame, kind) for frame, kind in ((ratio, "kvot"), (points, "pe")) if len(frame)]
    if not panels:
        fig, ax = plt.subplots(figsize=(7.5, 1.6))
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            "Inga skattningar: data saknas",
            ha="center",
            va="center",
            fontsize=12,
            color="0.3",
        )
        return fig
    heights = [max(1.2, 0.42 * len(frame) + 0.8) for frame, _ in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(7.5, sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, (frame, kind) in zip(axes[:, 0], panels, strict=True):
        frame = frame.iloc[::-1]
        y = np.arange(len(frame))
        lower = frame["ci_lower"].to_numpy(dtype=float)
        upper = frame["ci_upper"].to_numpy(dtype=float)
        estimate = frame["estimate"].to_numpy(dtype=float)
        if kind == "kvot":
            floor = 0.05
            low = np.clip(np.where(np.isfinite(lower), lower, estimate), floor, None)
            high = np.clip(np.where(np.isfinite(upper), upper, estimate), floor, None)
            shown = np.clip(estimate, floor, None)
            ax.set_xscale("log")
            ticks = [
                t
                for t in (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 25, 50)
                if low.min() / 1.5 <= t <= high.max() * 1.5
            ] or [1]
            ax.set_xticks(ticks, [f"{t:g}".replace(".", ",") for t in ticks])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.axvline(1, color="0.4", linewidth=1)
            ax.set_xlabel("kvot (1 = ingen förändring; logaritmisk skala)")
            ax.errorbar(
                shown,
                y,
                xerr=[
                    np.clip(shown - np.clip(low, 1e-2, None), 0, None),
                    np.clip(high - shown, 0, None),
                ],
                fmt="s",
                color="black",
                ecolor="0.3",
                capsize=3,
            )
        else:
            ax.axvline(0, color="0.4", linewidth=1)
            ax.set_xlabel("skillnad i procentenheter (0 = ingen förändring)")
            ax.errorbar(
                estimate,
                y,
                xerr=[estimate - lower, upper - estimate],
                fmt="o",
                color="black",
                ecolor="0.3",
                capsize=3,
            )
        labels = [
            f"{name[:48]}{'…' if len(name) > 48 else ''}" + (" (primärt)" if primary else "")
            for name, primary in zip(frame["name_sv"], frame["primary"], strict=True)
        ]
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_ylim(-0.7, len(frame) - 0.3)
    axes[0, 0].set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    return fig


SHORT_FOCUS_NAMES: dict[str, str] = {
    "unga": "Unga",
    "narvaro": "Närvaro",
    "narkotika": "Narkotika",
    "vald_nara_relation": "Våld i nära relation",
    "kontext": "Bakgrund",
}


def scorecard_figure(results: pd.DataFrame) -> Figure:
    """Resultattavla: one row per indicator (primary outcomes first), verdict as symbol+shade."""
    head = results.loc[results["headline"]].copy()
    head["order"] = head["focus_area"].map({k: i for i, k in enumerate(SHORT_FOCUS_NAMES)})
    head = head.sort_values(["order", "primary"], ascending=[True, False], kind="mergesort")
    fig, ax = plt.subplots(figsize=(8.5, 0.32 * len(head) + 0.9))
    ax.axis("off")
    for i, (_, row) in enumerate(head.iloc[::-1].iterrows()):
        symbol, shade = VERDICT_STYLE[row["verdict"]]
        ax.add_patch(
            matplotlib.patches.Rectangle(
                (0.66, i - 0.42), 0.34, 0.84, facecolor=shade, edgecolor="0.5"
            )
        )
        text_color = "white" if float(shade) < 0.5 else "black"
        ax.text(0.83, i, symbol, ha="center", va="center", fontsize=8, color=text_color)
        name = row["name_sv"][:60] + ("…" if len(row["name_sv"]) > 60 else "")
        weight = "bold" if row["primary"] else "normal"
        ax.text(
            0.0,
            i,
            f"{SHORT_FOCUS_NAMES.get(row['focus_area'], row['focus_area'])}: {name}",
            va="center",
            fontsize=8,
            fontweight=weight,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(head) - 0.4)
    ax.set_title("Resultattavla (fetstil = primärt utfall)", fontsize=10, loc="left")
    fig.tight_layout()
    return fig


def verdict_legend() -> pd.DataFrame:
    """What each symbol of the scorecard means."""
    return pd.DataFrame(
        [(VERDICT_STYLE[code][0], VERDICTS_SV[code]) for code in VERDICT_STYLE],
        columns=["symbol", "bedömning"],
    )
