"""Every figure the running text states, as one row each: who, what, when, how much, and how it relates.

Chinese statistical prose is regular: "[时间]，[主体]承接[领域]执行额 X 亿美元，同比增长 Y%，占[整体]的 Z%，较上年
提高 W 个百分点". A sentence carries a *state* (subject, measure, period) from clause to clause; each number
takes the state it is printed in, its relation from the cue words just before it (同比增长 → yoy growth,
占…的 → share of that whole, 个百分点 after a share → change of the share …), and its unit as printed.
"分别" distributes a list of numbers over the latest list of the same length (items, measures, or the years
of a span). What varies by report — units, measure words, subject aliases, layout — is data:
``extractors/specs/statements/rules.toml`` (a folder of its own: every ``specs/*.toml`` is a report spec).

Conventions of the output (and of the hand-labelled sample in samples/truth/statements_2021.json):

- ``subject_key`` joins entity · market · segment, dropping the report's default subject (the national total,
  中国): "中国" alone, "ITO", "东部地区·ITO", "美国·金融服务". A count whose noun follows its number
  ("37 个服务外包示范城市") has the noun as its subject and 数量 as its measure.
- ``subject`` is the printed name of what the figure is about, the list item ("东部地区 ITO 执行额" → ITO),
  without measure, verbs or predicate; what scopes it (the region) is in ``subject_key``.
- ``measure`` keeps a mode before the base word: 离岸执行额, 在岸合同额; growth, shares and changes carry the
  measure of the level they qualify. The size of a topic is one measure (``topic_measures`` in the rules):
  "全球云计算市场规模" is 全球's 云计算市场规模; a business line stays the subject (制造业服务外包 · 执行额).
- An indicator's mean ("每万人拥有发明专利量平均为 41.65 件", "研发投入占 GDP 比重的平均值为 2.84%") has the
  indicator as printed as its measure, the entity in view (示范城市) as its subject and relation mean, never share;
  what it is compared with ("高于全国 2.44% 的平均水平") is that entity's level of the same measure. A level's mean
  ("执行额平均为") keeps its measure word.
- A survey's share ("90.26%的企业知晓…规划") is of the enterprises of the entity in view (``subject_key`` 示范城市·企业,
  ``whole_key`` 示范城市·企业|数量), with what they say as its ``measure``, so each question has a key of its own;
  it is not read as a count (企业 · 数量), which would give every question of a survey the same key.
- ``value`` is signed (a fall is negative); ``value_text`` is the number as printed.
- ``period`` is a year, "start-end", or "FY2012" for a fiscal year (财年); part of a year is named after it
  (2021H1, 2022Q1-Q3, 2021M01-M09, 2000M04-2022M03, 2020-2021H1), so it never passes for the whole year;
  ``period_kind`` says year, part_year, span, cagr, cumulative, year_end, forecast or fiscal_year.

Text comes from the PDF's own text layer (``extractors.layout.page_lines``), joined across lines and pages
after floats (caption to 数据来源), running headers, page numbers and footnotes are set aside by layout
(font size, margins), and footnote calls (small raised digits) are dropped.
"""

from __future__ import annotations

import bisect
import copy
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import cn2an
import pdfplumber

from extractors.layout import BBox, TextLine, page_lines

RULES_PATH = Path(__file__).resolve().parent / "specs" / "statements" / "rules.toml"
_SENTENCE_END = "。！？!?"
_CLAUSE_SEP = "，；,;"  # not "：" (it joins the parts of a ratio: 49.9：18.3：31.8), nor brackets
_ENUM_SEP = "、"
_CN_DIGITS = "一二两三四五六七八九十百千万"
_NUM = r"[-－−]?\d+(?:[.．]\d+)?"
_FAMILY = ("ITO", "BPO", "KPO")
_GENERIC_BUSINESS = re.compile(r"(?:服务外包|外包|业务|服务)+")  # outsourcing as a whole, no segment
# Where the words naming who and what give way to how much ("…执行额分别为", "…同比增长")
_PREDICATE_HEAD = re.compile(r"分别|均|合计|共计|占|增速|增长|同比|比上年|较上年|平均")
_HEADING = re.compile(
    r"^(?:第[一二三四五六七八九十]+[篇章节]|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+、)"
)


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class Relation:
    name: str
    cue: re.Pattern[str]
    units: tuple[str, ...] = ()  # unit kinds it applies to (empty: any)


@dataclass(frozen=True)
class Rules:
    raw: dict[str, Any]
    units: dict[str, tuple[str, str, float]]
    unit_pattern: str
    relations: tuple[Relation, ...]
    measures: dict[str, str]
    measure_pattern: re.Pattern[str]
    modes: dict[str, str]
    entities: frozenset[str]
    entity_pattern: re.Pattern[str]
    subject_aliases: dict[str, str]
    segment_aliases: dict[str, str]
    default_subject: str

    def rx(self, key: str) -> re.Pattern[str]:
        return _compiled(self.raw[key])


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def load_rules(kind: str | None = None, path: Path = RULES_PATH) -> Rules:
    """The statement rules, with the overrides of ``[kind.<kind>]`` applied."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    raw = {**raw, **raw.get("kind", {}).get(kind or "", {})}
    units = {k: (v[0], v[1], float(v[2])) for k, v in raw["units"].items()}
    relations = tuple(Relation(r["name"], re.compile(r["cue"]), tuple(r.get("units", ()))) for r in raw["relation"])
    entities = frozenset(raw["entities"])
    return Rules(
        raw=raw,
        units=units,
        unit_pattern=_alternation(units),
        relations=relations,
        measures=raw["measures"],
        measure_pattern=re.compile(
            "(?P<mode>" + _alternation(raw["modes"]) + ")?(?P<measure>" + _alternation(raw["measures"]) + ")"
        ),
        modes=raw["modes"],
        entities=entities,
        entity_pattern=re.compile(
            "^(?:" + _alternation(entities | set(raw["subject_aliases"])) + ")(?:省|市|自治区|地区)?"
        ),
        subject_aliases=raw["subject_aliases"],
        segment_aliases=raw["segment_aliases"],
        default_subject=raw.get("default_subject", "中国"),
    )


# ---------------------------------------------------------------- the rows


@dataclass
class Statement:
    page: int
    sentence: str
    section: str
    subject: str  # the printed words naming what it is about (the list item), without measure or verbs
    subject_key: str
    entity: str | None
    market: str | None
    segment: str | None
    measure: str | None
    relation: str
    whole: str | None  # the whole of a share (or the reference of a gap), as printed
    whole_key: str | None  # "subject_key|measure" of that whole
    period: str
    period_start: int | None
    period_end: int | None
    period_kind: str
    value: float | None  # None for a range: its ends are value_low and value_high
    value_text: str
    unit: str
    unit_kind: str
    canonical_unit: str
    qualifier: str  # exact | approx | more_than | less_than
    enumerated: bool  # one of a list sharing one predicate ("分别为 A、B、C")
    bbox: BBox | None
    sentence_index: int = 0
    value_low: float | None = None  # a range ("17%－18%"): its ends, signed like value
    value_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bbox"] = list(self.bbox) if self.bbox else None
        return out


# ---------------------------------------------------------------- text pass


@dataclass
class _Line:
    page: int
    text: str
    boxes: list[BBox | None]  # one per character of text
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool


@dataclass
class Paragraph:
    text: str
    boxes: list[tuple[int, BBox] | None]  # (page, box) per character
    heading: bool
    section: str = ""


class _PageChars:
    """A page's characters by their top, so each line looks only at the characters level with it."""

    def __init__(self, chars: list[dict[str, Any]]) -> None:
        self.chars = sorted(chars, key=lambda c: c["top"])
        self.tops = [c["top"] for c in self.chars]
        self.tallest = max((c["bottom"] - c["top"] for c in self.chars), default=0.0)

    def level_with(self, mid: float) -> list[dict[str, Any]]:
        lo = bisect.bisect_left(self.tops, mid - self.tallest - 1.0)
        hi = bisect.bisect_right(self.tops, mid + 0.5)
        return self.chars[lo:hi]


def _line_chars(line: TextLine, chars: _PageChars) -> list[dict[str, Any]]:
    mid = (line.top + line.bottom) / 2
    return sorted(
        (
            c
            for c in chars.level_with(mid)
            if c["top"] - 0.5 <= mid <= c["bottom"] + 0.5 and line.x0 - 0.5 <= c["x0"] and c["x1"] <= line.x1 + 0.5
        ),
        key=lambda c: c["x0"],
    )


def _read_line(line: TextLine, chars: _PageChars, call_ratio: float) -> _Line:
    glyphs = [c for c in _line_chars(line, chars) if c["text"].strip()]
    sizes = Counter(round(float(c["size"]), 1) for c in glyphs)
    size = sizes.most_common(1)[0][0] if sizes else 0.0
    bold = bool(glyphs) and all("Bold" in c["fontname"] for c in glyphs)
    visible = [ch for ch in line.text if not ch.isspace()]
    text, boxes = [], []
    aligned = len(visible) == len(glyphs)
    g = 0
    for ch in line.text:
        if ch.isspace():
            text.append(ch)
            boxes.append(None)
            continue
        glyph = glyphs[g] if aligned else None
        g += 1
        # A footnote call: a digit set small beside full-size text ("新增 6662 家¹").
        if glyph is not None and ch.isdigit() and size and float(glyph["size"]) < call_ratio * size:
            continue
        if ch in "¹²³⁴⁵⁶⁷⁸⁹⁰":
            continue
        text.append(ch)
        boxes.append((glyph["x0"], glyph["top"], glyph["x1"], glyph["bottom"]) if glyph else line.bbox)
    return _Line(line.page, "".join(text), boxes, line.x0, line.x1, line.top, line.bottom, size, bold)


def read_lines(
    pdf: pdfplumber.PDF, lines_by_page: dict[int, list[TextLine]] | None = None, rules: Rules | None = None
) -> list[_Line]:
    """Every text line of the document with its characters' boxes and its font size."""
    rules = rules or load_rules()
    out = []
    for page in pdf.pages:
        lines = (lines_by_page or {}).get(page.page_number)
        if lines is None:
            lines = page_lines(page)
        chars = _PageChars(page.chars)
        for line in lines:
            out.append(_read_line(line, chars, rules.raw["footnote_call_ratio"]))
    return out


