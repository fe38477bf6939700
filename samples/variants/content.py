"""What a variant prints, independent of the PDF producer: the document's blocks and its tables.

The tables come from samples/truth (the cells the replicas print); a variant rewords their headers,
reformats their numbers and moves their unit, and the truth of the variant is written from the result,
so every string here is exactly what the producer is asked to typeset.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from samples.variants.matrix import Variant

HERE = Path(__file__).resolve().parent
TRUTH_DIR = HERE.parent / "truth"
TEXT = tomllib.loads((HERE / "text.toml").read_text(encoding="utf-8"))
COLUMNS = tomllib.loads((HERE / "columns.toml").read_text(encoding="utf-8"))
SOURCES = {"annual": "annual_report_2021", "notice": "city_evaluation_2021"}
TITLES = {"annual": "中国服务外包发展报告2021", "notice": "2021年度中国服务外包示范城市及申请城市综合评价结果"}

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
IDEOGRAPHIC_SPACE = "\u3000"
FULL_TO_HALF = str.maketrans({"（": "(", "）": ")"})
HALF_TO_FULL = str.maketrans({"(": "（", ")": "）"})


@dataclass
class Span:
    row: int  # in the header rows
    col: int
    rows: int = 1
    cols: int = 1


@dataclass
class VTable:
    """One table as a variant prints it. Header labels may hold "\\n": a line break the publisher typed."""

    id: str  # 表8-1 / 附1-1, as samples/truth names it
    caption: str  # the title, without its number and without a unit the caption carries
    caption_line: str  # the caption line as printed
    header: list[list[str]]  # header rows as printed ("" under a span), explicit breaks as "\n"
    spans: list[Span]  # header cells spanning more than one row or column
    rows: list[list[str]]  # body cells as printed
    values: list[list[float | None]]
    canonical: list[str | None]
    kinds: list[str]  # "label" | "number" per column
    unit: str | None
    unit_line: str | None  # the line above the table, or None
    below: list[str]  # lines printed under the table: 数据来源, 注
    source_note: str | None
    notes: list[str]
    spacer_after: int | None = None  # a blank column is drawn after this column
    body_spans: list[tuple[int, int, int]] = field(default_factory=list)  # (row, col, cols) label spans
    breaks: list[int] = field(default_factory=list)  # body rows that must start a new page
    continued_line: str = "续表"
    number: str = ""  # "8-1"; "" for the notice's tables

    @property
    def columns(self) -> list[str]:
        """One flattened label per column, levels joined by "/", as printed (line breaks removed)."""
        out = []
        for c in range(len(self.kinds)):
            parts: list[str] = []
            for r, row in enumerate(self.header):
                label = row[c]
                if not label and r == 0:
                    label = next((row[k] for k in range(c, -1, -1) if row[k]), "")
                    if not any(s.row == 0 and s.col <= c < s.col + s.cols for s in self.spans):
                        label = ""
                label = label.replace("\n", "")
                if label and label not in parts:
                    parts.append(label)
            out.append("/".join(parts))
        return out


@dataclass
class Block:
    kind: str  # title | heading | paragraph | appendix | table
    text: str = ""
    table: VTable | None = None
    page_break: bool = False


@dataclass
class Document:
    variant: Variant
    title: str
    title_lines: list[str]
    blocks: list[Block]

    @property
    def tables(self) -> list[VTable]:
        return [b.table for b in self.blocks if b.table is not None]

    def strings(self) -> list[tuple[str, str]]:
        """(where, text) of everything printed: for the glyph check before typesetting."""
        out = [("title", self.title)]
        for b in self.blocks:
            if b.table is None:
                out.append((b.kind, b.text))
                continue
            t = b.table
            out += [(f"{t.id} caption", t.caption_line), (f"{t.id} 续表", t.continued_line)]
            out += [(f"{t.id} header", label) for row in t.header for label in row]
            out += [(f"{t.id} body", cell) for row in t.rows for cell in row]
            out += [(f"{t.id} below", line) for line in [t.unit_line or "", *t.below]]
        return out


def source_truth(kind: str) -> dict:
    return json.loads((TRUTH_DIR / f"{SOURCES[kind]}.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------- cells


def _colon(text: str, v: Variant) -> str:
    return text.replace("：", ":") if v.colon == "half" else text


def _brackets(text: str, v: Variant) -> str:
    if v.brackets == "full":
        return text.translate(HALF_TO_FULL)
    if v.brackets == "half":
        return text.translate(FULL_TO_HALF)
    return text


def _number(text: str, v: Variant) -> str:
    if v.thousands and NUMBER.match(text):
        whole, _, frac = text.partition(".")
        sign = "-" if whole.startswith("-") else ""
        grouped = f"{int(whole.lstrip('-')):,}"
        return sign + grouped + ("." + frac if frac else "")
    return text


def _value(text: str) -> float | None:
    return float(text) if NUMBER.match(text) else None


def _letter_spaced(label: str, v: Variant) -> str:
    # Two-character labels are the ones publishers space out to the width of the column (区　域).
    if v.letter_spacing == "ideographic" and len(label) == 2 and "\n" not in label:
        return label[0] + IDEOGRAPHIC_SPACE + label[1]
    return label


def _broken(label: str, lines: int) -> str:
    """A label broken by hand into ``lines`` lines of near-equal length.

    A bracketed group ((一), （%）, （亿美元）) is never cut: it counts as one piece of the label, and a
    leading ordinal (一) takes a line of its own.
    """
    if lines < 2 or len(label) <= 3:
        return label
    if m := re.match(r"^[(（][一二三四五六七八九十]+[)）]", label):
        return m[0] + "\n" + _broken(label[m.end() :], lines - 1)
    pieces = re.findall(r"[(（][^)）]*[)）]|.", label)
    per = -(-len(pieces) // lines)
    return "\n".join("".join(pieces[i : i + per]) for i in range(0, len(pieces), per))


def _reword(label: str, v: Variant) -> str:
    words = {"序号": v.rank_label, "城市": v.city_label}
    return words.get(label, label)


# ------------------------------------------------------------------------------------------ tables


def _canonical(kind: str, columns: list[str]) -> list[str | None]:
    names = COLUMNS[kind]
    out: list[str | None] = []
    previous = None
    k = 0
    for label in columns:
        if m := re.match(r"^(\d{4})年$", label):
            out.append(names["year_column"].format(year=m[1]))
        elif label in names and isinstance(names[label], str):
            out.append(names[label])
            previous, k = label, 0
        elif kind == "annual" and previous in ("全部执行金额", "离岸执行金额"):
            follow = names["after_execution" if previous == "全部执行金额" else "after_offshore"]
            out.append(follow[k])
            k += 1
        else:
            raise KeyError(f"no canonical name for column {label!r} in columns.toml")
    return out


def _header_spans(header: list[list[str]]) -> list[Span]:
    """Spans in the truth's convention: "" in row 0 continues the cell on its left, "" below spans down."""
    spans = []
    for r, row in enumerate(header):
        for c, label in enumerate(row):
            if not label:
                continue
            cols = 1
            if r == 0:
                while c + cols < len(row) and row[c + cols] == "":
                    cols += 1
            rows = 1
            while cols == 1 and r + rows < len(header) and header[r + rows][c] == "":
                rows += 1
            if rows > 1 or cols > 1:
                spans.append(Span(r, c, rows, cols))
    return spans


