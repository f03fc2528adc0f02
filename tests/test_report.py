"""Report building: executing notebooks with papermill, exporting the standalone HTML report.

Tiny notebooks are made with nbformat in a temporary folder; kernels are started only a few
times (each start-up takes a second or two).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from medlofte_analysis.config import EVALUATIONS_DIR, RAW_DIR
from medlofte_analysis.errors import ConfigError
from medlofte_analysis.manifest import read_sources
from medlofte_analysis.presentation import markdown_text, source_sv
from medlofte_analysis.report import (
    DEFAULT_CONFIG,
    REPORT_ORDER,
    execute_notebook,
    export_report,
    run_report,
    sources_appendix_markdown,
)

PARAMETERS = {"config": "evaluations/test.toml", "municipality": "0330"}
SECRET_CODE = 'print("kod som inte ska synas")'
APPENDIX = "## Bilaga: källor\n\nKälla: Brå (Brottsförebyggande rådet)."


def tiny_notebook(extra_cells: list | None = None) -> nbformat.NotebookNode:
    """A heading, a `parameters` cell, a cell printing a parameter, a figure, a hidden cell."""
    notebook = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    notebook.cells = [
        new_markdown_cell("# Resultattavla för Knivsta\n\nÅäö: brott i nära relation."),
        new_code_cell(
            'config = "evaluations/knivsta-2024-2025.toml"\nmunicipality = ""',
            metadata={"tags": ["parameters"]},
        ),
        new_code_cell('print(f"kommun={municipality} config={config}")'),
        new_markdown_cell("## Diagram över åren"),
        new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(4, 3))\n"
            "ax.plot([2019, 2020, 2021], [3, 1, 2])\n"
            "plt.show()"
        ),
        new_code_cell('print("dold cell")', metadata={"tags": ["remove-in-report"]}),
        new_code_cell(SECRET_CODE),
        *(extra_cells or []),
    ]
    return notebook


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("templates") / "01-test.ipynb"
    nbformat.write(tiny_notebook(), path)
    return path


@pytest.fixture(scope="module")
def executed(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("executed") / template.name
    execute_notebook(template, output, PARAMETERS, timeout=120)
    return output


@pytest.fixture(scope="module")
def second_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 'executed' notebook with the same headings as the first (anchors must stay unique)."""
    notebook = new_notebook()
    notebook.cells = [
        new_markdown_cell(
            "# Resultattavla för Knivsta\n\n## Diagram över åren\n\nText med 95 %-intervall."
        ),
    ]
    path = tmp_path_factory.mktemp("second") / "02-test.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def report_html(executed: Path, second_notebook: Path, tmp_path_factory: pytest.TempPathFactory):
    output = tmp_path_factory.mktemp("report") / "rapport.html"
    export_report([executed, second_notebook], output, "Medborgarlöfte Knivsta", APPENDIX)
    return output.read_text(encoding="utf-8")


def test_execute_injects_parameters(executed: Path) -> None:
    notebook = nbformat.read(executed, as_version=4)
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "kommun=0330 config=evaluations/test.toml" in printed


