"""``okr-report review``: read a plan file or a workspace's plan, review it, print the findings.

The lexicons are data files of the review package (``transforms/review/lexicons``); they are read here so the
rules stay free of I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from flows.console import out
from flows.extract import read_source
from transforms.config import Source
from transforms.problems import InputError, Problem
from transforms.review import Finding, Lexicon, Reviewed, Severity, review_plan
from transforms.review.headers import plan_frame
from transforms.review.lexicon import LanguageLexicon

LEXICON_FILES = {"en": "en.yaml", "zh": "zh.yaml"}
ABSENT_EN = {
    "baseline": "The plan has no baseline column: no KR could be checked against where it starts.",
    "target": "The plan has no target column: numbers were looked for in the KRs' words only.",
    "direction": "The plan has no direction column: every KR was read as one to increase.",
    "weight": "The plan has no weight column: KRs count equally, so no weights were checked.",
}
ABSENT_ZH = {
    "baseline": "计划表没有基线列：无法对照起点检查关键结果。",
    "target": "计划表没有目标值列：只在关键结果的措辞中查找数字。",
    "direction": "计划表没有方向列：所有关键结果都按“增加”理解。",
    "weight": "计划表没有权重列：关键结果同等计分，未检查权重。",
}


@lru_cache(maxsize=1)
def builtin_lexicon() -> Lexicon:
    """The lexicons shipped beside the rules."""
    folder = resources.files("transforms.review") / "lexicons"
    langs = {}
    for lang, name in LEXICON_FILES.items():
        try:
            langs[lang] = LanguageLexicon(**yaml.safe_load((folder / name).read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError, TypeError) as exc:
            raise RuntimeError(f"the built-in lexicon {name} is damaged: {exc}") from exc
    return Lexicon(**langs)


@dataclass(frozen=True)
class ReviewOptions:
    """What to review and how to print it."""

    plan_file: Path | None
    workspace: Path | None
    locale: str | None
    sheet: str | None
    as_json: bool


def review_file(path: Path, sheet: str | None, locale: str | None) -> Reviewed:
    """Review a plan file on its own (CSV or XLSX; only objective and KR title columns are required)."""
    path = path.expanduser().resolve()
    raw = read_source(Source(path=path.name, sheet=sheet), path.parent)
    plan = plan_frame(raw, path.name, sheet)
    return review_plan(plan, builtin_lexicon(), locale or _plan_locale(plan))


def review_workspace(workspace: Path, locale: str | None) -> Reviewed:
    """Review a workspace's plan with its metric definitions, teams and people."""
    from flows.config_io import load_workspace
    from flows.prepare import directory_tables

    ws, ws_dir = load_workspace(workspace)
    tables = directory_tables(ws, ws_dir, ("people", "teams", "plan"))
    return review_plan(tables["plan"], builtin_lexicon(), locale or ws.locale, ws, person_teams(tables))


def person_teams(tables: dict) -> dict[str, str]:
    """person id -> team id, from the people directory."""
    people = tables.get("people")
    if people is None or "team_id" not in people.columns:
        return {}
    known = people.dropna(subset=["person_id", "team_id"])
    return dict(zip(known["person_id"].astype(str), known["team_id"].astype(str), strict=True))


def _plan_locale(plan) -> str:
    zh = sum(plan[c].notna().sum() for c in ("kr_title_zh", "objective_title_zh") if c in plan.columns)
    en = sum(plan[c].notna().sum() for c in ("kr_title_en", "objective_title_en") if c in plan.columns)
    return "zh-CN" if zh > en else "en"


def run_review(opts: ReviewOptions) -> Reviewed:
    """The review the options ask for; exactly one of a plan file and a workspace."""
    if (opts.plan_file is None) == (opts.workspace is None):
        raise InputError([Problem("okr-report review", "expected either a plan file or --workspace, not both "
                                                       "and not neither")])
    if opts.locale not in (None, "en", "zh-CN"):
        raise InputError([Problem("--locale", "expected en or zh-CN", value=opts.locale)])
    if opts.workspace is not None:
        return review_workspace(opts.workspace, opts.locale)
    return review_file(opts.plan_file, opts.sheet, opts.locale)


def print_review(reviewed: Reviewed, as_json: bool) -> None:
    """The findings as JSON (a list) or as text grouped by objective and KR."""
    if as_json:
        out.print(json.dumps([f.as_json() for f in reviewed.findings], ensure_ascii=False, indent=2),
                  markup=False, highlight=False, soft_wrap=True)
        return
    for line in text_lines(reviewed):
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def text_lines(reviewed: Reviewed) -> list[str]:
    """The text report: a summary line, then each objective's and KR's findings under its title."""
    zh = reviewed.locale == "zh-CN"
    lines = [_summary(reviewed, zh)]
    last: tuple | None = None
    for f in reviewed.findings:
        head = (f.objective_id, f.kr_id)
        if head != last:
            lines.append("")
            lines.append(_heading(f, reviewed.titles, zh))
            last = head
        lines.append(f"  {f.severity.value:<7} {f.code.value}: {f.message}")
        if f.suggestion:
            lines.append(f"          -> {f.suggestion}")
    if reviewed.skipped:
        lines.append("")
        lines += [(ABSENT_ZH if zh else ABSENT_EN)[c] for c in reviewed.skipped]
    return lines


def _summary(r: Reviewed, zh: bool) -> str:
    if zh:
        return f"已检查 {r.objectives} 个目标、{r.krs} 个关键结果：{r.errors} 个错误，{r.warnings} 个警告"
    return (f"Reviewed {r.objectives} objective{'s' * (r.objectives != 1)} and {r.krs} key result"
            f"{'s' * (r.krs != 1)}: {r.errors} error{'s' * (r.errors != 1)}, {r.warnings} "
            f"warning{'s' * (r.warnings != 1)}")


def _heading(f: Finding, titles: dict, zh: bool) -> str:
    if f.objective_id is None:
        return "计划" if zh else "Plan"
    row = f"  ({'第' if zh else 'row '}{f.row}{'行' if zh else ''})" if f.row is not None else ""
    if f.kr_id is None:
        return f"{f.objective_id}  {titles.get((f.objective_id, None), '')}{row}"
    return f"{f.objective_id} / {f.kr_id}  {titles.get((f.objective_id, f.kr_id), '')}{row}"


def exit_code(reviewed: Reviewed) -> int:
    """0 without errors, 1 with at least one."""
    return int(any(f.severity is Severity.ERROR for f in reviewed.findings))
