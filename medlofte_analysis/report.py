"""Report building: execute the notebooks with papermill and export one standalone HTML report.

The report is what municipal analysts and the police publish, so it must be reproducible:
executed notebooks carry no timing metadata, and two exports of the same notebooks are
byte-identical (no timestamps, deterministic anchors). The HTML is standalone: images are
embedded as base64 and nothing is fetched over the network, so it opens offline.

`run_report` is the main command: it checks the evaluation configuration before any kernel
starts, executes the notebooks of `REPORT_ORDER`, and writes `reports/<config id>.html`.
"""

from __future__ import annotations

import copy
import datetime
import html
import os
import re
import subprocess
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from time import perf_counter
from typing import Any

import nbformat
import pandas as pd

from medlofte_analysis import implementation, workbooks
from medlofte_analysis.catalog import alternatives, load_catalog
from medlofte_analysis.config import (
    MANUAL_DIR,
    NOTEBOOKS_DIR,
    PROCESSED_DIR,
    PROJECT_ROOT,
    RAW_DIR,
    REPORTS_DIR,
)
from medlofte_analysis.errors import ConfigError, InputError
from medlofte_analysis.evaluation_config import (
    EvaluationConfig,
    check_config,
    load_config,
    name_run,
)
from medlofte_analysis.presentation import CONFIDENCE_SV, html_text, markdown_text, source_sv
from medlofte_analysis.swedish import unbroken_percent

REPORT_ORDER: tuple[str, ...] = (
    "01-sammanfattning.ipynb",
    "02-unga.ipynb",
    "03-narvaro-och-trafik.ipynb",
    "04-narkotika.ipynb",
    "05-vald-i-nara-relation.ipynb",
    "06-genomforande.ipynb",
    "00-dataoversikt.ipynb",
    "07-metod-och-begransningar.ipynb",
)
DEFAULT_CONFIG: str = "evaluations/knivsta-2024-2025.toml"
OTHER_RUNS_DIR: str = "kommuner"  # git-ignored; pytest's testpaths leave it out
KERNEL_NAME: str = "python3"
REMOVE_TAG: str = "remove-in-report"
LEAD_TAG: str = (
    "lead"  # cells shown first, before the table of contents (question, answer, scorecard)
)
INJECTED_CELL_ID: str = "injected-parameters"
TOC_ID: str = "innehall"
_HEADING = re.compile(r"^ {0,3}(#{1,2})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CAPTION_NUMBER = re.compile(
    r'<span class="nr" data-typ="(Figur|Tabell)">(?:Figur|Tabell)\.</span>'
)

# A template on top of nbconvert's "lab" template: no script or stylesheet fetched over the
# network (require.js, MathJax, mermaid, widgets are dropped), the report's header after <main>,
# Swedish alternative text on images, and the report's stylesheet (screen and A4 print).
_TEMPLATE_NAME = "medlofte_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" class="diagram"
alt="{{ output.metadata.get('alt', 'Diagram; se figurtexten under bilden') | escape_html }}">
</div>
{%- endblock data_png %}
{%- block extra_css -%}
<style type="text/css">
:root { --rapport-bredd: 60rem; }
body { font-family: var(--jp-content-font-family, system-ui, sans-serif); }
main { max-width: var(--rapport-bredd); margin: 0 auto; padding: 0 1rem; }
.rapport-huvud { margin: 1rem 0 0.5rem; }
.rapport-titel { font-size: 1.7em; font-weight: bold; margin: 0 0 0.4rem; line-height: 1.25; }
.rapport-fakta { font-size: 0.9em; color: #333; margin: 0; }
.rapport-fakta span + span::before { content: " · "; }
nav#innehall { margin: 1.5rem 0 2rem; padding: 0.75rem 1.25rem; border: 1px solid #ccc;
  font-size: var(--jp-content-font-size1, 14px); }
