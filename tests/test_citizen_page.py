"""The citizen page: one A4 page, plain Swedish without statistics jargon, accessible HTML."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pandas as pd
import pypdf
import pytest

from medlofte_analysis.citizen_page import (
    VERDICT_SENTENCES,
    citizen_page_data,
    citizen_page_html,
    done_text,
    plain_verdict,
    write_citizen_page,
)
from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.publication import NO_CONTACT, publication_info
from medlofte_analysis.typst_pdf import text

CONFIGS = ("evaluations/knivsta-2024-2025.toml", "evaluations/demo-dalarna.toml")
DATE = dt.date(2026, 11, 27)
# Words a citizen should not meet (the report's glossary explains them).
JARGON = (
    "p-värde",
    "q-värde",
    "konfidensintervall",
    "prediktionsintervall",
    "intervall",
    "signifikan",
    "RMSPE",
    "Maryland",
    "SMS",
    "syntetisk kontroll",
    "skillnad i skillnader",
    "kvot",
    "överspridning",
    "Poisson",
    "standardfel",
    "nollhypotes",
    "Benjamini",
    "styrka",
    "takt",
    "pe",
    "primär",
    "indikator",
    "95 %",
)
WHOLE_WORDS = {"pe", "SMS", "takt", "kvot", "95 %"}  # the others also match as word starts


@pytest.fixture(scope="module", params=CONFIGS)
def written(request, tmp_path_factory):
    evaluation = run_evaluation(request.param)
    info = publication_info(evaluation, DATE, "medlofte-analysis 0.0.0")
    folder = tmp_path_factory.mktemp("medborgare")
    return evaluation, write_citizen_page(evaluation, folder, info, manual_dir=folder)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._skip = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._skip = tag in ("style", "title")

    def handle_endtag(self, tag):
        self._skip = False

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _read(path) -> _Reader:
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8"))
    return reader


def _jargon_in(text: str) -> list[str]:
    def pattern(word: str) -> str:
        return rf"(?<!\w){re.escape(word)}" + (r"(?!\w)" if word in WHOLE_WORDS else "")

    return [w for w in JARGON if re.search(pattern(w), text, re.IGNORECASE)]


def test_the_pdf_is_one_a4_page(written):
    reader = pypdf.PdfReader(written[1][1])
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_the_page_is_rendered_to_an_artifact(written):
    import io

    import pypdfium2 as pdfium

    from medlofte_analysis.config import PROJECT_ROOT

    evaluation, (_, pdf) = written
    target = PROJECT_ROOT / "test-artifacts" / f"medborgarsida-{evaluation.config.id}.png"
    target.parent.mkdir(exist_ok=True)
    document = pdfium.PdfDocument(io.BytesIO(pdf.read_bytes()))
    try:
        document[0].render(scale=1.5).to_pil().save(target)
    finally:
        document.close()
    assert target.stat().st_size > 10_000


def test_the_pdf_has_the_title_and_every_focus_area(written):
    evaluation, (_, pdf) = written
    text = " ".join(pypdf.PdfReader(pdf).pages[0].extract_text().split())
    assert "Följ med i hur det går!" in text
    for heading in ("Unga med normbrytande beteende", "Våld i nära relation"):
        assert heading in text
    assert "Det här lovade vi" in text and "Det här gjordes" in text


def test_no_statistics_jargon_in_the_html_or_the_pdf(written):
    _, (html_path, pdf) = written
    html_text = " ".join(_read(html_path).text)
    pdf_text = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert _jargon_in(html_text) == []
    assert _jargon_in(pdf_text) == []


def test_the_jargon_check_finds_jargon():
    assert _jargon_in("Konfidensintervallet och p-värdet") == ["p-värde", "konfidensintervall"]
    assert _jargon_in("Takt 3 pe, primära utfall") == ["takt", "pe", "primär"]
    assert _jargon_in("per 100 000 invånare, personer") == []


def test_html_is_swedish_with_one_h1_and_a_heading_per_focus_area(written):
    evaluation, (html_path, _) = written
    tags = _read(html_path).tags
    assert ("html", {"lang": "sv"}) in tags
    assert [t for t, _ in tags].count("h1") == 1
    areas = [a for a in evaluation.config.focus_areas if a != "kontext"]
    assert [t for t, _ in tags].count("h2") == len(areas)
    assert all("alt" in attrs for tag, attrs in tags if tag == "img")
    assert not any(tag in ("script", "link") for tag, _ in tags)  # nothing fetched


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_colour_of_the_page_meets_wcag_aa_contrast_on_white(written):
    html_text = written[1][0].read_text(encoding="utf-8")
    colours = set(re.findall(r"(?<!background: )#[0-9a-fA-F]{6}", html_text)) - {"#ffffff"}
    assert colours
    for colour in colours:
        ratio = (1.0 + 0.05) / (_luminance(colour) + 0.05)
        assert ratio >= 4.5, (colour, round(ratio, 2))


def test_the_contact_is_given_or_said_to_be_missing(written):
    assert NO_CONTACT in " ".join(_read(written[1][0]).text)


def test_knivsta_promises_are_the_pledges_words():
    evaluation = run_evaluation("evaluations/knivsta-2024-2025.toml")
    data = citizen_page_data(evaluation, publication_info(evaluation, DATE, "v"))
    html_text = citizen_page_html(data)
    assert "Insatser i samverkan mot narkotika." in html_text
    assert "besök på skolor" in html_text


def test_the_html_page_keeps_a_number_and_its_per_cent_sign_together():
    evaluation = run_evaluation("evaluations/knivsta-2024-2025.toml")
    data = citizen_page_data(evaluation, publication_info(evaluation, DATE, "v"))
    data["intro"] = [[text("Säkerheten är 95 %.")]]
    html_text = citizen_page_html(data)
    assert "95\u00a0%" in html_text and not re.search(r"\d %", html_text)


def test_without_an_activity_log_the_page_says_so(tmp_path):
    evaluation = run_evaluation("evaluations/knivsta-2024-2025.toml")
    assert "ingen sammanställning" in done_text(evaluation, "narvaro", tmp_path)


def test_with_an_activity_log_the_page_counts_what_was_done(activity_log_dir):
    evaluation = run_evaluation("evaluations/knivsta-2024-2025.toml")
    assert done_text(evaluation, "narvaro", activity_log_dir) == (
        "Av 2 planerade aktiviteter genomfördes 1, 1 delvis och 0 inte."
    )
    assert done_text(evaluation, "narkotika", activity_log_dir) == (
        "En aktivitet var planerad. Den genomfördes inte."
    )
    assert done_text(evaluation, "unga", activity_log_dir) == (
        "Aktivitetsloggen har inga aktiviteter för området."
    )


@pytest.mark.parametrize(
    ("verdict", "note", "kind", "rise", "expected"),
    [
        ("cannot_judge", "saknar värden för 2024", "kvot (takt efter/före)", 2.0, "missing"),
        ("cannot_judge", "inga anmälda händelser under perioderna", "kvot", 2.0, "no_events"),
        ("no_detectable_change", "", "kvot (takt efter/före)", 2.4, "no_change_few"),
        ("no_detectable_change", "", "kvot (takt efter/före)", 1.3, "no_change"),
        ("no_detectable_change", "", "skillnad i procentenheter", 4.0, "no_change"),
        ("improvement", "", "kvot", 1.3, "improvement"),
        ("more_enforcement", "", "kvot", 1.3, "more_enforcement"),
    ],
)
def test_each_verdict_has_a_plain_sentence(verdict, note, kind, rise, expected):
    row = pd.Series({"verdict": verdict, "note": note, "estimate_kind": kind, "mde_increase": rise})
    assert plain_verdict(row) == expected
    assert VERDICT_SENTENCES[expected]


def test_the_html_prints_on_one_a4_page_in_a_real_browser(written, tmp_path):
    # Chromium's print to PDF uses the page's print stylesheet (A4).
    import subprocess

    from test_report_browser import TIMEOUT_SECONDS, find_chromium

    html_path = written[1][0]
    printed = tmp_path / "utskrift.pdf"
    subprocess.run(
        [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
            f"--print-to-pdf={printed}",
            html_path.as_uri(),
        ],
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )
    assert len(pypdf.PdfReader(printed).pages) == 1
