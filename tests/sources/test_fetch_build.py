"""End to end: what `medlofte fetch` saves flows through the build into the evaluation.

Responses come from the local stand-in in replay.py: KPI values SYNTHETIC (generated at test
time), population REAL (the committed 2025 Kolada snapshot). Everything is written into a
temporary copy of data/raw; the project's data/raw is never touched.
"""

from __future__ import annotations

import json
import shutil

import pytest

from medlofte_analysis.build import build, build_tables
from medlofte_analysis.catalog import load_catalog
from medlofte_analysis.cli import main
from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.fetch import fetch_kolada, fetch_scb_population
from medlofte_analysis.manifest import sha256_file

NOW = "2026-05-01T12:00:00Z"
KNIVSTA = "evaluations/knivsta-2024-2025.toml"


@pytest.fixture
def raw(tmp_path):
    copy = tmp_path / "raw"
    shutil.copytree(RAW_DIR, copy)
    return copy


def _kolada_primary(evaluation) -> list[str]:
    """The primary outcomes evaluated on a Kolada series (concepts resolved to their source)."""
    catalog = load_catalog().set_index("indicator_id")
    results = evaluation.results
    ids = results.loc[results["primary"], "indicator_id"].unique()
    return [i for i in ids if catalog.loc[i, "source"] == "kolada"]


def test_fetched_kolada_rates_enter_the_table_with_their_population(replay, client, raw):
    fetch_kolada(["N07544", "N01951"], ["0330"], [2022], raw, now=NOW, client=client)
    indicators = build_tables(raw).indicators
    row = indicators.loc[
        (indicators["municipality_code"] == "0330")
        & (indicators["indicator_id"] == "kolada_n07544")
    ].iloc[0]
    assert (row["year"], row["population"]) == (2022, replay.kolada.population["0330"])
    assert row["raw_path"] == "kolada_api/2026-05-01/page-001.json"
    assert row["source_id"] == "kolada_api_2026-05-01"


def test_scb_json_stat2_snapshot_enters_the_population_table(replay, client, raw):
    fetch_scb_population(["0330"], [2023], raw, now=NOW, client=client)
    population = build_tables(raw).population
    row = population.loc[
        (population["municipality_code"] == "0330") & (population["year"] == 2023)
    ].iloc[0]
    assert row["population"] == replay.scb.population["0330"]
    assert row["raw_path"] == "scb_pxweb/2026-05-01/befolkning-001.json"


def test_old_scb_v1_snapshot_still_builds(raw):
    # SYNTHETIC population value in PxWeb v1's format, registered as an old fetch would have.
    from medlofte_analysis.fetch import _commit

    body = {
        "columns": [
            {"code": "Region", "text": "region", "type": "d"},
            {"code": "Tid", "text": "år", "type": "t"},
            {"code": "BE0101N1", "text": "Folkmängd", "type": "c"},
        ],
        "comments": [],
        "data": [{"key": ["0330", "2019"], "values": ["12345"]}],
        "metadata": [],
    }
    _commit(
        raw,
        "scb_pxweb",
        "2025-01-01",
        {"befolkning.json": json.dumps(body).encode()},
        lambda stamp: {"source_id": f"scb_pxweb_{stamp}", "origin": "v1"},
    )
    population = build_tables(raw).population
    rows = population.loc[population["raw_path"] == "scb_pxweb/2025-01-01/befolkning.json"]
    assert rows["population"].tolist() == [12345.0]


def test_unmapped_bra_yearly_rows_are_listed_in_the_build_record(raw, tmp_path):
    from medlofte_analysis.fetch import register_bra_yearly_csv

    path = tmp_path / "Anmälda brott i kommunerna 2023.csv"
    # SYNTHETIC numbers in Brå's format; "Rinkeby-Kista" is a Stockholm stadsdelsområde.
    text = "Kommun;Antal;Per 100 000 inv.\r\nKnivsta;1 700;8 000\r\nRinkeby-Kista;10;20\r\n"
    path.write_bytes(text.encode("utf-8-sig"))
    register_bra_yearly_csv(path, raw, origin="https://bra.se/", now=NOW)
    build(raw, tmp_path / "processed")
    record = json.loads((tmp_path / "processed" / "build_record.json").read_text("utf-8"))
    assert record["unmapped_rows"] == [
        "bra_yearly_csv/2026-05-01/Anmälda brott i kommunerna 2023/"
        "Anmälda brott i kommunerna 2023.csv: Rinkeby-Kista"
    ]


def test_fetch_config_then_build_turns_kolada_primary_outcomes_into_verdicts(
    replay, raw, tmp_path, capsys
):
    processed = tmp_path / "processed"
    build(raw, processed)
    before = run_evaluation(KNIVSTA, "", processed)
    primary = _kolada_primary(before)
    assert len(primary) == 5
    headline = before.results.loc[before.results["headline"]].set_index("indicator_id")
    assert set(headline.loc[primary, "verdict"]) == {"cannot_judge"}
    shipped = {p: sha256_file(RAW_DIR / p) for p in ("manifest.csv", "sources.csv")}

    assert main(["fetch", "--config", KNIVSTA, "--raw", str(raw)]) == 0

    out = capsys.readouterr().out
    assert "kolada_n07544" in out and "SCB har ännu inte publicerat folkmängden för 2025" in out
    build(raw, processed)
    after = run_evaluation(KNIVSTA, "", processed)
    headline = after.results.loc[after.results["headline"]].set_index("indicator_id")
    assert "cannot_judge" not in set(headline.loc[primary, "verdict"])
    assert {p: sha256_file(RAW_DIR / p) for p in shipped} == shipped
