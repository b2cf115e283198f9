"""One published truth: after any sequence of runs and edits, the published final quarter equals what one fresh
full run on the current inputs writes into an empty folder, and a variant run never touches it.

A stateful property test over the small workspace in ``tests/bad_inputs/good`` (1 company, 2 teams, 6 people:
9 scorecards), driving the real command line in this process, so one orchestration engine serves every run.
Files are compared as their readers see them: HTML modulo run id and generation time, CSV and XLSX cell for
cell, PDFs by extracted text and page count, the manifest without its timings and run ids.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.conftest import ROOT

GOOD = ROOT / "tests" / "bad_inputs" / "good"
QUARTER = "2024-Q2"
AS_OF = "2024-05-15"
DEAL_AMOUNTS = ("3200", "5200")  # D05: P05 (team West) won on 2024-05-02
PLAN_TARGETS = (None, 9)  # the plan's first KR target as written, or changed
_RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>')
_VOLATILE = ("run_id", "started_at", "finished_at", "seconds", "rendered", "reused", "parameters", "scope")


def normalise(text: str) -> str:
    return _STAMP.sub("<time>", _RUN_ID.sub("<run>", text))


def pdf_view(path: Path) -> tuple[int, list[tuple]]:
    """Page count and every word with its page and position; the footer line holding the run id is left out.

    Words are sorted by position: two renders of the same page may draw in a different order."""
    xml = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    words, pages = [], 0
    for page in xml.split("<page ")[1:]:
        pages += 1
        found = [(round(float(y), 1), round(float(x), 1), html.unescape(w))
                 for x, y, w in _WORD.findall(page)]
        footer = {y for y, _, w in found if _RUN_ID.fullmatch(w)}
        words += sorted((pages, y, x, w) for y, x, w in found if y not in footer)
    return pages, words


def xlsx_cells(path: Path) -> list[list[tuple]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [list(ws.iter_rows(values_only=True)) for ws in wb.worksheets]
    finally:
        wb.close()


def file_view(path: Path) -> object:
    """What a reader of the file sees, with run ids and generation times taken out."""
    if path.suffix == ".pdf":
        return pdf_view(path)
    if path.suffix == ".xlsx":
        return xlsx_cells(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("split")
    if path.name == "manifest.json":
        data = json.loads(path.read_text(encoding="utf-8"))
        out = {k: v for k, v in data.items() if k not in _VOLATILE}
        out["files"] = sorted(out.get("files", {}))  # hashes of bytes holding the run id: the files must agree
        return out
    return normalise(path.read_text(encoding="utf-8"))


_VIEWS: dict[tuple[str, str], object] = {}


def folder_view(folder: Path) -> dict[str, object]:
    """Every file's view, read once per distinct content (reused scorecards are links to the same bytes)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            key = (p.name, hashlib.sha256(p.read_bytes()).hexdigest())
            if key not in _VIEWS:
                _VIEWS[key] = file_view(p)
            out[str(p.relative_to(folder))] = _VIEWS[key]
    return out


def byte_digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same(published: dict[str, object], fresh: dict[str, object], what: str) -> None:
    assert sorted(published) == sorted(fresh), what
    for name in fresh:
        assert published[name] == fresh[name], f"{what}: {name} differs from a fresh full run"


FRESH: dict[tuple, dict[str, object]] = {}
"""Fresh full runs by the state of the inputs and the variant: every example starts from the same workspace."""


