"""Config checks that need no exports: filter values against the allowed values of their column, duplicate keys,
time zones, cron lines and the unit of a duration. Every expected message is written out in full here; the
bad-input corpus (test_bad_inputs.py) shows the same checks through ``okr-report validate``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from benchmarks.generate import CONFIG as BENCH_CONFIG
from flows.config_io import duplicate_keys, load_workspace
from transforms.config import MetricDef, Workspace
from transforms.problems import InputError
from transforms.schedule import cron_problem
from transforms.validation import check_config, zone_problem

ROOT = Path(__file__).resolve().parents[1]
ZONE = "expected an IANA time zone name like Asia/Shanghai or America/New_York"
CRON = "expected a cron line 'minute hour day month weekday' like '0 6 1 1,4,7,10 *'"
AFTER_MAPPING = "(filters see the values after mapping: an export's own spellings map onto these under '{}')"


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


# -- filter values -------------------------------------------------------------------------------------------

DEALS = {"path": "deals.csv", "values": {"stage": {"Closed Won": "won", "Closed Lost": "lost"}}}


def test_allowed_filter_values_pass():
    ws = workspace({
        "won": {"kind": "count", "table": "deals", "where": {"stage": "won"}},
        "closed": {"kind": "count", "table": "deals", "where": {"stage": ["won", "lost"]}},
        "not_open": {"kind": "count", "table": "deals", "where": {"stage": {"ne": "open", "not_in": ["open"]}}},
        "big": {"kind": "count", "table": "deals", "where": {"amount": {"gt": 10}, "region_id": "Anywhere"}},
    }, deals=DEALS)
    assert check_config(ws) == []


def test_filter_values_the_column_never_holds():
    ws = workspace({
        "a": {"kind": "count", "table": "deals", "where": {"stage": "Won"}},
        "b": {"kind": "count", "table": "deals", "where": {"stage": ["won", "Closed Lost"]}},
        "c": {"kind": "count", "table": "deals", "where": {"stage": {"in": ["open", "WON"], "eq": "pending"}}},
        "d": {"kind": "count", "table": "deals", "where": {"stage": None}},
        "e": {"kind": "count", "table": "deals", "where": {"stage": {"not_in": "won"}}},
    }, deals=DEALS)
    hint = AFTER_MAPPING.format("sources.deals.values.stage")
    assert check_config(ws) == [
        (("metrics", "a", "where", "stage"), f"expected one of open, won, lost; did you mean 'won'? {hint}", "Won"),
        (("metrics", "b", "where", "stage"), "expected one of open, won, lost; did you mean 'lost'? (filters see "
         "the values after mapping: sources.deals.values.stage maps 'Closed Lost' to 'lost')", "Closed Lost"),
        (("metrics", "c", "where", "stage", "in"), f"expected one of open, won, lost; did you mean 'won'? {hint}",
         "WON"),
        (("metrics", "c", "where", "stage", "eq"), f"expected one of open, won, lost {hint}", "pending"),
        (("metrics", "d", "where", "stage"), "expected one of open, won, lost (an empty value matches no row; for "
         "rows where stage is empty write {is_null: true})", None),
        (("metrics", "e", "where", "stage", "not_in"), "expected a list of values, e.g. {not_in: [won]}", "won"),
    ]


def test_conversion_stages_and_the_other_filters_are_checked():
    ws = workspace({
        "conv": {"kind": "conversion", "table": "lead_stages", "entity": "lead_id", "stage_column": "stage",
                 "time": "changed_at", "from_stage": "MQL", "to_stage": ["sql", "customer"], "within_days": 30},
        "heads": {"kind": "headcount", "where": {"role": "sales"}},
        "per_head": {"kind": "rate", "of": "heads", "per_head": True, "head_where": {"role": ["sales"]}},
        "reach": {"kind": "coverage", "table": "activities", "column": "outcome", "reference": "activities",
                  "reference_column": "outcome", "where": {"outcome": "good"},
                  "reference_where": {"outcome": ["positive", "neutral", "bad"]}},
    }, lead_stages={"path": "stages.csv"}, activities={"path": "activities.csv"})
    stages = AFTER_MAPPING.format("sources.lead_stages.values.stage")
    outcomes = AFTER_MAPPING.format("sources.activities.values.outcome")
    assert check_config(ws) == [
        (("metrics", "conv", "from_stage"), f"expected one of prospect, mql, sql, won, lost; did you mean 'mql'? "
         f"{stages}", "MQL"),
        (("metrics", "conv", "to_stage"), f"expected one of prospect, mql, sql, won, lost {stages}", "customer"),
        (("metrics", "reach", "where", "outcome"), f"expected one of positive, neutral, negative {outcomes}",
         "good"),
        (("metrics", "reach", "reference_where", "outcome"), f"expected one of positive, neutral, negative "
         f"{outcomes}", "bad"),
    ]


def test_a_filter_in_the_nested_form_is_named_where_it_is_written(tmp_path):
    text = """\
