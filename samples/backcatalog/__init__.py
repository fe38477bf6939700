"""A made-up back catalogue of both reports (issue 15): editions 2016–2023 of the annual report and the
evaluation notices (2014, 2016–2023, in three scoring schemes), typeset by samples/variants, with truth.

    from samples.backcatalog import catalogue, build, build_all
    for edition in catalogue():
        pdf, truth = build(edition, outdir)
    catalog_toml, index = build_all(outdir)

``python -m samples.backcatalog OUTDIR [--only ID,...] [--jobs N]`` builds them. README.md describes the
editions, the planted revisions and the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samples.backcatalog import builder
from samples.backcatalog.catalogue import Edition, load

__all__ = ["Edition", "build", "build_all", "catalogue"]


def catalogue() -> list[Edition]:
    """Every PDF of the back catalogue (catalogue.toml), base editions first."""
    return load()


def build(edition: Edition, outdir: Path) -> tuple[Path, dict[str, Any]]:
    """Typeset one PDF into ``outdir``: its path and its truth (also written as ``<id>.json``)."""
    return builder.build(edition, Path(outdir))


def build_all(outdir: Path, entries: list[Edition] | None = None, *, jobs: int = 1) -> tuple[Path, dict[str, Any]]:
    """Build every PDF (or ``entries``), ``catalog.toml`` and ``truth_index.json`` into ``outdir``."""
    return builder.build_all(Path(outdir), entries, jobs=jobs)
