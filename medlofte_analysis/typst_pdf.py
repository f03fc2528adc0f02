"""PDF with Typst: content as data, laid out by the templates in `medlofte_analysis/typst/`.

Why Typst (the `typst` package on PyPI): its wheels carry the whole compiler and its fonts, so
the PDF is made offline and identically on Linux, macOS and the analysts' Windows laptops,
without system libraries (WeasyPrint needs Pango/GTK, which is painful on Windows). Python
never writes Typst markup: it writes the content to `data.json` as blocks, and the template
reads it, so no text can be misread as markup.

Blocks (dicts): `heading` (level, content), `paragraph` (content), `list` (ordered, items:
lists of blocks), `quote` (blocks), `code` (text), `table` (header, rows, widths), `image`
(path, alt), `rule`. Content is a list of spans: `text` (text), `strong`/`emph` (children),
`code` (text), `link` (url, children), `break`.

The PDF is stable: only the fonts inside the wheel are used (no system fonts), and the
creation date is the one given, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from medlofte_analysis.config import PACKAGE_DIR
from medlofte_analysis.swedish import unbroken_percent

TEMPLATES_DIR: Path = PACKAGE_DIR / "typst"
Block = dict[str, Any]
Span = dict[str, Any]


def _unbroken_percent(value: Any) -> Any:
    """Every string of ``value`` (nested lists and dicts) with the space between a number
    and its per cent sign made a no-break space (:func:`~medlofte_analysis.swedish.
    unbroken_percent`), so a printed line never breaks there."""
    if isinstance(value, str):
        return unbroken_percent(value)
    if isinstance(value, list):
        return [_unbroken_percent(v) for v in value]
    if isinstance(value, dict):
        return {k: _unbroken_percent(v) for k, v in value.items()}
    return value


@contextmanager
def _project(template: str, data: dict[str, Any], files: dict[str, bytes] | None) -> Iterator[Path]:
    """A temporary Typst project: the template, common.typ, data.json and the files."""
    with tempfile.TemporaryDirectory(prefix="medlofte-typst-") as folder:
        root = Path(folder)
        for name in ("common.typ", template):
            shutil.copyfile(TEMPLATES_DIR / name, root / name)
        (root / "data.json").write_text(
            json.dumps(_unbroken_percent(data), ensure_ascii=False), encoding="utf-8"
        )
        for name, content in (files or {}).items():
            (root / name).write_bytes(content)
        yield root


def compile_pdf(
    template: str,
    data: dict[str, Any],
    timestamp: dt.datetime,
    files: dict[str, bytes] | None = None,
) -> bytes:
    """Compile `template` (a file of `TEMPLATES_DIR`) with `data` as data.json; return the PDF.

    `files` are written beside it (images named by the blocks). The PDF is tagged for
    accessibility (PDF/UA-1: Typst refuses an image without alt text or a document without a
    title).
    """
    import typst

    with _project(template, data, files) as root:
        return typst.compile(
            str(root / template),
            root=str(root),
            ignore_system_fonts=True,
            timestamp=timestamp,
            pdf_standards=["ua-1"],
        )


def query(
    template: str, data: dict[str, Any], label: str, files: dict[str, bytes] | None = None
) -> list[Any]:
    """The values of the template's `metadata(…) <label>` elements, in document order."""
    import typst

    with _project(template, data, files) as root:
        found = typst.query(
            str(root / template), f"<{label}>", root=str(root), ignore_system_fonts=True
        )
    return [element["value"] for element in json.loads(found)]


def page_count(template: str, data: dict[str, Any]) -> int:
    """How many pages the template lays out (it must place `metadata(pages) <pages>`)."""
    found = query(template, data, "pages")
    return int(found[0]) if found else 0


# --- Spans and blocks ----------------------------------------------------------------------------


def text(value: str) -> Span:
    """A plain text span."""
    return {"type": "text", "text": value}


def strong(*children: Span) -> Span:
    """Bold spans."""
    return {"type": "strong", "children": list(children)}


def paragraph(*spans: Span) -> Block:
    """A paragraph block."""
    return {"type": "paragraph", "content": list(spans)}


def _plain(spans: list[Span]) -> str:
    """The text of spans, without formatting."""
    parts = []
    for span in spans:
        if "text" in span:
            parts.append(span["text"])
        parts.append(_plain(span.get("children", [])))
    return "".join(parts)


# --- Markdown (mistune, the parser nbconvert uses) ------------------------------------------------


