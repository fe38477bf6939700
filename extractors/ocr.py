"""Offline OCR of chart text with the PP-OCR models that ship inside the rapidocr wheel.

rapidocr resolves a missing model by downloading it. We never let it get that far: the detection and
recognition models are named by their path inside the installed package, and their sha256 is checked
against the package's own model table before a session is made, so a wheel without them fails here,
loudly, instead of reaching for the network at run time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from extractors.errors import ExtractionError

# The models rapidocr 3.10 ships in its wheel (rapidocr/models/), as its default_models.yaml names them.
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
# A text box this much taller than wide is a line of text turned on its side.
VERTICAL_RATIO = 1.5
# OCR reads 7-8 pt chart labels well at about this many pixels per point (≈ 200 dpi); coarser images
# are enlarged to it before reading, finer ones are left alone up to the detector's own limit.
OCR_PX_PER_PT = 2.8
DET_LIMIT = 1400

log = logging.getLogger(__name__)


class OcrUnavailable(ExtractionError):
    hint = "reinstall the pinned rapidocr and onnxruntime (pip install -e .); the models come inside rapidocr's wheel"


@dataclass(frozen=True)
class OcrText:
    """One line of text the OCR found: its quadrilateral in image pixels (clockwise from the top left
    of the text as read), the text and the recogniser's confidence."""

    quad: tuple[tuple[float, float], ...]
    text: str
    score: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.quad]
        ys = [p[1] for p in self.quad]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def angle(self) -> float:
        """Direction of reading in degrees, counter-clockwise from left-to-right (y of the image grows down)."""
        (x0, y0), (x1, y1) = self.quad[0], self.quad[1]
        return math.degrees(math.atan2(y0 - y1, x1 - x0))


def model_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def reader_version() -> str:
    """What a cached reading depends on: the OCR package (and so its models) and the runtime."""
    return f"rapidocr-{metadata.version('rapidocr')}+onnxruntime-{metadata.version('onnxruntime')}"


def _expected_sha256() -> dict[str, str]:
    """Model file name → sha256, from the model table rapidocr itself ships."""
    import yaml

    table = yaml.safe_load((model_dir().parent / "default_models.yaml").read_text(encoding="utf-8"))
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            url, sha = node.get("model_dir"), node.get("SHA256")
            if isinstance(url, str) and isinstance(sha, str):
                found.setdefault(url.rsplit("/", 1)[-1], sha)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(table)
    return found


def bundled_models() -> dict[str, Path]:
    """The detection and recognition models inside the installed wheel, each checked against its sha256."""
    expected = _expected_sha256()
    models = {}
    for task, name in (("det", DET_MODEL), ("rec", REC_MODEL)):
        path = model_dir() / name
        if not path.is_file():
            raise OcrUnavailable(path, "the OCR model is not inside the installed rapidocr package")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if name not in expected or digest != expected[name]:
            raise OcrUnavailable(path, "the OCR model's sha256 does not match rapidocr's model table")
        models[task] = path
    return models


class ChartOcr:
    """Detection plus recognition on a chart image; one instance is shared (sessions are expensive)."""

    def __init__(self) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - the dependency is pinned
            raise OcrUnavailable(Path("rapidocr"), f"cannot import rapidocr ({exc})") from None
        models = bundled_models()
        params = {
            "Global.use_cls": False,  # text turned on its side is handled below, both ways round
            "Global.log_level": "warning",
            "Global.text_score": 0.2,  # uncertain reads are kept: they are flagged, never dropped unseen
            "Global.max_side_len": 4000,
            "Det.model_path": str(models["det"]),
            "Det.limit_type": "max",
            "Det.limit_side_len": DET_LIMIT,
            # A label right on a bar's top shares its box with the bar's edge; the default 0.5 drops it.
            "Det.box_thresh": 0.3,
            "Rec.model_path": str(models["rec"]),
        }
        self._engine = RapidOCR(params=params)
        self._lock = threading.Lock()  # onnxruntime sessions are shared; one chart at a time

    def read(self, image: np.ndarray, px_per_pt: float) -> list[OcrText]:
        """Every text line in ``image`` (H×W×3 RGB, uint8), in the image's own pixel coordinates."""
        scale = max(1.0, OCR_PX_PER_PT / px_per_pt) if px_per_pt > 0 else 1.0
        work = _resize(image, scale)
        with self._lock:
            result = self._engine(work[:, :, ::-1].copy())  # rapidocr takes BGR, as OpenCV reads files
            boxes = [] if result.boxes is None else list(result.boxes)
            found = [
                OcrText(tuple((float(x) / scale, float(y) / scale) for x, y in quad), str(text).strip(), float(s))
                for quad, text, s in zip(boxes, result.txts or (), result.scores or (), strict=True)
            ]
            return [self._upright(work, t, scale) if _is_vertical(t) else t for t in found if t.text]

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognition only, for crops already cut and turned upright (RGB)."""
        if not crops:
            return []
        with self._lock:
            return self._recognise(crops)

    def _recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        result = self._engine.recognize_txt([np.ascontiguousarray(c[:, :, ::-1]) for c in crops])
        return [(str(t).strip(), float(s)) for t, s in zip(result.txts or (), result.scores or (), strict=True)]

    def _upright(self, work: np.ndarray, found: OcrText, scale: float) -> OcrText:
        """Text set on its side reads either way up; rapidocr turns every tall crop one way only."""
        x0, y0, x1, y1 = (int(round(v * scale)) for v in found.box)
        crop = work[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1]
        if crop.size == 0:
            return found
        reads = self._recognise([np.rot90(crop, k) for k in (1, -1)])
        (text, score), k = max(zip(reads, (1, -1), strict=True), key=lambda rk: rk[0][1])
        b = found.box
        # Reading upward (turned counter-clockwise) starts at the bottom left; downward at the top right.
        quad = (
            ((b[0], b[3]), (b[0], b[1]), (b[2], b[1]), (b[2], b[3]))
            if k == -1
            else ((b[2], b[1]), (b[2], b[3]), (b[0], b[3]), (b[0], b[1]))
        )
        return OcrText(quad, str(text).strip(), float(score))


def _is_vertical(t: OcrText) -> bool:
    """rapidocr orders a quad from the top left of its box; a box taller than wide is text on its side."""
    (x0, y0), (x1, y1), (x2, y2) = t.quad[:3]
    return math.hypot(x2 - x1, y2 - y1) >= VERTICAL_RATIO * max(math.hypot(x1 - x0, y1 - y0), 1.0)


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 0.05:
        return image
    import cv2

    h, w = image.shape[:2]
    return cv2.resize(image, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_CUBIC)


@cache
def chart_ocr() -> ChartOcr:
    return ChartOcr()
