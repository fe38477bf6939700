"""The audit report: its content, a corrupted replica PDF whose evidence outlines the changed cell, and
the page in a real headless browser."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extractors.datasets import Curated, curate
from schemas.report import write_report
from schemas.stated import StatedFact
from schemas.validate import ValidationRun, validate
from tests.conftest import NOTICE_PDF, REPORT_PDF
from tests.test_validation import NOTICE_ID, PDFS, REPORT_ID, curated_samples, stated_facts

CHROMIUM = Path("/usr/bin/chromium")
# The cell the corrupted replica changes: 表8-1, 东部地区, 全部执行金额, printed 1847.3 on page 39.
CORRUPT_TABLE, CORRUPT_PAGE, CORRUPT_FROM, CORRUPT_TO = "表8-1", 39, "1847.3", "1487.3"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Curated]:
    return curated_samples(tmp_path_factory)


@pytest.fixture(scope="session")
def stated() -> list[StatedFact]:
    return stated_facts()


@pytest.fixture(scope="session")
def sample_report(
    samples: dict[str, Curated], stated: list[StatedFact], tmp_path_factory: pytest.TempPathFactory
) -> Path:  # noqa: F811
    run = validate(samples, stated)
    return write_report(run, samples, PDFS, tmp_path_factory.mktemp("reports"), "samples-run")


# ---------------------------------------------------------------- a replica with one number changed


def _to_unicode(font: Any) -> dict[int, str]:
    """A Type0 font's ToUnicode CMap: 2-byte glyph code → text (WeasyPrint writes glyph ids, not text)."""
    data = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    codes: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            codes[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                codes[code] = chr(int(dst, 16) + i)
    return codes


def corrupt_replica(src: Path, dest: Path, page_no: int, printed: str, replacement: str) -> None:
    """Rewrite one printed number in the PDF itself by reordering its glyph ids inside its TJ.

    ``replacement`` must be a permutation of ``printed``'s characters: the same glyphs, so the subset font
    has them and the widths stay; pdfplumber reads the new order through the font's ToUnicode map.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ByteStringObject, ContentStream, NameObject

    assert sorted(printed) == sorted(replacement)
    writer = PdfWriter(clone_from=PdfReader(src))
    page = writer.pages[page_no - 1]
    fonts = {name: _to_unicode(f.get_object()) for name, f in page["/Resources"]["/Font"].items()}
    content = ContentStream(page.get_contents(), writer)
    font, done = None, False
    for operands, op in content.operations:
        if op == b"Tf":
            font = operands[0]
        if op != b"TJ" or done:
            continue
        # Every string item of the TJ, as its 2-byte glyph codes.
        glyphs = [
            (i, j)
            for i, item in enumerate(operands[0])
            if isinstance(item, bytes | str)
            for j in range(0, len(_raw(item)), 2)
        ]
        text = "".join(fonts[font].get(int.from_bytes(_raw(operands[0][i])[j : j + 2], "big"), "?") for i, j in glyphs)
        if text != printed:
            continue
        by_char = {ch: _raw(operands[0][i])[j : j + 2] for (i, j), ch in zip(glyphs, text, strict=True)}
        items = [bytearray(_raw(item)) if isinstance(item, bytes | str) else item for item in operands[0]]
        for (i, j), ch in zip(glyphs, replacement, strict=True):
            items[i][j : j + 2] = by_char[ch]
        operands[0][:] = [ByteStringObject(bytes(x)) if isinstance(x, bytearray) else x for x in items]
        done = True
    assert done, f"{printed!r} not found on page {page_no}"
    page[NameObject("/Contents")] = writer._add_object(content)
    with open(dest, "wb") as fh:
        writer.write(fh)


def _raw(item: Any) -> bytes:
    return bytes(item.original_bytes) if hasattr(item, "original_bytes") else bytes(item)


@pytest.fixture(scope="session")
def corrupted_run(
    samples: dict[str, Curated],
    stated: list[StatedFact],
    tmp_path_factory: pytest.TempPathFactory,  # noqa: F811
) -> dict[str, Any]:
    from extractors.extract import extract_pdf

    folder = tmp_path_factory.mktemp("corrupted")
    pdf = folder / "annual_report_2021_corrupted.pdf"
    corrupt_replica(REPORT_PDF, pdf, CORRUPT_PAGE, CORRUPT_FROM, CORRUPT_TO)
    result = extract_pdf(pdf)
    curated = {NOTICE_ID: samples[NOTICE_ID], REPORT_ID: curate(result, REPORT_ID)}
    run = validate(curated, stated)
    html = write_report(run, curated, {NOTICE_ID: NOTICE_PDF, REPORT_ID: pdf}, folder / "reports", "corrupted")
    table = next(t for t in result.tables if t.table_id == CORRUPT_TABLE)
    cell = next(c for row in table.rows for c in row if c.text == CORRUPT_TO)
    return {"run": run, "html": html, "cell": cell, "pdf": pdf, "curated": curated}


def test_the_corrupted_replica_reads_back_the_changed_number(corrupted_run: dict[str, Any]) -> None:
    import pdfplumber

    with pdfplumber.open(corrupted_run["pdf"]) as pdf:
        text = pdf.pages[CORRUPT_PAGE - 1].extract_text()
    assert CORRUPT_TO in text and CORRUPT_FROM not in text.split("数据来源")[0].split("表 8-1")[-1]
    assert corrupted_run["cell"].page == CORRUPT_PAGE


def test_a_failed_check_holds_back_the_datasets_of_the_source_it_shows_only(
    corrupted_run: dict[str, Any], tmp_path: Path
) -> None:
    """The report's 东部 amount fails its sums and shares: the report's region_execution, facts and tables stay
    out, and the notice of the same year, whose own tables add up, publishes its facts and tables."""
    from flows.publish import publish
    from tests.test_publish import run_info, source_infos

    run: ValidationRun = corrupted_run["run"]
    held = run.held_back()
    assert {"region_execution", "facts", "tables"} <= held[REPORT_ID]
    assert NOTICE_ID not in held, held
    assert run.to_dict()["held_back"] == {REPORT_ID: sorted(held[REPORT_ID])}
    curated = corrupted_run["curated"]
    data = tmp_path / "data"
    publish(curated, source_infos(curated), data, run_info("corrupt-1"), exclude_by_source=held)
    files = {p.relative_to(data / "curated").parts[0]: [] for p in (data / "curated").rglob("*.parquet")}
    for path in (data / "curated").rglob("*.parquet"):
        files[path.relative_to(data / "curated").parts[0]].append(path.name)
    for dataset in ("facts", "tables"):
        assert any(NOTICE_ID in name for name in files[dataset]), files[dataset]
        assert not any(REPORT_ID in name for name in files[dataset]), files[dataset]
    assert "region_execution" not in files
    (alert,) = re.findall(r"<b>Not published</b>.*?</div>", corrupted_run["html"].read_text(encoding="utf-8"))
    assert f"<b>region_execution</b> of {REPORT_ID}:" in alert and NOTICE_ID not in alert


def test_the_report_outlines_the_corrupted_cell(corrupted_run: dict[str, Any]) -> None:
    from PIL import Image

    run: ValidationRun = corrupted_run["run"]
    cell = corrupted_run["cell"]
    assert {"region_execution", "facts", "tables"} <= run.failed_datasets()
    report = json.loads((corrupted_run["html"].parent / "report.json").read_text(encoding="utf-8"))
    failing = {r["name"] for r in report["results"] if r["status"] == "failed"}
    # A wrong 东部 amount breaks its column sum, its share, the provinces' ≤ and the 表10-1 cross-sum.
    assert {"regions_sum_to_total", "region_shares", "clusters_match_regions"} <= failing
    top = report["most_implicated_cells"][0]
    assert (top["cell"]["text"], top["cell"]["table_id"], top["cell"]["dataset"]) == (
        CORRUPT_TO,
        CORRUPT_TABLE,
        "region_execution",
    )
    assert (top["cell"]["row"], top["cell"]["column"]) == (0, "execution_usd_100m")

    evidence = report["evidence"]["regions_sum_to_total@region_execution"]
    (image,) = [e for e in evidence if e["table_id"] == CORRUPT_TABLE]
    assert image["page"] == CORRUPT_PAGE
    outlined = [r for r in image["outlined"] if r["cell"]["text"] == CORRUPT_TO]
    assert len(outlined) == 1, image["outlined"]
    rect = outlined[0]
    assert rect["bbox"] == pytest.approx(list(cell.bbox), abs=1e-3)
    assert rect["color"] == "red" and rect["most_implicated"]
    crop = image["crop_bbox"]
    assert crop[0] <= cell.bbox[0] and crop[1] <= cell.bbox[1] and crop[2] >= cell.bbox[2] and crop[3] >= cell.bbox[3]
    # The PNG itself: red along the outline's edges, at the place the JSON says.
    png = Image.open(corrupted_run["html"].parent / image["image"]).convert("RGB")
    x0, top_px, x1, bottom_px = rect["px"]
    scale = image["resolution"] / 72
    assert x0 == pytest.approx((cell.bbox[0] - crop[0]) * scale, abs=1.5)
    assert top_px == pytest.approx((cell.bbox[1] - crop[1]) * scale, abs=1.5)

    def red(x: int, y: int) -> bool:
        r, g, b = png.getpixel((x, y))
        return r > 170 and g < 90 and b < 90

    # pdfplumber draws the stroke just inside the box: look within a few pixels of each edge.
    band = range(0, 9)
    assert all(any(red(x, top_px + d) for d in band) for x in range(x0 + 8, x1 - 8, 4))
    assert all(any(red(x, bottom_px - d) for d in band) for x in range(x0 + 8, x1 - 8, 4))
    assert all(any(red(x0 + d, y) for d in band) for y in range(top_px + 8, bottom_px - 8, 4))
    assert all(any(red(x1 - d, y) for d in band) for y in range(top_px + 8, bottom_px - 8, 4))
    assert not any(red(x, top_px - 6) for x in range(x0 + 8, x1 - 8, 4))  # nothing red above the cell
    # And the page shows the corrupted number inside the outline (the crop is of the corrupted PDF).
    page_html = corrupted_run["html"].read_text(encoding="utf-8")
    assert f"“{CORRUPT_TO}”" in page_html and "data:image/png;base64," in page_html


# ---------------------------------------------------------------- the report's content


def test_the_report_has_the_summary_sources_and_findings(sample_report: Path) -> None:
    html = sample_report.read_text(encoding="utf-8")
    data = json.loads((sample_report.parent / "report.json").read_text(encoding="utf-8"))
    assert {s["source_id"] for s in data["sources"]} == {NOTICE_ID, REPORT_ID}
    for src in data["sources"]:
        assert re.fullmatch(r"[0-9a-f]{64}", src["sha256"]) and src["sha256"] in html
    counts = data["counts"]
    assert counts["run"] == counts["passed"] + counts["failed"] + counts["finding"]
    assert f"data-run='{counts['run']}'" in html and f"data-failed='{counts['failed']}'" in html
    assert "<style>" in html and "@media print" in html and "<link" not in html  # self-contained, printable
    assert "region_shares" in html and "Known inconsistency" in html
    finding_images = data["evidence"]["region_shares@region_execution"]
    assert finding_images and all(r["color"] == "amber" for r in finding_images[0]["outlined"])
    # Every evidence PNG the JSON names exists; the HTML carries the same pictures inline.
    for images in data["evidence"].values():
        for image in images:
            assert (sample_report.parent / image["image"]).is_file()
    # ... and so do the stated figures side by side with what they disagree with (issue 14), one crop a side,
    # and the chart points withheld, outlined (issue 13).
    sides = [side for item in data["side_by_side"] for side in [item["stated"], *item["printed_elsewhere"]]]
    assert all((sample_report.parent / side["image"]).is_file() for side in sides)
    withheld = [c for c in data["chart_points_withheld"] if c["image"]]
    assert all((sample_report.parent / c["image"]).is_file() for c in withheld)
    assert html.count("<img ") == sum(len(v) for v in data["evidence"].values()) + len(sides) + len(withheld)


# ---------------------------------------------------------------- a real browser


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        reason = "no Chromium at /usr/bin/chromium (make test installs Debian's chromium when run as root with apt)"
        print(f"\nSKIP browser test: {reason}")
        pytest.skip(reason)
    return CHROMIUM if CHROMIUM.exists() else Path(shutil.which("chromium") or "")


@pytest.fixture
def served(corrupted_run: dict[str, Any]) -> Iterator[str]:
    folder = corrupted_run["html"].parent
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass


def _browser(chromium: Path, url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=5000",
        *extra,
        url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)


def test_the_report_loads_in_a_headless_browser(
    chromium: Path, served: str, corrupted_run: dict[str, Any], tmp_path: Path
) -> None:
    for url in (served, corrupted_run["html"].as_uri()):  # served, and opened from disk
        done = _browser(chromium, url, tmp_path, "--dump-dom")
        assert done.returncode == 0, done.stderr[-2000:]
        body = re.search(r"<body[^>]*>", done.stdout)
        assert body, done.stdout[:500]
        assert 'data-images-loaded="true"' in body.group(0), (url, body.group(0))
        count = int(re.search(r'data-images-count="(\d+)"', body.group(0)).group(1))  # type: ignore[union-attr]
        assert count >= 3
        assert 'id="summary"' in done.stdout and "checks run" in done.stdout and "Not published" in done.stdout
    shot = corrupted_run["html"].parent / "screenshot.png"
    done = _browser(chromium, served, tmp_path, f"--screenshot={shot}", "--window-size=1200,2200", "--hide-scrollbars")
    assert done.returncode == 0 and shot.stat().st_size > 10_000, done.stderr[-2000:]
    print(f"\n  report screenshot: {shot}")
