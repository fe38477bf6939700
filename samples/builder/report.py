"""Typeset the annual report replica (中国服务外包发展报告2021) with WeasyPrint from its seed text.

HTML + CSS paged media: A4, the letter-spaced running header (the report's title on left pages, the
part's title on right pages), page numbers, real footnotes, tables in the original's three styles and a
chart at every 图 caption (raster PNG for most, SVG with real text for a few).
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path

from samples.builder import charts
from samples.builder.seedtext import Block, parse_report
from samples.builder.truth import DocumentTruth, TableTruth

HERE = Path(__file__).resolve().parent
TABLE_LAYOUT = HERE / "report_tables.toml"
DOC_ID = "annual_report_2021"
TITLE = "中国服务外包发展报告2021"

CSS = """
@page {
  size: A4;
  margin: 26mm 25mm 24mm 25mm;
  @bottom-center { content: counter(page); font: 9pt "Noto Serif CJK SC"; }
}
@page :left { @top-center { content: "中国服务外包发展报告2021"; font: 9pt "Noto Serif CJK SC";
  letter-spacing: 0.6em; border-bottom: 0.5pt solid #555; width: 100%; padding-bottom: 2mm; } }
@page :right { @top-center { content: string(part); font: 9pt "Noto Serif CJK SC";
  letter-spacing: 0.6em; border-bottom: 0.5pt solid #555; width: 100%; padding-bottom: 2mm; } }
@page part { @top-center { content: none; border: none; } @bottom-center { content: none; } }
html { font-family: "Noto Serif CJK SC"; font-size: 12pt; line-height: 1.8; text-align: justify; }
body { margin: 0; }
h1.part { page: part; break-before: page; string-set: part content(); font: bold 26pt "Noto Sans CJK SC";
  text-align: center; margin: 60mm 0 18mm 0; letter-spacing: 0.15em; }
p.part-intro { page: part; font-size: 13pt; }
h2.chapter { break-before: page; font: bold 18pt "Noto Sans CJK SC"; text-align: center;
  margin: 4mm 0 8mm 0; }
h3.section { font: bold 13pt "Noto Sans CJK SC"; margin: 5mm 0 2mm 0; break-after: avoid; }
p { text-indent: 2em; margin: 0; orphans: 2; widows: 2; }
.footnote { float: footnote; font-size: 8.5pt; line-height: 1.5; text-indent: 0; text-align: left; }
::footnote-call { content: counter(footnote); font-size: 7pt; vertical-align: super; line-height: 0; }
::footnote-marker { content: counter(footnote) " "; }
@page { @footnote { border-top: 0.5pt solid #333; padding-top: 1mm; margin-top: 3mm; } }
.footnote-reset { counter-reset: footnote; }
figure { margin: 4mm 0 3mm 0; break-inside: avoid; text-align: center; }
figure .caption, .table .caption { font: bold 10.5pt "Noto Sans CJK SC"; text-align: center; text-indent: 0;
  margin: 0 0 1mm 0; }
figure img { width: 150mm; }
.source { font-size: 9pt; text-indent: 0; text-align: left; line-height: 1.5; margin-top: 1mm; }
.table { margin: 4mm 0 3mm 0; break-inside: avoid; }
.unit { font-size: 9pt; text-indent: 0; text-align: right; line-height: 1.4; }
table { width: 100%; border-collapse: collapse; font-size: 10pt; line-height: 1.35; table-layout: fixed; }
td, th { text-align: center; vertical-align: middle; padding: 1.2mm 1mm; font-weight: normal; }
th { font-family: "Noto Sans CJK SC"; }
table.ruled td, table.ruled th { border: 0.6pt solid #000; }
table.three_line { border-top: 1.2pt solid #000; border-bottom: 1.2pt solid #000; }
table.three_line thead tr:last-child th { border-bottom: 0.6pt solid #000; }
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _paragraph(block: Block) -> str:
    text = block.text
    pieces, last = [], 0
    for pos, note in sorted(block.footnotes, key=lambda item: item[0]):
        pieces.append(_esc(text[last:pos]))
        pieces.append(f'<span class="footnote">{_esc(note.text)}</span>')
        last = pos
    pieces.append(_esc(text[last:]))
    return f"<p>{''.join(pieces)}</p>"


def _table_html(block: Block, layout: dict) -> str:
    header: list[list[str]] = layout["header"]
    widths: list[float] = layout["widths"]
    total = sum(widths)
    cols = "".join(f'<col style="width:{w / total * 100:.2f}%">' for w in widths)
    head_rows = []
    for r, row in enumerate(header):
        cells = []
        for c, label in enumerate(row):
            if not label:
                continue
            colspan = 1
            if r == 0:
                while c + colspan < len(row) and row[c + colspan] == "":
                    colspan += 1
            rowspan = 1
            while r + rowspan < len(header) and header[r + rowspan][c] == "" and (r > 0 or colspan == 1):
                rowspan += 1
            attrs = (f' colspan="{colspan}"' if colspan > 1 else "") + (
                f' rowspan="{rowspan}"' if rowspan > 1 else ""
            )
            cells.append(f"<th{attrs}>{_esc(label)}</th>")
        head_rows.append(f"<tr>{''.join(cells)}</tr>")
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>" for row in block.rows)
    return (
        f'<div class="table"><p class="caption">表 {block.id} {_esc(block.text)}</p>'
        f'<p class="unit">金额单位：{_esc(block.unit)}</p>'
        f'<table class="{layout["style"]}"><colgroup>{cols}</colgroup>'
        f"<thead>{''.join(head_rows)}</thead><tbody>{body}</tbody></table>"
        f'<p class="source">{_esc(block.source_note)}</p></div>'
    )


def flattened_columns(header: list[list[str]]) -> list[str]:
    """One label per column: the labels down each column, spans carried over, joined by '/'."""
    columns = []
    for c in range(len(header[0])):
        parts = []
        for r, row in enumerate(header):
            label = row[c]
            if not label and r == 0:
                label = next(row[k] for k in range(c, -1, -1) if row[k])
            if label and label not in parts:
                parts.append(label)
        columns.append("/".join(parts))
    return columns


def build_html(blocks: list[Block], figures: dict[str, charts.FigureSpec], asset_dir: Path) -> str:
    layouts = tomllib.loads(TABLE_LAYOUT.read_text(encoding="utf-8"))
    body: list[str] = []
    in_part_intro = False
    for block in blocks:
        if block.kind == "part":
            body.append(f'<h1 class="part">{_esc(block.text)}</h1>')
            in_part_intro = True
        elif block.kind == "chapter":
            body.append(f'<h2 class="chapter footnote-reset">{_esc(block.text)}</h2>')
            in_part_intro = False
        elif block.kind == "section":
            body.append(f'<h3 class="section">{_esc(block.text)}</h3>')
        elif block.kind == "paragraph":
            para = _paragraph(block)
            body.append(para.replace("<p>", '<p class="part-intro">', 1) if in_part_intro else para)
        elif block.kind == "figure":
            fig = figures[f"图{block.id}"]
            ext = "svg" if fig.render == "vector" else "png"
            src = (asset_dir / f"fig{block.id}.{ext}").as_uri()
            body.append(
                f'<figure><p class="caption">图 {block.id} {_esc(block.text)}</p>'
                f'<img src="{src}" alt=""><p class="source">{_esc(block.source_note)}</p></figure>'
            )
        elif block.kind == "table":
            body.append(_table_html(block, layouts[f"表{block.id}"]))
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{TITLE}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>"
    )


def table_truths(blocks: list[Block]) -> list[TableTruth]:
    layouts = tomllib.loads(TABLE_LAYOUT.read_text(encoding="utf-8"))
    out = []
    for block in blocks:
        if block.kind != "table":
            continue
        layout = layouts[f"表{block.id}"]
        out.append(
            TableTruth(
                id=f"表{block.id}",
                caption=block.text,
                columns=flattened_columns(layout["header"]),
                header_rows=layout["header"],
                rows=block.rows,
                unit=block.unit,
                source_note=block.source_note,
                style=layout["style"],
            )
        )
    return out


def build(seed: Path, out_pdf: Path, workdir: Path) -> DocumentTruth:
    import weasyprint

    blocks = parse_report(seed.read_text(encoding="utf-8"))
    specs = {fig.id: fig for fig in charts.load_figures()}
    captions = [f"图{b.id}" for b in blocks if b.kind == "figure"]
    missing = [c for c in captions if c not in specs]
    if missing:
        raise SystemExit(f"no chart data for {', '.join(missing)} in {charts.FIGURE_DIR}")
    asset_dir = workdir / "charts"
    asset_dir.mkdir(parents=True, exist_ok=True)
    for caption in captions:
        fig = specs[caption]
        stem = asset_dir / f"fig{caption[1:]}"
        if fig.render == "vector":
            charts.render_svg(fig, stem.with_suffix(".svg"))
        else:
            charts.render_png(fig, stem.with_suffix(".png"))
    document = weasyprint.HTML(string=build_html(blocks, specs, asset_dir), base_url=str(workdir))
    document.write_pdf(out_pdf, metadata=True)  # type: ignore[call-arg]
    return DocumentTruth(
        id=DOC_ID,
        title=TITLE,
        pdf=out_pdf.name,
        seed=f"seeds/{seed.name}",
        producer=f"WeasyPrint {weasyprint.__version__}",
        tables=table_truths(blocks),
        figures=[charts.to_truth(specs[c]) for c in captions],
    )
