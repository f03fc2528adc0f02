"""Parsers for SCB population (folkmängd 31 december, table BE0101N1 / TAB638) from PxWeb.

Source: SCB Statistikdatabasen, licence CC0, "Källa: SCB"; see data/raw/SOURCES.md "Official
export/API formats".

* PxWeb API v1 (POST https://api.scb.se/OV0104/v1/doris/sv/ssd/BE/BE0101/BE0101A/BefolkningNy,
  response format "json"): `{"columns": [{"code", "text", "type"}], "data": [{"key": […],
  "values": […]}]}`. `type` "d"/"t" columns are keys (in `key` order), "c" columns are contents
  (in `values` order). Values are strings; ".." (and the other markers of
  `cleaning.MISSING_MARKERS`) are missing.
* PxWebApi v2 json-stat2 (POST https://statistikdatabasen.scb.se/api/v2/tables/TAB638/data):
  `{"version": "2.0", "class": "dataset", "id": [...], "size": [...], "dimension": {dim:
  {"category": {"index": {code: position}, "label": {code: text}}}}, "value": [...]}`; the flat
  `value` array is row-major over `id` (last dimension varies fastest); null is missing, with
  json-stat `status` (a list or a {position: marker} object) giving the marker when present.

Both give columns municipality_code, year, age, sex, population, missing_reason. Region codes
are four-character strings: SCB's two-digit codes are padded ("00" riket → "0000",
"03" Uppsala län → "0003", as Kolada codes them). age is SCB's Alder code ("0", "45", "100+")
or "total" when Alder is not a dimension; sex is "män" (Kon 1), "kvinnor" (Kon 2) or "total"
when Kon is not a dimension. Any other dimension (e.g. Civilstand) is refused rather than summed
or read as the total, unless it is only SCB's total (its `extension.eliminationValueCode`): leave
it out of the query and SCB gives the total. A ContentsCode other than BE0101N1 is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from medlofte_analysis.cleaning import MISSING_MARKERS, parse_swedish_number
from medlofte_analysis.errors import InputError

V1_URL: str = "https://api.scb.se/OV0104/v1/doris/sv/ssd/BE/BE0101/BE0101A/BefolkningNy"
V2_URL: str = "https://statistikdatabasen.scb.se/api/v2/tables/TAB638/data"
CONTENTS_CODE: str = "BE0101N1"
AGES_V1: tuple[str, ...] = tuple(str(age) for age in range(100)) + ("100+",)
SEX_CODES: dict[str, str] = {"1": "män", "2": "kvinnor"}
COLUMNS: tuple[str, ...] = (
    "municipality_code",
    "year",
    "age",
    "sex",
    "population",
    "missing_reason",
)
_KNOWN = {"Region", "Alder", "Kon", "Tid", "ContentsCode"}


def _region(code: object, source: str, where: str) -> str:
    text = str(code).strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    if re.fullmatch(r"\d{2}", text):
        return "00" + text
    raise InputError(source, where, "a region code of 2 or 4 digits ('0330', '03')", code)


def _year(code: object, source: str, where: str) -> int:
    text = str(code).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise InputError(source, where, "a year such as '2022'", code)
    return int(text)


def _sex(code: object, source: str, where: str) -> str:
    text = str(code).strip()
    if text not in SEX_CODES:
        raise InputError(source, where, "Kon code '1' (män) or '2' (kvinnor)", code)
    return SEX_CODES[text]


def _frame(records: list[dict[str, object]], wheres: list[str], source: str) -> pd.DataFrame:
    seen: dict[tuple[object, ...], str] = {}
    for record, where in zip(records, wheres, strict=True):
        key = tuple(record[k] for k in ("municipality_code", "year", "age", "sex"))
        if key in seen:
            raise InputError(
                source,
                where,
                f"one value per region, year, age and sex; also at {seen[key]}",
                list(key),
            )
        seen[key] = where
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame["year"] = frame["year"].astype(int)
    frame["population"] = frame["population"].astype(float)
    return frame


def parse_pxweb_v1(payload: dict, source: str) -> pd.DataFrame:
    """Parse a PxWeb API v1 JSON response for BE0101N1 (folkmängd)."""
    columns = payload.get("columns") if isinstance(payload, dict) else None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(columns, list) or not isinstance(data, list):
        raise InputError(source, "top level", "PxWeb v1 JSON with 'columns' and 'data' lists")
    keys = [c.get("code") for c in columns if isinstance(c, dict) and c.get("type") in ("d", "t")]
    contents = [c.get("code") for c in columns if isinstance(c, dict) and c.get("type") == "c"]
    if len(keys) + len(contents) != len(columns):
        raise InputError(source, "columns", "columns with code and type d, t or c", columns)
    for required in ("Region", "Tid"):
        if required not in keys:
            raise InputError(source, "columns", f"a '{required}' key column", keys)
    extra = [k for k in keys if k not in _KNOWN]
    if extra:
        raise InputError(
            source, "columns", "only Region, Alder, Kon, Tid as keys (ask SCB for totals)", extra
        )
    if CONTENTS_CODE in contents:
        content_index = contents.index(CONTENTS_CODE)
    elif len(contents) == 1:
        content_index = 0
    else:
        raise InputError(source, "columns", f"the contents column {CONTENTS_CODE}", contents)
    records = []
    wheres = []
    for i, row in enumerate(data):
        where = f"data[{i}]"
        wheres.append(where)
        key = row.get("key") if isinstance(row, dict) else None
        values = row.get("values") if isinstance(row, dict) else None
        if not isinstance(key, list) or len(key) != len(keys):
            raise InputError(source, f"{where}.key", f"a list of {len(keys)} codes", key)
        if not isinstance(values, list) or len(values) != len(contents):
            raise InputError(source, f"{where}.values", f"a list of {len(contents)} values", values)
        by_code = dict(zip(keys, key, strict=True))
        population, reason = parse_swedish_number(
            values[content_index], source, f"{where}.values[{content_index}]"
        )
        records.append(
            {
                "municipality_code": _region(by_code["Region"], source, f"{where}.key Region"),
                "year": _year(by_code["Tid"], source, f"{where}.key Tid"),
                "age": str(by_code["Alder"]).strip() if "Alder" in by_code else "total",
                "sex": _sex(by_code["Kon"], source, f"{where}.key Kon")
                if "Kon" in by_code
                else "total",
                "population": float("nan") if population is None else population,
                "missing_reason": reason,
            }
        )
    return _frame(records, wheres, source)


def _status_at(status: object, position: int) -> str | None:
    if isinstance(status, list):
        return status[position] if position < len(status) else None
    if isinstance(status, dict):
        return status.get(str(position))
    if isinstance(status, str):
        return status
    return None


def parse_jsonstat2(payload: dict, source: str) -> pd.DataFrame:
    """Parse a PxWebApi v2 json-stat2 dataset for folkmängd (TAB638 / BE0101N1)."""
    if not isinstance(payload, dict) or payload.get("class") != "dataset":
        raise InputError(source, "top level", "a json-stat2 object with class 'dataset'")
    ids = payload.get("id")
    sizes = payload.get("size")
    dimensions = payload.get("dimension")
    values = payload.get("value")
    if not (isinstance(ids, list) and isinstance(sizes, list) and len(ids) == len(sizes)):
        raise InputError(source, "id/size", "lists of equal length", (ids, sizes))
    if not isinstance(dimensions, dict) or not isinstance(values, list):
        raise InputError(source, "dimension/value", "a dimension object and a value list")
    categories: list[list[str]] = []
    for dim, size in zip(ids, sizes, strict=True):
        index = dimensions.get(dim, {}).get("category", {}).get("index")
        if isinstance(index, dict):
            codes = sorted(index, key=lambda code: index[code])
        elif isinstance(index, list):
            codes = list(index)
        else:
            raise InputError(source, f"dimension.{dim}.category.index", "an object or list", index)
        if len(codes) != size:
            raise InputError(source, f"dimension.{dim}", f"{size} categories", len(codes))
        categories.append([str(code) for code in codes])
    for required in ("Region", "Tid"):
        if required not in ids:
            raise InputError(source, "id", f"a '{required}' dimension", ids)
    for dim, codes in zip(ids, categories, strict=True):
        # One category of another variable is a subset (SCB's recorded TAB638 answer to
        # Civilstand=OG has Civilstand {"OG"}), not the total, unless SCB marks it as the
        # variable's elimination (total) value.
        extension = dimensions.get(dim, {}).get("extension")
        total = extension.get("eliminationValueCode") if isinstance(extension, dict) else None
        if dim not in _KNOWN and codes != [total]:
            raise InputError(
                source,
                f"dimension.{dim}",
                "the variable left out of the query (SCB then gives its total)",
                codes[:5],
            )
        if dim == "ContentsCode" and codes != [CONTENTS_CODE]:
            raise InputError(
                source, "dimension.ContentsCode", f"only {CONTENTS_CODE} (folkmängd)", codes
            )
    expected = 1
    for size in sizes:
        expected *= size
    if len(values) != expected:
        raise InputError(source, "value", f"{expected} values (product of size)", len(values))
    status = payload.get("status")
    strides = [1] * len(sizes)
    for position in range(len(sizes) - 2, -1, -1):
        strides[position] = strides[position + 1] * sizes[position + 1]
    records = []
    wheres = []
    for flat, raw in enumerate(values):
        code = {dim: categories[d][(flat // strides[d]) % sizes[d]] for d, dim in enumerate(ids)}
        where = f"value[{flat}]"
        wheres.append(where)
        if raw is None:
            marker = _status_at(status, flat)
            population = None
            reason = MISSING_MARKERS.get(str(marker), f"missing in source ({marker!r})")
            if marker is None:
                reason = "null in source"
        else:
            population, reason = parse_swedish_number(raw, source, where)
        records.append(
            {
                "municipality_code": _region(code["Region"], source, f"{where} Region"),
                "year": _year(code["Tid"], source, f"{where} Tid"),
                "age": code["Alder"] if "Alder" in code else "total",
                "sex": _sex(code["Kon"], source, f"{where} Kon") if "Kon" in code else "total",
                "population": float("nan") if population is None else population,
                "missing_reason": reason,
            }
        )
    return _frame(records, wheres, source)


def parse_population(payload: dict, source: str) -> pd.DataFrame:
    """Parse a saved SCB population response of either API: json-stat2 (PxWebApi 2.0, with
    `"class": "dataset"`) or PxWeb v1 JSON (with `columns` and `data`)."""
    if isinstance(payload, dict) and payload.get("class") == "dataset":
        return parse_jsonstat2(payload, source)
    return parse_pxweb_v1(payload, source)


def population_query_v1(
    codes: Sequence[str], years: Sequence[int], by_age_sex: bool
) -> dict[str, object]:
    """Build the PxWeb v1 POST body for folkmängd (BE0101N1) in table BefolkningNy.

    Without `by_age_sex`, Alder, Kon and Civilstand are left out, so PxWeb returns totals
    (they are eliminable variables). With it, every one-year age ("0" … "100+") and both sexes
    are requested (Civilstand still totalled).
    """
    bad = [code for code in codes if not re.fullmatch(r"\d{2}|\d{4}", str(code))]
    if bad or not codes:
        raise InputError(None, "codes", "region codes as strings of 2 or 4 digits", bad or codes)
    if not years:
        raise InputError(None, "years", "at least one year", years)
    query: list[dict[str, object]] = [
        {"code": "Region", "selection": {"filter": "item", "values": [str(c) for c in codes]}}
    ]
    if by_age_sex:
        query.append({"code": "Alder", "selection": {"filter": "item", "values": list(AGES_V1)}})
        query.append({"code": "Kon", "selection": {"filter": "item", "values": ["1", "2"]}})
    query.append(
        {"code": "ContentsCode", "selection": {"filter": "item", "values": [CONTENTS_CODE]}}
    )
    query.append(
        {"code": "Tid", "selection": {"filter": "item", "values": [str(int(y)) for y in years]}}
    )
    return {"query": query, "response": {"format": "json"}}


def population_query_v2(
    codes: Sequence[str], years: Sequence[int], by_age_sex: bool
) -> dict[str, object]:
    """Build the PxWebApi 2.0 POST body for folkmängd (BE0101N1) in TAB638.

    `{"selection": [{"variableCode", "valueCodes"}]}`; variables left out (Civilstand, and Alder
    and Kon without `by_age_sex`) are eliminated, so SCB returns their totals.
    """
    bad = [code for code in codes if not re.fullmatch(r"\d{2}|\d{4}", str(code))]
    if bad or not codes:
        raise InputError(None, "codes", "region codes as strings of 2 or 4 digits", bad or codes)
    if not years:
        raise InputError(None, "years", "at least one year", years)
    selection: list[dict[str, object]] = [
        {"variableCode": "Region", "valueCodes": [str(c) for c in codes]}
    ]
    if by_age_sex:
        selection.append({"variableCode": "Alder", "valueCodes": list(AGES_V1)})
        selection.append({"variableCode": "Kon", "valueCodes": ["1", "2"]})
    selection.append({"variableCode": "ContentsCode", "valueCodes": [CONTENTS_CODE]})
    selection.append({"variableCode": "Tid", "valueCodes": [str(int(y)) for y in years]})
    return {"selection": selection}


def query_cells(query: dict[str, object]) -> int:
    """How many values a PxWebApi 2.0 query asks for (the product of its selections)."""
    cells = 1
    for item in query["selection"]:  # type: ignore[union-attr]
        cells *= len(item["valueCodes"])
    return cells


def table_categories(payload: dict, source: str) -> dict[str, list[str]]:
    """The category codes of each variable in a PxWebApi 2.0 table metadata response, e.g.
    {"Tid": ["1968", …]}: json-stat2 (`id` and `dimension.<id>.category.index`, the released
    API) or the beta's `{"variables": [{"id", "values": [{"code"}]}]}`."""
    variables = payload.get("variables") if isinstance(payload, dict) else None
    if isinstance(variables, list) and "dimension" not in payload:
        payload = {
            "id": [v.get("id") for v in variables if isinstance(v, dict)],
            "dimension": {
                v.get("id"): {"category": {"index": [c.get("code") for c in v.get("values", [])]}}
                for v in variables
                if isinstance(v, dict) and isinstance(v.get("values"), list)
            },
        }
    ids = payload.get("id") if isinstance(payload, dict) else None
    dimensions = payload.get("dimension") if isinstance(payload, dict) else None
    if not isinstance(ids, list) or not isinstance(dimensions, dict):
        raise InputError(source, "top level", "json-stat2 metadata with 'id' and 'dimension'")
    categories: dict[str, list[str]] = {}
    for dim in ids:
        index = dimensions.get(dim, {}).get("category", {}).get("index")
        if isinstance(index, dict):
            categories[dim] = [str(c) for c in sorted(index, key=lambda code: index[code])]
        elif isinstance(index, list):
            categories[dim] = [str(c) for c in index]
        else:
            raise InputError(source, f"dimension.{dim}.category.index", "an object or list", index)
    for required in ("Region", "Tid"):
        if required not in categories:
            raise InputError(source, "id", f"a '{required}' variable", ids)
    return categories
