"""The raw-data manifest: which raw file came from where, under which licence, with which checksum.

Two committed tables describe `data/raw/` (owid/etl-style snapshot metadata):
- `sources.csv`: one row per source (publisher, origin, retrieval date, licence, attribution);
- `manifest.csv`: one row per raw file (path relative to `data/raw`, source id, sha256, size,
  whether it is the publisher's original bytes or derived from another raw file).
Code only reads and verifies them; only `medlofte fetch` adds rows (for the snapshots it adds).
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from medlofte_analysis.errors import InputError

SOURCE_FIELDS: tuple[str, ...] = (
    "source_id",
    "publisher",
    "title",
    "origin",
    "retrieved",
    "licence",
    "attribution",
    "confidence",
    "note",
)
MANIFEST_FIELDS: tuple[str, ...] = ("path", "source_id", "sha256", "bytes", "kind", "derived_from")


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_table(path: Path, fields: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.exists():
        raise InputError(path, None, "a manifest file (it is committed with data/raw)", "no file")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in fields if f not in (reader.fieldnames or [])]
        if missing:
            raise InputError(path, "header row", f"columns {list(fields)}", reader.fieldnames)
        rows = [dict(row) for row in reader]
    for number, row in enumerate(rows, start=2):
        # A short or long row (e.g. a bare carriage return inside a field) would give None.
        if None in row or None in row.values():
            raise InputError(
                path, f"row {number}", f"{len(reader.fieldnames)} fields like the header", row
            )
    return rows


def read_sources(raw_dir: Path) -> dict[str, dict[str, str]]:
    """Read `sources.csv` as {source_id: row}."""
    rows = _read_table(raw_dir / "sources.csv", SOURCE_FIELDS)
    return {row["source_id"]: row for row in rows}


def read_manifest(raw_dir: Path) -> list[dict[str, str]]:
    """Read `manifest.csv`: one row per raw file."""
    return _read_table(raw_dir / "manifest.csv", MANIFEST_FIELDS)


def manifest_entry(raw_dir: Path, relative_path: str) -> dict[str, str]:
    """Return the manifest row for one raw file, or raise naming the file."""
    for row in read_manifest(raw_dir):
        if row["path"] == relative_path:
            return row
    raise InputError(raw_dir / "manifest.csv", None, f"an entry for {relative_path}", "none")


@dataclass(frozen=True)
class ChecksumProblem:
    """One raw file that does not match the manifest."""

    path: str
    problem: str


def verify_raw(raw_dir: Path) -> list[ChecksumProblem]:
    """Check every manifest entry against the file's bytes, and every raw file has an entry.

    Returns the problems found (empty list: all raw files are exactly as recorded).
    """
    problems: list[ChecksumProblem] = []
    sources = read_sources(raw_dir)
    entries = read_manifest(raw_dir)
    listed = set()
    for row in entries:
        listed.add(row["path"])
        path = raw_dir / row["path"]
        if row["source_id"] not in sources:
            problems.append(ChecksumProblem(row["path"], f"unknown source_id {row['source_id']}"))
        if not path.exists():
            problems.append(ChecksumProblem(row["path"], "file is missing"))
            continue
        size = path.stat().st_size
        if str(size) != row["bytes"]:
            problems.append(ChecksumProblem(row["path"], f"size {size} != recorded {row['bytes']}"))
        if sha256_file(path) != row["sha256"]:
            problems.append(ChecksumProblem(row["path"], "sha256 differs from the manifest"))
    bookkeeping = {"manifest.csv", "sources.csv", "SOURCES.md", "README.md"}
    for path in sorted(raw_dir.rglob("*")):
        relative = path.relative_to(raw_dir).as_posix()
        if path.is_file() and relative not in listed and relative not in bookkeeping:
            problems.append(ChecksumProblem(relative, "raw file has no manifest entry"))
    return problems


def append_manifest_entries(raw_dir: Path, rows: list[dict[str, str]]) -> None:
    """Add entries to `manifest.csv` atomically (used only by the explicit fetch command)."""
    existing = read_manifest(raw_dir)
    known = {row["path"] for row in existing}
    merged = existing + [row for row in rows if row["path"] not in known]
    merged.sort(key=lambda row: row["path"])
    _write_atomic_csv(raw_dir / "manifest.csv", MANIFEST_FIELDS, merged)


def append_source(raw_dir: Path, row: dict[str, str]) -> None:
    """Add or replace one source row in `sources.csv` atomically (fetch command only)."""
    sources = read_sources(raw_dir)
    sources[row["source_id"]] = {field: row.get(field, "") for field in SOURCE_FIELDS}
    ordered = [sources[key] for key in sorted(sources)]
    _write_atomic_csv(raw_dir / "sources.csv", SOURCE_FIELDS, ordered)


def _write_atomic_csv(path: Path, fields: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=path.parent, delete=False, suffix=".tmp"
    )
    try:
        with handle:
            writer = csv.DictWriter(handle, fieldnames=list(fields), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
