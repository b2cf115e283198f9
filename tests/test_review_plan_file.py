"""A draft plan file as teams write one: headers in either language, objectives written once above their KRs,
no ids, numbers as "35%"; the plan's structure checks; the CLI's exit codes and its errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flows.review import builtin_lexicon, review_file
from transforms.review import review_plan
from transforms.review.headers import plan_frame

ROOT = Path(__file__).parent.parent
DRAFT = ROOT / "data" / "examples" / "draft" / "draft_plan.csv"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", "review", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _write(tmp_path: Path, text: str, name: str = "plan.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_merged_objectives_are_carried_down_and_ids_made_up(tmp_path: Path) -> None:
    path = _write(tmp_path, "目标,关键结果,基线,目标值\n"
                            "提高续约率,续约率达到90%,80%,90%\n"
                            ",流失客户减少20%,,\n"
                            "扩大华东市场,华东新增客户30家,10,30\n")
    import pandas as pd

    raw = pd.read_csv(path, dtype=str)
    raw.index = raw.index + 2
    plan = plan_frame(raw, path.name)
    assert plan["objective_id"].tolist() == ["O1", "O1", "O2"]
    assert plan["kr_id"].tolist() == ["O1.1", "O1.2", "O2.1"]
    assert plan["objective_title_zh"].tolist() == ["提高续约率", "提高续约率", "扩大华东市场"]
    assert plan["baseline"].tolist()[0] == 0.8 and plan["target"].tolist()[0] == 0.9
    assert plan.index.tolist() == [2, 3, 4]


def test_draft_plan_findings(tmp_path: Path) -> None:
    reviewed = review_file(DRAFT, None, "en")
    found = [(f.objective_id, f.kr_id, f.rule, f.severity.value) for f in reviewed.findings]
    assert found == [
        ("O1", "O1.1", "dilution.word", "warning"),
        ("O1", "O1.2", "attempts.words", "warning"),
        ("O1", "O1.3", "task.verb", "warning"),
        ("O2", None, "effort.words", "warning"),
        ("O2", "O2.1", "vague.word", "warning"),
        ("O3", "O3.1", "structure.same", "error"),
        ("O3", "O3.2", "vague.state", "warning"),
    ]
    assert (reviewed.objectives, reviewed.krs, reviewed.errors, reviewed.skipped) == (3, 7, 1, ("direction",))


def test_structure_checks(tmp_path: Path) -> None:
    rows = ["Objective ID,Objective,KR ID,Key Result,Baseline,Target,Weight,Direction,Due Quarter,Parent Objective"]
    rows += [f"A,Grow revenue in the east,a{i},Revenue from {i}0 new customers,0,{i}0,1,increase,," for i in
             range(1, 7)]
    rows += ["B,Cut churn,b1,Churn rate down to 5%,8%,10%,0.5,decrease,,",
             "B,Cut churn,b2,Lost accounts down to 20,30,20,0.3,decrease,5,",
             "C,Sell in the west,,,,,,,,Z",
             "D,Lift margin,d1,Margin at 30%,30%,30%,40,increase,,",
             "D,Lift margin,d2,Margin on new deals at 35%,20%,35%,,increase,,",
             "E,Keep uptime,e1,Uptime at least 99.5%,99.5%,99.5%,,at_least,,",
             "F,Grow the list,f1,Subscribers up 20%,,0.2,,increase,,",
             "F,Grow the list,f1,Subscribers up 20%,,0.2,,increase,,",
             "G,Grow the list,g1,2000 subscribers,,2000,,increase,,"]  # a count: graded from zero as it should
    path = _write(tmp_path, "\n".join(rows) + "\n")
    reviewed = review_file(path, None, "en")
    found = {(f.objective_id, f.kr_id, f.rule) for f in reviewed.findings if f.code.value == "structure"}
    assert found == {
        ("A", None, "structure.too_many"),          # 6 KRs > 5
        ("B", "b1", "structure.wrong_side"),        # decrease, target 10% above baseline 8%
        ("B", None, "structure.weights"),           # 0.5 + 0.3 = 0.8, not 1
        ("B", "b2", "structure.due"),               # quarter 5
        ("C", None, "structure.no_krs"),
        ("C", None, "structure.parent"),            # Z is not in the plan
        ("D", "d1", "structure.same"),              # increase from 30% to 30%
        ("D", None, "structure.weights_missing"),   # d2 has no weight
        ("F", "f1", "structure.no_baseline"),       # "up 20%" grows from a baseline it does not give
        ("F", "f1", "structure.duplicate"),
    }
    weights = next(f for f in reviewed.findings if f.rule == "structure.weights")
    assert weights.message == "its KR weights sum to 0.8, not 1"
    assert reviewed.errors == 5  # wrong_side, due, no_krs, same, duplicate


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    p = _cli(str(DRAFT), "--format", "json")
    assert p.returncode == 1, p.stderr
    findings = json.loads(p.stdout)
    assert [f["code"] for f in findings] == ["dilution", "attempts", "task", "effort", "vague", "structure",
                                             "vague"]
    assert findings[0] == {"objective_id": "O1", "kr_id": "O1.1", "code": "dilution", "severity": "warning",
                           "message": "\u201cTarget\u201d softens the bar: a target to aim at is not a result to reach",
                           "suggestion": "Write it as \u201cReach 40 new mid-market customers\u201d"}
    clean = _write(tmp_path, "Objective,Key Result\nGrow revenue,Revenue up 20% on last quarter\n")
    p = _cli(str(clean))
    assert (p.returncode, p.stdout.splitlines()[0]) == (0, "Reviewed 1 objective and 1 key result: 0 errors, "
                                                            "1 warning"), p.stderr
    assert "The plan has no baseline column" in p.stdout


def test_cli_bad_input_says_where(tmp_path: Path) -> None:
    bad = _write(tmp_path, "Objective,Key Result,Target\nGrow revenue,Revenue up 20%,twenty\n")
    p = _cli(str(bad))
    assert p.returncode == 2
    assert "plan.csv, row 2, column 'Target'" in p.stderr and "'twenty'" in p.stderr
    assert "expected a number such as 12, 0.35 or 35%" in p.stderr and "Traceback" not in p.stderr
    headers = _write(tmp_path, "Goal name,Result\nx,y\n", "headers.csv")
    p = _cli(str(headers))
    assert p.returncode == 2 and "expected a column of objectives" in p.stderr and "'Goal name'" in p.stderr
    p = _cli(str(tmp_path / "missing.csv"))
    assert p.returncode == 2 and "file not found" in p.stderr
    p = _cli()
    assert p.returncode == 2 and "expected either a plan file or --workspace" in p.stderr
    p = _cli(str(DRAFT), "--format", "yaml")
    assert p.returncode == 2 and "expected text or json" in p.stderr


def test_lexicon_and_functions_extend_from_the_workspace(tmp_path: Path) -> None:
    import pandas as pd

    from transforms import config as cfg

    plan = pd.DataFrame({"objective_id": ["O1", "O1"], "objective_title_en": ["Grow web sales", "Grow web sales"],
                         "tier": ["team", "team"], "owner_id": ["web", "web"], "kr_id": ["k1", "k2"],
                         "kr_title_en": ["Landing page conversion up 20%", "Reply to leads asap"]},
                        index=[2, 3])
    plain = {(f.kr_id, f.code.value) for f in review_plan(plan, builtin_lexicon(), "en").findings}
    assert plain == {("k1", "other_team"), ("k2", "no_number"), (None, "structure")}  # no baseline column
    ws = cfg.Workspace.model_validate({
        "company": {"id": "c", "name": "C"}, "sources": {"plan": {"path": "p.csv"}}, "metrics": {},
        "review": {"team_functions": {"web": "marketing"},
                   "lexicon": {"en": {"vague": {"asap": "within N hours"}}}}})
    extended = review_plan(plan, builtin_lexicon(), "en", ws).findings
    assert {(f.kr_id, f.code.value) for f in extended} == {("k2", "vague"), (None, "structure")}
    assert next(f.suggestion for f in extended if f.kr_id) == "Replace \u201casap\u201d with a number: within N hours"
