"""How a printed cell reads as a number (extractors/numbers.parse_number)."""

from __future__ import annotations

import pytest

from extractors.numbers import parse_number


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        ("1,847.3", 1847.3),
        ("－17.2", -17.2),
        ("８１．６", 81.6),
        ("29.2%", 29.2),
        ("—", None),
        ("*", None),  # alone, an asterisk says "no data"
        # A footnote mark glued to the figure is not part of it.
        ("2473.7*", 2473.7),
        ("81.6＊", 81.6),
        ("12.5%*", 12.5),
        ("1,847.3†", 1847.3),
        ("－3.5※", -3.5),
        ("3²", 3.0),
        ("12[1]", 12.0),
    ],
)
def test_printed_cell_reads_as(printed, value):
    assert parse_number(printed) == value


@pytest.mark.parametrize("printed", ["*3", "**", "①", "12a", "约12"])
def test_what_is_not_a_figure_is_refused(printed):
    with pytest.raises(ValueError):
        parse_number(printed)
