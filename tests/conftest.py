"""What the tests build from: the raw snapshots as shipped, never the user's own data.

A user adds data with `medlofte fetch` (Kolada, SCB, a Brå workbook or yearly file, a filled-in
survey template) and rebuilds `data/processed`. Tests that assert what the shipped data hold
read a copy of `data/raw` without those additions, built into a temporary folder, so the suite
passes unchanged after the user fetched data or filled in templates.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from medlofte_analysis.build import build
from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.manifest import MANIFEST_FIELDS, SOURCE_FIELDS, read_manifest, read_sources

# The folders `medlofte fetch` writes into (medlofte_analysis/fetch.py); none is shipped.
FETCH_FOLDERS: tuple[str, ...] = (
    "kolada_api",
    "scb_pxweb",
    "bra_lagesbild_xlsx",
    "bra_yearly_csv",
    "enkater",
)


def _fetched(relative_path: str) -> bool:
    return relative_path.split("/", 1)[0] in FETCH_FOLDERS


def _write_csv(path: Path, fields: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def copy_shipped_raw(target: Path, raw_dir: Path = RAW_DIR) -> Path:
    """Copy `raw_dir` to `target` without what `medlofte fetch` added: its folders, their
    manifest rows, and the sources only those rows used."""
    shutil.copytree(raw_dir, target, ignore=lambda folder, names: _ignored(raw_dir, folder, names))
    entries = read_manifest(raw_dir)
    kept = [row for row in entries if not _fetched(row["path"])]
    used = {row["source_id"] for row in kept}
    dropped = {row["source_id"] for row in entries if _fetched(row["path"])} - used
    if len(kept) != len(entries):
        _write_csv(target / "manifest.csv", MANIFEST_FIELDS, kept)
    sources = read_sources(raw_dir)
    if dropped & set(sources):
        rows = [row for key, row in sources.items() if key not in dropped]
        _write_csv(target / "sources.csv", SOURCE_FIELDS, rows)
    return target


def _ignored(raw_dir: Path, folder: str, names: list[str]) -> list[str]:
    if Path(folder).resolve() != raw_dir.resolve():
        return []
    return [name for name in names if name in FETCH_FOLDERS]


@pytest.fixture(scope="session")
def shipped_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped raw snapshots (read-only by convention: copy it to change it)."""
    return copy_shipped_raw(tmp_path_factory.mktemp("shipped") / "raw")


@pytest.fixture(scope="session")
def shipped_processed_dir(shipped_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The processed tables built from the shipped snapshots, in a temporary folder."""
    processed = tmp_path_factory.mktemp("shipped") / "processed"
    build(shipped_raw_dir, processed)
    return processed


@pytest.fixture(scope="session")
def shipped_copy():
    """`copy_shipped_raw(target, raw_dir)` for tests that build their own raw folder."""
    return copy_shipped_raw


# SYNTHETIC activity log rows (not real activities), typed into the real template.
ACTIVITY_ROWS: list[list] = [
    [
        "0330",
        2024,
        "narvaro",
        "trafikkontroll – hastighet",
        "Hastighetskontroll vid skola",
        "polis",
        "kv2",
        "genomförd",
        12,
        "kontroller",
        "",
    ],
    [
        "0330",
        2024,
        "narvaro",
        "skolbesök",
        "Skolbesök",
        "gemensamt",
        "kv3",
        "delvis",
        3,
        "skolbesök",
        "",
    ],
    [
        "0330",
        2025,
        "narkotika",
        "gemensam narkotikainsats",
        "Samverkansmöte",
        "gemensamt",
        "kv1",
        "planerad",
        None,
        "",
        "",
    ],
]


@pytest.fixture
def activity_log_dir(tmp_path: Path) -> Path:
    """A folder holding aktivitetslogg.xlsx filled with the SYNTHETIC `ACTIVITY_ROWS`."""
    from openpyxl import load_workbook

    from medlofte_analysis.config import TEMPLATES_DIR

    path = tmp_path / "aktivitetslogg.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "aktivitetslogg_mall.xlsx", path)
    book = load_workbook(path)
    for number, row in enumerate(ACTIVITY_ROWS, start=2):
        for column, value in enumerate(row, start=1):
            book["Aktiviteter"].cell(row=number, column=column, value=value)
    book.save(path)
    return tmp_path
