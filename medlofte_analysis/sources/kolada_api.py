"""Parsers for saved Kolada API responses (v3 and v2 JSON).

Source: https://api.kolada.se/v3 (and /v2), RKA, licence CC BY 4.0, "Källa: Kolada (RKA)"; see
data/raw/SOURCES.md §1 and "Official export/API formats".

Data pages (`/data/kpi/{kpi}/municipality/{ids}/year/{years}`) look like
`{"values": [{"kpi": "N07540", "municipality": "0330", "period": 2025,
"values": [{"gender": "T", "count": 1, "status": "", "value": 9029.49}, …]}],
"next_url": "…"}` (v3) or with `"count"` and `"next_page"` (v2). The inner `values` list has one
entry per gender (T = total, K = kvinnor, M = män, as the API documents them). A `value` of null
is missing; Kolada's `status` string says why. A withdrawn value carries `is_deleted: true` (v3)
or `isdeleted: true` (v2) on the inner value itself; it is kept as missing with the reason
"withdrawn in Kolada" (an older snapshot with the flag on the outer entry is read the same way).

Metadata pages: `/municipality` → `{"values": [{"id", "title", "type"}]}`;
`/municipality_groups` → `{"values": [{"id", "title", "members": [{"id", "title"}]}]}`.
Their parsers return the columns of the snapshot CSVs `kolada_municipalities.csv` and
`kolada_municipality_groups_long.csv`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from medlofte_analysis.errors import InputError

VALUE_COLUMNS: tuple[str, ...] = (
    "kpi",
    "municipality_code",
    "year",
    "gender",
    "value",
    "status",
    "missing_reason",
)
VALUE_KEY: tuple[str, ...] = ("kpi", "municipality_code", "year", "gender")
GENDERS: frozenset[str] = frozenset({"T", "K", "M"})
_CODE = re.compile(r"^\d{4}$")


def _require(mapping: object, key: str, source: str, where: str) -> object:
    if not isinstance(mapping, dict) or key not in mapping:
        raise InputError(source, where, f"an object with key '{key}'", mapping)
    return mapping[key]


def _values_list(payload: object, source: str) -> list[object]:
    values = _require(payload, "values", source, "top level")
    if not isinstance(values, list):
        raise InputError(source, "values", "a list", type(values).__name__)
    return values


def _number(raw: object, source: str, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InputError(source, where, "a number or null", raw)
    value = float(raw)
    return None if math.isnan(value) else value


def _deleted(item: object) -> bool:
    """Kolada's withdrawn flag: `is_deleted` (v3) or `isdeleted` (v2); absent is False."""
    if not isinstance(item, dict):
        return False
    return bool(item.get("is_deleted", False) or item.get("isdeleted", False))


def parse_kolada_values(payload: dict, source: str) -> pd.DataFrame:
    """Parse one Kolada data page (v2 or v3) to one row per (kpi, municipality, year, gender).

    `source` names the file or URL in error messages. Returns columns kpi (str),
    municipality_code (4-char str), year (int), gender (T/K/M), value (float, NaN when null),
    status (Kolada's status string), missing_reason (str, "" when present).
    """
    records: list[dict[str, object]] = []
    seen: dict[tuple[object, ...], str] = {}
    for i, entry in enumerate(_values_list(payload, source)):
        where = f"values[{i}]"
        kpi = _require(entry, "kpi", source, where)
        code = _require(entry, "municipality", source, where)
        period = _require(entry, "period", source, where)
        inner = _require(entry, "values", source, where)
        if not isinstance(kpi, str) or not kpi:
            raise InputError(source, f"{where}.kpi", "a KPI id such as 'N07540'", kpi)
        if not isinstance(code, str) or not _CODE.match(code):
            raise InputError(source, f"{where}.municipality", "a four-character code string", code)
        try:
            year = int(str(period))
        except ValueError:
            year = -1
        if isinstance(period, bool) or not 1900 <= year <= 2100:
            raise InputError(source, f"{where}.period", "a year such as 2025", period)
        if not isinstance(inner, list):
            raise InputError(source, f"{where}.values", "a list", type(inner).__name__)
        entry_deleted = _deleted(entry)
        for j, item in enumerate(inner):
            item_where = f"{where}.values[{j}]"
            gender = _require(item, "gender", source, item_where)
            if gender not in GENDERS:
                raise InputError(source, f"{item_where}.gender", "one of T, K, M", gender)
            value = _number(item.get("value"), source, f"{item_where}.value")
            status = item.get("status") or ""
            if not isinstance(status, str):
                raise InputError(source, f"{item_where}.status", "a string", status)
            key = (kpi, code, year, gender)
            if key in seen:
                raise InputError(
                    source,
                    item_where,
                    f"one value per (kpi, municipality, year, gender); also at {seen[key]}",
                    list(key),
                )
            seen[key] = item_where
            reason = ""
            if entry_deleted or _deleted(item):
                value = None
                reason = "withdrawn in Kolada (is_deleted)" + (
                    f" (status '{status}')" if status else ""
                )
            elif value is None:
                reason = "no value in Kolada" + (f" (status '{status}')" if status else "")
            records.append(
                {
                    "kpi": kpi,
                    "municipality_code": code,
                    "year": year,
                    "gender": gender,
                    "value": float("nan") if value is None else value,
                    "status": status,
                    "missing_reason": reason,
                }
            )
    frame = pd.DataFrame.from_records(records, columns=list(VALUE_COLUMNS))
    frame["year"] = frame["year"].astype(int)
    frame["value"] = frame["value"].astype(float)
    return frame