def _one_level(header: list[list[str]]) -> list[list[str]]:
    """A two-level header written on one row: the group word joined to each sub-column's label."""
    if len(header) == 1:
        return header
    top, sub = header
    out, group = [], ""
    for c, (t, s) in enumerate(zip(top, sub, strict=True)):
        if t and (c + 1 < len(top) and top[c + 1] == "" and sub[c + 1]):
            group = t
        elif t:
            group = ""
        if not s:
            out.append(t)
        elif group and group != "基础评价":
            out.append(group + s)  # 示范城市执行金额: the sub-label alone would repeat
        else:
            out.append(s)  # 基础评价得分, (一)产业发展情况: already say what they are
    return [out]


def _company_counts(rows: list[list[str]], total_row: bool) -> list[int]:
    """Made-up 企业数量 of each row, stable across builds; a total row gets the sum."""
    counts = [int(hashlib.sha256(r[0].encode()).hexdigest()[:6], 16) % 2900 + 60 for r in rows]
    if total_row:
        counts[-1] = sum(counts[:-1])
    return counts


def build_table(truth: dict, v: Variant, kind: str) -> VTable:
    tid: str = truth["id"]
    header = [list(row) for row in truth["header_rows"]]
    rows = [list(row) for row in truth["rows"]]
    label_cols = 2 if kind == "notice" else 1
    total_labels = ("总计", "合计", "全国")

    values = [[_value(cell) for cell in row] for row in rows]
    # A source may name its columns itself (samples/backcatalog's older schemes, which columns.toml does not know).
    canonical = list(truth["canonical"]) if truth.get("canonical") else _canonical(kind, truth["columns"])

    # Body wording and number format.
    for row in rows:
        for c, cell in enumerate(row):
            if c < label_cols:
                if cell == "平均值":
                    row[c] = v.mean_label
                elif cell in total_labels and v.total_label != "keep":
                    row[c] = v.total_label
            else:
                row[c] = _number(cell, v)
    notes = [_colon(n, v) for n in truth["notes"]]
    if v.footnote_marks:
        # A mark on the first number of the first and the last row, explained under the table.
        for r in (0, len(rows) - 1):
            rows[r][label_cols] += "*"
        notes.append(_colon(TEXT["words"]["footnote_note"], v))

    unit = truth["unit"]
    unit_place = v.unit_place if unit else None
    if unit_place == "header" and not any(label.endswith("执行金额") for row in header for label in row):
        unit_place = "caption"  # its columns are years: a publisher moves the unit to the caption
    if v.header_levels == "one":
        header = _one_level(header)
    for row in header:
        for c, label in enumerate(row):
            if not label:
                continue
            label = _reword(label, v)
            if unit_place == "header" and label.endswith("执行金额"):
                label += f"（{unit}）"
            row[c] = _brackets(label, v)

    # An extra column no spec knows: 企业数量 after the row label, in the 8-x tables.
    kinds = ["label"] * label_cols + ["number"] * (len(header[0]) - label_cols)
    if v.extra_column and "execution_usd_100m" in canonical:
        total = rows[-1][0] in (*total_labels, v.total_label)
        counts = _company_counts(rows, total)
        extra = _brackets(TEXT["words"]["extra_column"], v)
        for r, row in enumerate(header):
            row.insert(1, extra if r == 0 else "")
        for row, vals, n in zip(rows, values, counts, strict=True):
            row.insert(1, _number(str(n), v))
            vals.insert(1, float(n))
        canonical.insert(1, None)
        kinds.insert(1, "number")

    spans = _header_spans(header)
    # Explicit line breaks and letter spacing on the labels as printed.
    lines = {"two_lines": 2, "three_lines": 3}.get(v.header_wrap, 0)
    for row in header:
        for c, label in enumerate(row):
            group = row is header[0] and any(s.row == 0 and s.col == c and s.cols > 1 for s in spans)
            if label and lines and not group:
                label = _broken(label, lines)
            row[c] = _letter_spaced(label, v)

    # The notice's label cell followed by an empty one spans both (平均值 over 序号 and 城市).
    body_spans = [(r, 0, 2) for r, row in enumerate(rows) if kind == "notice" and row[0] and not row[1]]

    title = truth["caption"]
    colon = "：" if v.colon == "full" else ":"
    unit_caption = _brackets(f"（单位{colon}{unit}）", v) if unit_place == "caption" else ""
    number = tid[1:] if tid.startswith("表") else ""
    if number:
        sep = {"space": " ", "spaced": " ", "ideographic": IDEOGRAPHIC_SPACE}[v.caption_form]
        head = f"表 {number}" if v.caption_form == "spaced" else f"表{number}"
        caption_line = f"{head}{sep}{title}{unit_caption}"
    else:
        caption_line = title + unit_caption
    unit_line = f"金额单位{colon}{unit}" if unit_place == "line" else None
    source_note = _colon(truth["source_note"], v) if truth["source_note"] else None
    below = [*([source_note] if source_note else []), *notes]

    breaks = []
    for item in v.break_rows:
        table, _, row = item.partition(":")
        if table == tid:
            breaks.append(int(row))
    spacer_after = None
    if v.spacer_column:
        # A blank column between the two halves: 全部 | 离岸 in the 8-x tables, scores | reviews in the notice.
        if kind == "notice":
            spacer_after = canonical.index("expert_review") - 1 if "expert_review" in canonical else label_cols - 1
        elif "execution_share_pct" in canonical:
            spacer_after = canonical.index("execution_share_pct")
        else:
            spacer_after = label_cols - 1
    continued = TEXT["words"]["continued"] + (number if number else "")
    return VTable(
        id=tid,
        caption=title,
        caption_line=caption_line,
        header=header,
        spans=spans,
        rows=rows,
        values=values,
        canonical=canonical,
        kinds=kinds,
        unit=unit,
        unit_line=unit_line,
        below=below,
        source_note=source_note,
        notes=notes,
        spacer_after=spacer_after,
        body_spans=body_spans,
        breaks=sorted(breaks),
        continued_line=continued,
        number=number,
    )


