"""The contract between stages: column names and types of the processed tidy tables.

`indicators.csv` has one row per (municipality_code, year, indicator_id).
`population.csv` has one row per (municipality_code, year, age_group, sex, source_id).
"""

from __future__ import annotations

# Years a processed row may refer to; anything else is a typo in the source.
YEAR_RANGE: tuple[int, int] = (1990, 2100)

INDICATOR_KEY: tuple[str, ...] = ("municipality_code", "year", "indicator_id")

# column -> (dtype, description)
INDICATOR_COLUMNS: dict[str, tuple[str, str]] = {
    "municipality_code": ("string", "four-character Kolada/SCB code, '0000' = Riket, '00NN' = län"),
    "municipality_name": ("string", "name as in Kolada's municipality list"),
    "year": (
        "int",
        "calendar year the value refers to (for pooled surveys: last year of the period)",
    ),
    "indicator_id": ("string", "id in the indicator catalog"),
    "value": (
        "float",
        "the headline value in `unit` (a rate, a share or a count); empty if missing",
    ),
    "unit": ("string", "unit of `value`: 'per 100 000 inv', 'procent', 'antal', 'index'"),
    "count": ("float", "number of reported offences or events where the source gives one"),
    "population": ("float", "population denominator used for `value`, where known"),
    "population_source": (
        "string",
        "where `population` comes from (published or derived, and how)",
    ),
    "ci_lower": ("float", "published lower 95 % limit (surveys)"),
    "ci_upper": ("float", "published upper 95 % limit (surveys)"),
    "n_respondents": ("float", "number of survey respondents, where published"),
    "missing_reason": ("string", "why `value` is missing ('' when present)"),
    "quality": (
        "string",
        "'primary' (publisher's own series) or 'secondary' (quoted on a web page)",
    ),
    "source_id": ("string", "id of the source in data/raw/manifest.csv"),
    "raw_path": ("string", "raw file the row came from, relative to data/raw"),
    "raw_sha256": ("string", "sha256 of that raw file"),
}

POPULATION_KEY: tuple[str, ...] = ("municipality_code", "year", "age_group", "sex", "source_id")

POPULATION_COLUMNS: dict[str, tuple[str, str]] = {
    "municipality_code": ("string", "four-character code"),
    "municipality_name": ("string", "name as in Kolada's municipality list"),
    "year": ("int", "population on 31 December of this year"),
    "age_group": ("string", "'total' or an age band such as '15-19'"),
    "sex": ("string", "'total', 'kvinnor' or 'män'"),
    "population": ("float", "number of inhabitants"),
    "quality": ("string", "'primary', 'secondary' or 'derived'"),
    "population_source": ("string", "publisher and table"),
    "source_id": ("string", "id of the source in data/raw/manifest.csv"),
    "raw_path": ("string", "raw file, relative to data/raw"),
    "raw_sha256": ("string", "sha256 of that raw file"),
}

# primary: the publisher's own series; secondary: quoted on a web page; derived: computed from
# published figures; transcribed: typed in by an analyst from the publisher's report.
QUALITIES: frozenset[str] = frozenset({"primary", "secondary", "derived", "transcribed"})

NUMERIC_INDICATOR_COLUMNS: tuple[str, ...] = tuple(
    column for column, (dtype, _) in INDICATOR_COLUMNS.items() if dtype == "float"
)