def load_json(path: Path) -> dict:
    """Read a saved API response; raise naming the file, line and column for invalid JSON."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, f"byte {error.start}", "UTF-8 JSON", None) from error
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            path, f"line {error.lineno}, column {error.colno}", "valid JSON", error.msg
        ) from error
    if not isinstance(payload, dict):
        raise InputError(path, "top level", "a JSON object", type(payload).__name__)
    return payload


def read_kolada_pages(paths: Iterable[Path]) -> pd.DataFrame:
    """Read and concatenate saved Kolada data pages (in the order given).

    Adds no column: the file of each row is not kept (the manifest names the pages). A
    (kpi, municipality, year, gender) found in two pages raises an InputError naming both files.
    """
    frames: list[pd.DataFrame] = []
    origin: dict[tuple[object, ...], Path] = {}
    for path in paths:
        path = Path(path)
        frame = parse_kolada_values(load_json(path), str(path))
        for key in frame[list(VALUE_KEY)].itertuples(index=False, name=None):
            if key in origin:
                raise InputError(
                    path,
                    f"value {key}",
                    "each (kpi, municipality, year, gender) in one page only "
                    f"(also in {origin[key]})",
                )
            origin[key] = path
        frames.append(frame)
    if not frames:
        raise InputError(None, None, "at least one Kolada page file", "none")
    result = pd.concat(frames, ignore_index=True)
    result["year"] = result["year"].astype(int)
    return result


def _text_field(item: object, key: str, source: str, where: str) -> str:
    value = _require(item, key, source, where)
    if not isinstance(value, str) or not value.strip():
        raise InputError(source, f"{where}.{key}", "a non-empty string", value)
    return value


def parse_kolada_municipalities(payload: dict, source: str) -> pd.DataFrame:
    """Parse a `/municipality` response to id, title, type (as kolada_municipalities.csv)."""
    rows = []
    for i, item in enumerate(_values_list(payload, source)):
        where = f"values[{i}]"
        code = _text_field(item, "id", source, where)
        if not _CODE.match(code):
            raise InputError(source, f"{where}.id", "a four-character code string", code)
        rows.append(
            {
                "id": code,
                "title": _text_field(item, "title", source, where),
                "type": _text_field(item, "type", source, where),
            }
        )
    return pd.DataFrame(rows, columns=["id", "title", "type"], dtype="str")


def parse_kolada_municipality_groups(payload: dict, source: str) -> pd.DataFrame:
    """Parse a `/municipality_groups` response to one row per member.

    Columns group_id, group_title, member_id, member_title (as
    kolada_municipality_groups_long.csv).
    """
    rows = []
    for i, group in enumerate(_values_list(payload, source)):
        where = f"values[{i}]"
        group_id = _text_field(group, "id", source, where)
        group_title = _text_field(group, "title", source, where)
        members = _require(group, "members", source, where)
        if not isinstance(members, list):
            raise InputError(source, f"{where}.members", "a list", type(members).__name__)
        for j, member in enumerate(members):
            member_where = f"{where}.members[{j}]"
            member_id = _text_field(member, "id", source, member_where)
            if not _CODE.match(member_id):
                raise InputError(
                    source, f"{member_where}.id", "a four-character code string", member_id
                )
            rows.append(
                {
                    "group_id": group_id,
                    "group_title": group_title,
                    "member_id": member_id,
                    "member_title": _text_field(member, "title", source, member_where),
                }
            )
    return pd.DataFrame(
        rows, columns=["group_id", "group_title", "member_id", "member_title"], dtype="str"
    )
