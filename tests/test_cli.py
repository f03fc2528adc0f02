"""The command line speaks Swedish, shows defaults and examples, and has `all` (make optional)."""

import pytest

from medlofte_analysis.cli import build_parser


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal


def test_top_level_help_is_swedish_and_lists_all(capsys):
    text = _help(capsys)
    assert text.startswith("användning: medlofte")
    assert "allt i ett" in text and "exempel:" in text


def test_command_help_shows_defaults_and_examples(capsys):
    text = _help(capsys, "report")
    assert "(standard: evaluations/knivsta-2024-2025.toml)" in text
    assert "medlofte report --municipality 2080" in text


def test_validate_options_have_help(capsys):
    text = _help(capsys, "validate")
    assert "mapp med rådata" in text and "mapp med bearbetade tabeller" in text


def test_a_bad_command_is_refused_in_swedish(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bogus"])
    assert "medlofte: fel:" in capsys.readouterr().err


def test_all_with_a_municipality_reports_that_municipality():
    args = build_parser().parse_args(["all", "--municipality", "2080"])
    assert (args.func.__name__, args.municipality) == ("_cmd_all", "2080")
