"""Shared by the build tests, the quick fuzz profile and `benchmarks/bench_fuzz.py`.

`RawCopy` is a private copy of data/raw in a temporary folder in which one shipped file at a time
is replaced by a mutated version, with its manifest entry updated so that only the loaders (not
the checksum check) stand between the bad bytes and data/processed. Everything here is SYNTHETIC
damage applied to copies; data/raw itself is never written.
"""

from __future__ import annotations

import csv
import html.parser
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from medlofte_analysis.build import SHIPPED_INPUTS, build, survey_to_tidy
from medlofte_analysis.catalog import load_catalog
from medlofte_analysis.config import RAW_DIR, TEMPLATES_DIR
from medlofte_analysis.errors import ConfigError, InputError
from medlofte_analysis.evaluate import Inputs
from medlofte_analysis.evaluation_config import check_config, load_config
from medlofte_analysis.manifest import MANIFEST_FIELDS, read_manifest, sha256_file
from medlofte_analysis.report import inside_reports, sources_appendix_markdown
from medlofte_analysis.sources import surveys
from medlofte_analysis.validation import ValidationError

# The project's own refusals: anything else reaching the user is a "foreign" exception.
OWN_ERRORS: tuple[type[BaseException], ...] = (InputError, ConfigError, ValidationError)


class RawCopy:
    """A copy of data/raw; `replace(relative, data)` swaps in new bytes and fixes the manifest."""

    def __init__(self, folder: Path) -> None:
        self.raw = Path(folder) / "raw"
        shutil.copytree(RAW_DIR, self.raw)
        self._manifest = (self.raw / "manifest.csv").read_bytes()
        self._originals: dict[str, bytes] = {}

    def original(self, relative: str) -> bytes:
        return (RAW_DIR / relative).read_bytes()

    def replace(self, relative: str, data: bytes) -> None:
        self._originals.setdefault(relative, self.original(relative))
        path = self.raw / relative
        path.write_bytes(data)
        rows = read_manifest(self.raw)
        for row in rows:
            if row["path"] == relative:
                row["sha256"], row["bytes"] = sha256_file(path), str(len(data))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(MANIFEST_FIELDS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (self.raw / "manifest.csv").write_text(out.getvalue(), encoding="utf-8")

    def replace_text(self, relative: str, text: str) -> None:
        self.replace(relative, text.encode("utf-8"))

    def restore(self) -> None:
        for relative, data in self._originals.items():
            (self.raw / relative).write_bytes(data)
        self._originals.clear()
        (self.raw / "manifest.csv").write_bytes(self._manifest)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path → bytes), to prove nothing was written."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


# --- Mutations (Hypothesis strategies) --------------------------------------------------------


CSV_TARGETS: tuple[str, ...] = SHIPPED_INPUTS
MARKUP = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[klicka](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>",
    "`</code><script>alert(1)</script>`",
    "<svg/onload=alert(1)>",
)
HOSTILE_CELLS = (
    "",
    "abc",
    "Infinity",
    "-Infinity",
    "NaN",
    "nan",
    "1e309",
    "-1e400",
    "1e308",
    "-1",
    "0",
    "2022.5",
    "3022",
    "1850",
    "20x5",
    "0330",
    "9999",
    "=1+1",
    '"',
    "\x00",
    "\ufeff",
    "..",
    "x",
    "1 234,5",
    "−5",
    "Knivstad",
    *MARKUP,
)
cell_values = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=12))


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


class Mutated(tuple):
    """(what was done, the new bytes), shown by what was done only (the bytes are megabytes)."""

    def __repr__(self) -> str:
        return f"Mutated({self[0]!r}, {len(self[1])} bytes, {self[2]!r})"


@st.composite
def csv_mutations(draw: st.DrawFn, original: bytes) -> Mutated:
    """One careless or hostile edit of a shipped CSV, a `Mutated` (op, bytes, detail)."""
    op, data, detail = draw(_csv_mutation(original))
    return Mutated((op, data, detail))


