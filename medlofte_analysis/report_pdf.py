"""The A4 PDF of the report, from the same content as the HTML: the executed notebooks.

The cells the HTML report shows (`report.REMOVE_TAG` cells and code without output left out,
never the code) become content blocks: markdown cells and markdown outputs as text, HTML
outputs as tables, PNG outputs as figures; then the sources appendix. `typst/report.typ` lays
them out after a cover with the dates, the version and the contact (`publication`), with
"Sida N av M" on every page after the cover and each notebook's title on a new page.
"""

from __future__ import annotations

import base64
import re
import struct
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.publication import PublicationInfo
from medlofte_analysis.report import REMOVE_TAG, number_captions, sources_appendix_markdown
from medlofte_analysis.typst_pdf import Block, compile_pdf, html_blocks, markdown_blocks

TEMPLATE = "report.typ"
TABLE_CAPTION = re.compile(r"Tabell \d+\. ")
LEAD_TAG = "lead"  # notebook 01: the question, the answer and the scorecard
FIGURE_CAPTION_START = ("Figur", "Diagram")
TEXT_WIDTH_CM, MAX_FIGURE_HEIGHT_CM = 17.0, 21.0  # A4 less margins; room left for a caption


def _figure_width(png: bytes) -> float:
    """The share of the text width a figure gets: all of it, unless it would then be taller
    than `MAX_FIGURE_HEIGHT_CM` (a tall figure would run off the page)."""
    width, height = struct.unpack(">II", png[16:24])  # the PNG header (IHDR) holds the size
    if not width or not height:
        return 1.0
    return round(min(1.0, MAX_FIGURE_HEIGHT_CM / (TEXT_WIDTH_CM * height / width)), 3)


def _output_blocks(
    output: Any, images: dict[str, bytes], captions: Counter[str] | None = None
) -> list[Block]:
    """Blocks of one cell output, in the order the HTML export prefers its formats."""
    if output.get("output_type") == "stream":
        if output.get("name") == "stdout" and output.get("text", "").strip():
            return [{"type": "code", "text": output["text"].rstrip("\n")}]
        return []
    data = output.get("data", {})
    if "image/png" in data:
        name = f"figur-{len(images) + 1}.png"
        images[name] = base64.b64decode(data["image/png"])
        return [{"type": "image", "path": name, "alt": "", "width": _figure_width(images[name])}]
    if "text/markdown" in data:
        return markdown_blocks(data["text/markdown"])
    if "text/html" in data:
        # Captions numbered in reading order, as the HTML export numbers them.
        return html_blocks(number_captions(data["text/html"], captions))
    return []


def _plain(block: Block) -> str:
    def walk(spans: list[dict[str, Any]]) -> str:
        return "".join(s.get("text", "") + walk(s.get("children", [])) for s in spans)

    return walk(block.get("content", []))


def _with_alt_texts(blocks: list[Block]) -> list[Block]:
    """Every figure gets an alt text: its caption when one follows ("Figur …"), else the
    heading it stands under."""
    heading = "rapporten"
    for index, block in enumerate(blocks):
        if block["type"] == "heading":
            heading = _plain(block)
        elif block["type"] == "image":
            following = blocks[index + 1] if index + 1 < len(blocks) else {}
            caption = _plain(following) if following.get("type") == "paragraph" else ""
            block["alt"] = (
                caption
                if caption.startswith(FIGURE_CAPTION_START)
                else f"Diagram i avsnittet {heading}"
            )
    return blocks


def notebook_blocks(notebooks: Sequence[Path]) -> tuple[list[Block], dict[str, bytes]]:
    """The report's content blocks from executed notebooks, and the figures they name."""
    blocks: list[Block] = []
    images: dict[str, bytes] = {}
    captions: Counter[str] = Counter()
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if REMOVE_TAG in cell.metadata.get("tags", []):
                continue
            if cell.cell_type == "markdown":
                blocks += markdown_blocks(cell.source)
            elif cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    blocks += _output_blocks(output, images, captions)
    for number, table in enumerate(b for b in blocks if b["type"] == "table"):
        table["id"] = number
    for block in blocks:  # a table's caption is never left alone at the foot of a page
        if block["type"] == "paragraph" and TABLE_CAPTION.match(_plain(block)):
            block["sticky"] = True
    return _with_alt_texts(blocks), images


def lead_blocks(notebooks: Sequence[Path]) -> list[Block]:
    """The answer in a few sentences (the first cell tagged `lead` with a Markdown output, in
    the summary notebook), for the cover: the answer is on page 1 of the printed report."""
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or LEAD_TAG not in cell.metadata.get("tags", []):
                continue
            for output in cell.get("outputs", []):
                markdown = output.get("data", {}).get("text/markdown")
                if markdown:
                    return markdown_blocks(markdown)
    return []


def report_pdf_data(
    info: PublicationInfo, blocks: list[Block], answer: list[Block] | None = None
) -> dict[str, Any]:
    """The data the template reads: cover facts, the answer and the content blocks."""
    kicker = "Metoddemonstration" if info.demonstration else "Utvärdering av medborgarlöftet"
    return {
        "title": info.title,
        "short_title": info.municipality.split(" (")[0] + ": " + info.period,
        "author": "medlofte-analysis",
        "kicker": kicker,
        "subtitle": f"{info.municipality}; {info.period}",
        "cover": [
            ["Kommun", info.municipality],
            ["Jämförelse", info.period],
            ["Datum för data", info.data_date],
            ["Rapportens datum", info.report_date.isoformat()],
            ["Version", info.version],
            ["Kontakt", info.contact],
            ["Utvärderingsfil", info.config_path],
        ],
        "cover_note": (
            "Rapporten är skapad med medlofte-analysis från publicerad statistik. Samma innehåll "
            "finns som webbsida; resultaten finns som Excelfil och en sammanfattning för "
            "invånare som egen sida. Källor och metod redovisas sist i rapporten."
        ),
        "answer": answer or [],
        "blocks": blocks,
    }


def report_document(
    notebooks: Sequence[Path], info: PublicationInfo, raw_dir: Path = RAW_DIR
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The template's data and the figures, from the executed notebooks and the sources."""
    paths = [Path(p) for p in notebooks]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise InputError(paths[0].parent, None, "de körda notebookarna (kör dem först)", missing)
    blocks, images = notebook_blocks(paths)
    blocks += markdown_blocks(sources_appendix_markdown(raw_dir))
    return report_pdf_data(info, blocks, lead_blocks(paths)), images


def write_report_pdf(
    notebooks: Sequence[Path], output: Path, info: PublicationInfo, raw_dir: Path = RAW_DIR
) -> Path:
    """Write the A4 PDF of the executed notebooks and the sources appendix to `output`."""
    data, images = report_document(notebooks, info, raw_dir)
    pdf = compile_pdf(TEMPLATE, data, info.timestamp, images)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(pdf)
    return output
