"""The made-up back catalogue (samples/backcatalog): ≥ 40 PDFs of both reports, 2014/2016–2023, three
evaluation schemes, restated years that agree across editions except the planted revisions, and truth.

The arithmetic here is the test's own (not schemas/checks.py): every table of every edition adds up
within its printed precision, on the editions' content for the whole catalogue and on the per-PDF
truth of the PDFs built. Building every PDF takes a few minutes, so by default a subset that spans both
kinds, all three schemes, both producers, a retypesetting and a republication is built;
SOETL_BACKCATALOG=all builds the whole catalogue.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from samples.backcatalog import build, build_all, catalogue, editions, index, scores, series
from samples.backcatalog.builder import document, glyph_text
from samples.variants import fonts
from samples.variants.build import check_glyphs
from samples.variants.content import build_document

pytest.importorskip("weasyprint", reason="WeasyPrint (test extra) typesets the back catalogue")
pytest.importorskip("reportlab", reason="reportlab (test extra) typesets the back catalogue")

SUBSET = [
    "annual_report_2019-alt1",  # reportlab, 续表
    "annual_report_2021",
    "annual_report_2022",
    "annual_report_2022-repub",  # the same edition again: same numbers, other bytes
    "city_evaluation_2014",  # 2014 scheme
    "city_evaluation_2016",  # 2016 scheme, reportlab
    "city_evaluation_2017",  # 2016 scheme, WeasyPrint with bold headers
    "city_evaluation_2021-alt1",  # 2021 scheme, reportlab, spacer column, 续表
    "city_evaluation_2023",  # 38 demonstration cities, 16 applicants
]
MEAN = "平均值"
CLUSTER_REGION = {"东部": "东部地区", "中部": "中部地区", "西部": "西部地区", "东北": "东北地区", "全国": "总计"}


def _chosen() -> list:
    entries = catalogue()
    if os.environ.get("SOETL_BACKCATALOG") == "all":
        return entries
    return [e for e in entries if e.id in SUBSET]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> tuple[Path, Path, dict, dict[str, tuple[Path, dict]]]:
    out = tmp_path_factory.mktemp("backcatalog")
    entries = _chosen()
    catalog, truth_index = build_all(out, entries)
    pdfs = {e.id: (out / f"{e.id}.pdf", json.loads((out / f"{e.id}.json").read_text(encoding="utf-8")))
            for e in entries}
    return out, catalog, truth_index, pdfs


@pytest.fixture(scope="session")
def full_index() -> dict:
    return index.truth_index(catalogue())


# ------------------------------------------------------------------------------------ arithmetic


def _half(text: str) -> float:
    text = text.replace(",", "").rstrip("*")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals


class Frame:
    """One table as numbers: column name -> per row (value, half a unit of its last printed digit)."""

    def __init__(self, table: dict, names: list[str | None], values: list[list[float | None]]) -> None:
        self.table = table
        self.keys: list[str] = table["keys"]
        self.cols: dict[str, list[tuple[float, float] | None]] = {}
        for c, name in enumerate(names):
            if name is None or all(v[c] is None for v in values):
                continue  # a column no spec knows (an extra one a style adds), or the row labels
            self.cols[name] = [
                (v[c], _half(row[c])) if v[c] is not None else None
                for row, v in zip(table["rows"], values, strict=True)
            ]

    def row(self, key: str) -> int:
        return self.keys.index(key)

    def get(self, name: str, key: str) -> tuple[float, float]:
        cell = self.cols[name][self.row(key)]
        assert cell is not None, (self.table["id"], name, key)
        return cell


def _content_frames(kind: str, year: int) -> dict[str, Frame]:
    out = {}
    for t in editions.document(kind, year)["tables"]:
        values = [[float(c) if index.NUMBER.match(c) else None for c in row] for row in t["rows"]]
        out[t["id"]] = Frame(t, index.canonical(kind, t), values)
    return out


def _truth_frames(truth: dict) -> dict[str, Frame]:
    return {t["id"]: Frame(t, t["canonical"], t["values"]) for t in truth["tables"]}


def _sum_ok(parts: list[tuple[float, float]], total: tuple[float, float], *, at_most: bool = False) -> bool:
    s = sum(v for v, _ in parts)
    tol = sum(h for _, h in parts) + total[1] + 1e-9
    return s <= total[0] + tol if at_most else abs(s - total[0]) <= tol


def _spread(terms: list[tuple[float, float]], f) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    nominal = f([v for v, _ in terms])
    worst = max(abs(f([v + s * h for (v, h), s in zip(terms, signs, strict=True)]) - nominal)
                for signs in itertools.product((-1, 1), repeat=len(terms)))
    return nominal, worst


def _ratio_ok(num: tuple[float, float], den: list[tuple[float, float]], result: tuple[float, float]) -> bool:
    """result ≈ num ÷ Σden × 100, for some true values the printed ones stand for."""
    terms = [num, *den]
    nominal, spread = _spread(terms, lambda x: x[0] / sum(x[1:]) * 100)
    return abs(result[0] - nominal) <= spread + result[1] + 1e-9


def _share_of_part_ok(part: tuple[float, float], other: tuple[float, float], result: tuple[float, float]) -> bool:
    """result ≈ part ÷ (part + other) × 100 (the same printed part in numerator and denominator)."""
    nominal, spread = _spread([part, other], lambda x: x[0] / (x[0] + x[1]) * 100)
    return abs(result[0] - nominal) <= spread + result[1] + 1e-9


def _growth_ok(now: tuple[float, float], before: tuple[float, float], result: tuple[float, float]) -> bool:
    nominal, spread = _spread([now, before], lambda x: (x[0] / x[1] - 1) * 100)
    return abs(result[0] - nominal) <= spread + result[1] + 1e-9


def annual_problems(frames: dict[str, Frame]) -> list[str]:
    by = {f.table["dataset"]: f for f in frames.values() if f.table["dataset"] != "province_execution"}
    provinces = [f for f in frames.values() if f.table["dataset"] == "province_execution"]
    out: list[str] = []
    ito = by["ito_by_region"]
    for name in ito.cols:
        parts = [ito.get(name, r) for r in series.REGIONS]
        if not _sum_ok(parts, ito.get(name, series.TOTAL)):
            out.append(f"{ito.table['id']} {name}: regions do not add up to 总计")
    reg = by["region_execution"]
    for name in ("execution_usd_100m", "offshore_usd_100m", "execution_share_pct", "offshore_share_pct"):
        if not _sum_ok([reg.get(name, r) for r in series.REGIONS], reg.get(name, series.TOTAL)):
            out.append(f"{reg.table['id']} {name}: regions do not add up to 总计")
    shares = (("execution_share_pct", "execution_usd_100m"), ("offshore_share_pct", "offshore_usd_100m"))
    for share, amount in shares:
        national = reg.get(amount, series.TOTAL)
        for key in series.REGIONS:
            if not _ratio_ok(reg.get(amount, key), [national], reg.get(share, key)):
                out.append(f"{reg.table['id']} {key} {share}")
        for f in provinces:
            for key in f.keys:
                if not _ratio_ok(f.get(amount, key), [national], f.get(share, key)):
                    out.append(f"{f.table['id']} {key} {share}")
    for f in provinces:
        region = f.table["attributes"]["region"]
        complete = f.table["attributes"]["complete"]
        assert complete == f.table["caption"].startswith(f"{f.table['attributes']['year']}年{region}各")
        for name in ("execution_usd_100m", "offshore_usd_100m", "execution_share_pct", "offshore_share_pct"):
            parts = [f.get(name, k) for k in f.keys]
            if not _sum_ok(parts, reg.get(name, region), at_most=not complete):
                out.append(f"{f.table['id']} {name}: provinces against {region}")
    cl = by["demo_city_clusters"]
    pairs = (("demo_execution_usd_100m", "driven_execution_usd_100m", "execution_usd_100m",
              "concentration_execution_pct"),
             ("demo_offshore_usd_100m", "driven_offshore_usd_100m", "offshore_usd_100m", "concentration_offshore_pct"))
    for demo, driven, amount, conc in pairs:
        for key in cl.keys:
            if not _sum_ok([cl.get(demo, key), cl.get(driven, key)], reg.get(amount, CLUSTER_REGION[key])):
                out.append(f"{cl.table['id']} {key}: {demo} + {driven} against {reg.table['id']}")
            if not _share_of_part_ok(cl.get(demo, key), cl.get(driven, key), cl.get(conc, key)):
                out.append(f"{cl.table['id']} {key} {conc}")
        for name in (demo, driven):
            if not _sum_ok([cl.get(name, k) for k in cl.keys[:-1]], cl.get(name, cl.keys[-1])):
                out.append(f"{cl.table['id']} {name}: regions do not add up to 全国")
    return out


def _city_rows(f: Frame) -> list[str]:
    return [k for k in f.keys if k != MEAN]


def notice_problems(frames: dict[str, Frame], scheme: str) -> list[str]:
    out: list[str] = []
    groups: dict[str, list[Frame]] = defaultdict(list)
    for f in frames.values():
        assert f.table["dataset"] == "city_scores" and f.table["scheme"] == scheme
        groups[f.table["attributes"]["city_type"]].append(f)
        cities = _city_rows(f)
        assert f.keys[-1] == MEAN and len(cities) == len(f.keys) - 1, f.table["id"]
        for key in f.keys:
            row = {n: col[f.row(key)] for n, col in f.cols.items() if col[f.row(key)] is not None}
            if scheme == "2021":
                parts = [row[p] for p in scores.PARTS_2021 if p in row]
                if not _sum_ok(parts, row["base_score"]):
                    out.append(f"{f.table['id']} {key}: base_score is not the sum of its parts")
                if not _sum_ok([row["base_score"], row["expert_review"], row["survey"]], row["total_score"]):
                    out.append(f"{f.table['id']} {key}: total_score is not base + expert + survey")
            elif scheme == "2016":
                if not _sum_ok([row[k] for k in scores.INDICATORS_2016], row["total_score"]):
                    out.append(f"{f.table['id']} {key}: 综合得分 is not the sum of the five indicators")
        for name, col in f.cols.items():
            if name == "rank":
                continue
            values = [col[f.row(k)] for k in cities]
            mean = sum(v for v, _ in values) / len(values)
            printed, half = col[f.row(MEAN)]
            if abs(printed - mean) > sum(h for _, h in values) / len(values) + half + 1e-9:
                out.append(f"{f.table['id']} 平均值 {name}: {printed} against the mean {mean:.4f}")
    for city_type, frames_of in groups.items():
        national = [f for f in frames_of if f.table["attributes"]["scope"] == "national"]
        assert len(national) == 1, city_type
        nat = national[0]
        totals = {k: nat.get("total_score", k)[0] for k in _city_rows(nat)}
        for k in totals:
            higher = sum(t > totals[k] for t in totals.values())
            if nat.get("rank", k)[0] != higher + 1:
                out.append(f"{nat.table['id']} {k}: rank does not follow 综合得分")
        if scheme == "2016":
            for name, (_, weight) in {**scores.INDICATORS_2016, "total_score": ("", 100)}.items():
                average = nat.get(name, MEAN)[0]
                if abs(average - weight) > 0.01 + 1e-9:
                    out.append(f"{nat.table['id']} {name}: the average city scores {average}, not {weight}")
        regional = [f for f in frames_of if f.table["attributes"]["scope"] == "region"]
        seen: list[str] = []
        for f in regional:
            cities = _city_rows(f)
            seen += cities
            order = sorted(cities, key=lambda k: nat.get("rank", k)[0])
            if cities != order or [f.get("rank", k)[0] for k in cities] != list(range(1, len(cities) + 1)):
                out.append(f"{f.table['id']}: ranks are not 1…n in national order")
            for k in cities:
                for name in f.cols:
                    if name != "rank" and f.get(name, k)[0] != nat.get(name, k)[0]:
                        out.append(f"{f.table['id']} {k} {name}: not as in {nat.table['id']}")
        if regional and sorted(seen) != sorted(_city_rows(nat)):
            out.append(f"{city_type}: the regional tables do not partition {nat.table['id']}")
    return out


def _editions() -> list[tuple[str, int]]:
    return sorted({(e.kind, e.year) for e in catalogue()})


# ------------------------------------------------------------------------------------ catalogue


def test_catalogue_spans_kinds_years_schemes_and_typesettings():
    entries = catalogue()
    assert len(entries) >= 40 and len({e.id for e in entries}) == len(entries)
    for kind in editions.KINDS:
        years = {e.year for e in entries if e.kind == kind}
        assert set(range(2016, 2024)) <= years, kind
    schemes = {e.scheme for e in entries if e.kind == "city_evaluation"}
    assert schemes == {"2021", "2016", "2014"}
    assert {e.year for e in entries if e.scheme == "2016"} == {2016, 2017}
    assert {e.role for e in entries} == {"base", "retypeset", "republication"}
    by_edition = defaultdict(list)
    for e in entries:
        by_edition[e.edition].append(e)
    assert all(sum(e.role == "base" for e in es) == 1 for es in by_edition.values())
    assert sum(len(es) > 1 for es in by_edition.values()) >= 12
    # Within an edition every PDF has its own typesetting, so no two PDFs have the same bytes.
    for es in by_edition.values():
        styles = [(e.variant, json.dumps(e.overrides, sort_keys=True)) for e in es]
        assert len(set(styles)) == len(styles), es[0].edition
    for e in entries:
        if e.role == "republication":
            base = next(b for b in by_edition[e.edition] if b.role == "base")
            assert e.variant == base.variant and e.overrides, e.id
    producers = {document(e).variant.producer for e in entries}
    assert producers == {"weasyprint", "reportlab"}
    assert len({document(e).variant.font for e in entries}) >= 5


def test_every_character_is_in_the_bundled_subsets_and_a_missing_one_fails_loudly():
    wanted = glyph_text()
    listed = (Path(editions.__file__).parent / "glyphs.toml").read_text(encoding="utf-8")
    assert set(wanted["all"]) <= set(listed), "run python -m samples.backcatalog --glyphs, then samples.variants.fonts"
    for e in catalogue():
        check_glyphs(document(e))
    e = next(e for e in catalogue() if e.id == "city_evaluation_2016")
    source = editions.document(e.kind, e.year)
    source["tables"][0]["rows"][0][1] = "龘州"  # a city no subset has
    doc = build_document(document(e).variant, source)
    with pytest.raises(fonts.MissingGlyph, match="龘"):
        check_glyphs(doc)


def test_every_edition_adds_up_within_its_printed_precision():
    for kind, year in _editions():
        frames = _content_frames(kind, year)
        if kind == "annual_report":
            assert annual_problems(frames) == [], year
        else:
            assert notice_problems(frames, scores.scheme(year)) == [], year


def test_growth_rates_agree_with_the_previous_edition():
    """An edition's 同比增长 is its amount over the amount the previous edition printed (one series)."""
    checked = 0
    for year in range(2017, 2024):
        now = _content_frames("annual_report", year)
        before = _content_frames("annual_report", year - 1)
        previous = {(f.table["dataset"], k): f for f in before.values() for k in f.keys}
        for f in now.values():
            if f.table["dataset"] not in ("region_execution", "province_execution"):
                continue
            for key in f.keys:
                old = previous.get((f.table["dataset"], key))
                if old is None:
                    assert key == "海南省" and year == series.HAINAN_FROM
                    continue
                for amount, growth in (("execution_usd_100m", "execution_yoy_pct"),
                                       ("offshore_usd_100m", "offshore_yoy_pct")):
                    assert _growth_ok(f.get(amount, key), old.get(amount, key), f.get(growth, key)), (year, key)
                    checked += 1
    assert checked > 200


