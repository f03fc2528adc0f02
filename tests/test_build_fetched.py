"""End to end: a Kolada snapshot added by `fetch` flows into the processed table.

The Kolada response below is SYNTHETIC (made-up values in the real API v3 format).
"""

import io
import json
import shutil

from medlofte_analysis.build import build_tables
from medlofte_analysis.fetch import fetch_kolada


def _page(values: list[tuple[str, int, float]]) -> bytes:
    return json.dumps(
        {
            "values": [
                {
                    "kpi": kpi,
                    "municipality": "0330",
                    "period": year,
                    "values": [{"gender": "T", "count": 1, "status": "", "value": value}],
                }
                for kpi, year, value in values
            ],
            "next_url": "",
        }
    ).encode("utf-8")


def test_fetched_kolada_rates_enter_the_table_with_their_population(tmp_path, shipped_raw_dir):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    page = _page([("N07544", 2022, 150.0), ("N01951", 2022, 20000.0)])
    fetch_kolada(
        ["N07544", "N01951"],
        ["0330"],
        [2022],
        raw,
        opener=lambda request, timeout=None: io.BytesIO(page),
        now="2026-05-01T12:00:00Z",
    )
    indicators = build_tables(raw).indicators
    row = indicators.loc[
        (indicators["municipality_code"] == "0330")
        & (indicators["indicator_id"] == "kolada_n07544")
    ].iloc[0]
    assert (row["year"], row["value"], row["population"]) == (2022, 150.0, 20000.0)
    assert row["raw_path"] == "kolada_api/2026-05-01/page-001.json"
    assert row["source_id"] == "kolada_api_2026-05-01"
