"""Writes the small good workspace under ``good/`` that every bad-input case mutates by one defect.

Run ``python tests/bad_inputs/make_good.py`` after changing it; the files it writes are committed. With
``--encrypted`` it also writes ``fixtures/people_password.xlsx`` (the good people directory protected with the
password ``secret``), which needs the ``msoffcrypto-tool`` package; that file is committed too, so the tests
never need the package.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good"
EXPORTS = GOOD / "exports"

PEOPLE = [
    # Employee ID, Name, Email, Team, Role, Manager, Start Date, End Date
    ("P01", "Ann Lee", "ann@acme.test", "East", "Lead", None, dt.datetime(2021, 3, 1), None),
    ("P02", "Bo Chen", "bo@acme.test", "East", "Sales", "P01", dt.datetime(2022, 6, 15), None),
    ("P03", "Cy Wu", "cy@acme.test", "East", "Sales", "P01", dt.datetime(2023, 1, 9), None),
    ("P04", "Dee Park", "dee@acme.test", "West", "Lead", None, dt.datetime(2020, 11, 2), None),
    ("P05", "Eve Li", "eve@acme.test", "West", "Sales", "P04", dt.datetime(2023, 9, 4), None),
    ("P06", "Fay Zhou", "fay@acme.test", "West", "Sales", "P04", dt.datetime(2022, 2, 1),
     dt.datetime(2024, 5, 31)),
]

TEAMS = "Team ID,Team Name,Lead\nEast,East region,P01\nWest,West region,P04\n"

DEALS = """Deal ID,Owner,Customer,Stage,Amount,Close Date
D01,P02,C01,Closed Won,1200,2024-01-20
D02,P03,C02,Closed Lost,800,2024-02-11
D03,P02,C03,Closed Won,2500,2024-04-03
D04,P03,C04,Closed Won,1800,2024-04-18
D05,P05,C05,Closed Won,3200,2024-05-02
D06,P06,C06,Closed Lost,900,2024-05-09
D07,P05,C07,Closed Won,1500,2024-05-21
D08,P02,C08,Open,4000,
D09,P06,C09,Closed Won,2200,2024-05-28
D10,P03,C10,Closed Won,950,2024-06-12
D11,P05,C11,Closed Lost,700,2024-06-20
D12,P02,C12,Closed Won,3100,2024-06-27
"""

LEADS = """线索编号,负责人,来源,创建时间
L01,P02,官网咨询,2024-03-28 10:15
L02,P02,展会,2024-04-02 09:30
L03,P03,官网咨询,2024-04-08 14:00
L04,P05,客户转介绍,2024-04-15 11:20
L05,P06,展会,2024-04-22 16:45
L06,P05,官网咨询,2024-05-06 08:50
L07,P03,客户转介绍,2024-05-13 13:10
L08,P06,官网咨询,2024-06-03 15:35
"""

LEAD_STAGES = """Lead ID,Owner,Stage,Changed At
L01,P02,prospect,2024-03-28 10:15
L01,P02,won,2024-04-10 17:00
L02,P02,prospect,2024-04-02 09:30
L02,P02,mql,2024-04-09 12:00
L03,P03,prospect,2024-04-08 14:00
L03,P03,won,2024-05-02 10:00
L04,P05,prospect,2024-04-15 11:20
L04,P05,won,2024-05-20 09:00
L05,P06,prospect,2024-04-22 16:45
L05,P06,lost,2024-05-30 12:00
L06,P05,prospect,2024-05-06 08:50
L07,P03,prospect,2024-05-13 13:10
L08,P06,prospect,2024-06-03 15:35
"""

CHECKINS = """KR,Owner,Date,Value,Note
KR7,acme,15/04/2024,9,first ranking
KR7,acme,20/06/2024,6,
"""

PLAN_HEADER = ["Tier", "Owner", "Objective", "Objective Title", "Parent", "KR", "KR Title", "Metric", "Direction",
               "Baseline", "Target", "Weight"]
PLAN = [
    ("company", "acme", "C1", "Grow revenue", None, "KR1", "Win 20k in the quarter", "won_revenue", "increase",
     10000, 20000, 2),
    ("company", "acme", "C1", "Grow revenue", None, "KR2", "Convert 6 leads", "leads_won", "increase", 2, 6, 1),
    ("company", "acme", "C1", "Grow revenue", None, "KR7", "Reach rank 5 in the market", "market_rank",
     "decrease", 10, 5, 1),
    ("team", "*", "T1", "Team revenue", "C1", "KR3", "Win 8k per team", "won_revenue", "increase", 3000, 8000, 1),
    ("team", "*", "T1", "Team revenue", "C1", "KR4", "Find 5 new leads per team", "new_leads", "increase", 2, 5,
     1),
    ("person", "*", "P1", "My pipeline", "T1", "KR5", "Win 2 deals", "won_deals", "increase", 0, 2, 1),
]

CONFIG = """# A tiny workspace: the good twin of every bad-input case in tests/test_bad_inputs.py.
company:
  id: acme
  name: Acme Tools