def test_the_anchor_editions_print_the_replicas_tables():
    replica = json.loads((Path(series.TRUTH)).read_text(encoding="utf-8"))
    mine = {t["id"]: t for t in editions.document("annual_report", 2021)["tables"]}
    assert mine["表3-1"]["rows"] == next(t for t in replica["tables"] if t["id"] == "表3-1")["rows"]
    for tid in ("表8-2", "表8-3", "表8-4", "表8-5"):
        assert mine[tid]["rows"] == next(t for t in replica["tables"] if t["id"] == tid)["rows"], tid
    notice = json.loads(Path(scores.TRUTH).read_text(encoding="utf-8"))
    for t in editions.document("city_evaluation", 2021)["tables"]:
        assert t["rows"] == next(r for r in notice["tables"] if r["id"] == t["id"])["rows"], t["id"]


def test_editions_change_numbering_rows_and_cities():
    ids = {y: [t["id"] for t in editions.document("annual_report", y)["tables"]] for y in editions.ANNUAL_YEARS}
    assert ids[2016][0] == "表6-1" and "表7-1" in ids[2016]
    assert ids[2021][0] == "表3-1" and ids[2022][0] == "表2-1" and "表6-1" in ids[2022]
    east = {y: next(t for t in editions.document("annual_report", y)["tables"]
                    if t["attributes"].get("region") == "东部地区") for y in (2021, 2022)}
    assert "海南省" not in east[2021]["keys"] and "海南省" in east[2022]["keys"]
    assert "部分" in east[2021]["caption"] and "各省市" in east[2022]["caption"]
    count = {y: len(scores.cities(y)) for y in (2014, 2016, 2018, 2020, 2022)}
    assert count == {2014: 21, 2016: 31, 2018: 31, 2020: 37, 2022: 38}
    old = editions.document("city_evaluation", 2016)["tables"][0]
    assert old["columns"] == ["序号", "城市", "综合得分", "产业发展情况", "基础设施状况", "人才培养培训与就业",
                              "要素成本", "政策措施"]
    assert old["scales"]["infrastructure"] == {"kind": "normalised", "mean": 15,
                                               "note": "the average demonstration city scores the weight"}


