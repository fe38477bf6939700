"""The audit report of a validation run: one self-contained HTML page and the same content as JSON.

A reader must be able to verify a failure without opening the PDF: every failing relation shows the
printed numbers, what they should be, the tolerance, and a crop of the source page with the cells
involved outlined (red: a failure; amber: a known inconsistency of the published data; the thicker
outline marks the cell implicated by the most failures). Images are PNG files under ``evidence/`` for
the JSON and the same PNGs inlined as data URIs in the HTML, so the page works from disk, served, or
mailed on its own.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pdfplumber

from extractors.datasets import Curated
from schemas.chart_flags import chart_flags, chart_flags_html
from schemas.checks import Instance
from schemas.dictionary import datasets
from schemas.validate import CheckResult, ValidationRun
from schemas.values import BBox, CellRef

RESOLUTION = 150
_CHART_FLAGS = "<!-- chart points withheld -->"  # where schemas.chart_flags' section goes
MAX_IMAGES_PER_CHECK = 12
MAX_ROWS_SHOWN = 200
_RED = (220, 0, 0)
_AMBER = (230, 140, 0)
_MARGIN = 10.0  # pt around a table region
_CAPTION = 30.0  # pt above it, so the crop shows the table's caption


@dataclass
class Evidence:
    source_id: str
    page: int
    table_id: str | None
    crop: BBox | None  # None: the whole page (a chart point has a page, no box)
    rects: list[dict[str, Any]] = field(default_factory=list)
    image: str | None = None  # relative path of the PNG
    data_uri: str = ""
    size: tuple[int, int] = (0, 0)
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "page": self.page,
            "table_id": self.table_id,
            "crop_bbox": list(self.crop) if self.crop else None,
            "resolution": RESOLUTION,
            "image": self.image,
            "image_size": list(self.size),
            "outlined": self.rects,
            "problem": self.problem,
        }


def write_report(
    run: ValidationRun,
    curated: dict[str, Curated],
    pdf_paths: dict[str, Path],
    out_dir: Path,
    run_id: str,
    *,
    outcome: dict[str, Any] | None = None,
) -> Path:
    """Write ``out_dir/<run_id>/index.html`` and ``report.json``; return the HTML's path.

    ``outcome`` is what the flow knows beyond validation: ``sources`` (every source of the run with its url,
    fetch status, fetched_at, sha256, pages, tables, figures, problems and errors), ``errors`` (every
    failure, named), ``published`` and ``failed_datasets``. Without it the report speaks of the checks only.
    """
    folder = Path(out_dir) / run_id
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    implicated = _implicated(run)
    with _Pdfs(pdf_paths) as pdfs:
        evidence = {
            id(result): _evidence(result, curated, pdfs, folder, implicated)
            for result in run.results
            if result.failures
        }
        from schemas.report_reconcile import reconciliation_section  # issue 14: stated figures side by side

        side_by_side, side_items = reconciliation_section(run, curated, pdfs, folder)
        flags = chart_flags(curated, pdfs.page, folder)
    sources = _sources(run, pdf_paths, outcome)
    errors = list((outcome or {}).get("errors", []))
    content = {
        "run_id": run_id,
        "generated_at": datetime.now(UTC).isoformat(),
        "headline": headline(run, errors),
        "sources": sources,
        "errors": errors,
        "published": (outcome or {}).get("published"),
        **{k: v for k, v in run.to_dict().items() if k != "sources"},
        "most_implicated_cells": [
            {"cell": ref.to_dict(), "failed_relations": n} for ref, n in _top_implicated(run, implicated)
        ],
        "evidence": {r.name + "@" + r.dataset: [e.to_dict() for e in evidence.get(id(r), [])] for r in run.results},
        "side_by_side": side_items,
        "chart_points_withheld": [{k: v for k, v in f.items() if k != "data_uri"} for f in flags],
    }
    (folder / "report.json").write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    page = _html(run, run_id, content, evidence, implicated, side_by_side).replace(
        _CHART_FLAGS, chart_flags_html(flags), 1
    )
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder / "index.html"


# ---------------------------------------------------------------- evidence images


class _Pdfs:
    """Opens each source PDF once for all crops of a report."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths
        self.open: dict[str, pdfplumber.PDF] = {}

    def __enter__(self) -> _Pdfs:
        return self

    def __exit__(self, *exc: object) -> None:
        for pdf in self.open.values():
            pdf.close()

    def page(self, source_id: str, number: int) -> Any:
        if source_id not in self.open:
            path = self.paths.get(source_id)
            if path is None or not Path(path).exists():
                return None
            self.open[source_id] = pdfplumber.open(path)
        pdf = self.open[source_id]
        return pdf.pages[number - 1] if 0 < number <= len(pdf.pages) else None


