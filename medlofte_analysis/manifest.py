"""The raw-data manifest: which raw file came from where, under which licence, with which checksum.

Two committed tables describe `data/raw/` (owid/etl-style snapshot metadata):
- `sources.csv`: one row per source (publisher, origin, retrieval date, licence, attribution);
- `manifest.csv`: one row per raw file (path relative to `data/raw`, source id, sha256, size,
  whether it is the publisher's original bytes or derived from another raw file).
Code only reads and verifies them; only `medlofte fetch` adds rows (for the snapshots it adds),
holding `manifest_lock` (a file lock, `data/raw/.manifest.lock`) so that two fetches never lose
each other's rows. Paths under `data/raw` whose name starts with "." (the lock, a killed fetch's
`.fetch-*` staging folders) are outside the manifest's view: `verify_raw` ignores them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

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
LOCK_NAME: str = ".manifest.lock"
LOCK_TIMEOUT_SECONDS: float = 120.0


def manifest_lock(raw_dir: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> FileLock:
    """The lock to hold while adding files to `raw_dir` and rows to its manifest.

    `filelock` (cross-platform: fcntl on Linux/macOS, msvcrt on Windows) rather than a
    hand-written lock file; the OS releases it when a killed process exits.
    """
    return FileLock(str(Path(raw_dir) / LOCK_NAME), timeout=timeout)


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in relative.split("/"))


class ManifestBusy(InputError):
    """Another fetch holds the manifest lock for too long."""

    def __init__(self, raw_dir: Path) -> None:
        super().__init__(
            Path(raw_dir) / LOCK_NAME,
            None,
            "the lock to be free (another `medlofte fetch` is saving; try again when it is done)",
        )


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
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [f for f in fields if f not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, "header row", f"columns {list(fields)}", reader.fieldnames)
            rows = [dict(row) for row in reader]
    except UnicodeDecodeError as error:
        raise InputError(path, f"byte {error.start}", "UTF-8 text", None) from error
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
        if _hidden(relative):
            continue
        if path.is_file() and relative not in listed and relative not in bookkeeping:
            problems.append(ChecksumProblem(relative, "raw file has no manifest entry"))
    return problems


def append_manifest_entries(raw_dir: Path, rows: list[dict[str, str]]) -> None:
    """Add entries to `manifest.csv` atomically (used only by the explicit fetch command).

    Existing rows keep their bytes; new paths are added at the end.
    """
    _merge_csv(raw_dir / "manifest.csv", MANIFEST_FIELDS, "path", rows, replace=False)


def append_source(raw_dir: Path, row: dict[str, str]) -> None:
    """Add or replace one source row in `sources.csv` atomically (fetch command only).

    Every other row keeps its bytes (its quoting included): registering a file changes
    nothing else in `data/raw`.
    """
    _merge_csv(raw_dir / "sources.csv", SOURCE_FIELDS, "source_id", [row], replace=True)


def _raw_records(text: str) -> list[tuple[list[str], str]]:
    """The records of a CSV text, each with the exact text it was read from."""
    lines = iter(text.splitlines(keepends=True))
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    records = []
    for record in csv.reader(feed()):
        records.append((record, "".join(consumed)))
        consumed.clear()
    return records


def _merge_csv(
    path: Path, fields: tuple[str, ...], key: str, rows: list[dict[str, str]], replace: bool
) -> None:
    """Add rows to a CSV (or replace the row with the same key), keeping other rows' bytes."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    records = _raw_records(text)
    if not records:
        records = [(list(fields), _csv_text([dict(zip(fields, fields, strict=True))], fields))]
    header, *body = records
    position = header[0].index(key)
    index = {record[position]: i for i, (record, _) in enumerate(body) if len(record) > position}
    texts = [raw if raw.endswith("\n") else raw + "\n" for _, raw in body]
    for row in rows:
        line = _csv_text([row], fields)
        if row[key] not in index:
            index[row[key]] = len(texts)
            texts.append(line)
        elif replace:
            texts[index[row[key]]] = line
    _write_atomic_text(path, header[1] + "".join(texts))


def _csv_text(rows: list[dict[str, str]], fields: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(fields), lineterminator="\n", extrasaction="ignore"
    )
    writer.writerows([{f: row.get(f, "") for f in fields} for row in rows])
    return buffer.getvalue()


def _write_atomic_text(path: Path, text: str) -> None:
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=path.parent, delete=False, suffix=".tmp"
    )
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