fiscal_year_start_month: 1
timezone: Asia/Shanghai
locale: en
currency: USD
output: out

sources:
  people:
    path: exports/people.xlsx
    sheet: Staff
    columns:
      person_id: Employee ID
      person_name: Name
      email: Email
      team_id: Team
      role: Role
      manager_id: Manager
      started_at: Start Date
      ended_at: End Date
    values:
      role: {Lead: team_lead, Sales: sales}
  teams:
    path: exports/teams.csv
    columns:
      team_id: Team ID
      team_name: Team Name
      lead_id: Lead
  deals:
    path: exports/deals.csv
    columns:
      deal_id: Deal ID
      person_id: Owner
      customer_id: Customer
      stage: Stage
      amount: Amount
      closed_at: Close Date
    values:
      stage: {Closed Won: won, Closed Lost: lost, Open: open}
  leads:
    path: exports/leads.csv
    encoding: gb18030
    columns:
      lead_id: 线索编号
      person_id: 负责人
      source: 来源
      created_at: 创建时间
    values:
      source: {官网咨询: website, 展会: event, 客户转介绍: referral}
  lead_stages:
    path: exports/lead_stages.csv
    columns:
      lead_id: Lead ID
      person_id: Owner
      stage: Stage
      changed_at: Changed At
  checkins:
    path: exports/checkins.csv
    dayfirst: true
    columns:
      kr_id: KR
      owner_id: Owner
      checked_at: Date
      value: Value
      note: Note
  plan:
    path: exports/plan.xlsx
    sheet: plan
    columns:
      tier: Tier
      owner_id: Owner
      objective_id: Objective
      objective_title_en: Objective Title
      parent_objective_id: Parent
      kr_id: KR
      kr_title_en: KR Title
      metric: Metric
      direction: Direction
      baseline: Baseline
      target: Target
      weight: Weight

metrics:
  won_revenue:
    kind: sum
    table: deals
    column: amount
    time: closed_at
    where: {stage: won}
    unit: currency
    label_en: Won revenue
  won_deals:
    kind: count
    table: deals
    time: closed_at
    where: {stage: won}
    unit: count
  new_leads:
    kind: count
    table: leads
    time: created_at
    unit: count
  leads_won:
    kind: count
    table: lead_stages
    time: changed_at
    where: {stage: won}
    unit: count
  market_rank:
    kind: manual
    unit: number
"""


def people_workbook() -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "Staff"
    ws.append(["Employee ID", "Name", "Email", "Team", "Role", "Manager", "Start Date", "End Date"])
    for row in PEOPLE:
        ws.append(list(row))
    for r in range(2, len(PEOPLE) + 2):
        for c in ("G", "H"):
            ws[f"{c}{r}"].number_format = "yyyy-mm-dd"
    return wb


def plan_workbook() -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "plan"
    ws.append(PLAN_HEADER)
    for row in PLAN:
        ws.append(list(row))
    return wb


def write() -> None:
    EXPORTS.mkdir(parents=True, exist_ok=True)
    (GOOD / "okr.yaml").write_text(CONFIG, encoding="utf-8")
    people_workbook().save(EXPORTS / "people.xlsx")
    plan_workbook().save(EXPORTS / "plan.xlsx")
    (EXPORTS / "teams.csv").write_text(TEAMS, encoding="utf-8")
    (EXPORTS / "deals.csv").write_text(DEALS, encoding="utf-8")
    (EXPORTS / "leads.csv").write_bytes(LEADS.encode("gb18030"))
    (EXPORTS / "lead_stages.csv").write_text(LEAD_STAGES, encoding="utf-8")
    (EXPORTS / "checkins.csv").write_text(CHECKINS, encoding="utf-8")


def write_encrypted() -> None:
    from msoffcrypto.format.ooxml import OOXMLFile  # only needed to regenerate the committed fixture

    buf = io.BytesIO()
    people_workbook().save(buf)
    buf.seek(0)
    out = io.BytesIO()
    office = OOXMLFile(buf)
    office.encrypt("secret", out)
    (HERE / "fixtures").mkdir(exist_ok=True)
    (HERE / "fixtures" / "people_password.xlsx").write_bytes(out.getvalue())


if __name__ == "__main__":
    write()
    if "--encrypted" in sys.argv:
        write_encrypted()