def _implicated(run: ValidationRun) -> Counter[tuple[str, str, int, str]]:
    """How many failed relations each cell takes part in: the likeliest culprit is in most of them."""
    counts: Counter[tuple[str, str, int, str]] = Counter()
    for result in run.results:
        for inst in result.failures:
            if inst.status == "failed":
                for key in {c.key for c in inst.cells}:
                    counts[key] += 1
    return counts


def _top_implicated(run: ValidationRun, counts: Counter[tuple[str, str, int, str]]) -> list[tuple[CellRef, int]]:
    refs: dict[tuple[str, str, int, str], CellRef] = {}
    for result in run.results:
        for inst in result.failures:
            for cell in inst.cells:
                refs.setdefault(cell.key, cell)
    top = [(refs[k], n) for k, n in counts.most_common() if n > 1][:10]
    return top


def _evidence(
    result: CheckResult,
    curated: dict[str, Curated],
    pdfs: _Pdfs,
    folder: Path,
    implicated: Counter[tuple[str, str, int, str]],
) -> list[Evidence]:
    # One image per table page (or text page) the failing cells are on, outlining them all.
    groups: dict[tuple[str, str | None, int], dict[tuple[str, str, int, str], tuple[CellRef, str]]] = {}
    for inst in result.failures:
        for cell in inst.cells:
            if cell.page is None:
                continue
            group = groups.setdefault((cell.source_id, cell.table_id, cell.page), {})
            status = (
                "failed" if inst.status == "failed" or group.get(cell.key, (None, ""))[1] == "failed" else inst.status
            )
            group[cell.key] = (cell, status)
    out: list[Evidence] = []
    for n, ((source_id, table_id, page_no), cells) in enumerate(sorted(groups.items(), key=lambda g: str(g[0]))):
        if n >= MAX_IMAGES_PER_CHECK:
            break
        ev = Evidence(source_id, page_no, table_id, None)
        page = pdfs.page(source_id, page_no)
        if page is None:
            ev.problem = "the source PDF is not available to this report"
            out.append(ev)
            continue
        boxes = [c.bbox for c, _ in cells.values() if c.bbox]
        ev.crop = _crop_box(page, curated.get(source_id), table_id, page_no, boxes)
        try:
            shown = page.crop(ev.crop, strict=False) if ev.crop else page
            image = shown.to_image(resolution=RESOLUTION if ev.crop else 72)
        except Exception as exc:  # noqa: BLE001 - a page that will not render must not lose the report
            ev.problem = f"the page could not be rendered: {exc}"
            out.append(ev)
            continue
        standout = _standouts([c for c, status in cells.values() if status == "failed"], implicated)
        for cell, status in cells.values():
            if not cell.bbox:
                continue
            primary = cell.key in standout
            color = _RED if status == "failed" else _AMBER
            image.draw_rect(cell.bbox, fill=(*color, 28), stroke=color, stroke_width=4 if primary else 2)
            ev.rects.append(
                {
                    "bbox": [round(v, 3) for v in cell.bbox],
                    "px": list(image._reproject_bbox(cell.bbox)),
                    "color": "red" if status == "failed" else "amber",
                    "status": status,
                    "most_implicated": primary,
                    "cell": cell.to_dict(),
                }
            )
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
        name = f"{_slug(result.name)}-{_slug(result.dataset)}-{hashlib.sha1(data).hexdigest()[:10]}.png"
        (folder / "evidence" / name).write_bytes(data)
        ev.image = f"evidence/{name}"
        ev.data_uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        ev.size = image.annotated.size
        out.append(ev)
    return out


def _standouts(cells: list[CellRef], implicated: Counter[tuple[str, str, int, str]]) -> set[tuple[str, str, int, str]]:
    """The cells in more failed relations than the others shown with them (none when all are equal)."""
    counts = {c.key: implicated.get(c.key, 0) for c in cells}
    if not counts or max(counts.values()) == min(counts.values()):
        return set()
    peak = max(counts.values())
    return {k for k, n in counts.items() if n == peak}


