"""data/raw is never modified: every raw file matches the checksum recorded in the manifest."""

from pathlib import Path

import pytest

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import InputError
from medlofte_analysis.manifest import read_manifest, read_sources, sha256_file, verify_raw


def test_every_raw_file_matches_its_recorded_checksum():
    assert verify_raw(RAW_DIR) == []


def test_every_source_has_licence_and_attribution():
    for source in read_sources(RAW_DIR).values():
        assert source["licence"] and source["attribution"] and source["origin"], source


def test_manifest_lists_the_brå_lägesbild_snapshot_with_its_sha256():
    rows = {row["path"]: row for row in read_manifest(RAW_DIR)}
    path = "bra_kommunindikatorer_region_dalarna/bra_kommunindikatorer_dalarna_riket.csv"
    assert rows[path]["sha256"] == sha256_file(RAW_DIR / path)
    assert rows[path]["kind"] == "derived"


def test_sha256_of_known_bytes(tmp_path: Path):
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    # FIPS 180-2 test vector for "abc".
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def _copy_raw(tmp_path: Path, names: list[str]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("sources.csv",):
        (raw / name).write_bytes((RAW_DIR / name).read_bytes())
    rows = [row for row in read_manifest(RAW_DIR) if row["path"] in names]
    lines = ["path,source_id,sha256,bytes,kind,derived_from"]
    for row in rows:
        target = raw / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((RAW_DIR / row["path"]).read_bytes())
        lines.append(
            ",".join(
                row[k] for k in ("path", "source_id", "sha256", "bytes", "kind", "derived_from")
            )
        )
    (raw / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return raw


def test_a_changed_raw_file_is_reported(tmp_path: Path):
    name = "kolada_rkolada_sysdata/kolada_municipalities.csv"
    raw = _copy_raw(tmp_path, [name])
    with open(raw / name, "a", encoding="utf-8") as handle:
        handle.write("9999,Påhittad,K\n")
    problems = verify_raw(raw)
    assert [p.path for p in problems] == [name, name]
    assert "sha256" in problems[1].problem


def test_a_raw_file_without_manifest_entry_is_reported(tmp_path: Path):
    raw = _copy_raw(tmp_path, ["kolada_rkolada_sysdata/kolada_municipalities.csv"])
    (raw / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    assert [p.problem for p in verify_raw(raw)] == ["raw file has no manifest entry"]


def test_missing_manifest_is_a_clear_error(tmp_path: Path):
    with pytest.raises(InputError, match="manifest.csv"):
        read_manifest(tmp_path)


def test_a_manifest_that_is_not_utf8_is_a_clear_error(tmp_path: Path):

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "manifest.csv").write_bytes("path,source_id\nå\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"manifest\.csv: byte \d+: expected UTF-8 text"):
        read_manifest(raw)
