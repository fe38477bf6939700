"""Layout variants of the two reports' tables, typeset from samples/truth, with their truth (issue 9).

    from samples.variants import matrix, build
    for variant in matrix():
        pdf, truth = build(variant, outdir)

``python -m samples.variants OUTDIR [--only NAME,...]`` builds them all. README.md describes the matrix.
"""

from __future__ import annotations

from pathlib import Path

from samples.variants.build import ProducerMissing, available
from samples.variants.build import build as _build
from samples.variants.matrix import Variant, dimensions, load

__all__ = ["ProducerMissing", "Variant", "available", "build", "dimensions", "matrix"]


def matrix() -> list[Variant]:
    """Every named variant of matrix.toml, with its dimension values."""
    return load()


def build(variant: Variant, outdir: Path) -> tuple[Path, dict]:
    """Typeset one variant into ``outdir``: returns the PDF's path and its truth (also written as JSON)."""
    return _build(variant, Path(outdir))
