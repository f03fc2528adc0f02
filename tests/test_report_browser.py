"""The exported report as a reader sees it: rendered by real headless Chromium, offline.

Uses the committed executed notebooks in `notebooks/` when they exist (and `data/processed`
does), otherwise tiny notebooks with a heading, a figure and a "Resultattavla".
Saves a screenshot to `test-artifacts/report-screenshot.png` (git-ignored).
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from medlofte_analysis.config import NOTEBOOKS_DIR, PROCESSED_DIR, PROJECT_ROOT, RAW_DIR
from medlofte_analysis.report import REPORT_ORDER, export_report, sources_appendix_markdown

ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS_DIR / "report-screenshot.png"
TIMEOUT_SECONDS = 60


def find_chromium() -> str:
    """The Chromium executable on PATH, or skip the test."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium not installed: apt-get install chromium (.ci/run does this)")


def figure_png() -> str:
    """A small line chart as base64 PNG, drawn here (no kernel needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([2019, 2020, 2021, 2022, 2023], [12, 9, 11, 7, 8], marker="o")
    ax.set_title("Anmälda brott per 1 000 invånare")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def tiny_executed_notebook(folder: Path) -> Path:
    """A notebook as if executed: a scorecard heading, text and a figure output."""
    figure = new_code_cell("plot()", execution_count=1)
    figure.outputs = [
        new_output("display_data", data={"image/png": figure_png(), "text/plain": "<Figure>"})
    ]
    notebook = new_notebook()
    notebook.cells = [
        new_markdown_cell("# Resultattavla: fokusområden i Knivsta\n\nSammanfattning på svenska."),
        new_markdown_cell("## Våld i nära relation\n\nÅäö i löptext."),
        figure,
    ]
    path = folder / "01-sammanfattning.ipynb"
    nbformat.write(notebook, path)
    return path


def has_outputs(path: Path) -> bool:
    """True when the notebook has been executed (some code cell has an output)."""
    notebook = nbformat.read(path, as_version=4)
    return any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def report_notebooks(folder: Path) -> list[Path]:
    """The committed executed notebooks if present (and data/processed), else a tiny one."""
    committed = [NOTEBOOKS_DIR / name for name in REPORT_ORDER if (NOTEBOOKS_DIR / name).exists()]
    if committed and PROCESSED_DIR.exists() and any(has_outputs(p) for p in committed):
        return committed
    return [tiny_executed_notebook(folder)]


def run_chromium(chromium: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Run headless Chromium with a fresh profile and no background network traffic."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [chromium, *flags, *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    output = folder / "rapport.html"
    appendix = sources_appendix_markdown(RAW_DIR)
    return export_report(report_notebooks(folder), output, "Medborgarlöfte: test", appendix)


def test_rendered_dom_has_toc_image_and_scorecard(report: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    dom = run_chromium(chromium, tmp_path / "profile", "--dump-dom", report.as_uri()).stdout
    assert '<nav id="innehall"' in dom or 'id="innehall"' in dom
    assert "<img" in dom and 'src="data:image/png;base64,' in dom
    assert "Resultattavla" in dom
    assert 'id="resultattavla' in dom  # the scorecard's heading anchor
    assert "Källor" in dom


def test_screenshot_is_saved(report: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={SCREENSHOT}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        report.as_uri(),
    )
    assert SCREENSHOT.exists()
    assert SCREENSHOT.stat().st_size > 10_000