class Workspace:
    """A copy of the small workspace whose exports, config, plan and templates the machine edits."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.ws = root / "ws"
        shutil.copytree(GOOD, self.ws)
        self.out = root / "published"
        self.monkeypatch = monkeypatch
        self.state = {"deal": DEAL_AMOUNTS[0], "green_from": 0.7, "target": PLAN_TARGETS[0], "templates": 0}
        self.runner = CliRunner()
        self.forced = False
        monkeypatch.delenv("OKR_REPORT_TEMPLATES", raising=False)  # every sequence starts on the built-in ones

    def key(self, variant: str) -> tuple:
        return (*sorted(self.state.items()), variant)

    def cli(self, *args: str, out: Path | None = None) -> str:
        result = self.runner.invoke(__import__("flows.cli", fromlist=["app"]).app,
                                    ["run", "--workspace", str(self.ws), "--quarter", QUARTER, "--processes", "1",
                                     "--out", str(out or self.out), *args])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        return result.output

    def fresh(self, variant: str, args: tuple[str, ...]) -> dict[str, object]:
        """What one fresh full run on the current inputs writes into an empty folder."""
        key = self.key(variant)
        if key not in FRESH:
            out = self.root / f"fresh-{len(FRESH)}"
            self.cli(*args, out=out)
            FRESH[key] = folder_view(out / variant)
            shutil.rmtree(out)
        return FRESH[key]

    def set_deal(self, amount: str) -> None:
        path = self.ws / "exports" / "deals.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines = [",".join(line.split(",")[:4] + [amount] + line.split(",")[5:]) if line.startswith("D05,") else line
                 for line in lines]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.state["deal"] = amount

    def set_green(self, green_from: float) -> None:
        path = self.ws / "okr.yaml"
        text = re.sub(r"\nstatus_bands: .*\n", "\n", path.read_text(encoding="utf-8"))
        text = text.replace("\nsources:\n", f"\nstatus_bands: {{red_below: 0.4, green_from: {green_from}}}\n"
                                            "\nsources:\n", 1)
        path.write_text(text, encoding="utf-8")
        self.state["green_from"] = green_from

    def set_target(self, target: int | None) -> None:
        path = self.ws / "exports" / "plan.xlsx"
        original = GOOD / "exports" / "plan.xlsx"
        if target is None:
            shutil.copy(original, path)
        else:
            wb = load_workbook(original)
            sheet = wb["plan"]
            header = [c.value for c in sheet[1]]
            sheet.cell(row=2, column=header.index("Target") + 1, value=target)
            wb.save(path)
        self.state["target"] = target

    def set_templates(self, version: int) -> None:
        if version == 0:
            self.monkeypatch.delenv("OKR_REPORT_TEMPLATES", raising=False)
        else:
            folder = self.root / f"templates-{version}"
            if not folder.exists():
                shutil.copytree(ROOT / "report_templates", folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
                css = folder / "scorecard.css"
                css.write_text(css.read_text(encoding="utf-8") + f"\nh1 {{ letter-spacing: 0.{version}pt; }}\n",
                               encoding="utf-8")
            self.monkeypatch.setenv("OKR_REPORT_TEMPLATES", str(folder))
        self.state["templates"] = version


class OnePublishedTruth(RuleBasedStateMachine):
    """Runs of every kind interleaved with edits of every input."""

    workspace: Workspace
    steps = 0

    @initialize()
    def first_full_run(self) -> None:
        self.workspace = Workspace(self.root_factory(), self.monkeypatch)
        self.run_final()

    # -- runs that publish the final quarter ---------------------------------------------------------
    def run_final(self, *args: str) -> None:
        OnePublishedTruth.steps += 1
        self.workspace.cli(*args)
        assert_same(folder_view(self.workspace.out / QUARTER), self.workspace.fresh(QUARTER, ()), f"after {args}")

    def run_variant(self, variant: str, *args: str) -> None:
        OnePublishedTruth.steps += 1
        final = self.workspace.out / QUARTER
        before = byte_digests(final)
        self.workspace.cli(*args)
        assert byte_digests(final) == before, f"a {variant} run changed the final quarter"
        assert_same(folder_view(self.workspace.out / variant), self.workspace.fresh(variant, args), variant)

    @rule()
    def full(self) -> None:
        self.run_final()

    @rule(scope=st.sampled_from([("--team", "East"), ("--team", "west region"), ("--person", "P02"),
                                 ("--person", "P05")]))
    def scoped(self, scope: tuple[str, str]) -> None:
        self.run_final(*scope)

    @rule()
    def forced(self) -> None:
        # --force renders every card again by design: once per sequence, a plain full run after that
        self.run_final(*(() if self.workspace.forced else ("--force",)))
        self.workspace.forced = True

    @rule(args=st.sampled_from([("--as-of", AS_OF), ("--locale", "zh-CN"), ("--as-of", AS_OF, "--person", "P02"),
                                ("--as-of", AS_OF, "--person", "P05"), ("--locale", "zh-CN", "--team", "East")]))
    def variant(self, args: tuple[str, ...]) -> None:
        slug = QUARTER + (f".as-of-{AS_OF}" if "--as-of" in args else "") + (".zh-CN" if "--locale" in args else "")
        self.run_variant(slug, *args)

    # -- edits -------------------------------------------------------------------------------------------
    @rule(amount=st.sampled_from(DEAL_AMOUNTS))
    def edit_export(self, amount: str) -> None:
        OnePublishedTruth.steps += 1
        self.workspace.set_deal(amount)

    @rule(green_from=st.sampled_from([0.7, 0.6]))
    def edit_config(self, green_from: float) -> None:
        OnePublishedTruth.steps += 1
        self.workspace.set_green(green_from)

    @rule(plan_target=st.sampled_from(PLAN_TARGETS))
    def edit_plan(self, plan_target: int | None) -> None:
        OnePublishedTruth.steps += 1
        self.workspace.set_target(plan_target)

    @rule(version=st.sampled_from([1, 2]))
    def edit_templates(self, version: int) -> None:
        # one template edit per sequence (each re-renders every card); later ones write the same edit again
        OnePublishedTruth.steps += 1
        self.workspace.set_templates(self.workspace.state["templates"] or version)


def test_published_final_quarter_is_always_a_fresh_full_run(tmp_path_factory, monkeypatch):
    counter = iter(range(1000))
    OnePublishedTruth.root_factory = staticmethod(lambda: tmp_path_factory.mktemp(f"truth{next(counter)}"))
    OnePublishedTruth.monkeypatch = monkeypatch
    OnePublishedTruth.TestCase.settings = settings(
        max_examples=3, stateful_step_count=26, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck))
    OnePublishedTruth.TestCase().runTest()
    assert OnePublishedTruth.steps >= 50, OnePublishedTruth.steps
