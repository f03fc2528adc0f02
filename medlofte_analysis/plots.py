"""Figures for the reader: Swedish labels, readable in greyscale, consistent styles.

- `trend_figure`: the municipality's rate per year (blue line, markers) against the comparison
  group's median (dashed grey) and its range, lowest to highest value (light grey band, said so
  in the legend); baseline and follow-up years hatched.
- `forest_figure`: the headline estimate of each indicator with its 95 % interval (forest plot,
  Lewis & Clarke 2001), ratios on a log scale; an estimate of 0 cannot be placed on a log axis
  and is written as text on its row instead.

Axis numbers are Swedish (decimal comma, thin space for thousands) through
`medlofte_analysis.swedish`. Figures are 9.5 inches wide: the report shows them at its full
text width. The scorecard is an HTML table (`presentation.scorecard_html`), not a figure.
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
from medlofte_analysis.swedish import number

# The municipality in Okabe–Ito blue (safe for colour blindness), thick and with markers, so
# that it also stands out from the dashed grey median in greyscale.
TARGET_COLOR = "#0072B2"
TARGET_STYLE = {"color": TARGET_COLOR, "linewidth": 2.4, "marker": "o", "markersize": 5}
MEDIAN_STYLE = {"color": "0.35", "linewidth": 1.5, "linestyle": "--"}
BAND_COLOR = "0.85"
COUNTY_STYLE = {"color": "0.45", "linewidth": 1.5, "linestyle": ":", "marker": "s", "markersize": 4}
WIDTH_INCHES = 9.5
Y_LABELS: dict[str, str] = {
    "procent": "andel (%)",
    "per 100 000 inv": "antal per 100\u202f000 invånare",
    "index": "index",
}


def axis_number(value: float, _position: object = None) -> str:
    """A tick label in Swedish: '1 500', '0,5', '2,25'."""
    if float(value).is_integer():
        return number(value, 0)
    return number(value, 2).rstrip("0").rstrip(",")


SWEDISH_AXIS = matplotlib.ticker.FuncFormatter(axis_number)
plt.rcParams.update(
    {
        "font.size": 11,
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
    fig, ax = plt.subplots(figsize=(WIDTH_INCHES, 4.2))
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
        fig.set_size_inches(WIDTH_INCHES, 1.4)
        ax.axis("off")
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
            label=f"jämförelsegruppen, lägsta till högsta värde ({wide.shape[1]} kommuner)",
        )
        ax.plot(wide.index, wide.median(axis=1), label="jämförelsegruppen, median", **MEDIAN_STYLE)
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
                ecolor=TARGET_COLOR,
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
    ax.set_ylabel(Y_LABELS.get(info["unit"], info["unit"]))
    ax.set_xlabel("år")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(SWEDISH_AXIS)
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(
            fontsize=10, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3
        )
    fig.tight_layout()
    return fig


def forest_figure(results: pd.DataFrame, title: str) -> Figure:
    """Headline estimates with 95 % intervals; ratio rows on a log axis, survey rows in
    percentage points in a second panel. A ratio of 0 is written on its row, not drawn."""
    head = results.loc[results["headline"] & results["estimate"].notna()]
    ratio = head.loc[head["estimate_kind"].str.startswith("kvot")]
    points = head.loc[head["estimate_kind"].str.contains("procentenheter")]
    panels = [(frame, kind) for frame, kind in ((ratio, "kvot"), (points, "pe")) if len(frame)]
    if not panels:
        fig, ax = plt.subplots(figsize=(WIDTH_INCHES, 1.4))
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
    heights = [max(1.4, 0.45 * len(frame) + 1.0) for frame, _ in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(WIDTH_INCHES, sum(heights)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, (frame, kind) in zip(axes[:, 0], panels, strict=True):
        frame = frame.iloc[::-1]
        y = np.arange(len(frame))
        if kind == "kvot":
            _ratio_panel(ax, frame, y)
        else:
            _points_panel(ax, frame, y)
        labels = [
            f"{name[:48]}{'…' if len(name) > 48 else ''}" + (" (primärt)" if primary else "")
            for name, primary in zip(frame["name_sv"], frame["primary"], strict=True)
        ]
        ax.set_yticks(y, labels, fontsize=10)
        ax.set_ylim(-0.7, len(frame) - 0.3)
    axes[0, 0].set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    return fig


def _ratio_panel(ax: plt.Axes, frame: pd.DataFrame, y: np.ndarray) -> None:
    """Ratios on a log axis; rows whose estimate is 0 get a text instead of a marker."""
    estimate = frame["estimate"].to_numpy(dtype=float)
    lower = frame["ci_lower"].to_numpy(dtype=float)
    upper = frame["ci_upper"].to_numpy(dtype=float)
    positive = estimate > 0
    low = np.where(np.isfinite(lower) & (lower > 0), lower, estimate)
    high = np.where(np.isfinite(upper), upper, estimate)
    shown_low = low[positive] if positive.any() else np.array([0.5])
    shown_high = high[positive] if positive.any() else np.array([2.0])
    floor = min(0.05, float(shown_low.min()) / 1.5)
    ceiling = max(20.0, float(shown_high.max()) * 1.5)
    ax.set_xscale("log")
    ax.set_xlim(floor, ceiling)
    ticks = [
        t
        for t in (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 25, 50, 100)
        if floor <= t <= ceiling
    ]
    ax.set_xticks(ticks, [axis_number(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.axvline(1, color="0.4", linewidth=1)
    ax.set_xlabel("kvot (1 = ingen förändring; logaritmisk skala)")
    if positive.any():
        shown = estimate[positive]
        ax.errorbar(
            shown,
            y[positive],
            xerr=[
                np.clip(shown - np.clip(low[positive], floor, None), 0, None),
                np.clip(np.clip(high[positive], None, ceiling) - shown, 0, None),
            ],
            fmt="s",
            color="black",
            ecolor="0.3",
            capsize=3,
        )
    for row in y[~positive]:
        ax.text(
            1.08,
            row,
            "skattningen är 0 (inga händelser efter): kan inte visas på logaritmisk skala",
            va="center",
            fontsize=9,
            color="0.25",
        )


def _points_panel(ax: plt.Axes, frame: pd.DataFrame, y: np.ndarray) -> None:
    """Differences in percentage points on a linear axis around 0."""
    estimate = frame["estimate"].to_numpy(dtype=float)
    lower = frame["ci_lower"].to_numpy(dtype=float)
    upper = frame["ci_upper"].to_numpy(dtype=float)
    ax.axvline(0, color="0.4", linewidth=1)
    ax.set_xlabel("skillnad i procentenheter (0 = ingen förändring)")
    ax.xaxis.set_major_formatter(SWEDISH_AXIS)
    ax.errorbar(
        estimate,
        y,
        xerr=[estimate - lower, upper - estimate],
        fmt="o",
        color="black",
        ecolor="0.3",
        capsize=3,
    )
