"""python -m samples.backcatalog OUTDIR [--only ID,...] [--jobs N] | --glyphs"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from samples.backcatalog import builder, catalogue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples.backcatalog", description=__doc__)
    parser.add_argument("outdir", type=Path, nargs="?")
    parser.add_argument("--only", default="", help="comma-separated PDF ids (catalogue.toml)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--glyphs", action="store_true", help="rewrite glyphs.toml from the catalogue and exit")
    args = parser.parse_args(argv)
    if args.glyphs:
        print(f"wrote {builder.write_glyphs()}; now run python -m samples.variants.fonts")
        return 0
    if args.outdir is None:
        parser.error("OUTDIR is required")
    wanted = {n for n in args.only.split(",") if n}
    entries = [e for e in catalogue() if not wanted or e.id in wanted]
    if unknown := wanted - {e.id for e in entries}:
        print(f"unknown PDF id(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    start = time.perf_counter()

    def progress(name: str, seconds: float) -> None:
        print(f"{name}: {seconds:.1f} s", flush=True)

    catalog, index = builder.build_all(args.outdir, entries, jobs=args.jobs, progress=progress)
    print(f"{len(entries)} PDFs, {len(index['values'])} values, {len(index['revisions'])} revised "
          f"({len(index['planted_revisions'])} planted); {catalog}; {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
