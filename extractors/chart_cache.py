"""Raster chart readings cached on the PDF's sha256 and the reader's version, and on the chart's pixels.

OCR is the slow part of extraction; a PDF that has not changed, read by a reader that has not
changed, is never read again. One JSON file per (PDF, reader version) holds every figure's reading,
keyed by page and region; a damaged or foreign file is ignored and rewritten.

A PDF whose bytes changed but whose chart did not (a new edition reprinting last year's figure, a
corrected caption, a re-saved file) has the same pixels: a second store keyed by the pixels' sha256,
the region and the reader's version answers it without OCR. The reading is a function of exactly
those (the reader sees nothing but the pixels and where they sit on the page).
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

    def pixel_path(self, pixels_sha256: str) -> Path:
        return self.path.parent / "pixels" / f"{pixels_sha256}-{_safe(self.version)}.json"

    def get_pixels(self, pixels_sha256: str, key: str) -> dict[str, Any] | None:
        """The reading of these pixels at this region, whichever PDF they were read from first."""
        try:
            data = json.loads(self.pixel_path(pixels_sha256).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entry = data.get(key) if isinstance(data, dict) else None
        return entry if isinstance(entry, dict) else None

    def put_pixels(self, pixels_sha256: str, key: str, entry: dict[str, Any]) -> None:
        path = self.pixel_path(pixels_sha256)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            data = {}
        data[key] = entry
        try:
            _replace(path, json.dumps(data, ensure_ascii=False))
        except OSError:
            pass  # an unwritable cache costs a later run time, never this run its results

    def save(self) -> None:
        if not self._dirty:
            return
        _replace(self.path, json.dumps({"version": self.version, "figures": self.entries}, ensure_ascii=False))
        self._dirty = False


def _replace(path: Path, payload: str) -> None:
    """Written aside and renamed: a run killed halfway leaves the old file, never half of a new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".charts-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(payload)
    os.replace(tmp, path)


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
