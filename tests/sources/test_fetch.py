"""Tests for the fetcher with a fake opener (no network); responses are SYNTHETIC values."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import urllib.error

import pytest

from medlofte_analysis.errors import InputError
from medlofte_analysis.fetch import (
    DEFAULT_KOLADA_KPIS,
    fetch_kolada,
    fetch_scb_population,
    kolada_url,
)
from medlofte_analysis.manifest import MANIFEST_FIELDS, SOURCE_FIELDS
from medlofte_analysis.sources.kolada_api import read_kolada_pages

NOW = "2026-05-01T12:00:00Z"
PAGE_2_URL = "https://api.kolada.se/v3/data/kpi/N07540/municipality/0330/year/2024?page=2"
PAGE_1 = json.dumps(
    {
        "values": [
            {
                "kpi": "N07540",
                "municipality": "0330",
                "period": 2023,
                "values": [{"gender": "T", "count": 1, "status": "", "value": 1.5}],
            }
        ],
        "next_url": PAGE_2_URL,
    },
    ensure_ascii=False,
).encode("utf-8")
PAGE_2 = json.dumps(
    {
        "values": [
            {
                "kpi": "N07540",
                "municipality": "0330",
                "period": 2024,
                "values": [{"gender": "T", "count": 1, "status": "", "value": None}],
            }
        ],
        "next_url": "",
    }
).encode("utf-8")


class FakeOpener:
    """Returns recorded-format responses in order; an Exception in the list is raised."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.requests = []

    def __call__(self, request, timeout=None):
        self.requests.append(request)
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return io.BytesIO(response)


@pytest.fixture
def raw_dir(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name, fields in (("manifest.csv", MANIFEST_FIELDS), ("sources.csv", SOURCE_FIELDS)):
        (raw / name).write_text(",".join(fields) + "\n", encoding="utf-8")
    return raw


def _snapshot(raw_dir):
    return {
        p.relative_to(raw_dir).as_posix(): p.read_bytes() for p in raw_dir.rglob("*") if p.is_file()
    }


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_kolada_url_joins_with_commas():
    assert kolada_url(["N07540", "N07403"], ["0330", "0305"], [2023, 2024]) == (
        "https://api.kolada.se/v3/data/kpi/N07540,N07403/municipality/0330,0305/year/2023,2024"
    )


def test_default_kpis_are_the_crime_and_safety_ids():
    assert len(DEFAULT_KOLADA_KPIS) == 15 and "N07540" in DEFAULT_KOLADA_KPIS


def test_fetch_kolada_follows_next_url_and_saves_bytes_unchanged(raw_dir):
    opener = FakeOpener([PAGE_1, PAGE_2])
    paths = fetch_kolada(["N07540"], ["0330"], [2023, 2024], raw_dir, opener, now=NOW)
    assert [p.relative_to(raw_dir).as_posix() for p in paths] == [
        "kolada_api/2026-05-01/page-001.json",
        "kolada_api/2026-05-01/page-002.json",
    ]
    assert [p.read_bytes() for p in paths] == [PAGE_1, PAGE_2]
    assert opener.requests[1].full_url == PAGE_2_URL
    assert read_kolada_pages(paths)["year"].tolist() == [2023, 2024]


def test_fetch_kolada_records_manifest_with_checksums(raw_dir):
    fetch_kolada(["N07540"], ["0330"], [2023, 2024], raw_dir, FakeOpener([PAGE_1, PAGE_2]), now=NOW)
    rows = _rows(raw_dir / "manifest.csv")
    assert [row["path"] for row in rows] == [
        "kolada_api/2026-05-01/page-001.json",
        "kolada_api/2026-05-01/page-002.json",
    ]
    assert rows[0]["sha256"] == hashlib.sha256(PAGE_1).hexdigest()
    assert rows[0]["bytes"] == str(len(PAGE_1))
    assert {row["source_id"] for row in rows} == {"kolada_api_2026-05-01"}
    assert {row["kind"] for row in rows} == {"original"}


def test_fetch_kolada_records_source(raw_dir):
    fetch_kolada(["N07540"], ["0330"], [2023, 2024], raw_dir, FakeOpener([PAGE_1, PAGE_2]), now=NOW)
    (source,) = _rows(raw_dir / "sources.csv")
    assert source["source_id"] == "kolada_api_2026-05-01"
    assert source["origin"] == kolada_url(["N07540"], ["0330"], [2023, 2024])
    assert (source["retrieved"], source["licence"]) == (NOW, "CC BY 4.0")
    assert source["attribution"] == "Källa: Kolada (RKA)"


def test_http_error_midway_leaves_raw_dir_unchanged(raw_dir):
    before = _snapshot(raw_dir)
    error = urllib.error.HTTPError(PAGE_2_URL, 503, "Service Unavailable", None, None)
    with pytest.raises(InputError, match="503"):
        fetch_kolada(["N07540"], ["0330"], [2024], raw_dir, FakeOpener([PAGE_1, error]), now=NOW)
    assert _snapshot(raw_dir) == before
    assert sorted(p.name for p in raw_dir.iterdir()) == ["manifest.csv", "sources.csv"]


def test_invalid_json_page_leaves_raw_dir_unchanged(raw_dir):
    before = _snapshot(raw_dir)
    with pytest.raises(InputError, match="JSON"):
        fetch_kolada(
            ["N07540"], ["0330"], [2024], raw_dir, FakeOpener([PAGE_1, b"<html>"]), now=NOW
        )
    assert _snapshot(raw_dir) == before


def test_existing_snapshot_for_the_date_is_not_overwritten(raw_dir):
    fetch_kolada(["N07540"], ["0330"], [2024], raw_dir, FakeOpener([PAGE_1, PAGE_2]), now=NOW)
    before = _snapshot(raw_dir)
    with pytest.raises(InputError, match="no snapshot for this date"):
        fetch_kolada(["N07540"], ["0330"], [2024], raw_dir, FakeOpener([PAGE_1, PAGE_2]), now=NOW)
    assert _snapshot(raw_dir) == before


def test_fetch_scb_posts_query_and_records_file(raw_dir):
    # SYNTHETIC population value in PxWeb v1's response format.
    response = json.dumps(
        {
            "columns": [
                {"code": "Region", "text": "region", "type": "d"},
                {"code": "Tid", "text": "år", "type": "t"},
                {"code": "BE0101N1", "text": "Folkmängd", "type": "c"},
            ],
            "comments": [],
            "data": [{"key": ["0330", "2022"], "values": ["100"]}],
            "metadata": [],
        }
    ).encode("utf-8")
    opener = FakeOpener([response])
    (path,) = fetch_scb_population(["0330"], [2022], raw_dir, opener, now=NOW)
    assert path.read_bytes() == response
    body = json.loads(opener.requests[0].data)
    assert body["query"][0]["selection"]["values"] == ["0330"]
    assert opener.requests[0].get_method() == "POST"
    (row,) = _rows(raw_dir / "manifest.csv")
    assert row["path"] == "scb_pxweb/2026-05-01/befolkning.json"
    assert row["sha256"] == hashlib.sha256(response).hexdigest()
