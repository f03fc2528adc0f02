"""Reader-facing text: Swedish notes, rounded tables, honest summaries."""

from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.presentation import note_sv, summary_markdown


def test_statistics_notes_are_translated_to_swedish():
    note = "Trend 2017–2022 (6 år). pre-period includes pandemic years 2020–2021"
    assert note_sv(note) == "Trend 2017–2022 (6 år). förperioden innehåller pandemiåren 2020–2021"


def test_an_unknown_note_is_kept_as_it_is():
    assert note_sv("GLM did not converge") == "GLM did not converge"


def test_knivsta_summary_says_the_data_are_missing_not_that_nothing_worked(shipped_processed_dir):
    text = summary_markdown(
        run_evaluation("evaluations/knivsta-2024-2025.toml", processed_dir=shipped_processed_dir)
    )
    assert text.startswith("**Underlaget räcker inte för att bedöma något av de 7 primära")
    assert "inget besked om att löftet saknat effekt" in text


def test_demonstration_summary_gives_each_primary_outcome_with_interval_and_q(
    shipped_processed_dir,
):
    text = summary_markdown(
        run_evaluation("evaluations/demo-dalarna.toml", processed_dir=shipped_processed_dir)
    )
    assert text.startswith("Av 7 primära utfall kunde 7 bedömas")
    assert "- **Narkotikabrott**: ingen påvisbar förändring" in text
    assert "95 %-intervall" in text and "q = " in text


def test_implementation_table_counts_planned_and_carried_out_activities(
    tmp_path, shipped_processed_dir
):
    # SYNTHETIC activity log typed into the real template.
    import shutil

    from openpyxl import load_workbook

    from medlofte_analysis.config import TEMPLATES_DIR
    from medlofte_analysis.presentation import implementation_markdown, implementation_table

    path = tmp_path / "aktivitetslogg.xlsx"
    shutil.copyfile(TEMPLATES_DIR / "aktivitetslogg_mall.xlsx", path)
    book = load_workbook(path)
    rows = [
        ["0330", 2024, "narvaro", "Hastighetskontroll vid skola", "ja", "ja", 12, "kontroller", ""],
        ["0330", 2024, "narvaro", "Skolbesök", "ja", "delvis", 3, "skolbesök", ""],
        ["0330", 2025, "narkotika", "Samverkansmöte", "ja", "nej", None, "", ""],
    ]
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            book["Aktiviteter"].cell(row=number, column=column, value=value)
    book.save(path)
    evaluation = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", processed_dir=shipped_processed_dir
    )
    table = implementation_table(evaluation, tmp_path)
    # An unknown amount stays unknown: the narcotics row sums nothing, not zero.
    assert table["Antal (summa)"].isna().tolist() == [True, False]
    assert table["Antal (summa)"].iloc[1] == 15.0
    assert table.drop(columns="Antal (summa)").to_dict("list") == {
        "Fokusområde": [
            "Insatser i samverkan mot narkotika",
            "Polisiär närvaro på prioriterade platser (trafik, skolor)",
        ],
        "Planerade": [1, 2],
        "Genomförda": [0, 1],
        "Delvis": [0, 1],
        "Ej genomförda": [1, 0],
    }
    assert implementation_markdown(evaluation, tmp_path).endswith(
        "3 planerade aktiviteter, varav 1 markerade som genomförda."
    )


def test_the_size_note_follows_the_municipality(shipped_processed_dir):
    from medlofte_analysis.presentation import reading_guide_markdown

    falun = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "2080", processed_dir=shipped_processed_dir
    )
    assert "För en kommun med omkring 60 000 invånare är den här omkring +" in (
        reading_guide_markdown(falun)
    )


def test_a_pledge_borrowed_from_another_municipality_says_whose_it_is(shipped_processed_dir):
    from medlofte_analysis.presentation import pledge_markdown

    habo = run_evaluation(
        "evaluations/knivsta-2024-2025.toml", "0305", processed_dir=shipped_processed_dir
    )
    assert pledge_markdown(habo, "narkotika") == (
        "Knivstas löfte, vars fokusområde här används för Håbo: "
        "*Insatser i samverkan mot narkotika.*"
    )