def body_paragraphs(lines: list[_Line], page_heights: dict[int, float], rules: Rules) -> list[Paragraph]:
    """Running text as paragraphs, joined across lines and pages; floats, headers and footnotes left out."""
    # The body size is the size most prose is set in (table cells and labels have no sentence punctuation).
    # Notes and source lines under floats do not vote: a notice of a few paragraphs and long table notes would
    # otherwise take the notes' size for the body's, and read its paragraphs as headings.
    caption, float_end = rules.rx("float_caption"), rules.rx("float_end")
    weights: Counter[float] = Counter()
    in_note: tuple[int, float] | None = None
    for ln in lines:
        if float_end.search(ln.text):
            in_note = (ln.page, ln.size)
        elif in_note != (ln.page, ln.size):
            in_note = None
        if in_note is None and re.search(r"[，。；]", ln.text):
            weights[ln.size] += len(ln.text)
        if in_note is not None and ln.text.rstrip().endswith("。"):
            in_note = None  # the note ends with its sentence
    if not weights:
        return []
    body = weights.most_common(1)[0][0]
    tol = rules.raw["body_size_tolerance"]
    band = rules.raw["margin_band"]
    repeated = _repeated_margin_text(lines, page_heights, band)
    margins = _left_margins(lines, body, tol)
    paragraphs: list[Paragraph] = []
    current: Paragraph | None = None
    in_float = False
    for ln in lines:
        height = page_heights.get(ln.page, 842.0)
        in_margin = ln.top < band * height or ln.bottom > (1 - band) * height
        if in_margin and (ln.text.strip().isdigit() or _margin_key(ln.text) in repeated):
            continue
        plain = abs(ln.size - body) <= tol and not ln.bold
        if in_float:
            in_float = not float_end.search(ln.text)
            continue
        if caption.search(ln.text) and not plain:
            in_float = not float_end.search(ln.text)
            continue  # a float does not end the paragraph it interrupts
        if ln.size > body + tol or (ln.bold and abs(ln.size - body) <= tol):
            paragraphs.append(Paragraph(ln.text.strip(), [(ln.page, b) if b else None for b in ln.boxes], True))
            current = None
            continue
        if not plain:
            if current is not None and len(current.text) <= 40 and not re.search(r"[，。；：,;:]", current.text):
                current = None  # a caption or label line in body size before a table is not a sentence to go on
            continue  # footnotes, chart labels, table cells, running headers, source lines
        indent = ln.x0 > margins.get(ln.page, ln.x0) + 0.5 * body
        # An indented line after a float or a page break continues a sentence left unfinished.
        unfinished = current is not None and current.text and current.text[-1] not in "。！？：；!?:;"
        if _HEADING.match(ln.text) and len(ln.text) <= 32 and "，" not in ln.text:
            # A numbered heading set as a plain line ("一、示范城市评价结果分析"): a paragraph of its own.
            paragraphs.append(Paragraph(ln.text.strip(), [(ln.page, b) if b else None for b in ln.boxes], False))
            current = None
            continue
        if current is None or (indent and not unfinished):
            current = Paragraph("", [], False)
            paragraphs.append(current)
        elif current.text and current.text[-1].isascii() and current.text[-1].isalnum() and ln.text[:1].isascii():
            current.text += " "
            current.boxes.append(None)
        current.text += ln.text
        current.boxes.extend((ln.page, b) if b else None for b in ln.boxes)
    return paragraphs


def _margin_key(text: str) -> str:
    return re.sub(r"[\d\s]+", "", text)


def _repeated_margin_text(lines: list[_Line], heights: dict[int, float], band: float) -> set[str]:
    pages: dict[str, set[int]] = {}
    for ln in lines:
        h = heights.get(ln.page, 842.0)
        if ln.top < band * h or ln.bottom > (1 - band) * h:
            pages.setdefault(_margin_key(ln.text), set()).add(ln.page)
    return {k for k, v in pages.items() if len(v) >= 3 and k}


def _left_margins(lines: list[_Line], body: float, tol: float) -> dict[int, float]:
    by_page: dict[int, Counter[int]] = {}
    for ln in lines:
        if abs(ln.size - body) <= tol:
            by_page.setdefault(ln.page, Counter())[round(ln.x0)] += 1
    return {p: float(min(c.most_common(2))[0]) for p, c in by_page.items()}


# ---------------------------------------------------------------- phrases


@dataclass
class Phrase:
    """What a stretch of text before a number says about who and what."""

    text: str = ""
    entity: str | None = None
    market: str | None = None
    segment: str | None = None  # "" = every segment, stated explicitly ("服务外包")
    mode: str | None = None
    measure: str | None = None
    measure_text: str = ""  # the measure word as printed ("市场规模" of 规模)
    topic: str = ""  # what a size is of, when it became part of the measure (云计算 of 云计算市场规模)
    items: list[Phrase] = field(default_factory=list)  # an enumeration ("河南省、山东省和广东省")
    all_items: bool = False  # "均": one value for every item

    @property
    def has_subject(self) -> bool:
        return self.entity is not None or self.market is not None or self.segment is not None


@dataclass
class State:
    entity: str | None = None
    market: str | None = None
    segment: str | None = None
    mode: str | None = None
    measure: str | None = None
    subject_text: str = ""
    # The whole of a share that names none ("…占比19.0%"): the last one named in this sentence, else (in a
    # "其中") the parent's total, else the last one named in the paragraph; (key, the part's measure then).
    whole: tuple[str, str | None] | None = None
    parent_whole: tuple[str, str | None] | None = None
    para_whole: tuple[str, str | None] | None = None
    count_subject: str | None = None
    section: str | None = None  # the entity the section is about (四、新加坡)
    section_market: bool = False  # the section's entity has been the object of 承接: it is a market
    span: tuple[int, int] | None = None  # the span the last sentence spoke of ("2021－2026年…年均增长")
    qualifier: str | None = None  # a "其中" sentence's parent qualifier (制造业·KPO → 制造业)

    def key(self, default: str) -> str:
        parts = [p for p in (self.entity, self.market, self.segment) if p]
        # The nation goes without saying before a segment (ITO is 中国's), not before a market: 中国·越南 (中国's
        # business from 越南) is not 越南 (越南's own).
        if self.entity == default and len(parts) > 1 and not self.market:
            parts = parts[1:]
        return "·".join(parts) if parts else default


