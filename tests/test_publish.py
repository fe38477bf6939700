"""Publishing curated/: Parquet round trips, metadata, datapackage.json, the samples' truth, atomicity
under kill -9, rollback, and datasets that failed validation keeping their previous version."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

import flows.publish as publish_mod
from extractors.datasets import Curated, curate
from flows import dictionary_doc
from flows.publish import (
    CURATED,
    VERSIONS,
    PublishError,
    RollbackError,
    RunInfo,
    SourceInfo,
    canonical_frame,
    publish,
    rollback,
)
from flows.vintages import add_vintages
from schemas.dictionary import Dataset, datasets
from tests.conftest import REPORT_PDF, ROOT

NOTICE_ID, REPORT_ID = "city_evaluation_2021", "annual_report_2021"


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_with_figures(tmp_path_factory):
    # conftest's report_extraction has no figures (no image_dir); figures and chart_series need them.
    from extractors.extract import extract_pdf

    return extract_pdf(REPORT_PDF, image_dir=tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def curated_samples(notice_extraction, report_with_figures) -> dict[str, Curated]:
    out = {}
    for source_id, result in ((NOTICE_ID, notice_extraction), (REPORT_ID, report_with_figures)):
        item = add_vintages(curate(result, source_id))  # as the flow's curate stage gives them
        # Only the frames travel (pickled into the kill-test subprocesses).
        out[source_id] = Curated(item.frames, item.cells.iloc[0:0])
    return out


def source_infos(curated: dict[str, Curated]) -> dict[str, SourceInfo]:
    return {
        sid: SourceInfo(
            source_id=sid,
            url=f"https://example.gov.cn/{sid}.pdf",
            sha256=str(item.frames["facts"]["source_sha256"].iloc[0]),
            fetched_at="2024-05-01T02:00:00+00:00",
            year=2021,
            kind="city_evaluation" if sid == NOTICE_ID else "annual_report",
            pdf_path=f"raw/{sid}/x.pdf",
        )
        for sid, item in curated.items()
    }


def run_info(run_id: str) -> RunInfo:
    return RunInfo(run_id=run_id, started_at="2024-05-01T02:00:00+00:00", extractor_version="0.1.0", soetl_version="t")


@pytest.fixture(scope="module")
def published(curated_samples, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    result = publish(curated_samples, source_infos(curated_samples), data, run_info("run-1"))
    assert result.version == "run-1" and result.previous is None
    return data


def snapshot(data: Path) -> dict[str, str]:
    """Every file reachable through curated/, by relative path, with its SHA-256."""
    root = data / CURATED
    if not root.exists():
        return {}
    out = {}
    for dirpath, _dirs, files in os.walk(root, followlinks=True):
        for name in files:
            path = Path(dirpath) / name
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def expected_frame(curated: dict[str, Curated], name: str) -> pd.DataFrame:
    dataset = datasets()[name]
    parts = [canonical_frame(c.frames[name], dataset) for c in curated.values() if not c.frames[name].empty]
    frame = pd.concat(parts, ignore_index=True)
    if name == "figures":  # published inside the version: images/<source id>/<file>
        pairs = zip(frame["source_id"], frame["image_path"], strict=True)
        frame["image_path"] = [f"images/{s}/{Path(p).name}" for s, p in pairs]
    return sort_rows(frame, dataset)


def sort_rows(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    scalars = [c.name for c in dataset.columns if c.dtype != "list_float"]
    return frame.sort_values(scalars, kind="mergesort", na_position="first").reset_index(drop=True)


def as_lists(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    # pyarrow hands list cells back as numpy arrays, DuckDB as lists: compare them as lists of floats.
    frame = frame.copy()
    for c in dataset.columns:
        if c.dtype == "list_float":
            frame[c.name] = [None if v is None else [float(x) for x in v] for v in frame[c.name]]
    return frame


def non_empty(curated: dict[str, Curated]) -> list[str]:
    return [n for n in datasets() if any(not c.frames[n].empty for c in curated.values())]


# --- round trips ----------------------------------------------------------------------------------


def test_every_dataset_has_rows_in_the_samples(curated_samples):
    assert non_empty(curated_samples) == list(datasets())


@pytest.mark.parametrize("name", list(datasets()))
def test_pandas_reads_back_exactly_the_curated_frame(published, curated_samples, name):
    dataset = datasets()[name]
    got = pd.read_parquet(published / CURATED / name)
    # The partition column comes back as a categorical of integers (pyarrow's hive discovery).
    assert isinstance(got["year"].dtype, pd.CategoricalDtype)
    assert pd.api.types.is_integer_dtype(got["year"].cat.categories.dtype)
    got["year"] = got["year"].astype("int64")
    if "year" not in {c.name for c in dataset.columns}:
        assert set(got["year"]) == {2021}, "the source's year"
        got = got.drop(columns="year")
    got = got[[c.name for c in dataset.columns]]
    expected = expected_frame(curated_samples, name)
    for column in dataset.columns:  # dtypes as the dictionary says, without any normalising
        want = {"Int64": pd.Int64Dtype(), "boolean": pd.BooleanDtype()}.get(publish_mod.pandas_dtype(column))
        if want is not None:
            assert got[column.name].dtype == want, column.name
    pd.testing.assert_frame_equal(as_lists(sort_rows(got, dataset), dataset), as_lists(expected, dataset))


@pytest.mark.parametrize("name", list(datasets()))
def test_duckdb_reads_back_exactly_the_curated_frame(published, curated_samples, name):
    dataset = datasets()[name]
    glob = str(published / CURATED / name / "**" / "*.parquet")
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
    types = dict(zip(rel.columns, map(str, rel.types), strict=True))
    assert types["year"] == "BIGINT"
    wanted = {"string": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "list_float": "DOUBLE[]"}
    for column in dataset.columns:
        assert types[column.name] == wanted[column.dtype], column.name
    got = rel.df()
    if "year" not in {c.name for c in dataset.columns}:
        assert set(got["year"]) == {2021}
    got = canonical_frame(got[[c.name for c in dataset.columns]], dataset)
    pd.testing.assert_frame_equal(
        as_lists(sort_rows(got, dataset), dataset), as_lists(expected_frame(curated_samples, name), dataset)
    )


def test_every_field_carries_description_and_unit_and_every_file_its_provenance(published):
    files = sorted((published / CURATED).glob("*/year=*/*.parquet"))
    assert len(files) >= 9
    for path in files:
        dataset = datasets()[path.parent.parent.name]
        schema = pq.read_schema(path)
        for f in schema:
            column = dataset.column(f.name)
            assert f.metadata[b"description"].decode() == column.description
            assert f.metadata[b"unit"].decode() == (column.unit or "")
        meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
        assert meta["title"] == dataset.title and meta["description"] == dataset.description
        assert meta["source_id"] == path.stem and meta["run_id"] == "run-1" and meta["extractor_version"] == "0.1.0"
        assert re.fullmatch(r"[0-9a-f]{64}", meta["source_sha256"])
        assert pq.read_table(path).column("source_sha256").unique().to_pylist() == [meta["source_sha256"]]


def test_ito_by_region_is_partitioned_by_its_own_years(published):
    years = sorted(p.name for p in (published / CURATED / "ito_by_region").iterdir())
    assert years == [f"year={y}" for y in range(2016, 2022)]
    assert (
        "year" not in pq.read_schema(published / CURATED / "ito_by_region" / "year=2016" / f"{REPORT_ID}.parquet").names
    )


# --- datapackage.json -----------------------------------------------------------------------------

def package_errors(root: Path) -> list[str]:
    """What the reference validator (frictionless) finds wrong with ``root/datapackage.json`` and its files,
    plus files on disk the package does not list exactly once."""
    from frictionless import Package

    report = Package(str(root / "datapackage.json")).validate()
    problems = [f"{task.name}: {err.type}: {err.message}" for task in report.tasks for err in task.errors]
    problems += [f"package: {err.type}: {err.message}" for err in report.errors]
    return problems + listing_errors(root)


def listing_errors(root: Path) -> list[str]:
    """Every Parquet file listed once, with its hash and size; every figure PNG inside the version (cheap)."""
    pkg = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    listed = [r["path"] for r in pkg["resources"]]
    on_disk = sorted(str(p.relative_to(root)) for p in root.glob("*/year=*/*.parquet"))
    problems = [] if sorted(listed) == on_disk else [f"listed != on disk: {set(listed) ^ set(on_disk)}"]
    for r in pkg["resources"]:
        path = root / r["path"]
        if path.is_file() and r["soetl:hash"] != "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest():
            problems.append(f"{r['path']}: hash")
    for path in root.glob("figures/year=*/*.parquet"):
        for image in pq.read_table(path).column("image_path").to_pylist():
            if image is not None and not (root / image).is_file():
                problems.append(f"{path.name}: {image} is not inside the version")
    return problems


def resources_of(pkg: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    return [r for r in pkg["resources"] if r["soetl:dataset"] == dataset]


def test_datapackage_is_a_valid_v2_package_describing_every_file(published, curated_samples):
    root = published / CURATED
    pkg = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    assert package_errors(root) == []
    assert [d["name"] for d in pkg["soetl:datasets"]] == list(datasets())
    run = pkg["soetl:run"]
    assert run["run_id"] == "run-1" and run["extractor_version"] == "0.1.0" and run["started_at"]
    assert sorted(run["published"]) == sorted(datasets())
    infos = source_infos(curated_samples)
    assert {s["title"] for s in pkg["sources"]} == {NOTICE_ID, REPORT_ID}
    for s in pkg["sources"]:
        info = infos[s["title"]]
        assert (s["path"], s["url"], s["sha256"], s["fetched_at"]) == (info.url, info.url, info.sha256, info.fetched_at)
    (scores,) = resources_of(pkg, "city_scores")
    assert scores["path"] == f"city_scores/year=2021/{NOTICE_ID}.parquet"
    assert scores["soetl:partition"] == {"year": 2021}
    assert [s["title"] for s in scores["sources"]] == [NOTICE_ID]
    # year is the hive partition, not in the file: not a field of the file's schema, nor of its key.
    assert scores["schema"]["primaryKey"] == ["city_type", "city"]
    group = next(d for d in pkg["soetl:datasets"] if d["name"] == "city_scores")
    assert group["primaryKey"] == ["year", "city_type", "city"] and group["partitioning"]["field"]["name"] == "year"
    fields = {f["name"]: f for f in scores["schema"]["fields"]}
    assert "year" not in fields
    assert fields["base_score"]["unit"] == "points" and fields["base_score"]["constraints"]["maximum"] == 70
    assert fields["city_type"]["constraints"]["enum"] == ["demonstration", "applicant"]
    assert fields["bonus"]["constraints"]["required"] is False and fields["city"]["constraints"]["required"] is True
    assert len(resources_of(pkg, "ito_by_region")) == 6, "one resource per year file of 表3-1"
    for r in pkg["resources"]:
        path = root / r["path"]
        assert r["soetl:hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert r["soetl:rows"] == pq.read_metadata(path).num_rows and r["soetl:bytes"] == path.stat().st_size


def test_figures_say_raster_or_vector_carry_their_box_and_their_png_is_inside_the_version(published):
    root = published / CURATED
    figures = pq.read_table(root / "figures" / "year=2021" / f"{REPORT_ID}.parquet").to_pandas()
    assert set(figures["kind"]) == {"raster", "vector"}
    assert all(len(b) == 4 and b[0] < b[2] and b[1] < b[3] for b in figures["bbox"])
    assert all(p.startswith(f"images/{REPORT_ID}/") and (root / p).is_file() for p in figures["image_path"])
    assert not (published / "images").exists(), "nothing outside curated/ is referenced"


def test_local_sources_publish_no_path_of_the_machine_that_ran_them(curated_samples, tmp_path):
    infos = {sid: SourceInfo(**{**vars(i), "url": f"/home/someone/pdfs/{sid}.pdf"})
             for sid, i in source_infos(curated_samples).items()}  # fmt: skip
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    text = (tmp_path / CURATED / "datapackage.json").read_text(encoding="utf-8")
    assert "/home/someone" not in text
    pkg = json.loads(text)
    assert {s["soetl:local_file"] for s in pkg["sources"]} == {f"{NOTICE_ID}.pdf", f"{REPORT_ID}.pdf"}


def test_frictionless_validate_on_the_command_line_passes(published):
    """The command a researcher would run on what they received, exactly."""
    exe = Path(sys.executable).parent / "frictionless"
    done = subprocess.run([str(exe), "validate", "datapackage.json"], cwd=published / CURATED,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_validator_catches_a_damaged_package(published, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(published / CURATED, copy)
    pkg = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    pkg["resources"][1]["schema"]["fields"][0]["type"] = "integer"  # a string column declared integer
    (copy / "datapackage.json").write_text(json.dumps(pkg, ensure_ascii=False), encoding="utf-8")
    target = copy / pkg["resources"][0]["path"]
    target.write_bytes(target.read_bytes()[:-1] + b"\0")  # one byte changed: the hash no longer matches
    problems = package_errors(copy)
    assert any("hash" in p for p in problems), problems
    assert any(pkg["resources"][1]["name"] in p for p in problems), problems


def test_curated_readme_and_the_readme_section_come_from_the_dictionary(published):
    text = (published / CURATED / "README.md").read_text(encoding="utf-8")
    assert dictionary_doc.dictionary_markdown() in text
    assert "read_parquet('curated/" in text and "pd.read_parquet(" in text
    for name, dataset in datasets().items():
        assert f"`{name}`" in text
        for column in dataset.columns:
            assert f"| `{column.name}` |" in text


def test_readme_data_dictionary_section_is_up_to_date():
    assert dictionary_doc.main(["--check"]) == 0, "run: .venv/bin/python -m flows.dictionary_doc"


# --- the samples hold the truth -------------------------------------------------------------------


def read_published(data: Path, name: str) -> pd.DataFrame:
    glob = str(data / CURATED / name / "**" / "*.parquet")
    return duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)").df()


def num(text: str) -> float:
    return float(text.replace(",", ""))


def caption_year(caption: str) -> int:
    m = re.match(r"^(\d{4})", caption)
    assert m, caption
    return int(m.group(1))


NOTICE_REGIONS = {"附1-2": "east", "附1-3": "central_west_northeast", "附2-2": "east", "附2-3": "central_west"}
SCORES = ["base_score", "industry_development", "innovation", "public_service", "policy_support", "bonus",
          "expert_review", "survey", "total_score"]  # fmt: skip


def test_city_scores_hold_exactly_the_truth(published, notice_truth):
    got = read_published(published, "city_scores")
    tables = {t["id"]: t for t in notice_truth["tables"]}
    regional = {}
    for table_id, region in NOTICE_REGIONS.items():
        for row in tables[table_id]["rows"]:
            if row[0].isdigit():
                regional[(table_id[:2], row[1])] = (region, int(row[0]))
    expected = []
    for table_id, city_type in (("附1-1", "demonstration"), ("附2-1", "applicant")):
        columns = SCORES if city_type == "demonstration" else [c for c in SCORES if c != "bonus"]
        for row in tables[table_id]["rows"]:
            if not row[0].isdigit():  # the 平均值 row
                continue
            region, rank_region = regional[(table_id[:2], row[1])]
            values = dict(zip(columns, map(num, row[2:]), strict=True))
            expected.append({"year": caption_year(tables[table_id]["caption"]), "city": row[1],
                             "city_type": city_type, "region": region, "rank_national": int(row[0]),
                             "rank_region": rank_region, "bonus": None, **values})  # fmt: skip
    assert (got["city_type"] == "demonstration").sum() == 37 and (got["city_type"] == "applicant").sum() == 14
    assert len(expected) == 51
    records = {(r["city_type"], r["city"]): r for r in got.to_dict("records")}
    assert len(records) == len(got) == 51
    for want in expected:
        row = records[(want["city_type"], want["city"])]
        for key, value in want.items():
            if value is None:
                assert pd.isna(row[key]), (want["city"], key)
            else:
                assert row[key] == value, (want["city"], key, row[key], value)


def test_report_datasets_hold_exactly_the_truth(published, report_truth):
    tables = {t["id"]: t for t in report_truth["tables"]}
    execution = ["execution_usd_100m", "execution_yoy_pct", "execution_share_pct",
                 "offshore_usd_100m", "offshore_yoy_pct", "offshore_share_pct"]  # fmt: skip
    clusters = ["demo_execution_usd_100m", "demo_offshore_usd_100m", "driven_execution_usd_100m",
                "driven_offshore_usd_100m", "concentration_execution_pct", "concentration_offshore_pct"]  # fmt: skip

    def rows_of(table_id: str, label: str, columns: list[str], **extra: Any) -> list[dict[str, Any]]:
        table = tables[table_id]
        year = caption_year(table["caption"])
        return [{"year": year, label: r[0], **dict(zip(columns, map(num, r[1:]), strict=True)), **extra}
                for r in table["rows"]]  # fmt: skip

    region = rows_of("表8-1", "region", execution)
    for r in region:
        r["is_total"] = r["region"] == "总计"
    province = []
    for table_id in ("表8-2", "表8-3", "表8-4", "表8-5"):
        m = re.search(r"(东部|中部|西部|东北)地区", tables[table_id]["caption"])
        assert m
        province += rows_of(table_id, "province", execution, region=m.group(0))
    cluster = rows_of("表10-1", "region", clusters)
    for r in cluster:
        r["is_total"] = r["region"] == "全国"
    ito_table = tables["表3-1"]
    years = [int(h[:4]) for h in ito_table["header_rows"][0][1:]]
    ito = [{"year": y, "region": r[0], "ito_execution_usd_100m": num(v), "is_total": r[0] == "总计"}
           for r in ito_table["rows"] for y, v in zip(years, r[1:], strict=True)]  # fmt: skip

    for name, expected, key, count in (
        ("region_execution", region, ["year", "region"], 5),
        ("province_execution", province, ["year", "region", "province"], 22),
        ("ito_by_region", ito, ["year", "region"], 30),
        ("demo_city_clusters", cluster, ["year", "region"], 5),
    ):
        got = read_published(published, name)
        assert len(got) == len(expected) == count, name
        records = {tuple(r[k] for k in key): r for r in got.to_dict("records")}
        assert len(records) == count, f"{name}: key not unique"
        for want in expected:
            row = records[tuple(want[k] for k in key)]
            assert {k: row[k] for k in want} == want, name
            assert row["source_id"] == REPORT_ID


# --- kill -9 while publishing ---------------------------------------------------------------------

KILLER = """
import os, pickle, signal, sys, time
import flows.publish as publish

