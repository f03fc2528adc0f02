"""The årshjul followed up: per-evaluation logs, shares of the plan, amounts within one unit.

Every activity below is SYNTHETIC test data, typed into the real template in tmp_path (never
data/manual).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from medlofte_analysis import implementation
from medlofte_analysis.config import PROJECT_ROOT
from medlofte_analysis.evaluation_config import load_config
from medlofte_analysis.templates_excel import activity_template

CONFIG = load_config(PROJECT_ROOT / "evaluations" / "knivsta-2024-2025.toml")
SPEED = "trafikkontroll – hastighet"
# kommunkod, år, fokusområde, aktivitetstyp, aktivitet, ansvarig, planerad_tid, status, antal,
# enhet, kommentar
ROWS = [
    ["0330", 2024, "narvaro", SPEED, "Hastighet vid skola", "polis", "kv1", "genomförd", 40]
    + ["kontroller", "syntetiskt"],
    ["0330", 2024, "narvaro", SPEED, "Hastighet Centrum", "polis", "kv3", "genomförd", 24]
    + ["kontroller", "syntetiskt"],
    ["0330", 2025, "narvaro", "skolbesök", "Besök högstadiet", "gemensamt", "mars", "delvis", 12]
    + ["skolbesök", "syntetiskt"],
    ["0330", 2025, "narvaro", "medborgardialog", "Dialog i Alsike", "kommun", "kv2", "planerad"]
    + [None, None, "syntetiskt"],
    ["0330", 2024, "narkotika", "gemensam narkotikainsats", "Insats", "gemensamt", None]
    + ["genomförd", 2, "insatser", "syntetiskt"],
    ["0115", 2024, "unga", "SSPF-möte", "Annan kommuns möte", "kommun", 5, "genomförd", 1]
    + ["möten", "syntetiskt"],
]


def _log(folder: Path, name: str, rows: list[list[object]]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(activity_template())
    workbook = openpyxl.load_workbook(path)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            workbook["Aktiviteter"].cell(row=number, column=column, value=value)
    workbook.save(path)
    return path


@pytest.fixture
def manual(tmp_path: Path) -> Path:
    folder = tmp_path / "manual"
    _log(folder, "aktivitetslogg_0330_2024-2025.xlsx", ROWS)
    return folder


def test_each_evaluation_reads_its_own_log_by_municipality_and_period(manual):
    assert implementation.activity_log_path(CONFIG, manual).name == (
        "aktivitetslogg_0330_2024-2025.xlsx"
    )
    log = implementation.load_log(CONFIG, manual)
    assert set(log["municipality_code"]) == {"0330"} and len(log) == 5


def test_a_log_for_another_municipality_is_no_log_not_zero_activities(tmp_path):
    folder = tmp_path / "manual"
    _log(folder, "aktivitetslogg.xlsx", [ROWS[-1]])  # only Håbo (0115) rows
    assert implementation.load_log(CONFIG, folder) is None
    text = implementation.implementation_markdown(CONFIG, "Knivsta", None, folder)
    assert text.startswith("**Aktivitetslogg saknas för Knivsta 2024–2025.**")
    assert "`data/manual/aktivitetslogg_0330_2024-2025.xlsx`" in text and "0 planerade" not in text


def test_share_of_the_plan_carried_out_per_focus_area(manual):
    table = implementation.share_carried_out(implementation.load_log(CONFIG, manual), "focus_area")
    assert table.to_dict("list") == {
        "Fokusområde": [
            "Insatser i samverkan mot narkotika",
            "Polisiär närvaro på prioriterade platser (trafik, skolor)",
        ],
        "Planerade": [1, 4],
        "Genomförda": [1, 2],
        "Delvis": [0, 1],
        "Ej genomförda": [0, 1],
        "Andel genomförda (%)": [100.0, 50.0],
    }


def test_every_log_table_carries_a_caption_and_the_log_as_its_source():
    tables = [
        implementation.share_carried_out(None, "focus_area"),
        implementation.share_carried_out(None, "responsible"),
        implementation.amounts_by_unit(None),
        implementation.activities_table(None),
    ]
    captions = [table.attrs["caption"] for table in tables]
    assert all(captions) and len(set(captions)) == len(captions)
    assert {table.attrs["source"] for table in tables} == {implementation.LOG_SOURCE}


def test_share_of_the_plan_carried_out_per_party(manual):
    table = implementation.share_carried_out(implementation.load_log(CONFIG, manual), "responsible")
    assert table["Ansvarig"].tolist() == ["gemensamt", "kommun", "polis"]
    assert table["Genomförda"].tolist() == [1, 0, 2] and table["Planerade"].tolist() == [2, 1, 2]


def test_amounts_are_summed_only_within_one_unit(manual):
    table = implementation.amounts_by_unit(implementation.load_log(CONFIG, manual))
    assert table[["Enhet", "Antal (summa)"]].values.tolist() == [
        ["insatser", 2.0],
        ["kontroller", 64.0],
        ["skolbesök", 12.0],
    ]


def test_one_sentence_per_focus_area_for_the_summary(manual):
    sentences = implementation.implementation_sentences(implementation.load_log(CONFIG, manual))
    assert sentences["narvaro"] == (
        "2 av 4 planerade aktiviteter genomfördes (1 delvis); 64 kontroller, 12 skolbesök."
    )
    summary = implementation.implementation_summary_markdown(CONFIG, "Knivsta", manual)
    lines = summary.splitlines()
    assert len([line for line in lines if line.startswith("- ")]) == 4  # not "kontext"
    assert sum("inga aktiviteter i loggen." in line for line in lines) == 2
    assert summary.endswith(implementation.CAVEAT)


def test_activities_table_lists_every_activity_in_swedish(manual):
    table = implementation.activities_table(implementation.load_log(CONFIG, manual))
    assert table["Planerad tid"].tolist() == ["kv 1", "helår", "kv 3", "mars", "kv 2"]
    assert table["Status"].tolist()[-2:] == ["delvis genomförd", "inte genomförd"]


def test_the_arshjul_figure_draws_one_bar_per_activity_over_the_followup_months(manual):
    figure = implementation.arshjul_figure(implementation.load_log(CONFIG, manual), (2024, 2025))
    axis = figure.axes[0]
    assert len(axis.patches) == 5 and axis.get_xlim() == (0.0, 24.0)
    assert "Hastighet vid skola (polis)" in [label.get_text() for label in axis.get_yticklabels()]


def test_the_arshjul_figure_without_a_log_says_so():
    figure = implementation.arshjul_figure(None, (2024, 2025))
    assert "Ingen aktivitetslogg" in figure.axes[0].texts[0].get_text()


def test_the_log_is_listed_among_the_sources(manual, tmp_path):
    assert "fil `data/manual/aktivitetslogg_0330_2024-2025.xlsx`: 5 aktiviteter" in (
        implementation.log_source_markdown(CONFIG, manual)
    )
    assert "saknas" in implementation.log_source_markdown(CONFIG, tmp_path / "tom")
