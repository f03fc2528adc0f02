"""Loader for Brå's yearly "Anmälda brott i kommunerna YYYY.csv".

Source: bra.se/download/… (one file per year; known for 2021, 2023, 2024, 2025), see
data/raw/SOURCES.md "Official export/API formats". Publisher Brå ("Källa: Brå").

Format: UTF-8 with BOM, `;` separator, CRLF line ends (LF is accepted too), header
`Kommun;Antal;Per 100 000 inv.`, one row per municipality (~290) and possibly "Hela landet".
Municipalities are named, not coded: names are mapped to codes through
`municipalities.name_lookup`. Numbers may carry space or non-breaking-space thousands separators
and decimal commas. Totals only (all offences), one year per file: the year is not in the file,
so the caller passes it (from the file name).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from medlofte_analysis.cleaning import parse_swedish_number, read_text
from medlofte_analysis.errors import InputError
from medlofte_analysis.municipalities import normalise_name

HEADER: tuple[str, ...] = ("Kommun", "Antal", "Per 100 000 inv.")
COLUMNS: tuple[str, ...] = (
    "municipality_code",
    "municipality_name",
    "year",
    "count",
    "rate_per_100k",
    "missing_reason",
)


def _check_header(fields: list[str], path: Path) -> None:
    cleaned = [field.strip() for field in fields]
    if tuple(cleaned) == HEADER:
        return
    if len(cleaned) == 1 and ("," in cleaned[0] or "\t" in cleaned[0]):
        raise InputError(
            path,
            "line 1",
            "';' as column separator (header 'Kommun;Antal;Per 100 000 inv.')",
            cleaned[0],
        )
    for position, name in enumerate(HEADER):
        found = cleaned[position] if position < len(cleaned) else None
        if found != name:
            raise InputError(
                path,
                f"line 1, column {position + 1}",
                f"column '{name}' (header {';'.join(HEADER)})",
                found,
            )
    raise InputError(path, "line 1", f"exactly the columns {';'.join(HEADER)}", ";".join(cleaned))


def read_bra_yearly_csv(path: Path, year: int, lookup: dict[str, str]) -> pd.DataFrame:
    """Read one yearly Brå municipality CSV.

    Returns columns municipality_code (4-char str), municipality_name (as in the file), year
    (int), count (float), rate_per_100k (float), missing_reason (str, "" when both present).
    Raises InputError naming the file, line and column for a wrong encoding, wrong separator,
    missing or renamed column, unparseable number, unknown or duplicate municipality, negative
    count, or an empty file.
    """
    path = Path(path)
    text = read_text(path, ("utf-8-sig",))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader, None)
    if header is None:
        raise InputError(path, "line 1", "the header " + ";".join(HEADER), None)
    _check_header(header, path)
    records: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(HEADER):
            raise InputError(path, f"line {line}", f"{len(HEADER)} fields separated by ';'", fields)
        name = fields[0].strip()
        code = lookup.get(normalise_name(name))
        if code is None:
            raise InputError(
                path,
                f"line {line}, column Kommun",
                "a municipality name known from Kolada's list or 'Hela landet'",
                name,
            )
        if code in seen:
            raise InputError(
                path,
                f"line {line}, column Kommun",
                f"each municipality once (already on line {seen[code]})",
                name,
            )
        seen[code] = line
        count, count_reason = parse_swedish_number(fields[1], path, f"line {line}, column Antal")
        rate, rate_reason = parse_swedish_number(
            fields[2], path, f"line {line}, column Per 100 000 inv."
        )
        if count is not None and count < 0:
            raise InputError(path, f"line {line}, column Antal", "a count of 0 or more", fields[1])
        if rate is not None and rate < 0:
            raise InputError(
                path, f"line {line}, column Per 100 000 inv.", "a rate of 0 or more", fields[2]
            )
        reasons = [
            f"{column}: {reason}"
            for column, reason in (("Antal", count_reason), ("Per 100 000 inv.", rate_reason))
            if reason
        ]
        records.append(
            {
                "municipality_code": code,
                "municipality_name": name,
                "year": int(year),
                "count": float("nan") if count is None else count,
                "rate_per_100k": float("nan") if rate is None else rate,
                "missing_reason": "; ".join(reasons),
            }
        )
    if not records:
        raise InputError(path, "line 2", "at least one data row", "only a header")
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame["year"] = frame["year"].astype(int)
    frame[["count", "rate_per_100k"]] = frame[["count", "rate_per_100k"]].astype(float)
    return frame


def yearly_to_tidy(yearly: pd.DataFrame) -> pd.DataFrame:
    """The yearly file's rows as tidy indicator rows (indicator `bra_totalt_arsfil`).

    The population is the one implied by Brå's own count and rate (rate rounded to whole
    numbers, so a relative error below 0.5 / rate), marked as derived.
    """
    return pd.DataFrame(
        {
            "municipality_code": yearly["municipality_code"],
            "year": yearly["year"],
            "indicator_id": "bra_totalt_arsfil",
            "value": yearly["rate_per_100k"],
            "count": yearly["count"],
            "unit": "per 100 000 inv",
            "population": (yearly["count"] / yearly["rate_per_100k"] * 1e5)
            .round()
            .where(yearly["rate_per_100k"] > 0),
            "population_source": "härledd: Brå:s antal / antal per 100 000 inv × 100 000 "
            "(årsfilen)",
            "missing_reason": yearly["missing_reason"],
            "quality": "primary",
        }
    )
