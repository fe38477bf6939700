"""The audit report's section on chart points that were read but not proved, and so not published.

Each figure with flagged points gets one crop of its region with every flagged point's mark outlined
in blue and its label in red, numbered as in the table beside it, so a reader can check the printed
label against the drawing without opening the PDF.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from extractors.datasets import Curated

RESOLUTION = 150
_MARK = (20, 90, 200)
_LABEL = (220, 0, 0)


def chart_flags(curated: Mapping[str, Curated], page_of: Callable[[str, int], Any], folder: Path) -> list[dict]:
    """One entry per figure with flagged points: the points, their reasons and the outlined crop
    (written under ``folder/evidence``)."""
    out = []
    for source_id, cur in sorted(curated.items()):
        for fig in getattr(cur, "figures", []):
            if not fig.flagged:
                continue
            entry: dict[str, Any] = {
                "source_id": source_id,
                "figure_id": fig.figure_id,
                "title": fig.title,
                "page": fig.page,
                "crop_bbox": [round(v, 2) for v in fig.bbox],
                "crop_sha256": fig.crop_sha256,
                "reader": fig.reader,
                "points": [
                    {
                        "n": n,
                        "series": f.point.series,
                        "category": f.point.category,
                        "label": f.point.label_text,
                        "value": None if math.isnan(f.point.value) else f.point.value,
                        "geometry": f.point.geometry_value,
                        "label_bbox": _box(f.point.bbox if f.point.label_text else None),
                        "mark_bbox": _box(f.point.mark_bbox),
                        "reasons": f.reasons,
                    }
                    for n, f in enumerate(fig.flagged, start=1)
                ],
                "image": None,
                "data_uri": "",
                "problem": "",
            }
            _render(entry, page_of(source_id, fig.page), folder)
            out.append(entry)
    return out


def _box(box: Any) -> list[float] | None:
    return [round(float(v), 2) for v in box] if box else None


def _render(entry: dict[str, Any], page: Any, folder: Path) -> None:
    if page is None:
        entry["problem"] = "the source PDF is not available to this report"
        return
    try:
        image = page.crop(tuple(entry["crop_bbox"]), strict=False).to_image(resolution=RESOLUTION)
    except Exception as exc:  # noqa: BLE001 - a page that will not render must not lose the report
        entry["problem"] = f"the figure could not be rendered: {exc}"
        return
    for point in entry["points"]:
        for key, color in (("mark_bbox", _MARK), ("label_bbox", _LABEL)):
            box = point[key]
            if box:
                box = _visible(box)
                image.draw_rect(tuple(box), fill=(*color, 30), stroke=color, stroke_width=3)
        anchor = point["label_bbox"] or point["mark_bbox"]
        if anchor:
            x, y = image._reproject((anchor[2], anchor[1]))
            image.draw.text((x + 3, max(y - 14, 0)), str(point["n"]), fill=(*_LABEL, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    name = f"chart-{hashlib.sha1(data).hexdigest()[:12]}.png"
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    (folder / "evidence" / name).write_bytes(data)
    entry["image"] = f"evidence/{name}"
    entry["data_uri"] = "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _visible(box: list[float]) -> list[float]:
    """A line vertex is a point: outline a small square round it."""
    x0, top, x1, bottom = box
    if x1 - x0 < 3:
        x0, x1 = x0 - 3, x1 + 3
    if bottom - top < 3:
        top, bottom = top - 3, bottom + 3
    return [x0, top, x1, bottom]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def chart_flags_html(entries: list[dict[str, Any]]) -> str:
    e = html.escape
    count = sum(len(x["points"]) for x in entries)
    parts = [
        "<h2 id='chart-flags'>Chart points withheld</h2>",
        f"<p class='meta'>{count} point(s) in {len(entries)} figure(s) were read but could not be proved against "
        "their chart (geometry, printed precision, parts summing to 100, growth against amounts); they are not "
        "published. Blue: the mark; red: the label as read.</p>"
        if entries
        else "<p class='meta'>Every chart point read was proved against its chart: none is withheld.</p>",
    ]
    for x in entries:
        rows = "".join(
            f"<tr><td class='num'>{p['n']}</td><td>{e(p['series'])}</td><td>{e(p['category'])}</td>"
            f"<td class='num'>{e(p['label'] or '—')}</td><td class='num'>{_num(p['geometry'])}</td>"
            f"<td>{e('; '.join(p['reasons']))}</td></tr>"
            for p in x["points"]
        )
        parts.append(
            f"<h3>{e(x['figure_id'])} {e(x['title'])} "
            f"<span class='meta'>— {e(x['source_id'])} p.{x['page']}</span></h3>"
            "<table><tr><th>#</th><th>series</th><th>category</th><th>label read</th><th>drawing implies</th>"
            f"<th>why withheld</th></tr>{rows}</table>"
        )
        if x["problem"]:
            parts.append(f"<p class='meta'>{e(x['problem'])}</p>")
        else:
            parts.append(
                f"<figure><img src='{x['data_uri']}' alt='{e(x['figure_id'])} with its withheld points outlined' "
                "style='max-width:100%;height:auto'>"
                f"<figcaption>{e(x['figure_id'])}, page {x['page']}, crop sha256 "
                f"<span class='mono'>{e(x['crop_sha256'] or '—')}</span></figcaption></figure>"
            )
    return "".join(parts)