@st.composite
def _csv_mutation(draw: st.DrawFn, original: bytes) -> tuple[str, bytes, str]:
    text = original.decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    op = draw(
        st.sampled_from(
            (
                "cell",
                "cell",
                "cell",
                "header",
                "delete",
                "duplicate",
                "conflict",
                "truncate",
                "bytes",
                "encoding",
                "separator",
                "empty",
            )
        )
    )
    line = draw(st.integers(1, max(1, len(lines) - 1)))
    if op in ("cell", "header", "conflict"):
        index = 0 if op == "header" else line
        row = _rows(lines[index])[0] if lines[index].strip() else [""]
        column, value = draw(st.integers(0, len(row) - 1)), draw(cell_values)
        row[column] = value
        new, detail = _csv([row]), f"line {index + 1}, field {column + 1} = {value!r}"
        if op == "conflict":
            return op, (text + new).encode("utf-8"), detail
        data = "".join(lines[:index]) + new + "".join(lines[index + 1 :])
        return op, data.encode("utf-8"), detail
    if op == "delete":
        count = draw(st.integers(1, max(1, len(lines) // 2)))
        data = "".join(lines[:line] + lines[line + count :]).encode("utf-8")
        return op, data, f"lines {line + 1}–{line + count}"
    if op == "duplicate":
        return op, ("".join(lines) + lines[line]).encode("utf-8"), f"line {line + 1}"
    if op == "truncate":
        at = draw(st.integers(0, len(original) - 1))
        return op, original[:at], f"at byte {at}"
    if op == "bytes":
        at = draw(st.integers(0, len(original)))
        noise = draw(st.binary(min_size=1, max_size=8))
        return op, original[:at] + noise + original[at:], f"{noise!r} at byte {at}"
    if op == "encoding":
        encoding = draw(st.sampled_from(("latin-1", "utf-16", "cp1252")))
        return op, text.encode(encoding, errors="replace"), encoding
    if op == "separator":
        separator = draw(st.sampled_from((";", "\t", "|")))
        return op, text.replace(",", separator, 1 + line).encode(), f"{separator!r} × {1 + line}"
    return op, b"", ""


TOML_VALUES = (
    "2",
    "nan",
    "inf",
    "-0.5",
    '"x"',
    "true",
    "[]",
    '[""]',
    "[2022.5]",
    '"../../x"',
    '"/tmp/x"',
    '"9999"',
    "1e309",
    "99999999999999999999",
    "{}",
    '"Liknande kommuner socioekonomy, {kommun}"',
    '"kolada_x"',
    '["kolada_n07544"]',
    *(f'"{m}"' for m in MARKUP if '"' not in m),
)


@st.composite
def toml_mutations(draw: st.DrawFn, original: str) -> tuple[str, str]:
    """One careless or hostile edit of an evaluation file."""
    lines = original.splitlines(keepends=True)
    settings = [i for i, line in enumerate(lines) if re.match(r"^\w+\s*=", line)]
    sections = [i for i, line in enumerate(lines) if line.startswith("[")]
    op = draw(st.sampled_from(("value", "value", "typo", "section", "delete", "duplicate", "text")))
    if op == "value":
        i = draw(st.sampled_from(settings))
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {draw(st.sampled_from(TOML_VALUES))}\n"
    elif op in ("typo", "section"):
        i = draw(st.sampled_from(settings if op == "typo" else sections))
        name = re.match(r"^\[?([\w.]+)", lines[i]).group(1)
        at = draw(st.integers(0, len(name) - 1))
        typo = name[:at] + draw(st.sampled_from(("", "s", "e", "_"))) + name[at + 1 :]
        lines[i] = lines[i].replace(name, typo or "x", 1)
    elif op == "delete":
        del lines[draw(st.integers(0, len(lines) - 1))]
    elif op == "duplicate":
        i = draw(st.sampled_from(settings))
        lines.insert(i, lines[i])
    else:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=20)) + "\n")
    return op, "".join(lines)


def survey_cells() -> st.SearchStrategy[object]:
    """Values an analyst (or an attacker) might type into a survey template cell."""
    return st.one_of(
        st.none(),
        st.sampled_from(HOSTILE_CELLS),
        st.text(max_size=12),
        st.integers(-10, 3000),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.sampled_from(("0330", 2022, 2024, "NTU", "Liv & hälsa ung", "lhu_narkotika_ak9")),
    )


