"""Re-typeset both replica PDFs and their ground truth from the seed texts.

    python -m samples.build            # both documents
    python -m samples.build report     # only the annual report
    python -m samples.build notice     # only the evaluation notice

Needs the `samples` extra (WeasyPrint, matplotlib, python-docx), LibreOffice Writer and the Noto CJK
fonts (Debian: libreoffice-writer-nogui fonts-noto-cjk). See samples/README.md.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
SEEDS = SAMPLES / "seeds"
WORK = SAMPLES / ".build"
NOTICE_SEED = SEEDS / "000_8a58a9cfef228a5a.txt"
REPORT_SEED = SEEDS / "001_2de11681a97aed46.txt"


def _need(tool: str, hint: str) -> None:
    if shutil.which(tool) is None:
        raise SystemExit(f"samples.build: '{tool}' is not on PATH; install {hint}")


def main(argv: list[str]) -> int:
    which = set(argv) or {"notice", "report"}
    unknown = which - {"notice", "report"}
    if unknown:
        raise SystemExit(f"samples.build: unknown document(s) {sorted(unknown)}; use notice and/or report")
    if "notice" in which:
        _need("soffice", "LibreOffice Writer (apt-get install libreoffice-writer-nogui)")
        from samples.builder import notice

        truth = notice.build(NOTICE_SEED, SAMPLES / "city_evaluation_2021.pdf", WORK / "notice")
        print(f"wrote {SAMPLES / truth.pdf} and {truth.write()}")
    if "report" in which:
        from samples.builder import report

        truth = report.build(REPORT_SEED, SAMPLES / "annual_report_2021.pdf", WORK / "report")
        print(f"wrote {SAMPLES / truth.pdf} and {truth.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
