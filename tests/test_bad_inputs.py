"""The bad-input corpus: one small good workspace and many copies of it, each with exactly one defect.

Every case runs ``okr-report validate`` (in-process through the real command, so the asserted lines are exactly
what a user sees) and compares the printed problem lines with the expected ones, in full. A few cases also run
the installed console script in a subprocess. Cases that are not errors (an extra column, a header-only fact
table, day-first dates, Excel serial dates, time zones, BOM and declared GB18030 files) check what the product
does with them instead. Run-level cases (quarter, output folder, full disk) are in ``test_bad_runs.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from flows import cli
from flows.config_io import load_workspace
from flows.extract import read_all
from transforms.validation import stage_workspace

HERE = Path(__file__).resolve().parent
GOOD = HERE / "bad_inputs" / "good"
FIXTURES = HERE / "bad_inputs" / "fixtures"
ROOT = HERE.parent
T = pd.Timestamp


# -- running validate ----------------------------------------------------------------------------------------

@dataclass
class Validation:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def problems(self) -> list[str]:
        return [line[4:] for line in self.stderr.splitlines() if line.startswith("  - ")]

    @property
    def warnings(self) -> list[str]:
        return [line[len("  warning: "):] for line in self.stderr.splitlines() if line.startswith("  warning: ")]


def validate(ws: Path) -> Validation:
    result = CliRunner().invoke(cli.app, ["validate", "--workspace", str(ws)])
    assert isinstance(result.exception, (SystemExit, type(None))), result.exception
    return Validation(result.exit_code, result.stdout, result.stderr)


def staged(ws: Path) -> dict[str, pd.DataFrame]:
    """The staged tables through the python API (what the flow computes from)."""
    workspace, ws_dir = load_workspace(ws)
    raw, unreadable = read_all(dict(workspace.sources), ws_dir)
    tables, problems = stage_workspace(raw, workspace)
    assert unreadable == [] and [p for p in problems if p.severity == "error"] == []
    return tables


# -- mutations: each changes one thing in a copy of the good workspace -----------------------------------------

def replace(rel: str, old: str, new: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        path = ws / rel
        text = path.read_text(encoding=encoding)
        assert text.count(old) == 1, f"{old!r} must occur once in {rel}"
        path.write_text(text.replace(old, new), encoding=encoding)

    return apply


def config(old: str, new: str) -> Callable[[Path], None]:
    return replace("okr.yaml", old, new)


def deals(old: str, new: str) -> Callable[[Path], None]:
    return replace("exports/deals.csv", old, new)


def write_bytes(rel: str, data: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        path = ws / rel
        path.write_bytes(data(path.read_bytes()))

    return apply


def workbook(rel: str, change: Callable) -> Callable[[Path], None]:
    """Open an export with openpyxl, change its first sheet, save (openpyxl saves no formula results)."""

    def apply(ws: Path) -> None:
        path = ws / rel
        wb = openpyxl.load_workbook(path)
        change(wb.worksheets[0])
        wb.save(path)

    return apply


def people(change: Callable) -> Callable[[Path], None]:
    return workbook("exports/people.xlsx", change)


def plan(change: Callable) -> Callable[[Path], None]:
    return workbook("exports/plan.xlsx", change)


def cell(ref: str, value: object) -> Callable:
    def change(sheet) -> None:
        sheet[ref] = value

    return change


def copy_fixture(name: str, rel: str) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        shutil.copyfile(FIXTURES / name, ws / rel)

    return apply


def drop_csv_column(rel: str, index: int) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        path = ws / rel
        rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
        path.write_text("\n".join(",".join(r[:index] + r[index + 1:]) for r in rows) + "\n", encoding="utf-8")

    return apply


def header_only(sheet) -> None:
    sheet.delete_rows(2, sheet.max_row)


def rename_sheet(sheet) -> None:
    sheet.title = "Sheet1"


def merge_header(sheet) -> None:
    sheet.merge_cells("B1:C1")


def append_row(*values) -> Callable:
    def change(sheet) -> None:
        sheet.append(list(values))

    return change


def chain(*steps: Callable) -> Callable:
    def change(target) -> None:
        for step in steps:
            step(target)

    return change


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(GOOD, dest)
    return dest


def test_the_good_workspace_is_good(ws):
    v = validate(ws)
    assert v.exit_code == 0, v.stderr
    assert v.stderr == ""
    assert v.stdout.strip() == f"{ws}: OK - 7 sources, 49 rows, 5 metrics, 6 plan rows"


# -- the corpus: (id, one defect, the exact problem lines) -----------------------------------------------------

CJK_HEADER = "线索编号,负责人,来源,创建时间"
DEAL_COLUMNS = "'Deal ID', 'Owner', 'Customer', 'Stage', 'Amount', 'Close Date'"
MONTH_FIRST = ("expected a date like 2024-04-30 or 04/30/2024 (month first; if the export writes the day first, "
               "set 'dayfirst: true' for this source in okr.yaml)")
ALLOWED_HINT = "(if the export spells it differently, add it under 'values:' for this source in okr.yaml)"
FILTER_HINT = "(filters see the values after mapping: an export's own spellings map onto these under '{where}')"

CASES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    # ---- the config
    ("config key misspelled", config("timezone: Asia/Shanghai", "timezon: Asia/Shanghai"),
     ["okr.yaml, line 6: key 'timezon': unknown key; did you mean 'timezone'?"]),
    ("source key misspelled",
     config("    path: exports/deals.csv\n    columns:", "    path: exports/deals.csv\n    colums:"),
     ["okr.yaml, line 34: key 'sources.deals.colums': unknown key; did you mean 'columns'?"]),
    ("metric key misspelled", config("    column: amount\n", "    colum: amount\n"),
     ["okr.yaml, line 87: key 'metrics.won_revenue.column': missing: expected this key",
      "okr.yaml, line 90: key 'metrics.won_revenue.colum': unknown key; did you mean 'column'?"]),
    ("yaml syntax error", config("  name: Acme Tools", "  name: Acme: Tools"),
     ["okr.yaml, line 4: invalid YAML at column 13: mapping values are not allowed here"]),
    ("yaml tab indent", config("  id: acme", "\tid: acme"),
     ["okr.yaml, line 3: invalid YAML at column 1: found character '\\t' that cannot start any token "
      "(indent with spaces, not tabs)"]),
    ("unknown metric kind", config("    kind: sum\n", "    kind: summ\n"),
     ["okr.yaml, line 88: key 'metrics.won_revenue.kind': value 'summ': unknown metric kind: expected one of "
      "count, distinct, sum, mean, duration_mean, percentile, ratio, sla_share, rate, growth, coverage, "
      "conversion, snapshot, headcount, manual, milestone; did you mean 'sum'?"]),
    ("value out of range in config", config("fiscal_year_start_month: 1", "fiscal_year_start_month: 13"),
     ["okr.yaml, line 5: key 'fiscal_year_start_month': value 13: expected less than or equal to 12"]),
    ("config maps an unknown canonical column", config("      amount: Amount", "      amout: Amount"),
     ["okr.yaml, line 39: key 'sources.deals.columns.amout': unknown column of the deals table: expected one of "
      "deal_id, person_id, customer_id, product_id, region_id, stage, amount, engaged_at, closed_at, "
      "is_cross_sell; did you mean 'amount'? (declare a new column under tables.deals.columns)"]),
    ("config names an unknown table", config("  lead_stages:\n", "  lead_stage:\n"),
     ["okr.yaml, line 53: key 'sources.lead_stage': unknown table: expected a preset table (activities, adjustments, "
      "checkins, complaints, customers, deals, distributor_sales, distributors, enquiries, events, lead_stages, leads, "
      "newsletter_sends, people, plan, regions, signups, surveys, team_memberships, teams, trainings, web_visits), "
      "a table declared under 'tables:', or 'table: <name>' on this source to say which table it feeds; did you "
      "mean 'lead_stages'?"]),
    ("metric sums a column the table does not have", config("    column: amount\n", "    column: amount_usd\n"),
     ["okr.yaml, line 90: key 'metrics.won_revenue.column': value 'amount_usd': expected a column of the deals table; "
      "did you mean 'amount'?"]),
    ("unknown encoding name", config("encoding: gb18030", "encoding: chinese-simplified"),
     ["exports/leads.csv: value 'chinese-simplified': expected a known encoding name such as utf-8, gb18030 or "
      "cp1252 under 'encoding:' for this source in okr.yaml"]),
    ("a filter value the column never holds",
     config("    where: {stage: won}\n    unit: currency", "    where: {stage: Won}\n    unit: currency"),
     ["okr.yaml, line 92: key 'metrics.won_revenue.where.stage': value 'Won': expected one of open, won, lost; did "
      "you mean 'won'? " + FILTER_HINT.format(where="sources.deals.values.stage")]),
    ("a filter value written as the export spells it",
     config("    time: closed_at\n    where: {stage: won}\n    unit: count",
            "    time: closed_at\n    where: {stage: [won, Closed Lost]}\n    unit: count"),
     ["okr.yaml, line 99: key 'metrics.won_deals.where.stage': value 'Closed Lost': expected one of open, won, "
      "lost; did you mean 'lost'? (filters see the values after mapping: sources.deals.values.stage maps "
      "'Closed Lost' to 'lost')"]),
    ("a filter value of a lead stage not allowed",
     config("    where: {stage: won}\n    unit: count\n  market", "    where: {stage: {ne: qualified}}\n    unit: "
            "count\n  market"),
     ["okr.yaml, line 110: key 'metrics.leads_won.where.stage.ne': value 'qualified': expected one of prospect, "
      "mql, sql, won, lost " + FILTER_HINT.format(where="sources.lead_stages.values.stage")]),
    ("a filter 'in' with one value instead of a list",
     config("    where: {stage: won}\n    unit: currency", "    where: {stage: {in: won}}\n    unit: currency"),
     ["okr.yaml, line 92: key 'metrics.won_revenue.where.stage.in': value 'won': expected a list of values, e.g. "
      "{{in: [won]}}"]),  # braces doubled: expected lines go through str.format
    ("a key written twice", config("  lead_stages:\n", "  deals:\n"),
     ["okr.yaml, line 53: key 'sources.deals': duplicate key (first at line 32, again at line 53): expected each "
      "key once; YAML would keep only the last one"]),
    ("a metric defined twice, a key inside one twice",
     chain(config("  won_deals:\n", "  won_revenue:\n"),
           config("    column: amount\n", "    column: amount\n    column: amount\n")),
     ["okr.yaml, line 91: key 'metrics.won_revenue.column': duplicate key (first at line 90, again at line 91): "
      "expected each key once; YAML would keep only the last one",
      "okr.yaml, line 96: key 'metrics.won_revenue': duplicate key (first at line 87, again at line 96): expected "
      "each key once; YAML would keep only the last one"]),
    ("a Windows time zone name", config("timezone: Asia/Shanghai", "timezone: China Standard Time"),
     ["okr.yaml, line 6: key 'timezone': value 'China Standard Time': expected an IANA time zone name like "
      "Asia/Shanghai or America/New_York; did you mean 'Asia/Shanghai'? ('China Standard Time' is not an IANA "
      "name)"]),
    ("a source time zone misspelled",
     config("    dayfirst: true\n", "    dayfirst: true\n    timezone: Europe/Londn\n"),
     ["okr.yaml, line 63: key 'sources.checkins.timezone': value 'Europe/Londn': expected an IANA time zone name "
      "like Asia/Shanghai or America/New_York; did you mean 'Europe/London'?"]),
    ("a cron line with four fields", config("output: out\n", "output: out\nschedule_cron: 0 6 1 1,4,7,10\n"),
     ["okr.yaml, line 10: key 'schedule_cron': value '0 6 1 1,4,7,10': expected a cron line 'minute hour day "
      "month weekday' like '0 6 1 1,4,7,10 *': five fields, this has 4"]),
    ("a duration measured in hours but shown in days",
     config("  market_rank:\n", "  cycle:\n    definition: {kind: duration_mean, table: deals, start: closed_at, "
            "end: closed_at, unit: hours}\n    unit: days\n  market_rank:\n"),
     ["okr.yaml, line 114: key 'metrics.cycle.unit': value 'days': expected 'hours', the unit definition.unit "
      "measures in: a duration_mean is shown in the unit it is measured in, so write the unit once"]),
    ("a duration shown as a count",
     config("  market_rank:\n", "  cycle:\n    kind: duration_mean\n    table: deals\n    start: closed_at\n"
            "    end: closed_at\n    unit: count\n  market_rank:\n"),
     ["okr.yaml, line 117: key 'metrics.cycle.unit': value 'count': expected 'days' or 'hours'"]),
    ("source points at a missing file", config("path: exports/deals.csv", "path: exports/deal.csv"),
     ["exports/deal.csv: file not found: expected the export here, found nothing at {ws}/exports/deal.csv"]),
    # ---- CSV files
    ("empty file", write_bytes("exports/deals.csv", lambda b: b""),
     ["exports/deals.csv: the file is empty: expected a header row with the column names"]),
    ("truncated CSV", deals("D12,P02,C12,Closed Won,3100,2024-06-27\n", "D12,P02,C12,Clo"),
     ["exports/deals.csv, row 13: value 'D12,P02,C12,Clo': expected 6 values (one per column), found 4: the file "
      "ends in the middle of this row (was it cut off while exporting or copying?)"]),
    ("stray quote", deals("D05,P05,C05,", 'D05,P05,"C05,'),
     ["exports/deals.csv, row 6: value 'D05,P05,\"C05,Closed Won,3200,2024-05-02': a quote (\") opens a value on "
      "this row and is never closed, so the rest of the file (7 more lines) cannot be read: expected a closing "
      "quote; remove the stray quote or close it"]),
    ("unquoted comma in a value", deals("Closed Won,1800,", "Closed Won,1,800,"),
     ["exports/deals.csv, row 5: value 'D04,P03,C04,Closed Won,1,800,2024-04-18': expected 6 values (one per "
      "column), found 7; a value containing ',' must be in quotes; the row was left out"]),
    ("GB18030 file with no encoding declared", config("    encoding: gb18030\n", ""),
     [f"exports/leads.csv, row 1: value '{CJK_HEADER}': expected UTF-8 text; the file looks like GB18030 (Chinese "
      "Windows or Excel): add 'encoding: gb18030' to this source in okr.yaml"]),
    ("Windows-1252 file with no encoding declared",
     write_bytes("exports/deals.csv", lambda b: b.replace(b"C07", "Café".encode("cp1252"))),
     ["exports/deals.csv, row 8: value 'D07,P05,Café,Closed Won,1500,2024-05-21': expected UTF-8 text; the file "
      "looks like Windows-1252 (Western Windows or Excel): add 'encoding: cp1252' to this source in okr.yaml"]),
    ("GB18030 file declared as UTF-8", config("encoding: gb18030", "encoding: utf-8"),
     [f"exports/leads.csv, row 1: value '{CJK_HEADER}': expected text in utf-8, the encoding declared for this "
      "source; the file looks like GB18030 (Chinese Windows or Excel): set 'encoding: gb18030' for it in okr.yaml"]),
    ("missing column", drop_csv_column("exports/deals.csv", 0),
     ["exports/deals.csv, column 'Deal ID': missing column: expected a column named 'Deal ID' in the header row "
      "(okr.yaml maps it to deal_id); the header has 'Owner', 'Customer', 'Stage', 'Amount', 'Close Date'"]),
    ("renamed column", deals("Stage,Amount", "Stage,Amount (USD)"),
     ["exports/deals.csv, column 'Amount': missing column: expected a column named 'Amount' in the header row "
      "(okr.yaml maps it to amount); the header has 'Deal ID', 'Owner', 'Customer', 'Stage', 'Amount (USD)', "
      "'Close Date'; was it renamed to 'Amount (USD)'? Then map that name in okr.yaml"]),
    ("wrong type", deals("Closed Won,1800,", "Closed Won,1.8k,"),
     ["exports/deals.csv, row 5, column 'Amount': value '1.8k': expected a number"]),
    ("negative amount", deals("3200", "-3200"),
     ["exports/deals.csv, row 6, column 'Amount': value -3200: expected a number of at least 0"]),
    ("unparseable date", deals("2024-05-21", "2024-05-32"),
     ["exports/deals.csv, row 8, column 'Close Date': value '2024-05-32': " + MONTH_FIRST]),
    ("day-first date under month-first", deals("2024-04-18", "18/04/2024"),
     ["exports/deals.csv, row 5, column 'Close Date': value '18/04/2024': " + MONTH_FIRST]),
    ("value not allowed", deals("D09,P06,C09,Closed Won", "D09,P06,C09,Won (closed)"),
     ["exports/deals.csv, row 10, column 'Stage': value 'Won (closed)': expected one of open, won, lost "
      + ALLOWED_HINT]),
    ("duplicate ids", deals("D07,", "D05,"),
     ["exports/deals.csv, row 8, column 'Deal ID': value 'D05': expected a unique Deal ID; 'D05' is already on "
      "row 6; if the export is an event log with several rows per key, declare 'keep: {{latest_by: <time "
      "column>}}' under tables.deals in okr.yaml"]),
    ("required cell empty", deals("D03,", ","),
     ["exports/deals.csv, row 4, column 'Deal ID': the cell is empty: expected a value"]),
    ("many bad values are capped", deals("Deal ID", "Deal ID"),  # replaced below with 30 bad rows
     []),
    # ---- spreadsheets
    ("a sheet missing", people(rename_sheet),
     ["exports/people.xlsx, sheet 'Staff': expected a sheet named 'Staff'; the workbook has 'Sheet1'"]),
    ("corrupt XLSX", write_bytes("exports/people.xlsx", lambda b: b[: len(b) // 2]),
     ["exports/people.xlsx: the file is damaged or not a spreadsheet: expected an .xlsx workbook"]),
    ("password-protected XLSX", copy_fixture("people_password.xlsx", "exports/people.xlsx"),
     ["exports/people.xlsx: the workbook is password-protected: expected a workbook without a password (in Excel: "
      "File > Info > Protect Workbook > Encrypt with Password, clear it, save)"]),
    ("old .xls saved as .xlsx", write_bytes("exports/people.xlsx", lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
                                            + bytes(504)),
     ["exports/people.xlsx: this is an old .xls workbook (or an encrypted one): expected .xlsx (in Excel: File > "
      "Save As)"]),
    ("merged header cells", people(merge_header),
     ["exports/people.xlsx, sheet 'Staff', row 1: the header cells B1:C1 are merged: expected one column name per "
      "cell; unmerge them and name each column",
      "exports/people.xlsx, sheet 'Staff', column 'Email': missing column: expected a column named 'Email' in the "
      "header row (okr.yaml maps it to email); the header has 'Employee ID', 'Name', '(column C)', 'Team', "
      "'Role', 'Manager', 'Start Date', 'End Date'"]),
    ("formula without a cached value", people(cell("A4", '="P"&"03"')),
     ["exports/people.xlsx, sheet 'Staff', row 4, column 'Employee ID': value '=\"P\"&\"03\"': a formula without a "
      "cached value (the file was written by a program that does not calculate formulas): expected a value; "
      "open the file in Excel and save it again"]),
    ("empty sheet", people(lambda sheet: sheet.delete_rows(1, sheet.max_row)),
     ["exports/people.xlsx, sheet 'Staff': the sheet is empty: expected the column names on row 1"]),
    ("header-only people directory", people(header_only),
     ["exports/people.xlsx, sheet 'Staff': no rows below the header: expected at least one person"]),
    ("a person in two teams at once",
     people(append_row("P03", "Cy Wu", "cy@acme.test", "West", "Sales", "P04")),
     ["exports/people.xlsx, sheet 'Staff', row 8, column 'Employee ID': value 'P03': expected a unique Employee "
      "ID; 'P03' is already on row 4 (team 'East' there, 'West' here: a person can only be in one team at a "
      "time; for moves between teams add a team_memberships source with dates)"]),
    ("a team not in the teams export", people(cell("D6", "Wets")),
     ["exports/people.xlsx, sheet 'Staff', row 6, column 'Team': value 'Wets': expected a team listed in the "
      "teams export; did you mean 'West'?"]),
    ("a manager not in the people directory", people(cell("F3", "P10")),
     ["exports/people.xlsx, sheet 'Staff', row 3, column 'Manager': value 'P10': expected a person listed in the "
      "people directory"]),
    ("end date before start date", people(cell("H7", pd.Timestamp("2021-01-01").to_pydatetime())),
     ["exports/people.xlsx, sheet 'Staff', row 7, column 'End Date': value '2021-01-01': expected an end date on "
      "or after the start date 2022-02-01"]),
    ("text in a date cell", people(cell("G5", "last spring")),
     ["exports/people.xlsx, sheet 'Staff', row 5, column 'Start Date': value 'last spring': " + MONTH_FIRST]),
    ("duplicate team ids",
     replace("exports/teams.csv", "West,West region,P04\n", "West,West region,P04\nEast,East again,P01\n"),
     ["exports/teams.csv, row 4, column 'Team ID': value 'East': expected a unique Team ID; 'East' is already on "
      "row 2"]),
    # ---- the plan
    ("a KR naming an unknown metric", plan(cell("H3", "lead_won")),
     ["exports/plan.xlsx, sheet 'plan', row 3, column 'Metric': value 'lead_won': expected a metric defined under "
      "'metrics:' in okr.yaml; did you mean 'leads_won'?"]),
    ("baseline equal to target", plan(cell("J5", 8000)),
     ["exports/plan.xlsx, sheet 'plan', row 5, column 'Target': value 8000: expected a target different from the "
      "baseline 8000 (there is nothing to achieve otherwise)"]),
    ("target against the direction", plan(cell("K2", 5000)),
     ["exports/plan.xlsx, sheet 'plan', row 2, column 'Target': value 5000: expected a target above the baseline "
      "10000 for direction 'increase'"]),
    ("an alignment cycle", plan(chain(cell("E2", "P1"), cell("E3", "P1"), cell("E4", "P1"))),
     ["exports/plan.xlsx, sheet 'plan', row 2, column 'Parent': value 'P1': expected objectives to align upwards "
      "without a loop; C1 -> P1 -> T1 -> C1 goes round in a circle"]),
    ("an unknown parent objective", plan(chain(cell("E5", "C9"), cell("E6", "C9"))),
     ["exports/plan.xlsx, sheet 'plan', row 5, column 'Parent': value 'C9': expected the id of an objective in "
      "the plan"]),
    ("a parent two tiers up", plan(chain(cell("E7", "C1"))),
     ["exports/plan.xlsx, sheet 'plan', row 7, column 'Parent': value 'C1': expected a parent objective one tier "
      "above this person objective (C1 is a company objective)"]),
    ("a team owner not in the teams export", plan(cell("B6", "North")),
     ["exports/plan.xlsx, sheet 'plan', row 6, column 'Owner': value 'North': expected a team id from the teams "
      "export or '*'"]),
    ("a person owner not in the people directory", plan(cell("B7", "P99")),
     ["exports/plan.xlsx, sheet 'plan', row 7, column 'Owner': value 'P99': expected a person id from the people "
      "directory, '*', 'team:<team id>' or 'role:<role>'"]),
    ("a tier spelled wrong", plan(cell("A5", "teams")),
     ["exports/plan.xlsx, sheet 'plan', row 5, column 'Tier': value 'teams': expected one of company, team, "
      f"person {ALLOWED_HINT}; did you mean 'team'?"]),
    ("a target missing", plan(cell("K4", None)),
     ["exports/plan.xlsx, sheet 'plan', row 4, column 'Target': the cell is empty: expected a value"]),
    ("a KR twice for one owner", plan(append_row(*["company", "acme", "C1", "Grow revenue", None, "KR2", "again",
                                                   "leads_won", "increase", 2, 7, 1])),
     ["exports/plan.xlsx, sheet 'plan', row 8, column 'Tier': value 'company, acme, KR2': expected a unique Tier + "
      "Owner + KR; 'company, acme, KR2' is already on row 3"]),
    # an objective weight column, named by its canonical name (the config maps no column to it)
    ("objective weights that differ within one objective",
     plan(chain(cell("M1", "objective_weight"), cell("M2", 2), cell("M3", 3), cell("M4", 2))),
     ["exports/plan.xlsx, sheet 'plan', row 3, column 'objective_weight': value 3: expected 2, the objective "
      "weight given on row 2 for objective 'C1' of owner 'acme' (every KR row of one objective and owner carries "
      "the same weight)"]),
    ("a negative objective weight", plan(chain(cell("M1", "objective_weight"), cell("M5", -1), cell("M6", -1))),
     ["exports/plan.xlsx, sheet 'plan', row 5, column 'objective_weight': value -1: expected a number of at "
      "least 0",
      "exports/plan.xlsx, sheet 'plan', row 6, column 'objective_weight': value -1: expected a number of at "
      "least 0"]),
    ("header-only plan", plan(header_only),
     ["exports/plan.xlsx, sheet 'plan': no rows below the header: expected at least one key result"]),
    # ---- other exports
    ("an invalid day-first date", replace("exports/checkins.csv", "20/06/2024", "31/06/2024"),
     ["exports/checkins.csv, row 3, column 'Date': value '31/06/2024': expected a date like 2024-04-30 or "
      "30/04/2024 (day first, as 'dayfirst: true' says)"]),
    ("a lead stage not allowed", replace("exports/lead_stages.csv", "L02,P02,mql", "L02,P02,qualified"),
     ["exports/lead_stages.csv, row 5, column 'Stage': value 'qualified': expected one of prospect, mql, sql, won, "
      f"lost {ALLOWED_HINT}"]),
    ("a lead reaching a stage twice", replace("exports/lead_stages.csv", "L03,P03,won", "L01,P03,won"),
     ["exports/lead_stages.csv, row 7, column 'Lead ID': value 'L01, won': expected a unique Lead ID + Stage; "
      "'L01, won' is already on row 3; if the export is an event log with several rows per key, declare "
      "'keep: {{latest_by: <time column>}}' under tables.lead_stages in okr.yaml"]),
]


def _capped(ws: Path) -> None:
    path = ws / "exports" / "deals.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = [f"X{i:02d},P02,C01,Closed Won,lots,2024-05-01" for i in range(30)]
    path.write_text("\n".join(lines + bad) + "\n", encoding="utf-8")


CAPPED = ([f"exports/deals.csv, row {14 + i}, column 'Amount': value 'lots': expected a number" for i in range(20)]
          + ["exports/deals.csv, column 'Amount': 10 more like these (the first 20 are listed above)"])
CASES = [(cid, _capped, CAPPED) if cid == "many bad values are capped" else (cid, m, e) for cid, m, e in CASES]


@pytest.mark.parametrize("mutate, expected", [pytest.param(m, e, id=cid) for cid, m, e in CASES])
def test_bad_input(ws, mutate, expected):
    mutate(ws)
    v = validate(ws)
    assert v.exit_code == 2, v.stdout + v.stderr
    assert "Traceback" not in v.stderr + v.stdout
    n = len(v.problems)
    assert v.stderr.splitlines()[0] == f"{n} problem{'s' if n != 1 else ''} in {ws}:"
    assert v.problems == [line.format(ws=ws) for line in expected]


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


# -- the real console script, for a few cases --------------------------------------------------------------------

SUBPROCESS_CASES = ["stray quote", "yaml syntax error", "password-protected XLSX", "formula without a cached value"]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_bad_input_through_the_console_script(ws, case_id):
    mutate, expected = next((m, e) for cid, m, e in CASES if cid == case_id)
    mutate(ws)
    p = subprocess.run([sys.executable, "-m", "flows.cli", "validate", "--workspace", str(ws)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr + p.stdout
    lines = [line[4:] for line in p.stderr.splitlines() if line.startswith("  - ")]
    assert lines == [line.format(ws=ws) for line in expected]
    # the in-process run prints the very same report
    assert validate(ws).stderr == p.stderr


def test_every_problem_of_a_run_is_reported_together(ws):
    # four defects in four exports: two files cannot be read, two have bad values; all four are reported
    config("path: exports/deals.csv", "path: exports/deal.csv")(ws)
    config("    encoding: gb18030\n", "")(ws)
    people(cell("D6", "Wets"))(ws)
    plan(cell("H3", "lead_won"))(ws)
    v = validate(ws)
    assert v.exit_code == 2
    assert [line.split(":")[0] for line in v.problems] == [
        "exports/deal.csv", "exports/leads.csv, row 1", "exports/people.xlsx, sheet 'Staff', row 6, column 'Team'",
        "exports/plan.xlsx, sheet 'plan', row 3, column 'Metric'"]


# -- not errors: what the product does instead -------------------------------------------------------------------

def test_extra_columns_are_ignored(ws):
    path = ws / "exports" / "deals.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(f"{line},{'Notes' if i == 0 else 'call back'}" for i, line in enumerate(lines)) + "\n",
                    encoding="utf-8")
    people(cell("I1", "Desk"))(ws)
    people(cell("I2", "3.14"))(ws)
    v = validate(ws)
    assert v.exit_code == 0 and v.stderr == ""
    tables = staged(ws)
    from transforms.contracts import CONTRACTS

    assert list(tables["deals"].columns) == list(CONTRACTS["deals"].columns)
    assert list(tables["people"].columns) == list(CONTRACTS["people"].columns)


def test_a_header_only_fact_table_means_no_data(ws):
    (ws / "exports" / "deals.csv").write_text("Deal ID,Owner,Customer,Stage,Amount,Close Date\n", encoding="utf-8")
    v = validate(ws)
    assert v.exit_code == 0
    assert v.warnings == ["exports/deals.csv: no rows below the header: the deals table has no data, so its "
                          "metrics show 'no data'"]
    assert staged(ws)["deals"].empty


def test_an_unnamed_column_with_values_is_ignored_with_a_warning(ws):
    people(cell("J2", "stray note"))(ws)
    people(cell("I1", "Desk"))(ws)
    v = validate(ws)
    assert v.exit_code == 0
    assert v.warnings == ["exports/people.xlsx, sheet 'Staff', row 1: the header cell J1 is empty but the column "
                          "has values: expected a column name; the column is ignored"]


def test_owners_missing_from_the_people_directory_count_for_the_company_only(ws):
    deals("D02,P03,", "D02,P99,")(ws)
    v = validate(ws)
    assert v.exit_code == 0
    assert v.warnings == ["exports/deals.csv, row 3, column 'Owner': value 'P99': 1 row names an owner missing "
                          "from the people directory (P99); it counts for the company only"]
    deals("D11,P05,", "D11,P98,")(ws)
    assert validate(ws).warnings == ["exports/deals.csv, row 3, column 'Owner': value 'P98': 2 rows name owners "
                                     "missing from the people directory (P98, P99); they count for the company only"]


def test_utf8_bom_is_fine(ws):
    write_bytes("exports/deals.csv", lambda b: b"\xef\xbb\xbf" + b)(ws)
    assert validate(ws).exit_code == 0
    assert staged(ws)["deals"].loc[2, "deal_id"] == "D01"


def test_declared_gb18030_is_read(ws):
    leads = staged(ws)["leads"]
    assert leads["lead_id"].tolist()[:2] == ["L01", "L02"]
    assert leads["source"].tolist()[:3] == ["website", "event", "website"]   # 官网咨询 / 展会 aliases applied
    assert leads.loc[3, "created_at"] == T("2024-04-02 09:30")


def test_the_config_decides_day_first_or_month_first(ws):
    deals("2024-04-18", "03/04/2024")(ws)
    assert validate(ws).exit_code == 0
    assert staged(ws)["deals"].loc[5, "closed_at"] == T("2024-03-04")      # month first by default: 4 March
    config("    path: exports/deals.csv\n", "    path: exports/deals.csv\n    dayfirst: true\n")(ws)
    assert validate(ws).exit_code == 0
    assert staged(ws)["deals"].loc[5, "closed_at"] == T("2024-04-03")      # dayfirst: true -> 3 April
    # and a value only one reading allows is an error under the other, never silently swapped
    deals("2024-05-21", "05/21/2024")(ws)
    v = validate(ws)
    assert v.problems == ["exports/deals.csv, row 8, column 'Close Date': value '05/21/2024': expected a date like "
                          "2024-04-30 or 30/04/2024 (day first, as 'dayfirst: true' says)"]


def test_month_first_with_a_clock(ws):
    deals("2024-04-18", "4/18/2024 2:30 PM")(ws)
    assert staged(ws)["deals"].loc[5, "closed_at"] == T("2024-04-18 14:30")


def test_excel_serial_dates_are_accepted(ws):
    people(cell("G5", 45000))(ws)             # a date typed as a number in the spreadsheet
    deals("2024-04-18", "45400")(ws)          # and the same in a CSV export
    assert validate(ws).exit_code == 0
    tables = staged(ws)
    assert tables["people"].loc[5, "started_at"] == T("2023-03-15")
    assert tables["deals"].loc[5, "closed_at"] == T("2024-04-18")


def test_dates_with_and_without_time_zone(ws):
    # the workspace is in Asia/Shanghai (+08:00): zoned times are converted, naive ones are taken as local
    deals("2024-05-02", "2024-05-02T09:00:00+02:00")(ws)
    deals("2024-05-21", "2024-05-21T23:30:00Z")(ws)
    deals("2024-06-12", "2024-06-12 09:00")(ws)
    assert validate(ws).exit_code == 0
    closed = staged(ws)["deals"]["closed_at"]
    assert closed.dt.tz is None
    assert closed[6] == T("2024-05-02 15:00")
    assert closed[8] == T("2024-05-22 07:30")
    assert closed[11] == T("2024-06-12 09:00")
    # a source whose naive times are UTC: say so with 'timezone:'
    config("    path: exports/deals.csv\n", "    path: exports/deals.csv\n    timezone: UTC\n")(ws)
    closed = staged(ws)["deals"]["closed_at"]
    assert closed[11] == T("2024-06-12 17:00")
    assert closed[6] == T("2024-05-02 15:00")   # zoned values are unaffected
