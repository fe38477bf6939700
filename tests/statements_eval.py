"""Scoring extracted statements against the seed counts and the hand-labelled sample (shared by tests and the
benchmark). Matching is by the sentence a label names (a substring, whitespace ignored) and the printed number."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from tests.seed_body import SEEDS, numbers_with_units

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "samples" / "truth" / "statements_2021.json"
SEED_OF = {"city_evaluation_2021": "000_8a58a9cfef228a5a.txt", "annual_report_2021": "001_2de11681a97aed46.txt"}
FIELDS = ("subject", "measure", "period", "relation", "value")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def coverage(doc: str, rows: list[dict[str, Any]]) -> tuple[int, int, list[tuple[str, str, int]]]:
    """(found, counted, misses): numbers with a unit in the seed's body text that some row prints."""
    seed = numbers_with_units(SEEDS / SEED_OF[doc])
    # A range ("17%－18%") is one row printing two numbers.
    have = Counter(
        (number, (r["unit"] or "")[:1])
        for r in rows
        for number in (
            re.findall(r"\d+(?:\.\d+)?", str(r["value_text"]))
            if r.get("qualifier") == "range"
            else [str(r["value_text"]).lstrip("-－−")]
        )
    )
    found = 0
    misses = []
    for (number, unit), n in seed.items():
        got = min(n, have.get((number, unit[:1]), 0))
        found += got
        if got < n:
            misses.append((number, unit, n - got))
    return found, sum(seed.values()), misses


def accuracy(doc: str, rows: list[dict[str, Any]], sample: Path = LABELS) -> tuple[int, int, list[dict[str, Any]]]:
    """(fields right, fields labelled, misses) of the labelled ``sample`` of ``doc``."""
    labels = json.loads(sample.read_text(encoding="utf-8"))["documents"].get(doc, [])
    by_sentence: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_sentence.setdefault(_squash(r["sentence"]), []).append(r)
    right = total = 0
    misses: list[dict[str, Any]] = []
    for entry in labels:
        needle = _squash(entry["sentence"])
        candidates = [rs for s, rs in by_sentence.items() if needle in s]
        pool = list(candidates[0]) if candidates else []
        for label in entry["statements"]:
            total += len(FIELDS)
            match = None
            for r in pool:
                if str(r["value_text"]).lstrip("-－−") == label["value_text"]:
                    match = r
                    break
            if match is None:
                misses.append({"sentence": entry["sentence"], "label": label, "got": None})
                continue
            pool.remove(match)
            got = {
                "subject": match["subject_key"],
                "measure": match["measure"],
                "period": match["period"],
                "relation": match["relation"],
                "value": match["value"],
            }
            wrong = {}
            for f in FIELDS:
                ok = abs(float(got[f]) - label[f]) < 1e-9 if f == "value" else got[f] == label[f]
                right += ok
                if not ok:
                    wrong[f] = (label[f], got[f])
            if wrong:
                misses.append({"sentence": entry["sentence"], "value": label["value_text"], "wrong": wrong})
    return right, total, misses