def test_prose_states_what_the_tables_show():
    for kind, year in _editions():
        doc = editions.document(kind, year)
        text = "".join(t for k, t in doc["blocks"] if k == "paragraph")
        if kind == "city_evaluation":
            n = int(re.search(r"对(\d+)个服务外包示范城市", text)[1])
            assert n == len(scores.cities(year)), year
            if m := re.search(r"及(\d+)个服务外包申请城市", text):
                assert int(m[1]) == len(scores.cities(year, "applicant"))
        else:
            ito = next(t for t in doc["tables"] if t["dataset"] == "ito_by_region")
            assert f"承接信息技术外包{ito['rows'][-1][-1]}亿美元" in text, year


# ------------------------------------------------------------------------------------ truth index


def test_restated_years_agree_across_editions_except_the_planted_revisions(full_index):
    planted = {(r["key"]["region"], r["year"]) for r in full_index["planted_revisions"]}
    totals = {(series.TOTAL, y) for _, y in planted}
    restated = 0
    for cell in full_index["values"]:
        if cell["dataset"] != "ito_by_region" or len(cell["by_edition"]) < 2:
            continue
        restated += 1
        ident = (cell["key"]["region"], cell["year"])
        assert cell["revised"] == (ident in planted | totals), ident
        if not cell["revised"]:
            assert len(set(cell["by_edition"].values())) == 1
    assert restated >= 50
    # Only the ITO table restates years; nothing else differs between editions.
    revised = {(r["dataset"], r["key"]["region"], r["year"]) for r in full_index["revisions"]}
    assert revised == {("ito_by_region", k, y) for k, y in planted | totals}
    assert all(r["planted"] is not None for r in full_index["revisions"])
    # Each edition prints the six years up to its own.
    ito = [c for c in full_index["values"] if c["dataset"] == "ito_by_region" and c["key"]["region"] == "东部地区"]
    for c in ito:
        assert sorted(int(e[-4:]) for e in c["by_edition"]) == [y for y in editions.ANNUAL_YEARS
                                                                  if c["year"] in series.ito_years(y)]


