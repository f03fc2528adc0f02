"""Tables and Swedish text for the notebooks and the report, built from the results table.

This module is the presentation layer: every number a reader sees is rounded and written in
Swedish here (through `medlofte_analysis.swedish`, i.e. Babel), every estimate is shown with its
interval, every "no detectable change" with the change that could have been detected, and
every note of the statistics is translated through one table (`NOTES_SV`). The written
interpretation is generated from the verdicts, so it cannot drift from them.

Safety: text that comes from a file, the configuration or a server (names, titles, notes, file
names) reaches the report as text, never as markup. It passes through `markdown_text` (for
Markdown) or `html_text` (for HTML) here, and nowhere else; tables are written by
`table_html`, which escapes every header and cell.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from medlofte_analysis import implementation
from medlofte_analysis.catalog import FOCUS_AREAS
from medlofte_analysis.config import MANUAL_DIR, PROCESSED_DIR, RAW_DIR
from medlofte_analysis.evaluate import Evaluation, years_label
from medlofte_analysis.evaluation_config import genitive
from medlofte_analysis.manifest import read_manifest, read_sources
from medlofte_analysis.swedish import (
    MISSING,
    count_noun,
    integer,
    localise_numbers,
    number,
    percent_change,
)
from medlofte_analysis.verdict import VERDICTS_SV

# --- Text from outside is text, never markup -----------------------------------------------------

_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]()#!|~{}])")
_URL = re.compile(r"https?://[^\s<>()\"'`\\]+")


def html_text(value: object) -> str:
    """`value` as HTML text: <, >, & and quotes escaped (safe in element content and attributes)."""
    return html.escape(str(value), quote=True)


def markdown_text(value: object, links: bool = False) -> str:
    """`value` as literal text inside Markdown: no HTML, no links, no emphasis, one line.

    HTML is escaped, Markdown punctuation is backslash-escaped (CommonMark), and line breaks
    become spaces so that a value cannot open a new block. With `links=True`, http(s)
    addresses become links (any other scheme, e.g. `javascript:`, stays text).
    """
    flat = " ".join(str(value).split())
    if not links:
        return _escape_markdown(flat)
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(flat):
        parts.append(_escape_markdown(flat[position : match.start()]))
        parts.append(f"<{html.escape(match.group(0), quote=True)}>")
        position = match.end()
    parts.append(_escape_markdown(flat[position:]))
    return "".join(parts)


def _escape_markdown(text: str) -> str:
    return _MD_PUNCTUATION.sub(r"\\\1", html.escape(text, quote=False))


# --- Words ---------------------------------------------------------------------------------------

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
CONFIDENCE_SV: dict[str, str] = {"high": "hög", "medium": "medel", "low": "låg"}
SHORT_FOCUS_NAMES: dict[str, str] = {
    "unga": "Unga",
    "narvaro": "Närvaro",
    "narkotika": "Narkotika",
    "vald_nara_relation": "Våld i nära relation",
    "kontext": "Bakgrund",
}
# The catalog's source ids as a reader names them (the "Källa:" line of figures and tables).
SOURCE_NAMES_SV: dict[str, str] = {
    "bra_lagesbild": "Brå, Indikatorer för kommuners lägesbild",
    "bra_yearly_csv": "Brå, anmälda brott i kommunerna",
    "kolada": "Kolada (RKA)",
    "scb": "SCB",
    "survey_template": "publicerade enkätrapporter, inskrivna i projektets Excelmall",
}
# The scorecard's plain words for what the change is measured against (method codes).
METHOD_PLAIN_SV: dict[str, str] = {
    "fore_efter": "före mot efter i kommunen",
    "trend": "mot trenden före",
    "diff_i_diff": "mot jämförelsegruppens förändring",
    "syntetisk_kontroll": "mot en vägd jämförelsegrupp",
}
UNIT_SV: dict[str, str] = {
    "per 100 000 inv": "per 100\u202f000 invånare",
    "procent": "%",
    "index": "index",
}
# Verdict: symbol, short label and style class. Shape and word carry the meaning, so the
# scorecard reads in greyscale and for colour-blind readers; the colours (Okabe & Ito 2008,
# a palette safe for colour blindness) only repeat it.
VERDICT_STYLE: dict[str, tuple[str, str, str]] = {
    "improvement": ("▼", "Förbättring", "bedomning-battre"),
    "deterioration": ("▲", "Försämring", "bedomning-samre"),
    "more_enforcement": ("▲", "Mer polisiär aktivitet", "bedomning-aktivitet"),
    "less_enforcement": ("▼", "Mindre polisiär aktivitet", "bedomning-aktivitet"),
    "ambiguous_change": ("◆", "Förändring, tvetydig", "bedomning-tvetydig"),
    "no_detectable_change": ("○", "Ingen påvisbar förändring", "bedomning-ingen"),
    "cannot_judge": ("?", "Kan inte bedömas", "bedomning-saknas"),
    "descriptive_only": ("=", "Endast beskrivande", "bedomning-ingen"),
}


# --- Notes of the statistics in Swedish: ONE table -----------------------------------------------
# Each entry: a pattern (regular expression) on the note the statistics wrote, and its Swedish.
# A new reason code or sentence is one new line here. A clause that is still English after
# the table, or an unknown reason code (snake_case), becomes UNKNOWN_NOTE_SV.


def _units_dropped(match: re.Match[str]) -> str:
    count = int(match.group(1))
    units = count_noun(count, "jämförelsekommun", "jämförelsekommuner")
    them = "den räknas" if count == 1 else "de räknas"
    codes = match.group(2)
    return f"{units} saknar händelser alla år och ger ingen information; {them} inte ({codes})"


NOTES_SV: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    (r"pre-period includes pandemic years? ([0-9–]+)", r"förperioden innehåller pandemiåren \1"),
    (
        r"single baseline year: the estimate rests on one year and cannot show pre-trends",
        "ett enda basår: skattningen vilar på ett år och kan inte visa trender före",
    ),
    (
        r"poor pre-period fit: pre_rmspe ([0-9.e+]+) > 10% of the target's pre-period mean "
        r"([0-9.e+]+); the synthetic control is not credible",
        r"dålig anpassning före: genomsnittlig avvikelse \1 är över 10 % av kommunens "
        r"medelvärde \2; den syntetiska kontrollen är inte trovärdig",
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
        r"ingen extra variation mellan åren (Pearson \1 < 1, satt till 1)",
    ),
    (
        r"observed follow-up total is 0: ratio interval from prediction limits is degenerate "
        r"\(upper limit NaN\); use p_value",
        "inga observerade händelser under uppföljningen: intervallet saknar övre gräns; läs "
        "p-värdet",
    ),
    (
        r"(\d+) comparison unit\(s\) with zero counts in all years dropped \(no information\): "
        r"([0-9, ]+)",
        _units_dropped,
    ),
    (
        r"target has zero counts in the follow-up: ratio of rate ratios is 0 and the Wald "
        r"interval undefined \(use an exact conditional method\)",
        "kommunen har inga händelser under uppföljningen: kvoten blir 0 och intervallet kan "
        "inte beräknas (läs före–efter-metodens exakta test)",
    ),
    (r"\s*\(normal approximation; SE derived from the published 95 % interval\)", ""),
    (
        r"Normalapproximation; SE härlett ur publicerat 95 %-intervall",
        "Normalapproximation; standardfelet är härlett ur det publicerade 95 %-intervallet",
    ),
    (
        r"SE härlett ur publicerat (\d+ %)-intervall, logit-skala per andel, MOVER för "
        r"skillnaden \(SE derived from the published \d+ % interval; logit scale; MOVER\)",
        r"Osäkerheten är härledd ur de publicerade \1-intervallen; intervallet för skillnaden "
        r"är sammansatt av de två andelarnas intervall, så att det håller sig inom 0–100 %.",
    ),
    (
        r"Newcombe \(1998\) method 10 \(hybrid Wilson score\); p-value inverted from it",
        "Intervallet för skillnaden är beräknat ur antalet svarande (Newcombes metod), och "
        "p-värdet stämmer med intervallet.",
    ),
    (
        r"Newcombe \(1998\) method 10 \(hybrid Wilson score\); pooled two-proportion z test",
        "Intervallet för skillnaden är beräknat ur antalet svarande (Newcombes metod); "
        "p-värdet kommer från ett test av de sammanslagna andelarna.",
    ),
    (r"RMSPE före", "genomsnittlig avvikelse före"),
    (r"\(RMSPE ", "(genomsnittlig avvikelse "),
    (r"(\d+) donatorer", r"\1 jämförelsekommuner i vägningen"),
    (r"(?<![\d\u202f,])1 händelser\b", "1 händelse"),
    (r"(?<![\d\u202f,])1 jämförelsekommuner\b", "1 jämförelsekommun"),
    (
        r"nominally significant, not after multiple-testing adjustment \(p = ([0-9.]+), "
        r"q = ([0-9.]+)\)",
        r"säker för sig (p = \1) men inte efter justering för många prövningar (q = \2)",
    ),
)
UNKNOWN_NOTE_SV = (
    "en teknisk anmärkning från beräkningen saknar ännu svensk text (se metodavsnittet)"
)
_ENGLISH_WORDS = frozenset(
    "the are of with and or not to from cannot only use has have than at below above when which "
    "this that did does will would should could for on was were been zero counts events "
    "interval estimate ratio fit failed error missing converge".split()
)
_REASON_CODE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+\.?")
_CLAUSE_END = re.compile(r"((?<=[.;])\s+)")


def _looks_untranslated(clause: str) -> bool:
    words = re.findall(r"[A-Za-z]+", clause.lower())
    english = sum(word in _ENGLISH_WORDS for word in words)
    return english >= 2 or bool(_REASON_CODE.fullmatch(clause.strip()))


def note_sv(note: str) -> str:
    """A note of the statistics in Swedish, numbers in Swedish style; never English."""
    text = str(note)
    for pattern, replacement in NOTES_SV:
        text = re.sub(pattern, replacement, text)
    parts = _CLAUSE_END.split(text)
    kept: list[str] = []
    for part in parts:
        if part.strip() and _looks_untranslated(part):
            part = UNKNOWN_NOTE_SV + ("." if part.rstrip().endswith(".") else "")
        kept.append(part)
    return localise_numbers(_sentences_capitalised("".join(kept)))


#: Periods that end an abbreviation, not a sentence.
_ABBREVIATIONS = frozenset(
    {"t.ex.", "bl.a.", "m.m.", "m.fl.", "s.k.", "o.s.v.", "osv.", "dvs.", "ca.", "jfr.", "t.o.m."}
)


def _sentences_capitalised(text: str) -> str:
    """A capital letter at every sentence start inside a note: the notes are joined from
    clauses that each start in lowercase ("… (se före–efter). förperioden …")."""
    tokens = re.split(r"(\s+)", text)
    for k in range(2, len(tokens), 2):
        previous, word = tokens[k - 2], tokens[k]
        ends = previous.endswith(".") and previous.lower().lstrip("(") not in _ABBREVIATIONS
        if ends and word[:1].islower():
            tokens[k] = word[0].upper() + word[1:]
    return "".join(tokens)


# --- Sources in Swedish ---------------------------------------------------------------------------
# data/raw/sources.csv describes the shipped snapshots partly in English (it is the developers'
# provenance record). The reader gets these Swedish descriptions of the same rows; fields not
# listed here are shown as recorded. Sources added later by `medlofte fetch` are translated
# by SOURCE_PHRASES_SV; an English note that matches nothing becomes UNKNOWN_NOTE_SV.
SOURCES_SV: dict[str, dict[str, str]] = {
    "bra_lagesbild_dalarna": {
        "origin": "https://github.com/Region-Dalarna/brott/blob/"
        "b4c5b4652ef340f60184d2f484a97fd953e6d59c/app/data/bra_kommunindikatorer.rds (Region "
        "Dalarnas nedladdning från https://bra.se/statistik/indikatorer-for-kommuners-lagesbild)",
        "retrieved": "okänt datum (Region Dalarnas kodförråd, version b4c5b465)",
        "note": "Brå:s siffror för Dalarna, inte för Uppsala län. NTU: en rad per år, så som "
        "Region Dalarnas inläsning tolkade Brå:s årsrader (kommunernas NTU-värden kan bygga på "
        "sammanslagna år; se Brå:s dokumentation). CSV-filen är härledd ur .rds-filen (som "
        "ligger bredvid).",
    },
    "bra_sol_jensfinnas": {
        "publisher": "Brå (Brottsförebyggande rådet) och Kolada (RKA)",
        "title": "Brå:s regionkoder (SOL), Brå anmälda brott hela landet 2000–2016, Kolada "
        "N01951 befolkning 2010–2016",
        "retrieved": "2017-03-20 (datum för kodförrådets version)",
        "note": "Gammal (slutar 2016). Befolkningsfilen anger kommunerna med namn, inte kod.",
    },
    "kolada_juvahem": {
        "origin": "https://github.com/Cortxt-io/juvahem/tree/"
        "6d7ccbae573f3ac0208a67f5ef4dcfddf433d4ed/data/communes (hämtat från "
        "https://api.kolada.se/v3 den 16–17 juni 2026)",
        "title": "Kolada N07540 (anmälda brott totalt per 100 000 invånare) och N01951 "
        "(invånare totalt), 2025, alla 290 kommuner",
        "note": "Bara ett år (2025). CSV-filen är härledd ur JSON-filerna (som ligger bredvid).",
    },
    "kolada_rkolada": {
        "title": "Koladas metadata: nyckeltal, kommunlista och kommungrupper (API v3)",
        "retrieved": "2026-04-16 (datum för kodförrådets version)",
        "note": "Bara metadata, inga värden för Knivsta. CSV-filerna är härledda ur .rda-filen "
        "(som ligger bredvid).",
    },
    "web_pages_transcribed": {
        "publisher": "Flera (SCB, Brå, Polisen, Region Uppsala, citerade av tidningar och "
        "offentliga sidor)",
        "title": "Siffror avskrivna från offentliga webbsidor",
        "origin": "Se källadressen på varje rad",
        "retrieved": "se sidans datum på varje rad",
        "licence": "Citat ur officiell statistik",
        "attribution": "Se utgivaren på varje rad",
        "note": "Sekundära citat av officiella siffror: bara bakgrund och kontroll, blandas "
        "aldrig in i en primär serie.",
    },
}
SOURCE_PHRASES_SV: tuple[tuple[str, str], ...] = (
    (
        r"Downloaded by hand as (.+); registered with `medlofte fetch`\.",
        r"Nedladdad för hand som \1 och registrerad med medlofte fetch.",
    ),
    (r"Typed in by hand from the reports into (.+)\.", r"Inskriven för hand ur rapporterna i \1."),
    (
        r"(\d+) page\(s\) saved unchanged, following next_url\.",
        r"\1 svarssidor sparade oförändrade.",
    ),
    (r"POST body: .*", "Frågan till SCB sparas bredvid svaret."),
    (
        r"^Kolada API v3: KPI (.+) for (.+), years (.+)$",
        r"Kolada API v3: nyckeltal \1 för \2, åren \3",
    ),
    (r", table BefolkningNy", ", tabell BefolkningNy"),
    (r", by age and sex", ", efter ålder och kön"),
)


def source_sv(source: dict[str, str]) -> dict[str, str]:
    """A row of sources.csv with every reader-facing field in Swedish."""
    row = {**source, **SOURCES_SV.get(source.get("source_id", ""), {})}
    for key in ("title", "note", "publisher", "retrieved", "origin"):
        text = row.get(key, "")
        for pattern, replacement in SOURCE_PHRASES_SV:
            text = re.sub(pattern, replacement, text)
        row[key] = text
    row["note"] = note_sv(row["note"]) if row.get("note") else ""
    return row


# --- Numbers -------------------------------------------------------------------------------------


def _p(value: float) -> str:
    if value is None or not math.isfinite(value):
        return MISSING
    return "<" + number(0.001, 3) if value < 0.001 else number(value, 3)


def _interval(low: float, high: float, digits: int = 2) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return MISSING
    return f"{number(low, digits)} till {number(high, digits)}"


def _is_ratio(kind: str) -> bool:
    return kind.startswith("kvot")


def _mde(row: pd.Series) -> str:
    up, down = row["mde_increase"], row["mde_decrease"]
    if not math.isfinite(up):
        return MISSING
    if _is_ratio(row["estimate_kind"]):
        low = percent_change(down) if math.isfinite(down) and down > 0 else "ingen minskning"
        return f"{percent_change(up)} eller {low}"
    return f"±{number(up, 1)} procentenheter"


def _change(row: pd.Series) -> str:
    """The headline estimate as a change a reader understands: '+31 %' or '+4,4 procentenheter'."""
    estimate = row["estimate"]
    if not math.isfinite(estimate):
        return MISSING
    if _is_ratio(row["estimate_kind"]):
        return percent_change(estimate)
    return f"{number(estimate, 1, sign=True)} procentenheter"


def _change_interval(row: pd.Series) -> str:
    low, high = row["ci_lower"], row["ci_upper"]
    if not (math.isfinite(low) and math.isfinite(high)):
        return MISSING
    if _is_ratio(row["estimate_kind"]):
        return f"{percent_change(low)} till {percent_change(high)}"
    return f"{number(low, 1, sign=True)} till {number(high, 1, sign=True)}"


def _plain_kind(kind: str) -> str:
    """The kind of estimate without jargon ('takt' is the number per inhabitant)."""
    return kind.replace("takt efter/före", "antal per invånare efter/före")


# --- Tables --------------------------------------------------------------------------------------

_NUMERIC = re.compile(r"^[<±+\-−]?[\d\u202f\u00a0]*\d(,\d+)?(\u00a0%)?$")


def _captioned(frame: pd.DataFrame, caption: str, source: str) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.attrs = {"caption": caption, "source": source}
    return frame


#: The one row of a table without rows.
NO_ROWS = "Inga uppgifter att visa."

#: The text column whose cells average the most characters, if more than this, is running
#: text (a note): the printed page gives it a line of its own under the other columns (class
#: ``lang``, see the report's CSS).
_LONG_TEXT = 80


def _breakable(text: str) -> str:
    """Escaped cell text that may break after a slash ("kommunen/jämförelsegruppen"): in a
    narrow printed column such a word otherwise breaks anywhere."""
    return text.replace("/", "/<wbr>")


def table_html(table: pd.DataFrame, table_id: str = "") -> str:
    """A table as HTML: every header and cell escaped; number columns right-aligned; the
    running text column, if any, marked ``lang`` (and the table ``med-anmarkning
    kolumner-N``, N the other columns); each cell names its column in ``data-label`` (on a
    phone a row is a card, each value beside its column's name: report CSS)."""
    columns = [str(c) for c in table.columns]
    cells = table.astype(object).where(table.notna(), MISSING).astype(str)
    numeric = [
        bool(len(cells)) and all(_NUMERIC.match(v) or v == MISSING for v in cells[column])
        for column in table.columns
    ]
    lengths = [
        0.0 if is_number or not len(cells) else float(cells[column].str.len().mean())
        for column, is_number in zip(table.columns, numeric, strict=True)
    ]
    longest = int(np.argmax(lengths)) if lengths and max(lengths) > _LONG_TEXT else -1
    kinds = [
        "tal" if is_number else "text lang" if k == longest else "text"
        for k, is_number in enumerate(numeric)
    ]
    labels = [html_text(c) for c in columns]
    head = "".join(
        f'<th class="{kind}">{label}</th>' for label, kind in zip(labels, kinds, strict=True)
    )
    rows = [
        "<tr>"
        + "".join(
            f'<td class="{kind}" data-label="{label}">{_breakable(html_text(v))}</td>'
            for v, kind, label in zip(values, kinds, labels, strict=True)
        )
        + "</tr>"
        for values in cells.itertuples(index=False)
    ]
    if not rows:  # an empty table says so, rather than printing its headers alone
        rows = [f'<tr><td class="text" colspan="{len(columns)}">{html_text(NO_ROWS)}</td></tr>']
    identifier = f' id="{html_text(table_id)}"' if table_id else ""
    # With a note: on the printed page and in narrow windows the note gets a line of its own
    # under the other columns (report CSS, classes med-anmarkning and kolumner-N).
    layout = f" med-anmarkning kolumner-{len(columns) - 1}" if longest >= 0 else ""
    return (
        f'<table class="tabell{layout}"{identifier}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def caption_html(kind: str, caption: str, source: str) -> str:
    """A numbered caption ("Figur." / "Tabell."; the report numbers them) and its source."""
    return (
        f'<p class="bildtext"><span class="nr" data-typ="{html_text(kind)}">'
        f"{html_text(kind)}.</span> {html_text(caption)}</p>"
    )


def source_html(source: str) -> str:
    """The "Källa:" line under a figure or table."""
    return f'<p class="kalla">Källa: {html_text(source or "se avsnittet Källor")}</p>'


def show(table: pd.DataFrame, table_id: str = "", caption: str = "", source: str = "") -> HTML:
    """Display a table with its numbered caption above and its "Källa:" line below.

    The caption and source are taken from the arguments, else from `table.attrs` (set by the
    table functions of this module).
    """
    caption = caption or table.attrs.get("caption", "")
    source = source or table.attrs.get("source", "")
    return HTML(
        '<div class="tabellblock">'
        + caption_html("Tabell", caption, source)
        + '<div class="tabellram">'
        + table_html(table, table_id)
        + "</div>"
        + source_html(source)
        + "</div>"
    )


def show_figure(figure: object, caption: str, source: str) -> None:
    """Display a figure, then its numbered caption and "Källa:" line; the figure is closed."""
    import matplotlib.pyplot as plt

    display(figure, metadata={"alt": caption})
    plt.close(figure)  # type: ignore[arg-type]
    display(HTML(caption_html("Figur", caption, source) + source_html(source)))


def _sources_of(evaluation: Evaluation, indicators: Iterable[str]) -> str:
    catalog = evaluation.inputs.catalog.set_index("indicator_id")
    names = sorted(
        {
            SOURCE_NAMES_SV.get(catalog.loc[i, "source"], catalog.loc[i, "source"])
            for i in indicators
        }
    )
    return "; ".join(names)


def _calculated_from(evaluation: Evaluation, indicators: Iterable[str]) -> str:
    sources = _sources_of(evaluation, indicators)
    return f"egna beräkningar (medlofte-analysis) på uppgifter från {sources or 'källorna'}"


# --- Context -------------------------------------------------------------------------------------


def intro_markdown(evaluation: Evaluation) -> str:
    """Who is evaluated, when, against whom, and (for demonstrations) what this is not."""
    config = evaluation.config
    lines = [
        f"**{markdown_text(evaluation.municipality_name)}** (kommunkod "
        f"{markdown_text(config.municipality)}). Basår: **{years_label(config.baseline_years)}**; "
        f"uppföljning: **{years_label(config.followup_years)}**; förperiod för trender: "
        f"{config.pre_period[0]}–{config.pre_period[1]}.",
    ]
    if evaluation.comparison:
        names = ", ".join(markdown_text(evaluation.name_of(c)) for c in evaluation.comparison)
        group = (
            f"Koladas grupp *{markdown_text(evaluation.comparison_title)}*: "
            if evaluation.comparison_title
            else ""
        )
        count = count_noun(len(evaluation.comparison), "kommun", "kommuner")
        lines.append(f"Jämförelsegrupp ({count}): {group}{names}.")
    if config.comparison.county:
        county = markdown_text(evaluation.name_of(config.comparison.county))
        lines.append(f"Enkätindikatorer jämförs med {county} (länet).")
    if config.kind == "demonstration":
        lines.append(f"> **Demonstration.** {markdown_text(config.note)}")
    elif config.note:
        lines.append(markdown_text(config.note))
    return "\n\n".join(lines)


# --- Results -------------------------------------------------------------------------------------


def results_table(evaluation: Evaluation, focus_area: str) -> pd.DataFrame:
    """Every method's result for the indicators of one focus area, rounded, in Swedish."""
    rows = evaluation.results.loc[evaluation.results["focus_area"] == focus_area]
    table = pd.DataFrame(
        {
            "Mått (källa)": rows["name_sv"]
            + rows["primary"].map({True: " (primärt)", False: ""})
            + " – "
            + rows["source_sv"],
            "Metod (nivå)": rows["method_sv"] + " (nivå " + rows["msms_level"].astype(str) + ")",
            "Skattning (95 %-intervall)": [
                f"{_plain_kind(kind)}: {number(e)} ({_interval(lo, hi)})"
                if math.isfinite(e)
                else MISSING
                for kind, e, lo, hi in zip(
                    rows["estimate_kind"],
                    rows["estimate"],
                    rows["ci_lower"],
                    rows["ci_upper"],
                    strict=True,
                )
            ],
            "p (q)": [
                f"{_p(p)} ({_p(q)})" if math.isfinite(p) else MISSING
                for p, q in zip(rows["p_value"], rows["q_value"], strict=True)
            ],
            "Minsta upptäckbara förändring": [_mde(row) for _, row in rows.iterrows()],
            "Bedömning": rows["verdict"].map(VERDICTS_SV),
            "Anmärkning": rows["note"].map(note_sv),
        }
    )
    name = FOCUS_AREAS.get(focus_area, focus_area)
    return _captioned(
        table,
        f"{name}: resultat per mått och metod",
        _calculated_from(evaluation, rows["indicator_id"]),
    )


def _observed(evaluation: Evaluation, indicator: str, years: tuple[int, ...]) -> float:
    """The municipality's mean value over `years`, or NaN unless every year has a value."""
    frame = evaluation.inputs.indicators
    rows = frame.loc[
        (frame["indicator_id"] == indicator)
        & (frame["municipality_code"] == evaluation.config.municipality)
        & frame["year"].isin(years)
        & frame["value"].notna()
    ]
    if rows["year"].nunique() < len(set(years)):
        return math.nan
    return float(rows["value"].mean())


def _value_with_unit(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "saknas"
    unit_sv = UNIT_SV.get(unit, unit)
    digits = 1 if unit_sv in ("%", "index") else 0
    return (
        f"{number(value, digits)}\u00a0{unit_sv}"
        if unit_sv == "%"
        else (f"{number(value, digits)} {unit_sv}")
    )


def _primary_headlines(evaluation: Evaluation) -> pd.DataFrame:
    head = evaluation.results.loc[evaluation.results["headline"] & evaluation.results["primary"]]
    order = {k: i for i, k in enumerate(FOCUS_AREAS)}
    return head.assign(order=head["focus_area"].map(order)).sort_values("order", kind="mergesort")


def scorecard_html(evaluation: Evaluation) -> HTML:
    """Resultattavla: one row per primary outcome, baseline → follow-up value, change,
    interval and verdict (symbol, word and colour)."""
    config = evaluation.config
    catalog = evaluation.inputs.catalog.set_index("indicator_id")
    before_label, after_label = (
        years_label(config.baseline_years),
        years_label(config.followup_years),
    )
    # Each cell names its column in data-label: on a phone a row is a card (report CSS).
    headers = [
        html_text(header)
        for header in (
            "Primärt utfall",
            f"Före ({before_label}) → efter ({after_label})",
            "Förändring",
            "95 %-intervall",
            "Bedömning",
        )
    ]
    rows: list[str] = []
    series = config.extra.get("series", {})
    for _, row in _primary_headlines(evaluation).iterrows():
        unit = catalog.loc[row["indicator_id"], "unit"]
        # The follow-up this indicator's source covers (shortened when a year is unpublished).
        choice = series.get(row["indicator_id"])
        followup = choice.followup_years if choice else config.followup_years
        before = _value_with_unit(
            _observed(evaluation, row["indicator_id"], config.baseline_years), unit
        )
        after = _value_with_unit(_observed(evaluation, row["indicator_id"], followup), unit)
        if followup != config.followup_years:
            after += f" ({years_label(followup)})"
        symbol, label, css = VERDICT_STYLE.get(
            row["verdict"],
            ("?", VERDICTS_SV.get(row["verdict"], "Kan inte bedömas"), "bedomning-saknas"),
        )
        against = METHOD_PLAIN_SV.get(row["method"], row["method_sv"])
        method = (
            "" if row["verdict"] == "cannot_judge" else f"<br><small>{html_text(against)}</small>"
        )
        area = SHORT_FOCUS_NAMES.get(row["focus_area"], row["focus_area"])
        rows.append(
            "<tr>"
            f'<td class="text" data-label="{headers[0]}"><small>{html_text(area)}</small><br>'
            f"<strong>{html_text(row['name_sv'])}</strong></td>"
            f'<td class="text" data-label="{headers[1]}">'
            f"{html_text(before)} → {html_text(after)}</td>"
            f'<td class="tal" data-label="{headers[2]}">{html_text(_change(row))}{method}</td>'
            f'<td class="tal" data-label="{headers[3]}">{html_text(_change_interval(row))}</td>'
            f'<td class="text {css}" data-label="{headers[4]}">'
            f'<span class="symbol" aria-hidden="true">{symbol}</span> {html_text(label)}</td>'
            "</tr>"
        )
    head = (
        "<tr>"
        + "".join(
            f'<th class="{kind}">{header}</th>'
            for header, kind in zip(headers, ("text", "text", "tal", "tal", "text"), strict=True)
        )
        + "</tr>"
    )
    body = "".join(rows) or '<tr><td colspan="5">Inga primära utfall är valda.</td></tr>'
    source = _calculated_from(evaluation, _primary_headlines(evaluation)["indicator_id"])
    return HTML(
        '<div class="tabellblock resultattavla">'
        + caption_html(
            "Tabell",
            "Resultattavla: de primära utfallen (valda i förväg) före och efter, med förändring, "
            "osäkerhet och bedömning",
            source,
        )
        + '<div class="tabellram"><table class="tabell" id="resultattavla">'
        + f"<thead>{head}</thead><tbody>{body}</tbody></table></div>"
        + source_html(source)
        + "</div>"
    )


def answer_markdown(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> str:
    """The answer in three to five plain sentences, for a board member."""
    primary = _primary_headlines(evaluation)
    judged = primary.loc[primary["verdict"] != "cannot_judge"]
    name = markdown_text(evaluation.municipality_name)
    total = count_noun(len(primary), "primärt utfall", "primära utfall")
    sentences: list[str] = []
    if judged.empty:
        sentences.append(
            f"**Det går ännu inte att säga om löftet har haft effekt i {name}:** inget av "
            f"de {total} som valdes i förväg kan bedömas med de uppgifter som finns."
        )
        sentences.append(
            "Det är inget besked om att insatserna misslyckats, utan om att statistiken för "
            "rätt år saknas i underlaget."
        )
        sentences.append(
            "Avsnittet *Data som saknas* visar vilka uppgifter som fattas och var de hämtas."
        )
    else:
        changed = judged.loc[judged["verdict"] != "no_detectable_change"]
        sentences.append(f"Av {total} kunde {len(judged)} bedömas för {name}.")
        if changed.empty:
            sentences.append(
                "**Inget av dem visar en förändring som går att skilja från slumpen.**"
            )
        else:
            listed = ", ".join(
                f"{markdown_text(r['name_sv']).lower()} ({VERDICTS_SV[r['verdict']].lower()})"
                for _, r in changed.iterrows()
            )
            sentences.append(f"**Förändring som går att skilja från slumpen:** {listed}.")
        ratios = judged.loc[judged["estimate_kind"].map(_is_ratio) & judged["mde_increase"].notna()]
        if len(ratios):
            smallest = float(ratios["mde_increase"].min())
            sentences.append(
                "Talen är små: en förändring hade behövt vara minst "
                f"{percent_change(smallest).lstrip('+')} uppåt för att synas säkert, så "
                "*ingen påvisbar förändring* betyder inte *ingen förändring*."
            )
        if len(judged) < len(primary):
            missing = count_noun(len(primary) - len(judged), "primärt utfall", "primära utfall")
            sentences.append(f"För {missing} saknas data.")
    if implementation.find_log(evaluation.config, manual_dir) is None:
        sentences.append(
            "Om aktiviteterna genomfördes kan inte bedömas, eftersom det saknas en aktivitetslogg."
        )
    if evaluation.config.kind == "demonstration":
        sentences.append("Detta är en demonstration av metoden, inte en utvärdering av ett löfte.")
    return " ".join(sentences[:5])


def scorecard_table(evaluation: Evaluation) -> pd.DataFrame:
    """Every indicator's headline verdict, primary outcomes first."""
    head = evaluation.results.loc[evaluation.results["headline"]].copy()
    head["order"] = head["focus_area"].map({k: i for i, k in enumerate(FOCUS_AREAS)})
    head = head.sort_values(["primary", "order"], ascending=[False, True], kind="mergesort")
    table = pd.DataFrame(
        {
            "Fokusområde": head["focus_area"].map(SHORT_FOCUS_NAMES),
            "Mått": head["name_sv"] + head["primary"].map({True: " (primärt)", False: ""}),
            "Typ": head["kind"].map(KIND_SV),
            "Förändring (95 %-intervall)": [
                f"{_change(row)} ({_change_interval(row)})"
                if math.isfinite(row["estimate"])
                else MISSING
                for _, row in head.iterrows()
            ],
            "Metod (nivå)": head["method_sv"] + " (nivå " + head["msms_level"].astype(str) + ")",
            "Bedömning": [
                f"{VERDICT_STYLE[v][0]} {VERDICTS_SV[v]}" if v in VERDICT_STYLE else v
                for v in head["verdict"]
            ],
        }
    )
    return _captioned(
        table,
        "Alla mått: huvudskattning och bedömning",
        _calculated_from(evaluation, head["indicator_id"]),
    )


def verdict_legend() -> pd.DataFrame:
    """What each symbol of the scorecard means."""
    table = pd.DataFrame(
        [(symbol, VERDICTS_SV[code]) for code, (symbol, _, _) in VERDICT_STYLE.items()],
        columns=["Symbol", "Bedömning"],
    )
    return _captioned(table, "Symbolerna i resultattavlan", "medlofte-analysis")


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
            "avsnittet *Data som saknas*."
        )
    for _, row in head.sort_values("primary", ascending=False, kind="mergesort").iterrows():
        label = "primärt utfall" if row["primary"] else "övrigt mått"
        parts.append(
            f"- **{markdown_text(row['name_sv'])}** ({label}, "
            f"{KIND_SV[row['kind']]}, {DIRECTION_SV[row['desired_direction']]}): "
            f"{markdown_text(note_sv(row['verdict_sv']))}"
        )
    if (judged["verdict"] == "no_detectable_change").any():
        parts.append(
            "\n*Ingen påvisbar förändring* betyder inte *ingen förändring*: för små tal är den "
            "minsta förändring som hade kunnat upptäckas stor, och då är slutsatsen att vi "
            "inte kan avgöra saken."
        )
    return "\n".join(parts)


def gaps_table(evaluation: Evaluation, focus_area: str | None = None) -> pd.DataFrame:
    """Which years are missing for which indicators, and where a user gets them."""
    gaps = evaluation.gaps
    if focus_area is not None:
        gaps = gaps.loc[gaps["focus_area"] == focus_area]
    table = pd.DataFrame(
        {
            "Mått": gaps["name_sv"],
            "Saknade år": gaps["missing_years"],
            "Var uppgifterna finns": gaps["where_to_get"],
        }
    )
    return _captioned(
        table,
        "Data som saknas: mått och år utan värde för kommunen",
        "jämförelse av utvärderingsfilen med de bearbetade tabellerna (data/processed)",
    )


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
        source = catalog.loc[indicator, "source"]
        rows.append(
            {
                "Mått": catalog.loc[indicator, "name_sv"],
                "Källa": SOURCE_NAMES_SV.get(source, source),
                "År i kommunen": _years_text(years),
                "Jämförelsekommuner med data": str(other["municipality_code"].nunique()),
            }
        )
    return _captioned(
        pd.DataFrame(rows),
        "Täckning: år med värden per mått",
        _sources_of(evaluation, evaluation.config.indicators),
    )


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
            "Tillförlitlighet": CONFIDENCE_SV.get(s["confidence"], s["confidence"]),
            "Filer": str(int(files.get(key, 0))),
        }
        for key, s in sorted((k, source_sv(v)) for k, v in read_sources(raw_dir).items())
    ]
    return _captioned(
        pd.DataFrame(rows),
        "Källorna till rapportens siffror",
        "projektets källförteckning (data/raw/sources.csv och manifest.csv)",
    )


def context_figures_table(
    evaluation: Evaluation, processed_dir: Path = PROCESSED_DIR
) -> pd.DataFrame:
    """Secondary figures (quoted on public web pages) for the municipality: context only."""
    frame = pd.read_csv(processed_dir / "context_figures.csv", dtype=str, keep_default_na=False)
    own = frame.loc[frame["area_code"] == evaluation.config.municipality]
    table = pd.DataFrame(
        {
            "År": own["year"],
            "Uppgift": own["indicator"],
            "Värde": own["value"].map(localise_numbers),
            "Enhet": own["unit"],
            "Citerad av": own["publisher_of_figure"],
            "Kvalitet": own["quality"].map({"secondary": "sekundär (citat)"}),
        }
    ).sort_values(["Uppgift", "År"], kind="mergesort")
    return _captioned(
        table,
        "Sekundära uppgifter om kommunen, citerade på webbsidor (bara bakgrund)",
        "webbsidorna i kolumnen Citerad av (data/raw/web_pages_transcribed)",
    )


# --- Implementation (årshjul): thin wrappers over `medlofte_analysis.implementation` ---------


def activity_log(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> pd.DataFrame | None:
    """This evaluation's activity log (its municipality and follow-up), or None without one."""
    return implementation.load_log(evaluation.config, manual_dir)


def implementation_markdown(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> str:
    """What the log says, or that there is none for this evaluation and how to supply it."""
    log = activity_log(evaluation, manual_dir)
    return implementation.implementation_markdown(
        evaluation.config, markdown_text(evaluation.municipality_name), log, manual_dir
    )


def implementation_summary(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> str:
    """The implementation lines of "Svaret i korthet", one per focus area."""
    return implementation.implementation_summary_markdown(
        evaluation.config, markdown_text(evaluation.municipality_name), manual_dir
    )


def show_arshjul(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> None:
    """The årshjul figure with its numbered caption and source; nothing without a log (the
    text beside it says how to supply one)."""
    log = activity_log(evaluation, manual_dir)
    if log is None:
        return
    show_figure(
        implementation.arshjul_figure(log, evaluation.config.followup_years),
        "Årshjulet: planerade aktiviteter per månad och vad som genomfördes (fylld stapel: "
        "genomförd, randig: delvis, tom: inte genomförd)",
        "aktivitetsloggen (kommunen och polisen), data/manual",
    )


# --- End of implementation block ------------------------------------------------------------


def activity_indicators_table(evaluation: Evaluation) -> pd.DataFrame:
    """The headline results of the police-activity indicators (outputs, not outcomes)."""
    results = evaluation.results
    rows = results.loc[results["headline"] & (results["kind"] == "police_activity")]
    table = pd.DataFrame(
        {
            "Mått": rows["name_sv"],
            "Förändring (95 %-intervall)": [
                f"{_change(row)} ({_change_interval(row)})"
                if math.isfinite(row["estimate"])
                else MISSING
                for _, row in rows.iterrows()
            ],
            "Bedömning": rows["verdict"].map(VERDICTS_SV),
        }
    )
    return _captioned(
        table,
        "Polisens aktivitet i statistiken: huvudskattning per mått",
        _calculated_from(evaluation, rows["indicator_id"]),
    )


def _names(evaluation: Evaluation, indicators: Iterable[str]) -> list[str]:
    names = evaluation.inputs.catalog.set_index("indicator_id")["name_sv"]
    return [str(names.get(indicator, indicator)) for indicator in indicators]


def settings_table(evaluation: Evaluation) -> pd.DataFrame:
    """The evaluation's settings as a two-column table."""
    config = evaluation.config
    rows = [
        ("Utvärderingsfil", config.path),
        ("Kommun", f"{evaluation.municipality_name} ({config.municipality})"),
        ("Basår", years_label(config.baseline_years)),
        ("Uppföljning", years_label(config.followup_years)),
        ("Förperiod för trender", f"{config.pre_period[0]}–{config.pre_period[1]}"),
        ("Signifikansnivå", number(config.alpha, 2)),
        ("Jämförelsegrupp", evaluation.comparison_title or "uttrycklig lista"),
        ("Antal jämförelsekommuner", str(len(evaluation.comparison))),
        (
            "Län för enkätjämförelse",
            evaluation.name_of(config.comparison.county) if config.comparison.county else MISSING,
        ),
        ("Primära utfall", ", ".join(_names(evaluation, config.primary)) or "katalogens"),
    ]
    return _captioned(
        pd.DataFrame(rows, columns=["Inställning", "Värde"]),
        "Den här utvärderingens inställningar",
        f"utvärderingsfilen {config.path}",
    )


GLOSSARY_SV: tuple[tuple[str, str], ...] = (
    ("Basår och uppföljning", "Åren före löftet (basår) och åren då löftet gällt (uppföljning)."),
    ("Förperiod", "Åren före basåret som används för att se hur utvecklingen gick innan löftet."),
    (
        "Brott per 100 000 invånare (takt)",
        "Antal anmälda brott delat med folkmängden, så att kommuner av olika storlek kan jämföras.",
    ),
    ("Kvot", "Efter delat med före. 1 betyder ingen förändring, 1,3 en ökning med 30 %."),
    ("Procentenheter", "Skillnaden mellan två andelar: från 20 % till 25 % är 5 procentenheter."),
    (
        "95 %-intervall (konfidensintervall)",
        "Det spann där den verkliga förändringen sannolikt ligger. Ett brett intervall betyder "
        "stor osäkerhet.",
    ),
    ("p-värde", "Hur ovanligt resultatet vore om inget hade förändrats. Litet p = ovanligt."),
    (
        "q-värde",
        "p-värdet justerat för att många mått prövas samtidigt (Benjamini–Hochberg).",
    ),
    (
        "Minsta upptäckbara förändring",
        "Den förändring som hade upptäckts med 80 % sannolikhet (statistisk styrka). Är den "
        "stor säger en utebliven förändring lite.",
    ),
    (
        "Maryland-skalan (nivå)",
        "Hur stark en utvärderingsdesign är, från 1 till 5. Nivå 2: före–efter i kommunen. "
        "Nivå 3: före–efter jämfört med andra kommuner.",
    ),
    (
        "Skillnad i skillnader",
        "Kommunens förändring jämförd med jämförelsegruppens förändring under samma år.",
    ),
    (
        "Syntetisk kontroll",
        "En vägd blandning av jämförelsekommuner som liknar kommunen före löftet; den visar "
        "hur det kunde ha gått utan löftet.",
    ),
    (
        "Genomsnittlig avvikelse före (RMSPE)",
        "Hur väl den syntetiska kontrollen följer kommunen före löftet; liten är bra.",
    ),
    (
        "Överspridning",
        "Mer variation mellan åren än slumpen ensam ger. Den gör intervallen bredare.",
    ),
    ("Mörkertal", "Brott som inte anmäls och därför inte syns i statistiken."),
    ("Primärt utfall", "Ett mått som valdes i förväg som det viktigaste för fokusområdet."),
)


def glossary_table() -> pd.DataFrame:
    """Ordlista: the technical terms of the report in plain Swedish."""
    return _captioned(
        pd.DataFrame(list(GLOSSARY_SV), columns=["Ord", "Betydelse"]),
        "Ordlista",
        "medlofte-analysis",
    )


def summary_markdown(evaluation: Evaluation, manual_dir: Path = MANUAL_DIR) -> str:
    """Every primary outcome in a line: what could be judged, what it showed, what is missing."""
    head = evaluation.results.loc[evaluation.results["headline"]]
    primary = head.loc[head["primary"]]
    judged = primary.loc[primary["verdict"] != "cannot_judge"]
    name = markdown_text(evaluation.municipality_name)
    lines: list[str] = []
    if judged.empty:
        lines.append(
            f"**Underlaget räcker inte för att bedöma något av de {len(primary)} primära "
            f"utfallen för {name}.** Det är inget besked om att löftet saknat effekt: de "
            "tidsserier som behövs finns inte i de data som rapporten byggts på. Listan "
            "*Data som saknas* visar vilka serier och år som fattas och var de hämtas."
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
                f"- **{markdown_text(row['name_sv'])}**: "
                f"{VERDICTS_SV[row['verdict']].lower()} "
                f"({markdown_text(row['method_sv'])}; skattning {number(row['estimate'])}, "
                f"95 %-intervall {_interval(row['ci_lower'], row['ci_upper'])}, "
                f"q = {_p(row['q_value'])}{detectable})."
            )
        missing = len(primary) - len(judged)
        if missing:
            lines.append(f"\n{missing} primära utfall kunde inte bedömas (data saknas).")
        level = int(judged["msms_level"].max())
        lines.append(f"\nStarkaste design: nivå {level} på Maryland-skalan.")
    lines.append("\n" + implementation_summary(evaluation, manual_dir))
    return "\n".join(lines)


# --- Text that follows the municipality evaluated ---------------------------------------------


def pledge_markdown(evaluation: Evaluation, focus_area: str) -> str:
    """The pledge's words for a focus area; when another municipality is evaluated on these
    focus areas, whose pledge they come from."""
    config = evaluation.config
    # The pledge's words come from the evaluation file: shown as text (italic), never markup.
    text = markdown_text(config.pledge.get(focus_area, "").replace("*", ""))
    if not text:
        return f"Fokusområde: *{FOCUS_AREAS[focus_area]}*."
    text = f"*{text}*"
    if config.pledge_municipality in ("", config.municipality):
        return f"Löftet: {text}"
    owner = markdown_text(genitive(evaluation.name_of(config.pledge_municipality)))
    target = markdown_text(evaluation.municipality_name)
    return f"{owner} löfte, vars fokusområde här används för {target}: {text}"


def municipality_population(evaluation: Evaluation) -> float:
    """The municipality's newest population in the indicator table (NaN if none)."""
    rows = evaluation.inputs.indicators
    own = rows.loc[
        (rows["municipality_code"] == evaluation.config.municipality) & rows["population"].notna()
    ]
    if own.empty:
        return math.nan
    return float(own.loc[own["year"] == own["year"].max(), "population"].iloc[0])


def _about(population: float) -> str:
    """60 000 for 59 964; 2 significant figures, thin space as thousands separator."""
    digits = max(int(math.floor(math.log10(population))) - 1, 0)
    return integer(round(population, -digits))


def size_note_sv(evaluation: Evaluation) -> str:
    """How large a change the before–after comparison could detect, for this municipality's
    size and from its own data (the median over the rates where it could be computed)."""
    population = municipality_population(evaluation)
    who = (
        f"För en kommun med omkring {_about(population)} invånare"
        if math.isfinite(population) and population > 0
        else "För den här kommunen"
    )
    rows = evaluation.results
    mde = rows.loc[
        (rows["method"] == "fore_efter") & rows["estimate_kind"].str.startswith("kvot"),
        "mde_increase",
    ].dropna()
    if mde.empty:
        return f"{who} kan den inte räknas ut här: basårets antal saknas."
    median = float(mde.median())
    return (
        f"{who} är den här omkring {percent_change(median)} (median över de {len(mde)} "
        "mått där den kunde räknas ut)."
    )


def reading_guide_markdown(evaluation: Evaluation) -> str:
    """'Så ska resultatet läsas': how to read the verdicts, with the municipality's own size."""
    return "\n".join(
        [
            "- *Ingen påvisbar förändring* betyder inte att inget hänt: se den minsta förändring "
            f"som hade kunnat upptäckas. {size_note_sv(evaluation)}",
            "- Narkotika- och trafikbrott mäter polisens aktivitet. En ökning tyder på att "
            "löftet genomförts.",
            "- Våld i nära relation har stort mörkertal. Fler anmälningar kan betyda ökad "
            "medvetenhet.",
            "- Maryland-skalan: nivå 2 är före–efter i kommunen, nivå 3 med jämförelsegrupp. "
            "Ingen nivå bevisar orsakssamband.",
            "- Utan uppgifter om vad som faktiskt gjordes (årshjulet) kan vi inte skilja "
            "*fungerade inte* från *genomfördes inte*: se avsnittet om genomförande.",
            "- Symbolerna i resultattavlan: ▼ förbättring, ▲ försämring (eller mer polisiär "
            "aktivitet), ◆ tvetydig förändring, ○ ingen påvisbar förändring, = endast "
            "beskrivande, ? kan inte bedömas.",
        ]
    )


# --- Figures with captions -----------------------------------------------------------------------


def _has_values(evaluation: Evaluation, indicator: str) -> bool:
    """True when the municipality or a comparison municipality has a value for `indicator`."""
    frame = evaluation.inputs.indicators
    codes = (evaluation.config.municipality, *evaluation.comparison)
    return bool(
        (
            (frame["indicator_id"] == indicator)
            & frame["municipality_code"].isin(codes)
            & frame["value"].notna()
        ).any()
    )


def show_trends(evaluation: Evaluation, focus_area: str) -> None:
    """Each indicator of a focus area over time, with its numbered caption and source.

    Indicators without any value, for the municipality or its comparison group, get no empty
    figure: one sentence names them."""
    from medlofte_analysis import plots

    catalog = evaluation.inputs.catalog.set_index("indicator_id")
    missing: list[str] = []
    for indicator in evaluation.config.focus_areas.get(focus_area, ()):
        name = catalog.loc[indicator, "name_sv"]
        if not _has_values(evaluation, indicator):
            missing.append(name)
            continue
        caption = (
            f"{name}: {evaluation.municipality_name} per år jämfört med jämförelsegruppen "
            "(streckad linje: median; grått fält: lägsta till högsta värde)"
        )
        show_figure(
            plots.trend_figure(evaluation, indicator), caption, _sources_of(evaluation, [indicator])
        )
    if missing:
        display(
            HTML(
                '<p class="saknas">Inget diagram för '
                + html_text("; ".join(missing))
                + f": varken {html_text(evaluation.municipality_name)} eller jämförelsegruppen "
                "har några värden (se avsnittet Data som saknas).</p>"
            )
        )


def show_estimates(evaluation: Evaluation, focus_area: str | None = None) -> None:
    """The headline estimate of each indicator with its 95 % interval (forest plot); the
    primary outcomes when no focus area is given."""
    from medlofte_analysis import plots

    results = evaluation.results
    if focus_area is None:
        rows = results.loc[results["primary"]]
        title = "Primära utfall: huvudskattning med 95 %-intervall"
    else:
        rows = results.loc[results["focus_area"] == focus_area]
        title = f"{FOCUS_AREAS.get(focus_area, focus_area)}: huvudskattning med 95 %-intervall"
    if not (rows["headline"] & rows["estimate"].notna()).any():
        display(HTML('<p class="saknas">Inga skattningar att visa: data saknas för måtten.</p>'))
        return
    show_figure(
        plots.forest_figure(rows, title),
        title,
        _calculated_from(evaluation, rows["indicator_id"].unique()),
    )
