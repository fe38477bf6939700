"""Raster chart readings cached on the PDF's sha256 and the reader's version.

OCR is the slow part of extraction; a PDF that has not changed, read by a reader that has not
changed, is never read again. One JSON file per (PDF, reader version) holds every figure's reading,
keyed by page and region; a damaged or foreign file is ignored and rewritten.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from extractors.layout import BBox
from extractors.model import ChartPoint, FlaggedPoint

ENV = "SOETL_CHART_CACHE"


def default_dir() -> Path:
    """``$SOETL_CHART_CACHE``, else the user's cache directory."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "soetl" / "charts"


class ChartCache:
    def __init__(self, directory: Path, source_sha256: str, version: str) -> None:
        self.path = Path(directory) / f"{source_sha256}-{_safe(version)}.json"
        self.version = version
        self.entries: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.misses = 0
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == version and isinstance(data.get("figures"), dict):
                self.entries = data["figures"]
        except (OSError, ValueError):
            pass
        self._dirty = False

    @staticmethod
    def key(page: int, bbox: BBox, fallback_name: str) -> str:
        return f"{page}:{','.join(f'{v:.2f}' for v in bbox)}:{fallback_name}"

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": self.version, "figures": self.entries}, ensure_ascii=False)
        # Written aside and renamed: a run killed halfway leaves the old file, never half of a new one.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".charts-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, self.path)
        self._dirty = False


def to_entry(points: list[ChartPoint], flagged: list[FlaggedPoint], problems: list[str], crop_sha256: str) -> dict:
    return {
        "points": [asdict(p) for p in points],
        "flagged": [{"point": asdict(f.point), "reasons": f.reasons} for f in flagged],
        "problems": list(problems),
        "crop_sha256": crop_sha256,
    }


def from_entry(entry: dict[str, Any]) -> tuple[list[ChartPoint], list[FlaggedPoint], list[str], str]:
    points = [_point(p) for p in entry["points"]]
    flagged = [FlaggedPoint(_point(f["point"]), list(f["reasons"])) for f in entry["flagged"]]
    return points, flagged, list(entry["problems"]), str(entry["crop_sha256"])


def _point(data: dict[str, Any]) -> ChartPoint:
    for box in ("bbox", "mark_bbox"):
        if data.get(box) is not None:
            data[box] = tuple(data[box])
    return ChartPoint(**data)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
