"""The ICDAR 2013 table-competition structure metric, as pure functions on plain data.

Sources. Göbel, Hassan, Oro, Orsi: "A methodology for evaluating algorithms for table understanding in
PDF documents" (DocEng 2012) and "ICDAR 2013 Table Competition" (ICDAR 2013); the structure measure is
Hassan's (DocEng 2010): adjacency relations between content cells, blank cells ignored, compared to
the ground truth by precision and recall, averaged per document. The search store holds only the
openings of the two papers and of the competition's format page, so the details below were settled
against the organisers' own scoring instead: their Java tool (``-str GT RESULT PDF``, not available
here) was run over all 67 documents by mnamysl/tabrec-sncs, whose ``evaluation/ICDAR2013/eval.py`` and
``results/icdar2013/*.log`` show per table "GT size, corrDet, detected", result tables matching no
ground-truth table added to "detected" ("FP table with N adjacency relations"), per-document precision
and recall averaged with F1 taken from the averages, and the better of two alternative ground truths
kept. The "GT size" the tool prints for each of the 163 ground-truth tables (eu-009b, us-011b, us-031b,
us-035b included) equals what ``relations`` below counts on the same XML: 163 of 163, 26,036 relations
(checked by hand when this was written; the log is not part of the repo).

What is implemented
-------------------
1. Relations (``relations``). A table is a set of cells, each occupying the grid slots
   ``row .. row+row_span-1`` x ``col .. col+col_span-1``. A cell whose normalised text is empty is a
   blank cell: it produces no relations and is skipped over. In every grid row, each non-blank cell is
   related to the nearest non-blank cell to its right ("h"); in every grid column, to the nearest
   non-blank cell below it ("v"). A spanning cell occupies several rows (columns), so it is related to
   the nearest neighbour in each of them: to every neighbour along its right and bottom edges. A pair
   is counted once, however many rows (columns) it shares. A relation is the triple
   ``(text of the first cell, text of the second, direction)``; the relations of a table are a multiset.
2. Text (``normalise``). Unicode NFKC (ligatures, full-width forms, non-breaking spaces), then every
   whitespace and invisible format character (soft hyphen, zero-width space) removed: tools break lines
   inside a cell differently and the ground truth keeps its own line breaks. Nothing else is folded
   (case, dashes, quotes stay): see "Deviations".
3. Comparison. Two relations are equal when all three parts are equal. For a ground-truth table and the
   result table matched to it, ``correct`` is the size of the multiset intersection of their relations.
4. Table matching (``match_tables``), needed when the tool finds the tables itself (the competition's
   "complete process"). Each table has regions (page + box). Given the page's characters, the overlap
   of a ground-truth and a result table is the Jaccard index of the characters (by their centre) inside
   their regions on the same pages; without characters, the Jaccard index of the region areas. Pairs
   with any overlap are matched one-to-one, greedily by decreasing overlap (ties: earlier ground-truth
   table, then earlier result table). A ground-truth table left unmatched contributes its relations to
   the ground truth and none to the correct ones; an unmatched result table (a false positive: not a
   table, a fragment, or the second half of a split table) contributes all its relations to the result.
5. Per document (``score_document``): ``correct`` / ``truth`` / ``result`` are sums over the document's
   tables, matched or not. Precision = correct / result relations (0 when the result has none), recall =
   correct / ground-truth relations (a document without ground-truth relations has recall 1).
   Alternative ground truths (eu-009a has eu-009b, ...; ``score_alternatives``): the document is scored
   against each and the one giving the higher F1 is kept (the earlier on a tie).
6. Over documents (``summarise``): precision and recall are averaged over documents, each document
   counting once ("per-document averages"), and F1 is the harmonic mean of the averaged precision and
   recall (the competition's headline). Also given: the mean of the per-document F1 values, and the
   pooled (micro) figures over all relations, so one large table cannot hide behind many small ones or
   the reverse.

Deviations and uncertainties
----------------------------
* The organisers' tool compares cell content after its own normalisation, which we could not read;
  we remove whitespace and apply NFKC only. Texts that differ in case, dash or quote characters, or
  a dropped footnote mark, count as different: stricter than a folding normalisation would be.
* How the tool pairs result tables with ground-truth tables is not documented in what we could read;
  that it reads the PDF suggests by the content inside their regions. We match by pdfplumber's
  characters, greedily one-to-one. A result table covering two ground-truth tables is matched to the
  one it overlaps most and the other is missed; a table split in two scores its larger part and the
  other part is a false positive. Another pairing rule can move a tool's figure in documents where
  its tables and the true ones do not line up one-to-one.
* A ground-truth table made of several regions (us-035a table 2: three column blocks on one page,
  joined by the regions' ``col-increment``) is one table of 7 columns, as in the competition.
* Precision of a document with no result relations is 0 (no division by zero), as in the public
  evaluation scripts that drive the organisers' tool.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Box = tuple[float, float, float, float]  # x0, top, x1, bottom: PDF points, top-left origin (pdfplumber's)
Relation = tuple[str, str, str]  # (text, text of the neighbour to the right/below, "h" or "v")
CharBoxes = Mapping[int, Sequence[Box]]  # 1-based page -> its characters' boxes


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1


@dataclass(frozen=True)
class Region:
    page: int  # 1-based
    bbox: Box


@dataclass
class Table:
    cells: list[Cell]
    regions: list[Region] = field(default_factory=list)
    id: str = ""


def normalise(text: object) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def relations(cells: Iterable[Cell]) -> Counter[Relation]:
    """The adjacency relations of a table (see the module docstring, 1)."""
    texts: list[str] = []
    slots: dict[tuple[int, int], int] = {}
    for cell in cells:
        text = normalise(cell.text)
        if not text:
            continue  # blank cells relate to nothing and are looked through
        texts.append(text)
        for r in range(cell.row, cell.row + max(cell.row_span, 1)):
            for c in range(cell.col, cell.col + max(cell.col_span, 1)):
                slots[(r, c)] = len(texts) - 1
    pairs: set[tuple[int, int, str]] = set()
    for direction, line_of, step_of in (("h", 0, 1), ("v", 1, 0)):
        lines: dict[int, list[tuple[int, int]]] = {}
        for key, index in slots.items():
            lines.setdefault(key[line_of], []).append((key[step_of], index))
        for line in lines.values():
            line.sort()
            previous = None
            for _, index in line:
                if previous is not None and index != previous:
                    pairs.add((previous, index, direction))
                previous = index
    return Counter((texts[a], texts[b], d) for a, b, d in pairs)


def grid_cells(rows: Sequence[Sequence[object]]) -> list[Cell]:
    """Cells of a plain grid (camelot's ``df``, pdfplumber's lists): one cell per slot, None is blank."""
    return [Cell(r, c, "" if text is None else str(text)) for r, row in enumerate(rows) for c, text in enumerate(row)]


# --- table matching ----------------------------------------------------------------------------------


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _intersection(a: Box, b: Box) -> float:
    return _area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def _inside(box: Box, region: Box) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def _chars_in(table: Table, chars: CharBoxes) -> set[tuple[int, int]]:
    return {
        (region.page, i)
        for region in table.regions
        for i, box in enumerate(chars.get(region.page, ()))
        if _inside(box, region.bbox)
    }


def overlap(truth: Table, result: Table, chars: CharBoxes | None = None) -> float:
    """Jaccard index of the characters inside both tables' regions (of their areas without ``chars``)."""
    if chars is not None:
        a, b = _chars_in(truth, chars), _chars_in(result, chars)
        if a or b:
            return len(a & b) / len(a | b)
    inter = sum(_intersection(t.bbox, r.bbox) for t in truth.regions for r in result.regions if t.page == r.page)
    union = sum(_area(t.bbox) for t in truth.regions) + sum(_area(r.bbox) for r in result.regions) - inter
    return inter / union if union > 0 else 0.0


