"""The exported report as a reader sees it: rendered by real headless Chromium, offline.

Uses the committed executed notebooks in `notebooks/` (Knivsta) and
`reports/demo-dalarna/notebooks/` (the demonstration) when they exist, otherwise a tiny notebook.
A copy of each report gets a measuring script that writes what Chromium laid out (at 1280×800,
at the A4 text width and on a phone) into the DOM: where the answer and the scorecard are, table
and header edges against the text column, words in tables broken inside themselves, each
figure's caption and source, and the visible text (checked for English words and decimal
points). Saves a screenshot of the first screen to `test-artifacts/` (git-ignored).
"""

from __future__ import annotations

import base64
import html as html_module
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from medlofte_analysis.config import NOTEBOOKS_DIR, PROCESSED_DIR, PROJECT_ROOT, RAW_DIR
from medlofte_analysis.presentation import show
from medlofte_analysis.report import (
    REPORT_ORDER,
    ReportInfo,
    export_report,
    sources_appendix_markdown,
)

ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS_DIR / "report-first-screen.png"
DEMO_NOTEBOOKS = PROJECT_ROOT / "reports" / "demo-dalarna" / "notebooks"
INFO = ReportInfo("t.o.m. 2024", "1 januari 2026", "medlofte-analysis 0.1.0 (git 0000000)", "")
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
    return export_report(report_notebooks(folder), output, "Medborgarlöfte: test", appendix, INFO)


def demo_notebooks() -> list[Path]:
    """The committed executed demonstration (real multi-year data, the widest tables)."""
    paths = [DEMO_NOTEBOOKS / name for name in REPORT_ORDER]
    if not all(p.exists() and has_outputs(p) for p in paths) or not PROCESSED_DIR.exists():
        pytest.skip("the executed demonstration notebooks are missing (run make all)")
    return paths


