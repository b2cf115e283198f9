"""The demo workspace end to end through the real command line: what a user gets after `okr-report run`.

Expected owners, KRs, names, titles and check-ins are read here from the raw exports (sheet and column
names from okr.yaml), never from the product's code.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
import time
from datetime import datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
DEMO_QUARTER = DEMO_SLUG = "FY2017-18-Q4"

QUARTER_LABEL = "FY2017-18 Q4"
Q_START, Q_LAST_DAY = pd.Timestamp("2018-01-01"), pd.Timestamp("2018-03-31")
Q_END = pd.Timestamp("2018-04-01")  # exclusive
MIN_TEAMS, MIN_PEOPLE, PERSON_PDF_SAMPLE = 6, 60, 12
REQUIRED_COLUMNS = ["quarter", "tier", "owner_id", "owner_name", "team_id", "objective_id", "kr_id", "kr_title",
                    "source", "metric", "baseline", "target", "actual", "attainment", "score", "status", "lineage"]
STATUSES = {"red", "yellow", "green", "no_data"}
FILE_SAFE = re.compile(r"[A-Za-z0-9_-]+")
CJK_FONT = re.compile(r"noto[ -]?sans[ -]?cjk|wenquanyi|wqy", re.IGNORECASE)


# -- the workspace, read independently -------------------------------------------------------------

@cache
def config() -> dict:
    return yaml.safe_load((DEMO / "okr.yaml").read_text(encoding="utf-8"))


def sheet(source: str) -> pd.DataFrame:
    """An XLSX source renamed to canonical names, with the value labels of okr.yaml applied."""
    src = config()["sources"][source]
    raw = pd.read_excel(DEMO / src["path"], sheet_name=src["sheet"], engine="openpyxl")
    cols = {export: canonical for canonical, export in src["columns"].items() if export in raw.columns}
    frame = raw[list(cols)].rename(columns=cols)
    for col, labels in (src.get("values") or {}).items():
        frame[col] = frame[col].map(lambda v, m=labels: m.get(v, v) if isinstance(v, str) else v)
    return frame


@cache
def people() -> pd.DataFrame:
    p = sheet("people")
    p["person_id"] = p["person_id"].astype(str)
    for col in ("started_at", "ended_at"):
        p[col] = pd.to_datetime(p[col])
    return p


@cache
def expected_people() -> list[str]:
    """Salespeople with a team employed at some point in the quarter."""
    p = people()
    employed = (p["started_at"] <= Q_LAST_DAY) & (p["ended_at"].isna() | (p["ended_at"] >= Q_START))
    return sorted(p.loc[employed & (p["role"] == "sales") & p["team_id"].notna(), "person_id"])


@cache
def teams() -> pd.DataFrame:
    t = sheet("teams")
    t["team_id"] = t["team_id"].astype(str)
    return t


@cache
def expected_teams() -> list[str]:
    return sorted(teams()["team_id"])


@cache
def plan() -> pd.DataFrame:
    return sheet("plan")


def company_id() -> str:
    return config()["company"]["id"]


@cache
def expected_kr_rows() -> set[tuple[str, str, str]]:
    """(tier, owner_id, kr_id) for every row the plan implies this quarter."""
    out = set()
    for rec in plan().to_dict("records"):
        tier, owner, kr = rec["tier"], str(rec["owner_id"]), rec["kr_id"]
        if tier == "company":
            owners = [company_id()] if owner in ("*", company_id()) else []
        elif tier == "team":
            owners = expected_teams() if owner == "*" else [owner]
        elif owner == "role:sales":
            owners = expected_people()
        else:
            owners = [owner]
        out |= {(tier, o, kr) for o in owners}
    return out


def owner_name(tier: str, owner: str) -> str:
    if tier == "company":
        return config()["company"]["name"]
    if tier == "team":
        return str(teams().set_index("team_id").loc[owner, "team_name"])
    return str(people().set_index("person_id").loc[owner, "person_name"])


def kr_titles(tier: str, owner: str, column: str = "kr_title_zh") -> dict[str, str]:
    titles = plan().set_index("kr_id")[column].to_dict()
    return {kr: titles[kr] for t, o, kr in expected_kr_rows() if (t, o) == (tier, owner)}


def metric_kinds() -> dict[str, str]:
    return {name: d["kind"] for name, d in config()["metrics"].items()}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path) -> str:
    return squash("".join(page.extract_text() or "" for page in PdfReader(path).pages))


def card_path(folder: Path, tier: str, owner: str, ext: str) -> Path:
    if tier == "company":
        return folder / f"company.{ext}"
    return folder / ("teams" if tier == "team" else "people") / f"{owner}.{ext}"


def person_sample() -> list[str]:
    """A deterministic spread of salespeople: every k-th in id order, at least PERSON_PDF_SAMPLE of them."""
    ids = expected_people()
    step = max(1, len(ids) // PERSON_PDF_SAMPLE)
    return ids[::step]


# -- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def kr_csv(demo_folder) -> pd.DataFrame:
    return pd.read_csv(demo_folder / "kr_values.csv", dtype={"owner_id": str, "team_id": str, "kr_id": str})


@pytest.fixture(scope="session")
def manifest(demo_folder) -> dict:
    return json.loads((demo_folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_en_folder(tmp_path_factory) -> Path:
    """The demo's company and team scorecards and KR table in English, through the engine, view models and
    renderer a run uses. (A whole variant in another locale, published by the command line, is tested on the
    small workspace in test_variants; the 69 people's PDFs are not needed to read these titles.)"""
    from flows import publish
    from flows.config_io import load_workspace
    from flows.extract import read_all
    from flows.render import pdf_bytes, render_html
    from transforms.calendar import parse_quarter
    from transforms.report import compute_quarter
    from transforms.scorecards import build_scorecards, kr_table
    from transforms.validation import stage_workspace

    ws, ws_dir = load_workspace(DEMO)
    raw, _ = read_all(dict(ws.sources), ws_dir)
    tables, _ = stage_workspace(raw, ws)
    res = compute_quarter(ws, tables, parse_quarter(DEMO_QUARTER, ws.fiscal_year_start_month), None, "en")
    cards = build_scorecards(res, ws, tables, "en", "2026-12-01 08:00", "en-check")
    folder = tmp_path_factory.mktemp("demo_en")
    for card in cards:
        if card["tier"] != "person":
            path = folder / f"{card['path']}.pdf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pdf_bytes(render_html(card)))
    names = {(c["tier"], c["owner_id"]): c["owner_name"] for c in cards}
    publish.write_csv(kr_table(res, names, "en"), folder / "kr_values.csv")
    return folder


# -- the run itself --------------------------------------------------------------------------------

def test_run_exits_cleanly_with_a_summary(demo_run):
    assert demo_run.returncode == 0, demo_run.stderr
    assert QUARTER_LABEL in demo_run.stdout
    assert "company score" in demo_run.stdout
    assert str(demo_run.out.resolve() / DEMO_SLUG) in demo_run.stdout
    assert "Traceback" not in demo_run.stderr
    bad = [line for line in demo_run.stderr.splitlines() if re.search(r"\berror\b", line, re.IGNORECASE)]
    assert not bad, bad


def test_quarter_folder_is_a_published_version(demo_run, demo_folder):
    link = demo_run.out / DEMO_SLUG
    assert link.is_symlink()
    target = link.resolve()
    assert target.is_dir() and target != link
    assert (demo_run.out / ".runs" / DEMO_SLUG) in target.parents


def test_expected_owners_read_from_the_exports():
    # sanity of the independent reading before it is used as the yardstick
    assert len(expected_teams()) >= MIN_TEAMS
    assert len(expected_people()) >= MIN_PEOPLE
    assert set(people().loc[people()["role"] == "sales", "team_id"].dropna()) <= set(expected_teams())
    assert all(FILE_SAFE.fullmatch(x) for x in expected_teams() + expected_people())


def test_one_scorecard_per_owner_as_html_and_pdf(demo_folder):
    for name in ("company.html", "company.pdf", "index.html", "kr_values.csv", "kr_values.xlsx", "manifest.json"):
        assert (demo_folder / name).is_file(), name
        assert (demo_folder / name).stat().st_size > 0, name
    for sub, expected in (("teams", expected_teams()), ("people", expected_people())):
        for ext in ("html", "pdf"):
            found = sorted(p.stem for p in (demo_folder / sub).glob(f"*.{ext}"))
            assert found == expected, f"{sub}/*.{ext}"
    assert len(list((demo_folder / "teams").glob("*.pdf"))) >= MIN_TEAMS
    assert len(list((demo_folder / "people").glob("*.pdf"))) >= MIN_PEOPLE


def test_index_links_every_scorecard(demo_folder):
    html = (demo_folder / "index.html").read_text(encoding="utf-8")
    hrefs = set(re.findall(r'href="([^"]+)"', html))
    wanted = {"company.html", "company.pdf"}
    wanted |= {f"teams/{t}.{ext}" for t in expected_teams() for ext in ("html", "pdf")}
    wanted |= {f"people/{p}.{ext}" for p in expected_people() for ext in ("html", "pdf")}
    assert wanted <= hrefs, sorted(wanted - hrefs)[:10]
    assert all((demo_folder / h).is_file() for h in wanted)


def test_every_pdf_opens(demo_folder):
    pdfs = sorted(demo_folder.rglob("*.pdf"))
    assert len(pdfs) == 1 + len(expected_teams()) + len(expected_people())
    for path in pdfs:
        reader = PdfReader(path)
        assert len(reader.pages) >= 1, path


@pytest.mark.parametrize("tier", ["company", "team", "person"])
def test_pdf_shows_owner_and_kr_titles(demo_folder, tier):
    owners = {"company": [company_id()], "team": expected_teams(), "person": person_sample()}[tier]
    if tier == "person":
        assert len(owners) >= 10
    for owner in owners:
        text = pdf_text(card_path(demo_folder, tier, owner, "pdf"))
        assert squash(owner_name(tier, owner)) in text, (tier, owner)
        titles = kr_titles(tier, owner)
        assert titles, (tier, owner)
        # Whitespace is removed on both sides, so a title wrapped over two lines still matches in full;
        # no prefix fallback is needed for the demo's titles.
        missing = [t for t in titles.values() if squash(t) not in text]
        assert not missing, (tier, owner, missing)


# -- kr_values.csv ------------------------------------------------------------------------------------

def test_kr_table_has_one_row_per_planned_kr(kr_csv):
    assert set(REQUIRED_COLUMNS) <= set(kr_csv.columns)
    keys = list(zip(kr_csv["tier"], kr_csv["owner_id"], kr_csv["kr_id"]))
    assert len(keys) == len(set(keys)), "duplicate (tier, owner, KR) rows"
    expected = expected_kr_rows()
    assert set(keys) == expected, (sorted(set(keys) - expected)[:10], sorted(expected - set(keys))[:10])
    assert (kr_csv["quarter"] == QUARTER_LABEL).all()


def test_kr_table_names_owners_teams_and_titles(kr_csv):
    names = {(t, o): owner_name(t, o) for t, o in set(zip(kr_csv["tier"], kr_csv["owner_id"]))}
    got = [(t, o, n) for t, o, n in zip(kr_csv["tier"], kr_csv["owner_id"], kr_csv["owner_name"])
           if names[(t, o)] != n]
    assert not got, got[:5]
    team_of = people().set_index("person_id")["team_id"].to_dict()
    for tier, owner, team in zip(kr_csv["tier"], kr_csv["owner_id"], kr_csv["team_id"]):
        if tier == "person":
            assert team == team_of[owner], (owner, team)
        elif tier == "team":
            assert team == owner
    titles = plan().set_index("kr_id")["kr_title_zh"].to_dict()
    assert (kr_csv["kr_title"] == kr_csv["kr_id"].map(titles)).all()


def test_kr_source_follows_metric_kind(kr_csv):
    kinds = metric_kinds()
    manual = kr_csv["metric"].map(kinds).isin(["manual", "milestone"])
    assert kr_csv["metric"].map(kinds).notna().all()
    assert manual.any() and (~manual).any()
    assert (kr_csv.loc[manual, "source"] == "manual").all()
    assert (kr_csv.loc[~manual, "source"] == "computed").all()


def test_computed_kr_values_carry_lineage(kr_csv):
    computed = kr_csv[(kr_csv["source"] == "computed") & (kr_csv["status"] != "no_data")]
    assert len(computed) > 0
    actual = pd.to_numeric(computed["actual"], errors="coerce")
    assert actual.notna().all()
    assert all(math.isfinite(v) for v in actual)
    rows = computed["lineage"].astype(str).str.extract(r"(\d+)\s*(?:行|rows?)\s*$")[0]
    assert rows.notna().all(), computed.loc[rows.isna(), ["kr_id", "lineage"]].head()
    counts = rows.astype(int)
    # a value other than 0 cannot come from no rows (0 is legitimate, e.g. no new province this quarter)
    assert ((counts > 0) | (actual == 0)).all(), computed.loc[(counts == 0) & (actual != 0), ["kr_id", "lineage"]]
    if "rows" in computed.columns:
        assert (counts == computed["rows"].astype(int)).all()


def latest_checkins() -> dict[tuple[str, str], float]:
    c = sheet("checkins")
    c["checked_at"] = pd.to_datetime(c["checked_at"])
    c = c[c["checked_at"] < Q_END].sort_values("checked_at", kind="stable")
    last = c.drop_duplicates(["kr_id", "owner_id"], keep="last")
    return {(k, str(o)): float(v) for k, o, v in zip(last["kr_id"], last["owner_id"], last["value"])}


def test_manual_kr_actuals_are_latest_checkins(kr_csv):
    latest = latest_checkins()
    kinds = metric_kinds()
    p = plan().set_index("kr_id")
    manual = kr_csv[kr_csv["source"] == "manual"]
    assert len(manual) > 0
    compared = 0
    for rec in manual.to_dict("records"):
        want = latest.get((rec["kr_id"], rec["owner_id"]))
        actual = pd.to_numeric(rec["actual"], errors="coerce")
        if want is None:
            assert pd.isna(actual) and rec["status"] == "no_data", rec
            continue
        partial = p.loc[rec["kr_id"], "partial_credit"]
        if kinds[rec["metric"]] == "milestone" and not (pd.notna(partial) and bool(partial)):
            want = 1.0 if want >= 1 else 0.0
        assert actual == pytest.approx(want, rel=1e-9), rec
        compared += 1
    assert compared >= len(manual) // 2


def test_scores_and_statuses(kr_csv):
    score = pd.to_numeric(kr_csv["score"], errors="coerce")
    assert score.notna().any()
    assert score.dropna().between(0.0, 1.0).all()
    assert set(kr_csv["status"]) <= STATUSES
    assert (kr_csv.loc[score.isna(), "status"] == "no_data").all()
    people_status = set(kr_csv.loc[kr_csv["tier"] == "person", "status"])
    assert {"red", "yellow", "green"} <= people_status


def test_linear_kr_scores_follow_baseline_and_target(kr_csv):
    """For increase/decrease KRs: score = clip((actual - baseline) / (target - baseline), 0, 1), and the
    status band follows okr.yaml's status_bands (red below red_below, green from green_from)."""
    bands = config()["status_bands"]
    rows = kr_csv[kr_csv["direction"].isin(["increase", "decrease"])]
    actual, base, target = (pd.to_numeric(rows[c]) for c in ("actual", "baseline", "target"))
    graded = actual.notna() & (target != base)
    assert graded.sum() > 100
    want = ((actual - base) / (target - base)).clip(0.0, 1.0)[graded]
    got = pd.to_numeric(rows["score"])[graded]
    assert ((want - got).abs() <= 1e-9 * want.abs().clip(lower=1.0)).all()
    band = pd.Series("yellow", index=want.index)
    band[want < bands["red_below"]] = "red"
    band[want >= bands["green_from"]] = "green"
    assert (rows.loc[graded, "status"] == band).all()


def test_kr_workbook_matches_csv(demo_folder, kr_csv):
    wb = load_workbook(demo_folder / "kr_values.xlsx", read_only=True)
    assert wb.sheetnames == ["公司", "团队", "个人", "定义"]
    for sheet, tier in zip(wb.sheetnames, ("company", "team", "person"), strict=False):
        rows = list(wb[sheet].iter_rows(values_only=True))
        assert rows[0][:4] == ("负责人", "团队", "目标", "关键结果")
        expected = kr_csv[kr_csv["tier"] == tier]
        assert len(rows) - 1 == len(expected)
        actual_at = rows[0].index("实际值")
        got = [r[actual_at] for r in rows[1:]]
        assert [None if pd.isna(v) else pytest.approx(v, rel=1e-9) for v in expected["actual"]] == got
        weight_at = rows[0].index("权重")
        shares = [None if pd.isna(v) else pytest.approx(v, rel=1e-9) for v in expected["weight_share"]]
        assert shares == [r[weight_at] for r in rows[1:]]
    wb.close()


# -- manifest ------------------------------------------------------------------------------------

def test_manifest_records_inputs_parameters_and_timing(manifest):
    sources = config()["sources"]
    inputs = {i["table"]: i for i in manifest["inputs"]}
    assert set(inputs) == set(sources)
    for name, src in sources.items():
        digest = hashlib.sha256((DEMO / src["path"]).read_bytes()).hexdigest()
        assert inputs[name]["sha256"] == digest, name
        assert Path(inputs[name]["path"]).name == Path(src["path"]).name
    params = manifest["parameters"]
    assert params["quarter"] == DEMO_QUARTER
    assert params["locale"] == config()["locale"]
    started = datetime.fromisoformat(manifest["started_at"])
    finished = datetime.fromisoformat(manifest["finished_at"])
    assert started <= finished
    for stage in ("extract", "transform", "render", "write"):
        assert isinstance(manifest["seconds"][stage], int | float) and manifest["seconds"][stage] >= 0, stage
    cards = 1 + len(expected_teams()) + len(expected_people())
    assert sum(manifest["counts"].values()) == cards
    assert manifest["counts"] == {"company": 1, "team": len(expected_teams()), "person": len(expected_people())}
    assert manifest["rendered"] + manifest["reused"] == cards
    assert len(manifest["scorecards"]) == cards


def test_dry_run_writes_email_outbox(demo_run, manifest):
    outbox = demo_run.out / "deliveries" / DEMO_SLUG / "outbox" / manifest["run_id"]
    assert outbox.is_dir()
    assert len(list(outbox.glob("*.eml"))) >= len(expected_people())


# -- CJK glyphs ----------------------------------------------------------------------------------

def test_company_pdf_embeds_a_cjk_font_and_rasterises(demo_folder, tmp_path):
    pdf = demo_folder / "company.pdf"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    embedded_cjk = [line for line in fonts.splitlines()[2:]
                    if CJK_FONT.search(line) and line.split()[-5] == "yes"]
    assert embedded_cjk, fonts
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "page1")], check=True, capture_output=True)
    png = tmp_path / "page1.png"
    assert png.is_file()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5_000