def match_tables(
    truth: Sequence[Table], results: Sequence[Table], chars: CharBoxes | None = None
) -> list[tuple[int, int, float]]:
    """One-to-one (truth index, result index, overlap), greedily by decreasing overlap (docstring, 4)."""
    candidates = [
        (score, t, r)
        for t, gt in enumerate(truth)
        for r, res in enumerate(results)
        if (score := overlap(gt, res, chars)) > 0
    ]
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    used_t: set[int] = set()
    used_r: set[int] = set()
    matches = []
    for score, t, r in candidates:
        if t not in used_t and r not in used_r:
            used_t.add(t)
            used_r.add(r)
            matches.append((t, r, score))
    return sorted(matches)


# --- scores ------------------------------------------------------------------------------------------


@dataclass
class TableScore:
    truth_id: str
    result_index: int | None  # None: no result table matched
    correct: int
    truth: int
    result: int
    overlap: float = 0.0


@dataclass
class DocumentScore:
    correct: int = 0
    truth: int = 0
    result: int = 0
    tables: list[TableScore] = field(default_factory=list)
    false_positives: list[tuple[int, int]] = field(default_factory=list)  # (result index, its relations)
    variant: int = 0  # which alternative ground truth was kept

    @property
    def precision(self) -> float:
        return self.correct / self.result if self.result else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        return harmonic(self.precision, self.recall)


def harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_document(truth: Sequence[Table], results: Sequence[Table], chars: CharBoxes | None = None) -> DocumentScore:
    """Relations of one document's result against its ground truth (docstring, 3-5)."""
    truth_rel = [relations(t.cells) for t in truth]
    result_rel = [relations(r.cells) for r in results]
    matched = {t: (r, score) for t, r, score in match_tables(truth, results, chars)}
    doc = DocumentScore()
    for t, table in enumerate(truth):
        want = truth_rel[t]
        r, score = matched.get(t, (None, 0.0))
        got = result_rel[r] if r is not None else Counter()
        ts = TableScore(table.id, r, sum((want & got).values()), sum(want.values()), sum(got.values()), round(score, 4))
        doc.tables.append(ts)
    taken = {r for r, _ in matched.values()}
    doc.false_positives = [(r, sum(rel.values())) for r, rel in enumerate(result_rel) if r not in taken]
    doc.correct = sum(t.correct for t in doc.tables)
    doc.truth = sum(t.truth for t in doc.tables)
    doc.result = sum(t.result for t in doc.tables) + sum(n for _, n in doc.false_positives)
    return doc