mode, arg, payload = sys.argv[1], sys.argv[2], sys.argv[3]
with open(payload, "rb") as fh:
    curated, sources, data, run = pickle.load(fh)

def hook(name):
    if mode == "step" and name == arg:
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "sleep":
        time.sleep(float(arg))

publish._step_hook = hook
print("ready", flush=True)
publish.publish(curated, sources, data, run)
print("finished", flush=True)
"""


def _spawn(mode: str, arg: str, payload: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", KILLER, mode, arg, str(payload)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _readable(data: Path) -> None:
    """Every dataset under curated/ opens in pandas and DuckDB with the same row count."""
    root = data / CURATED
    with duckdb.connect() as con:  # its own connection: the timed kill test reads from several threads
        for path in sorted(p for p in root.iterdir() if p.name in datasets()) if root.is_dir() else []:
            rows = len(pd.read_parquet(path))
            glob = str(path / "**" / "*.parquet")
            count = con.sql(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()
            assert count[0][0] == rows > 0, path


def _leftovers(data: Path) -> list[str]:
    versions = data / VERSIONS
    names = [p.name for p in versions.iterdir()] + [p.name for p in data.iterdir()]
    return [n for n in names if n.startswith((".staging-", ".trash-", ".curated-swap-"))]


def _prepare(kind: str, base: Path, curated: dict[str, Curated]) -> Path:
    """A data dir as a kill finds it: three versions already published, or the repository's placeholder."""
    base.mkdir(parents=True)
    if kind == "placeholder":
        (base / CURATED).mkdir()
        (base / CURATED / ".gitkeep").touch()
    else:
        for run_id in ("run-a", "run-b", "run-c"):
            publish(curated, source_infos(curated), base, run_info(run_id))
    return base


