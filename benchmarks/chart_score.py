"""Chart points against their truth: right (the printed value, published), flagged (withheld, with
reasons), missed (neither published nor flagged: the reader lost it without saying so) or wrong
(published, and not the printed value)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from extractors.model import FigureRecord


@dataclass
class Score:
    right: int = 0
    flagged: int = 0
    missed: int = 0
    wrong: int = 0
    wrong_points: list[tuple[str, str, str, float, Any]] = field(default_factory=list)  # missed and wrong

    @property
    def total(self) -> int:
        return self.right + self.flagged + self.missed + self.wrong

    def add(self, other: Score) -> None:
        self.right += other.right
        self.flagged += other.flagged
        self.missed += other.missed
        self.wrong += other.wrong
        self.wrong_points += other.wrong_points


def score_figure(record: FigureRecord, truth: dict[str, Any]) -> Score:
    """``truth`` is one figure of samples/truth (series → points with category, value, decimals).

    A series is matched by name, or by the figure's title when the chart prints no name for it (a
    pie's one series)."""
    published = {(p.series, p.category): p for p in record.points}
    flagged = {(f.point.series, f.point.category) for f in record.flagged}
    names = {p.series for p in record.points} | {f.point.series for f in record.flagged}
    score = Score()
    for series in truth["series"]:
        name = series["name"] if series["name"] in names else record.title
        for t in series["points"]:
            key = (name, t["category"])
            expected = round(t["value"], t["decimals"])
            point = published.get(key)
            if point is not None and not math.isnan(point.value) and point.value == expected:
                score.right += 1
            elif point is None and key in flagged:
                score.flagged += 1
            else:
                if point is None:
                    score.missed += 1
                else:
                    score.wrong += 1
                got = None if point is None else point.value
                score.wrong_points.append((truth["id"], name, t["category"], expected, got))
    return score


def score_all(records: Sequence[FigureRecord], truths: Iterable[dict[str, Any]]) -> dict[str, Score]:
    """Per figure id."""
    by_id = {r.figure_id: r for r in records}
    return {t["id"]: score_figure(by_id[t["id"]], t) for t in truths if t["id"] in by_id}
