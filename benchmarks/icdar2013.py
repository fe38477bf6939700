"""Benchmark: soetl's generic extractor beside camelot and pdfplumber on the ICDAR 2013 table competition.

    .venv/bin/python benchmarks/icdar2013.py [--corpus DIR] [--tools T,T] [--docs PATTERN,PATTERN]
                                             [--mode detect|regions|both] [--pad PT] [--json FILE]

The corpus is evaluation data, read in place (default ``../shared/corpora/icdar2013`` beside the repo),
never copied; without it the script says so and exits 0. Both halves (``competition-dataset-eu``: 27
PDFs, ``-us``: 40) run in this one process, every tool on every document, one after the other.

Metric: the competition's structure measure, ``benchmarks/icdar_metric.py`` (its docstring says exactly
what is computed and where it may differ from the organisers' tool). In short: adjacency relations
between each non-blank cell and its nearest non-blank neighbour to the right and below, compared by
whitespace-free text; per document precision = correct / result relations and recall = correct /
ground-truth relations; P and R averaged over documents, F1 = harmonic mean of the two averages
("F1"). Also printed: the mean of the per-document F1 ("F1/doc") and F1 over all relations pooled
("F1 pool"). A document with an alternative ground truth (eu-009a, us-011a, us-031a, us-035a) scores
against the better of the two.

Modes:

* ``detect``: detection + structure on whole documents. Result tables are matched one-to-one to
  ground-truth tables by the characters (pdfplumber's, by centre) inside their regions; unmatched result
  tables are false positives and all their relations count against precision.
* ``regions``: structure given the true regions (``*-reg.xml``, of the first ground truth), each
  widened by ``--pad`` points on every side and clipped to the page. The true regions are tight around
  the text, and a ruled table's outer rules lie a few points outside: pdfplumber's crop drops them and
  camelot lattice misses them. Default 5 pt; on the EU half (F1 at 0 / 2 / 5 / 10 pt) camelot stream
  gave .913 / .913 / .912 / .895, pdfplumber .509 / .563 / .621 / .660, lattice .701 / .703 / .724 /
  .724; on both halves at 5 / 15 pt: lattice .548 / .570, network .755 / .750, hybrid .847 / .851,
  pdfplumber .516 / .572. Scored as ``detect``.

Tools (``--tools``, default all):

* ``soetl``: detect: ``extract_pdf(path, kind="generic")``; regions: the same with
  ``regions=[(page, (x0, top, x1, bottom)), ...]``; both read through
  ``extractors.document.result_document`` (cells with row/col spans; ``pieces`` for a table continued
  across pages). Shown as "not available (reason)" while that interface is missing.
* ``camelot-lattice``, ``-stream``, ``-network``, ``-hybrid``: ``camelot.read_pdf(path, pages="all",
  flavor=...)`` with camelot 2.0's defaults (lattice and hybrid: engine="combined", pdfium backend; 2.0
  also has "ml", which needs extra dependencies, and "auto": not run). Regions: one call per page,
  stream with ``table_areas`` (the area to read), lattice, network and hybrid with ``table_regions``
  (where to look), both as "x0,y_top,x1,y_bottom" in PDF space: given ``table_areas``, camelot 2.0's
  lattice keeps only the area's corners as joints (the whole table in one cell) and network and
  hybrid also return the page's other tables (seen on eu-001). A table is its ``df`` (camelot puts a
  spanning cell's text in its top-left slot) and its ``_bbox``. Lattice given a region drops the ruling
  lines that reach outside it (us-038 scores 0 at 5 pt, 1 at 15 pt).
* ``pdfplumber``: ``page.find_tables()`` then ``table.extract()`` on every page: exactly what
  ``page.extract_tables()`` returns with default settings, plus each table's bbox for matching;
  regions: the same on ``page.crop(region)``.

A tool raising on a document scores nothing there (the document still counts, with P = R = 0): it is
counted in "failed" and listed after the tables, and the run goes on. s/page is the tool's wall time
(``time.perf_counter`` around the tool's own calls only: imports done beforehand, ground truth and
matching characters loaded outside the clock) over the pages it was given: all pages of the documents
in ``detect``, the pages holding a true region in ``regions``.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import inspect
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.icdar_metric import (  # noqa: E402
    Box,
    Cell,
    DocumentScore,
    Region,
    Summary,
    Table,
    grid_cells,
    load_truth,
    score_alternatives,
    summarise,
)

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "icdar2013"
HALVES = {"EU": "competition-dataset-eu", "US": "competition-dataset-us"}
TOOLS = ["soetl", "camelot-lattice", "camelot-stream", "camelot-network", "camelot-hybrid", "pdfplumber"]
MODES = {"detect": "detection + structure (whole documents)", "regions": "structure given the true regions"}
Regions = list[Region] | None  # None: find the tables yourself


@dataclass
class Document:
    name: str
    half: str
    pdf: Path
    pages: int
    truths: list[list[Table]]  # the ground truth, then its alternatives
    chars: dict[int, list[Box]]  # 1-based page -> its characters, for matching tables by their content
    sizes: dict[int, tuple[float, float]]  # 1-based page -> (width, height)

    @property
    def heights(self) -> dict[int, float]:
        return {page: size[1] for page, size in self.sizes.items()}

    @property
    def regions(self) -> list[Region]:
        return [region for table in self.truths[0] for region in table.regions]


@dataclass
class ToolRun:
    seconds: dict[str, float] = field(default_factory=dict)  # document -> the tool's wall time on it
    pages: dict[str, int] = field(default_factory=dict)  # document -> pages the tool was given
    scores: dict[str, DocumentScore] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    unavailable: str | None = None


class Unavailable(Exception):
    """The tool cannot run at all (its interface is missing); said once, not counted per document."""


# --- ground truth ------------------------------------------------------------------------------------


def load_documents(corpus: Path, patterns: Sequence[str] | None) -> list[Document]:
    import pdfplumber

    docs = []
    for half, folder in HALVES.items():
        for pdf in sorted((corpus / folder).glob("*.pdf")):
            if patterns and not any(fnmatch.fnmatch(pdf.stem, p) for p in patterns):
                continue
            with pdfplumber.open(pdf) as doc:
                sizes = {page.page_number: (float(page.width), float(page.height)) for page in doc.pages}
                heights = {page: size[1] for page, size in sizes.items()}
                chars = {
                    page.page_number: [
                        (c["x0"], c["top"], c["x1"], c["bottom"]) for c in page.chars if c["text"].strip()
                    ]
                    for page in doc.pages
                }
                pages = len(doc.pages)
            variants = [pdf.stem] + ([pdf.stem[:-1] + "b"] if pdf.stem.endswith("a") else [])
            truths = [
                load_truth(
                    (pdf.parent / f"{v}-str.xml").read_text(encoding="utf-8"),
                    (pdf.parent / f"{v}-reg.xml").read_text(encoding="utf-8"),
                    heights,
                )
                for v in variants
                if (pdf.parent / f"{v}-str.xml").is_file()
            ]
            docs.append(Document(pdf.stem, half, pdf, pages, truths, chars, sizes))
    return docs


def padded(region: Region, pad: float, width: float, height: float) -> Region:
    x0, top, x1, bottom = region.bbox
    return Region(
        region.page, (max(0.0, x0 - pad), max(0.0, top - pad), min(width, x1 + pad), min(height, bottom + pad))
    )


# --- the tools ---------------------------------------------------------------------------------------


def tables_from_document(document: dict) -> list[Table]:
    """soetl's result document (``result_document``) as metric tables."""
    out = []
    for t in document.get("tables", []):
        cells = [
            Cell(
                int(c["row"]),
                int(c["col"]),
                c.get("text") or "",
                int(c.get("row_span") or 1),
                int(c.get("col_span") or 1),
            )
            for c in t.get("cells", [])
        ]
        pieces = t.get("pieces") or [{"page": t.get("page"), "bbox": t.get("bbox")}]
        regions = [Region(int(p["page"]), tuple(float(v) for v in p["bbox"])) for p in pieces if p.get("bbox")]
        out.append(Table(cells, regions, str(t.get("id", len(out) + 1))))  # type: ignore[arg-type]
    return out


