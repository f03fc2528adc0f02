"""Shared by the build tests, the quick fuzz profile and `benchmarks/bench_fuzz.py`.

`RawCopy` is a private copy of data/raw in a temporary folder in which one shipped file at a time
is replaced by a mutated version, with its manifest entry updated so that only the loaders (not
the checksum check) stand between the bad bytes and data/processed. Everything here is SYNTHETIC
damage applied to copies; data/raw itself is never written.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from medlofte_analysis.config import RAW_DIR
from medlofte_analysis.errors import ConfigError, InputError
from medlofte_analysis.manifest import MANIFEST_FIELDS, read_manifest, sha256_file
from medlofte_analysis.validation import ValidationError

# The project's own refusals: anything else reaching the user is a "foreign" exception.
OWN_ERRORS: tuple[type[BaseException], ...] = (InputError, ConfigError, ValidationError)


class RawCopy:
    """A copy of data/raw; `replace(relative, data)` swaps in new bytes and fixes the manifest."""

    def __init__(self, folder: Path) -> None:
        self.raw = Path(folder) / "raw"
        shutil.copytree(RAW_DIR, self.raw)
        self._manifest = (self.raw / "manifest.csv").read_bytes()
        self._originals: dict[str, bytes] = {}

    def original(self, relative: str) -> bytes:
        return (RAW_DIR / relative).read_bytes()

    def replace(self, relative: str, data: bytes) -> None:
        self._originals.setdefault(relative, self.original(relative))
        path = self.raw / relative
        path.write_bytes(data)
        rows = read_manifest(self.raw)
        for row in rows:
            if row["path"] == relative:
                row["sha256"], row["bytes"] = sha256_file(path), str(len(data))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(MANIFEST_FIELDS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (self.raw / "manifest.csv").write_text(out.getvalue(), encoding="utf-8")

    def replace_text(self, relative: str, text: str) -> None:
        self.replace(relative, text.encode("utf-8"))

    def restore(self) -> None:
        for relative, data in self._originals.items():
            (self.raw / relative).write_bytes(data)
        self._originals.clear()
        (self.raw / "manifest.csv").write_bytes(self._manifest)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path → bytes), to prove nothing was written."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }
