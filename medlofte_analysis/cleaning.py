"""Cleaning helpers shared by the source loaders: Swedish numbers, missing markers, text checks."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pandas as pd

from medlofte_analysis.errors import InputError
from medlofte_analysis.schema import YEAR_RANGE

# Markers Swedish statistics use for suppressed or missing cells, with the reason we record.
MISSING_MARKERS: dict[str, str] = {
    "": "blank in source",
    "..": "suppressed or not available in source ('..')",
    "...": "not available in source ('...')",
    "-": "no value in source ('-')",
    "–": "no value in source ('–')",
    "x": "suppressed in source ('x')",
    "X": "suppressed in source ('X')",
    "NA": "missing in source ('NA')",
}

_NUMBER = re.compile(r"^[+-−]?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?$")


def parse_swedish_number(text: object, path: Path | str, location: str) -> tuple[float | None, str]:
    """Parse one cell as Swedish statistics write it; return (value, missing_reason).

    Accepts decimal commas, spaces, non-breaking and thin spaces as thousands separators, a
    Unicode minus, and numbers already parsed (int/float). A missing marker returns
    (None, reason). Anything else raises an InputError naming the file and cell.
    """
    if text is None:
        return None, MISSING_MARKERS[""]
    if isinstance(text, bool):
        raise InputError(path, location, "a number or a missing marker", text)
    if isinstance(text, int | float):
        if isinstance(text, float) and math.isnan(text):
            return None, MISSING_MARKERS[""]
        number = float(text) if abs(text) < 1e308 else math.inf
        if not math.isfinite(number):
            raise InputError(path, location, "a finite number", text)
        return number, ""
    raw = str(text)
    stripped = raw.strip()
    if stripped in MISSING_MARKERS:
        return None, MISSING_MARKERS[stripped]
    compact = re.sub(r"[\s\u00a0\u202f\u2009]", "", stripped).replace("−", "-")
    if not _NUMBER.match(compact):
        raise InputError(
            path, location, "a number (decimal comma or point) or a missing marker", raw
        )
    number = float(compact.replace(",", "."))
    if not math.isfinite(number):
        raise InputError(path, location, "a finite number (this one overflows)", raw)
    return number, ""


def read_text(path: Path, encodings: tuple[str, ...] = ("utf-8-sig",)) -> str:
    """Read a text file strictly in one of the expected encodings; raise naming the file if not.

    An empty file is an error, not an empty table.
    """
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, None, "a non-empty file", "an empty file")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            last = error
    line = data[: last.start].count(b"\n") + 1
    raise InputError(
        path,
        f"line {line}, byte {last.start}",
        f"text encoded as {' or '.join(encodings)}",
        data[max(0, last.start - 10) : last.start + 10],
    )


def parse_number_column(
    values: pd.Series, path: Path | str, column: str, first_row: int = 2
) -> tuple[pd.Series, pd.Series]:
    """Vectorised `parse_swedish_number` for a whole column: (floats, missing reasons).

    `first_row` is the file row of the first element, used in the error for a bad cell.
    """
    text = values.astype(str).str.strip()
    reasons = text.map(MISSING_MARKERS).fillna("").astype(str)
    missing = text.isin(list(MISSING_MARKERS))
    compact = text.str.replace(r"[\s\u00a0\u202f\u2009]", "", regex=True).str.replace(
        "−", "-", regex=False
    )
    ok = compact.str.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)
    bad = ~ok & ~missing
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        location = f"row {first_row + position}, column {column}"
        parse_swedish_number(values.iloc[position], path, location)
    numbers = pd.to_numeric(compact.where(ok).str.replace(",", ".", regex=False), errors="coerce")
    numbers = numbers.astype("float64")
    infinite = numbers.abs() == math.inf
    if infinite.any():
        position = int(infinite.to_numpy().nonzero()[0][0])
        location = f"row {first_row + position}, column {column}"
        parse_swedish_number(values.iloc[position], path, location)
    return numbers, reasons


def parse_year_column(
    values: pd.Series, path: Path | str, column: str, first_row: int = 2
) -> pd.Series:
    """A column of four-digit years within `YEAR_RANGE` → int64; raise naming the first bad cell.

    A year such as "2022.5", "tjugo" or 3022 is refused rather than truncated or dropped, so a
    typo never moves a figure to another year or out of the table.
    """
    years = pd.to_numeric(values, errors="coerce")
    bad = years.isna() | (years % 1 != 0) | (years < YEAR_RANGE[0]) | (years > YEAR_RANGE[1])
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            path,
            f"row {first_row + position}, column {column}",
            f"a four-digit year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}",
            values.iloc[position],
        )
    return years.astype("int64")


def _wrong_width(path: Path, number: int, width: int, found: int) -> InputError:
    return InputError(
        path,
        f"row {number}",
        f"{width} fields like the header (a truncated or damaged file?)",
        f"{found} fields",
    )


def _check_field_counts(text: str, separator: str, path: Path) -> None:
    """Every row has as many fields as the header: a short row is a truncated file, a long one
    would shift its cells into the wrong columns (pandas would silently use them as an index)."""
    if '"' not in text and "\r" not in text:
        # Fast path without quoting: a row's fields are its separators plus one.
        lines = text.split("\n")
        width = lines[0].count(separator) + 1
        for number, line in enumerate(lines[1:], start=2):
            if line and line.count(separator) + 1 != width:
                raise _wrong_width(path, number, width, line.count(separator) + 1)
        return
    rows = csv.reader(io.StringIO(text), delimiter=separator, strict=True)
    try:
        width = len(next(rows, []))
        for number, row in enumerate(rows, start=2):
            if row and len(row) != width:
                raise _wrong_width(path, number, width, len(row))
    except csv.Error as error:
        raise InputError(
            path, f"line {rows.line_num}", "well-formed CSV (quotes and line breaks)", str(error)
        ) from error


def read_csv_strict(path: Path, columns: tuple[str, ...], separator: str = ",") -> pd.DataFrame:
    """Read a CSV as text cells, checking encoding (UTF-8), separator, header and emptiness.

    Every cell stays a string (codes keep their leading zeros; blanks stay ''), so that the
    caller parses numbers itself with a message naming the cell. Raises an InputError naming
    the file and what was expected.
    """
    text = read_text(path)
    header = text.splitlines()[0] if text.splitlines() else ""
    if separator not in header:
        others = [s for s in (";", ",", "\t") if s != separator and s in header]
        if others:
            raise InputError(
                path,
                "header row",
                f"columns separated by {separator!r}",
                f"a file separated by {others[0]!r}: {header[:80]}",
            )
    _check_field_counts(text, separator, path)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as error:
        raise InputError(path, None, "a well-formed CSV table", str(error)[:120]) from error
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(
            path, "header row", f"columns {list(columns)} (missing {missing})", list(frame.columns)
        )
    if frame.empty:
        raise InputError(path, "row 2", "at least one data row", "only a header")
    return frame
