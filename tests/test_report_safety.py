"""Text from files, the configuration or a server reaches the report as text, never markup
(issue 12, defect 1): an evaluation's note, a municipality name, a Kolada group title and a
survey file's name, each carrying a script, an event handler or a javascript: link.

Each case renders the presentation layer's Markdown with the same renderer the report's
exporter uses, or exports a whole report, and looks for live constructs in the HTML.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from medlofte_analysis import presentation
from medlofte_analysis.errors import InputError
from medlofte_analysis.evaluate import Evaluation, run_evaluation
from medlofte_analysis.manifest import MANIFEST_FIELDS, SOURCE_FIELDS
from medlofte_analysis.report import export_report, live_markup, sources_appendix_markdown

HOSTILE: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[klicka här](javascript:alert(1))",
    "x`<script>alert(2)</script>`y",
    "*a*\n\n<svg onload=alert(3)>",
)


@pytest.fixture(scope="module")
def knivsta() -> Evaluation:
    return run_evaluation("evaluations/knivsta-2024-2025.toml")


def hostile_evaluation(knivsta: Evaluation, text: str) -> Evaluation:
    """Knivsta with `text` as its municipality name, group title and note."""
    municipalities = knivsta.inputs.municipalities.copy()
    municipalities.loc[municipalities["code"] == knivsta.config.municipality, "name"] = text
    inputs = dataclasses.replace(knivsta.inputs, municipalities=municipalities)
    config = dataclasses.replace(knivsta.config, note=text)
    return dataclasses.replace(knivsta, inputs=inputs, config=config, comparison_title=text)


def rendered(markdown: str) -> str:
    return markdown2html_mistune(markdown)


def test_markdown_text_leaves_no_live_markup() -> None:
    for text in HOSTILE:
        assert live_markup(rendered(presentation.markdown_text(text))) == [], text


def test_links_keep_the_spaces_around_them() -> None:
    text = presentation.markdown_text("a https://bra.se (från https://kolada.se) b", links=True)
    assert text == r"a <https://bra.se> \(från <https://kolada.se>\) b"


def test_markdown_text_shows_the_characters_as_written() -> None:
    html = rendered(presentation.markdown_text("a < b & [x](y) *z*"))
    assert html.strip() == "<p>a &lt; b &amp; [x](y) *z*</p>"


def test_links_option_makes_only_web_addresses_links() -> None:
    html = rendered(presentation.markdown_text("se https://bra.se och javascript:alert(1)", True))
    assert '<a href="https://bra.se">' in html
    assert "javascript:alert(1)" in html and live_markup(html) == []


@pytest.mark.parametrize("text", HOSTILE)
def test_note_name_and_group_title_in_the_intro_are_text(knivsta: Evaluation, text: str) -> None:
    html = rendered(presentation.intro_markdown(hostile_evaluation(knivsta, text)))
    assert live_markup(html) == []


@pytest.mark.parametrize("text", HOSTILE)
def test_municipality_name_in_the_answer_and_summary_is_text(
    knivsta: Evaluation, text: str
) -> None:
    evaluation = hostile_evaluation(knivsta, text)
    for markdown in (
        presentation.answer_markdown(evaluation),
        presentation.summary_markdown(evaluation),
    ):
        assert live_markup(rendered(markdown)) == []


def test_a_demonstration_note_is_text(knivsta: Evaluation) -> None:
    evaluation = hostile_evaluation(knivsta, HOSTILE[1])
    evaluation = dataclasses.replace(
        evaluation, config=dataclasses.replace(evaluation.config, kind="demonstration")
    )
    html = rendered(presentation.intro_markdown(evaluation))
    assert live_markup(html) == [] and "&lt;img" in html


def test_table_cells_and_headers_are_text() -> None:
    import pandas as pd

    table = pd.DataFrame({HOSTILE[0]: [HOSTILE[1]], "b": [HOSTILE[2]]})
    html = presentation.show(table, caption=HOSTILE[0], source=HOSTILE[1]).data
    assert live_markup(html) == []


def write_sources(raw_dir: Path, file_name: str) -> None:
    """A raw folder with one survey workbook registered under a hostile file name."""
    raw_dir.mkdir()
    source = {
        "source_id": f"enkater_{file_name}",
        "publisher": "Inmatat av analytiker ur publicerade enkätrapporter",
        "title": f"Enkätresultat ({file_name})",
        "origin": f"https://example.org/{file_name}",
        "retrieved": "2026-01-01",
        "licence": "Enligt respektive rapport",
        "attribution": "Källa: se respektive rapport",
        "confidence": "medium",
        "note": f"Typed in by hand from the reports into {file_name}.",
    }
    with open(raw_dir / "sources.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, SOURCE_FIELDS)
        writer.writeheader()
        writer.writerow(source)
    with open(raw_dir / "manifest.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerow(
            {
                "path": f"enkater/{file_name}",
                "source_id": source["source_id"],
                "sha256": "0" * 64,
                "bytes": "1",
                "kind": "original",
                "derived_from": "",
            }
        )


@pytest.mark.parametrize("text", HOSTILE[:4])
def test_survey_file_name_in_the_sources_appendix_is_text(tmp_path: Path, text: str) -> None:
    write_sources(tmp_path / "raw", f"{text}.xlsx")
    html = rendered(sources_appendix_markdown(tmp_path / "raw"))
    assert live_markup(html) == []


def notebook_with_outputs(folder: Path, markdown: str, html: str) -> Path:
    """An 'executed' notebook whose outputs are a Markdown and an HTML display."""
    cell = new_code_cell("show()", execution_count=1)
    cell.outputs = [
        new_output("display_data", data={"text/markdown": markdown, "text/plain": "md"}),
        new_output("display_data", data={"text/html": html, "text/plain": "html"}),
    ]
    notebook = new_notebook(cells=[new_markdown_cell("# Sammanfattning"), cell])
    path = folder / "01-sammanfattning.ipynb"
    nbformat.write(notebook, path)
    return path


def test_exported_report_with_hostile_inputs_has_no_live_markup(
    knivsta: Evaluation, tmp_path: Path
) -> None:
    text = " ".join(HOSTILE)
    evaluation = hostile_evaluation(knivsta, text)
    write_sources(tmp_path / "raw", f"{HOSTILE[3]}.xlsx")
    notebook = notebook_with_outputs(
        tmp_path,
        presentation.intro_markdown(evaluation) + "\n\n" + presentation.answer_markdown(evaluation),
        presentation.scorecard_html(evaluation).data,
    )
    output = export_report(
        [notebook], tmp_path / "rapport.html", text, sources_appendix_markdown(tmp_path / "raw")
    )
    body = output.read_text(encoding="utf-8")
    assert live_markup(body) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # shown, as text


def test_export_refuses_a_report_with_live_markup(tmp_path: Path) -> None:
    notebook = notebook_with_outputs(tmp_path, "text", "<p onclick=alert(1)>x</p>")
    with pytest.raises(InputError, match="live markup"):
        export_report([notebook], tmp_path / "rapport.html", "Titel", "# Källor")
    assert not (tmp_path / "rapport.html").exists()