class _LiveMarkup(html.parser.HTMLParser):
    """Counts elements and attributes a browser would act on."""

    DANGEROUS_TAGS = frozenset({"script", "img", "svg", "iframe", "object", "embed", "style"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.DANGEROUS_TAGS:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag}[{name}]")


def live_markup(html_text: str) -> list[str]:
    """The dangerous elements and attributes in an HTML fragment (empty: safe)."""
    parser = _LiveMarkup()
    parser.feed(html_text)
    return parser.found


# --- Running one input --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one mutated input did: accepted or refused, and anything that must never happen."""

    accepted: bool = False
    foreign: str = ""  # an exception other than the project's own input errors
    written: list[str] = field(default_factory=list)  # files changed by a refused input
    markup: list[str] = field(default_factory=list)  # live HTML constructs


def _foreign(error: BaseException) -> str:
    return "" if isinstance(error, OWN_ERRORS) else f"{type(error).__name__}: {error}"[:300]


def _listing(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def try_build(copy: RawCopy, relative: str, data: bytes, processed: Path) -> Outcome:
    """Build from the raw copy with `relative` replaced by `data`; restore the copy after."""
    copy.replace(relative, data)
    before, raw_files = snapshot(processed), _listing(copy.raw)
    siblings = sorted(p.name for p in processed.parent.iterdir())
    outcome = Outcome()
    try:
        build(copy.raw, processed)
        outcome.accepted = True
    except Exception as error:  # the point of the fuzz: classify whatever comes out
        outcome.foreign = _foreign(error)
        if snapshot(processed) != before:
            outcome.written.append(str(processed))
    if sorted(p.name for p in processed.parent.iterdir()) != siblings:
        outcome.written.append(f"leftovers beside {processed}")
    if _listing(copy.raw) != raw_files:
        outcome.written.append(str(copy.raw))
    copy.restore()
    return outcome


def try_config(text: str, folder: Path, inputs: Inputs) -> Outcome:
    """Load and check an evaluation file; an accepted id must keep reports inside reports/."""
    path = Path(folder) / "evaluation.toml"
    path.write_text(text, encoding="utf-8")
    outcome = Outcome()
    try:
        config = load_config(path)
        check_config(
            config, inputs.catalog, inputs.municipalities, inputs.indicators, inputs.groups
        )
        inside_reports(Path(folder) / "reports", f"{config.id}.html")
        inside_reports(Path(folder) / "reports", config.id, "notebooks")
        outcome.accepted = True
    except Exception as error:
        outcome.foreign = _foreign(error)
    return outcome


def try_survey(rows: list[list[object]], folder: Path) -> Outcome:
    """Type `rows` into a copy of the survey template and read it as the build would."""
    path = Path(folder) / "enkater.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "enkatresultat_mall.xlsx", path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Resultat"]
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            try:
                sheet.cell(row=number, column=column, value=value)
            except Exception:  # openpyxl refuses some values itself (control characters)
                sheet.cell(row=number, column=column, value=repr(value))
    workbook.save(path)
    outcome = Outcome()
    try:
        survey_to_tidy(surveys.read_survey_workbook(path), load_catalog(), path)
        outcome.accepted = True
    except Exception as error:
        outcome.foreign = _foreign(error)
    return outcome


def try_sources_markup(copy: RawCopy, column: str, value: str) -> Outcome:
    """Put `value` into one column of sources.csv (what `fetch --origin` writes) and render the
    report's sources appendix to HTML as the report does; count live markup."""
    path = copy.raw / "sources.csv"
    original = path.read_bytes()
    rows = list(csv.DictReader(io.StringIO(original.decode("utf-8"))))
    rows[0][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    outcome = Outcome()
    try:
        rendered = markdown2html_mistune(sources_appendix_markdown(copy.raw))
        outcome.markup = live_markup(rendered)
        outcome.accepted = True
    except Exception as error:
        outcome.foreign = _foreign(error)
    finally:
        path.write_bytes(original)
    return outcome
