"""The A4 PDF of the report, read back with a PDF reader (pypdf) and rendered (pdfium).

Made once per module from the executed demonstration notebooks committed in
reports/demo-dalarna/notebooks, with a fixed date and version. A rendered page is saved to
test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from pathlib import Path

import pypdf
import pytest

from medlofte_analysis import typst_pdf
from medlofte_analysis.config import PROJECT_ROOT
from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.publication import NO_CONTACT, publication_info
from medlofte_analysis.report import REPORT_ORDER
from medlofte_analysis.report_pdf import TEMPLATE, report_document, write_report_pdf
from medlofte_analysis.typst_pdf import query

DATE = dt.date(2026, 11, 27)
VERSION = "medlofte-analysis 0.0.0, commit abc1234"
NOTEBOOKS = [PROJECT_ROOT / "reports" / "demo-dalarna" / "notebooks" / n for n in REPORT_ORDER]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def info():
    evaluation = run_evaluation("evaluations/demo-dalarna.toml")
    return publication_info(evaluation, DATE, VERSION)


@pytest.fixture(scope="module")
def pdf_path(info, tmp_path_factory) -> Path:
    return write_report_pdf(NOTEBOOKS, tmp_path_factory.mktemp("pdf") / "demo.pdf", info)


@pytest.fixture(scope="module")
def pages(pdf_path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(pdf_path).pages]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pages_are_a4(pdf_path):
    for page in pypdf.PdfReader(pdf_path).pages:
        width, height = sorted((float(page.mediabox.width), float(page.mediabox.height)))
        assert (round(width), round(height)) == (595, 842)  # 210 × 297 mm in points


def test_cover_has_the_dates_the_version_and_the_contact(pages):
    cover = pages[0]
    for expected in (
        "Metoddemonstration",
        "Mora (kommunkod 2062)",
        "Datum för data",
        "källorna hämtade senast",
        "Rapportens datum",
        "2026-11-27",
        VERSION,
        NO_CONTACT,
    ):
        assert expected in cover, expected


def test_every_page_after_the_cover_says_its_number(pages):
    assert "Sida" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert f"Sida {number} av {len(pages)}" in text


def test_the_answer_is_on_the_cover_and_the_summary_follows_it(pages):
    assert "Svaret i korthet" in pages[0] and "Av 7 primära utfall kunde" in pages[0]
    assert "Innehåll" in pages[1] and "Sammanfattning" in pages[1]  # printed contents
    assert "Fråga:" in pages[2]


def test_each_page_holds_every_column_header_of_its_tables(info, pages):
    data, images = report_document(NOTEBOOKS, info)
    marks = query(TEMPLATE, data, "table-page", images)
    tables = {b["id"]: b for b in data["blocks"] if b["type"] == "table"}
    spans: dict[int, list[int]] = {}
    for mark in marks:
        if mark["table"] is not None:
            spans.setdefault(mark["table"], []).append(mark["page"])
    assert set(spans) == set(tables)
    checked = 0
    for table_id, (first, last) in ((k, (min(v), max(v))) for k, v in spans.items()):
        for page in range(first, last + 1):
            text = _squeezed(pages[page - 1])
            for header in tables[table_id]["header"]:
                assert _squeezed(header) in text, (header, page)
                checked += 1
    assert checked > 100


def test_a_contact_in_the_evaluation_file_is_on_the_cover(info, tmp_path):
    with_contact = dataclasses.replace(info, contact="Trygghetssamordnare, 018-00 00 00")
    path = write_report_pdf(NOTEBOOKS[:1], tmp_path / "kontakt.pdf", with_contact)
    cover = pypdf.PdfReader(path).pages[0].extract_text()
    assert "Trygghetssamordnare, 018-00 00 00" in cover
    assert NO_CONTACT not in cover


def test_same_inputs_give_the_same_pdf(info, pdf_path, tmp_path):
    again = write_report_pdf(NOTEBOOKS, tmp_path / "igen.pdf", info)
    assert again.read_bytes() == pdf_path.read_bytes()


def test_the_pdf_carries_the_fixed_creation_date(pdf_path):
    metadata = pypdf.PdfReader(pdf_path).metadata
    assert metadata["/CreationDate"].startswith("D:20261127")


def test_a_rendered_page_is_saved_as_an_artifact(pdf_path, pages):
    import pypdfium2 as pdfium

    table_page = next(i for i, text in enumerate(pages) if "Anmärkning" in text)
    document = pdfium.PdfDocument(io.BytesIO(pdf_path.read_bytes()))
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, name in ((1, "pdf-sida-2.png"), (table_page, "pdf-tabellsida.png")):
            image = document[index].render(scale=1.5).to_pil()
            image.save(ARTIFACTS / name)
            assert image.size[0] > 800 and image.size[1] > 1200  # portrait A4 at 108 dpi
    finally:
        document.close()
    assert (ARTIFACTS / "pdf-tabellsida.png").stat().st_size > 10_000


def test_the_pdf_is_tagged_swedish_with_bookmarks_for_the_headings(pdf_path):
    reader = pypdf.PdfReader(pdf_path)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "sv-SE"
    assert bool(root["/MarkInfo"]["/Marked"])  # tagged PDF (PDF/UA-1) for screen readers
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Sammanfattning" in titles


def test_a_table_too_wide_for_portrait_is_printed_on_a_landscape_page(info):
    from medlofte_analysis.report_pdf import report_pdf_data
    from medlofte_analysis.typst_pdf import compile_pdf, table_block

    header = [f"Kolumnrubrik{i}" for i in range(14)]
    table = table_block(header, [[f"värde{i}" for i in range(14)]] * 3)
    assert table["landscape"]
    data = report_pdf_data(info, [{"type": "paragraph", "content": []}, table])
    reader = pypdf.PdfReader(io.BytesIO(compile_pdf(TEMPLATE, data, info.timestamp)))
    wide = [p for p in reader.pages if float(p.mediabox.width) > float(p.mediabox.height)]
    assert len(wide) == 1
    text = _squeezed(wide[0].extract_text())
    assert all(_squeezed(h) in text for h in header)


def test_captions_are_numbered_in_reading_order_with_the_source_on_its_own_line(pages):
    text = "\n".join(pages)
    assert "Figur 1." in text and "Tabell 1." in text
    assert not re.search(r"\b(Figur|Tabell)\.", text)  # none left unnumbered
    assert re.search(r"^Källa: ", text, flags=re.MULTILINE)


def test_no_table_caption_is_left_alone_at_the_foot_of_a_page(pages):
    for number, text in enumerate(pages, start=1):
        lines = [line for line in text.splitlines() if line.strip()]
        # the last line is the footer ("… Sida N av M"); the one before it is content
        assert not re.match(r"Tabell \d+\. ", lines[-2] if len(lines) > 1 else ""), number


def test_a_number_and_its_per_cent_sign_stay_on_one_printed_line():
    data = {"rows": [["95 %-intervall", "+385 % eller 2 %"]], "title": "100 % "}
    fixed = typst_pdf._unbroken_percent(data)
    assert fixed == {
        "rows": [["95\u00a0%-intervall", "+385\u00a0% eller 2\u00a0%"]],
        "title": "100\u00a0% ",
    }
