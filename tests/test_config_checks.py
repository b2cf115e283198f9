"""Config checks that need no exports: duplicate keys and the unit of a duration. Every expected message is
written out in full here; the bad-input corpus (test_bad_inputs.py) shows the same checks through
``okr-report validate``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from benchmarks.generate import CONFIG as BENCH_CONFIG
from flows.config_io import duplicate_keys, load_workspace
from transforms.config import MetricDef, Workspace
from transforms.problems import InputError
from transforms.validation import check_config

ROOT = Path(__file__).resolve().parents[1]


def workspace(metrics: dict, **sources: dict) -> Workspace:
    """The smallest workspace: the two required sources, any more, and the metrics as written in okr.yaml."""
    return Workspace.model_validate({
        "company": {"id": "acme", "name": "Acme"},
        "sources": {"people": {"path": "people.csv"}, "plan": {"path": "plan.csv"}, **sources},
        "metrics": metrics,
    })


def load(tmp_path: Path, text: str) -> list[str]:
    """The problems load_workspace reports for an okr.yaml, as printed."""
    (tmp_path / "okr.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_workspace(tmp_path)
    return [str(p) for p in err.value.problems]


# -- every workspace the project ships still loads -----------------------------------------------------------

@pytest.mark.parametrize("folder", ["data/demo", "data/examples/maven_crm", "tests/bad_inputs/good"])
def test_shipped_workspaces_load(folder):
    ws, _ = load_workspace(ROOT / folder)
    assert check_config(ws) == []


def test_the_benchmark_workspace_loads(tmp_path):
    (tmp_path / "okr.yaml").write_text(BENCH_CONFIG.format(), encoding="utf-8")
    ws, _ = load_workspace(tmp_path)
    assert ws.timezone == "UTC" and len(ws.metrics) == 14


def test_the_maven_sales_cycle_is_measured_and_shown_in_days():
    ws, _ = load_workspace(ROOT / "data/examples/maven_crm")
    cycle = ws.metrics["avg_sales_cycle_days"]
    assert (cycle.definition.unit, cycle.unit) == ("days", "days")


# -- duplicate keys ------------------------------------------------------------------------------------------

def test_duplicate_keys_at_every_level():
    text = """\
a: 1
b:
  c: 2
  c: 3
list:
  - {x: 1, x: 2}
a: 4
a: 5
"""
    assert duplicate_keys(yaml.compose(text)) == [(("b", "c"), 3, 4), (("list", "0", "x"), 6, 6),
                                                  (("a",), 1, 7), (("a",), 1, 8)]


def test_merge_keys_and_aliases_are_not_duplicates():
    text = """\
base: &base {x: 1, y: 2}
one:
  <<: *base
  x: 3
two: *base
three: {'1': a, 1: b}
"""
    # `x` overrides the merged one; `two` reuses base's node (not a second copy of its keys); '1' and 1 differ
    assert duplicate_keys(yaml.compose(text)) == []
    dup = "base: &base {x: 1, x: 2}\none: *base\ntwo: *base\n"
    assert duplicate_keys(yaml.compose(dup)) == [(("base", "x"), 1, 1)]


def test_duplicate_keys_are_reported_before_anything_else(tmp_path):
    text = """\
company: {id: acme, name: Acme}
timezone: Mars/Olympus
sources:
  people: {path: people.csv}
  plan: {path: plan.csv}
  plan: {path: plan2.csv}
metrics: {}
"""
    assert load(tmp_path, text) == [
        "okr.yaml, line 6: key 'sources.plan': duplicate key (first at line 5, again at line 6): expected each key "
        "once; YAML would keep only the last one"]


# -- the unit of a duration ----------------------------------------------------------------------------------

CYCLE = {"kind": "duration_mean", "table": "deals", "start": "engaged_at", "end": "closed_at"}


@pytest.mark.parametrize("written, unit", [
    ({"metrics": {"m": CYCLE}}, "days"),
    ({"metrics": {"m": {**CYCLE, "unit": "hours"}}}, "hours"),
    ({"metrics": {"m": {**CYCLE, "unit": "days"}}}, "days"),
    ({"metrics": {"m": {"definition": {**CYCLE, "unit": "hours"}}}}, "hours"),
    ({"metrics": {"m": {"definition": CYCLE, "unit": "hours"}}}, "hours"),
    ({"metrics": {"m": {"definition": {**CYCLE, "unit": "hours"}, "unit": "hours"}}}, "hours"),
])
def test_a_duration_is_shown_in_the_unit_it_is_measured_in(written, unit):
    m = workspace(written["metrics"]).metrics["m"]
    assert (m.definition.unit, m.unit) == (unit, unit)


def test_other_kinds_keep_their_display_unit():
    m = MetricDef.model_validate({"definition": {"kind": "mean", "table": "t", "column": "hours"}, "unit": "hours"})
    assert m.unit == "hours"
    assert workspace({"n": {"kind": "count", "table": "deals"}}).metrics["n"].unit == "number"