def test_planted_revisions_differ_beyond_rounding(full_index):
    planted = full_index["planted_revisions"]
    assert 3 <= len(planted) <= 4
    assert any(r["edition"] == "annual_report_2022" and r["key"] == {"region": "东部地区"} and r["year"] == 2020
               for r in planted)
    cells = {(c["key"]["region"], c["year"]): c for c in full_index["values"] if c["dataset"] == "ito_by_region"}
    for r in planted:
        old, new = Decimal(r["old"]), Decimal(r["new"])
        assert abs(new - old) > Decimal("0.1"), r["id"]  # beyond both half-units (0.05 + 0.05)
        cell = cells[r["key"]["region"], r["year"]]
        assert {cell["by_edition"][e] for e in r["printed_old_by"]} == {r["old"]}
        assert {cell["by_edition"][e] for e in r["printed_new_by"]} == {r["new"]}
        assert r["printed_old_by"] and r["printed_new_by"], r["id"]
        total = cells[series.TOTAL, r["year"]]
        restated = [Decimal(total["by_edition"][r[which][0]]) for which in ("printed_old_by", "printed_new_by")]
        assert restated[1] - restated[0] == new - old, r["id"]  # the total is restated with its region
        assert cell["current"]["text"] == r["new"]


def test_index_names_the_newest_edition_current(full_index):
    eds = full_index["editions"]
    for cell in full_index["values"]:
        newest = max(cell["by_edition"], key=lambda k: eds[k]["year"])
        assert cell["current"]["edition"] == newest
        assert cell["current"]["sources"] == eds[newest]["sources"]
        assert cell["current"]["text"] == cell["by_edition"][newest]
    assert sum(len(e["sources"]) for e in eds.values()) == len(full_index["sources"]) == len(catalogue())
    scales = {c["scale"]["kind"] for c in full_index["values"] if c["dataset"] == "city_scores" and c.get("scale")}
    assert scales == {"points", "normalised", "composite"}


