"""The citizen page, "Följ med i hur det går!": one A4 page per evaluation, HTML and PDF.

The pledge promises citizens to hear how it goes. Per focus area the page says what was
promised (the evaluation file's `pledge`, the pledge's own words), what was done (the activity
log, via `implementation.share_carried_out`; said plainly when there is none) and what the
numbers show, with the uncertainty in everyday words (Klarspråk; Språklagen § 11): "vi kan inte
säga att…", "för få händelser för att…". No statistical terms: the verdicts of the report are
turned into sentences here, and the report itself carries the methods.

Accessibility (WCAG 2.1 AA): lang="sv", one h1 and an h2 per focus area, text colour
#1a1a1a and headings #0b4f8a on white (contrast 17:1 and 8.6:1), no image (nothing needs alt
text); the PDF is tagged (PDF/UA-1) with the same headings.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import pandas as pd
from babel.numbers import format_decimal

from medlofte_analysis.catalog import FOCUS_AREAS
from medlofte_analysis.config import MANUAL_DIR
from medlofte_analysis.evaluate import Evaluation, years_label
from medlofte_analysis.publication import PublicationInfo
from medlofte_analysis.swedish import unbroken_percent
from medlofte_analysis.typst_pdf import Span, compile_pdf, page_count, strong, text

LOCALE = "sv_SE"
TEMPLATE = "citizen.typ"
TITLE = "Följ med i hur det går!"
FONT_SIZES: tuple[float, ...] = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5)  # the largest that fits one page
LARGE_CHANGE = 0.5  # the smallest detectable rise above +50 %: "too few events"
SOURCES_SV: dict[str, str] = {
    "bra_lagesbild": "Brå (Brottsförebyggande rådet)",
    "bra_yearly_csv": "Brå (Brottsförebyggande rådet)",
    "kolada": "Kolada (RKA)",
    "survey_template": "enkäter (Polisens trygghetsmätning, Liv & hälsa ung)",
}
VERDICT_SENTENCES: dict[str, str] = {
    "improvement": (
        "Det har blivit bättre. Förändringen är för stor för att bara vara slump, men vi kan "
        "inte säga säkert att den beror på löftet."
    ),
    "deterioration": (
        "Det har blivit sämre. Förändringen är för stor för att bara vara slump. Vi kan inte "
        "säga säkert vad den beror på."
    ),
    "more_enforcement": (
        "Polisen har upptäckt fler sådana brott. Det visar främst att polisen har arbetat mer "
        "med frågan, inte att problemen har ökat."
    ),
    "less_enforcement": (
        "Polisen har upptäckt färre sådana brott. Det kan betyda att polisen har arbetat "
        "mindre med frågan."
    ),
    "ambiguous_change": (
        "Antalet anmälningar har ändrats. Det kan betyda att fler vågar anmäla lika väl som "
        "att våldet har ändrats."
    ),
    "no_change": (
        "Vi kan inte säga att det har blivit bättre eller sämre: skillnaden är så liten att den "
        "kan bero på slumpen."
    ),
    "no_change_few": (
        "Vi kan inte säga att det har blivit bättre eller sämre. Talen är för små eller "
        "varierar för mycket för att en måttlig förändring ska gå att skilja från slumpen."
    ),
    "missing": "Vi kan inte säga något ännu: siffrorna som behövs finns inte i underlaget.",
    "no_events": "Det är för få händelser för att säga något.",
    "unclear": "Vi kan inte säga något säkert: underlaget räcker inte.",
}


def _number(value: float) -> str:
    """Swedish number for a citizen: no decimals from 10 up, one below (Babel, sv_SE)."""
    pattern = "#,##0" if abs(value) >= 10 else "#,##0.0"
    return format_decimal(value, format=pattern, locale=LOCALE)


def plain_verdict(row: pd.Series) -> str:
    """Which plain sentence fits a headline result."""
    code = row["verdict"]
    if code == "cannot_judge":
        note = str(row["note"])
        if note.startswith("saknar") or "saknar data" in note:
            return "missing"
        return "no_events" if "inga anmälda händelser" in note else "unclear"
    if code == "no_detectable_change":
        ratio_scale = str(row["estimate_kind"]).startswith("kvot")
        rise = row["mde_increase"]
        few = ratio_scale and (not math.isfinite(rise) or rise - 1 > LARGE_CHANGE)
        return "no_change_few" if few else "no_change"
    return code


def _values_sentence(row: pd.Series, unit: str) -> str:
    """'12 per 100 000 invånare 2022 och 9,5 2024.' from the before–after row."""
    before, after = row["baseline_value"], row["followup_value"]
    if not (math.isfinite(before) and math.isfinite(after)):
        return ""
    if unit == "procent":
        return (
            f"{_number(before)} procent svarade så {row['baseline_label']} och "
            f"{_number(after)} procent {row['followup_label']}. "
        )
    average = " per år i genomsnitt" if "–" in str(row["followup_label"]) else ""
    return (
        f"{_number(before)} anmälda brott per 100 000 invånare {row['baseline_label']} och "
        f"{_number(after)}{average} {row['followup_label']}. "
    )


def numbers_spans(evaluation: Evaluation, area: str) -> list[list[Span]]:
    """One paragraph per outcome named in advance (else every outcome) of a focus area."""
    results = evaluation.results
    in_area = results.loc[(results["focus_area"] == area) & results["headline"]]
    chosen = in_area.loc[in_area["primary"]] if in_area["primary"].any() else in_area
    units = evaluation.inputs.catalog.set_index("indicator_id")["unit"]
    paragraphs = []
    for _, row in chosen.iterrows():
        before_after = results.loc[
            (results["indicator_id"] == row["indicator_id"])
            & (results["focus_area"] == area)
            & (results["method"] == "fore_efter")
        ]
        values = (
            _values_sentence(before_after.iloc[0], units.get(row["indicator_id"], ""))
            if len(before_after) and row["verdict"] != "cannot_judge"
            else ""
        )
        paragraphs.append(
            [
                strong(text(f"{row['name_sv']}: ")),
                text(values + VERDICT_SENTENCES[plain_verdict(row)]),
            ]
        )
    if not paragraphs:
        paragraphs.append([text("Inga siffror är valda för området.")])
    return paragraphs


def done_text(evaluation: Evaluation, area: str, manual_dir: Path = MANUAL_DIR) -> str:
    """What was done in a focus area, from the activity log; plainly when there is none."""
    from medlofte_analysis.implementation import load_log, share_carried_out

    log = load_log(evaluation.config, manual_dir)
    if log is None:
        return (
            "Det finns ännu ingen sammanställning av vilka aktiviteter som genomfördes, så "
            "den här sidan kan inte berätta vad som gjordes."
        )
    table = share_carried_out(log, "focus_area")
    rows = table.loc[table["Fokusområde"] == FOCUS_AREAS.get(area, area)]
    if rows.empty:
        return "Aktivitetsloggen har inga aktiviteter för området."
    planned, done = int(rows["Planerade"].sum()), int(rows["Genomförda"].sum())
    partly, not_done = int(rows["Delvis"].sum()), int(rows["Ej genomförda"].sum())
    if planned == 1:
        how = (
            "genomfördes"
            if done
            else "genomfördes delvis"
            if partly
            else "genomfördes inte"
            if not_done
            else "är inte markerad som genomförd eller inte"
        )
        return f"En aktivitet var planerad. Den {how}."
    return (
        f"Av {planned} planerade aktiviteter genomfördes {done}, {partly} delvis och "
        f"{not_done} inte."
    )


def _sources(evaluation: Evaluation) -> str:
    catalog = evaluation.inputs.catalog.set_index("indicator_id")
    used = catalog.loc[list(evaluation.config.indicators), "source"]
    names = dict.fromkeys(SOURCES_SV.get(s, s) for s in used)
    return ", ".join(names)


def citizen_page_data(
    evaluation: Evaluation, info: PublicationInfo, manual_dir: Path = MANUAL_DIR
) -> dict[str, Any]:
    """The page's content: title, introduction, one section per focus area, footer."""
    config = evaluation.config
    name = evaluation.municipality_name
    follow, base = years_label(config.followup_years), years_label(config.baseline_years)
    areas = [area for area in config.focus_areas if area != "kontext"]
    intro: list[list[Span]] = []
    if info.demonstration:
        intro.append(
            [
                strong(text("Exempel. ")),
                text(
                    f"Sidan visar hur uppföljningen ser ut, med verkliga siffror för {name}. "
                    f"Det är inte en uppföljning av ett medborgarlöfte i {name}: områdena är "
                    "lånade från ett annat medborgarlöfte."
                ),
            ]
        )
    who = (
        f"Så här skulle sidan se ut om kommunen och polisen i {name} hade lovat"
        if info.demonstration
        else f"Kommunen och polisen i {name} har lovat"
    )
    intro.append(
        [
            text(
                f"{who} att arbeta tillsammans med {len(areas)} områden. Här får du veta vad "
                f"vi lovade, vad som gjordes och vad siffrorna visar. Vi jämför {follow} med "
                f"{base}."
            )
        ]
    )
    intro.append(
        [
            strong(text("Så läser du siffrorna. ")),
            text(
                "Siffrorna är anmälda brott och svar i enkäter. När talen är små spelar slumpen "
                "stor roll: några fler eller färre anmälningar ett år säger lite. Därför skriver "
                "vi bara att något har blivit bättre eller sämre när förändringen är för stor "
                "för att vara slump."
            ),
        ]
    )
    sections = []
    for area in areas:
        promise = config.pledge.get(area, "").replace("*", "") or (
            "Löftets egen text finns inte med i underlaget för den här sidan."
        )
        paragraphs = [
            [strong(text("Det här lovade vi: ")), text(promise)],
            [strong(text("Det här gjordes: ")), text(done_text(evaluation, area, manual_dir))],
            [strong(text("Det här visar siffrorna:"))],
        ]
        sections.append(
            {
                "heading": FOCUS_AREAS.get(area, area),
                "paragraphs": paragraphs,
                "numbers": numbers_spans(evaluation, area),
            }
        )
    footer = [
        [
            text(
                f"Så gjorde vi: vi jämför med hur det var före och med liknande kommuner. Hela "
                f"rapporten med alla siffror och källor: {config.id}.pdf (och {config.id}.html). "
                f"Siffrorna som Excelfil: {config.id}-resultat.xlsx."
            )
        ],
        [text(f"Källor: {_sources(evaluation)}.")],
        [
            text(
                f"Uppdaterad {info.report_date.isoformat()}. Frågor: {info.contact}. "
                f"Version: {info.version}."
            )
        ],
    ]
    return {
        "title": TITLE,
        "subtitle": f"Medborgarlöftet i {name} {follow}: så går det",
        "author": f"{name} kommun och Polisen",
        "font_size": FONT_SIZES[0],
        "intro": intro,
        "areas": sections,
        "footer": footer,
    }


