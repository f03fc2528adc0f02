"""Reader-facing text: Swedish notes, rounded tables, honest summaries."""

from medlofte_analysis.evaluate import run_evaluation
from medlofte_analysis.presentation import note_sv, summary_markdown


def test_statistics_notes_are_translated_to_swedish():
    note = "Trend 2017–2022 (6 år). pre-period includes pandemic years 2020–2021"
    assert note_sv(note) == "Trend 2017–2022 (6 år). förperioden innehåller pandemiåren 2020–2021"


def test_an_unknown_note_is_kept_as_it_is():
    assert note_sv("GLM did not converge") == "GLM did not converge"


def test_knivsta_summary_says_the_data_are_missing_not_that_nothing_worked():
    text = summary_markdown(run_evaluation("evaluations/knivsta-2024-2025.toml"))
    assert text.startswith("**Underlaget räcker inte för att bedöma något av de 7 primära")
    assert "inget besked om att löftet saknat effekt" in text


def test_demonstration_summary_gives_each_primary_outcome_with_interval_and_q():
    text = summary_markdown(run_evaluation("evaluations/demo-dalarna.toml"))
    assert text.startswith("Av 7 primära utfall kunde 7 bedömas")
    assert "- **Narkotikabrott**: ingen påvisbar förändring" in text
    assert "95 %-intervall" in text and "q = " in text


def test_implementation_table_counts_planned_and_carried_out_activities(activity_log_dir):
    from medlofte_analysis.presentation import implementation_markdown, implementation_table

    tmp_path = activity_log_dir
    evaluation = run_evaluation("evaluations/knivsta-2024-2025.toml")
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