# ------------------------------------------------------------------------------------ built PDFs


def test_catalog_toml_loads_and_names_every_pdf(built):
    from flows.catalog import load_catalog

    out, catalog, _, pdfs = built
    sources = load_catalog(catalog)
    assert [s.id for s in sources] == list(pdfs)
    for s in sources:
        e = next(e for e in catalogue() if e.id == s.id)
        assert (s.kind, s.year) == (e.kind, e.year)
        assert Path(s.url) == (out / f"{s.id}.pdf").resolve() and Path(s.url).is_file()


def test_truth_matches_each_pdf_cell_by_cell(built):
    from samples.variants.verify import problems

    _, _, _, pdfs = built
    for name, (pdf, truth) in pdfs.items():
        assert problems(pdf, truth) == [], name


def test_titles_detect_kind_and_year(built):
    import pdfplumber

    from extractors.spec import detect_kind, load_specs

    specs = load_specs()
    for name, (pdf, truth) in built[3].items():
        with pdfplumber.open(pdf) as doc:
            found = detect_kind(doc.pages[0].extract_text() or "", specs)
        assert found is not None, name
        assert (found[0].kind, found[1]) == (truth["edition"]["kind"], truth["edition"]["year"]), name


def test_every_pdf_differs_in_bytes_and_editions_print_their_content(built):
    _, _, truth_index, pdfs = built
    hashes = [truth_index["sources"][name]["sha256"] for name in pdfs]
    assert len(set(hashes)) == len(hashes)
    for name, (_, truth) in pdfs.items():
        content = {t["id"]: t for t in editions.document(truth["kind"], truth["edition"]["year"])["tables"]}
        assert [t["id"] for t in truth["tables"]] == list(content)
        for t in truth["tables"]:
            mine = content[t["id"]]
            kept = [c for c, name_ in enumerate(t["canonical"]) if name_ is not None]  # not an extra column
            got = [[row[c] for c in kept] for row in t["values"]]
            assert got == [[float(c) if index.NUMBER.match(c) else None for c in row] for row in mine["rows"]], (
                name, t["id"])
            assert t["keys"] == mine["keys"] and t["dataset"] == mine["dataset"]


