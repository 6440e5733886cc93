"""Numbers as readers write them (procmine.formats): the evidence texts and the plan share it."""

import pytest

from procmine.formats import format_number, format_percent, format_vnd


def test_vietnamese_numbers_swap_the_separators():
    assert format_number(9851.2) == "9.851"
    assert format_number(1234567.891, digits=2) == "1.234.567,89"
    assert format_number(1234567.891, "en", 2) == "1,234,567.89"


def test_amounts_percentages_and_missing_values():
    assert format_vnd(-0.3) == "0 đồng"  # never "-0"
    assert format_percent(1 / 3) == "33,3%"
    assert format_number(None) == format_percent(float("nan")) == "—"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang must be one of"):
        format_number(1, "fr")
