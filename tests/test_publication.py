"""Cover facts (dates, version, contact) and the content blocks the PDF is laid out from."""

from __future__ import annotations

import dataclasses
import datetime as dt

from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.evaluation_config import load_config
from medlofte_analysis.publication import NO_CONTACT, publication_info, report_date
from medlofte_analysis.typst_pdf import (
    PORTRAIT_WIDTH_PT,
    column_widths,
    html_blocks,
    markdown_blocks,
)

TOML = """
[evaluation]
id = "test"
municipality = "0330"
baseline_years = [2022]
followup_years = [2024]
pre_period = [2015, 2022]
contact = "Trygghetssamordnare Kim, 018-00 00 00"

[focus_areas.narkotika]
pledge = "Insatser i samverkan mot narkotika."
indicators = ["kolada_n07544"]
"""


def test_contact_and_promises_are_read_from_the_evaluation_file(tmp_path):
    path = tmp_path / "test.toml"
    path.write_text(TOML, encoding="utf-8")
    config = load_config(path)
    assert config.contact == "Trygghetssamordnare Kim, 018-00 00 00"
    assert config.pledge == {"narkotika": "Insatser i samverkan mot narkotika."}


def test_a_missing_contact_is_said_to_be_missing():
    evaluation = run_evaluation("evaluations/demo-dalarna.toml")
    assert publication_info(evaluation, dt.date(2026, 1, 2), "v").contact == NO_CONTACT
    with_contact = dataclasses.replace(
        evaluation, config=dataclasses.replace(evaluation.config, contact="Kim")
    )
    assert publication_info(with_contact, dt.date(2026, 1, 2), "v").contact == "Kim"


def test_data_date_names_the_newest_year_and_retrieval():
    evaluation = run_evaluation("evaluations/demo-dalarna.toml")
    info = publication_info(evaluation, dt.date(2026, 1, 2), "v")
    assert info.data_date.startswith("t.o.m. 20")
    assert "(källorna hämtade senast " in info.data_date


def test_report_date_follows_source_date_epoch():
    assert report_date({"SOURCE_DATE_EPOCH": "1790000000"}) == dt.date(2026, 9, 21)
    assert report_date({}) == dt.datetime.now(tz=dt.UTC).date()


def test_markdown_becomes_headings_paragraphs_lists_and_tables():
    blocks = markdown_blocks(
        "# Rubrik\n\nText **fet**.\n\n- a\n- b\n\n| A | B |\n|---|---|\n| 1 | 2 |"
    )
    assert [b["type"] for b in blocks] == ["heading", "paragraph", "list", "table"]
    assert blocks[1]["content"][1] == {
        "type": "strong",
        "children": [{"type": "text", "text": "fet"}],
    }
    assert blocks[3]["header"] == ["A", "B"] and blocks[3]["rows"] == [["1", "2"]]


def test_a_pandas_table_keeps_its_index_name_in_the_header():
    markup = (
        "<div><style>.x{}</style><table><thead><tr><th></th><th>primära</th><th>övriga</th></tr>"
        "<tr><th>Bedömning</th><th></th><th></th></tr></thead><tbody>"
        "<tr><th>Ingen påvisbar förändring</th><td>7</td><td>15</td></tr></tbody></table></div>"
    )
    (table,) = html_blocks(markup)
    assert table["header"] == ["Bedömning", "primära", "övriga"]
    assert table["rows"] == [["Ingen påvisbar förändring", "7", "15"]]


def test_columns_fill_the_page_and_a_long_header_word_keeps_its_room():
    header = ["Indikator", "Minsta upptäckbara förändring", "p"]
    widths, landscape = column_widths(header, [["Skadegörelse", "+98 %", "0,4"]])
    assert not landscape
    assert abs(sum(widths) - PORTRAIT_WIDTH_PT) < 1
    assert widths[1] > widths[2]


def test_a_table_too_wide_for_portrait_goes_landscape():
    header = [f"Kolumnrubrik{i}" for i in range(14)]
    _, landscape = column_widths(header, [["x"] * 14])
    assert landscape


def test_a_tall_figure_is_narrowed_to_fit_the_page():
    import struct

    from medlofte_analysis.report_pdf import _figure_width

    def header(width: int, height: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", width, height)

    assert _figure_width(header(850, 500)) == 1.0
    assert _figure_width(header(500, 1000)) == round(21 / 34, 3)


def test_an_empty_tables_one_row_is_printed_below_its_header():
    markup = (
        "<table><thead><tr><th>Mått</th><th>Antal</th></tr></thead><tbody>"
        '<tr><td colspan="2">Inga uppgifter att visa.</td></tr></tbody></table>'
    )
    table, note = html_blocks(markup)
    assert table["header"] == ["Mått", "Antal"] and table["rows"] == []
    assert note["content"][0]["text"] == "Inga uppgifter att visa."


def test_a_title_row_and_a_source_row_across_the_table_become_text():
    markup = (
        '<table><thead><tr><th colspan="2">Tabell 1. Resultattavla</th></tr>'
        "<tr><th>Indikator</th><th>Bedömning</th></tr></thead><tbody>"
        "<tr><td>Narkotikabrott</td><td>Kan inte bedömas</td></tr></tbody>"
        '<tfoot><tr><td colspan="2">Källa: Brå</td></tr></tfoot></table>'
    )
    title, table, source = html_blocks(markup)
    assert title["content"][0]["children"][0]["text"] == "Tabell 1. Resultattavla"
    assert table["header"] == ["Indikator", "Bedömning"]
    assert table["rows"] == [["Narkotikabrott", "Kan inte bedömas"]]
    assert source["content"][0]["text"] == "Källa: Brå"