def run_soetl(pdf: Path, regions: Regions) -> list[Table]:
    try:
        from extractors.document import result_document
        from extractors.extract import extract_pdf
    except ImportError as exc:
        raise Unavailable(f"cannot import its interface: {exc}") from None
    params = inspect.signature(extract_pdf).parameters
    if regions is not None and "regions" not in params:
        raise Unavailable("extract_pdf has no regions= parameter")
    kwargs: dict[str, object] = {"kind": "generic"}
    if regions is not None:
        kwargs["regions"] = [(r.page, r.bbox) for r in regions]
    return tables_from_document(result_document(extract_pdf(pdf, **kwargs)))


def camelot_tables(found: object, heights: dict[int, float]) -> list[Table]:
    out = []
    for t in found:  # type: ignore[attr-defined]
        page = int(t.page)
        x0, y0, x1, y1 = t._bbox  # PDF space, origin bottom-left
        h = heights[page]
        out.append(Table(grid_cells(t.df.values.tolist()), [Region(page, (x0, h - y1, x1, h - y0))]))
    return out


def camelot_runner(flavor: str) -> Callable[[Path, Regions, dict[int, float]], list[Table]]:
    # Given regions, stream reads exactly the area it is given (table_areas); lattice, network and hybrid
    # are told where to look instead (table_regions): with table_areas camelot 2.0's lattice keeps only
    # the area's corners as joints (the whole table in one cell) and network/hybrid return the page's
    # other tables too (seen on eu-001).
    option = "table_areas" if flavor == "stream" else "table_regions"

    def run(pdf: Path, regions: Regions, heights: dict[int, float]) -> list[Table]:
        import camelot

        if regions is None:
            return camelot_tables(camelot.read_pdf(str(pdf), pages="all", flavor=flavor), heights)
        out: list[Table] = []
        for page in sorted({r.page for r in regions}):
            h = heights[page]
            boxes = [r.bbox for r in regions if r.page == page]
            areas = [f"{x0},{h - top},{x1},{h - bottom}" for x0, top, x1, bottom in boxes]
            found = camelot.read_pdf(str(pdf), pages=str(page), flavor=flavor, **{option: areas})
            out += camelot_tables(found, heights)
        return out

    return run


