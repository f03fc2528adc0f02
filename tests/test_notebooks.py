"""The committed notebooks work in JupyterLab as the README says: one `parameters` cell, no
papermill leftovers, and editing that cell changes the evaluation."""

import nbformat
import pytest
from nbclient import NotebookClient

from medlofte_analysis.config import NOTEBOOKS_DIR, REPORTS_DIR
from medlofte_analysis.presentation import UNKNOWN_NOTE_SV

COMMITTED = sorted(NOTEBOOKS_DIR.glob("*.ipynb")) + sorted(
    (REPORTS_DIR / "demo-dalarna" / "notebooks").glob("*.ipynb")
)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_committed_notebook_has_one_parameters_cell_and_no_injected_cell(path):
    tags = [
        t for cell in nbformat.read(path, as_version=4).cells for t in cell.metadata.get("tags", [])
    ]
    assert tags.count("parameters") == 1
    assert "injected-parameters" not in tags


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_committed_notebook_shows_no_untranslated_note(path):
    # every note a reader sees has Swedish words; the generic sentence is a last resort
    text = path.read_text(encoding="utf-8")
    assert UNKNOWN_NOTE_SV not in text


def test_editing_the_municipality_in_the_parameters_cell_evaluates_that_municipality():
    notebook = nbformat.read(NOTEBOOKS_DIR / "00-dataoversikt.ipynb", as_version=4)
    intro = next(i for i, c in enumerate(notebook.cells) if "run_evaluation(" in c.source)
    notebook.cells = notebook.cells[: intro + 1]
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace('municipality = ""', 'municipality = "2080"')
    assert 'municipality = "2080"' in cell.source
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()
    shown = notebook.cells[intro].outputs[0]["data"]["text/markdown"]
    assert shown.startswith("**Falun** (kommunkod 2080)")
