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


def test_summary_says_implementation_cannot_be_judged_without_a_log(tmp_path):
    text = summary_markdown(run_evaluation("evaluations/knivsta-2024-2025.toml"), tmp_path)
    assert text.endswith(
        "Genomförandet kan inte bedömas: det finns ingen aktivitetslogg för Knivsta "
        "(se avsnittet Genomförande)."
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