# -- English -----------------------------------------------------------------------------------------

def test_english_run_renders_english_titles(demo_en_folder):
    en = plan().set_index("kr_id")["kr_title_en"].to_dict()
    company_titles = kr_titles("company", company_id(), "kr_title_en")
    text = pdf_text(demo_en_folder / "company.pdf")
    assert squash(config()["company"]["name_en"]) in text
    missing = [t for t in company_titles.values() if squash(t) not in text]
    assert not missing, missing
    for team in expected_teams():
        team_text = pdf_text(demo_en_folder / "teams" / f"{team}.pdf")
        assert squash(str(teams().set_index("team_id").loc[team, "team_name_en"])) in team_text, team
    table = pd.read_csv(demo_en_folder / "kr_values.csv", dtype={"kr_id": str})
    assert len(table) == len(expected_kr_rows())
    assert (table["kr_title"] == table["kr_id"].map(en)).all()


# -- other commands ------------------------------------------------------------------------------

def test_validate_demo_workspace(okr_cli):
    p = okr_cli("validate", "--workspace", str(DEMO), timeout=300)
    assert p.returncode == 0, p.stderr
    assert "OK" in p.stdout


def test_help_is_fast_and_does_not_load_prefect(okr_cli):
    t0 = time.perf_counter()
    p = okr_cli("--help", timeout=60)
    elapsed = time.perf_counter() - t0
    assert p.returncode == 0, p.stderr
    assert "run" in p.stdout and "validate" in p.stdout
    assert elapsed < 20, f"--help took {elapsed:.1f} s"
    probe = ("import sys\nsys.argv = ['okr-report', '--help']\nimport flows.cli\n"
             "try:\n    flows.cli.main()\nexcept SystemExit:\n    pass\n"
             "print('PREFECT_LOADED' if any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules)"
             " else 'PREFECT_NOT_LOADED')\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("PREFECT_NOT_LOADED"), out.stdout[-500:] + out.stderr[-500:]