def score_alternatives(
    truths: Sequence[Sequence[Table]], results: Sequence[Table], chars: CharBoxes | None = None
) -> DocumentScore:
    """Score against each alternative ground truth; keep the best F1 (the first on a tie)."""
    best: DocumentScore | None = None
    for variant, truth in enumerate(truths):
        doc = score_document(truth, results, chars)
        doc.variant = variant
        if best is None or doc.f1 > best.f1:
            best = doc
    if best is None:
        raise ValueError("no ground truth given")
    return best


@dataclass
class Summary:
    documents: int
    precision: float  # mean of per-document precision
    recall: float  # mean of per-document recall
    f1: float  # harmonic mean of the two means: the competition's figure
    mean_f1: float  # mean of per-document F1
    micro_precision: float
    micro_recall: float
    micro_f1: float
    truth_tables: int
    matched_tables: int
    result_tables: int


def summarise(docs: Sequence[DocumentScore]) -> Summary:
    n = len(docs)
    if not n:
        return Summary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0)
    p = sum(d.precision for d in docs) / n
    r = sum(d.recall for d in docs) / n
    correct, truth, result = (sum(getattr(d, k) for d in docs) for k in ("correct", "truth", "result"))
    mp = correct / result if result else 0.0
    mr = correct / truth if truth else 1.0
    matched = sum(t.result_index is not None for d in docs for t in d.tables)
    return Summary(
        documents=n,
        precision=p,
        recall=r,
        f1=harmonic(p, r),
        mean_f1=sum(d.f1 for d in docs) / n,
        micro_precision=mp,
        micro_recall=mr,
        micro_f1=harmonic(mp, mr),
        truth_tables=sum(len(d.tables) for d in docs),
        matched_tables=matched,
        result_tables=matched + sum(len(d.false_positives) for d in docs),
    )


# --- the competition's XML ---------------------------------------------------------------------------


def _int(node: ET.Element, name: str, default: int) -> int:
    value = node.get(name)
    return int(value) if value not in (None, "") else default


def parse_regions(xml_text: str) -> dict[str, list[tuple[int, Box]]]:
    """``*-reg.xml``: table id -> [(page, (x1, y1, x2, y2))] as written: PDF space, origin bottom-left."""
    out: dict[str, list[tuple[int, Box]]] = {}
    for table in ET.fromstring(xml_text).iter("table"):
        regions = out.setdefault(table.get("id", str(len(out) + 1)), [])
        for region in table.iter("region"):
            box = region.find("bounding-box")
            if box is None:
                continue
            coords = tuple(float(box.get(k, 0)) for k in ("x1", "y1", "x2", "y2"))
            regions.append((_int(region, "page", 1), coords))  # type: ignore[arg-type]
    return out


def parse_structure(xml_text: str) -> list[tuple[str, list[Cell], list[int]]]:
    """``*-str.xml``: [(table id, cells, pages)]. A region's row/col increments shift its cells' indices
    (a table printed in several blocks becomes one grid); a missing end-row/end-col means no span."""
    tables = []
    for table in ET.fromstring(xml_text).iter("table"):
        cells: list[Cell] = []
        pages: list[int] = []
        for region in table.iter("region"):
            page = _int(region, "page", 1)
            if page not in pages:
                pages.append(page)
            d_row, d_col = _int(region, "row-increment", 0), _int(region, "col-increment", 0)
            for cell in region.iter("cell"):
                row, col = _int(cell, "start-row", 0), _int(cell, "start-col", 0)
                end_row, end_col = _int(cell, "end-row", row), _int(cell, "end-col", col)
                content = cell.find("content")
                text = "".join(content.itertext()) if content is not None else ""
                cells.append(Cell(row + d_row, col + d_col, text, end_row - row + 1, end_col - col + 1))
        tables.append((table.get("id", str(len(tables) + 1)), cells, pages))
    return tables


def pdf_box_to_top_left(box: Box, page_height: float) -> Box:
    """(x1, y1, x2, y2) with origin bottom-left -> (x0, top, x1, bottom) with origin top-left."""
    x1, y1, x2, y2 = box
    return (min(x1, x2), page_height - max(y1, y2), max(x1, x2), page_height - min(y1, y2))


def load_truth(structure_xml: str, regions_xml: str, page_heights: Mapping[int, float]) -> list[Table]:
    """Ground-truth tables: cells from ``*-str.xml``, regions from ``*-reg.xml`` turned top-left."""
    regions = parse_regions(regions_xml)
    out = []
    for table_id, cells, _pages in parse_structure(structure_xml):
        boxes = [Region(page, pdf_box_to_top_left(box, page_heights[page])) for page, box in regions.get(table_id, [])]
        out.append(Table(cells, boxes, table_id))
    return out