def _html_spans(spans: list[Span]) -> str:
    parts = []
    for span in spans:
        inner = html.escape(span.get("text", "")) + _html_spans(span.get("children", []))
        parts.append(f"<strong>{inner}</strong>" if span["type"] == "strong" else inner)
    return "".join(parts)


_CSS = """
body { margin: 0; background: #ffffff; color: #1a1a1a;
  font-family: "Segoe UI", "Helvetica Neue", Arial, sans-serif; font-size: 1.05rem;
  line-height: 1.5; }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 2rem; }
h1 { color: #0b4f8a; font-size: 2rem; margin: 0 0 0.2rem; }
h2 { color: #0b4f8a; font-size: 1.25rem; margin: 1.4rem 0 0.3rem; }
.underrubrik { font-size: 1.15rem; margin: 0 0 1rem; }
p { margin: 0.35rem 0; }
footer { border-top: 1px solid #767676; margin-top: 1.5rem; padding-top: 0.5rem;
  font-size: 0.9rem; }
ul { margin: 0.3rem 0; padding-left: 1.4rem; }
@media print {
  @page { size: A4; margin: 1.4cm 1.6cm; }
  body { font-size: 9pt; line-height: 1.3; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 17pt; } h2 { font-size: 11.5pt; margin: 0.6rem 0 0.1rem; }
  p { margin: 0.15rem 0; } ul { margin: 0.1rem 0; } footer { margin-top: 0.6rem; font-size: 8pt; }
}
""".strip()