def test_execute_strips_timing_metadata(executed: Path) -> None:
    notebook = nbformat.read(executed, as_version=4)
    assert "papermill" not in notebook.metadata
    for cell in notebook.cells:
        assert "papermill" not in cell.metadata
        assert "execution" not in cell.metadata
    assert any("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells)


def test_execute_keeps_figure_output(executed: Path) -> None:
    notebook = nbformat.read(executed, as_version=4)
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert any("image/png" in output.get("data", {}) for output in outputs)


def test_execute_twice_gives_identical_json(executed: Path, template: Path, tmp_path) -> None:
    again = tmp_path / "again.ipynb"
    execute_notebook(template, again, PARAMETERS, timeout=120)
    assert json.loads(again.read_text(encoding="utf-8")) == json.loads(
        executed.read_text(encoding="utf-8")
    )
    assert again.read_bytes() == executed.read_bytes()


def test_execute_in_place_with_default_parameters(template: Path, tmp_path: Path) -> None:
    in_place = tmp_path / template.name
    shutil.copy(template, in_place)
    defaults = {"config": "evaluations/knivsta-2024-2025.toml", "municipality": ""}
    execute_notebook(in_place, in_place, defaults, timeout=120)
    notebook = nbformat.read(in_place, as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "config=evaluations/knivsta-2024-2025.toml" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == [template.name]


def test_failing_cell_raises_and_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    nbformat.write(tiny_notebook([new_code_cell("raise RuntimeError('avsiktligt fel')")]), broken)
    output = tmp_path / "out" / "broken.ipynb"
    with pytest.raises(Exception, match="avsiktligt fel"):
        execute_notebook(broken, output, PARAMETERS, timeout=120)
    assert not output.exists()
    assert not output.parent.exists() or not any(output.parent.iterdir())


def test_export_toc_links_every_chapter(report_html: str) -> None:
    nav = report_html[report_html.index('id="innehall"') : report_html.index("</nav>")]
    links = [part.split('"')[0] for part in nav.split('href="#')[1:]]
    assert links == ["resultattavla-for-knivsta", "resultattavla-for-knivsta-2"]


def test_export_gives_every_heading_a_unique_anchor(report_html: str) -> None:
    for anchor in (
        "resultattavla-for-knivsta",
        "diagram-over-aren",
        "resultattavla-for-knivsta-2",
        "diagram-over-aren-2",
        "bilaga-kallor",
    ):
        assert report_html.count(f'id="{anchor}"') == 1


def test_export_has_no_code_input(report_html: str) -> None:
    assert "kod som inte ska synas" in report_html  # the output is there...
    assert SECRET_CODE not in report_html  # ...but not the code
    assert "plt.subplots" not in report_html
    assert '<div class="jp-InputPrompt' not in report_html


def test_export_drops_remove_in_report_cells(report_html: str) -> None:
    assert "dold cell" not in report_html


def test_export_keeps_a_number_and_its_per_cent_sign_on_one_line(report_html: str) -> None:
    assert "95\u00a0%-intervall" in report_html and "95 %-intervall" not in report_html


def test_export_embeds_image(report_html: str) -> None:
    image = report_html[report_html.index("<img ") :].split(">")[0]
    assert 'src="data:image/png;base64,' in image


def test_export_fetches_nothing_over_the_network(report_html: str) -> None:
    assert "<script src" not in report_html
    assert "<link" not in report_html
    assert 'src="http' not in report_html


def test_export_has_appendix_language_title_and_swedish_characters(report_html: str) -> None:
    assert '<html lang="sv">' in report_html
    assert "<title>Medborgarlöfte Knivsta</title>" in report_html
    assert "Källa: Brå (Brottsförebyggande rådet)." in report_html
    assert "Åäö: brott i nära relation." in report_html


def test_export_twice_gives_identical_bytes(executed: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    export_report([executed], first, "Titel", APPENDIX)
    export_report([executed], second, "Titel", APPENDIX)
    assert first.read_bytes() == second.read_bytes()


def test_sources_appendix_lists_every_source_with_attribution() -> None:
    markdown = sources_appendix_markdown(RAW_DIR)
    assert markdown.startswith("# Källor")
    assert "sha256" in markdown
    for source_id, source in read_sources(RAW_DIR).items():
        item = markdown[markdown.index(f"id {markdown_text(source_id)}") :].split("\n- ")[0]
        assert markdown_text(source_sv(source)["attribution"]) in item


def test_report_order_starts_with_summary_and_ends_with_methods() -> None:
    assert REPORT_ORDER[0] == "01-sammanfattning.ipynb"
    assert REPORT_ORDER[-2:] == ("00-dataoversikt.ipynb", "07-metod-och-begransningar.ipynb")
    assert len(set(REPORT_ORDER)) == 8


def test_run_report_refuses_unknown_municipality_before_executing(tmp_path: Path) -> None:
    config = EVALUATIONS_DIR.parent / DEFAULT_CONFIG
    if not config.exists():
        config = tmp_path / "test.toml"
        config.write_text(
            '[evaluation]\nid = "test"\ntitle = "Test"\nmunicipality = "0330"\n'
            "baseline_years = [2019]\nfollowup_years = [2022]\npre_period = [2017, 2019]\n"
            "[focus_areas]\n",
            encoding="utf-8",
        )
    reports, notebooks = tmp_path / "reports", tmp_path / "notebooks"
    with pytest.raises(ConfigError, match="9999"):
        run_report(str(config), "9999", reports_dir=reports, notebooks_dir=notebooks)
    assert not reports.exists()
    assert not notebooks.exists()


def test_execute_leaves_no_injected_cell_and_one_parameters_cell_with_the_values(
    executed: Path,
) -> None:
    notebook = nbformat.read(executed, as_version=4)
    tags = [tag for cell in notebook.cells for tag in cell.metadata.get("tags", [])]
    assert "injected-parameters" not in tags and tags.count("parameters") == 1
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source == 'config = "evaluations/test.toml"\nmunicipality = "0330"'


def test_editing_the_parameters_cell_changes_what_the_notebook_computes(
    executed: Path, tmp_path: Path
) -> None:
    # What a user does in JupyterLab: edit the parameters cell, run all (nbclient, no papermill).
    from nbclient import NotebookClient

    notebook = nbformat.read(executed, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace('"0330"', '"0305"')
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "kommun=0305" in printed and "kommun=0330" not in printed


def test_export_shows_a_repeated_markdown_output_once(tmp_path: Path) -> None:
    paths = []
    for name in ("01-a.ipynb", "02-b.ipynb"):
        cell = new_code_cell("Markdown(intro)", execution_count=1)
        cell.outputs = [
            nbformat.v4.new_output(
                "display_data", data={"text/markdown": "**Kontext** som upprepas", "text/plain": ""}
            )
        ]
        notebook = new_notebook(cells=[new_markdown_cell(f"# Kapitel {name}"), cell])
        nbformat.write(notebook, tmp_path / name)
        paths.append(tmp_path / name)
    html = export_report(paths, tmp_path / "r.html", "Titel", APPENDIX).read_text(encoding="utf-8")
    assert html.count("som upprepas") == 1
