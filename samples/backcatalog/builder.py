"""Typeset the back catalogue's PDFs with samples/variants, and write their truth, catalog.toml and the
catalogue-level truth index."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from samples.backcatalog import editions, index
from samples.backcatalog.catalogue import Edition, load, variant
from samples.variants.build import build as typeset
from samples.variants.build import check_glyphs
from samples.variants.content import Document, build_document

GLYPHS = Path(__file__).resolve().parent / "glyphs.toml"
TABLE_FIELDS = ("dataset", "attributes", "keys", "scheme", "scales")


def document(edition: Edition) -> Document:
    """What ``edition`` prints, laid out in its style (no PDF yet)."""
    source = editions.document(edition.kind, edition.year)
    return build_document(variant(edition, source), source)


def _truth(edition: Edition, record: dict[str, Any]) -> dict[str, Any]:
    source = {t["id"]: t for t in editions.document(edition.kind, edition.year)["tables"]}
    record["id"] = edition.id
    record["kind"] = edition.kind
    record["source"] = "samples/backcatalog"
    record["edition"] = {
        "id": edition.edition, "kind": edition.kind, "year": edition.year, "scheme": edition.scheme,
        "role": edition.role, "title": edition.title,
    }
    record["variant"] = {**record["variant"], "name": edition.variant, "overrides": edition.overrides}
    for table in record["tables"]:
        mine = source[table["id"]]
        for key in TABLE_FIELDS:
            if key in mine:
                table[key] = mine[key]
    return record


def build(edition: Edition, outdir: Path) -> tuple[Path, dict[str, Any]]:
    """Typeset one PDF into ``outdir/<id>.pdf`` with its truth ``<id>.json``; the glyph check comes first
    (samples.variants.fonts.MissingGlyph names the text and the characters a font subset lacks)."""
    doc = document(edition)
    pdf, record = typeset(doc.variant, Path(outdir), document=doc)
    record = _truth(edition, record)
    pdf.with_suffix(".json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return pdf, record


def _build_one(args: tuple[Edition, Path]) -> tuple[str, float]:
    edition, outdir = args
    t0 = time.perf_counter()
    build(edition, outdir)
    return edition.id, time.perf_counter() - t0


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def catalog_text(entries: Iterable[Edition]) -> str:
    lines = [
        "# The generated back catalogue (python -m samples.backcatalog): made-up editions of both reports,",
        "# typeset by samples/variants. Truth: <id>.json beside each PDF and truth_index.json.",
        "",
    ]
    for e in entries:
        lines += ["[[source]]", f'id = "{e.id}"', f'url = "{e.id}.pdf"', f'kind = "{e.kind}"', f"year = {e.year}", ""]
    return "\n".join(lines)


def build_all(
    outdir: Path,
    entries: list[Edition] | None = None,
    *,
    jobs: int = 1,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Build every PDF of the catalogue (or ``entries``) into ``outdir``; write ``catalog.toml`` (the
    project's catalog format, flows/catalog.py) and ``truth_index.json``. Returns the catalog's path and
    the index. ``jobs`` > 1 typesets in that many worker processes."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    entries = load() if entries is None else entries
    for e in entries:
        check_glyphs(document(e))  # every glyph of every PDF before the first is typeset
    work = [(e, outdir) for e in entries]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for name, seconds in pool.map(_build_one, work):
                if progress:
                    progress(name, seconds)
    else:
        for item in work:
            name, seconds = _build_one(item)
            if progress:
                progress(name, seconds)
    catalog = outdir / "catalog.toml"
    catalog.write_text(catalog_text(entries), encoding="utf-8")
    truth = index.truth_index(entries, {e.id: sha256(outdir / f"{e.id}.pdf") for e in entries})
    (outdir / "truth_index.json").write_text(_index_json(truth), encoding="utf-8")
    return catalog, truth


def _index_json(truth: dict[str, Any]) -> str:
    """The index as JSON with one value (or revision) a line: thousands of them stay greppable and small."""
    parts = []
    for key, value in truth.items():
        if isinstance(value, list):
            body = "[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in value) + "\n]"
        else:
            body = json.dumps(value, ensure_ascii=False, indent=1)
        parts.append(f"{json.dumps(key)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


# ------------------------------------------------------------------------------------------ glyphs


def glyph_text(entries: list[Edition] | None = None) -> dict[str, str]:
    """Every character the catalogue prints (``all``) and those set in the bold face (``bold``: titles,
    headings, 附 lines, captions, 续表 lines and headers), as samples/variants' glyph check splits them."""
    chars: dict[str, set[str]] = {"all": set(), "bold": set()}
    for e in load() if entries is None else entries:
        for where, text in document(e).strings():
            chars["all"].update(text)
            last = where.split(" ")[-1]
            if where in ("title", "heading", "appendix") or last in ("caption", "续表", "header"):
                chars["bold"].update(text)
    return {k: "".join(sorted(v - {"\n", "\t", " "})) for k, v in chars.items()}


def write_glyphs(path: Path = GLYPHS) -> Path:
    text = glyph_text()
    body = "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in text.items())
    path.write_text(
        "# Characters the back catalogue prints (python -m samples.backcatalog --glyphs writes this file).\n"
        "# samples/variants/fonts.py adds them to the bundled subsets: after a change, run\n"
        "# python -m samples.variants.fonts (it needs the system CJK fonts).\n" + body + "\n",
        encoding="utf-8",
    )
    return path


def default_jobs() -> int:
    return max(1, min(4, (os.cpu_count() or 1)))
