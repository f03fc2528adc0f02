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
import html
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

import nbformat
import pandas as pd

from medlofte_analysis.catalog import load_catalog
from medlofte_analysis.config import (
    NOTEBOOKS_DIR,
    PROCESSED_DIR,
    PROJECT_ROOT,
    RAW_DIR,
    REPORTS_DIR,
)
from medlofte_analysis.errors import ConfigError, InputError
from medlofte_analysis.evaluation_config import EvaluationConfig, check_config, load_config

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
KERNEL_NAME: str = "python3"
REMOVE_TAG: str = "remove-in-report"
INJECTED_CELL_ID: str = "injected-parameters"
TOC_ID: str = "innehall"
CONFIDENCE_SV: dict[str, str] = {"high": "hög", "medium": "medel", "low": "låg"}
_HEADING = re.compile(r"^ {0,3}(#{1,2})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_URL = re.compile(r"https?://[^\s<>)\"]+")
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>]|(?<!\w)_|_(?!\w))")  # intraword _ is literal

# A template on top of nbconvert's "lab" template: no script or stylesheet fetched over the
# network (require.js, MathJax, mermaid, widgets are dropped), a table of contents after <main>.
_TEMPLATE_NAME = "medlofte_report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
main { max-width: 60rem; margin: 0 auto; }
.rapport-titel { font-size: 1.9em; font-weight: bold; margin: 1rem 0 0.5rem;
  font-family: var(--jp-content-font-family, sans-serif); }
.rapport-huvud p { font-family: var(--jp-content-font-family, sans-serif); }
nav#innehall { margin: 1.5rem 0 2rem; padding: 0.75rem 1.25rem; border: 1px solid #ccc;
  font-family: var(--jp-content-font-family, sans-serif);
  font-size: var(--jp-content-font-size1, 14px); }