#: A window whose text column is as wide as an A4 page's with 15 mm margins (180 mm ≈ 680
#: CSS px), where the tables must still fit.
A4_WINDOW_PX = 720
#: A phone held upright (CSS px): 420 a large one, 360 a small one.
PHONE_WINDOW_PX = 420
SMALL_PHONE_WINDOW_PX = 360
# (notebooks, window width): the screen, the A4 text width, and phones.
LAYOUTS = {
    "knivsta": ("knivsta", 1280),
    "knivsta-a4": ("knivsta", A4_WINDOW_PX),
    "knivsta-phone": ("knivsta", PHONE_WINDOW_PX),
    "demo": ("demo", 1280),
    "demo-a4": ("demo", A4_WINDOW_PX),
    "demo-phone": ("demo", PHONE_WINDOW_PX),
    "demo-small-phone": ("demo", SMALL_PHONE_WINDOW_PX),
}
#: The narrowest column of the scorecard and the results tables at the A4 text width. The
#: columns are as wide as their longest word at least (the numbers column "p (q)" holds
#: "(0,953)" in some 55 px); they had shrunk to two or three letters.
MIN_COLUMN_PX = 50


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def measured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A report rendered by Chromium, measured in the DOM by MEASURE_SCRIPT."""
    chromium = find_chromium()
    notebooks_name, width = LAYOUTS[request.param]
    folder = tmp_path_factory.mktemp(f"measured-{request.param}")
    notebooks = report_notebooks(folder) if notebooks_name == "knivsta" else demo_notebooks()
    html = export_report(
        notebooks,
        folder / "rapport.html",
        "Medborgarlöfte: test",
        sources_appendix_markdown(RAW_DIR),
        INFO,
    ).read_text(encoding="utf-8")
    return {**measure(chromium, folder, html, width), "window": width, "notebooks": notebooks_name}


def measure(chromium: str, folder: Path, html: str, width: int) -> dict[str, Any]:
    """What MEASURE_SCRIPT finds in `html` laid out `width` CSS px wide and 800 high."""
    # A copy with a measuring script (the report itself has none). Chromium's headless window
    # is at least 500 px wide, so the copy is shown in a frame of the width measured; the
    # script hands its findings to the page around the frame, and --dump-dom returns them.
    probe = folder / "matt.html"
    probe.write_text(html.replace("</body>", f"<script>{MEASURE_SCRIPT}</script></body>"), "utf-8")
    frame = folder / "ram.html"
    frame.write_text(FRAME_PAGE.replace("WIDTH", str(width)), "utf-8")
    dom = run_chromium(
        chromium,
        folder / "profile",
        f"--window-size={max(width, 500)},800",
        "--virtual-time-budget=10000",
        "--dump-dom",
        frame.as_uri(),
    ).stdout
    match = re.search(r'<pre id="matning">(.*?)</pre>', dom, re.DOTALL)
    assert match, "the measuring script did not run"
    return json.loads(html_module.unescape(match.group(1)))


FRAME_PAGE = """<!DOCTYPE html>
<html><body style="margin:0">
<iframe src="matt.html" style="display:block;border:0;width:WIDTHpx;height:800px"></iframe>
<script>
window.addEventListener('message', function (event) {
  var pre = document.createElement('pre');
  pre.id = 'matning';
  pre.textContent = event.data;
  document.body.appendChild(pre);
});
</script>
</body></html>
"""


MEASURE_SCRIPT = """
function text(parent, selector) {
  var found = parent ? parent.querySelector(selector) : null;
  return found ? found.innerText : '';
}
// The words of an element laid out on more than one line: a line may end at a space, or
// after a hyphen, a dash or a slash (<wbr>), nowhere else.
function brokenWords(element) {
  var found = [];
  var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (var node = walker.nextNode(); node; node = walker.nextNode()) {
    var word = /[^ \\t\\n\\r\\-–—\\/]+[\\-–—\\/]*/g, match;
    while ((match = word.exec(node.data))) {
      var range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      var lines = new Set();
      Array.from(range.getClientRects()).forEach(function (r) {
        if (r.width > 0) { lines.add(Math.round(r.top)); }
      });
      if (lines.size > 1) { found.push(match[0]); }
    }
  }
  return found;
}
window.addEventListener('load', function () {
  var main = document.querySelector('main') || document.body;
  var box = main.getBoundingClientRect();
  var result = {width: box.width, tables: [], figures: [], text: '', screen: {}};
  document.querySelectorAll('table').forEach(function (table, i) {
    var r = table.getBoundingClientRect();
    var block = table.closest('.tabellblock');
    result.tables.push({
      index: i, id: table.id, left: r.left - box.left, right: r.right - box.left,
      scroll: table.scrollWidth, client: table.clientWidth,
      caption: text(block, '.bildtext'),
      source: text(block, '.kalla'),
      headers: Array.from(table.querySelectorAll('thead th')).map(function (th) {
        var h = th.getBoundingClientRect();
        return {text: th.innerText, right: h.right - box.left, width: h.width};
      })
    });
  });
  document.querySelectorAll('img').forEach(function (img) {
    var child = img.closest('.jp-OutputArea-child');
    var next = child ? child.nextElementSibling : null;
    var r = img.getBoundingClientRect();
    result.figures.push({
      width: r.width, right: r.right - box.left,
      caption: text(next, '.bildtext'),
      source: text(next, '.kalla')
    });
  });
  var outputs = document.querySelectorAll('.jp-OutputArea-output');
  var answer = outputs.length ? outputs[0].getBoundingClientRect() : null;
  var card = document.querySelector('#resultattavla tbody tr');
  var toc = document.querySelector('#innehall');
  result.screen = {
    answer_top: answer ? answer.top : null, answer_bottom: answer ? answer.bottom : null,
    answer_text: outputs.length ? outputs[0].innerText : '',
    scorecard_row_top: card ? card.getBoundingClientRect().top : null,
    // The first row's cells, top to bottom (on a phone a row is a card).
    scorecard_row: card ? Array.from(card.cells).map(function (cell) {
      return {label: cell.getAttribute('data-label') || '', top: cell.getBoundingClientRect().top};
    }).sort(function (a, b) { return a.top - b.top; }).map(function (c) { return c.label; }) : [],
    toc_top: toc ? toc.getBoundingClientRect().top : null
  };
  // Table cells shown: words broken inside themselves, content wider than its cell.
  result.broken = [];
  result.spilling = [];
  document.querySelectorAll('main td, main th').forEach(function (cell) {
    if (!cell.getClientRects().length) { return; }  // not shown (a phone's header row)
    if (cell.scrollWidth > cell.clientWidth + 1) { result.spilling.push(cell.innerText); }
    brokenWords(cell).forEach(function (w) { result.broken.push(w); });
  });
  // Sideways scrolling: the page, and any output (a table wider than the text column).
  result.page = {scroll: document.documentElement.scrollWidth,
                 client: document.documentElement.clientWidth};
  result.scrolled = Array.from(outputs).filter(function (o) {
    return o.scrollWidth > o.clientWidth + 1;
  }).map(function (o) { return o.innerText.slice(0, 80); });
  result.text = document.body.innerText;
  var wide = [];
  document.querySelectorAll('main p, main li, main a').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right - box.left > box.width + 1 || el.scrollWidth > el.clientWidth + 1) {
      wide.push(el.innerText.slice(0, 80));
    }
  });
  result.overflowing = wide;
  if (window.parent !== window) {  // in the frame of FRAME_PAGE
    window.parent.postMessage(JSON.stringify(result), '*');
    return;
  }
  var pre = document.createElement('pre');
  pre.id = 'matning';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