class _Parser:
    def __init__(self, rules: Rules, year: int) -> None:
        self.rules = rules
        self.year = year
        self.noise = rules.rx("subject_noise")
        self.verbs = re.compile(rf"^(?:{rules.raw['subject_verbs']})+|(?:{rules.raw['subject_verbs']})+$")
        self.entity_suffix = rules.rx("entity_suffix")
        self.entity_prefix = rules.rx("entity_prefix")
        self._cleaned: dict[str, str] = {}
        self._entities: dict[str, str | None] = {}
        self.business_noun = rules.rx("business_noun")
        self.business_line = rules.rx("business_line")
        self.subject_tail = rules.rx("subject_tail_words")
        self.mode_rx = re.compile(_alternation(rules.modes))
        self.predicate = rules.rx("predicate")
        self.source_attribution = rules.rx("source_attribution")
        self.share_of = re.compile(rf"\s*的\s*(?P<noun>{_alternation(rules.raw['share_of_nouns'])})")
        unit = rules.unit_pattern
        self.value_rx = re.compile(
            rf"(?<![A-Za-z0-9.．_\-])(?P<num>{_NUM})(?:\s*(?P<unit>{unit})|(?=\s*[、和](?:\s*{_NUM}\s*[、和])*\s*{_NUM}\s*(?P<lunit>{unit})))"
            rf"|(?<![第{_CN_DIGITS}])(?P<cn>[{_CN_DIGITS}]+)(?P<cnunit>{_alternation(rules.raw['chinese_numeral_units'])})"
            rf"|(?P<ratio>\d+(?:\.\d+)?(?:\s*[：:]\s*\d+(?:\.\d+)?)+)"
        )
        # "17%－18%", "8.0－9.0%": one figure between two ends (a dash, not 从…至…, which is a change)
        self.range_rx = re.compile(
            rf"(?<![\d.．\-－—–])(?P<lo>\d+(?:[.．]\d+)?)\s*(?P<u1>{unit})?\s*[－—–~～-]\s*"
            rf"(?P<hi>\d+(?:[.．]\d+)?)\s*(?P<u2>{unit})"
        )
        self.year_rx = re.compile(
            r"(?P<a>(?:19|20)\d{2})\s*(?:[－—–\-~至到]\s*(?P<b>(?:19|20)\d{2}))?\s*(?P<suffix>年|财年)?"
        )

    # -------------------------------------------------- phrases
    def subject_part(self, head: str) -> str:
        """The words naming who and what: the head up to its predicate (同比增长, 占…的, 较上年 …). A predicate
        word inside a measure word is part of the measure ("合同签约额" holds 约, "增加值" holds 增)."""
        inside = [m.span() for m in self.rules.measure_pattern.finditer(head)]
        for m in self.predicate.finditer(head):
            if not any(a <= m.start() < b for a, b in inside):
                return head[: m.start()]
        return head

    def entity_name(self, text: str) -> str | None:
        """The entity a phrase names, normalised, or None (memoised)."""
        if text not in self._entities:
            self._entities[text] = self._entity_name(text)
        return self._entities[text]

    def _entity_name(self, text: str) -> str | None:
        t = re.sub(r"\d+\s*个", "", text)
        if t in self.rules.subject_aliases:
            return self.rules.subject_aliases[t]  # "中国服务外包" is the nation, before 中国 is taken off
        t = re.sub(r"^(?:全国|中国)(?=.{2,})", "", t) if not t.startswith(("中国香港", "中国台湾")) else t
        for cand in (t, re.sub(r"(?:服务外包)?企业$", "", t)):
            if not cand:
                continue
            if cand in self.rules.subject_aliases:
                return self.rules.subject_aliases[cand]
            if cand in self.rules.entities or self.entity_suffix.search(cand):
                return self.rules.subject_aliases.get(cand, cand)
        return None

    def segment_name(self, text: str) -> str:
        aliases = self.rules.segment_aliases
        t = re.sub(r"(?<=.)业务$", "", text.strip("的"))  # "KPO业务": the business KPO
        t = re.sub(r"服务外包(?=.)", "", t) if not t.endswith("服务外包") else t
        if t in aliases:
            return aliases[t]
        t2 = re.sub(r"外包$", "", t)
        if t2 in aliases:
            return aliases[t2]
        if t2 in ("服务", ""):
            return ""
        for full, short in sorted(aliases.items(), key=lambda kv: -len(kv[0])):
            if short and t.endswith(full):
                return t[: -len(full)] + "·" + short
        t2 = re.sub(r"(?<=[\u4e00-\u9fff])(?=[A-Z]{3}$)", "·", t2)
        return t2

    def leading_entity(self, text: str) -> re.Match[str] | None:
        """A name the phrase starts with: a known one (美国, 江苏省), else a place name by its suffix
        (亚太地区, 郑州市, 广西壮族自治区) followed by what it is about ("美洲地区大额服务外包")."""
        return self.rules.entity_pattern.match(text) or self.entity_prefix.match(text)

    def anaphoric(self, phrase: Phrase) -> bool:
        """A bare size word ("规模分别为…") stands for the measure already in view, not a measure of its own."""
        text = re.sub(r"(?:合计|共计|总计|累计)$", "", self.subject_tail.sub("", self.clean(phrase.text)))
        return text in self.rules.raw["anaphoric_measures"]  # "规模合计 564.6 亿美元" too

    def listed(self, text: str) -> list[Phrase]:
        """The items a clause lists after 为/是/包括 ("…的城市有5个，分别为杭州市、无锡市"), if all are names."""
        m = self.rules.rx("list_intro").search(text)
        if not m or _ENUM_SEP not in m.group("list"):
            return []
        items = self.split_items(self.clean(m.group("list")))
        if len(items) < 2 or not all(self._complete(it) for it in items):
            return []
        return [self.phrase_of_item(it) for it in items]

    def apposed(self, head: str) -> str | None:
        """The entity named right before an opening bracket the number stands in: "为上海市（"."""
        m = re.search(r"([\u4e00-\u9fffA-Za-z]+)[（(]\s*$", head)
        if not m:
            return None
        return self.entity_name(self.verbs.sub("", m.group(1)))

    def ranked(self, text: str) -> Phrase | None:
        """A ranked subset is a subject of its own: "执行额排名前十的示范城市" is 前十示范城市, not 示范城市."""
        m = self.rules.rx("ranked_subset").search(text)
        if not m:
            return None
        noun = m.group("noun")
        if self.rules.measure_pattern.search(noun):
            return None  # "前十大服务外包伙伴执行额": the measure follows, the usual reading applies
        mode = self.mode_rx.match(noun)
        noun = re.sub(r"^(?:服务外包|外包)?(?:业务)?", "", noun[mode.end() :] if mode else noun)
        if not noun:
            return None
        phrase = self.phrase(text[: m.start()]) if m.start() else Phrase()
        # Whose subset it is stays in the name ("美国…前五大供应商"); the nation's goes without saying.
        # A measure before the rank is its criterion ("执行额排名前十的"), not an owner.
        owner = (
            phrase.entity
            if phrase.entity not in (None, self.rules.default_subject) and phrase.measure is None
            else ""
        )
        phrase.text = text
        phrase.entity = f"{owner}前{m.group('n')}{m.group('big') or ''}{self.rules.subject_aliases.get(noun, noun)}"
        phrase.market, phrase.segment, phrase.items = None, None, []
        if mode:
            phrase.mode = self.rules.modes[mode.group(0)]
        return phrase

    def parse_object(self, text: str, phrase: Phrase) -> None:
        """The part after 承接 (or a lone phrase): a market (美国…), a segment (ITO…), or both."""
        # "承接其服务外包": 其 is whoever is in view (the markets just listed), not a market of its own.
        text = re.sub(r"^其(?![中他余它次])", "", self.verbs.sub("", text))
        if not text:
            return
        m = self.leading_entity(text)
        if m and m.group(0) not in ("中国", "全国", "企业"):
            name = self.entity_name(m.group(0)) or m.group(0)
            rest = text[m.end() :]
            rest = re.sub(r"^(?:沿线)?国家", "", rest)  # "“一带一路”沿线国家", "东南亚国家": the region's
            phrase.market = self.rules.subject_aliases.get(name, name)
            rest = self.verbs.sub("", rest)
            if rest:
                phrase.segment = self.segment_name(rest)
            return
        phrase.segment = self.segment_name(text)

    def parse_subject(self, text: str, phrase: Phrase) -> None:
        if text.startswith("承接"):
            self.parse_object(text[2:], phrase)
            return
        if text.endswith("的") and "承接" in text and (lead := self.leading_entity(text)):
            # "示范城市实际使用中央财政鼓励承接国际服务外包业务…资金的进度": a clause qualifies the measure; the place
            # it starts with is who, the business it names is not the subject's
            phrase.entity = self.entity_name(lead.group(0)) or lead.group(0)
            return
        text = self.verbs.sub("", text)
        if not text:
            return
        national = re.match(r"^(?:全国|中国|我国)(?!香港|台湾)", text)
        if national and "承接" not in text[: national.end() + 2]:
            phrase.entity = self.rules.default_subject
        if "的" in text and "承接" not in text.rsplit("的", 1)[1]:
            owner, text = text.rsplit("的", 1)
            text = self.verbs.sub("", text)  # the head noun follows the last 的
            # ... and a place before it owns it ("江苏省的信息技术服务外包"): 江苏省's ITO, not the nation's
            if who := self.entity_name(self.verbs.sub("", owner)):
                phrase.entity = who  # (only a place alone: "联合国发布的《…》预测：全球产值" is not 联合国's)
            if not text:
                return
        if "承接" in text:
            who, what = text.rsplit("承接", 1)
            who = self.verbs.sub("", who)
            if who:
                # "示范城市实际使用中央财政鼓励承接…的进度": who is the place the clause starts with, not its verbs
                lead = self.leading_entity(who)
                name = self.entity_name(who) or (self.entity_name(lead.group(0)) if lead else None)
                phrase.entity = name if name else who
            self.parse_object(what, phrase)
            return
        name = self.entity_name(text)
        if name is not None:
            phrase.entity = name
            return
        m = self.leading_entity(text)
        if m and m.group(0) not in ("企业",):
            phrase.entity = self.entity_name(m.group(0)) or m.group(0)
            rest = self.verbs.sub("", text[m.end() :])
            if rest:
                phrase.segment = self.segment_name(rest)
            return
        phrase.segment = self.segment_name(text)

    def clean(self, text: str) -> str:
        """The words of a phrase without brackets, years, noise and spaces (memoised: phrases repeat)."""
        if text not in self._cleaned:
            self._cleaned[text] = self._clean(text)
        return self._cleaned[text]

    def _clean(self, text: str) -> str:
        text = re.sub(r"（[^）]*）|\([^)]*\)|全部|整体|总体", "", text)
        text = re.sub(
            r"(?:截至|到|至)?\s*(?:19|20)\d{2}\s*(?:[－—–\-]\s*(?:19|20)\d{2})?\s*(?:年度|年底|年末|财年|年)?(?:\d+\s*月)?",
            "",
            text,
        )
        text = re.sub(rf"(?:过去|未来)?[{_CN_DIGITS}\d]+年来?|同年|当年|上年|去年", "", text)
        for _ in range(3):
            text = self.noise.sub("", text).strip("，、 ")
        text = re.sub(self.rules.raw["subject_tail_adverbs"], "", text)  # "西亚北非和南亚也是…"
        text = text.replace(" ", "")
        # Words that only lead to a figure ("预计未来五年仍将保持 10%以上的增速") name no one: the subject carries over.
        return "" if self.subject_tail.fullmatch(text) else text

    def split_items(self, text: str) -> list[str]:
        text = re.sub(r"^.*?(?:主要集中在|集中在|主要为|包括|依次为|分别为|分别是)", "", text)
        text = re.sub(r"^(?:以|为)", "", text)
        text = re.sub(r"(?:等领域|等方面|等行业|等|为主)$", "", text)
        parts = [p for p in text.split(_ENUM_SEP) if p]
        out: list[str] = []
        for p in parts:
            pieces = re.split(r"和|及|与", p)
            if len(pieces) == 2 and all(pieces) and all(self._complete(x) for x in pieces):
                out.extend(pieces)
            else:
                out.append(p)
        return out

    def _complete(self, text: str) -> bool:
        m = self.rules.entity_pattern.match(text)
        return bool(
            self.entity_name(text) or re.search(r"(?:服务|外包|额|ITO|BPO|KPO)$", text) or (m and m.end() == len(text))
        )

    def phrase(self, raw: str) -> Phrase:
        """Parse the words before a number (or a clause without one) into a Phrase."""
        text = self.clean(raw)
        phrase = Phrase(text)
        if not text:
            return phrase
        ranked = self.ranked(text)
        if ranked is not None:
            return ranked
        focus = re.search(r"(?:业务)?(?:主要)?(?:集中在|主要为)|(?<=[\u4e00-\u9fff])以(?=.*为主)", text)
        if focus and _ENUM_SEP in text[focus.end() :]:
            # "中国承接美国服务外包业务主要集中在A、B、C等领域": who before, the list after.
            self.parse_subject(text[: focus.start()], phrase)
            phrase.items = [self.phrase_of_item(it, objects=True) for it in self.split_items(text[focus.end() :])]
            return phrase
        if "均" in text:
            phrase.all_items = True
        # An enumeration of measures: "服务外包执行额、离岸执行额、在岸执行额".
        parts = self.split_items(re.split(r"均|分别|合计|占|规模", text)[0])
        measured = [self._measure(p) for p in parts]
        if len(parts) >= 2 and (shared := self._shared_measure(parts[-1])):
            # "执行额、离岸执行额集聚度": the last item's rate is every item's, each in its own mode
            measured = [(self._first_mode(p), shared) for p in parts]
        if len(parts) >= 2 and sum(1 for m in measured if m[1]) >= 2:
            first = self.phrase_of_item(parts[0])
            phrase.entity, phrase.market, phrase.segment = first.entity, first.market, first.segment
            phrase.items = [Phrase(p, mode=m[0], measure=m[1]) for p, m in zip(parts, measured, strict=True)]
            return phrase
        m = _last(self.rules.measure_pattern.finditer(text))
        if m is not None:
            before = text[: m.start()]
            phrase.measure = self.rules.measures[m.group("measure")]
            if m.group("mode"):
                phrase.mode = self.rules.modes[m.group("mode")]
        else:
            before = text
        before = _PREDICATE_HEAD.split(before, maxsplit=1)[0]
        # A mode inside a modifier ("鼓励承接国际服务外包业务…资金的进度") is the modifier's, not the measure's
        mode = self.mode_rx.search(before, before.rfind("的") + 1)
        if (
            mode
            and "承接" not in before[mode.end() :]
            and before[mode.end() : mode.end() + 2] != "地区"
            # "离岸执行额500强入围门槛": the mode qualifies the measure it is printed with, not this one
            and not self.rules.measure_pattern.match(before, mode.end())
        ):
            phrase.mode = phrase.mode or self.rules.modes[mode.group(0)]
            before = before[: mode.start()] + before[mode.end() :]
        who_part, obj_part = before.rsplit("承接", 1) if "承接" in before else ("", before)
        items = self.split_items(obj_part)
        if len(items) >= 2:
            # The shared part is in the last item's tail ("离岸 ITO、BPO、KPO", "河南省、山东省和广东省").
            who = who_part
            parsed = [self.phrase_of_item(it, objects="承接" in before) for it in items]
            markets = {p.market for p in parsed}
            if len(markets) == 1 and None not in markets:
                phrase.market = markets.pop()
            first = parsed[0]
            if first.market and first.segment in _FAMILY and all(p.market is None for p in parsed[1:]):
                for p in parsed[1:]:
                    p.market = first.market  # "承接英国ITO、BPO、KPO"
            if first.entity and first.segment in _FAMILY and all(p.entity is None for p in parsed[1:]):
                for p in parsed[1:]:
                    p.entity = first.entity  # "示范城市ITO、BPO、KPO"
            phrase.items = parsed
            if who:
                self.parse_subject(who, phrase)
            return phrase
        self.parse_subject(before, phrase)
        if m is not None:
            phrase.measure_text = m.group("measure")
        return phrase

    def topic_measure(self, phrase: Phrase) -> Phrase:
        """A stated size of a topic is one measure: 全球云计算市场规模 is 全球's 云计算市场规模, not 全球·云计算's
        规模. A business line or industry stays the subject (制造业服务外包, 软件和信息技术服务业). Prose only: a
        chart's title topic stays its subject, as its series may name the measure ("出口额", "增速")."""
        topic = phrase.segment
        if phrase.measure is None and topic and topic.endswith("市场") and "·" not in topic and not phrase.items:
            # "全球医药市场年均增速为 5.3%": a market's growth is of its size
            phrase.measure, phrase.measure_text = topic + "规模", "规模"
            phrase.segment, phrase.topic = "", topic
            return phrase
        if phrase.measure not in self.rules.raw["topic_measures"] or not phrase.measure_text:
            return phrase
        # The words before the measure's base word as printed ("中国医药外包规模" → 中国医药外包, 外包规模 being 规模)
        before = phrase.text[: phrase.text.rfind(phrase.measure_text)]
        printed = before + phrase.measure_text.removesuffix(phrase.measure)
        if not topic or "·" in topic or any(self.business_line.search(t) for t in (topic, printed, before)):
            return phrase  # "中国医药外包规模", "医药研发外包市场规模": a business line (its printed name ends so)
        if topic in self.rules.segment_aliases.values():
            return phrase
        phrase.measure = topic + phrase.measure_text
        phrase.segment, phrase.topic = "", topic  # the subject is the entity as a whole
        return phrase

    def printed_subject(self, phrase: Phrase) -> str:
        """The printed words naming what a figure is about, without its measure, verbs or predicate: the
        list item, region, country or business line ("东部地区 ITO 执行额" → ITO; its region is in the key)."""
        text = phrase.text
        m = _last(self.rules.measure_pattern.finditer(text))
        if phrase.items and all(it.measure for it in phrase.items):
            m = self.rules.measure_pattern.search(text)  # "东部地区执行额、离岸执行额集聚度": who is before them all
        if m is not None and m.start() > 0:
            text = text[: m.start()]
        if phrase.topic and text.endswith(phrase.topic) and len(text) > len(phrase.topic):
            text = text[: -len(phrase.topic)]  # the topic is in the measure
        text = _PREDICATE_HEAD.split(text, maxsplit=1)[0] or text
        if "承接" in text:
            # "外商投资企业承接服务外包": who, when what they take on is outsourcing as a whole
            who, what = text.rsplit("承接", 1)
            what = self.verbs.sub("", self._without_mode(what))
            text = what if what and not _GENERIC_BUSINESS.fullmatch(what) else who
        mode = self.mode_rx.match(text)
        if mode and not text.startswith("地区", mode.end()) and not self.rules.measure_pattern.match(text, mode.end()):
            text = text[mode.end() :]  # the measure carries the mode, unless the mode is of a measure in the name
        for _ in range(2):
            text = self.subject_tail.sub("", self.verbs.sub("", text))
        lead = self.leading_entity(text)
        if lead:
            rest = self.verbs.sub("", text[lead.end() :])
            if not rest or _GENERIC_BUSINESS.fullmatch(self._without_mode(rest)):
                text = lead.group(0)  # "美国服务外包": 美国
            elif phrase.segment:
                text = rest
        return text or phrase.text

    def _without_mode(self, text: str) -> str:
        mode = self.mode_rx.match(text)
        return text[mode.end() :] if mode else text

    def phrase_of_item(self, text: str, objects: bool = False) -> Phrase:
        p = Phrase(text)
        mm = _last(self.rules.measure_pattern.finditer(text))
        if mm is not None:
            p.measure = self.rules.measures[mm.group("measure")]
            p.mode = self.rules.modes[mm.group("mode")] if mm.group("mode") else None
            text = text[: mm.start()]
        if objects:
            self.parse_object(text, p)
        else:
            self.parse_subject(text, p)
        return p

    def _shared_measure(self, text: str) -> str | None:
        """The measure a list's last item ends with after a measure of its own ("离岸执行额集聚度": 集聚度)."""
        found = list(self.rules.measure_pattern.finditer(text))
        if len(found) >= 2 and found[-1].end() == len(text) and found[-2].end() <= found[-1].start():
            return self.rules.measures[found[-1].group("measure")]
        return None

    def _first_mode(self, text: str) -> str | None:
        m = self.rules.measure_pattern.search(text)
        return self.rules.modes[m.group("mode")] if m is not None and m.group("mode") else None

    def _measure(self, text: str) -> tuple[str | None, str | None]:
        mm = _last(self.rules.measure_pattern.finditer(text))
        if mm is None:
            return None, None
        return (self.rules.modes[mm.group("mode")] if mm.group("mode") else None), self.rules.measures[
            mm.group("measure")
        ]

    # -------------------------------------------------- relations
    def relation(self, cue: str, unit_kind: str, previous_rate: str | None) -> tuple[str, str | None, bool]:
        """(relation, whole-or-reference as printed, negative) from the words before a number."""
        window = cue[-24:]
        negative = bool(re.search(self.rules.raw["negative"], window[-8:])) and not re.search(
            r"增长|提高|提升|上升|增加|高", window[-4:]
        )
        for rel in self.rules.relations:
            if rel.units and unit_kind not in rel.units:
                continue
            m = rel.cue.search(window)
            if not m:
                continue
            name = rel.name
            if name == "change_of_rate":
                name = {"share": "share_change", "yoy_growth": "growth_change", "cagr": "growth_change"}.get(
                    previous_rate or "", "share_change" if "比重" in window or "占比" in window else "change"
                )
                negative = bool(re.search(r"下降|降低|减少|回落|缩小|低", m.group(0)))
                return name, None, negative
            if name in ("growth_gap", "share_gap"):
                negative = bool(re.search(r"低|慢", m.group(0)[-2:]))
                return name, m.group("ref"), negative
            if name == "share":
                groups = m.groupdict()
                return name, groups.get("whole") or groups.get("whole2"), False
            if name == "yoy_growth" and unit_kind not in ("percent", "times"):
                continue
            if name == "change" and unit_kind in ("percent",):
                continue
            return name, None, negative if name in ("yoy_growth", "change", "cagr") else False
        return "level", None, False

    def qualifier(self, before: str, after: str) -> str:
        q = self.rules.raw["qualifiers"]
        for name in ("approx", "more_than", "less_than"):
            if re.search(f"(?:{q[name]})$", before[-3:]) or re.match(f"^(?:{q[name]})", after[:3]):
                return name
        return "exact"