def run_pdfplumber(pdf: Path, regions: Regions) -> list[Table]:
    import pdfplumber

    out: list[Table] = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            areas = [page] if regions is None else [page.crop(r.bbox) for r in regions if r.page == page.page_number]
            for area in areas:
                for t in area.find_tables():
                    out.append(Table(grid_cells(t.extract()), [Region(page.page_number, tuple(t.bbox))]))
            page.close()
    return out


def run_tool(tool: str, doc: Document, regions: Regions) -> list[Table]:
    if tool == "soetl":
        return run_soetl(doc.pdf, regions)
    if tool == "pdfplumber":
        return run_pdfplumber(doc.pdf, regions)
    return camelot_runner(tool.removeprefix("camelot-"))(doc.pdf, regions, doc.heights)


# --- the run -----------------------------------------------------------------------------------------


def evaluate(
    docs: Sequence[Document], tools: Sequence[str], modes: Sequence[str], pad: float
) -> dict[str, dict[str, ToolRun]]:
    runs = {mode: {tool: ToolRun() for tool in tools} for mode in modes}
    for k, doc in enumerate(docs, 1):
        for mode in modes:
            regions = None
            if mode == "regions":
                regions = [padded(r, pad, *doc.sizes[r.page]) for r in doc.regions]
            for tool in tools:
                run = runs[mode][tool]
                if run.unavailable:
                    continue
                start = time.perf_counter()
                try:
                    found = run_tool(tool, doc, regions)
                except Unavailable as exc:
                    run.unavailable = str(exc)
                    continue
                except Exception as exc:  # one tool failing on one PDF scores 0 there; the run goes on
                    run.failures.append(f"{doc.name}: {type(exc).__name__}: {exc}"[:300])
                    found = []
                run.seconds[doc.name] = time.perf_counter() - start
                run.pages[doc.name] = doc.pages if regions is None else len({r.page for r in regions})
                run.scores[doc.name] = score_alternatives(doc.truths, found, doc.chars)
        print(f"[{k}/{len(docs)}] {doc.name}", file=sys.stderr, flush=True)
    for mode_runs in runs.values():
        for run in mode_runs.values():
            if not run.unavailable and run.scores and len(run.failures) == len(run.scores):
                kinds = {f.split(": ", 2)[1] for f in run.failures}
                if len(kinds) == 1:
                    run.unavailable = f"raised {kinds.pop()} on every document, e.g. {run.failures[0]}"
    return runs


def summaries(run: ToolRun, docs: Sequence[Document]) -> dict[str, Summary]:
    groups = {half: [d.name for d in docs if d.half == half] for half in HALVES}
    groups["all"] = [d.name for d in docs]
    return {g: summarise([run.scores[n] for n in names if n in run.scores]) for g, names in groups.items() if names}