@pytest.mark.parametrize("kind", ["versions", "placeholder"])
def test_kill_9_at_any_step_leaves_curated_whole(curated_samples, tmp_path, kind):
    """SIGKILL at each step of a publish: curated/ is byte for byte the old tree before the swap, the new
    one after it, and readable either way; the next publish cleans up and succeeds."""
    infos = source_infos(curated_samples)
    template = _prepare(kind, tmp_path / "template", curated_samples)
    old = snapshot(template)

    reference = tmp_path / "reference"
    shutil.copytree(template, reference, symlinks=True)
    steps: list[str] = []
    publish_mod._step_hook = steps.append
    try:
        publish(curated_samples, infos, reference, run_info("run-d"))
    finally:
        publish_mod._step_hook = None
    new = snapshot(reference)
    assert new != old
    assert "swapped" in steps and ("pruning run-a" in steps) == (kind == "versions")
    writes = [s for s in steps if s.startswith("wrote ")]
    chosen = sorted({writes[0], writes[len(writes) // 2], *[s for s in steps if not s.startswith("wrote ")],
                     "wrote datapackage.json"}, key=steps.index)  # fmt: skip

    procs = {}
    for n, step in enumerate(chosen):
        data = tmp_path / f"kill{n}"
        shutil.copytree(template, data, symlinks=True)
        payload = data.parent / f"payload{n}.pkl"
        payload.write_bytes(pickle.dumps((curated_samples, infos, data, run_info("run-d"))))
        procs[step] = (data, _spawn("step", step, payload))
    for step, (data, proc) in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, f"{step}: {proc.returncode} {err}"
        assert "finished" not in out
        state = snapshot(data)
        if steps.index(step) < steps.index("swapped"):
            assert state == old, f"killed at {step!r}: curated/ is not the previous version"
        else:
            assert state == new, f"killed at {step!r}: curated/ is not the new version"
        _readable(data)

    for step, (data, _proc) in procs.items():
        result = publish(curated_samples, infos, data, run_info("run-e"))
        assert result.version == "run-e", step
        assert _leftovers(data) == [], step
        versions = [p for p in (data / VERSIONS).iterdir() if not p.name.startswith(".")]
        assert len(versions) <= publish_mod.KEEP_VERSIONS, step
        assert listing_errors(data / CURATED) == [], step


def test_kill_9_at_random_moments_leaves_old_or_new(curated_samples, tmp_path):
    """The same with a real clock: a publish slowed between steps, killed after a delay from outside."""
    infos = source_infos(curated_samples)
    template = _prepare("versions", tmp_path / "template", curated_samples)
    old = snapshot(template)
    reference = tmp_path / "reference"
    shutil.copytree(template, reference, symlinks=True)
    publish(curated_samples, infos, reference, run_info("run-d"))
    new = snapshot(reference)

    # ~30 steps x 0.1 s: the swap comes after roughly 2.5-3 s of a slowed publish.
    delays = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    outcomes: dict[float, str] = {}
    errors: list[BaseException] = []

    def kill_after(n: int, delay: float) -> None:
        try:
            _kill_after(n, delay)
        except BaseException as exc:  # a thread's exception would otherwise only be a warning
            errors.append(exc)

    def _kill_after(n: int, delay: float) -> None:
        data = tmp_path / f"timed{n}"
        shutil.copytree(template, data, symlinks=True)
        payload = tmp_path / f"timed{n}.pkl"
        payload.write_bytes(pickle.dumps((curated_samples, infos, data, run_info("run-d"))))
        proc = _spawn("sleep", "0.1", payload)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        state = snapshot(data)
        outcomes[delay] = "old" if state == old else "new" if state == new else "torn"
        _readable(data)
        publish(curated_samples, infos, data, run_info("run-e"))
        assert _leftovers(data) == []

    threads = [threading.Thread(target=kill_after, args=(n, d)) for n, d in enumerate(delays)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(outcomes) == len(delays)
    assert "torn" not in outcomes.values(), outcomes
    assert outcomes[0.0] == "old", outcomes
    print("timed kills:", outcomes)


# --- rollback -------------------------------------------------------------------------------------


def bumped(curated: dict[str, Curated], changes: dict[str, str]) -> dict[str, Curated]:
    """A copy of the samples with one float column of some datasets changed by +1."""
    out = {}
    for sid, item in curated.items():
        frames = {name: frame.copy() for name, frame in item.frames.items()}
        for name, column in changes.items():
            frames[name][column] = frames[name][column] + 1
        out[sid] = Curated(frames, item.cells)
    return out


def test_rollback_restores_the_previous_version_exactly(curated_samples, tmp_path):
    infos = source_infos(curated_samples)
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    first = snapshot(tmp_path)
    result = publish(bumped(curated_samples, {"city_scores": "total_score"}), infos, tmp_path, run_info("run-2"))
    assert (result.version, result.previous) == ("run-2", "run-1")
    assert snapshot(tmp_path) != first
    assert rollback(tmp_path) == "run-1"
    assert snapshot(tmp_path) == first
    _readable(tmp_path)
    with pytest.raises(RollbackError, match="no previous version"):
        rollback(tmp_path)
    # A publish after a rollback builds on what curated/ holds now.
    assert publish(curated_samples, infos, tmp_path, run_info("run-3")).previous == "run-1"


def test_rollback_with_nothing_published_says_so(tmp_path):
    with pytest.raises(RollbackError, match="nothing has been published"):
        rollback(tmp_path)
    (tmp_path / CURATED).mkdir()
    (tmp_path / CURATED / ".gitkeep").touch()
    with pytest.raises(RollbackError, match="nothing has been published"):
        rollback(tmp_path)


def test_soetl_rollback_command(curated_samples, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    runner = CliRunner()
    empty = runner.invoke(app, ["rollback", "--data-dir", str(tmp_path)])
    assert empty.exit_code == 1 and "nothing has been published" in empty.output
    infos = source_infos(curated_samples)
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    publish(curated_samples, infos, tmp_path, run_info("run-2"))
    done = runner.invoke(app, ["rollback", "--data-dir", str(tmp_path)])
    assert done.exit_code == 0 and "run-1" in done.output


def test_only_the_last_versions_are_kept_and_rollback_says_when_one_is_gone(curated_samples, tmp_path):
    infos = source_infos(curated_samples)
    for n in range(1, 6):
        publish(curated_samples, infos, tmp_path, run_info(f"run-{n}"))
    kept = sorted(p.name for p in (tmp_path / VERSIONS).iterdir() if not p.name.startswith("."))
    assert kept == ["run-3", "run-4", "run-5"]
    assert rollback(tmp_path) == "run-4"
    assert rollback(tmp_path) == "run-3"
    with pytest.raises(RollbackError, match="run-2 is no longer kept"):
        rollback(tmp_path)


# --- exclude, partial refreshes, first publish ----------------------------------------------------


def test_a_failed_dataset_keeps_its_previous_version_while_the_others_update(curated_samples, tmp_path):
    infos = source_infos(curated_samples)
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    before = snapshot(tmp_path)
    changed = bumped(curated_samples, {"region_execution": "execution_usd_100m", "city_scores": "total_score"})
    result = publish(changed, infos, tmp_path, run_info("run-2"), exclude={"region_execution"})
    assert result.kept_previous == {"region_execution": "run-1"}
    assert "region_execution" not in result.published and "city_scores" in result.published
    after = snapshot(tmp_path)
    region_files = [p for p in before if p.startswith("region_execution/")]
    assert region_files and all(after[p] == before[p] for p in region_files)
    assert (
        after["city_scores/year=2021/city_evaluation_2021.parquet"]
        != before["city_scores/year=2021/city_evaluation_2021.parquet"]
    )
    pd.testing.assert_series_equal(
        sort_rows(read_published(tmp_path, "region_execution"), datasets()["region_execution"])["execution_usd_100m"],
        expected_frame(curated_samples, "region_execution")["execution_usd_100m"],
    )
    scores = read_published(tmp_path, "city_scores").sort_values(["city_type", "city"]).reset_index(drop=True)
    original = expected_frame(curated_samples, "city_scores").sort_values(["city_type", "city"]).reset_index(drop=True)
    assert (scores["total_score"] - original["total_score"]).round(9).eq(1).all()
    pkg = json.loads((tmp_path / CURATED / "datapackage.json").read_text(encoding="utf-8"))
    assert {r.get("soetl:kept_previous") for r in resources_of(pkg, "region_execution")} == {"run-1"}
    assert pkg["soetl:run"]["kept_previous"] == {"region_execution": "run-1"}
    assert package_errors(tmp_path / CURATED) == []


def test_a_failed_dataset_with_no_previous_version_is_left_out(curated_samples, tmp_path):
    result = publish(curated_samples, source_infos(curated_samples), tmp_path, run_info("run-1"), exclude={"facts"})
    assert result.kept_previous == {"facts": None} and "facts" not in result.published
    assert not (tmp_path / CURATED / "facts").exists()
    pkg = json.loads((tmp_path / CURATED / "datapackage.json").read_text(encoding="utf-8"))
    assert resources_of(pkg, "facts") == []
    assert listing_errors(tmp_path / CURATED) == []


def test_refreshing_one_source_keeps_the_other_sources_datasets(curated_samples, tmp_path):
    infos = source_infos(curated_samples)
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    before = snapshot(tmp_path)
    notice_only = {NOTICE_ID: bumped(curated_samples, {"city_scores": "total_score"})[NOTICE_ID]}
    result = publish(notice_only, infos, tmp_path, run_info("run-2"))
    after = snapshot(tmp_path)
    report_files = [p for p in before if p.endswith(f"/{REPORT_ID}.parquet")]
    assert report_files and all(after[p] == before[p] for p in report_files)
    assert REPORT_ID in result.carried["region_execution"] and REPORT_ID in result.carried["facts"]
    pkg = json.loads((tmp_path / CURATED / "datapackage.json").read_text(encoding="utf-8"))
    assert {s["title"] for s in pkg["sources"]} == {NOTICE_ID, REPORT_ID}
    files = {r["path"]: r for r in pkg["resources"]}
    assert files[f"region_execution/year=2021/{REPORT_ID}.parquet"]["soetl:run_id"] == "run-1"
    assert files[f"city_scores/year=2021/{NOTICE_ID}.parquet"]["soetl:run_id"] == "run-2"
    assert listing_errors(tmp_path / CURATED) == [], "the report's figure PNGs are carried with its files"


def test_first_publish_over_the_repository_placeholder_directory(curated_samples, tmp_path):
    (tmp_path / CURATED).mkdir()
    (tmp_path / CURATED / ".gitkeep").touch()
    result = publish(curated_samples, source_infos(curated_samples), tmp_path, run_info("run-1"))
    assert result.previous is None and (tmp_path / CURATED).is_symlink()
    assert os.readlink(tmp_path / CURATED) == f"{VERSIONS}/run-1"
    assert _leftovers(tmp_path) == []
    _readable(tmp_path)


def test_a_tree_published_before_versioning_is_adopted_and_can_be_rolled_back_to(curated_samples, tmp_path):
    legacy = tmp_path / "elsewhere"
    publish(curated_samples, source_infos(curated_samples), legacy, run_info("run-0"))
    shutil.copytree(legacy / CURATED, tmp_path / CURATED)  # a plain directory, as a hand-made copy would be
    old = snapshot(tmp_path)
    result = publish(curated_samples, source_infos(curated_samples), tmp_path, run_info("run-1"))
    assert result.previous and result.previous.startswith("legacy-")
    assert (tmp_path / CURATED).is_symlink() and _leftovers(tmp_path) == []
    assert rollback(tmp_path) == result.previous
    assert snapshot(tmp_path) == old


def test_a_dataset_that_cannot_be_written_keeps_its_previous_files_and_the_rest_is_published(
    curated_samples, tmp_path
):
    infos = source_infos(curated_samples)
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    before = snapshot(tmp_path)
    broken = bumped(curated_samples, {"region_execution": "execution_usd_100m"})
    scores = broken[NOTICE_ID].frames["city_scores"]
    scores["rank_national"] = scores["rank_national"].astype("Int64")
    scores.loc[0, "rank_national"] = pd.NA
    result = publish(broken, infos, tmp_path, run_info("run-2"))
    assert set(result.failures) == {(NOTICE_ID, "city_scores")}
    assert "city_scores.rank_national has nulls" in str(result.failures[(NOTICE_ID, "city_scores")])
    after = snapshot(tmp_path)
    kept = f"city_scores/year=2021/{NOTICE_ID}.parquet"
    assert after[kept] == before[kept], "the previous file of the failed dataset is kept"
    region = f"region_execution/year=2021/{REPORT_ID}.parquet"
    assert after[region] != before[region]
    assert "region_execution" in result.published and _leftovers(tmp_path) == []


def test_a_source_without_a_year_fails_alone(curated_samples, tmp_path):
    infos = source_infos(curated_samples)
    no_year = {**infos, REPORT_ID: SourceInfo(**{**vars(infos[REPORT_ID]), "year": None})}
    result = publish(curated_samples, no_year, tmp_path, run_info("run-1"))
    failed = {d for s, d in result.failures if s == REPORT_ID}
    assert "facts" in failed and "figures" in failed, "datasets filed under the source's year cannot be"
    assert "region_execution" not in failed, "a dataset with its own year column still can"
    assert not any(s == NOTICE_ID for s, _ in result.failures)
    assert (tmp_path / CURATED / "facts" / "year=2021" / f"{NOTICE_ID}.parquet").is_file()
    assert listing_errors(tmp_path / CURATED) == []


def test_a_wrong_sha_or_a_bad_run_id_publishes_nothing_wrong(curated_samples, tmp_path):
    infos = source_infos(curated_samples)
    publish(curated_samples, infos, tmp_path, run_info("run-1"))
    before = snapshot(tmp_path)
    wrong_sha = {**infos, NOTICE_ID: SourceInfo(**{**vars(infos[NOTICE_ID]), "sha256": "0" * 64})}
    result = publish(curated_samples, wrong_sha, tmp_path, run_info("run-3"))
    assert {s for s, _ in result.failures} == {NOTICE_ID}
    assert all("but the source landed as" in str(e) for e in result.failures.values())
    assert {k: v for k, v in snapshot(tmp_path).items() if NOTICE_ID in k} == {
        k: v for k, v in before.items() if NOTICE_ID in k
    }
    with pytest.raises(PublishError, match="cannot name a directory"):
        publish(curated_samples, infos, tmp_path, run_info("../evil"))
    assert _leftovers(tmp_path) == []