# ---------------------------------------------------------------- sentences → statements


@dataclass
class _Value:
    start: int
    end: int
    text: str
    value: float
    unit: str
    kind: str = "number"  # number | ratio | chinese | range
    # Where the printed number itself ends (``end`` includes its unit): the number's box stops here.
    num_end: int | None = None
    high: float | None = None  # the upper end of a range; value is its lower end


def _split(text: str, seps: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch in seps:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _number(text: str) -> float:
    return float(text.replace("－", "-").replace("−", "-").replace("．", "."))


class _Document:
    def __init__(self, rules: Rules, year: int) -> None:
        self.rules = rules
        self.year = year
        self.p = _Parser(rules, year)
        self.out: list[Statement] = []
        self.fiscal: set[int] = set()  # years this paragraph names as fiscal years (财年)
        self.calendar: set[int] = set()  # years the current sentence prints as calendar years
        self.part_labels: dict[tuple[int, int], str] = {}  # periods the sentence names within years (2021H1)
        self.para_start = 0  # where the current paragraph's statements begin in out
        self.perspective = rules.rx("perspective")

    def values(self, sentence: str) -> list[_Value]:
        out = []
        ranges = [m for m in self.p.range_rx.finditer(sentence) if _ascending(m)]
        for m in ranges:
            lo, hi = _number(m.group("lo")), _number(m.group("hi"))
            out.append(_Value(m.start(), m.end(), m.group(0).strip(), lo, m.group("u2"), "range", m.end("hi"), hi))
        for m in self.p.value_rx.finditer(sentence):
            if any(r.start() <= m.start() < r.end() for r in ranges):
                continue  # an end of a range
            if m.group("num"):
                if self.p.year_rx.fullmatch(m.group(0).strip()) and not (m.group("unit") or m.group("lunit")):
                    continue
                unit = m.group("unit") or m.group("lunit")
                after = sentence[m.end() : m.end() + 1]
                if unit in ("亿", "万") and after and after in "美元人":
                    continue
                out.append(
                    _Value(m.start("num"), m.end(), m.group("num"), _number(m.group("num")), unit, num_end=m.end("num"))
                )
            elif m.group("cn"):
                try:
                    value = float(cn2an.cn2an(m.group("cn"), "smart"))
                except (ValueError, KeyError):
                    continue
                if value < 2:
                    continue  # 一批, 一个: not a figure
                out.append(
                    _Value(m.start("cn"), m.end(), m.group("cn"), value, m.group("cnunit"), "chinese", m.end("cn"))
                )
            else:
                out.append(_Value(m.start(), m.end(), m.group("ratio"), 0.0, "", "ratio"))
        return sorted(out, key=lambda v: v.start)

    def years(self, text: str) -> list[tuple[int, int, int, int | None]]:
        found = []
        calendar: set[int] = set()
        for m in self.p.year_rx.finditer(text):
            after = text[m.end() : m.end() + 3]
            if re.search(r"(?:较|比|与|自|同)\s*$", text[max(0, m.start() - 2) : m.start()]):
                continue  # a base year ("较 2020 年提升"), not the figure's own
            if not m.group("suffix") and not m.group("b") and re.match(rf"\s*(?:{self.rules.unit_pattern})", after):
                continue
            if not m.group("suffix") and not m.group("b") and not re.match(r"\s*(?:年|将|至|前|以来|底|—|－|$)", after):
                if not re.search(r"(?:到|至|截至|在|于|从)\s*$", text[max(0, m.start() - 3) : m.start()]):
                    continue
            found.append((m.start(), m.end(), int(m.group("a")), int(m.group("b")) if m.group("b") else None))
            if m.group("suffix") == "财年" and not m.group("b"):
                self.fiscal.add(int(m.group("a")))  # "2012 财年": later figures of that year are fiscal too
            elif not m.group("b"):
                calendar.add(int(m.group("a")))
        self.calendar = calendar  # ... unless their own sentence prints it as a calendar year ("2022 年")
        return found

    def paragraph(self, para: Paragraph, state: State, section_entity: str | None) -> None:
        self.fiscal = set()
        self.para_start = len(self.out)
        state.entity = section_entity or self.rules.default_subject
        state.market = state.segment = state.mode = state.measure = None
        state.whole = state.span = state.para_whole = None
        if state.section != section_entity:
            state.section, state.section_market = section_entity, False
        last_year: int | None = None
        parent = copy.copy(state)
        enums: list[list[Phrase]] = []
        for index, (s0, s1) in enumerate(_split(para.text, _SENTENCE_END)):
            sentence = para.text[s0:s1]
            if sentence.startswith("其中"):
                # "其中" details the sentence before: its subject is the parent, its lists still count,
                # and the parts it names are parts of the parent (制造业 KPO's 研发服务 is 制造业's).
                state = copy.copy(parent)
                enums = list(enums)
                segment = parent.segment or ""
                state.qualifier = segment.rsplit("·", 1)[0] if "·" in segment else None
                measure = (parent.mode or "") + parent.measure if parent.measure not in (None, "数量") else None
                own = f"{parent.key(self.rules.default_subject)}|{measure}"
                state.parent_whole = (own, measure) if measure else None
            else:
                enums = []
                state.qualifier = state.parent_whole = None
            state.whole = None
            last_year = self.sentence(para, s0, sentence, state, last_year, index, enums)
            parent = copy.copy(state)
        self.measure_from_what_follows(self.out[self.para_start :])

    def measure_from_what_follows(self, rows: list[Statement]) -> None:
        """A rate printed before any measure of its subject ("美洲地区云计算服务增速超过 40%。2021年，…其中云计算服务
        合同额 115 亿美元，同比增长 40.5%") is of the measure the paragraph then gives that subject."""
        for k, st in enumerate(rows):
            if st.measure is not None or st.relation not in _RATE_RELATIONS:
                continue
            if self.p.mode_rx.search(st.sentence[: st.sentence.find(st.value_text)]):
                continue  # "成渝地区在岸服务外包业务…增速高达 380%": its mode is printed, its measure word is not
            keys = set(_members(st.subject_key))
            # What the paragraph then gives this subject, as long as no new perspective (从离岸业务看) begins first;
            # never the measure before (the sentence before may be of another quantity of the same entity).
            later = None
            for x in rows[k + 1 :]:
                if self.perspective.match(x.sentence):
                    break
                if x.measure and x.subject_key in keys:
                    later = x
                    break
            if later is not None:
                st.measure = later.measure
                if st.whole_key and st.whole_key.endswith("|None"):
                    st.whole_key = st.whole_key.removesuffix("None") + later.measure

    def sentence(
        self,
        para: Paragraph,
        offset: int,
        sentence: str,
        state: State,
        last_year: int | None,
        index: int,
        enums: list[list[Phrase]],
    ) -> int | None:
        values = self.values(sentence)
        years, self.part_labels = _year_parts(sentence, self.years(sentence))
        ctx = _Sentence(sentence, years, last_year or self.year)
        ctx.fresh = not sentence.startswith("其中")
        past = re.search(self.rules.raw["past_years"], sentence)
        if past:
            back = _count(past.group("n"))
            ctx.span = (self.year - back, self.year)
        elif not ctx.fresh and not years:
            ctx.span = state.span  # "…2021－2026年年均增长4.6%。其中，项目服务支出年均增长5.5%"
        ctx.forecast_at = m.start() if (m := re.search(self.rules.raw["forecast"], sentence)) else None
        ctx.year_end = bool(re.search(self.rules.raw["year_end"], sentence))
        if m := self.perspective.match(sentence):
            ctx.mode = self.rules.modes[m.group("mode")]  # "从离岸业务看，…": every figure is offshore
        for c0, c1 in _split(sentence, _CLAUSE_SEP):
            clause = sentence[c0:c1]
            for y0, _y1, a, b in years:
                if c0 <= y0 < c1 and b:
                    ctx.span = (a, b)
            future = re.search(r"未来(?P<n>[一二三四五六七八九十\d]+)年", clause)
            if future:
                ctx.span = (self.year, self.year + _count(future.group("n")))
            in_clause = [v for v in values if c0 <= v.start < c1]
            head = sentence[c0 : in_clause[0].start] if in_clause else clause
            subject_text = self.p.subject_part(head.rstrip(_CLAUSE_SEP))
            counted = bool(in_clause) and self._counts_what_follows(sentence, in_clause[0])
            if in_clause and (mean_of := self.indicator(head)) is not None:
                # "每万人拥有发明专利量平均为 41.65 件": the members' mean of an indicator, which is the measure
                entity, printed, name = mean_of
                state.entity = entity or state.entity
                state.market = state.segment = state.mode = None
                state.measure = name
                state.subject_text = printed or state.entity or self.rules.default_subject
                ctx.fresh = False
                indicator = Phrase(name, measure=name)
                self.clause(para, offset, ctx, state, indicator, clause, c0, in_clause, enums, index, mean=True)
                continue
            if in_clause and state.measure and (ref := self.reference(head, sentence, in_clause[0])) is not None:
                # "高于全国 2.44% 的平均水平": the reference's own level of the measure in view, not a new subject
                other = copy.copy(state)
                other.entity, other.market, other.segment = ref[0], None, None
                other.subject_text = ref[1]
                self.clause(para, offset, ctx, other, Phrase(), clause, c0, in_clause, enums, index)
                continue
            if in_clause and (them := self._the_n_of_them(subject_text, enums, state, sentence[:c0])) is not None:
                # "四者合计占比达 86.6%": the last N things the paragraph named, together
                together = copy.copy(state)
                together.entity, together.market, together.segment = them.entity, None, None
                if them.measure:
                    together.measure, together.mode = them.measure, None  # theirs, mode included
                together.subject_text = them.text
                self.clause(para, offset, ctx, together, Phrase(them.text), clause, c0, in_clause, enums, index)
                continue
            if (in_clause or self._names_subject(subject_text)) and not counted:
                phrase = self.p.topic_measure(self.p.phrase(subject_text))
                if phrase.measure is None and not phrase.items:
                    # "示范城市平均得分为": the measure word may sit inside the predicate.
                    # Not in what it is compared with: "…对服务出口增长的贡献率" names the export, not the measure.
                    mode, measure = self.p._measure(re.split(r"占|[比较](?![例重])|对(?=[^，；]{0,16}贡献)", head)[0])
                    phrase.measure, phrase.mode = measure, phrase.mode or mode
                if phrase.measure is not None and state.measure and self.p.anaphoric(phrase):
                    phrase.measure = None  # "…执行额超过60亿美元的城市…，规模分别为": the size is that measure's
                if phrase.items:
                    enums.append(phrase.items)
                self.apply(state, phrase, ctx.fresh)
                if phrase.has_subject or phrase.items:
                    ctx.fresh = False
            elif counted:
                # "印度IT-BPM行业新增 445 万名员工": whose they are still counts; the rest is a verb's
                named = self.p.phrase(subject_text)
                phrase = Phrase(named.entity or "", entity=named.entity, market=named.market)
                self.apply(state, phrase, ctx.fresh)
            else:
                phrase = Phrase()
            listed = self.p.listed(clause[in_clause[-1].end - c0 :] if in_clause else clause)
            if listed and not phrase.items:
                enums.append(listed)  # "…的城市有5个，分别为杭州市、无锡市…": the items later values go with
            if in_clause:
                self.clause(para, offset, ctx, state, phrase, clause, c0, in_clause, enums, index)
        state.span = ctx.span
        return ctx.last_year

    def implied_span(self, ctx: _Sentence, cue: str, at: int) -> tuple[int, int] | None:
        """The span an average growth rate is over when no span is printed: "两年平均增长 6.1%" (the two years to
        the one in view), or the first and last years the sentence has named before it ("2020 年…6712.7 亿元，
        预计 2023 年将超过 9000 亿元，年均增长约 14%")."""
        if m := re.search(rf"(?P<n>[{_CN_DIGITS}\d]+)年(?:平均|年均)", cue):
            end = ctx.year_at(at)
            return end - _count(m.group("n")), end
        named = sorted({a for y0, _, a, b in ctx.years if y0 < at and b is None})
        return (named[0], named[-1]) if len(named) >= 2 else None

    def _the_n_of_them(
        self, subject_text: str, enums: list[list[Phrase]], state: State, before: str
    ) -> Phrase | None:
        """"三者合计", "四者总计": the sentence's list of N (the last clause before it, if it is one), else the last
        N subjects the paragraph gave figures of."""
        m = _N_OF_THEM.fullmatch(self.p.clean(subject_text))
        if m is None:
            return None
        n = _count(m.group("n"))
        listed = next((e for e in reversed(enums) if len(e) == n), None)
        if listed is None:
            last_clause = re.split(f"[{_CLAUSE_SEP}]", before.rstrip(_CLAUSE_SEP))[-1]
            items = self.p.split_items(self.p.clean(last_clause))
            if len(items) == n - 1 and len(tail := re.split("和|及|与", items[-1], maxsplit=1)) == 2:
                items = items[:-1] + tail  # "波兰、捷克和匈牙利": the count says the last 和 joins two
            if len(items) == n:
                listed = [self.p.phrase_of_item(it, objects="承接" in before) for it in items]
        measure = None
        if listed is not None:
            keys = [self.item_state(state, listed, k).key(self.rules.default_subject) for k in range(n)]
        else:
            keys = []
            for st in reversed(self.out[self.para_start :]):
                if st.subject_key not in keys and st.measure != "数量" and _ENUM_SEP not in st.subject_key:
                    keys.insert(0, st.subject_key)
            keys = keys[-n:] if len(keys) >= n else []
            measure = self.out[-1].measure if keys else None
        if len(keys) != n:
            return None
        return Phrase(m.group(0), entity="、".join(keys), measure=measure)

    def indicator(self, head: str) -> tuple[str | None, str | None, str] | None:
        """(entity, its printed name, indicator) when the words before a figure state an indicator's mean
        ("示范城市全社会研发投入占 GDP 比重的平均值为"); None for a level's mean ("执行额平均为"), read as usual."""
        text = self.p.clean(head)
        cue = self.rules.rx("mean_cue").search(text)
        if cue is None or cue.start() == 0:
            return None
        name = text[: cue.start()]
        entity = printed = None
        lead = self.rules.entity_pattern.match(name)
        if lead and lead.end() < len(name):
            who = self.p.entity_name(lead.group(0))
            # "服务外包企业…占比平均为": the population in view, not the nation
            if who and (who != self.rules.default_subject or re.match(r"中国|全国|我国", name)):
                entity, printed, name = who, lead.group(0), name[lead.end() :]
        name = re.sub(r"^(?:的|承接)", "", name)
        if len(name) < 2 or not self.rules.rx("indicator_noun").search(name) or _GROWTH_WORD.search(name):
            return None
        return entity, printed, name

    def reference(self, head: str, sentence: str, first: _Value) -> tuple[str, str] | None:
        """(entity, printed name) of what the figure before is compared with ("高于全国 2.44% 的平均水平")."""
        m = self.rules.rx("reference_cue").match(self.p.clean(head))
        if m is None or not self.rules.rx("reference_after").match(sentence, first.end):
            return None
        who = self.p.entity_name(m.group("who"))
        return (who, m.group("who")) if who else None

    def counted_noun(self, after: str, unit: str = "") -> str:
        """The noun a count counts, printed after it ("37 个服务外包示范城市" → 示范城市); a unit that is a noun
        counts itself ("9 部门"); "" when the count is of the measure in view."""
        if unit in self.rules.raw["counted_units"]:
            return unit
        after = re.sub(r"^\s*(?:及以上|以上|以下|左右)", "", after)  # "4 期及以上工作简报": still the reports
        m = _COUNT_STOP.search(after[:14])
        if m is not None and m.start() == 0 and (rel := _RELATIVE_NOUN.match(after)):
            return rel.group("noun")  # "1537 家开展服务外包业务的技术先进型服务企业和高新技术企业"
        noun = re.sub(r"^服务外包", "", (after[: m.start()] if m else after[:14]).strip())
        lead = self.rules.entity_pattern.match(noun)
        if lead and self.rules.measure_pattern.search(noun, lead.end()):
            return lead.group(0)  # "34 个示范城市国际服务外包执行额保持正增长": the cities
        return noun

    def _counts_what_follows(self, sentence: str, first: _Value) -> bool:
        """Does a clause's first figure count the noun after it ("共收到 1292 家企业的反馈", "37 个示范城市")? Then
        the words before it are a verb, not who the clause is about."""
        if self.rules.units.get(first.unit, ("",))[0] != "count" or first.kind == "chinese":
            return False
        return bool(self.counted_noun(sentence[first.end :], first.unit))

    def _names_subject(self, text: str) -> bool:
        """Does a clause without a number still name who or what the next numbers are about?"""
        text = self.p.clean(text)
        if self.p.source_attribution.search(text):
            return False
        return bool(
            "承接" in text
            or (len(text) >= 4 and self.p.business_noun.search(text))
            or _ENUM_SEP in text
            or self.rules.measure_pattern.search(text)
            or self.rules.entity_pattern.match(text)
            or self.p.entity_name(re.split(_ENUM_SEP + "|和|是|分别|积极|依托|利用", text)[0] or "x")
        )

    def clause(
        self,
        para: Paragraph,
        offset: int,
        ctx: _Sentence,
        state: State,
        phrase: Phrase,
        clause: str,
        c0: int,
        in_clause: list[_Value],
        enums: list[list[Phrase]],
        index: int,
        mean: bool = False,
    ) -> None:
        sentence = ctx.text
        numbers = [v for v in in_clause if v.kind != "ratio"]
        ratios = [v for v in in_clause if v.kind == "ratio"]
        # "从 A 增长至 B": a change from one figure to another (two of them), or from one list to another
        changes = bool(_FROM.search(sentence[c0 : in_clause[0].start]) and _TO.search(clause))
        from_to = changes and len(in_clause) == 2
        n_vals = len(re.split(r"[：:]", ratios[0].text)) if ratios else len(numbers)
        items: list[Phrase] | None = None
        year_items: list[int] | None = None
        if n_vals >= 2 or phrase.all_items:
            for cand in reversed(enums):
                if len(cand) == n_vals or (phrase.all_items and len(numbers) == 1):
                    items = cand
                    break
                if changes and n_vals == 2 * len(cand):
                    items = cand + cand  # "A、B由2021年的 a1、b1 增至2022年的 a2、b2": each list is the items'
                    named = sorted({a for y0, _, a, b in ctx.years if y0 < c0 and b is None})
                    if len(named) >= 2 and not any(c0 <= y0 < c0 + len(clause) for y0, *_ in ctx.years):
                        # "；西部地区…由 97.8%、99.3%降至 97.7%、98.7%": from and to the years the sentence compares
                        year_items = [named[-2]] * len(cand) + [named[-1]] * len(cand)
                    break
        span = ctx.span
        if items is None and span and n_vals >= 2 and span[1] - span[0] + 1 == n_vals and "分别" in clause:
            year_items = list(range(span[0], span[1] + 1))
        elif items is None and n_vals >= 2 and "分别" in clause:
            listed = [ys for at, ys in ctx.year_lists() if at < in_clause[0].start and len(ys) == n_vals]
            year_items = listed[-1] if listed else None  # "2017年、2018年…分别增长25.3%、20.1%"
        group = None
        # One number stated of every item: "均" ("…执行额、离岸执行额、在岸执行额占全国的比重均为 46.8%"), or a
        # list of measures (one size for each, not a group of them)
        every = bool(phrase.items) and n_vals == 1 and len(numbers) == 1 and (
            phrase.all_items or "均" in sentence[c0 : in_clause[0].start] or all(it.measure for it in phrase.items)
        )
        if every:
            items = phrase.items
        elif phrase.items and n_vals == 1 and not phrase.all_items:
            group = "、".join(
                self.item_state(state, phrase.items, k).key(self.rules.default_subject)
                for k in range(len(phrase.items))
            )
        prev: Statement | None = None
        prev_cue = ""
        cue_start = c0
        ratio_items: list[Phrase] | None = None
        for i, v in enumerate(in_clause):
            cue = sentence[cue_start : v.start]
            cue_start = v.end
            if i > 0 and ("承接" in cue or (self.rules.measure_pattern.search(cue) and not re.search("占|比|较", cue))):
                inner = self.p.topic_measure(self.p.phrase(self.p.subject_part(cue.lstrip("，、"))))
                self.apply(state, inner, False)
            if v.kind == "ratio":
                # Each part of "44.5：20.0：35.5" has its own place in the sentence (and box on the page).
                spans = [(v.start + m.start(), v.start + m.end()) for m in re.finditer(r"\d+(?:\.\d+)?", v.text)]
                parts = [x for x in re.split(r"[：:]", v.text) if x.strip()]
                period = ctx.year_at(v.start)
                if span and (from_to or len(ratios) == 2):
                    period = span[0] if v is ratios[0] else span[1]
                elif span:
                    period = span[1]
                named = items
                if named is None or len(named) != len(parts):
                    # "…示范城市ITO、BPO、KPO结构由…的A：B：C调整为…D：E：F": the items may be named right before
                    # the first ratio, and hold for the next.
                    listed = self.p.phrase(self.p.subject_part(cue.lstrip("，、"))).items
                    named = listed if len(listed) == len(parts) else ratio_items or items
                ratio_items = named
                for k, part in enumerate(parts):
                    st = self.item_state(state, named, k)
                    if ctx.mode and not st.mode:
                        st.mode = ctx.mode
                    st.measure = st.measure or self.rules.raw["default_money_measure"]
                    at = spans[k] if k < len(spans) else (v.start, v.end)
                    pv = _Value(at[0], v.end, part.strip(), _number(part), "", "ratio", at[1])
                    prev = self.emit(
                        para, offset, sentence, st, pv, "ratio", None, True, (period, period, "year"), index
                    )
                    ctx.measure = prev.measure
                continue
            unit_kind = "count" if v.kind == "chinese" else self.rules.units.get(v.unit, ("count", v.unit, 1.0))[0]
            own_cue = i == 0 or _has_cue(cue)
            rel, whole, negative = self.p.relation(cue if own_cue else prev_cue, unit_kind, ctx.rate)
            share_of = None
            if mean and i == 0:
                rel, whole, negative = "mean", None, False  # an indicator's mean, whatever ratio it names
            elif rel == "level" and unit_kind == "percent" and _GROWTH_AFTER.match(sentence, v.end):
                # "保持 10%以上的增速", "实现 12%左右的增长": the cue follows the number. Over a span the clause
                # names ("未来五年"), it is an average annual rate.
                rel = "cagr" if _names_span(clause) else "yoy_growth"
            elif rel == "level" and unit_kind == "percent" and (share_of := self.p.share_of.match(sentence, v.end)):
                # "89.24%的企业认为…": a share of the things counted after it, of all such things
                rel, whole = "share", share_of.group("noun")
            if own_cue:
                prev_cue = cue
            if prev is not None and (not own_cue or (from_to and i == 1)):
                if prev.relation != "level" or rel == "level":
                    rel = prev.relation
                whole = whole or (prev.whole if prev.relation == rel else None)
            if re.search(r"下降|减少|降低|回落|下滑", cue[-6:]) and rel in ("yoy_growth", "cagr", "change"):
                negative = True
            elif re.search(r"增长|提高|增加|上升", cue[-6:]) and rel in ("yoy_growth", "cagr", "change"):
                negative = False
            if rel in ("share", "yoy_growth", "cagr"):
                ctx.rate = rel
            elif rel in ("level", "mean") and unit_kind == "percent" and not _GROWTH_WORD.search(cue[-6:]):
                ctx.rate = "share"  # a rate printed as a percentage (渗透率 48.1%): its change in points is a share's
            if year_items is not None:
                pstart = pend = year_items[i] if i < len(year_items) else ctx.year_at(v.start)
                kind = "year"
            elif from_to and span:
                pstart = pend = span[0] if i == 0 else span[1]
                kind = "year"
            elif span and (rel in ("cagr", "share_change", "growth_gap") or re.search("累计|合计|共计", clause)):
                pstart, pend = span
                kind = "cagr" if rel == "cagr" else "cumulative"
            elif rel == "cagr" and (own := self.implied_span(ctx, cue, v.start)):
                pstart, pend = own
                kind = "cagr"
            elif (
                rel in _CHANGES
                and (base := _BASE_YEAR.search(cue))
                and ctx.year_at(v.start) - int(base.group("y")) > 1
            ):
                # "2025 年…将达到 48.1%，比 2020 年提高 10.3 个百分点": a change over the years between, not one year's
                pstart, pend, kind = int(base.group("y")), ctx.year_at(v.start), "span"
            elif m := re.search(rf"连续(?P<n>[{_CN_DIGITS}\d]+)年", cue):
                pend = ctx.year_at(v.start)
                pstart, kind = pend - _count(m.group("n")) + 1, "span"  # "连续六年增速超 15%": each of six years
            elif own_span := ctx.only_span_before(v.start):
                pstart, pend = own_span  # "2020－2021 年上半年，…披露投资项目 302 起": over the span printed
                kind = "span"
            else:
                pstart = pend = ctx.year_at(v.start)
                kind = "year_end" if ctx.year_end else "year"
            if kind == "year" and ctx.forecast_at is not None and ctx.forecast_at < v.start:
                kind = "forecast"
            st = self.item_state(state, items, i) if items is not None else copy.copy(state)
            apposed = self.p.apposed(sentence[c0 : v.start]) if i == 0 or not _has_cue(cue) else None
            if apposed:
                st = replace(st, entity=apposed, market=None)  # "为上海市（119.1亿美元）"
            if (
                i == 0
                and not phrase.has_subject
                and phrase.measure is None
                and rel == "share"
                and ctx.last is not None
                and ctx.last.measure == "数量"
            ):
                st = replace(st, measure="数量", count_subject=ctx.last.subject_key)  # "20个城市…，占比为54.05%"
            if group:
                st.entity, st.market, st.segment, st.subject_text = group, None, None, phrase.text
            noun = self.counted_noun(sentence[v.end :], v.unit) if unit_kind == "count" else ""
            head_measure = self.p._measure(cue)[1] if i else phrase.measure
            # A noun printed after the count is what it counts, whatever list is in view ("…等 4 个一级指标和 19 个
            # 二级指标" after a list of two); without one, a list's items keep their counts.
            if v.kind == "chinese" or (unit_kind == "count" and head_measure is None and (not items or bool(noun))):
                if v.kind == "chinese" and re.match(r"(?:合计|共计|累计|共)", sentence[v.end :]):
                    state.entity, state.market, state.segment = v.text + v.unit, None, None  # 七省份合计…
                    state.subject_text = v.text + v.unit
                    noun = noun or v.unit
                if noun and v.unit != "倍":
                    st = replace(st, entity=None, market=None, segment=None, measure="数量", mode=None)
                    st.subject_text = noun
                    alias = self.rules.subject_aliases.get(noun)
                    st.count_subject = alias if alias and alias != self.rules.default_subject else noun
                elif (
                    ctx.last is not None
                    and ctx.last.measure == "数量"
                    and ctx.last.unit == v.unit
                    and not re.search(r"[\u4e00-\u9fff]", ctx.last.value_text)
                ):
                    st = replace(
                        st, measure="数量", mode=None, count_subject=ctx.last.subject_key
                    )  # "平均每个城市 47 家"
                    st.subject_text = ctx.last.subject
                elif ctx.measure is not None:
                    st = replace(st, measure=ctx.measure, mode=None, count_subject=None)
            if share_of is not None:
                # Each such share says something else of them ("…认为规划具有较好引导作用"): that is its measure.
                noun = share_of.group("noun")
                said = sentence[share_of.end() : c0 + len(clause)].strip("，。；、 ")
                st = replace(st, market=None, segment=noun, measure=said[:40] or "数量", mode=None, count_subject=None)
                st.subject_text = noun  # of the entity in view: "示范城市·企业" (a survey of its enterprises)
            if st.measure is None and rel == "share" and whole and (of_whole := self.p._measure(whole))[1]:
                # "分别占东部地区离岸执行额的 22.1%、…": a share of a total of a measure is of the part's own
                st = replace(st, mode=of_whole[0] or st.mode, measure=of_whole[1])
            if st.measure is None and unit_kind in ("money_usd", "money_cny"):
                st.measure = state.measure = self.rules.raw["default_money_measure"]
            if st.measure is None and prev is not None:
                st.measure, st.mode = prev.measure, None
            elif st.measure is None and ctx.measure is not None:
                st.measure, st.mode = ctx.measure, None
            value = v.value
            if negative and rel in _SIGNED:
                value = -abs(v.value)
            if v.text.startswith(("-", "－", "−")):
                value = _number(v.text)
            if ctx.mode and not st.mode and st.measure != "数量":
                st = replace(st, mode=ctx.mode)
            qual = self.p.qualifier(cue, sentence[v.end : v.end + 4])
            # "执行额、离岸执行额、在岸执行额…均为 46.8%": one printed number, a row for each item it is stated of
            each = [st]
            if every and items and len(items) > 1:
                each = [self.item_state(st, items, k) for k in range(len(items))]
            for item_st in each:
                prev = self.emit(
                    para,
                    offset,
                    sentence,
                    item_st,
                    replace(v, value=value),
                    rel,
                    whole,
                    bool(items or year_items),
                    (pstart, pend, kind),
                    index,
                    qual,
                )
            if share_of is not None:
                prev.whole_key = f"{prev.subject_key}|数量"  # of all of them (those asked, those counted)
            elif prev.measure and prev.measure != "数量":
                ctx.measure = prev.measure
            ctx.last = prev
            if rel == "share" and prev.whole_key and whole:
                state.whole = state.para_whole = (prev.whole_key, prev.measure)

    def apply(self, state: State, phrase: Phrase, fresh: bool) -> None:
        """Update the sentence state with what a phrase names; unnamed dimensions carry over."""
        if phrase.has_subject:
            default = self.rules.default_subject
            named = phrase.entity is not None and not (
                phrase.entity == default and phrase.text.startswith(("企业", "服务外包企业"))
            )  # "企业…": the population in view, not a new subject
            if fresh:
                state.market, state.segment, state.mode, state.measure = None, None, None, None
                if not named and phrase.market is None and state.section_market and state.entity != state.section:
                    state.market = state.section  # in 四、新加坡, "承接ITO执行额…" is still 新加坡's
            if named:
                state.entity = phrase.entity
            if phrase.market is not None:
                state.market = phrase.market
                state.section_market = state.section_market or phrase.market == state.section
                if state.entity == phrase.market:
                    state.entity = default  # in 八、英国, "承接英国…" is the nation's business from 英国
                if phrase.segment is None and fresh:
                    state.segment = None
            if phrase.segment is not None:
                state.segment = _sibling(state.segment, _qualified(state.qualifier, phrase.segment))
            state.subject_text = self.p.printed_subject(phrase)
            state.mode = phrase.mode if phrase.mode is not None else (None if fresh else state.mode)
        elif phrase.mode is not None:
            state.mode = phrase.mode
        if phrase.measure is not None:
            state.measure = phrase.measure
            if phrase.mode is not None:
                state.mode = phrase.mode

    def item_state(self, state: State, items: list[Phrase] | None, i: int) -> State:
        st = copy.copy(state)
        if not items or i >= len(items):
            return st
        item = items[i]
        if item.entity is not None:
            st.entity = item.entity
        if item.market is not None:
            st.market = item.market
        if item.segment is not None:
            st.segment = _sibling(state.segment, item.segment)
        if item.measure is not None:
            st.measure = item.measure
            st.mode = item.mode
        if item.has_subject:  # an item that is only a measure ("离岸执行额") is of the subject in view
            st.subject_text = self.p.printed_subject(item)
        return st

    def emit(
        self,
        para: Paragraph,
        offset: int,
        sentence: str,
        st: State,
        v: _Value,
        rel: str,
        whole: str | None,
        enumerated: bool,
        period: tuple[int, int, str],
        index: int,
        qualifier: str = "exact",
    ) -> Statement:
        default = self.rules.default_subject
        measure = full_measure(self.rules, st.mode, st.measure, st.market)
        if st.measure == "数量":
            key = st.count_subject or st.key(default)
        else:
            key = st.key(default)
        whole_key = None
        if rel == "share":
            whole_key = self.whole_key(whole, st, measure)
        elif rel in ("growth_gap", "share_gap") and whole:
            whole_key = self.whole_key(whole, st, measure)
        unit_kind, canonical, _ = self.rules.units.get(v.unit, ("ratio" if v.kind == "ratio" else "count", v.unit, 1.0))
        end = v.num_end if v.num_end is not None else v.end
        boxes = [b for b in para.boxes[offset + v.start : offset + end] if b]
        page = boxes[0][0] if boxes else (next((b[0] for b in para.boxes if b), 0))
        on_page = [b[1] for b in boxes if b[0] == page]
        bbox = (
            (
                min(b[0] for b in on_page),
                min(b[1] for b in on_page),
                max(b[2] for b in on_page),
                max(b[3] for b in on_page),
            )
            if on_page
            else None
        )
        start, end, kind = period
        if kind in ("year", "forecast", "year_end") and start == end and start in self.fiscal - self.calendar:
            kind = "fiscal_year"
        part = self.part_labels.get((start, end))  # 2021H1, 2019M04-2022M03
        value: float | None = v.value
        low = high = None
        if v.kind == "range" and v.high is not None:
            # No one figure is printed: the row holds both ends (a fall negates both: 下降 3%－5% is -5 to -3)
            low, high = sorted((v.value, math.copysign(v.high, v.value)))
            value, qualifier = None, "range"
        if part and start == end and kind in ("year", "forecast", "year_end"):
            kind = "part_year"
        statement = Statement(
            page=page,
            sentence=sentence,
            section=para.section,
            subject=st.subject_text,
            subject_key=key,
            entity=st.entity,
            market=st.market,
            segment=st.segment or None,
            measure=measure,
            relation=rel,
            whole=whole,
            whole_key=whole_key,
            period=f"FY{start}" if kind == "fiscal_year" else part or _period_text(start, end),
            period_start=start,
            period_end=end,
            period_kind=kind if start == end or kind != "year" else "span",
            value=value,
            value_low=low,
            value_high=high,
            value_text=v.text,
            unit=v.unit,
            unit_kind=unit_kind,
            canonical_unit=canonical,
            qualifier=qualifier,
            enumerated=enumerated,
            bbox=bbox,
            sentence_index=index,
        )
        self.out.append(statement)
        return statement

    def whole_key(self, whole: str | None, st: State, measure: str | None) -> str:
        """The whole a share is of, as "subject_key|measure"; unnamed dimensions are the part's own."""
        default = self.rules.default_subject
        if whole is None or not whole.strip("的 "):
            for known in (st.whole, st.parent_whole, st.para_whole):
                if known and (inherited := _like_for_like(known, measure)):
                    return inherited
            return f"{State(st.entity, st.market).key(default)}|{measure}"
        # "全国总额", "从业人员总数": the total of the thing itself, not a business called 总额.
        w = self.p.phrase(re.sub(self.rules.raw["whole_total_nouns"], "", whole) or whole)
        base = copy.copy(st)
        text = w.text
        own_total = re.search(self.rules.raw["whole_own_total"], text)
        if re.match(self.rules.raw["whole_national"], text) or w.entity == default:
            base.entity, base.market = default, None
            if not w.segment and not w.market and w.measure is None and not own_total:
                pass  # "占全国的": the nation's total of the same segment and measure
            else:
                base.segment = None
        if w.entity and w.entity != default:
            base.entity = w.entity
            base.market = None
        if w.market:
            base.market = w.market
        elif w.mode == self.rules.raw.get("market_mode"):
            # "承接美国金融服务外包执行额…占离岸金融服务外包执行额的 29.4%": the offshore whole, from every market
            # (while "占承接 ITO 执行额的" in a sentence about a market is that market's ITO)
            base.market = None
        if w.segment is not None:
            base.segment = w.segment or None
        elif own_total:
            base.segment = None
        if w.measure is not None:
            base.measure = w.measure
            base.mode = w.mode
        elif w.mode is not None:
            base.mode = w.mode
        elif own_total or re.search("服务外包", text):
            base.mode = w.mode
        m = full_measure(self.rules, base.mode, base.measure, base.market) if base.measure else measure
        return f"{base.key(default)}|{m}"


_RATE_RELATIONS = ("yoy_growth", "cagr", "share", "share_change", "growth_change")


def _members(key: str) -> list[str]:
    """A group's keys ("东部地区、西部地区·设计服务" → 东部地区·设计服务, 西部地区·设计服务), or the key itself."""
    who, _, what = key.partition("·")
    if "、" not in who:
        return [key]
    return [f"{w}·{what}" if what else w for w in who.split("、")]


_FROM = re.compile(r"[从由]")
_N_OF_THEM = re.compile(r"(?P<n>[两二三四五六七八九十])者(?:合计|总计|共计|共|加总)?")
_TO = re.compile(r"(?:增长|增加|增|上升|下降|调整|提高|降|扩大|缩小)(?:至|到|为)")
_GROWTH_AFTER = re.compile(r"\s*(?:以上|左右|上下|以内)?\s*的?\s*(?:年均|年平均)?(?:增速|增长率|增长|增幅|涨幅)")


_SPAN_WORDS = re.compile(rf"(?:未来|过去)[{_CN_DIGITS}\d]+年|(?:19|20)\d{{2}}\s*[－—–\-~至到]\s*(?:19|20)\d{{2}}")


def _names_span(clause: str) -> bool:
    """Does a clause name a span of years ("未来五年", "2021－2026年", "过去十年")?"""
    return bool(_SPAN_WORDS.search(clause))


_SIGNED = ("yoy_growth", "change", "cagr", "share_change", "growth_change", "growth_gap", "share_gap")


@dataclass
class _Sentence:
    """What a sentence has said so far about when (years, spans) and which rate a change is of."""

    text: str
    years: list[tuple[int, int, int, int | None]]
    last_year: int
    fresh: bool = True
    span: tuple[int, int] | None = None
    forecast_at: int | None = None
    year_end: bool = False
    rate: str | None = None
    measure: str | None = None  # of the last figure: a later one with no measure word of its own shares it
    last: Statement | None = None
    mode: str | None = None  # the sentence's perspective ("从离岸业务看"): the mode of figures naming none

    def year_lists(self) -> list[tuple[int, list[int]]]:
        """Enumerations of single years ("2017年、2018年", "2019年和2020年"), each with where it ends."""
        out: list[tuple[int, list[int]]] = []
        run: list[tuple[int, int, int]] = []
        for y0, y1, a, b in self.years:
            if b is None and run and re.fullmatch(r"\s*[、和及与]\s*", self.text[run[-1][1] : y0]):
                run.append((y0, y1, a))
                continue
            if len(run) >= 2:
                out.append((run[-1][1], [r[2] for r in run]))
            run = [(y0, y1, a)] if b is None else []
        if len(run) >= 2:
            out.append((run[-1][1], [r[2] for r in run]))
        return out

    def only_span_before(self, pos: int) -> tuple[int, int] | None:
        """The span this sentence printed before ``pos``, when it printed no single year there."""
        last = None
        for y0, _, a, b in self.years:  # in the order printed
            if y0 >= pos:
                break
            if b is None:
                return None
            last = (a, b)
        return last

    def year_at(self, pos: int) -> int:
        before = [a for y0, _, a, b in self.years if y0 < pos and b is None]
        if before:
            self.last_year = before[-1]
        return self.last_year


# What follows a printed year and narrows it: a month or months, a half, a quarter or quarters.
_YEAR_PART = re.compile(
    r"\s*(?:(?P<m1>\d{1,2})\s*(?:[－—–\-~至到]\s*(?P<m2>\d{1,2})\s*)?月|(?P<half>上|下)半年"
    r"|前(?P<upto>[二三])季度|第?(?P<q>[一二三四])季度)"
)
_SPAN_SEP = re.compile(r"\s*(?:[－—–\-~至到])\s*")


def _year_parts(
    text: str, years: list[tuple[int, int, int, int | None]]
) -> tuple[list[tuple[int, int, int, int | None]], dict[tuple[int, int], str]]:
    """The sentence's years with the parts of years it names: "2021 年上半年" is 2021H1, "2020－2021 年上半年"
    2020-2021H1, "前三季度" Q1-Q3, "1－9 月" M01-M09, and "2000 年 4 月至 2022 年 3 月" one span, 2000M04-2022M03.
    A figure of part of a year must never pass for the year's (a table's annual cell). A single month alone
    ("2021 年 9 月，…成立") dates an event or a stock and leaves the year as it is."""
    labels: dict[tuple[int, int], str] = {}
    out: list[tuple[int, int, int, int | None]] = []
    i = 0
    while i < len(years):
        y0, y1, a, b = years[i]
        m = _YEAR_PART.match(text, y1)
        nxt = years[i + 1] if i + 1 < len(years) else None
        if m and m.group("m1") and not m.group("m2") and b is None and nxt and nxt[3] is None:
            sep = _SPAN_SEP.fullmatch(text, m.end(), nxt[0])
            m2 = _YEAR_PART.match(text, nxt[1])
            if sep and m2 and m2.group("m1") and not m2.group("m2"):
                out.append((y0, nxt[1], a, nxt[2]))
                labels[(a, nxt[2])] = f"{a}M{int(m.group('m1')):02d}-{nxt[2]}M{int(m2.group('m1')):02d}"
                i += 2
                continue
        part = None
        if m and m.group("half"):
            part = "H1" if m.group("half") == "上" else "H2"
        elif m and m.group("upto"):
            part = f"Q1-Q{_count(m.group('upto'))}"
        elif m and m.group("q"):
            part = f"Q{_count(m.group('q'))}"
        elif m and m.group("m2"):
            part = f"M{int(m.group('m1')):02d}-M{int(m.group('m2')):02d}"
        if part:
            labels[(a, b if b is not None else a)] = f"{a}-{b}{part}" if b is not None else f"{a}{part}"
        out.append(years[i])
        i += 1
    return out, labels


def _ascending(m: re.Match[str]) -> bool:
    """A range's ends are in order and in one unit; "2016－2021" and "3－2" are something else."""
    return (m.group("u1") in (None, m.group("u2"))) and _number(m.group("lo")) < _number(m.group("hi"))


def _period_text(start: int, end: int) -> str:
    return f"{start}" if start == end else f"{start}-{end}"


def _count(text: str) -> int:
    return int(text) if text.isdigit() else int(cn2an.cn2an(text, "smart"))


def _last(matches: Iterable[re.Match[str]]) -> re.Match[str] | None:
    found = None
    for found in matches:  # noqa: B007 - the last match is the one wanted
        pass
    return found


def _has_cue(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text.replace("分别", "").replace("和", "").replace("及", "")))