nav#innehall .toc-titel { font-weight: bold; font-size: 1.2em; margin: 0 0 0.5rem; }
nav#innehall ul { margin: 0; padding-left: 0; list-style: none; columns: 2; }
nav#innehall li { margin: 0.15rem 0; break-inside: avoid; }
/* Figures: the full text width, readable when printed. */
img.diagram { width: 100%; max-width: 100%; height: auto; }
.jp-OutputArea-output { overflow-x: visible; }
.bildtext { font-weight: bold; margin: 0.4rem 0 0.2rem; }
.kalla { font-size: 0.85em; color: #333; margin: 0.2rem 0 1.2rem; }
/* Tables: text left, numbers right, long words wrap: every column stays inside the page. */
.tabellram { max-width: 100%; }
table.tabell, .jp-RenderedHTMLCommon table.tabell { width: 100%; table-layout: auto;
  border-collapse: collapse; font-size: 0.85em; }
table.tabell th, table.tabell td { text-align: left; vertical-align: top; padding: 0.25rem 0.4rem;
  border-bottom: 1px solid #ddd; overflow-wrap: break-word; hyphens: auto; }
table.tabell th { border-bottom: 2px solid #555; }
table.tabell .tal { text-align: right; }
table.tabell td.tal { white-space: nowrap; }
table.tabell td.tal small { white-space: normal; }
.jp-RenderedHTMLCommon table.tabell td, .jp-RenderedHTMLCommon table.tabell th { max-width: none; }
.jp-RenderedHTMLCommon table.tabell .text { text-align: left; }
.jp-RenderedHTMLCommon table.tabell .tal { text-align: right; }
/* Narrow windows and the printed A4 page (after the rules above: it overrides them): words
   break only where one is wider than its column. A table with running text (a note) puts the
   note on a line of its own under the other columns, which share the whole width: beside
   them, left to the browser, the note took nearly all of it and the numbers broke digit by
   digit; given 30 %, seven columns broke words ("privatper|son"). */
@media (max-width: 900px), print {
  /* A long link (the list of sources) breaks where it would run past the margin. */
  main p, main li { overflow-wrap: break-word; }
  table.tabell th, table.tabell td { overflow-wrap: break-word; }
  table.tabell td.tal { white-space: normal; }
  /* Six columns beside the note are the results tables': measure, method, estimate, p (q),
     detectable change, verdict. The table is the grid and its rows share its columns
     (subgrid): a column is at least as wide as its longest word, in every row (rows of their
     own grid with minmax(0, …) columns broke "Skadegörelse|brott" on the printed page). */
  table.med-anmarkning { display: grid;
    grid-template-columns: 1fr 1.4fr 1.3fr 0.7fr 1.2fr 1fr; }
  table.med-anmarkning thead, table.med-anmarkning tbody, table.med-anmarkning tr {
    display: grid; grid-column: 1 / -1; grid-template-columns: subgrid; }
  table.med-anmarkning tr { border-bottom: 1px solid #ddd; break-inside: avoid; }
  table.med-anmarkning thead tr { border-bottom: 2px solid #555; }
  table.med-anmarkning.kolumner-1 { grid-template-columns: 1fr; }
  table.med-anmarkning.kolumner-2 { grid-template-columns: repeat(2, 1fr); }
  table.med-anmarkning.kolumner-3 { grid-template-columns: repeat(3, 1fr); }
  table.med-anmarkning.kolumner-4 { grid-template-columns: repeat(4, 1fr); }
  table.med-anmarkning.kolumner-5 { grid-template-columns: repeat(5, 1fr); }
  table.med-anmarkning.kolumner-7 { grid-template-columns: repeat(7, 1fr); }
  table.med-anmarkning.kolumner-8 { grid-template-columns: repeat(8, 1fr); }
  table.med-anmarkning th, table.med-anmarkning td { border-bottom: 0; padding: 0.25rem 0.3rem; }
  table.med-anmarkning .lang, table.med-anmarkning td[colspan] { grid-column: 1 / -1; order: 1; }
  table.med-anmarkning td.lang { padding-top: 0; padding-bottom: 0.5rem; }
  table.med-anmarkning.kolumner-1 td:first-child { font-weight: bold; }
  /* The scorecard sizes its columns as a table does, each at least as wide as its longest
     word (fixed shares broke "kvinnofridskränk|ning," beside numbers that needed less). */
  table#resultattavla { table-layout: auto; }
}
/* Scorecard: symbol, word and colour (Okabe-Ito palette) say the same thing. */
.resultattavla table.tabell { font-size: 0.95em; }
.resultattavla td { border-left: 0; }
.resultattavla .symbol { font-size: 1.2em; font-weight: bold; }
.bedomning-battre { background: #d6ebf7; border-left: 6px solid #0072b2 !important; }
.bedomning-samre { background: #fbe0cc; border-left: 6px solid #d55e00 !important; }
.bedomning-aktivitet { background: #e8f4e0; border-left: 6px solid #009e73 !important; }
.bedomning-tvetydig { background: #fdf1cc; border-left: 6px solid #e69f00 !important; }
.bedomning-ingen { background: #eeeeee; border-left: 6px solid #777777 !important; }
.bedomning-saknas { background: #ffffff; border-left: 6px dashed #999999 !important; }
/* Screens narrower than the printed page's text (a phone, upright or on its side; after the
   rules above: it overrides them). Five or more columns side by side in some 330 px broke
   words letter by letter ("Försämr|ing", "invåna|re"), and tables wider than the screen had
   to be scrolled sideways; below the width of the printed page's text (about 680 px, a
   720 px window) the results tables' longest words do not fit beside each other. Each row
   is a card instead: each value beside its column's name (data-label, written by table_html
   and scorecard_html; the header row is hidden), a note under its name across the card. A
   scorecard card starts with the outcome and its verdict. The notebook's frames give up less
   of the width. */
@media screen and (max-width: 719px) {
  body.jp-Notebook { margin: 0; padding: 0; }
  main { padding: 0 0.75rem; }
  main .jp-Cell { padding-left: 0; padding-right: 0; }
  main .jp-RenderedHTMLCommon { padding-right: 0; }
  main .jp-OutputArea-child .jp-OutputArea-output { margin-left: 0; }
  .jp-RenderedHTMLCommon table.tabell, .jp-RenderedHTMLCommon table.tabell tbody,
  .jp-RenderedHTMLCommon table.tabell tr { display: block; }
  .jp-RenderedHTMLCommon table.tabell thead { display: none; }
  .jp-RenderedHTMLCommon table.tabell tbody tr { margin: 0 0 0.6rem; padding: 0.3rem 0.5rem;
    border: 1px solid #bbb; border-radius: 4px; }
  .jp-RenderedHTMLCommon table.tabell td, .jp-RenderedHTMLCommon table.tabell td.tal {
    display: flow-root; text-align: left; white-space: normal; overflow-wrap: break-word;
    border: 0; padding: 0.2rem 0 0.2rem 8.5em; }
  table.tabell td::before { content: attr(data-label); float: left; width: 8em;
    margin-left: -8.5em; font-weight: bold; color: #333; }
  .jp-RenderedHTMLCommon table.tabell td:not([data-label]),
  .jp-RenderedHTMLCommon table.tabell td.lang { padding-left: 0; }
  table.tabell td:not([data-label])::before { content: none; }
  table.tabell td.lang::before { float: none; display: block; width: auto; margin: 0; }
  .jp-RenderedHTMLCommon #resultattavla tbody tr { display: flex; flex-direction: column; }
  #resultattavla td { order: 2; }
  .jp-RenderedHTMLCommon #resultattavla td:first-child { order: 0; padding-left: 0;
    font-size: 1.05em; }
  #resultattavla td:first-child::before, #resultattavla td:last-child::before { content: none; }
  .jp-RenderedHTMLCommon #resultattavla td:last-child { order: 1; margin: 0.3rem 0;
    padding: 0.3rem 0.5rem; }
}
@media print {
  @page { size: A4; margin: 18mm 15mm; }
  main { max-width: none; padding: 0; }
  nav#innehall { page-break-after: always; }
  table.tabell { font-size: 8.5pt; }
  .tabellblock, img.diagram { break-inside: avoid; }
  .jp-Cell { break-inside: auto; }
}
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.medlofte_header }}
{%- endblock body_header -%}
"""


@dataclass(frozen=True)
class ReportInfo:
    """What the report's header says about itself: dates, version and whom to contact."""

    data_date: str = ""
    report_date: str = ""
    version: str = ""
    contact: str = ""


@dataclass(frozen=True)
class Heading:
    """One `#` or `##` heading of the report, with its unique anchor."""

    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class NotebookTiming:
    """Seconds spent on one notebook: kernel start-up, running its cells, then stopping the
    kernel and saving the notebook."""

    name: str
    kernel_startup: float
    execution: float
    shutdown_and_save: float

    @property
    def total(self) -> float:
        """Everything spent on the notebook."""
        return self.kernel_startup + self.execution + self.shutdown_and_save


@dataclass(frozen=True)
class ReportResult:
    """What `run_report` produced, and where the time went (seconds)."""

    html: Path
    notebooks: tuple[Path, ...]
    check_seconds: float
    notebook_timings: tuple[NotebookTiming, ...]
    export_seconds: float
    publications: tuple[Path, ...] = ()  # PDF, citizen page, results export (publication.py)
    publish_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        """Checking, executing, exporting and publishing together."""
        executed = sum(timing.total for timing in self.notebook_timings)
        return self.check_seconds + executed + self.export_seconds + self.publish_seconds


# --- Writing files -------------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to a temporary file beside `path`, then move it into place.

    The file keeps the permissions of the file it replaces (new files: rw-r--r--).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="\n", dir=path.parent, delete=False, suffix=".tmp"
    )
    try:
        with handle:
            handle.write(text)
        os.chmod(handle.name, mode)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


# --- Executing notebooks -------------------------------------------------------------------------


def make_deterministic(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop papermill's and nbclient's timing metadata; keep outputs, tags and execution counts.

    The injected-parameters cell gets a fixed id (papermill gives it a random one).
    """
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if INJECTED_CELL_ID in cell.metadata.get("tags", []) and "id" in cell:
            cell["id"] = INJECTED_CELL_ID
    return notebook


def fold_injected_parameters(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Move papermill's injected values into the tagged `parameters` cell and drop its cell.

    An executed notebook then has one parameters cell holding the values it ran with: opened
    in JupyterLab, editing that cell and running all changes the evaluation (a leftover
    injected cell would reset it), and nbval re-executes it with the same values.
    Execution counts are renumbered 1, 2, 3, … over the remaining cells.
    """
    injected = [c for c in notebook.cells if INJECTED_CELL_ID in c.metadata.get("tags", [])]
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if not injected:
        return notebook
    lines = injected[0].source.splitlines()
    values = "\n".join(line for line in lines if line.strip() != "# Parameters").strip()
    if tagged:
        tagged[0].source = values
        notebook.cells = [c for c in notebook.cells if c is not injected[0]]
    else:  # no tagged cell: the injected one becomes the parameters cell
        injected[0].source = values
        injected[0].metadata["tags"] = ["parameters"]
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.get("execution_count") is None:
            continue
        count += 1
        cell.execution_count = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = count
    return notebook


def _kernel_manager_class() -> type:
    """A kernel manager that provisions CurveZMQ keys where pyzmq supports them.

    ipykernel warns "Kernel is running over TCP without encryption" for every kernel started
    without keys (16 times in `make all`); jupyter_client's `transport_encryption = "auto"`
    gives the kernel keys (its kernelspec declares `supported_encryption: curve`), which
    removes the cause instead of hiding the warning. Without CurveZMQ support nothing changes.
    """
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    if not zmq.has("curve") or "transport_encryption" not in AsyncKernelManager.class_traits():
        return AsyncKernelManager

    class EncryptedKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport_encryption = "auto"

    return EncryptedKernelManager


def _execute(
    template: Path, output: Path, parameters: dict[str, str], timeout: int
) -> NotebookTiming:
    """Execute `template` with papermill and save it deterministically to `output`."""
    import papermill

    started = perf_counter()
    marks: dict[str, float] = {}

    def on_notebook_start(**_: Any) -> None:
        marks["kernel_ready"] = perf_counter()

    def on_cell_executed(**_: Any) -> None:
        marks["cells_done"] = perf_counter()

    executed = papermill.execute_notebook(
        str(template),
        None,
        parameters=parameters,
        kernel_name=KERNEL_NAME,
        cwd=str(template.parent),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        execution_timeout=timeout,
        shutdown_kernel="immediate",  # the outputs are in; a graceful stop can take seconds
        kernel_manager_class=_kernel_manager_class(),
        on_notebook_start=on_notebook_start,
        on_cell_executed=on_cell_executed,
    )
    fold_injected_parameters(make_deterministic(executed))
    _write_atomic(output, nbformat.writes(executed) + "\n")
    finished = perf_counter()
    ready = marks.get("kernel_ready", started)
    done = marks.get("cells_done", ready)
    return NotebookTiming(template.name, ready - started, done - ready, finished - done)


def execute_notebook(
    template: Path, output: Path, parameters: dict[str, str], timeout: int = 600
) -> float:
    """Execute a notebook with papermill, save it without timing metadata; return seconds spent.

    `output` may be `template` itself (the notebooks in `notebooks/` are refreshed in place).
    A failing cell raises papermill's execution error and leaves `output` untouched.
    """
    return _execute(Path(template), Path(output), parameters, timeout).total


# --- Exporting HTML ------------------------------------------------------------------------------


def _slug(text: str) -> str:
    """An ASCII anchor for a heading: 'Våld i nära relation' -> 'vald-i-nara-relation'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "avsnitt"


def _unique(slug: str, used: set[str]) -> str:
    """Make `slug` unique among the anchors already used in the report (-2, -3, ...)."""
    candidate, number = slug, 1
    while candidate in used:
        number += 1
        candidate = f"{slug}-{number}"
    used.add(candidate)
    return candidate


def _inline_html(markdown_text: str) -> str:
    """Render a heading's text (inline markdown) to HTML without the surrounding <p>."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = markdown2html_mistune(markdown_text).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.DOTALL)


def _plain_text(inline: str) -> str:
    """The visible text of an inline HTML fragment."""
    return html.unescape(re.sub(r"<[^>]+>", "", inline)).strip()


def _anchor_headings(source: str, used: set[str]) -> tuple[str, list[Heading]]:
    """Replace each `#`/`##` heading line with an HTML heading that carries a unique id."""
    lines: list[str] = []
    headings: list[Heading] = []
    fence = ""
    for line in source.splitlines():
        opening = _FENCE.match(line)
        if fence:
            fence = "" if opening and opening.group(1).startswith(fence) else fence
        elif opening:
            fence = opening.group(1)
        match = None if fence or opening else _HEADING.match(line)
        if not match or not match.group(2).strip():
            lines.append(line)
            continue
        level, inline = len(match.group(1)), _inline_html(match.group(2))
        text = _plain_text(inline)
        heading = Heading(level, text, _unique(_slug(text), used))
        headings.append(heading)
        lines += ["", f'<h{level} id="{heading.anchor}">{inline}</h{level}>', ""]
    return "\n".join(lines), headings


def _header_html(title: str, info: ReportInfo) -> str:
    """The report's title and, on one line, the date of the data and of the report, the
    version and the contact."""
    facts = [
        ("Uppgifterna", info.data_date),
        ("Rapporten", info.report_date),
        ("Version", info.version),
        ("Kontakt", info.contact),
    ]
    line = "".join(f"<span>{label}: {html_text(value)}</span>" for label, value in facts if value)
    return (
        '<header class="rapport-huvud">'
        f'<p class="rapport-titel" role="heading" aria-level="1">{html_text(title)}</p>'
        + (f'<p class="rapport-fakta">{line}</p>' if line else "")
        + "</header>"
    )


def _toc_html(headings: Sequence[Heading]) -> str:
    """The table of contents: one link per chapter (level-1 heading), in reading order."""
    items = [
        f'<li><a href="#{h.anchor}">{html_text(h.text)}</a></li>' for h in headings if h.level == 1
    ]
    return "\n".join(
        [
            f'<nav id="{TOC_ID}" aria-label="Innehåll">',
            '<p class="toc-titel">Innehåll</p>',
            "<ul>",
            *items,
            "</ul>",
            "</nav>",
        ]
    )


def _without_repeats(cell: nbformat.NotebookNode, seen: set[str]) -> nbformat.NotebookNode:
    """The cell without Markdown outputs already shown earlier in the report (the context
    block each notebook prints for the analyst appears once in the report)."""
    kept = []
    for output in cell.get("outputs", []):
        text = output.get("data", {}).get("text/markdown")
        if text is not None and text in seen:
            continue
        if text is not None:
            seen.add(text)
        kept.append(output)
    cell.outputs = kept
    return cell


def _report_cells(
    notebook: nbformat.NotebookNode, index: int, used: set[str], seen: set[str]
) -> tuple[list[nbformat.NotebookNode], list[nbformat.NotebookNode], list[Heading]]:
    """The cells of one notebook as they go into the report (lead cells apart), and its
    headings. `seen`: the Markdown outputs already in the report."""
    lead: list[nbformat.NotebookNode] = []
    cells: list[nbformat.NotebookNode] = []
    headings: list[Heading] = []
    for number, original in enumerate(notebook.cells):
        tags = original.metadata.get("tags", [])
        if REMOVE_TAG in tags:
            continue
        if original.cell_type == "code" and not original.get("outputs"):
            continue
        cell = copy.deepcopy(original)
        cell["id"] = f"nb{index}-{number}"
        if cell.cell_type == "code" and not _without_repeats(cell, seen).outputs:
            continue
        if cell.cell_type == "markdown":
            cell.source, found = _anchor_headings(cell.source, used)
            headings += found
        (lead if LEAD_TAG in tags else cells).append(cell)
    return lead, cells, headings


def _merge(
    notebooks: Sequence[Path], title: str, appendix_markdown: str
) -> tuple[nbformat.NotebookNode, list[Heading]]:
    """One notebook: the lead cells (question, answer, scorecard), the table of contents,
    every notebook's report cells in order, then the appendix."""
    used: set[str] = {TOC_ID}
    seen: set[str] = set()
    merged = nbformat.v4.new_notebook()
    lead: list[nbformat.NotebookNode] = []
    body: list[nbformat.NotebookNode] = []
    headings: list[Heading] = []
    for index, path in enumerate(notebooks):
        notebook = nbformat.read(path, as_version=4)
        if index == 0:
            merged.metadata = copy.deepcopy(notebook.metadata)
        first, cells, found = _report_cells(notebook, index, used, seen)
        lead += first
        body += cells
        headings += found
    source, found = _anchor_headings(appendix_markdown, used)
    body.append(nbformat.v4.new_markdown_cell(source, id="bilaga"))
    headings += found
    toc = nbformat.v4.new_markdown_cell(_toc_html(headings), id="toc")
    merged.cells = [*lead, toc, *body]
    merged.metadata["title"] = title
    return merged, headings


def number_captions(body: str, counts: Counter[str] | None = None) -> str:
    """Number the captions in reading order: 'Figur 1.', 'Figur 2.', 'Tabell 1.', ...

    `counts` carries the numbering across fragments (the PDF numbers output by output)."""
    counts = Counter() if counts is None else counts

    def numbered(match: re.Match[str]) -> str:
        kind = match.group(1)
        counts[kind] += 1
        return f'<span class="nr" data-typ="{kind}">{kind} {counts[kind]}.</span>'

    return _CAPTION_NUMBER.sub(numbered, body)


class _LiveMarkup(HTMLParser):
    """Finds markup that would run in a browser: script elements, event-handler attributes,
    and javascript:/vbscript:/data:text links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            target = "".join((value or "").split()).lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in {"href", "src", "action", "formaction"} and target.startswith(
                ("javascript:", "vbscript:", "data:text")
            ):
                self.found.append(f"<{tag} {name}={target[:20]}…>")


def live_markup(body: str) -> list[str]:
    """The live constructs (script, on… handlers, javascript: links) in an HTML document."""
    parser = _LiveMarkup()
    parser.feed(body)
    parser.close()
    return parser.found


def _exporter() -> Any:
    """nbconvert's HTML exporter: no code, no prompts, embedded images, Swedish."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code="sv",
    )


def export_report(
    notebooks: Sequence[Path],
    output_html: Path,
    title: str,
    appendix_markdown: str,
    info: ReportInfo | None = None,
) -> Path:
    """Write one standalone HTML report of the notebooks: header, the cells tagged `lead`
    (question, answer, scorecard), a table of contents, the other cells in order, the appendix.
    A number and its per cent sign are held together by a no-break space, so that neither the
    browser nor the printed page breaks a line between them.

    Cells tagged `remove-in-report` and code cells without output are left out. Captions are
    numbered in reading order. The file is byte-identical across exports of the same inputs
    and `info`. A report holding live markup (script, event handlers, javascript: links) is
    refused, not written.
    """
    paths = [Path(p) for p in notebooks]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise InputError(
            paths[0].parent, None, "the executed notebooks (execute them first)", missing
        )
    merged, _ = _merge(paths, title, appendix_markdown)
    resources = {
        "metadata": {"name": title, "path": str(paths[0].parent) if paths else "."},
        "medlofte_header": _header_html(title, info or ReportInfo()),
    }
    body, _ = _exporter().from_notebook_node(merged, resources=resources)
    body = unbroken_percent(number_captions(body))
    output_html = Path(output_html)
    unsafe = live_markup(body)
    if unsafe:
        raise InputError(output_html, "HTML", "text without live markup", unsafe[0])
    _write_atomic(output_html, body if body.endswith("\n") else body + "\n")
    return output_html


# --- Sources appendix ----------------------------------------------------------------------------


def _source_item(source: dict[str, str], files: int, derived: int) -> str:
    """One source as a markdown list item in Swedish; every field is escaped text."""
    source = source_sv(source)
    confidence = CONFIDENCE_SV.get(source["confidence"], source["confidence"])
    raw_files = "1 råfil" if files == 1 else f"{files} råfiler"
    lines = [
        f"- **{markdown_text(source['title'])}** ({markdown_text(source['publisher'])}), "
        f"id {markdown_text(source['source_id'])}",
        f"  - Källhänvisning: {markdown_text(source['attribution'])}",
        f"  - Ursprung: {markdown_text(source['origin'], links=True)}",
        f"  - Hämtad: {markdown_text(source['retrieved'])}; licens: "
        f"{markdown_text(source['licence'])}",
        f"  - Tillförlitlighet: {markdown_text(confidence)}; {raw_files}"
        + (f" (varav {derived} härledda ur andra råfiler)" if derived else ""),
    ]
    if source["note"].strip():
        lines.append(f"  - Anmärkning: {markdown_text(source['note'])}")
    return "\n".join(lines)


def sources_appendix_markdown(raw_dir: Path = RAW_DIR) -> str:
    """A Swedish "## Källor" section: every source of `data/raw` with attribution and file count."""
    from medlofte_analysis.manifest import read_manifest, read_sources

    sources = read_sources(raw_dir)
    entries = read_manifest(raw_dir)
    files = Counter(row["source_id"] for row in entries)
    derived = Counter(row["source_id"] for row in entries if row["kind"] == "derived")
    items = [_source_item(sources[key], files[key], derived[key]) for key in sorted(sources)]
    return "\n".join(
        [
            "# Källor",
            "",
            "Rapportens siffror bygger på följande publicerade källor. Ange källan enligt "
            "källhänvisningen när siffrorna återanvänds.",
            "",
            *items,
            "",
            f"Råfilerna ({len(entries)} st.) ligger oförändrade i `data/raw/` och förtecknas med "
            "ursprung och sha256-kontrollsumma i `data/raw/manifest.csv`. Varje bearbetad siffra "
            "i rapporten kan spåras till en råfil via dess sha256-kontrollsumma "
            "(`data/processed/build_record.json`).",
            "",
        ]
    )


# --- What the header says about the report -------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _long_date(day: datetime.date) -> str:
    """'27 november 2026' (Babel, Swedish)."""
    from babel.dates import format_date

    return format_date(day, format="long", locale="sv_SE")


def report_day(environ: dict[str, str] | None = None) -> datetime.date:
    """The report's date: SOURCE_DATE_EPOCH when set (reproducible builds), else today (UTC).
    The one date of the HTML, the PDF's cover and the citizen page."""
    epoch = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC).date()
    return datetime.datetime.now(tz=datetime.UTC).date()


def version_text(root: Path = PROJECT_ROOT) -> str:
    """'medlofte-analysis 0.1.0 (git 2aaba08)', saying so if the work tree has changes."""
    from medlofte_analysis import __version__

    text = f"medlofte-analysis {__version__}"
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "medlofte_analysis",
                "notebooks",
                "evaluations",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return text
    return f"{text} (git {commit}" + (", med lokala ändringar)" if changed else ")")


def data_date_text(
    config: EvaluationConfig, indicators: pd.DataFrame, raw_dir: Path = RAW_DIR
) -> str:
    """The newest year with a value for the municipality, and when the sources were retrieved."""
    from medlofte_analysis.manifest import read_sources

    catalog = load_catalog()
    # A concept counts with every source that publishes it (the report uses the best of them).
    series = {i for name in config.indicators for i in alternatives(catalog, name) or [name]}
    own = indicators.loc[
        (indicators["municipality_code"] == config.municipality)
        & indicators["indicator_id"].isin(series)
        & indicators["value"].notna()
    ]
    year = f"t.o.m. {int(own['year'].max())}" if len(own) else "inga värden för kommunen"
    dates = sorted(
        found for row in read_sources(raw_dir).values() for found in _DATE.findall(row["retrieved"])
    )
    if not dates:
        return year
    newest = datetime.date.fromisoformat(dates[-1])
    return f"{year} (källorna hämtade senast {_long_date(newest)})"


def report_info(config: EvaluationConfig) -> ReportInfo:
    """The header facts of the report of `config`."""
    indicators = pd.read_csv(PROCESSED_DIR / "indicators.csv", dtype={"municipality_code": str})
    return ReportInfo(
        data_date=data_date_text(config, indicators),
        report_date=_long_date(report_day()),
        version=version_text(),
        contact=config.contact or "ej angiven i utvärderingsfilen",
    )


# --- The main command ----------------------------------------------------------------------------


def _relative_config(config_path: str) -> str:
    """The configuration path as the notebooks receive it: relative to the project root."""
    path = Path(config_path)
    if path.is_absolute() and path.is_relative_to(PROJECT_ROOT):
        return path.relative_to(PROJECT_ROOT).as_posix()
    return config_path


def check_evaluation(config_path: str, municipality: str | None = None) -> EvaluationConfig:
    """Load the evaluation configuration and refuse it (ConfigError) if it cannot be run."""
    config = load_config(PROJECT_ROOT / config_path, municipality)
    municipalities = pd.read_csv(PROCESSED_DIR / "municipalities.csv", dtype=str)
    indicators = pd.read_csv(PROCESSED_DIR / "indicators.csv", dtype={"municipality_code": str})
    groups = pd.read_csv(PROCESSED_DIR / "municipality_groups.csv", dtype=str)
    check_config(config, load_catalog(), municipalities, indicators, groups)
    return name_run(config, dict(zip(municipalities["code"], municipalities["name"], strict=True)))


def output_dir(config: EvaluationConfig, reports_dir: Path = REPORTS_DIR) -> Path:
    """Where a run's report goes: `reports/` for the shipped evaluations, the git-ignored
    `reports/kommuner/` (never collected by the tests) for another municipality."""
    return Path(reports_dir) / OTHER_RUNS_DIR if config.is_other_municipality else Path(reports_dir)


def check_workbooks_before_report(raw_dir: Path = RAW_DIR, manual_dir: Path = MANUAL_DIR) -> None:
    """Refuse personal data in any workbook the notebooks may read, before any kernel starts."""
    workbooks.check_folder(manual_dir)
    workbooks.check_folder(raw_dir)


def inside_reports(reports_dir: Path, *parts: str) -> Path:
    """`reports_dir/parts…`, refused (ConfigError) if it would leave `reports_dir`."""
    base = Path(reports_dir).resolve()
    path = base.joinpath(*parts).resolve()
    if path == base or not path.is_relative_to(base):
        raise ConfigError(
            f"utdatasökvägen {'/'.join(parts)!r} hamnar utanför {reports_dir}; "
            "utvärderingens id får bara innehålla a–z, 0–9 och bindestreck"
        )
    return Path(reports_dir).joinpath(*parts)


def is_default_run(config_path: str, municipality: str | None) -> bool:
    """True when the run is the notebooks' own defaults (then they are executed in place)."""
    return Path(_relative_config(config_path)) == Path(DEFAULT_CONFIG) and not municipality


def run_report(
    config_path: str,
    municipality: str | None = None,
    reports_dir: Path = REPORTS_DIR,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    execute: bool = True,
    publish: bool = True,
) -> ReportResult:
    """Check the configuration, execute the notebooks, export `reports/<config id>.html`,
    then (`publish`) the A4 PDF, the citizen page and the results export beside it
    (`publication.write_publications`).

    With the default configuration and no municipality override the notebooks in
    `notebooks_dir` are executed in place; otherwise into `reports_dir/<config id>/notebooks`.
    """
    started = perf_counter()
    config = check_evaluation(config_path, municipality)
    check_workbooks_before_report()
    check_seconds = perf_counter() - started
    if is_default_run(config_path, municipality):
        target = Path(notebooks_dir)
    else:
        target = inside_reports(output_dir(config, reports_dir), config.id, "notebooks")
    parameters = {"config": _relative_config(config_path), "municipality": municipality or ""}
    timings: list[NotebookTiming] = []
    if execute:
        for name in REPORT_ORDER:
            timings.append(_execute(Path(notebooks_dir) / name, target / name, parameters, 600))
    executed = tuple(target / name for name in REPORT_ORDER)
    started = perf_counter()
    html_path = export_report(
        executed,
        inside_reports(output_dir(config, reports_dir), f"{config.id}.html"),
        config.title,
        sources_appendix_markdown(RAW_DIR) + "\n" + implementation.log_source_markdown(config),
        report_info(config),
    )
    export_seconds = perf_counter() - started
    started = perf_counter()
    publications: tuple[Path, ...] = ()
    if publish:
        from medlofte_analysis.evaluate import run_evaluation
        from medlofte_analysis.publication import write_publications

        evaluation = run_evaluation(_relative_config(config_path), municipality or "")
        publications = write_publications(evaluation, executed, output_dir(config, reports_dir))
    return ReportResult(
        html=html_path,
        notebooks=executed,
        check_seconds=check_seconds,
        notebook_timings=tuple(timings),
        export_seconds=export_seconds,
        publications=publications,
        publish_seconds=perf_counter() - started,
    )
