"""The data dictionary as Markdown: README.md's "Data dictionary" section and curated/README.md.

Both are rendered from schemas/dictionary.toml by the functions here, so the documentation cannot drift
from the Parquet field metadata and datapackage.json, which come from the same file.

    .venv/bin/python -m flows.dictionary_doc          # rewrite README.md between the markers
    .venv/bin/python -m flows.dictionary_doc --check  # exit 1 if README.md's section is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schemas.dictionary import Column, Dataset, datasets

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- data-dictionary:start -->"
END = "<!-- data-dictionary:end -->"

# What a reader of the Parquet files sees, which is what they need to know (not the TOML's names).
PARQUET_TYPES = {
    "string": "string",
    "int": "int64",
    "float": "double",
    "bool": "bool",
    "list_float": "list<double>",
}


def partition_note(dataset: Dataset) -> str:
    if any(c.name == "year" for c in dataset.columns):
        return "partitioned by its `year` column"
    return "partitioned by the source's year (hive readers add it as a `year` column)"


def _cell(text: str) -> str:
    # A literal | would end the table cell early.
    return text.replace("|", "\\|").replace("\n", " ")


def _constraints(column: Column) -> str:
    parts = []
    if column.enum:
        parts.append("one of " + ", ".join(f"`{v}`" for v in column.enum))
    if column.max is not None:
        parts.append(f"≤ {column.max:g}")
    if column.nullable:
        parts.append("may be null")
    return "; ".join(parts)


def dataset_markdown(dataset: Dataset, heading: str = "###") -> str:
    lines = [
        f"{heading} `{dataset.name}` — {_cell(dataset.title)}",
        "",
        dataset.description,
        "",
        f"Key: {', '.join(f'`{k}`' for k in dataset.key)}. "
        f"Files: `curated/{dataset.name}/year=<YYYY>/<source_id>.parquet`, {partition_note(dataset)}.",
        "",
        "| column | type | unit | description | constraints |",
        "|---|---|---|---|---|",
    ]
    for column in dataset.columns:
        lines.append(
            f"| `{column.name}` | {PARQUET_TYPES[column.dtype]} | {_cell(column.unit or '')} "
            f"| {_cell(column.description)} | {_cell(_constraints(column))} |"
        )
    return "\n".join(lines)


def dictionary_markdown(heading: str = "###") -> str:
    """Every dataset of the dictionary, in its order, one heading each."""
    intro = (
        "Every dataset is a directory of hive-partitioned Parquet files; each file's field metadata carries "
        "the description and unit below, and `curated/datapackage.json` (Frictionless Data Package v2) the "
        "same plus keys, sources and the run that wrote it. Values are as published (not rescaled); units "
        "are in the column names. `year` lives in the directory name, not in the file: DuckDB returns it "
        'as BIGINT, pandas as a categorical (`.astype({"year": "int64"})`, or pass '
        '`partitioning=pyarrow.dataset.partitioning(pyarrow.schema([("year", pyarrow.int64())]), '
        'flavor="hive")`). `curated` itself is a symlink to `curated.versions/<run id>/`, repointed in one '
        "atomic rename by each publish; the versions before it stay there for `soetl rollback`."
    )
    blocks = [intro, *(dataset_markdown(d, heading) for d in datasets().values())]
    return "\n\n".join(blocks) + "\n"


def examples_markdown() -> str:
    return """```python
import pandas as pd
scores = pd.read_parquet("curated/city_scores").astype({"year": "int64"})
print(scores.sort_values("total_score", ascending=False).head())
```

```sql
-- duckdb
SELECT year, region, ito_execution_usd_100m
FROM read_parquet('curated/ito_by_region/**/*.parquet', hive_partitioning = true)
WHERE NOT is_total ORDER BY region, year;
```
"""


def render_section(text: str, section: str) -> str:
    """``text`` with everything between the markers replaced by ``section``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {START} … {END} markers (in that order)")
    return text[: start + len(START)] + "\n" + section + text[end:]


def update_readme(path: Path = README) -> bool:
    """Rewrite the dictionary section of ``path``; True when it changed."""
    old = path.read_text(encoding="utf-8")
    new = render_section(old, dictionary_markdown())
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md's section is out of date")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    if args.check:
        text = args.readme.read_text(encoding="utf-8")
        if render_section(text, dictionary_markdown()) != text:
            print(f"{args.readme}: data dictionary section is stale; run python -m flows.dictionary_doc")
            return 1
        return 0
    changed = update_readme(args.readme)
    print(f"{args.readme}: {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
