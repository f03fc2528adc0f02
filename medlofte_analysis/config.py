"""Project paths: every path the code uses derives from here, never from the working folder."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parents[1]
PACKAGE_DIR: Path = Path(__file__).resolve().parent
DATA_DIR: Path = PROJECT_ROOT / "data"
RAW_DIR: Path = DATA_DIR / "raw"
PROCESSED_DIR: Path = DATA_DIR / "processed"
MANIFEST_PATH: Path = RAW_DIR / "manifest.csv"
CATALOG_PATH: Path = PACKAGE_DIR / "catalog" / "indicators.csv"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
EVALUATIONS_DIR: Path = PROJECT_ROOT / "evaluations"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
TEMPLATES_DIR: Path = PROJECT_ROOT / "templates"
MANUAL_DIR: Path = DATA_DIR / "manual"
