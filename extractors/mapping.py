"""Header labels to canonical columns: exact synonyms first, a pattern next, a scored guess last.

Labels are compared as normalised keys with their unit tail removed (``全部执行金额（亿美元）`` is
``全部执行金额``, unit 亿美元). A flattened label (``基础评价/(一)产业发展情况``) matches a spec label
given whole or by its last level, so a publisher who drops the group header still maps. Columns are
taken left to right, each spec column once (repeated labels such as 同比增长 take the next one in
order); a label matching nothing exactly may map by similarity above the spec's threshold, recorded
with its score, and below it is left unmapped and reported rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from extractors.normalize import label_key, split_unit
from extractors.spec import ColumnSpec, TableSpec


@dataclass
class Mapping:
    names: list[str | None]  # canonical name per column, None where unmapped
    units: list[str | None]  # unit printed in each column's label, if any
    fuzzy: dict[int, tuple[str, float]] = field(default_factory=dict)  # column → (name, score) when guessed
    unknown: list[str] = field(default_factory=list)  # labels of columns no spec column took
    missing: list[str] = field(default_factory=list)  # required spec columns no label took

    @property
    def problems(self) -> list[str]:
        out = [f"column {label!r} matches nothing in the spec" for label in self.unknown]
        out += [f"no column for {name!r}" for name in self.missing]
        out += [f"column {self.names[c]!r} mapped by similarity ({score:.2f})" for c, (_, score) in self.fuzzy.items()]
        return out

    @property
    def complete(self) -> bool:
        return not self.missing


def _keys(label: str) -> tuple[str, str, str | None]:
    """(whole key, last level key, unit) of a flattened label."""
    key, unit = split_unit(label_key(label))
    levels = [split_unit(level)[0] for level in key.split("/")]
    if unit is None:
        for level in label_key(label).split("/"):
            unit = split_unit(level)[1] or unit
    return "/".join(levels), levels[-1], unit


def _exact(column: ColumnSpec, whole: str, leaf: str) -> dict[str, str] | None:
    if whole in column.labels or leaf in column.labels:
        return {}
    if column.pattern is not None:
        for text in (whole, leaf):
            m = column.pattern.search(text)
            if m:
                return {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def _similarity(column: ColumnSpec, whole: str, leaf: str) -> float:
    return max(
        (SequenceMatcher(None, text, ref).ratio() for ref in column.labels for text in (whole, leaf)), default=0.0
    )


def map_columns(labels: list[str], spec: TableSpec) -> Mapping:
    keys = [_keys(label) for label in labels]
    names: list[str | None] = [None] * len(labels)
    used: set[int] = set()
    for c, (whole, leaf, _) in enumerate(keys):
        for k, column in enumerate(spec.columns):
            if k in used and not column.repeatable:
                continue
            groups = _exact(column, whole, leaf)
            if groups is not None:
                try:
                    names[c] = column.name.format(**groups)
                except KeyError:
                    continue  # the pattern did not capture what the name needs
                used.add(k)
                break
    mapping = Mapping(names, [unit for _, _, unit in keys])
    for c, (whole, leaf, _) in enumerate(keys):
        if names[c] is not None or not whole:
            continue
        scored = sorted(
            ((_similarity(col, whole, leaf), k) for k, col in enumerate(spec.columns) if k not in used and col.labels),
            reverse=True,
        )
        if scored and scored[0][0] >= spec.fuzzy_threshold and (len(scored) < 2 or scored[0][0] - scored[1][0] >= 0.1):
            score, k = scored[0]
            names[c] = spec.columns[k].name
            used.add(k)
            mapping.fuzzy[c] = (spec.columns[k].name, round(score, 3))
    mapping.unknown = [labels[c] for c in range(len(labels)) if names[c] is None and keys[c][0]]
    mapping.missing = [col.name for k, col in enumerate(spec.columns) if k not in used and not col.optional]
    return mapping
