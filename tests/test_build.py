"""Raw → processed: traceable, validated, deterministic, and all-or-nothing."""

import filecmp
from pathlib import Path

import pandas as pd
import pytest

from medlofte_analysis.build import OUTPUT_FILES, build, build_tables
from medlofte_analysis.config import PROCESSED_DIR, RAW_DIR
from medlofte_analysis.validation import ValidationError


@pytest.fixture(scope="module")
def result(shipped_raw_dir):
    """The shipped snapshots, built (what they hold does not change when a user fetches)."""
    return build_tables(shipped_raw_dir)


def _row(frame: pd.DataFrame, code: str, year: int, indicator: str) -> pd.Series:
    rows = frame.loc[
        (frame["municipality_code"] == code)
        & (frame["year"] == year)
        & (frame["indicator_id"] == indicator)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_orsa_narcotics_2022_is_the_published_count_and_rate(result):
    # Raw rows: "Orsa,Antal,2022,Narkotikabrott,66.0" and "Orsa,Antal per 100 000 inv,...,953.0".
    row = _row(result.indicators, "2034", 2022, "bra_narkotika")
    assert (row["count"], row["value"], row["unit"]) == (66.0, 953.0, "per 100 000 inv")


def test_population_is_implied_by_the_total_crime_count_and_rate(result):
    # Orsa 2022: 554 offences at 7 999 per 100 000 → 554 / 7999 × 100 000 = 6 925.87 → 6 926.
    row = _row(result.indicators, "2034", 2022, "bra_narkotika")
    assert row["population"] == 6926.0
    assert "härledd" in row["population_source"]


def test_ntu_share_carries_its_published_interval_and_respondents(result):
    # Raw: Orsa 2017 otrygghet 22 %, KI 16–28, 71 svarande.
    row = _row(result.indicators, "2034", 2017, "ntu_otrygghet_kvall")
    assert (row["value"], row["ci_lower"], row["ci_upper"], row["n_respondents"]) == (
        22.0,
        16.0,
        28.0,
        71.0,
    )


def test_knivsta_has_only_the_2025_kolada_total_crime_rate(result):
    knivsta = result.indicators.loc[result.indicators["municipality_code"] == "0330"]
    assert knivsta[["year", "indicator_id"]].values.tolist() == [[2025, "kolada_n07540"]]
    assert knivsta["value"].iloc[0] == pytest.approx(9029.49261)
    assert knivsta["population"].iloc[0] == 21733.0


def test_secondary_figures_stay_out_of_the_indicator_table(result):
    assert set(result.indicators["quality"]) == {"primary"}
    assert set(result.context["quality"]) == {"secondary"}


def test_every_row_traces_to_a_raw_file_by_checksum(result):
    assert result.indicators["raw_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert result.population["raw_path"].map(lambda p: (RAW_DIR / p).exists()).all()


def test_two_builds_give_identical_bytes(tmp_path: Path):
    build(RAW_DIR, tmp_path / "a")
    build(RAW_DIR, tmp_path / "b")
    match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "a", tmp_path / "b", OUTPUT_FILES, shallow=False
    )
    assert (mismatch, errors) == ([], [])


def test_committed_processed_data_is_what_the_raw_files_build_to(tmp_path: Path):
    build(RAW_DIR, tmp_path)
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, PROCESSED_DIR, OUTPUT_FILES, shallow=False)
    assert (mismatch, errors) == ([], []), "run `make build` and commit data/processed"


def test_a_failed_build_leaves_the_previous_output_intact(tmp_path: Path):
    out = tmp_path / "processed"
    build(RAW_DIR, out)
    before = {name: (out / name).read_bytes() for name in OUTPUT_FILES}
    broken = tmp_path / "raw"
    broken.mkdir()
    (broken / "sources.csv").write_bytes((RAW_DIR / "sources.csv").read_bytes())
    (broken / "manifest.csv").write_bytes((RAW_DIR / "manifest.csv").read_bytes())
    with pytest.raises(ValidationError, match="file is missing"):
        build(broken, out)
    assert {name: (out / name).read_bytes() for name in OUTPUT_FILES} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed", "raw"]
