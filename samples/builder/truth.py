"""Ground-truth records, written from the data the builder typesets (never read back from a PDF).

One JSON file per document in ``samples/truth/``. Table cells are the printed strings exactly as the
seed text has them; chart points carry the value, its printed precision and where the value came from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

TRUTH_DIR = Path(__file__).resolve().parents[1] / "truth"

# Where a chart value comes from: stated in the seed text, derived from stated values (for example
# a 2020 amount from the 2021 amount and its stated growth), or made up to draw a plausible chart.
ORIGINS = ("stated", "reconstructed", "illustrative")


@dataclass
class TableTruth:
    id: str  # "表8-1" in the annual report; "附1-1" … "附2-3" in the evaluation notice
    caption: str  # the title as printed, without the 表 number
    columns: list[str]  # one flattened label per column: "基础评价/基础评价得分"
    header_rows: list[list[str]]  # the header as typeset, one list per header row, "" under a span
    rows: list[list[str]]  # printed strings, one list per body row, same length as columns
    unit: str | None = None  # the 金额单位 line's unit, "亿美元"
    source_note: str | None = None  # the 数据来源 line, as printed
    notes: list[str] = field(default_factory=list)  # 注：… lines printed under the table
    style: str = "ruled"  # ruled | three_line | unruled


@dataclass
class PointTruth:
    category: str
    value: float
    decimals: int  # printed precision of the data label
    origin: str  # one of ORIGINS
    basis: str = ""  # for stated/reconstructed: the seed sentence or the arithmetic


@dataclass
class SeriesTruth:
    name: str
    unit: str  # "亿美元", "%", "家", "万人" …
    chart_type: str  # bar | line | stacked_bar | pie
    axis: str  # primary | secondary
    points: list[PointTruth]


@dataclass
class FigureTruth:
    id: str  # "图1-1"
    title: str
    source_note: str
    kind: str  # bar_line | stacked_bar | pie | bar | grouped_bar | line …
    render: str  # raster | vector
    series: list[SeriesTruth]


@dataclass
class DocumentTruth:
    id: str
    title: str
    pdf: str  # path relative to samples/
    seed: str  # path relative to samples/
    producer: str
    tables: list[TableTruth] = field(default_factory=list)
    figures: list[FigureTruth] = field(default_factory=list)

    def write(self, directory: Path = TRUTH_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.id}.json"
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path


def load(doc_id: str, directory: Path = TRUTH_DIR) -> dict:
    return json.loads((directory / f"{doc_id}.json").read_text(encoding="utf-8"))