def _crop_box(page: Any, curated: Curated | None, table_id: str | None, page_no: int, boxes: list[BBox]) -> BBox | None:
    if not boxes:
        return None
    region: list[float] = [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]
    table = curated.tables.get(table_id) if curated is not None and table_id else None
    if table is not None:
        for p, bbox in zip(table.provenance.pages, table.provenance.bboxes, strict=False):
            if p == page_no:
                region = [
                    min(region[0], bbox[0]),
                    min(region[1], bbox[1]),
                    max(region[2], bbox[2]),
                    max(region[3], bbox[3]),
                ]
        region = [region[0] - _MARGIN, region[1] - _CAPTION, region[2] + _MARGIN, region[3] + _MARGIN]
    else:  # a figure stated in the text: the lines around it, full text width
        region = [min(region[0], 40.0), region[1] - 40, max(region[2], float(page.width) - 40), region[3] + 40]
    x0, top, x1, bottom = page.bbox
    return (max(x0, region[0]), max(top, region[1]), min(x1, region[2]), min(bottom, region[3]))


def _anchor(result: CheckResult) -> str:
    return _slug(result.name + "-" + result.dataset)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in text).strip("-")[:60] or "x"


def headline(run: ValidationRun, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The verdict at the top: green only when nothing failed and every check ran and passed."""
    counts = run.counts()
    why = run.why_not_published()
    sources = sorted({e["source_id"] for e in errors if e.get("source_id") != "*"})
    parts = []
    if errors:
        parts.append(f"{len(errors)} failure(s)" + (f" in source(s) {', '.join(sources)}" if sources else ""))
    if counts["failed"]:
        held = sorted(run.held_back())
        parts.append(f"{counts['failed']} check(s) failed, so {', '.join(sorted(why))} not published"
                     + (f" for {len(held)} source(s): {', '.join(held)}" if held else ""))  # fmt: skip
    if parts:
        return {"status": "failed", "text": "This run failed: " + "; ".join(parts) + "."}
    if counts["run"] == 0:
        return {"status": "failed", "text": "No check ran: nothing in this run was validated."}
    if counts["skipped"]:
        return {
            "status": "incomplete",
            "text": f"All {counts['run']} checks that ran passed, but {counts['skipped']} could not run on this "
            "run's data (marked skipped below, with the reason): this run is not fully checked.",
        }
    findings = f" ({counts['finding']} known inconsistencies of the published data, shown below)" if counts[
        "finding"
    ] else ""
    return {
        "status": "passed",
        "text": f"Every source was fetched and extracted, and all {counts['run']} checks ran and passed{findings}.",
    }


def _sources(run: ValidationRun, pdf_paths: dict[str, Path], outcome: dict[str, Any] | None) -> list[dict[str, Any]]:
    if outcome is not None and outcome.get("sources") is not None:
        rows = []
        for row in outcome["sources"]:
            path = pdf_paths.get(row["source"])
            rows.append(
                {
                    "source_id": row["source"],
                    "url": row.get("url"),
                    "fetch": row.get("fetch"),
                    "fetched_at": row.get("fetched_at") or None,
                    "file": Path(path).name if path else None,
                    "sha256": row.get("sha256") or run.sources.get(row["source"]),
                    "kind": row.get("kind"),
                    "year": row.get("year"),
                    "extraction": row.get("extraction"),  # extracted this run, or cached
                    "pages": row.get("pages"),
                    "tables": row.get("tables"),
                    "figures": row.get("figures"),
                    "problems": row.get("problems", []),
                    "errors": row.get("errors", []),
                }
            )
        return rows
    out = []
    for source_id in sorted(set(run.sources) | set(pdf_paths)):
        path = pdf_paths.get(source_id)
        sha = run.sources.get(source_id)
        if sha is None and path is not None and Path(path).exists():
            sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        out.append({"source_id": source_id, "file": Path(path).name if path else None, "sha256": sha})
    return out


# ---------------------------------------------------------------- HTML


_CSS = """
:root { --ink:#1d232a; --muted:#5b6570; --line:#d9dee3; --bg:#f7f8fa; --ok:#1f7a3a; --bad:#b3261e;
        --warn:#a25b00; --skip:#6b7280; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.55 "Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
       color:var(--ink); background:var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 64px; background:#fff; min-height:100vh; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 8px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 22px 0 6px; }
.meta { color: var(--muted); font-size: .9rem; }
.cards { display:flex; gap:12px; flex-wrap:wrap; margin: 18px 0; }
.card { flex: 1 1 120px; border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
.card b { display:block; font-size:1.7rem; line-height:1.2; }
.card.failed b { color:var(--bad); } .card.passed b { color:var(--ok); } .card.finding b { color:var(--warn); }
table { border-collapse: collapse; width:100%; font-size:.9rem; margin: 6px 0 10px; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
th { background:#f0f2f5; font-weight:600; }
td.num { text-align:right; font-variant-numeric: tabular-nums; white-space:nowrap; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size:.85em; word-break: break-all; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:.78rem; font-weight:600; color:#fff; }
.badge.passed { background:var(--ok); } .badge.failed { background:var(--bad); }
.badge.finding { background:var(--warn); } .badge.skipped { background:var(--skip); }
.check { border:1px solid var(--line); border-left:5px solid var(--line); border-radius:6px;
         padding:8px 14px; margin:12px 0; }
.check.failed { border-left-color: var(--bad); } .check.finding { border-left-color: var(--warn); }
.check.skipped { border-left-color: var(--skip); }
.why { background:#fff7e6; border:1px solid #f0d9a8; padding:8px 12px; border-radius:6px; white-space: pre-wrap; }
.alert { background:#fdecea; border:1px solid #f5c2bd; padding:10px 14px; border-radius:6px; }
table.passed td { font-size: .85rem; } ul.attention { padding-left: 18px; }
.okbox { background:#e9f5ec; border:1px solid #b9dfc4; padding:10px 14px; border-radius:6px; }
.warnbox { background:#fff7e6; border:1px solid #f0d9a8; padding:10px 14px; border-radius:6px; }
.bad { color: var(--bad); font-weight: 600; } pre { white-space: pre-wrap; font-size: .8rem; }
figure { margin: 12px 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width:100%; border:1px solid var(--line); display:block; }
figcaption { color:var(--muted); font-size:.85rem; margin-top:4px; }
nav { font-size:.9rem; } nav a { margin-right: 12px; }
details summary { cursor:pointer; color:var(--muted); }
@media print {
  body { background:#fff; font-size: 10.5pt; } main { max-width:none; padding:0; }
  nav, .noprint { display:none; } a { color: inherit; text-decoration: none; }
  .check, tr { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  details > *:not(summary) { display:block; }
}
"""

# Lets a headless browser (and a curious reader) tell that every evidence image decoded.
_SCRIPT = """
(function () {
  function done() {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
    document.body.setAttribute("data-images-loaded", ok ? "true" : "false");
    document.body.setAttribute("data-images-count", String(imgs.length));
  }
  if (document.readyState === "complete") { done(); } else { window.addEventListener("load", done); }
})();
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return _e(text)
    return _e(value)


def _where(cell: CellRef) -> str:
    if cell.dataset == "stated":
        return f"text, p.{cell.page}"
    place = f"{cell.table_id or ''} p.{cell.page}" if cell.page else "(no page)"
    box = f" [{', '.join(f'{v:.1f}' for v in cell.bbox)}]" if cell.bbox else ""
    return f"{place}{box}"


def _cells_html(inst: Instance, implicated: Counter[tuple[str, str, int, str]]) -> str:
    items = []
    standout = _standouts(inst.cells, implicated) if inst.status == "failed" else set()
    for cell in inst.cells:
        strong = cell.key in standout
        label = _e(cell.label or f"{cell.dataset}[{cell.row}].{cell.column}")
        address = f"{_e(cell.dataset)} row {cell.row} · {_e(cell.column)}"
        text = f" <b>{_e(cell.text)}</b>" if cell.text is not None else ""
        item = f"{label}{text} <span class='meta'>({address}; {_e(_where(cell))})</span>"
        items.append(f"<li>{'<strong>' + item + '</strong>' if strong else item}</li>")
    return "<ul style='margin:0;padding-left:18px'>" + "".join(items) + "</ul>"


def _check_html(result: CheckResult, evidence: list[Evidence], implicated: Counter[tuple[str, str, int, str]]) -> str:
    parts = [f"<section class='check {result.status}' id='{_e(_anchor(result))}'>"]
    parts.append(
        f"<h3><span class='badge {result.status}'>{_e(result.status)}</span> {_e(result.name)}</h3>"
        f"<p>{_e(result.description)}</p>"
    )
    if result.worst is not None:
        w = result.worst
        parts.append(
            f"<p class='meta'>{result.checked} relation(s) tested. "
            f"{'Worst' if result.status != 'passed' else 'Closest to its tolerance'}: {_e(w.key)} — observed "
            f"<b>{_num(w.observed)}</b>, expected <b>{_num(w.expected)}</b>, tolerance ±{_num(w.tolerance)}.</p>"
        )
    if result.reason:
        parts.append(f"<p class='meta'>{_e(result.reason)}</p>")
    for finding in result.findings:
        parts.append(
            f"<div class='why'><b>Known inconsistency — {_e(finding['instance'])}.</b> {_e(finding['why'])}</div>"
        )
    if result.failures:
        rows = []
        for inst in result.failures[:MAX_ROWS_SHOWN]:
            deviation = (
                _num(float(inst.observed) - float(inst.expected))
                if isinstance(inst.observed, int | float) and isinstance(inst.expected, int | float)
                else ""
            )
            tolerance = "±" + _num(inst.tolerance) if inst.tolerance is not None else ""
            rows.append(
                f"<tr><td><span class='badge {inst.status}'>{_e(inst.status)}</span><br>{_e(inst.key)}"
                f"{'<br><span class=meta>' + _e(inst.note) + '</span>' if inst.note else ''}</td>"
                f"<td class='num'>{_num(inst.observed)}</td><td class='num'>{_num(inst.expected)}</td>"
                f"<td class='num'>{deviation}</td><td class='num'>{tolerance}</td>"
                f"<td>{_cells_html(inst, implicated)}</td></tr>"
            )
        more = len(result.failures) - MAX_ROWS_SHOWN
        parts.append(
            "<table><thead><tr><th>relation</th><th>observed</th><th>expected</th><th>deviation</th>"
            "<th>tolerance</th><th>printed cells (dataset row · column; table, page, box in pt)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            + (f"<p class='meta'>… and {more} more in report.json.</p>" if more > 0 else "")
        )
    for ev in evidence:
        if ev.problem:
            parts.append(f"<p class='meta'>Evidence for {_e(ev.table_id)} page {ev.page}: {_e(ev.problem)}</p>")
            continue
        outlined = "; ".join(
            f"{r['cell']['label'] or r['cell']['column']} “{r['cell']['text']}”" for r in ev.rects[:12]
        ) + (" …" if len(ev.rects) > 12 else "")
        what = f"{ev.table_id} — " if ev.table_id else ("text — " if ev.crop else "")
        parts.append(
            f"<figure><img src='{ev.data_uri}' alt='{_e(what)}page {ev.page} of {_e(ev.source_id)}' "
            f"width='{ev.size[0]}' height='{ev.size[1]}' style='width:{min(ev.size[0], 1040)}px;height:auto'>"
            f"<figcaption>{_e(ev.source_id)}, {_e(what)}page {ev.page}"
            f"{' (whole page: the cells have no box)' if ev.crop is None else ''}. Outlined: {_e(outlined)}"
            "</figcaption></figure>"
        )
    parts.append("</section>")
    return "".join(parts)


def _sources_html(sources: list[dict[str, Any]]) -> str:
    if not sources:
        return "<h2>Sources</h2><p class='alert'>This run had no source to read.</p>"
    detailed = "fetch" in sources[0]
    heads = (
        ["source", "url", "fetch", "fetched at", "sha256", "pages", "tables", "figures", "errors"]
        if detailed
        else ["source", "file", "sha256"]
    )
    rows = []
    for src in sources:
        if not detailed:
            cells = [_e(src["source_id"]), _e(src["file"]), f"<span class='mono'>{_e(src['sha256'])}</span>"]
        else:
            failed = str(src.get("fetch") or "").startswith("failed")
            notes = [f"<li>{_e(e['stage'])}: {_e(e['message'])}</li>" for e in src["errors"]]
            notes += [f"<li class='meta'>{_e(p)}</li>" for p in src["problems"]]
            cells = [
                _e(src["source_id"]),
                f"<span class='mono'>{_e(src['url'])}</span>",
                f"<span class='{'bad' if failed else ''}'>{_e(src['fetch'])}</span>",
                _e(src["fetched_at"] or "—"),
                f"<span class='mono'>{_e(src['sha256'] or '—')}</span>",
                *(f"<span class='num'>{_e(src[k])}</span>" for k in ("pages", "tables", "figures")),
                f"<ul class='attention'>{''.join(notes)}</ul>" if notes else "none",
            ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f"<h2>Sources</h2><table id='sources'><tr>{head}</tr>{''.join(rows)}</table>"


def _errors_html(errors: list[dict[str, Any]]) -> str:
    items = []
    for e in errors:
        where = f"{e['stage']} {e['dataset']}" if e.get("dataset") else e["stage"]
        trace = f"<details><summary>traceback</summary><pre>{_e(e['traceback'])}</pre></details>" if e.get(
            "traceback"
        ) else ""
        hint = f" — {_e(e['hint'])}" if e.get("hint") else ""
        items.append(f"<li><b>{_e(e['source_id'])}</b> [{_e(where)}]: {_e(e['message'])}{hint}{trace}</li>")
    return f"<h2>Failures</h2><ul class='attention' id='failures'>{''.join(items)}</ul>"


def _html(
    run: ValidationRun,
    run_id: str,
    content: dict[str, Any],
    evidence: dict[int, list[Evidence]],
    implicated: Counter[tuple[str, str, int, str]],
    side_by_side: str = "",
) -> str:
    counts = run.counts()
    dictionary = datasets()
    out = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>soetl audit report {_e(run_id)}</title><style>{_CSS}</style></head>",
        "<body><main>",
        f"<h1>Audit report</h1><p class='meta'>run {_e(run_id)} · generated {_e(content['generated_at'])}</p>",
        "<section id='summary' data-run-id='"
        + _e(run_id)
        + "' "
        + " ".join(f"data-{k}='{v}'" for k, v in counts.items())
        + ">",
        "<div class='cards'>",
        *(
            f"<div class='card {k}'><b>{counts[k]}</b>{label}</div>"
            for k, label in (
                ("run", "checks run"),
                ("passed", "passed"),
                ("failed", "failed"),
                ("finding", "known findings"),
                ("skipped", "skipped"),
            )
        ),
        "</div>",
    ]
    verdict = content["headline"]
    box = {"passed": "okbox", "incomplete": "warnbox", "failed": "alert"}[verdict["status"]]
    out.append(f"<div class='{box}' id='headline' data-status='{verdict['status']}'><b>{_e(verdict['text'])}</b></div>")
    why = run.why_not_published()
    if why:
        held = run.held_back()
        whose = {d: sorted(s for s, datasets in held.items() if d in datasets) for d in why}
        items = "".join(f"<li><b>{_e(d)}</b> of {_e(', '.join(whose[d]) or 'every source')}: {_e(', '.join(c))}</li>"
                        for d, c in sorted(why.items()))  # fmt: skip
        out.append("<div class='alert'><b>Not published</b> (a check on their cells failed; the other sources' "
                   f"files of these datasets are):<ul>{items}</ul></div>")  # fmt: skip
    out.append(_sources_html(content["sources"]))
    if content["errors"]:
        out.append(_errors_html(content["errors"]))
    top = content["most_implicated_cells"]
    if top:
        out.append(
            "<h3>Cells in the most failed relations</h3><table>"
            "<tr><th>cell</th><th>printed</th><th>where</th><th>failed relations</th></tr>"
        )
        for item in top:
            cell = item["cell"]
            box = ", ".join(f"{v:.1f}" for v in cell["bbox"]) if cell["bbox"] else ""
            out.append(
                f"<tr><td>{_e(cell['label'])}<br><span class='meta'>{_e(cell['dataset'])} row {cell['row']}"
                f" · {_e(cell['column'])}</span></td>"
                f"<td class='num'>{_e(cell['text'])}</td><td>{_e(cell['table_id'])} p.{_e(cell['page'])} [{box}]</td>"
                f"<td class='num'>{item['failed_relations']}</td></tr>"
            )
        out.append("</table>")
    out.append(
        "<p class='meta'>Tolerances come from printed precision: a printed number stands for any value within half a "
        "unit of its last digit, so a sum may be off by the sum of its terms' half-units and a ratio by the most its "
        "terms' half-units can move it, plus the result's own half-unit. Nothing is loosened beyond that.</p>"
    )
    order = [d for d in dictionary if any(r.dataset == d for r in run.results)]
    attention = [r for r in run.results if r.status in ("failed", "finding")]
    if attention:
        items = "".join(
            f"<li><span class='badge {r.status}'>{_e(r.status)}</span> <a href='#{_e(_anchor(r))}'>{_e(r.name)}</a> "
            f"<span class='meta'>({_e(r.dataset)}; {sum(i.status == r.status for i in r.failures)} relation(s))"
            "</span></li>"
            for r in attention
        )
        out.append(f"<h3>Needs attention</h3><ul class='attention'>{items}</ul>")
    out.append("</section>")
    out.append(
        "<nav class='noprint'>Datasets: " + "".join(f"<a href='#ds-{_e(d)}'>{_e(d)}</a>" for d in order) + "</nav>"
    )
    for name in order:
        results = [r for r in run.results if r.dataset == name]
        bad = [r for r in results if r.status in ("failed", "finding")]
        out.append(
            f"<h2 id='ds-{_e(name)}'>{_e(name)} <span class='meta'>— {_e(dictionary[name].title)}</span></h2>"
            f"<p class='meta'>{sum(r.status == 'passed' for r in results)} of {len(results)} checks passed"
            f"{'; ' + str(len(bad)) + ' need attention' if bad else ''}.</p>"
        )
        # What needs a reader comes first, in full; what passed is one line each.
        for result in sorted(bad, key=lambda r: (r.status != "failed", r.kind == "schema")):
            out.append(_check_html(result, evidence.get(id(result), []), implicated))
        passed = [r for r in results if r.status in ("passed", "skipped") and r.kind != "schema"]
        if passed:
            out.append(
                "<table class='passed'><thead><tr><th>check</th><th>what it checks</th><th>relations</th>"
                "<th>closest to its tolerance</th></tr></thead><tbody>"
            )
            for r in passed:
                w = r.worst
                closest = (
                    f"{_e(w.key)}: {_num(w.observed)} vs {_num(w.expected)} (±{_num(w.tolerance)})"
                    if w
                    else _e(r.reason)
                )
                out.append(
                    f"<tr id='{_e(_anchor(r))}'><td><span class='badge {r.status}'>{_e(r.status)}</span>"
                    f" {_e(r.name)}</td>"
                    f"<td>{_e(r.description)}</td><td class='num'>{r.checked}</td><td>{closest}</td></tr>"
                )
            out.append("</tbody></table>")
        schema_ok = [r for r in results if r.kind == "schema" and r.status in ("passed", "skipped")]
        if schema_ok:
            skipped = sum(r.status == "skipped" for r in schema_ok)
            items = "".join(
                f"<li>{_e(r.description)}{' — skipped: ' + _e(r.reason) if r.status == 'skipped' else ''}</li>"
                for r in schema_ok
            )
            out.append(
                f"<details><summary>{sum(r.status == 'passed' for r in schema_ok)} schema checks passed"
                f"{f', {skipped} skipped' if skipped else ''}"
                f"</summary><ul>{items}</ul></details>"
            )
    out.append(side_by_side)
    if run.stated_facts is not None:
        out.append(
            "<h2>Figures stated in the text</h2><table>"
            "<tr><th>figure</th><th>printed</th><th>where</th><th>sentence</th></tr>"
        )
        for fact in run.stated_facts:
            out.append(
                f"<tr><td>{_e(fact.name)}<br><span class='meta'>{_e(fact.description)}</span></td>"
                f"<td class='num'>{_e(fact.text)}</td><td>{_e(fact.source_id)} p.{fact.page}</td>"
                f"<td>…{_e(fact.quote)}…</td></tr>"
            )
        out.append("</table>")
    out.append(_CHART_FLAGS)
    out.append("<p class='meta noprint'>The same content as JSON: <a href='report.json'>report.json</a>.</p>")
    out.append(f"</main><script>{_SCRIPT}</script></body></html>")
    return "\n".join(out)
