"""The run's summary names what failed checks held back, and whose: the sources whose files keep their last
good version, not every source of the datasets (flows/summary.py)."""

from __future__ import annotations

from flows.summary import RunSummary, not_published


def test_what_is_held_back_is_said_datasets_first_then_the_sources_they_are_held_for() -> None:
    held = {"b": ["tables", "facts"], "a": ["facts", "tables"], "c": ["city_scores"], "d": []}
    assert not_published(held) == "facts, tables of a, b; city_scores of c"


def test_a_summary_without_sources_held_back_names_its_failed_datasets() -> None:
    """A night stamped before sources were named (its stamp has no withheld) still says what failed."""
    summary = RunSummary("r", "/data", failed_datasets=["facts", "tables"])
    assert summary.not_published() == "facts, tables" and not summary.ok
    summary.withheld = {"annual_report_2018": ["facts"]}
    assert summary.not_published() == "facts of annual_report_2018"