def citizen_page_html(data: dict[str, Any]) -> str:
    """The page as standalone HTML (no script, nothing fetched), Swedish, accessible."""
    paragraphs = lambda items: "\n".join(f"<p>{_html_spans(p)}</p>" for p in items)  # noqa: E731
    items = lambda spans: "\n".join(f"<li>{_html_spans(p)}</li>" for p in spans)  # noqa: E731
    sections = "\n".join(
        f"<section>\n<h2>{html.escape(area['heading'])}</h2>\n"
        f"{paragraphs(area['paragraphs'])}\n<ul>\n{items(area['numbers'])}\n</ul>\n</section>"
        for area in data["areas"]
    )
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="sv">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(data['title'])} {html.escape(data['subtitle'])}</title>",
            f"<style>\n{_CSS}\n</style>",
            "</head>",
            "<body>",
            "<main>",
            f"<h1>{html.escape(data['title'])}</h1>",
            f'<p class="underrubrik">{html.escape(data["subtitle"])}</p>',
            paragraphs(data["intro"]),
            sections,
            f"<footer>\n{paragraphs(data['footer'])}\n</footer>",
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )
    return unbroken_percent(page)


def citizen_page_pdf(data: dict[str, Any], info: PublicationInfo) -> bytes:
    """The page as a one-page A4 PDF, in the largest of `FONT_SIZES` that fits one page."""
    fitting = next(
        (size for size in FONT_SIZES if page_count(TEMPLATE, {**data, "font_size": size}) == 1),
        FONT_SIZES[-1],
    )
    return compile_pdf(TEMPLATE, {**data, "font_size": fitting}, info.timestamp)


def write_citizen_page(
    evaluation: Evaluation,
    reports_dir: Path,
    info: PublicationInfo,
    manual_dir: Path = MANUAL_DIR,
) -> tuple[Path, Path]:
    """Write `<id>-medborgare.html` and `<id>-medborgare.pdf` into `reports_dir`."""
    data = citizen_page_data(evaluation, info, manual_dir)
    stem = Path(reports_dir) / f"{evaluation.config.id}-medborgare"
    stem.parent.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = stem.with_suffix(".html"), stem.with_suffix(".pdf")
    html_path.write_text(citizen_page_html(data), encoding="utf-8", newline="\n")
    pdf_path.write_bytes(citizen_page_pdf(data, info))
    return html_path, pdf_path
