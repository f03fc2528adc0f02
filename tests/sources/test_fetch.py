"""Fetching from Kolada v3 and SCB PxWebApi 2.0, against the local stand-in in replay.py.

Every response comes from a threaded http.server on 127.0.0.1 in the services' real formats;
the KPI values are SYNTHETIC (generated at test time), the population values are the REAL 2025
figures of the committed Kolada snapshot. After each case the test asserts exactly what is in
the temporary raw folder, and that nothing that was there before changed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time

import pytest
from replay import Fault, files_in

from medlofte_analysis.errors import InputError
from medlofte_analysis.fetch import (
    FetchError,
    fetch_kolada,
    fetch_scb_population,
    kolada_urls,
)
from medlofte_analysis.manifest import verify_raw
from medlofte_analysis.sources.kolada_api import read_kolada_pages
from medlofte_analysis.sources.scb_pxweb import parse_population

NOW = "2026-05-01T12:00:00Z"
KNIVSTA = ["0330"]


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _unchanged(raw, before):
    """Nothing that was in `raw` changed, and nothing was added."""
    assert files_in(raw) == before


# --- URLs ---------------------------------------------------------------------------------


def test_kolada_urls_join_with_commas():
    assert kolada_urls(["N07540", "N07403"], ["0330", "0305"], [2023, 2024], "https://k/v3") == [
        "https://k/v3/data/kpi/N07540,N07403/municipality/0330,0305/year/2023,2024"
    ]


def test_kolada_urls_put_at_most_25_ids_in_a_path_segment():
    codes = [f"{n:04d}" for n in range(100, 160)]
    urls = kolada_urls(["N07540"], codes, [2024], "https://k/v3")
    segments = [url.split("/municipality/")[1].split("/")[0].split(",") for url in urls]
    assert [len(s) for s in segments] == [25, 25, 10]
    assert [code for s in segments for code in s] == codes


def test_http_base_address_other_than_loopback_is_refused(monkeypatch):
    monkeypatch.setenv("MEDLOFTE_KOLADA_URL", "http://kolada.example/v3")
    with pytest.raises(FetchError, match="https://"):
        kolada_urls(["N07540"], KNIVSTA, [2024])


# --- Kolada -------------------------------------------------------------------------------


def test_kolada_follows_every_page_and_saves_them_unchanged(replay, client, empty_raw):
    replay.kolada.page_size = 4
    outcome = fetch_kolada(
        ["N07540", "N07403"], KNIVSTA, range(2019, 2025), empty_raw, now=NOW, client=client
    )
    names = [p.relative_to(empty_raw).as_posix() for p in outcome.paths]
    assert names == [f"kolada_api/2026-05-01/page-00{n}.json" for n in (1, 2, 3)]
    values = read_kolada_pages(outcome.paths)
    assert len(values) == 12 and outcome.missing == []
    assert set(files_in(empty_raw)) == {"manifest.csv", "sources.csv", *names}


def test_kolada_records_manifest_rows_with_checksums_and_one_source(replay, client, empty_raw):
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    (row,) = _rows(empty_raw / "manifest.csv")
    data = outcome.paths[0].read_bytes()
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["bytes"] == str(len(data))
    (source,) = _rows(empty_raw / "sources.csv")
    assert (source["source_id"], source["licence"]) == ("kolada_api_2026-05-01", "CC BY 4.0")
    assert source["attribution"] == "Källa: Kolada (RKA)" and source["retrieved"] == NOW
    assert verify_raw(empty_raw) == []


def test_more_than_25_municipalities_are_asked_in_chunks(replay, client, empty_raw):
    codes = sorted(code for code in replay.kolada.population if code.startswith("01"))[:26]
    outcome = fetch_kolada(["N07540"], codes, [2024], empty_raw, now=NOW, client=client)
    asked = [path for method, path in replay.log if method == "GET"]
    assert len(asked) == 2 and outcome.missing == []
    assert sorted(read_kolada_pages(outcome.paths)["municipality_code"]) == codes


def test_withdrawn_value_is_saved_and_read_as_withdrawn(replay, client, empty_raw):
    replay.kolada.withdrawn = {("N07540", "0330", 2024)}
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert read_kolada_pages(outcome.paths)["missing_reason"].item().startswith("withdrawn")


def test_429_with_retry_after_is_waited_for_then_fetched(replay, client, empty_raw):
    replay.kolada.faults = [Fault(status=429, headers={"Retry-After": "1"}, body=b"{}")]
    start = time.monotonic()
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert time.monotonic() - start >= 0.9
    assert len(outcome.paths) == 1 and outcome.missing == []
    assert len(replay.log) == 2


def test_a_huge_retry_after_is_capped(replay, client, empty_raw):
    replay.kolada.faults = [Fault(status=429, headers={"Retry-After": "3600"}, body=b"{}")]
    start = time.monotonic()
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert time.monotonic() - start < 3 and len(outcome.paths) == 1


def test_500_then_success_is_retried(replay, client, empty_raw):
    replay.kolada.faults = [Fault(status=500, body=b"oops")]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert len(outcome.paths) == 1 and len(replay.log) == 2


def test_500_every_time_saves_nothing_and_says_what_is_missing(replay, client, empty_raw):
    before = files_in(empty_raw)
    replay.kolada.faults = [Fault(status=500, body=b"oops")] * 3
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert outcome.paths == [] and "HTTP 500" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_timeout_saves_nothing(replay, client, empty_raw):
    before = files_in(empty_raw)
    replay.kolada.faults = [Fault(delay=1.5, body=b"{}")]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert "timeout" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_truncated_body_saves_nothing(replay, client, empty_raw):
    before = files_in(empty_raw)
    replay.kolada.faults = [Fault(body=b'{"values": [{"kpi": "N0', truncate=True)]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert "trunkerat" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_html_page_with_200_is_refused_showing_the_page(replay, client, empty_raw):
    before = files_in(empty_raw)
    page = b"<html><body>Kolada underh\xc3\xa5ll</body></html>"
    replay.kolada.faults = [Fault(body=page, content_type="text/html")]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert "HTML-sida" in outcome.missing[0] and "underhåll" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_changed_schema_is_refused_showing_the_unexpected_part(replay, client, empty_raw):
    before = files_in(empty_raw)
    body = json.dumps({"data": [], "next_url": ""}).encode()
    replay.kolada.faults = [Fault(body=body)]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert "oväntat format" in outcome.missing[0] and "'values'" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_values_not_asked_for_are_refused(replay, client, empty_raw):
    before = files_in(empty_raw)
    entry = {
        "kpi": "N07540",
        "municipality": "0305",
        "period": 2024,
        "values": [{"gender": "T", "count": 1, "status": "", "value": 1.0}],
    }
    replay.kolada.faults = [Fault(body=json.dumps({"values": [entry], "next_url": ""}).encode())]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert "['0305']" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_empty_values_list_saves_no_file(replay, client, empty_raw):
    before = files_in(empty_raw)
    replay.kolada.faults = [Fault(body=b'{"values": [], "next_url": ""}')]
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert outcome.paths == [] and outcome.missing == []
    _unchanged(empty_raw, before)


@pytest.mark.parametrize(
    "next_url",
    ["file:///etc/passwd", "https://elsewhere.example/v3/data?page=2", "ftp://127.0.0.1/x"],
)
def test_next_url_to_another_host_or_scheme_is_not_followed(replay, client, empty_raw, next_url):
    before = files_in(empty_raw)
    replay.kolada.next_url_override = next_url
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert outcome.paths == [] and "följs inte" in outcome.missing[0]
    assert len(replay.log) == 1
    _unchanged(empty_raw, before)


def test_a_failed_chunk_drops_only_itself(replay, client, empty_raw):
    codes = sorted(code for code in replay.kolada.population if code.startswith("01"))[:26]
    replay.kolada.faults = [Fault(status=404, body=b"{}")]
    outcome = fetch_kolada(["N07540"], codes, [2024], empty_raw, now=NOW, client=client)
    assert len(outcome.missing) == 1 and "HTTP 404" in outcome.missing[0]
    assert sorted(read_kolada_pages(outcome.paths)["municipality_code"]) == codes[25:]


def test_offline_fails_fast_and_changes_nothing(monkeypatch, client, empty_raw):
    from replay import closed_port

    monkeypatch.setenv("MEDLOFTE_KOLADA_URL", f"http://127.0.0.1:{closed_port()}/v3")
    before = files_in(empty_raw)
    start = time.monotonic()
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert time.monotonic() - start < 5
    assert outcome.offline and "ingen anslutning" in outcome.missing[0]
    _unchanged(empty_raw, before)


def test_two_fetches_on_one_day_get_two_folders_and_keep_every_manifest_row(
    replay, client, empty_raw
):
    threads = [
        threading.Thread(
            target=fetch_kolada,
            args=(["N07540"], [code], [2024], empty_raw),
            kwargs={"now": NOW, "client": client},
        )
        for code in ("0330", "0305")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    paths = sorted(row["path"] for row in _rows(empty_raw / "manifest.csv"))
    assert paths == [
        "kolada_api/2026-05-01-2/page-001.json",
        "kolada_api/2026-05-01/page-001.json",
    ]
    assert len(_rows(empty_raw / "sources.csv")) == 2 and verify_raw(empty_raw) == []


def test_leftovers_of_a_killed_run_are_ignored_then_removed(replay, client, empty_raw):
    leftover = empty_raw / ".fetch-killed"
    leftover.mkdir()
    (leftover / "page-001.json").write_text("{}", encoding="utf-8")
    assert verify_raw(empty_raw) == []
    fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=client)
    assert not leftover.exists()


def test_unwritable_raw_folder_is_one_swedish_line(replay, client, tmp_path):
    blocker = tmp_path / "raw"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError, match="kunde inte skriva"):
        fetch_kolada(["N07540"], KNIVSTA, [2024], blocker, now=NOW, client=client)


def test_oversized_response_is_refused(replay, empty_raw):
    from medlofte_analysis.fetch import HttpClient, HttpSettings

    small = HttpClient(HttpSettings(max_bytes=100, progress=False, retries=0))
    outcome = fetch_kolada(["N07540"], KNIVSTA, range(2015, 2025), empty_raw, now=NOW, client=small)
    assert "större än 100 byte" in outcome.missing[0] and outcome.paths == []


def test_slow_server_is_cut_off_at_the_deadline(replay, empty_raw):
    from medlofte_analysis.fetch import HttpClient, HttpSettings

    slow = HttpClient(HttpSettings(deadline=0.3, read_timeout=1.0, retries=0, progress=False))
    replay.kolada.faults = [Fault(body=b'{"values": [], "next_url": ""}' * 20, drip=0.05)]
    start = time.monotonic()
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=slow)
    assert time.monotonic() - start < 1.0
    assert "mer än 0.3 s" in outcome.missing[0] and outcome.paths == []


def test_compressed_bomb_is_capped_after_decompression(replay, empty_raw):
    import gzip

    from medlofte_analysis.fetch import HttpClient, HttpSettings

    bomb = gzip.compress(b" " * 5_000_000)
    replay.kolada.faults = [Fault(body=bomb, headers={"Content-Encoding": "gzip"})]
    small = HttpClient(HttpSettings(max_bytes=1_000_000, retries=0, progress=False))
    outcome = fetch_kolada(["N07540"], KNIVSTA, [2024], empty_raw, now=NOW, client=small)
    assert len(bomb) < 10_000 and "större än 1000000 byte" in outcome.missing[0]


# --- SCB ----------------------------------------------------------------------------------


def test_scb_reads_metadata_first_and_reports_unpublished_years(replay, client, empty_raw):
    outcome = fetch_scb_population(
        ["0330", "0003"], [2023, 2024, 2025], empty_raw, now=NOW, client=client
    )
    assert replay.log[0] == ("GET", "/api/v2/tables/TAB638/metadata?lang=sv")
    assert outcome.unpublished_years == [2025]
    (path,) = outcome.paths
    assert path.relative_to(empty_raw).as_posix() == "scb_pxweb/2026-05-01/befolkning-001.json"
    frame = parse_population(json.loads(path.read_bytes()), str(path))
    assert sorted(set(frame["municipality_code"])) == ["0003", "0330"]
    assert sorted(set(frame["year"])) == [2023, 2024]


def test_scb_query_is_split_under_the_value_limit(replay, client, empty_raw):
    outcome = fetch_scb_population(
        ["0330", "0305", "0319"], [2022, 2023], empty_raw, now=NOW, client=client, max_cells=2
    )
    posts = [path for method, path in replay.log if method == "POST"]
    assert len(posts) == 3 and len(outcome.paths) == 3


@pytest.mark.parametrize("status", [400, 403])
def test_scb_too_many_cells_is_split_and_retried(replay, client, empty_raw, status):
    replay.scb.cell_limit = 2
    replay.scb.too_many_status = status
    outcome = fetch_scb_population(
        ["0330", "0305", "0319"], [2022, 2023], empty_raw, now=NOW, client=client
    )
    assert outcome.missing == []
    frames = [parse_population(json.loads(p.read_bytes()), str(p)) for p in outcome.paths]
    assert sum(len(f) for f in frames) == 6


def test_scb_400_for_another_reason_is_not_split(replay, client, empty_raw):
    replay.scb.data = lambda query: (400, b'{"title":"Non-existent value","status":400}')
    outcome = fetch_scb_population(["0330", "0305"], [2022], empty_raw, now=NOW, client=client)
    posts = [path for method, path in replay.log if method == "POST"]
    assert len(posts) == 1 and "HTTP 400" in outcome.missing[0]


def test_scb_extra_dimension_is_refused_and_nothing_saved(replay, client, empty_raw):
    before = files_in(empty_raw)
    replay.scb.extra_dimension = True
    outcome = fetch_scb_population(["0330"], [2022], empty_raw, now=NOW, client=client)
    assert "Civilstand" in outcome.missing[0] and outcome.paths == []
    _unchanged(empty_raw, before)


def test_scb_requests_are_paced(replay, empty_raw):
    from medlofte_analysis.fetch import HttpClient, HttpSettings

    paced = HttpClient(HttpSettings(scb_min_interval=0.2, progress=False))
    start = time.monotonic()
    fetch_scb_population(["0330", "0305"], [2022], empty_raw, now=NOW, client=paced, max_cells=1)
    assert time.monotonic() - start >= 0.4  # metadata + 2 queries: two waits of 0.2 s
