"""Loader for Brå's yearly "Anmälda brott i kommunerna YYYY.csv".

Source: bra.se/download/… (one file per year; known for 2021, 2023, 2024, 2025), see
data/raw/SOURCES.md "Official export/API formats". Publisher Brå ("Källa: Brå").

Format: UTF-8 with BOM, `;` separator, CRLF line ends (LF is accepted too), header
`Kommun;Antal;Per 100 000 inv.`, one row per municipality (~290) and possibly "Hela landet".
Municipalities are named, not coded: names are mapped to codes through
`municipalities.name_lookup`. Numbers may carry space or non-breaking-space thousands separators
and decimal commas. Totals only (all offences), one year per file: the year is not in the file,
so the caller passes it (from the file name).

Published variants read as well:
- no header row (the 2021 file starts with data, e.g. `Ale kommun;2731;8547`);
- names with " kommun" in the genitive ("Arjeplogs kommun" → Arjeplog);
- en or em dashes in names ("Malung–Sälen" → Malung-Sälen);
- rows that are not municipalities (Stockholm's stadsdelsområden): kept with an empty code and
  the reason in `missing_reason`, so the build lists them as unmapped; no row is dropped.
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


UNMAPPED_REASON: str = "not a municipality in Kolada's list (e.g. a Stockholm stadsdelsområde)"
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-"})


def municipality_code(name: str, lookup: dict[str, str]) -> str | None:
    """The code of a name as Brå writes it, or None: the name itself, with dashes made plain
    hyphens, and with a genitive " kommun" ("Arjeplogs kommun") read as the municipality."""
    plain = name.translate(_DASHES).strip()
    candidates = [name, plain]
    if plain.casefold().endswith(" kommun"):
        stem = plain[: -len(" kommun")].strip()
        candidates.append(stem)
        if stem.endswith("s"):
            candidates.append(stem[:-1])
    for candidate in candidates:
        code = lookup.get(normalise_name(candidate))
        if code is not None:
            return code
    return None


def _is_data_row(fields: list[str]) -> bool:
    """A first line whose second field is a number is data (the header-less 2021 file)."""
    if len(fields) != len(HEADER):
        return False
    text = fields[1].replace("\u00a0", "").replace(" ", "").strip()
    return text.isdigit()


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

    Returns columns municipality_code (4-char str; "" for a row that is not a municipality),
    municipality_name (as in the file), year (int), count (float), rate_per_100k (float),
    missing_reason (str, "" when both present; `UNMAPPED_REASON` for an unmapped row).
    Raises InputError naming the file, line and column for a wrong encoding, wrong separator,
    missing or renamed column, unparseable number, duplicate municipality, negative count, an
    empty file, or a file where fewer than half of the rows name a municipality.
    """
    path = Path(path)
    text = read_text(path, ("utf-8-sig",))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader, None)
    if header is None:
        raise InputError(path, "line 1", "the header " + ";".join(HEADER), None)
    rows: list[tuple[int, list[str]]] = []
    if _is_data_row(header):
        rows.append((1, header))
    else:
        _check_header(header, path)
    rows += [(reader.line_num, fields) for fields in reader]
    records: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for line, fields in rows:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(HEADER):
            raise InputError(path, f"line {line}", f"{len(HEADER)} fields separated by ';'", fields)
        name = fields[0].strip()
        code = municipality_code(name, lookup)
        if code is not None and code in seen:
            raise InputError(
                path,
                f"line {line}, column Kommun",
                f"each municipality once (already on line {seen[code]})",
                name,
            )
        if code is not None:
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
                "municipality_code": code or "",
                "municipality_name": name,
                "year": int(year),
                "count": float("nan") if count is None else count,
                "rate_per_100k": float("nan") if rate is None else rate,
                "missing_reason": UNMAPPED_REASON if code is None else "; ".join(reasons),
            }
        )
    if not records:
        raise InputError(path, "line 2", "at least one data row", "only a header")
    unmapped = [r["municipality_name"] for r in records if not r["municipality_code"]]
    if len(unmapped) * 2 > len(records):
        raise InputError(
            path,
            "column Kommun",
            "municipality names known from Kolada's list or 'Hela landet' in most rows",
            unmapped[:3],
        )
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame["year"] = frame["year"].astype(int)
    frame[["count", "rate_per_100k"]] = frame[["count", "rate_per_100k"]].astype(float)
    return frame


def unmapped_rows(yearly: pd.DataFrame, source: str) -> list[str]:
    """The rows without a municipality code, as "<source>: <name>" for the build record."""
    names = yearly.loc[yearly["municipality_code"] == "", "municipality_name"]
    return [f"{source}: {name}" for name in names]


def yearly_to_tidy(yearly: pd.DataFrame) -> pd.DataFrame:
    """The yearly file's mapped rows as tidy indicator rows (indicator `bra_totalt_arsfil`).

    Rows without a code are left out here; `unmapped_rows` lists them for the build record.

    The population is the one implied by Brå's own count and rate (rate rounded to whole
    numbers, so a relative error below 0.5 / rate), marked as derived.
    """
    yearly = yearly.loc[yearly["municipality_code"] != ""]
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