def test_built_truth_adds_up(built):
    for name, (_, truth) in built[3].items():
        frames = _truth_frames(truth)
        if truth["kind"] == "annual_report":
            assert annual_problems(frames) == [], name
        else:
            assert notice_problems(frames, truth["edition"]["scheme"]) == [], name


def test_restated_cells_in_the_pdfs_agree_except_planted(built):
    _, _, _, pdfs = built
    printed: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for name, (_, truth) in pdfs.items():
        for t in truth["tables"]:
            if t.get("dataset") != "ito_by_region":
                continue
            for key, values in zip(t["keys"], t["values"], strict=True):
                for name_, v in zip(t["canonical"], values, strict=True):
                    if name_ and "@" in name_:
                        printed[key, int(name_.split("@")[1])][name] = v
    planted = {(r.region, r.year) for r in series.REVISIONS} | {(series.TOTAL, r.year) for r in series.REVISIONS}
    compared = 0
    for ident, by_pdf in printed.items():
        if len(by_pdf) > 1:
            compared += 1
            if ident not in planted:
                assert len(set(by_pdf.values())) == 1, (ident, by_pdf)
    assert compared >= 20
    if {"annual_report_2021", "annual_report_2022"} <= set(pdfs):
        east = printed["东部地区", 2020]
        assert east["annual_report_2021"] == 655.8 and east["annual_report_2022"] == 662.4


def test_build_is_deterministic(tmp_path):
    e = next(e for e in catalogue() if e.id == "city_evaluation_2014")
    one, _ = build(e, tmp_path / "one")
    two, _ = build(e, tmp_path / "two")
    assert one.read_bytes() == two.read_bytes()