"""

# Words that betray English in reader-facing text (none of them is a Swedish word).
ENGLISH_WORDS: frozenset[str] = frozenset(
    "the and with of not from only cannot dropped events interval estimate ratio comparison "
    "approximation derived published weights donor donors description provided image "
    "unknown repository commit date values page pages saved following table "
    "downloaded registered typed reports into genuine old ends file files".split()
)
# Names and fixed strings that may stay as they are: source names, licences, the version.
ALLOWED: tuple[str, ...] = (
    r"https?://\S+",
    r"medlofte-analysis \d+\.\d+\.\d+",
    r"CC0? (BY )?\d\.\d",
    r"data/\S+",
    r"medlofte (?:fetch|all|report|build)[^\n]*?(?=\s{2,}|\n|$|<fil>)",  # commands to type
    r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b",  # identifiers of sources (source_id)
)


def reader_text(text: str) -> str:
    for pattern in ALLOWED:
        text = re.sub(pattern, " ", text)
    return text


def test_first_screen_holds_the_answer_and_the_scorecard(measured: dict[str, Any]) -> None:
    if measured["window"] != 1280:
        pytest.skip("the first screen is measured at 1280×800")
    screen = measured["screen"]
    assert screen["answer_text"].strip(), "no answer before the scorecard"
    assert screen["answer_bottom"] <= 800
    assert screen["scorecard_row_top"] is not None and screen["scorecard_row_top"] < 800
    assert screen["toc_top"] > screen["scorecard_row_top"]  # the contents come after


def test_no_table_overflows_the_text_column(measured: dict[str, Any]) -> None:
    width = measured["width"]
    for table in measured["tables"]:
        assert table["right"] <= width + 1, (table["id"], table["caption"], table["right"], width)
        assert table["scroll"] <= table["client"] + 1, table["caption"]
        for header in table["headers"]:
            assert header["right"] <= width + 1, (table["caption"], header["text"])


def test_no_text_runs_past_the_text_column(measured: dict[str, Any]) -> None:
    # Long links in the list of sources ran past the right margin of the printed page.
    assert measured["overflowing"] == []


def test_scorecard_and_results_columns_keep_room_for_words(measured: dict[str, Any]) -> None:
    # At the A4 text width the browser shrank these columns to two or three letters (numbers
    # broke digit by digit, the verdict letter by letter) beside a note that took the rest.
    if measured["window"] != A4_WINDOW_PX or measured["notebooks"] != "demo":
        pytest.skip("measured at the A4 text width, on the demonstration's long notes")
    wide = [
        table
        for table in measured["tables"]
        if table["id"] == "resultattavla" or "Anmärkning" in [h["text"] for h in table["headers"]]
    ]
    assert wide
    for table in wide:
        for header in table["headers"]:
            assert header["width"] >= MIN_COLUMN_PX, (table["caption"], header)


def test_a_note_has_a_line_of_its_own_at_the_a4_width(measured: dict[str, Any]) -> None:
    # Beside six columns a note left them about 10 % each and words broke ("privatper|son").
    if measured["window"] != A4_WINDOW_PX or measured["notebooks"] != "demo":
        pytest.skip("measured at the A4 text width, on the demonstration's long notes")
    noted = [t for t in measured["tables"] if "Anmärkning" in [h["text"] for h in t["headers"]]]
    assert noted
    for table in noted:
        note = next(h for h in table["headers"] if h["text"] == "Anmärkning")
        assert note["width"] >= 0.9 * (table["right"] - table["left"]), table["caption"]


def test_no_word_in_a_table_breaks_inside_itself(measured: dict[str, Any]) -> None:
    # At 420 px the scorecard's five columns broke "Försämr|ing", "invåna|re" and "100 00|0",
    # the results tables "privatper|son"; on the printed page "Skadegörelse|brott".
    assert measured["broken"] == []


def test_no_table_cell_holds_more_than_its_width(measured: dict[str, Any]) -> None:
    assert measured["spilling"] == []


def test_a_phone_scrolls_neither_the_page_nor_a_table_sideways(measured: dict[str, Any]) -> None:
    # Tables wider than a phone (all measures, coverage, settings) had to be scrolled sideways.
    if measured["window"] > PHONE_WINDOW_PX:
        pytest.skip("measured on a phone")
    assert measured["page"]["scroll"] <= measured["page"]["client"]
    assert measured["scrolled"] == []
    for table in measured["tables"]:
        assert table["right"] <= measured["width"] + 1, (table["caption"], table["right"])


def test_a_phone_shows_the_answer_then_each_outcome_with_its_verdict(
    measured: dict[str, Any],
) -> None:
    if measured["window"] > PHONE_WINDOW_PX or measured["notebooks"] != "demo":
        pytest.skip("measured on a phone, on the demonstration's scorecard")
    screen = measured["screen"]
    assert screen["answer_text"].strip()
    assert screen["answer_bottom"] <= screen["scorecard_row_top"]
    # A row is a card: the outcome, its verdict, then the numbers.
    assert screen["scorecard_row"][:2] == ["Primärt utfall", "Bedömning"]
    assert len(screen["scorecard_row"]) == 5


def nine_columns_and_a_note() -> pd.DataFrame:
    """A table wider than any of the report's: nine columns of long Swedish words and a note."""
    note = (
        "Överspridning skattad gemensamt ur 15 kommuners år 2017–2022; för kommunens perioder "
        "blir överspridningsfaktorn 1,66, där osäkerheten i skattningen är inräknad."
    )
    row = {
        "Mått": "Skadegörelsebrott",
        "Källa": "Brå, lägesbild",
        "Metod": "skillnad i skillnader mot jämförelsegruppen",
        "Skattning": "kvot (kommunen/jämförelsegruppen): 0,97",
        "Intervall": "0,35 till 2,68",
        "p": "0,918",
        "q": "0,987",
        "Minsta upptäckbara förändring": "+163 % eller −64 %",
        "Bedömning": "Ingen påvisbar förändring",
        "Anmärkning": note,
    }
    return pd.DataFrame([row, row])