def _spans(clause: str, rel: str) -> bool:
    return rel != "level" or bool(re.search(r"累计|合计|共计", clause))


def _like_for_like(known: tuple[str, str | None], measure: str | None) -> str | None:
    """An inherited whole compares like with like: after "离岸…占全国离岸的5.3%", "在岸…占比4.6%" is of 在岸."""
    key, then = known
    subject, whole_measure = key.rsplit("|", 1)
    if not measure or measure == then:
        return key
    if then == whole_measure and _base(measure) == _base(then):
        return f"{subject}|{measure}"
    return None  # a count's share is not of a sum of money named before


def full_measure(rules: Rules, mode: str | None, measure: str | None, market: str | None) -> str | None:
    """The measure with its mode: the mode printed, else offshore when the business is from a market abroad."""
    if not measure or measure == "数量":
        return measure
    if mode is None and market and measure in rules.raw.get("market_mode_measures", ()):
        mode = rules.raw["market_mode"]
    if mode and measure.startswith(tuple(rules.modes.values())):
        return measure  # a measure carried over with its mode ("离岸执行额") keeps the one it has
    return (mode or "") + measure


def _base(measure: str | None) -> str:
    return re.sub(r"^(?:离岸|在岸)", "", measure or "")


def _qualified(qualifier: str | None, segment: str) -> str:
    """A part named inside a "其中" about a qualified whole is qualified alike: 制造业 KPO's 研发服务."""
    if not qualifier or not segment or "·" in segment or segment in _FAMILY:
        return segment
    return f"{qualifier}·{segment.removeprefix(qualifier) or segment}"