# ---------------------------------------------------------------------------------------- document


def _appendix(n: str, v: Variant) -> str:
    return v.appendix.replace("1", n)


def build_document(v: Variant, source: dict | None = None) -> Document:
    """The document ``v`` prints: the replica of its kind, or ``source`` (samples/truth's shape plus its own
    ``title``, ``title_lines`` and ``blocks`` [(kind, text)]: samples/backcatalog's editions)."""
    truth = source or source_truth(v.kind)
    tables = {t["id"]: build_table(t, v, v.kind) for t in truth["tables"]}
    body = TEXT["body"][v.kind]
    title = TITLES[v.kind]
    blocks: list[Block] = []
    if source is not None:
        title, title_lines = source["title"], list(source["title_lines"])
        order = [(kind, text) for kind, text in source["blocks"]]
    elif v.kind == "annual":
        headings = TEXT["headings"]["annual"]
        order: list[tuple[str, str]] = [
            ("paragraph", body[0]), ("table", "表3-1"), ("heading", headings[0]), ("paragraph", body[1]),
            ("table", "表8-1"), ("table", "表8-2"), ("paragraph", body[2]), ("table", "表8-3"),
            ("table", "表8-4"), ("table", "表8-5"), ("heading", headings[1]), ("paragraph", body[3]),
            ("table", "表10-1"),
        ]
        title_lines = [title]
    else:
        order = [
            ("paragraph", body[0]), ("paragraph", body[1]), ("appendix", "1"), ("table", "附1-1"),
            ("paragraph", body[2]), ("table", "附1-2"), ("table", "附1-3"), ("appendix", "2"),
            ("table", "附2-1"), ("table", "附2-2"), ("table", "附2-3"),
        ]
        title_lines = ["2021年度中国服务外包示范城市及", "申请城市综合评价结果"]
    for kind, text in order:
        if kind == "table":
            blocks.append(Block("table", table=tables[text]))
        elif kind == "appendix":
            blocks.append(Block("appendix", _appendix(text, v), page_break=True))
        else:
            blocks.append(Block(kind, text))
    return Document(v, title, title_lines, blocks)
