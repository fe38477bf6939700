"""The statement parser measured on hand-labelled samples it was not built on.

    .venv/bin/python benchmarks/statements_holdout.py [--misses N]

Three samples, all labelled by hand from the seed text by labellers who never saw the parser's output:

- ``samples/truth/statements_holdout3_2021.json`` (289 statements of the annual report, 2026-12-02; the notice has
  no unlabelled figure left) is in the dataset's own conventions and scored like ``statements_2021.json``
  (``tests/statements_eval.accuracy``). Its passages share no sentence with the other samples. It is the blind
  one: this script prints only its score. It measured 93.6 % before the rules of 2026-12-02 and 95.3 % after;
  its misses were then read once, for that day's closing note, and one of them (a business line before 市场规模)
  was found to break a documented rule and fixed (95.8 %). No other rule is to be written from its misses.
- ``samples/truth/statements_holdout2_2021.json`` (373 statements of both reports) is in the same conventions.
  It was the blind one until 2026-12-02 (89.1 % when made, 90.9 % at its last blind measure); rules have since
  been written from its misses, so it is development data.
- ``samples/truth/statements_holdout_annual_report_2021.json`` (637 statements of the annual report) is in its
  labeller's free-text conventions. Rules have been written from its misses since 2026-12-02 (development data).

The second was labelled by hand from the seed text,
independently of the parser and of ``samples/truth/statements_2021.json`` (the sample the parser was
developed against). A label is matched to the extracted row of the same sentence (whitespace ignored)
and printed number; fields compared: value, relation, period, subject, measure. The two vocabularies
differ a little: the labeller's ``count`` is the parser's ``level`` of a counted thing (家, 个 …), its ``ratio_part``
the parser's ``ratio``, its ``other`` any of the parser's finer relations (growth gaps, contributions).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOLDOUT = ROOT / "samples" / "truth" / "statements_holdout_annual_report_2021.json"
BLIND = ROOT / "samples" / "truth" / "statements_holdout3_2021.json"
SECOND = ROOT / "samples" / "truth" / "statements_holdout2_2021.json"
OTHER = {"growth_gap", "contribution", "change", "growth_change", "mean", "share_gap"}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", str(text or "")).replace("－", "-").replace("—", "-").replace("–", "-")


# The labeller's count is of things (enterprises, cities, certifications, projects: 家/个/起/种 …); persons,
# households and vehicles are levels (its method text).
COUNTED = {"家", "个", "项", "起", "种", "所", "件", "条", "座", "位", "支", "省份", "部门"}


def relation_of(row: dict) -> str:
    rel = row["relation"]
    if rel == "level" and row.get("unit_kind") == "count":
        return "count" if row.get("canonical_unit") in COUNTED else "level"
    if rel == "ratio":
        return "ratio_part"
    return "other" if rel in OTHER else rel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=15, help="how many misses to print per field")
    args = parser.parse_args()
    from dataclasses import asdict

    from extractors.extract import extract_pdf
    from tests.statements_eval import accuracy

    rows = [asdict(s) for s in extract_pdf(ROOT / "samples" / "annual_report_2021.pdf").statements]
    by_sentence: dict[str, list[dict]] = {}
    for r in rows:
        by_sentence.setdefault(squash(r["sentence"]), []).append(r)
    labels = json.loads(HOLDOUT.read_text(encoding="utf-8"))["statements"]
    right: Counter[str] = Counter()
    misses: dict[str, list[str]] = {}
    unmatched = 0
    taken: set[int] = set()
    for label in labels:
        needle = squash(label["sentence"])
        pool = [r for s, rs in by_sentence.items() if needle[:40] in s or s in needle for r in rs]
        if not pool:
            # The labels keep footnote calls as the text layer prints them ("口径1（下同）"); the parser drops them.
            bare = re.sub(r"\d", "", needle)
            pool = [r for s, rs in by_sentence.items() if bare[:30] in re.sub(r"\d", "", s) for r in rs]
        match = next(
            (
                r
                for r in pool
                if id(r) not in taken and squash(r["value_text"]).lstrip("-") == squash(label["value_text"]).lstrip("-")
            ),
            None,
        )
        if match is not None:
            taken.add(id(match))  # a number printed twice in a sentence ("4.2%、4.2%") is two rows, in order
        if match is None:
            unmatched += 1
            misses.setdefault("matched", []).append(f"{label['id']} {label['value_text']}")
            continue
        right["matched"] += 1
        got = {
            "value": match["value"] if label.get("value") is not None else None,
            "relation": relation_of(match),
            "period": squash(match["period"]),
            "subject": {squash(match["subject"]), squash(match["subject_key"])},
            "measure": squash(match["measure"]),
        }
        checks = {
            "value": label.get("value") is None
            or (got["value"] is not None and abs(abs(got["value"]) - abs(label["value"])) < 1e-9),
            "relation": got["relation"] == label["relation"],
            "period": got["period"] == squash(label["period"]),
            "subject": squash(label["subject"]) in got["subject"],
            "measure": got["measure"] == squash(label["measure"]),
        }
        for field, ok in checks.items():
            right[field] += ok
            if not ok:
                misses.setdefault(field, []).append(
                    f"{label['id']} {label['value_text']}: labelled {label.get(field)!r}, parsed {got[field]!r}"
                )
    doc_rows = {"annual_report_2021": rows}
    doc_rows["city_evaluation_2021"] = [
        asdict(s) for s in extract_pdf(ROOT / "samples" / "city_evaluation_2021.pdf").statements
    ]
    for name, sample in (("blind holdout", BLIND), ("second holdout (development data)", SECOND)):
        all_right = all_total = 0
        for doc, these in doc_rows.items():
            r, t, _ = accuracy(doc, these, sample)
            if t:
                print(f"{name}, {doc}: {r}/{t} fields = {r / t:.1%}")
            all_right, all_total = all_right + r, all_total + t
        print(f"{name}, all: {all_right}/{all_total} fields = {all_right / all_total:.1%}\n")
    n = len(labels)
    print(f"holdout: {n} labelled statements, {n - unmatched} matched to a parsed row ({(n - unmatched) / n:.1%})")
    fields = ["value", "relation", "period", "subject", "measure"]
    total = sum(right[f] for f in fields)
    for f in fields:
        print(f"  {f:9s} {right[f]:4d}/{n}  {right[f] / n:.1%}")
    share = total / (n * len(fields))
    print(f"  all fields {total}/{n * len(fields)} = {share:.1%} (an unmatched label counts wrong in every field)")
    for field, items in misses.items():
        print(f"\nmisses — {field} ({len(items)}):")
        for item in items[: args.misses]:
            print("  ", item)


if __name__ == "__main__":
    main()
