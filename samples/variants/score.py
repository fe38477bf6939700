"""Score extracted tables against a variant's truth: a truth cell counts when its text is in the right row
and column (issue 9). Texts are compared after removing all whitespace; header labels are scored too.

The matcher takes plain data, so any extractor can be scored::

    score_tables(truth, [{"table_id": "表8-1", "columns": [...], "rows": [[...], ...]}, ...])

soetl's ExtractedTable (``table_id``, ``columns``, ``texts()``) and camelot grids (``columns`` = the joined
header rows, ``rows`` = the rest) go in through ``grid()``.

Right row and column. The extracted rows and columns are first aligned with the truth's by order: a
monotonic alignment (dynamic programming, no cost for a skipped row or column) that maximises the cells
whose text agrees. So a header row the extractor left in the body, a repeated header on a continuation
page, a blank spacer column or an extra column shift nothing, but a cell whose text lands in another
row or column than its truth neighbours' does not count, and neither does a row or column out of order.
Each truth table is paired with the extracted table of the same id; a truth table no id names is paired
with the unclaimed extracted table that scores best on it, if any scores at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def squeeze(text: Any) -> str:
    return "".join(str(text if text is not None else "").split())


@dataclass
class Grid:
    columns: list[str]
    rows: list[list[str]]
    table_id: str | None = None


@dataclass
class TableScore:
    id: str
    cells: int  # non-empty truth body cells
    right: int
    headers: int  # truth column labels
    headers_right: int
    matched: str | None  # the extracted table's id (or "#k", its position) it was paired with
    by: str | None  # "id" | "content" | None
    wrong: list[tuple[int, int, str, str]] = field(default_factory=list)  # (row, col, truth, got), first few

    @property
    def ratio(self) -> float:
        return self.right / self.cells if self.cells else 1.0


def grid(table: Any) -> Grid:
    """Plain data from a dict, a Grid, or anything with ``columns`` and ``texts()``/``rows`` (soetl's tables)."""
    if isinstance(table, Grid):
        return table
    if isinstance(table, dict):
        return Grid(list(table.get("columns") or []), [list(r) for r in table.get("rows") or []],
                    table.get("table_id") or table.get("id"))
    rows = table.texts() if hasattr(table, "texts") else table.rows
    return Grid(list(table.columns), [list(r) for r in rows], getattr(table, "table_id", None))


def _align(n: int, m: int, score) -> list[int | None]:  # type: ignore[no-untyped-def]
    """Monotonic alignment of 0..n-1 onto 0..m-1 maximising the sum of score(i, j) (0 for a skip)."""
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1], score(i, j) + best[i + 1][j + 1])
    out: list[int | None] = [None] * n
    i = j = 0
    while i < n and j < m:
        s = score(i, j)
        if s > 0 and best[i][j] == s + best[i + 1][j + 1]:
            out[i] = j
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


def _score_one(truth: dict, got: Grid) -> tuple[int, int, list]:  # type: ignore[type-arg]
    t_rows = [[squeeze(c) for c in row] for row in truth["rows"]]
    g_rows = [[squeeze(c) for c in row] for row in got.rows]
    n_cols = len(truth["columns"])
    m_cols = max((len(r) for r in g_rows), default=0)
    t_cols = [Counter(row[c] for row in t_rows if c < len(row) and row[c]) for c in range(n_cols)]
    g_cols = [Counter(row[j] for row in g_rows if j < len(row) and row[j]) for j in range(m_cols)]
    t_head = [squeeze(c) for c in truth["columns"]]
    g_head = [squeeze(c) for c in got.columns] + [""] * max(0, m_cols - len(got.columns))

    def col_score(c: int, j: int) -> int:
        # Column contents as multisets (rows are not aligned yet), plus the label.
        shared = sum((t_cols[c] & g_cols[j]).values())
        return 2 * shared + (1 if t_head[c] and j < len(g_head) and t_head[c] == g_head[j] else 0)

    col_map = _align(n_cols, m_cols, col_score)

    def row_score(r: int, k: int) -> int:
        row, other = t_rows[r], g_rows[k]
        return sum(
            1 for c, j in enumerate(col_map)
            if j is not None and row[c] and j < len(other) and other[j] == row[c]
        )

    row_map = _align(len(t_rows), len(g_rows), row_score)
    right, wrong = 0, []
    for r, row in enumerate(t_rows):
        k = row_map[r]
        for c, text in enumerate(row):
            if not text:
                continue
            j = col_map[c]
            cell = g_rows[k][j] if k is not None and j is not None and j < len(g_rows[k]) else None
            if cell == text:
                right += 1
            elif len(wrong) < 5:
                wrong.append((r, c, truth["rows"][r][c], cell))
    headers_right = sum(
        1 for c, j in enumerate(col_map) if t_head[c] and j is not None and j < len(g_head) and g_head[j] == t_head[c]
    )
    return right, headers_right, wrong


def score_tables(truth: dict, extracted: list[Any]) -> list[TableScore]:
    """One TableScore per truth table, in the truth's order."""
    grids = [grid(t) for t in extracted]
    claimed: set[int] = set()
    results: list[TableScore | None] = [None] * len(truth["tables"])
    pending = []
    for ti, t in enumerate(truth["tables"]):
        k = next((k for k, g in enumerate(grids) if k not in claimed and g.table_id == t["id"]), None)
        if k is None:
            pending.append(ti)
            continue
        claimed.add(k)
        right, head, wrong = _score_one(t, grids[k])
        results[ti] = _result(t, right, head, wrong, grids[k].table_id or f"#{k}", "id")
    for ti in pending:
        t = truth["tables"][ti]
        best = None
        for k, g in enumerate(grids):
            if k in claimed:
                continue
            right, head, wrong = _score_one(t, g)
            if right and (best is None or right > best[0]):
                best = (right, head, wrong, k)
        if best is None:
            results[ti] = _result(t, 0, 0, [], None, None)
            continue
        claimed.add(best[3])
        results[ti] = _result(t, best[0], best[1], best[2], grids[best[3]].table_id or f"#{best[3]}", "content")
    return [r for r in results if r is not None]


def _result(t: dict, right: int, head: int, wrong: list, matched: str | None, by: str | None) -> TableScore:  # type: ignore[type-arg]
    cells = sum(1 for row in t["rows"] for c in row if squeeze(c))
    headers = sum(1 for c in t["columns"] if squeeze(c))
    return TableScore(t["id"], cells, right, headers, head, matched, by, wrong)


def total(results: list[TableScore]) -> tuple[int, int]:
    return sum(r.right for r in results), sum(r.cells for r in results)