company: {id: acme, name: Acme}
sources:
  people: {path: people.csv}
  plan: {path: plan.csv}
  deals: {path: deals.csv}
metrics:
  won:
    definition:
      kind: count
      table: deals
      where: {stage: Won}
    unit: count
"""
    assert load(tmp_path, text) == [
        "okr.yaml, line 11: key 'metrics.won.definition.where.stage': value 'Won': expected one of open, won, lost; "
        "did you mean 'won'? " + AFTER_MAPPING.format("sources.deals.values.stage")]


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


# -- time zones ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Asia/Shanghai", "America/New_York", "UTC", "Etc/GMT-8", "Europe/London"])
def test_iana_zones_pass(name):
    assert zone_problem(name) is None


@pytest.mark.parametrize("name, expected", [
    ("China Standard Time", f"{ZONE}; did you mean 'Asia/Shanghai'? ('China Standard Time' is not an IANA name)"),
    ("Pacific Standard Time", f"{ZONE}; did you mean 'America/Los_Angeles'? ('Pacific Standard Time' is not an "
                              "IANA name)"),
    ("Beijing", f"{ZONE}; did you mean 'Asia/Shanghai'? ('Beijing' is not an IANA name)"),
    ("Shanghai", f"{ZONE}; did you mean 'Asia/Shanghai'?"),
    ("Asia/Shanghai ", f"{ZONE}; did you mean 'Asia/Shanghai'?"),
    ("utc", f"{ZONE}; did you mean 'UTC'?"),
    ("CST", f"{ZONE} (an abbreviation like CST can stand for several zones: name the place's zone)"),
    ("UTC+8", f"{ZONE} (the zone of a place follows its daylight saving time); for a fixed offset of +8 hours "
              "write 'Etc/GMT-8' (IANA reverses the sign in Etc/GMT names)"),
    ("GMT-05:00", f"{ZONE} (the zone of a place follows its daylight saving time); for a fixed offset of -5 hours "
                  "write 'Etc/GMT+5' (IANA reverses the sign in Etc/GMT names)"),
    ("UTC+15", f"{ZONE} (a fixed offset is not a zone name)"),
    ("Mars/Olympus", ZONE),
])
def test_zone_names_that_are_not_iana_zones(name, expected):
    assert zone_problem(name) == expected


def test_workspace_and_source_zones_are_checked():
    ws = workspace({}, deals={"path": "deals.csv", "timezone": "Europe/Londn"})
    ws = ws.model_copy(update={"timezone": "China Standard Time"})
    assert check_config(ws) == [
        (("timezone",), f"{ZONE}; did you mean 'Asia/Shanghai'? ('China Standard Time' is not an IANA name)",
         "China Standard Time"),
        (("sources", "deals", "timezone"), f"{ZONE}; did you mean 'Europe/London'?", "Europe/Londn"),
    ]


# -- cron lines ----------------------------------------------------------------------------------------------

VALID_CRON = ["0 6 1 1,4,7,10 *", "@daily", "*/15 0-6 * jan-mar mon-fri", "0 6 1-31/2 * 7", "0 6 L * *"]
BAD_CRON = [
    ("0 6 1 1,4,7,10", "five fields, this has 4"),
    ("61 6 * * *", "the minute '61' is not in 0-59"),
    ("0 24 1 * *", "the hour '24' is not in 0-23"),
    ("0 6 0 * *", "the day '0' is not in 1-31"),
    ("0 6 1 13 *", "the month '13' is not in 1-12"),
    ("0 6 1 apl *", "the month 'apl' is not a number or a name like jan"),
    ("0 6 1 * 8", "the weekday '8' is not in 0-7"),
    ("*/0 6 1 * *", "the minute step '0' is not a whole number above 0"),
]


@pytest.mark.parametrize("line", VALID_CRON)
def test_cron_lines_that_pass(line):
    assert cron_problem(line) is None


@pytest.mark.parametrize("line, why", BAD_CRON)
def test_cron_lines_that_are_refused(line, why):
    assert cron_problem(line) == f"{CRON}: {why}"


def test_the_scheduler_agrees_with_the_cron_check():
    from prefect.client.schemas.schedules import CronSchedule

    for line in VALID_CRON:
        CronSchedule(cron=line)
    for line, _ in BAD_CRON:
        with pytest.raises(ValueError, match="Invalid cron string"):
            CronSchedule(cron=line)


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
