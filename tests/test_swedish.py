"""Swedish numbers (Babel, sv_SE) and words that agree with their numbers."""

from medlofte_analysis import swedish
from medlofte_analysis.swedish import count_noun, integer, localise_numbers, number, percent_change


def test_decimal_comma():
    assert number(0.5, 2) == "0,50"


def test_thousands_take_a_non_breaking_thin_space():
    assert integer(12345) == "12\u202f345"


def test_negative_numbers_take_the_minus_sign():
    assert number(-1.25, 1) == "\u22121,2"


def test_a_value_rounding_to_zero_has_no_sign():
    assert number(-0.001, 2) == "0,00"


def test_missing_value_is_a_dash():
    assert number(float("nan")) == "–"


def test_percent_change_of_a_ratio():
    assert percent_change(25.37) == "+2\u202f437\u00a0%"


def test_count_noun_agrees():
    assert [count_noun(n, "händelse", "händelser") for n in (0, 1, 2)] == [
        "0 händelser",
        "1 händelse",
        "2 händelser",
    ]


def test_localise_numbers_leaves_years_and_codes():
    assert (
        localise_numbers("2017–2022, kommun 0020, RMSPE 1.4") == "2017–2022, kommun 0020, RMSPE 1,4"
    )


def test_localise_numbers_groups_large_signed_percentages():
    assert localise_numbers("+1739 % eller −96 %") == "+1\u202f739\u00a0% eller −96\u00a0%"


def test_a_number_and_its_per_cent_sign_are_held_together():
    assert swedish.unbroken_percent("95 %-intervall, +385 % eller 2 %") == (
        "95\u00a0%-intervall, +385\u00a0% eller 2\u00a0%"
    )


def test_a_per_cent_sign_after_a_word_is_left_alone():
    assert swedish.unbroken_percent("procent % och 95%") == "procent % och 95%"