nav#innehall .toc-titel { font-weight: bold; font-size: 1.2em; margin: 0 0 0.5rem; }
nav#innehall ul { margin: 0; padding-left: 0; list-style: none; }
nav#innehall li.toc-h1 { font-weight: bold; margin-top: 0.4rem; }
nav#innehall li.toc-h2 { margin-left: 1.5rem; }
table.tabell td, table.tabell th { text-align: left; vertical-align: top; }
@media print { nav#innehall { page-break-after: always; } }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.medlofte_toc }}
{%- endblock body_header -%}
"""


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

    @property
    def total_seconds(self) -> float:
        """Checking, executing and exporting together."""
        executed = sum(timing.total for timing in self.notebook_timings)
        return self.check_seconds + executed + self.export_seconds


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
        on_notebook_start=on_notebook_start,
        on_cell_executed=on_cell_executed,
    )
    make_deterministic(executed)
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


def _title_html(title: str) -> str:
    """The report's title and a one-line description of what it is."""
    return (
        '<header class="rapport-huvud">'
        f'<p class="rapport-titel" role="heading" aria-level="1">{html.escape(title)}</p>'
        "<p>Utvärderingsrapport skapad med medlofte-analysis från publicerad statistik. "
        "Sammanfattningen kommer först; metod, begränsningar och källor sist.</p>"
        "</header>"
    )


def _toc_html(headings: Sequence[Heading]) -> str:
    """The table of contents: one link per heading, in reading order."""
    items = [
        f'<li class="toc-h{h.level}"><a href="#{h.anchor}">{html.escape(h.text)}</a></li>'
        for h in headings
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


def _report_cells(
    notebook: nbformat.NotebookNode, index: int, used: set[str]
) -> tuple[list[nbformat.NotebookNode], list[Heading]]:
    """The cells of one notebook as they go into the report, and its headings."""
    cells: list[nbformat.NotebookNode] = []
    headings: list[Heading] = []
    for number, original in enumerate(notebook.cells):
        if REMOVE_TAG in original.metadata.get("tags", []):
            continue
        if original.cell_type == "code" and not original.get("outputs"):
            continue
        cell = copy.deepcopy(original)
        cell["id"] = f"nb{index}-{number}"
        if cell.cell_type == "markdown":
            cell.source, found = _anchor_headings(cell.source, used)
            headings += found
        cells.append(cell)
    return cells, headings


def _merge(
    notebooks: Sequence[Path], title: str, appendix_markdown: str
) -> tuple[nbformat.NotebookNode, list[Heading]]:
    """One notebook holding every notebook's report cells, then the appendix."""
    used: set[str] = {TOC_ID}
    merged = nbformat.v4.new_notebook()
    headings: list[Heading] = []
    for index, path in enumerate(notebooks):
        notebook = nbformat.read(path, as_version=4)
        if index == 0:
            merged.metadata = copy.deepcopy(notebook.metadata)
        cells, found = _report_cells(notebook, index, used)
        merged.cells += cells
        headings += found
    source, found = _anchor_headings(appendix_markdown, used)
    merged.cells.append(nbformat.v4.new_markdown_cell(source, id="bilaga"))
    merged.metadata["title"] = title
    return merged, headings + found


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
    notebooks: Sequence[Path], output_html: Path, title: str, appendix_markdown: str
) -> Path:
    """Write one standalone HTML report of the notebooks, in order, with a table of contents.

    Cells tagged `remove-in-report` and code cells without output are left out; the
    appendix (markdown) comes last. The file is byte-identical across exports.
    """
    paths = [Path(p) for p in notebooks]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise InputError(
            paths[0].parent, None, "the executed notebooks (execute them first)", missing
        )
    merged, headings = _merge(paths, title, appendix_markdown)
    resources = {
        "metadata": {"name": title, "path": str(paths[0].parent) if paths else "."},
        "medlofte_toc": _title_html(title) + "\n" + _toc_html(headings),
    }
    body, _ = _exporter().from_notebook_node(merged, resources=resources)
    output_html = Path(output_html)
    _write_atomic(output_html, body if body.endswith("\n") else body + "\n")
    return output_html


# --- Sources appendix ----------------------------------------------------------------------------


def _md_text(text: str) -> str:
    """Escape markdown in free text, turning web addresses into links."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        parts.append(_MD_SPECIAL.sub(r"\\\1", text[position : match.start()]))
        parts.append(f"<{match.group(0)}>")
        position = match.end()
    parts.append(_MD_SPECIAL.sub(r"\\\1", text[position:]))
    return "".join(parts)


def _source_item(source: dict[str, str], files: int, derived: int) -> str:
    """One source as a markdown list item (Swedish)."""
    confidence = CONFIDENCE_SV.get(source["confidence"], source["confidence"])
    lines = [
        f"- **{_md_text(source['title'])}** ({_md_text(source['publisher'])}), "
        f"id `{source['source_id']}`",
        f"  - Källhänvisning: {_md_text(source['attribution'])}",
        f"  - Ursprung: {_md_text(source['origin'])}",
        f"  - Hämtad: {_md_text(source['retrieved'])}; licens: {_md_text(source['licence'])}",
        f"  - Tillförlitlighet: {_md_text(confidence)}; råfiler: {files}"
        + (f" (varav {derived} härledda ur andra råfiler)" if derived else ""),
    ]
    if source["note"].strip():
        lines.append(f"  - Anmärkning: {_md_text(source['note'])}")
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
            "## Källor",
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
    return config


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
) -> ReportResult:
    """Check the configuration, execute the notebooks, export `reports/<config id>.html`.

    With the default configuration and no municipality override the notebooks in
    `notebooks_dir` are executed in place; otherwise into `reports_dir/<config id>/notebooks`.
    """
    started = perf_counter()
    config = check_evaluation(config_path, municipality)
    check_seconds = perf_counter() - started
    if is_default_run(config_path, municipality):
        target = Path(notebooks_dir)
    else:
        target = inside_reports(reports_dir, config.id, "notebooks")
    parameters = {"config": _relative_config(config_path), "municipality": municipality or ""}
    timings: list[NotebookTiming] = []
    if execute:
        for name in REPORT_ORDER:
            timings.append(_execute(Path(notebooks_dir) / name, target / name, parameters, 600))
    executed = tuple(target / name for name in REPORT_ORDER)
    started = perf_counter()
    html_path = export_report(
        executed,
        inside_reports(reports_dir, f"{config.id}.html"),
        config.title,
        sources_appendix_markdown(RAW_DIR),
    )
    return ReportResult(
        html=html_path,
        notebooks=executed,
        check_seconds=check_seconds,
        notebook_timings=tuple(timings),
        export_seconds=perf_counter() - started,
    )
