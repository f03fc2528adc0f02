"""The suite does not depend on the user's data: registering a filled-in template changes
nothing else in data/raw, and the tests' own build ignores what a user added.

The survey figures are SYNTHETIC (made up for the test), typed into the real template.
"""

import shutil
from pathlib import Path

from openpyxl import load_workbook

from medlofte_analysis.build import build
from medlofte_analysis.config import TEMPLATES_DIR
from medlofte_analysis.fetch import register_survey_workbook

NOW = "2026-05-01T12:00:00Z"


def _filled_template(folder: Path) -> Path:
    path = folder / "enkater.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "enkatresultat_mall.xlsx", path)
    book = load_workbook(path)
    row = ["0330", 2025, "Liv & hälsa ung", "lhu_narkotika_ak9", "Använt narkotika", "åk 9"]
    for column, value in enumerate(row + [4.0, 380, None, None, "syntetiskt"], start=1):
        book["Resultat"].cell(row=2, column=column, value=value)
    book.save(path)
    return path


def _bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")  # the manifest lock is not data
    }


def test_registering_a_survey_adds_its_file_and_rows_and_changes_no_other_byte(
    tmp_path, shipped_raw_dir
):
    raw = tmp_path / "raw"
    shutil.copytree(shipped_raw_dir, raw)
    before = _bytes(raw)
    (saved,) = register_survey_workbook(_filled_template(tmp_path), raw, origin="test", now=NOW)
    after = _bytes(raw)
    assert saved.relative_to(raw).as_posix() == "enkater/2026-05-01/enkater.xlsx"
    assert set(after) - set(before) == {"enkater/2026-05-01/enkater.xlsx"}
    for name in ("manifest.csv", "sources.csv"):  # old rows kept byte for byte, one row added
        assert after[name].startswith(before[name])
        assert after[name][len(before[name]) :].count(b"\n") == 1
    unchanged = set(before) - {"manifest.csv", "sources.csv"}
    assert all(after[name] == before[name] for name in unchanged)


def test_the_tests_build_ignores_a_template_the_user_registered(
    tmp_path, shipped_raw_dir, shipped_processed_dir, shipped_copy
):
    user_raw = tmp_path / "user_raw"
    shutil.copytree(shipped_raw_dir, user_raw)
    register_survey_workbook(_filled_template(tmp_path), user_raw, origin="test", now=NOW)
    build(shipped_copy(tmp_path / "raw", user_raw), tmp_path / "processed")
    for name in ("indicators.csv", "population.csv"):
        built = (tmp_path / "processed" / name).read_bytes()
        assert built == (shipped_processed_dir / name).read_bytes()