def _spans(tokens: list[dict[str, Any]]) -> list[Span]:
    spans: list[Span] = []
    for token in tokens:
        kind = token["type"]
        if kind == "text":
            spans.append(text(token["raw"]))
        elif kind == "strong":
            spans.append(strong(*_spans(token["children"])))
        elif kind == "emphasis":
            spans.append({"type": "emph", "children": _spans(token["children"])})
        elif kind == "codespan":
            spans.append({"type": "code", "text": token["raw"]})
        elif kind == "link":
            spans.append(
                {
                    "type": "link",
                    "url": token["attrs"]["url"],
                    "children": _spans(token["children"]),
                }
            )
        elif kind == "softbreak":
            spans.append(text(" "))
        elif kind == "linebreak":
            spans.append({"type": "break"})
        elif kind == "inline_html":
            continue  # tags only; their text arrives as text tokens
        elif "children" in token:
            spans += _spans(token["children"])
        elif "raw" in token:
            spans.append(text(token["raw"]))
    return spans


def _table_block(token: dict[str, Any]) -> Block:
    head = next(c for c in token["children"] if c["type"] == "table_head")
    body = next((c for c in token["children"] if c["type"] == "table_body"), {"children": []})
    header = [_plain(_spans(cell["children"])) for cell in head["children"]]
    rows = [[_plain(_spans(c["children"])) for c in row["children"]] for row in body["children"]]
    return table_block(header, rows)