def _sibling(current: str | None, new: str) -> str:
    """ITO → BPO keeps a qualifier the list shares: 金融·ITO then BPO is 金融·BPO."""
    families = ("ITO", "BPO", "KPO")
    if current and "·" in current and new in families and current.rsplit("·", 1)[1] in families:
        return current.rsplit("·", 1)[0] + "·" + new
    return new


# Where the noun a count counts ends: a verb, a preposition, punctuation, a year, or the next figure of a pair
# ("37 个示范城市和 14 个申请城市"; "高等院校和职业院校" is one noun: 等 ends it as "etc.", not inside 高等, 中等 …).
_COUNT_STOP = re.compile(
    r"[，。；、：（）“”《》]|\d|的|在|对|开展|新获得|获得|参加|得分|确定|设立|带动|具备|成为|实现|保持|全面|有|提出|完成|"
    r"分布|发展|高于|超过|进度|以上|左右|报名|就职|从事|参与|正式|拥有|具有|签署|通过|针对|专门|编写|吸引|提炼|培育|催化|"
    r"构建|建成|加快|引领|承接|合计|新增|共|累计|(?<![高中初同平对])等|中|为|[和及](?=\s*[\d一二两三四五六七八九十])|平均|均"
)
# A count whose noun follows a verb phrase: "1537 家开展服务外包业务的技术先进型服务企业" counts the 企业.
_RELATIVE_NOUN = re.compile(r"^[^，。；、]{1,16}?的(?P<noun>[^，。；、的]{2,20}?)(?=[，。；]|$)")
_GROWTH_WORD = re.compile(r"增速|增长率?|增幅|涨幅")
_CHANGES = ("share_change", "growth_change", "change")
_BASE_YEAR = re.compile(r"[比较与]\s*(?P<y>(?:19|20)\d{2})\s*年")