@pytest.mark.parametrize("width", [SMALL_PHONE_WINDOW_PX, PHONE_WINDOW_PX, A4_WINDOW_PX])
def test_a_table_of_nine_columns_and_a_note_keeps_its_words_whole(
    width: int, tmp_path: Path
) -> None:
    # Nine columns beside a note share the six columns of the results tables' grid.
    chromium = find_chromium()
    cell = new_code_cell("show(tabell)", execution_count=1)
    cell.outputs = [
        new_output("display_data", data={"text/html": show(nine_columns_and_a_note()).data})
    ]
    notebook = new_notebook()
    notebook.cells = [new_markdown_cell("# Resultat\n\nEn bred tabell."), cell]
    nbformat.write(notebook, tmp_path / "01-sammanfattning.ipynb")
    html = export_report(
        [tmp_path / "01-sammanfattning.ipynb"], tmp_path / "rapport.html", "Test", "# Källor"
    ).read_text(encoding="utf-8")
    found = measure(chromium, tmp_path, html, width)
    assert "kolumner-9" in html
    assert found["broken"] == []
    assert found["spilling"] == []
    assert found["page"]["scroll"] <= found["page"]["client"]
    assert found["scrolled"] == []


def test_every_table_has_a_numbered_caption_and_a_source(measured: dict[str, Any]) -> None:
    for number, table in enumerate(measured["tables"], start=1):
        assert table["caption"].startswith(f"Tabell {number}."), table
        assert table["source"].startswith("Källa: "), table


def test_every_figure_has_a_numbered_caption_and_a_source(measured: dict[str, Any]) -> None:
    if measured["notebooks"] == "demo":
        assert measured["figures"]  # real multi-year data: there are trend figures
    for number, figure in enumerate(measured["figures"], start=1):
        assert figure["caption"].startswith(f"Figur {number}."), figure
        assert figure["source"].startswith("Källa: "), figure


def test_figures_use_the_full_text_width(measured: dict[str, Any]) -> None:
    for figure in measured["figures"]:
        assert figure["width"] >= 0.95 * measured["width"] - 40
        assert figure["right"] <= measured["width"] + 1


def test_reader_text_has_no_english_words(measured: dict[str, Any]) -> None:
    words = re.findall(r"[a-zåäö]+", reader_text(measured["text"]).lower())
    found = sorted({word for word in words if word in ENGLISH_WORDS})
    assert found == [], ", ".join(found)


def test_reader_text_has_decimal_commas_only(measured: dict[str, Any]) -> None:
    text = reader_text(measured["text"])
    assert re.findall(r".{20}\d\.\d.{20}", text) == []


def test_large_numbers_are_grouped_with_a_thin_space(measured: dict[str, Any]) -> None:
    text = reader_text(measured["text"])
    ungrouped = re.findall(r"(?<![\w-])[+−]\d{4,}", text)
    assert ungrouped == []


def test_screenshot_of_the_first_screen_is_saved(report: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    run_chromium(
        chromium,
        tmp_path / "profile",
        f"--screenshot={SCREENSHOT}",
        "--window-size=1280,800",
        "--hide-scrollbars",
        report.as_uri(),
    )
    assert SCREENSHOT.exists()
    assert SCREENSHOT.stat().st_size > 10_000


def test_rendered_dom_has_toc_scorecard_and_sources(report: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    dom = run_chromium(chromium, tmp_path / "profile", "--dump-dom", report.as_uri()).stdout
    assert 'id="innehall"' in dom
    assert 'id="resultattavla"' in dom or "<img" in dom  # the tiny notebook has a figure
    assert "Källor" in dom