def _blocks(tokens: list[dict[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    for token in tokens:
        kind = token["type"]
        if kind == "heading":
            blocks.append(
                {
                    "type": "heading",
                    "level": token["attrs"]["level"],
                    "content": _spans(token["children"]),
                }
            )
        elif kind in ("paragraph", "block_text"):
            blocks.append({"type": "paragraph", "content": _spans(token["children"])})
        elif kind == "list":
            items = [_blocks(item["children"]) for item in token["children"]]
            blocks.append(
                {"type": "list", "ordered": bool(token["attrs"]["ordered"]), "items": items}
            )
        elif kind == "block_quote":
            blocks.append({"type": "quote", "blocks": _blocks(token["children"])})
        elif kind == "block_code":
            blocks.append({"type": "code", "text": token["raw"].rstrip("\n")})
        elif kind == "thematic_break":
            blocks.append({"type": "rule"})
        elif kind == "table":
            blocks.append(_table_block(token))
        elif kind == "block_html":
            blocks += html_blocks(token["raw"])
    return blocks


def markdown_blocks(markdown: str) -> list[Block]:
    """Blocks of a markdown text (CommonMark with tables, as in the notebooks)."""
    import mistune

    parse = mistune.create_markdown(renderer=None, plugins=["table", "strikethrough"])
    return _blocks(parse(markdown))


# --- HTML tables (pandas' to_html, or any <table>) ------------------------------------------------


class _TableReader(HTMLParser):
    """Collects the tables of an HTML fragment: header rows, body rows, the caption, rows of
    one cell across the table (titles above, notes such as "Källa:" below, as great_tables
    writes them); the text outside tables as paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict[str, Any]] = []
        self.outside: list[str] = []
        # Document order: ("text", paragraph) and ("table", index into `tables`).
        self.items: list[tuple[str, Any]] = []
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1
        self._caption: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self.flush()
            self.items.append(("table", len(self.tables)))
            self.tables.append({"caption": "", "head": [], "body": [], "titles": [], "notes": []})
            self._section = "body"
        elif tag == "thead":
            self._section = "head"
        elif tag in ("tbody", "tfoot"):
            self._section = "body"
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() else 1

    def flush(self) -> None:
        """End the paragraph of text outside tables collected so far."""
        text_ = " ".join("".join(self.outside).split())
        if text_:
            self.items.append(("text", text_))
        self.outside = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("p", "div", "li", "h1", "h2", "h3", "h4"):
            self.flush()
        elif tag == "caption" and self._caption is not None and self.tables:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._row += [""] * (self._span - 1)
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            table = self.tables[-1]
            spanning = len(self._row) > 1 and not any(self._row[1:]) and self._span > 1
            if spanning:  # a title, subtitle or source note across the whole table
                # below the table once rows (or, in the body, the header) came before it: an
                # empty table's one row ("Inga uppgifter att visa.") follows its header
                below = bool(table["body"]) or (self._section == "body" and bool(table["head"]))
                table["notes" if below else "titles"].append(self._row[0])
            else:
                table["head" if self._section == "head" else "body"].append(self._row)
            self._row = None
        elif tag == "thead":
            self._section = "body"

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        elif self._caption is not None:
            self._caption.append(data)
        elif self._row is None:
            self.outside.append(data)


PORTRAIT_WIDTH_PT = 481.9  # A4 (210 mm) less 2 × 2 cm margins (typst/report.typ)
LANDSCAPE_WIDTH_PT = 728.5  # A4 turned (297 mm) less 2 × 2 cm margins
HEADER_EM, BODY_EM = 0.56, 0.5  # average glyph width of Libertinus Serif, bold and regular
CELL_PADDING_PT = 8.0  # 2 × 3 pt inset and a margin for rounding
BODY_WORD_LIMIT = 10  # longer words in body cells are hyphenated (Swedish patterns)
_BREAKS = re.compile(r"(?<=[/\-–])|\s+")


def table_font_size(columns: int) -> float:
    """Point size of a table's text: smaller for wider tables."""
    return 7.0 if columns > 8 else 8.0 if columns > 5 else 9.0


def _longest_word(cells: list[str]) -> int:
    return max((len(word) for cell in cells for word in _BREAKS.split(cell) if word), default=1)


def column_widths(header: list[str], rows: list[list[str]]) -> tuple[list[float], bool]:
    """Column widths in points, and whether the table needs a landscape page.

    Each column first gets room for its longest header word (headers are never hyphenated,
    so that a printed header is never cut) and for body words up to `BODY_WORD_LIMIT`
    letters; what is left of the page width goes to the columns whose typical cell is longer
    than that, in proportion to the square of the shortfall (the longest text, which sets the
    row heights, gets most). A table whose minimum widths exceed the portrait width is set
    on a landscape page.
    """
    size = table_font_size(len(header))
    minimum, wanted = [], []
    for index, title in enumerate(header):
        body = [row[index] for row in rows if index < len(row)]
        need = max(
            _longest_word([title]) * HEADER_EM,
            min(_longest_word(body), BODY_WORD_LIMIT) * BODY_EM,
        )
        minimum.append(need * size + CELL_PADDING_PT)
        typical = sum(len(cell) for cell in body) / len(body) if body else 0.0
        wanted.append(min(typical, 80.0) * BODY_EM * size + CELL_PADDING_PT)
    landscape = sum(minimum) > PORTRAIT_WIDTH_PT
    available = LANDSCAPE_WIDTH_PT if landscape else PORTRAIT_WIDTH_PT
    spare = max(available - sum(minimum), 0.0)
    extra = [max(w - m, 0.0) ** 2 for w, m in zip(wanted, minimum, strict=True)]
    total = sum(extra)
    widths = [
        m + (spare * e / total if total else spare / len(minimum))
        for m, e in zip(minimum, extra, strict=True)
    ]
    return [round(w, 1) for w in widths], landscape


def table_block(header: list[str], rows: list[list[str]]) -> Block:
    """A table block; rows are padded or cut to the header's width."""
    width = len(header)
    rows = [(row + [""] * width)[:width] for row in rows]
    widths, landscape = column_widths(header, rows)
    return {
        "type": "table",
        "header": header,
        "rows": rows,
        "widths": widths,
        "size": table_font_size(width),
        "landscape": landscape,
    }


def _header_of(head_rows: list[list[str]], width: int) -> list[str]:
    """One header row from pandas' one or two (column names, then index name) header rows."""
    header = [""] * width
    for row in head_rows:
        for index, cell in enumerate(row[:width]):
            if cell and not header[index]:
                header[index] = cell
    return header


def html_blocks(markup: str) -> list[Block]:
    """Blocks of an HTML output in document order: each paragraph outside tables, each table."""
    reader = _TableReader()
    reader.feed(markup)
    reader.close()
    reader.flush()
    blocks: list[Block] = []
    for kind, item in reader.items:
        if kind == "text":
            blocks.append(paragraph(text(item)))
            continue
        found = reader.tables[item]
        head, body = found["head"], found["body"]
        if not head and body:
            head, body = body[:1], body[1:]
        width = max([len(r) for r in head + body], default=0)
        if not width:
            continue
        for title in [found["caption"], *found["titles"]]:
            if title:
                blocks.append(paragraph(strong(text(title))))
        blocks.append(table_block(_header_of(head, width), body))
        blocks += [paragraph(text(note)) for note in found["notes"] if note]
    return blocks
