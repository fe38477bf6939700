"""python -m samples.variants OUTDIR [--only NAME,...]: build the variant PDFs and their truth JSON."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from samples.variants import ProducerMissing, build, matrix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.variants", description=__doc__)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", default="", help="comma-separated variant names")
    args = parser.parse_args(argv)
    wanted = {n for n in args.only.split(",") if n}
    variants = [v for v in matrix() if not wanted or v.name in wanted]
    unknown = wanted - {v.name for v in variants}
    if unknown:
        print(f"unknown variant(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    failed = 0
    start = time.perf_counter()
    for v in variants:
        t0 = time.perf_counter()
        try:
            pdf, truth = build(v, args.outdir)
        except ProducerMissing as exc:
            print(f"skip {v.name}: {exc}")
            continue
        except Exception as exc:  # one bad variant must not stop the others
            failed += 1
            print(f"FAIL {v.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        pages = sorted({p["page"] for t in truth["tables"] for p in t["pieces"]})
        print(f"{v.name}: {pdf} ({len(truth['tables'])} tables on pages {pages[0]}-{pages[-1]}, "
              f"{truth['producer']}, {time.perf_counter() - t0:.1f} s)")
    print(f"{len(variants) - failed} built, {failed} failed, {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