def report(runs: dict[str, dict[str, ToolRun]], docs: Sequence[Document]) -> str:
    out = []
    for mode, mode_runs in runs.items():
        for group in [*HALVES, "all"]:
            names = [d for d in docs if group == "all" or d.half == group]
            if not names:
                continue
            n_truth = sum(len(d.truths[0]) for d in names)
            out.append(
                f"\n{MODES[mode]} | {group}: {len(names)} PDFs, {sum(d.pages for d in names)} pages, {n_truth} tables"
            )
            header = ["tool", "P", "R", "F1", "F1/doc", "F1 pool", "found", "matched", "failed", "s/page"]
            rows = []
            for tool, run in mode_runs.items():
                if run.unavailable:
                    rows.append([tool, f"not available ({run.unavailable})"])
                    continue
                in_group = [d.name for d in names if d.name in run.scores]
                s = summarise([run.scores[n] for n in in_group])
                fails = sum(f.split(":")[0] in in_group for f in run.failures)
                pages = sum(run.pages[n] for n in in_group)
                seconds = sum(run.seconds[n] for n in in_group)
                rows.append(
                    [
                        tool,
                        f"{s.precision:.3f}",
                        f"{s.recall:.3f}",
                        f"{s.f1:.3f}",
                        f"{s.mean_f1:.3f}",
                        f"{s.micro_f1:.3f}",
                        str(s.result_tables),
                        f"{s.matched_tables}/{s.truth_tables}",
                        str(fails),
                        f"{seconds / pages:.3f}" if pages else "-",
                    ]
                )
            out.append(align(header, rows))
    for mode, mode_runs in runs.items():
        for tool, run in mode_runs.items():
            for failure in run.failures:
                out.append(f"{mode} {tool} failed on {failure}")
    return "\n".join(out)


def align(header: list[str], rows: list[list[str]]) -> str:
    full = [r for r in rows if len(r) == len(header)]
    widths = [max(len(str(r[i])) for r in [header, *full]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        if len(cells) != len(header):
            return f"{cells[0]:<{widths[0]}}  {cells[1]}"
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def as_json(runs: dict[str, dict[str, ToolRun]], docs: Sequence[Document], pad: float) -> dict:
    return {
        "pad": pad,
        "documents": {d.name: {"half": d.half, "pages": d.pages, "tables": len(d.truths[0])} for d in docs},
        "modes": {
            mode: {
                tool: {
                    "unavailable": run.unavailable,
                    "seconds": run.seconds,
                    "pages": run.pages,
                    "failures": run.failures,
                    "summary": {g: asdict(s) for g, s in summaries(run, docs).items()},
                    "documents": {
                        name: {"precision": s.precision, "recall": s.recall, "f1": s.f1, **asdict(s)}
                        for name, s in run.scores.items()
                    },
                }
                for tool, run in mode_runs.items()
            }
            for mode, mode_runs in runs.items()
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the icdar2013 folder")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {','.join(TOOLS)}")
    parser.add_argument("--docs", default="", help="comma-separated names or globs, e.g. 'eu-*,us-001'")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--pad", type=float, default=5.0, help="points added around each true region (regions mode)")
    parser.add_argument("--json", type=Path, help="write every per-document figure here")
    args = parser.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if unknown := [t for t in tools if t not in TOOLS]:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(TOOLS)}")
    if not all((args.corpus / folder).is_dir() for folder in HALVES.values()):
        print(f"ICDAR 2013 corpus not found at {args.corpus}: skipped")
        return
    logging.disable(logging.WARNING)  # pdfminer and soetl log every recoverable oddity
    warnings.simplefilter("ignore")  # camelot warns on every page without a table
    import camelot  # noqa: F401  imports before any clock starts
    import pdfplumber  # noqa: F401

    try:
        import extractors.extract  # noqa: F401
        import extractors.statements  # noqa: F401  imported by the first document otherwise
    except Exception:  # reported as "not available" by its runner
        pass
    docs = load_documents(args.corpus, [p.strip() for p in args.docs.split(",") if p.strip()] or None)
    if not docs:
        parser.error(f"no document matches --docs {args.docs!r}")
    modes = list(MODES) if args.mode == "both" else [args.mode]
    # The ground truth and the chars of all 67 documents stay in memory for scoring: without this,
    # each of Python's full garbage collections walks them again inside some tool's clock.
    gc.freeze()
    runs = evaluate(docs, tools, modes, args.pad)
    print(
        f"python {sys.version.split()[0]}, camelot {camelot.__version__}, pdfplumber {pdfplumber.__version__}; "
        f"regions padded by {args.pad:g} pt; metric: benchmarks/icdar_metric.py"
    )
    print(
        "F1 = harmonic mean of the per-document averages of P and R (the competition's); F1/doc = mean of "
        "per-document F1; F1 pool = over all relations; found = result tables; matched = matched/true tables"
    )
    print(report(runs, docs))
    if args.json:
        args.json.write_text(json.dumps(as_json(runs, docs, args.pad), indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