# ---------------------------------------------------------------- entry points


def document_year(lines: list[_Line]) -> int | None:
    for ln in lines[:40]:
        m = re.search(r"(?:19|20)\d{2}", ln.text.replace(" ", ""))
        if m:
            return int(m.group(0))
    return None


def extract_statements(
    pdf: pdfplumber.PDF,
    lines_by_page: dict[int, list[TextLine]] | None = None,
    *,
    kind: str | None = None,
    year: int | None = None,
    rules: Rules | None = None,
) -> list[Statement]:
    """Every figure the PDF's running text states, in reading order."""
    rules = rules or load_rules(kind)
    lines = read_lines(pdf, lines_by_page, rules)
    heights = {p.page_number: float(p.height) for p in pdf.pages}
    return statements_from_lines(lines, heights, rules, year)


def statements_from_lines(
    lines: list[_Line], heights: dict[int, float], rules: Rules, year: int | None = None
) -> list[Statement]:
    year = year or document_year(lines) or 0
    doc = _Document(rules, year)
    state = State(entity=rules.default_subject)
    section_entity: str | None = None
    section = ""
    parser = doc.p
    # The document's title ("…示范城市及 / 申请城市综合评价结果", unnumbered headings before its first paragraph)
    # names no section: its second line is not a section about 申请城市.
    titled = False
    for para in body_paragraphs(lines, heights, rules):
        is_heading = para.heading or (_HEADING.match(para.text) and len(para.text) <= 32 and "，" not in para.text)
        if is_heading:
            title = _HEADING.sub("", para.text).strip("。 ")
            level0 = para.text.startswith("第")
            name = parser.entity_name(title) or (
                parser.entity_name(m.group(0)) if (m := rules.entity_pattern.match(title)) else None
            )
            if name and not level0 and (titled or _HEADING.match(para.text)):
                section_entity = name
            elif level0 or re.match(r"^[一二三四五六七八九十]+、", para.text):
                section_entity = None
            section = para.text.strip()
            continue
        para.section = section
        titled = True
        doc.paragraph(para, state, section_entity)
    return doc.out


STATEMENT_COLUMNS = [
    "page",
    "sentence_index",
    "section",
    "sentence",
    "subject",
    "subject_key",
    "entity",
    "market",
    "segment",
    "measure",
    "relation",
    "whole",
    "whole_key",
    "period",
    "period_start",
    "period_end",
    "period_kind",
    "value",
    "value_low",
    "value_high",
    "value_text",
    "unit",
    "canonical_unit",
    "qualifier",
    "enumerated",
    "bbox",
]
