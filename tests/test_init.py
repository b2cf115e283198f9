"""``okr-report init`` on small real exports written here: what it guesses from each (worked out by hand
from the rows below), the files it writes, and how it refuses what it cannot use."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from flows import cli
from flows.init import build_starter, read_exports
from transforms.inference import (
    ColumnType,
    DateOrder,
    DateStyle,
    Keep,
    Link,
    classify,
    declared_names,
    guess_links,
    guess_table,
    markers,
    snake_name,
)
from transforms.starter import scalar

ROOT = Path(__file__).resolve().parents[1]

# Support tickets as an event log: one row per change of a ticket, the latest by Updated At; "?" where no hours
# were booked; day-first dates (15/01/2024 cannot be month first). Ten tickets: six opened in 2024 Q1
# (INC001-INC006), four in Q2 up to 23 May, so Q1 is the last complete quarter.
TICKETS = """\
Ticket ID,State,Priority,Opened,Updated At,Hours Spent,Reopen Count,Assignment Group,Assignee
INC001,new,P2,03/01/2024 09:00,03/01/2024 09:00,0,0,Service Desk,alice
INC001,in_progress,P2,03/01/2024 09:00,04/01/2024 10:00,1.5,0,Service Desk,alice
INC001,resolved,P2,03/01/2024 09:00,05/01/2024 16:30,?,0,Service Desk,alice
INC002,new,P1,15/01/2024 10:30,15/01/2024 10:30,0,0,Network,bob
INC002,in_progress,P1,15/01/2024 10:30,15/01/2024 11:00,2,0,Network,bob
INC002,resolved,P1,15/01/2024 10:30,16/01/2024 09:45,3.25,0,Network,bob
INC002,in_progress,P1,15/01/2024 10:30,18/01/2024 08:00,?,1,Network,bob
INC002,closed,P1,15/01/2024 10:30,19/01/2024 17:00,4,1,Network,bob
INC003,new,P3,28/01/2024 14:00,28/01/2024 14:00,0,0,Service Desk,chen
INC003,resolved,P3,28/01/2024 14:00,30/01/2024 12:00,0.5,0,Service Desk,chen
INC004,new,P2,05/02/2024 08:45,05/02/2024 08:45,0,0,Network,alice
INC004,in_progress,P2,05/02/2024 08:45,06/02/2024 09:00,1,0,Network,alice
INC004,closed,P2,05/02/2024 08:45,07/02/2024 15:15,2.5,0,Network,alice
INC005,new,P3,19/02/2024 16:20,19/02/2024 16:20,0,0,Service Desk,bob
INC005,resolved,P3,19/02/2024 16:20,21/02/2024 10:10,?,0,Service Desk,bob
INC006,new,P1,21/03/2024 11:00,21/03/2024 11:00,0,0,Network,chen
INC006,in_progress,P1,21/03/2024 11:00,22/03/2024 09:30,1.75,0,Network,chen
INC006,resolved,P1,21/03/2024 11:00,25/03/2024 14:00,3,0,Network,chen
INC007,new,P2,02/04/2024 09:10,02/04/2024 09:10,0,0,Service Desk,alice
INC007,resolved,P2,02/04/2024 09:10,03/04/2024 11:20,1,0,Service Desk,alice
INC008,new,P3,17/04/2024 13:00,17/04/2024 13:00,0,0,Network,bob
INC008,in_progress,P3,17/04/2024 13:00,18/04/2024 08:30,0.75,0,Network,bob
INC009,new,P2,06/05/2024 10:00,06/05/2024 10:00,0,0,Service Desk,chen
INC009,in_progress,P2,06/05/2024 10:00,07/05/2024 09:00,?,0,Service Desk,chen
INC009,resolved,P2,06/05/2024 10:00,08/05/2024 16:00,2,0,Service Desk,chen
INC010,new,P1,23/05/2024 15:30,23/05/2024 15:30,0,0,Network,alice
"""

# Deals without a people directory: the owner column names the salespeople; seller_id holds sellers' keys.
# Month-first dates (01/31/2024 cannot be day first); 14 deals created in 2024 Q1, 10 in Q2 up to 10 June.
DEAL_ROWS = [
    ("D01", "S1", "ana", "won", "1200.50", "01/04/2024", "01/20/2024"),
    ("D02", "S2", "ben", "lost", "800", "01/09/2024", "02/01/2024"),
    ("D03", "S1", "cara", "open", "450.25", "01/31/2024", ""),
    ("D04", "S3", "ana", "won", "2300", "02/02/2024", "02/28/2024"),
    ("D05", "S2", "ben", "open", "150", "02/06/2024", ""),
    ("D06", "S4", "cara", "lost", "990.90", "02/14/2024", "03/01/2024"),
    ("D07", "S1", "ana", "won", "75", "02/20/2024", "03/05/2024"),
    ("D08", "S3", "ben", "open", "600", "02/27/2024", ""),
    ("D09", "S2", "cara", "won", "1800", "03/01/2024", "03/21/2024"),
    ("D10", "S4", "ana", "lost", "320", "03/07/2024", "04/02/2024"),
    ("D11", "S1", "ben", "open", "410", "03/12/2024", ""),
    ("D12", "S3", "cara", "won", "2750.75", "03/18/2024", "04/10/2024"),
    ("D13", "S2", "ana", "lost", "500", "03/25/2024", "04/15/2024"),
    ("D14", "S4", "ben", "open", "95", "03/29/2024", ""),
    ("D15", "S1", "cara", "won", "1300", "04/03/2024", "04/30/2024"),
    ("D16", "S2", "ana", "lost", "640", "04/09/2024", "05/02/2024"),
    ("D17", "S3", "ben", "open", "220", "04/16/2024", ""),
    ("D18", "S4", "cara", "won", "3100", "04/22/2024", "05/20/2024"),
    ("D19", "S1", "ana", "lost", "730", "05/02/2024", "05/28/2024"),
    ("D20", "S2", "ben", "open", "180", "05/08/2024", ""),
    ("D21", "S3", "cara", "won", "990", "05/15/2024", "06/03/2024"),
    ("D22", "S4", "ana", "lost", "260", "05/23/2024", "06/07/2024"),
    ("D23", "S1", "ben", "open", "510", "06/04/2024", ""),
    ("D24", "S2", "cara", "won", "1450", "06/10/2024", "06/12/2024"),
]
DEALS = "deal_id,seller_id,owner,stage,amount,created_date,closed_date\n" + "".join(
    ",".join(r) + "\n" for r in DEAL_ROWS)
SELLERS = """\
seller_id,seller_city,seller_state
S1,Campinas,SP
S2,Curitiba,PR
S3,Santos,SP
S4,Niteroi,RJ
S5,Recife,PE
"""

# Leads exported by a Chinese CRM in GB18030: Chinese headers, year-first dates; four leads in 2024 Q1.
LEADS_CN = """\
线索编号,负责人,创建日期,城市,金额
L001,张伟,2024/01/05,上海,1200
L002,李娜,2024/01/18,北京,800
L003,张伟,2024/02/02,上海,1500
L004,王芳,2024/03/11,深圳,600
L005,李娜,2024/04/09,北京,900
L006,张伟,2024/04/20,上海,1100
"""


def write_tickets(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tickets.csv"
    path.write_text(TICKETS, encoding="utf-8")
    return path


def write_shop(path: Path) -> Path:
    """A workbook with an empty first sheet, orders (real date cells) and returns of some orders."""
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    orders = wb.create_sheet("Orders")
    orders.append(["order_id", "order_date", "customer", "qty", "total"])
    for row in [("O-1", dt.datetime(2024, 1, 5, 10, 30), "Acme", 3, 37.5),
                ("O-2", dt.datetime(2024, 2, 11, 9, 0), "Birch", 1, 12.5),
                ("O-3", dt.datetime(2024, 3, 30, 16, 45), "Acme", 2, 25.0),
                ("O-4", dt.datetime(2024, 4, 2, 8, 15), "Cobalt", 5, 62.5),
                ("O-5", dt.datetime(2024, 7, 1, 12, 0), "Birch", 4, 50.25)]:
        orders.append(row)
    returns = wb.create_sheet("Returns")
    returns.append(["return_id", "order_id", "returned_on", "reason"])
    returns.append(["R-1", "O-1", dt.datetime(2024, 1, 20), "damaged"])
    returns.append(["R-2", "O-3", dt.datetime(2024, 4, 5), "wrong size"])
    wb.save(path)
    return path


def starter_of(*files: Path, sheet: str | None = None):
    warnings: list = []
    exports = read_exports(files, files[0].parent, sheet, warnings)
    assert warnings == []
    return build_starter(exports, "acme", "Acme")


def init(*args: str):
    result = CliRunner().invoke(cli.app, ["init", *args])
    assert isinstance(result.exception, (SystemExit, type(None))), result.exception
    return result


# -- the pure guesses ------------------------------------------------------------------------------------------

def test_names_are_snake_case_ascii_and_never_transliterated():
    assert snake_name("Ticket ID") == "ticket_id"
    assert snake_name("createdAt") == "created_at"
    assert snake_name("HTTPStatus") == "http_status"
    assert snake_name("Situação") == "situacao"
    assert snake_name("2024 sales (EUR)") == "c_2024_sales_eur"
    assert snake_name("负责人") == ""
    assert declared_names(["Owner", "owner", "负责人", "Größe"]) == ["owner", "owner_2", "column_3", "column_4"]


def test_types_and_date_styles_from_values():
    assert classify(["1", "2", "-3"])[0] is ColumnType.INT
    assert classify(["1", "2.5"])[0] is ColumnType.FLOAT
    assert classify(["1,200", "12"])[0] is ColumnType.INT
    assert classify(["1e3", ".5", "2."])[0] is ColumnType.FLOAT
    assert classify(["E1", "E2"])[0] is ColumnType.STR
    assert classify(["yes", "no", "Y"])[0] is ColumnType.BOOL
    assert classify(["007", "12"]) == (ColumnType.STR, None, "digits with leading zeros: a code, read as text")
    assert classify(["2024-01-31", "2024-02-01 10:00:00"]) == (ColumnType.DATETIME, DateStyle(DateOrder.ISO, None),
                                                               "")
    assert classify(["05/01/2024", "31/01/2024"])[1] == DateStyle(DateOrder.DAY_FIRST, "%d/%m/%Y", "31/01/2024")
    assert classify(["01/31/2024 10:00"])[1] == DateStyle(DateOrder.MONTH_FIRST, "%m/%d/%Y %H:%M",
                                                          "01/31/2024 10:00")
    ambiguous = classify(["01/02/2024", "03/04/2024"])[1]
    assert ambiguous == DateStyle(DateOrder.MONTH_FIRST, "%m/%d/%Y", None) and ambiguous.assumed
    assert classify(["2024.01.31", "2024.02.01"])[1] == DateStyle(DateOrder.YEAR_FIRST, "%Y.%m.%d")
    # a day above 12 in both places: not dates of one style; an impossible date: not dates at all
    assert classify(["31/01/2024", "01/31/2024"])[0] is ColumnType.STR
    assert classify(["2024-02-30"])[0] is ColumnType.STR
    # some values with a time, some without: the day order still holds, no single format does
    assert classify(["31/01/2024", "01/02/2024 10:00"])[1] == DateStyle(DateOrder.DAY_FIRST, None, "31/01/2024")


def test_missing_markers_only_where_the_other_values_are_typed():
    assert markers(["1", "?", "2.5", "n/a"]) == ("?", "n/a")
    assert markers(["open", "-", "closed"]) == ()
    assert markers(["?"]) == ()


def test_a_key_of_an_id_and_a_month_and_links_to_the_table_named_like_the_column():
    text = lambda d: pd.DataFrame(d, dtype=object)  # noqa: E731
    sales = text({"partner_id": ["D1", "D1", "D2", "D2"], "month": ["2024-01-01", "2024-02-01"] * 2,
                  "sales": ["10", "20", "30", "40"]})
    changes = text({"partner_id": ["D1", "D1", "D2"], "updated_at": ["2024-01-03", "2024-02-09", "2024-01-05"]})
    partners = text({"partner_id": ["D1", "D2", "D3"], "name": ["North", "South", "East"]})
    frames = {"partner_sales": sales, "partner_changes": changes, "partners": partners}
    guesses = [guess_table(name, frame) for name, frame in frames.items()]
    assert (guesses[0].key, guesses[0].key_note) == (("partner_id", "month"),
                                                     "4 rows, partner_id + month unique together: key")
    assert (guesses[1].key, guesses[1].keep) == (("partner_id",), Keep("updated_at"))
    linked = guess_links(guesses, frames)
    # both other tables have partner_id as their key: the one named like the column wins; a table's own
    # single key is never a link
    assert [g.links for g in linked] == [(Link("partner_id", "partners", 1.0),), (), ()]


def test_yaml_scalars_read_back_as_written():
    for value in ["Ticket ID", "负责人", "%d/%m/%Y", "yes", "No", "null", "a: b", "x #y", "01", "2024", " lead",
                  "it's", 'say "hi"', "[x]", "*"]:
        assert yaml.safe_load(f"k: {scalar(value)}") == {"k": value}, value


# -- the ticket event log --------------------------------------------------------------------------------------

def test_ticket_event_log_guess(tmp_path):
    starter = starter_of(write_tickets(tmp_path))
    (t,) = starter.tables
    g = t.guess
    assert starter.people is None
    assert (g.name, g.rows, g.entities) == ("tickets", 26, 10)
    types = {c.name: c.type.value for c in g.columns}
    assert types == {"ticket_id": "str", "state": "str", "priority": "str", "opened": "datetime",
                     "updated_at": "datetime", "hours_spent": "float", "reopen_count": "int",
                     "assignment_group": "str", "assignee": "str"}
    assert [c.header for c in g.columns] == TICKETS.splitlines()[0].split(",")
    assert g.key == ("ticket_id",) and g.keep == Keep("updated_at")
    assert g.key_note == "26 rows, 10 ticket_id values: ticket_id repeats, unique with updated_at"
    assert (g.time, g.time_note) == ("opened", "named created/opened: time column")
    assert (g.person, g.team) == ("assignee", "assignment_group")
    assert g.missing == ("?",)
    hours = g.column("hours_spent")
    assert (hours.missing, hours.filled, hours.empty, hours.non_negative) == (("?",), 22, 4, True)
    assert g.column("reopen_count").non_negative
    assert g.column("state").allowed == ("closed", "in_progress", "new", "resolved")
    assert g.column("priority").allowed == ("P1", "P2", "P3")
    assert g.column("assignee").allowed == () and g.column("assignment_group").allowed == ()
    assert g.column("opened").date == DateStyle(DateOrder.DAY_FIRST, "%d/%m/%Y %H:%M", "15/01/2024 10:30")
    assert (g.date_format, g.dayfirst, g.date_note) == ("%d/%m/%Y %H:%M", False, "day first: 15/01/2024 10:30 seen")
    assert g.links == ()
    assert (t.count.label, t.count.rows, t.count.complete, t.count.target) == ("2024 Q1", 6, True, 7)
    assert (t.source.path, t.source.encoding, t.source.delimiter, t.source.sheet) == ("tickets.csv", None, ",", None)


def test_ticket_workspace_files(tmp_path):
    ws = tmp_path / "helpdesk"
    result = init("--from", str(write_tickets(ws)), "--workspace", str(ws))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"next: okr-report validate --workspace {ws}" in result.stdout
    assert "tickets.csv -> tickets (26 rows)" in result.stdout
    config = yaml.safe_load((ws / "okr.yaml").read_text(encoding="utf-8"))
    assert config["company"] == {"id": "helpdesk", "name": "helpdesk"}
    assert (config["fiscal_year_start_month"], config["timezone"], config["locale"]) == (1, "UTC", "en")
    assert config["tables"] == {"tickets": {
        "columns": {"ticket_id": {"type": "str", "nullable": False},
                    "state": {"type": "str", "allowed": ["closed", "in_progress", "new", "resolved"]},
                    "priority": {"type": "str", "allowed": ["P1", "P2", "P3"]},
                    "opened": "datetime", "updated_at": "datetime",
                    "hours_spent": {"type": "float", "min": 0}, "reopen_count": {"type": "int", "min": 0},
                    "assignment_group": "str", "assignee": "str"},
        "key": ["ticket_id"], "keep": {"latest_by": "updated_at"}, "time": "opened", "person": "assignee",
        "team": "assignment_group"}}
    assert config["sources"] == {
        "tickets": {"path": "tickets.csv", "date_format": "%d/%m/%Y %H:%M", "missing": ["?"],
                    "columns": {"ticket_id": "Ticket ID", "state": "State", "priority": "Priority",
                                "opened": "Opened", "updated_at": "Updated At", "hours_spent": "Hours Spent",
                                "reopen_count": "Reopen Count", "assignment_group": "Assignment Group",
                                "assignee": "Assignee"}},
        "plan": {"path": "okr_plan.csv"}}
    assert config["metrics"] == {"tickets_count": {"kind": "count", "table": "tickets", "time": "opened",
                                                   "unit": "count", "label_en": "Tickets"}}
    text = (ws / "okr.yaml").read_text(encoding="utf-8")
    assert "# day first: 15/01/2024 10:30 seen" in text
    assert "# 6 rows (one per ticket_id) in 2024 Q1, the last complete quarter; the plan aims 10 % higher: 7" in text
    assert "# event log: the latest row of each ticket_id counts" in text
    plan = pd.read_csv(ws / "okr_plan.csv", dtype=str)
    assert plan.to_dict("records") == [{
        "tier": "company", "owner_id": "helpdesk", "objective_id": "O1",
        "objective_title_en": "Starter objective: grow what the exports count", "kr_id": "tickets_count",
        "kr_title_en": "Tickets: 7 in the quarter (10 % above 6 in 2024 Q1)", "metric": "tickets_count",
        "baseline": "6", "target": "7"}]


def test_a_second_init_refuses_to_overwrite(tmp_path):
    ws = tmp_path / "helpdesk"
    tickets = write_tickets(ws)
    assert init("--from", str(tickets), "--workspace", str(ws)).exit_code == 0
    (ws / "okr.yaml").write_text("# edited by hand\n", encoding="utf-8")
    again = init("--from", str(tickets), "--workspace", str(ws), "--company", "Other")
    assert again.exit_code == 2
    assert f"{ws / 'okr.yaml'}: already exists" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    assert (ws / "okr.yaml").read_text(encoding="utf-8") == "# edited by hand\n"
    forced = init("--from", str(tickets), "--workspace", str(ws), "--company", "Help Desk Ltd", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert yaml.safe_load((ws / "okr.yaml").read_text(encoding="utf-8"))["company"] == {
        "id": "help_desk_ltd", "name": "Help Desk Ltd"}


# -- deals and sellers -----------------------------------------------------------------------------------------

def test_deals_link_to_sellers_and_people_come_from_the_owner_column(tmp_path):
    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    (tmp_path / "sellers.csv").write_text(SELLERS, encoding="utf-8")
    starter = starter_of(tmp_path / "deals.csv", tmp_path / "sellers.csv")
    deals, sellers = (t.guess for t in starter.tables)
    assert starter.people is None
    assert {c.name: c.type.value for c in deals.columns} == {
        "deal_id": "str", "seller_id": "str", "owner": "str", "stage": "str", "amount": "float",
        "created_date": "datetime", "closed_date": "datetime"}
    assert (deals.key, deals.keep, deals.person, deals.team) == (("deal_id",), None, "owner", None)
    assert deals.links == (Link("seller_id", "sellers", 1.0),)
    assert deals.column("stage").allowed == ("lost", "open", "won")
    assert deals.column("amount").non_negative
    assert (deals.column("closed_date").filled, deals.column("closed_date").empty) == (16, 8)
    assert (deals.time, deals.time_note) == ("created_date", "named created/opened: time column")
    assert (deals.date_format, deals.date_note) == ("%m/%d/%Y", "month first: 01/31/2024 seen")
    assert deals.missing == ()
    assert (starter.tables[0].count.label, starter.tables[0].count.rows, starter.tables[0].count.target) == (
        "2024 Q1", 14, 16)
    assert (sellers.key, sellers.time, sellers.person, sellers.links) == (("seller_id",), None, None, ())
    assert starter.tables[1].count is None
    assert [c.allowed for c in sellers.columns] == [(), (), ()]


def test_deals_workspace_yaml(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "deals.csv").write_text(DEALS, encoding="utf-8")
    (tmp_path / "exports" / "sellers.csv").write_text(SELLERS, encoding="utf-8")
    ws = tmp_path / "ws"
    result = init("--from", str(tmp_path / "exports" / "deals.csv"), "--from",
                  str(tmp_path / "exports" / "sellers.csv"), "--workspace", str(ws), "--company", "Acme")
    assert result.exit_code == 0, result.stderr
    config = yaml.safe_load((ws / "okr.yaml").read_text(encoding="utf-8"))
    assert set(config["sources"]) == {"deals", "sellers", "plan"}  # no people directory: none declared
    assert config["sources"]["deals"] == {"path": "../exports/deals.csv", "date_format": "%m/%d/%Y"}
    deals = config["tables"]["deals"]
    assert deals["replace"] is True  # deals is a preset: declared from this export alone
    assert (deals["key"], deals["person"], deals["links"]) == (["deal_id"], "owner", {"seller_id": "sellers"})
    assert "team" not in deals and "keep" not in deals
    assert config["tables"]["sellers"] == {"columns": {"seller_id": {"type": "str", "nullable": False},
                                                       "seller_city": "str", "seller_state": "str"},
                                           "key": ["seller_id"]}
    assert list(config["metrics"]) == ["deals_count"]
    assert "# no starter metric for sellers: no time column" in (ws / "okr.yaml").read_text(encoding="utf-8")
    plan = pd.read_csv(ws / "okr_plan.csv", dtype=str)
    assert plan[["owner_id", "kr_id", "baseline", "target"]].values.tolist() == [["acme", "deals_count", "14", "16"]]


# -- other encodings and workbooks -----------------------------------------------------------------------------

def test_gb18030_csv_with_chinese_headers(tmp_path):
    path = tmp_path / "leads_cn.csv"
    path.write_bytes(LEADS_CN.encode("gb18030"))
    starter = starter_of(path)
    (t,) = starter.tables
    g = t.guess
    assert t.source.encoding == "gb18030"
    assert [(c.name, c.header, c.type.value) for c in g.columns] == [
        ("column_1", "线索编号", "str"), ("column_2", "负责人", "str"), ("column_3", "创建日期", "datetime"),
        ("column_4", "城市", "str"), ("column_5", "金额", "int")]
    assert (g.key, g.person, g.time, g.team) == (("column_1",), "column_2", "column_3", None)
    assert (g.date_format, g.date_note) == ("%Y/%m/%d", "year first")
    assert g.column("column_5").non_negative
    assert (t.count.label, t.count.rows, t.count.target) == ("2024 Q1", 4, 5)
    ws = tmp_path / "ws"
    assert init("--from", str(path), "--workspace", str(ws)).exit_code == 0
    text = (ws / "okr.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert config["sources"]["leads_cn"]["encoding"] == "gb18030"
    assert config["sources"]["leads_cn"]["columns"] == {"column_1": "线索编号", "column_2": "负责人",
                                                        "column_3": "创建日期", "column_4": "城市", "column_5": "金额"}
    assert "# header 负责人" in text


def test_workbook_sheets_become_tables(tmp_path):
    book = write_shop(tmp_path / "shop.xlsx")
    starter = starter_of(book)
    orders, returns = (t.guess for t in starter.tables)
    assert [t.source.sheet for t in starter.tables] == ["Orders", "Returns"]  # the empty sheet is passed over
    assert (orders.name, orders.rows, returns.name, returns.rows) == ("shop_orders", 5, "shop_returns", 2)
    assert {c.name: c.type.value for c in orders.columns} == {
        "order_id": "str", "order_date": "datetime", "customer": "str", "qty": "int", "total": "float"}
    assert orders.column("order_date").date == DateStyle(DateOrder.ISO, None)
    assert (orders.key, orders.time, orders.date_format, orders.person) == (("order_id",), "order_date", None, None)
    assert (returns.key, returns.time, returns.links) == (("return_id",), "returned_on",
                                                           (Link("order_id", "shop_orders", 1.0),))
    counts = [(t.count.label, t.count.rows, t.count.target) for t in starter.tables]
    assert counts == [("2024 Q2", 1, 2), ("2024 Q1", 1, 2)]
    only = starter_of(book, sheet="Returns")
    assert [(t.guess.name, t.source.sheet) for t in only.tables] == [("shop", "Returns")]


def test_a_people_directory_is_mapped_onto_people(tmp_path):
    (tmp_path / "staff.csv").write_text("Emp No,Full Name,Email,Team,Start Date\n"
                                        "E1,Ann Lee,ann@x.org,East,2023-01-09\n"
                                        "E2,Bo Chan,bo@x.org,East,2023-03-01\n"
                                        "E3,Cy Diaz,cy@x.org,West,2024-02-12\n", encoding="utf-8")
    (tmp_path / "calls.csv").write_text("call_id,agent,called_at\nC1,E1,2024-01-02\nC2,E2,2024-02-03\n"
                                        "C3,E1,2024-04-04\n", encoding="utf-8")
    starter = starter_of(tmp_path / "staff.csv", tmp_path / "calls.csv")
    assert starter.people.columns == {"person_id": "Emp No", "person_name": "Full Name", "email": "Email",
                                      "team_id": "Team", "started_at": "Start Date"}
    assert [t.guess.name for t in starter.tables] == ["calls"]
    assert (starter.tables[0].guess.person, starter.tables[0].guess.links) == ("agent", ())


# -- refusing what cannot be used ------------------------------------------------------------------------------

def test_a_missing_file_exits_2_naming_it(tmp_path):
    result = init("--from", str(tmp_path / "nope.csv"), "--workspace", str(tmp_path / "ws"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.csv'}: file not found: expected an export (CSV or XLSX) here" in result.stderr
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "the file is empty: expected a header row with the column names"),
    (b"a,b\n", "only a header row: expected rows of data to infer the columns from"),
])
def test_an_empty_export_exits_2(tmp_path, content, expected):
    (tmp_path / "empty.csv").write_bytes(content)
    result = init("--from", str(tmp_path / "empty.csv"), "--workspace", str(tmp_path / "ws"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'empty.csv'}: {expected}" in result.stderr


def test_an_unreadable_workbook_exits_2(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"this is no workbook")
    result = init("--from", str(tmp_path / "broken.xlsx"), "--workspace", str(tmp_path / "ws"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'broken.xlsx'}: the file is damaged or not a spreadsheet" in result.stderr


def test_the_console_script(tmp_path):
    """The installed entry point: a bad file among good ones is reported, nothing is written, exit code 2."""
    tickets = write_tickets(tmp_path / "helpdesk")
    cmd = [sys.executable, "-m", "flows.cli", "init", "--from", str(tickets), "--from", "missing.csv",
           "--workspace", str(tmp_path / "helpdesk")]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "missing.csv: file not found" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "helpdesk" / "okr.yaml").exists()
    p = subprocess.run(cmd[:-4] + cmd[-2:], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "helpdesk" / "okr.yaml").is_file() and (tmp_path / "helpdesk" / "okr_plan.csv").is_file()
