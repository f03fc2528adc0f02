"""data/processed is replaced as one directory and checked against its build record."""

import time
from pathlib import Path

import pytest

from medlofte_analysis import build as build_module
from medlofte_analysis.build import LEFTOVER_SECONDS, OUTPUT_FILES, build, recover_processed
from medlofte_analysis.cli import main
from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.validation import check_processed_record


@pytest.fixture()
def processed(tmp_path: Path) -> Path:
    out = tmp_path / "processed"
    build(RAW_DIR, out)
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_build_killed_while_writing_leaves_the_old_tables_and_no_leftovers(
    processed, monkeypatch
):
    before = _snapshot(processed)
    calls = []
    write = build_module._write_csv

    def killed_on_third_table(frame, path):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        write(frame, path)

    monkeypatch.setattr(build_module, "_write_csv", killed_on_third_table)
    with pytest.raises(KeyboardInterrupt):
        build(RAW_DIR, processed)
    assert _snapshot(processed) == before
    assert [p.name for p in processed.parent.iterdir()] == ["processed"]


def test_a_build_killed_between_the_two_renames_is_recovered_by_the_next_run(processed):
    before = _snapshot(processed)
    # The state a kill between the renames leaves: the old generation moved aside, the new
    # one complete in staging, no live folder.
    processed.rename(processed.parent / ".processed-old-processed-abc")
    staging = processed.parent / ".processed-new-processed-def"
    staging.mkdir()
    (staging / "indicators.csv").write_text("half", encoding="utf-8")
    recover_processed(processed, now=time.time() + LEFTOVER_SECONDS + 1)
    assert _snapshot(processed) == before
    assert [p.name for p in processed.parent.iterdir()] == ["processed"]


def test_a_young_staging_folder_of_a_running_build_is_left_alone(processed):
    staging = processed.parent / ".processed-new-processed-running"
    staging.mkdir()
    recover_processed(processed)
    assert staging.is_dir()


def test_a_rebuild_swaps_the_folder_and_keeps_files_the_build_does_not_own(processed):
    (processed / "README.txt").write_text("notes", encoding="utf-8")
    build(RAW_DIR, processed)
    assert (processed / "README.txt").read_text(encoding="utf-8") == "notes"
    assert sorted(p.name for p in processed.parent.iterdir()) == ["processed"]


def test_the_record_matches_a_fresh_build(processed):
    assert check_processed_record(processed) == []


def test_validate_fails_after_rows_are_removed_from_a_table(processed, capsys):
    path = processed / "indicators.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 1001
    path.write_text("".join(lines[:-1000]), encoding="utf-8")
    assert main(["validate", "--processed", str(processed)]) == 1
    assert "indicators.csv: sha256 stämmer inte med build_record.json" in capsys.readouterr().err


def test_validate_fails_when_a_table_is_replaced(processed, capsys):
    (processed / "population.csv").write_text("municipality_code\n", encoding="utf-8")
    assert main(["validate", "--processed", str(processed)]) == 1
    assert "population.csv" in capsys.readouterr().err


def test_validate_fails_without_a_build_record(processed, capsys):
    (processed / "build_record.json").unlink()
    assert main(["validate", "--processed", str(processed)]) == 1
    assert "build_record.json: saknas" in capsys.readouterr().err


def test_every_table_is_listed_in_the_record(processed):
    import json

    record = json.loads((processed / "build_record.json").read_text(encoding="utf-8"))
    assert sorted(e["path"] for e in record["outputs"]) == sorted(
        n for n in OUTPUT_FILES if n != "build_record.json"
    )


def test_validate_passes_on_a_fresh_build(processed):
    assert main(["validate", "--processed", str(processed)]) == 0
