"""Each KR's lineage on a card, in plain words and in the card's language.

The expected sentences are written out by hand: what a reader of the card should be told about a metric's
rows, filter, time, owner and files. The last tests go over every KR of the demo plan: Chinese sentences hold
no English word other than the workspace's own ids, English ones no Chinese character other than its values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from transforms import config as cfg
from transforms.lineage import EventLog, KrRef, LineageContext, Rollup, TableFacts, kr_lineage, lineage_context

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"

METRICS = {
    "won_revenue": {"kind": "sum", "table": "deals", "column": "amount", "time": "closed_at",
                    "where": {"stage": "won"}, "label_en": "Won revenue", "label_zh": "成交收入"},
    "meetings": {"kind": "count", "table": "activities", "time": "occurred_at",
                 "where": {"activity_type": ["meeting", "demo"]}, "label_en": "Meetings and demos",
                 "label_zh": "会议与演示"},
    "beating": {"kind": "count", "table": "distributor_sales", "time": "month_at",
                "where": {"sales_amount": {"ge_col": "target_amount", "times": 1.1}},
                "label_en": "Distributor-months at least 10% over target", "label_zh": "超目标10%的经销商月度记录"},
    "no_demo": {"kind": "count", "table": "signups", "time": "signed_up_at",
                "where": {"demo_at": {"is_null": True}, "source": {"ne": "website"}},
                "label_en": "Sign-ups without a demo", "label_zh": "未演示的注册"},
    "mid_deals": {"kind": "count", "table": "deals", "time": "closed_at",
                  "where": {"amount": {"gt": 1000, "lt": 5000}, "stage": {"in": ["won", "lost"]},
                            "customer_id": {"not_in": ["C1", "C2"]}}},
    "positive": {"kind": "count", "table": "surveys", "time": "responded_at",
                 "where": {"is_efficiency_positive": True}, "label_en": "Positive answers", "label_zh": "正面回答数"},
    "answers": {"kind": "count", "table": "surveys", "time": "responded_at",
                "where": {"is_efficiency_positive": {"is_null": False}}, "label_en": "Answers", "label_zh": "回答数"},
    "efficient_share": {"kind": "ratio", "numerator": "positive", "denominator": "answers",
                        "label_en": "Customers who find their salesperson efficient",
                        "label_zh": "认为销售高效的客户占比"},
    "efficient_change": {"kind": "growth", "of": "efficient_share", "label_en": "Change in efficient share",
                         "label_zh": "高效占比环比变化"},
    "leads_assigned": {"kind": "distinct", "table": "leads", "column": "lead_id", "time": "created_at",
                       "label_en": "Unique leads assigned", "label_zh": "分配的不重复线索"},
    "assigned_per_head": {"kind": "rate", "of": "leads_assigned", "per": "weekday", "per_head": True,
                          "head_where": {"role": ["sales"]}, "label_en": "Leads assigned per salesperson per "
                          "working day", "label_zh": "每位销售每个工作日分配的线索"},
    "paying_customers": {"kind": "distinct", "table": "deals", "column": "customer_id", "time": "closed_at",
                         "where": {"stage": "won"}, "label_en": "Customers with a won deal", "label_zh": "成交客户数"},
    "customer_growth": {"kind": "growth", "of": "paying_customers", "label_en": "Customer growth on previous quarter",
                        "label_zh": "客户数环比增长"},
    "revenue_compound": {"kind": "growth", "of": "won_revenue", "compound_from": "FY2016-17 Q4",
                         "label_en": "Compound quarterly revenue growth", "label_zh": "收入季度复合增长率"},
    "region_coverage": {"kind": "coverage", "table": "deals", "column": "region_id", "time": "closed_at",
                        "where": {"stage": "won"}, "window": "fiscal_year_to_date", "reference": "regions",
                        "reference_column": "region_id", "reference_where": {"region_id": {"not_in": ["XZ", "XJ"]}},
                        "label_en": "Share of provinces with a sale this fiscal year",
                        "label_zh": "本财年有成交的省级地区占比"},
    "complaints_24h": {"kind": "sla_share", "table": "complaints", "time": "opened_at", "start": "opened_at",
                       "end": "resolved_at", "within_hours": 24, "label_en": "Complaints resolved within 24 h",
                       "label_zh": "24小时内解决的投诉占比"},
    "sql_closed_60d": {"kind": "conversion", "table": "lead_stages", "time": "changed_at", "entity": "lead_id",
                       "stage_column": "stage", "from_stage": "sql", "to_stage": ["won", "lost"], "within_days": 60,
                       "label_en": "SQLs closed within 60 days", "label_zh": "60天内关闭的SQL占比"},
    "new_regions": {"kind": "distinct", "table": "deals", "column": "region_id", "time": "closed_at",
                    "where": {"stage": "won"}, "first_seen": True, "label_en": "Provinces with a first sale",
                    "label_zh": "首次成交的省级地区"},
    "sales_headcount": {"kind": "headcount", "where": {"role": ["sales"]}, "relative_to": "2017-03-31",
                        "label_en": "Sales headcount vs 31 March 2017", "label_zh": "销售人数（相对2017年3月31日）"},
    "headcount": {"kind": "headcount", "label_en": "Headcount", "label_zh": "人数"},
    "active_leads": {"kind": "snapshot", "table": "leads", "start": "created_at", "end": "closed_at",
                     "label_en": "Active leads at month end", "label_zh": "月末活跃线索数"},
    "event_leads": {"kind": "snapshot", "table": "leads", "start": "created_at", "where": {"source": "event"},
                    "label_en": "Event leads", "label_zh": "展会线索"},
    "product_rank": {"kind": "manual", "label_en": "Product rank among competitors", "label_zh": "产品在竞品中的排名"},
    "store_launched": {"kind": "milestone", "label_en": "Online store launched", "label_zh": "电商网站上线"},
    "click_rate": {"kind": "mean", "table": "newsletter_sends", "column": "clicks", "divide_by": "recipients",
                   "time": "sent_at", "label_en": "Average newsletter click rate", "label_zh": "简讯平均点击率"},
    "sales_cycle": {"kind": "duration_mean", "table": "deals", "start": "engaged_at", "end": "closed_at",
                    "time": "closed_at", "where": {"stage": "won"}, "unit": "days", "label_en": "Sales cycle",
                    "label_zh": "销售周期"},
    "customers": {"kind": "count", "table": "customers", "label_en": "Customers", "label_zh": "客户数"},
    "customers_to_date": {"kind": "distinct", "table": "deals", "column": "customer_id", "time": "closed_at",
                          "where": {"stage": "won"}, "window": "all_to_date", "label_en": "Customers so far",
                          "label_zh": "累计客户数"},
    "leads_won": {"kind": "count", "table": "lead_stages", "time": "changed_at", "where": {"stage": "won"},
                  "label_en": "Leads converted", "label_zh": "转化的线索"},
    "new_leads_zh": {"kind": "count", "table": "leads", "time": "created_at", "label_zh": "新增线索"},
    "new_leads_en": {"kind": "count", "table": "leads", "time": "created_at", "label_en": "New leads"},
    "won_sp": {"kind": "count", "table": "closed_deals", "where": {"sellers.seller_state": "SP"}},
    "median_revenue": {"kind": "percentile", "p": 50, "table": "closed_deals", "column": "declared_monthly_revenue"},
    "team_revenue": {"kind": "sum", "table": "moved_deals", "column": "amount", "time": "closed_at",
                     "label_en": "Team revenue", "label_zh": "团队收入"},
}

FILES = {
    "deals": ["exports/deals.csv"], "activities": ["exports/activities.csv"],
    "distributor_sales": ["exports/distributor_sales.csv"], "signups": ["exports/signups.csv"],
    "surveys": ["exports/surveys.csv"], "leads": ["exports/leads.csv"], "regions": ["exports/regions.xlsx"],
    "complaints": ["exports/complaints.csv"], "lead_stages": ["exports/lead_stage_history.csv"],
    "people": ["exports/people.xlsx"], "checkins": ["exports/checkins.xlsx"],
    "newsletter_sends": ["exports/newsletter_sends.csv"], "customers": ["exports/customers.csv"],
    "closed_deals": ["closed_deals_2023.csv", "closed_deals_2024.xlsx"], "moved_deals": ["moved.csv"],
}

PERSON = TableFacts(person="person_id")
TABLES = {
    **{t: PERSON for t in FILES},
    "distributor_sales": TableFacts(team="team_id"),
    "regions": TableFacts(),
    "people": TableFacts(),
    "closed_deals": TableFacts(time="won_date", person="seller_id"),
    "moved_deals": TableFacts(person="person_id", team_at="closed_at"),
}


def _metrics(defs: dict) -> dict[str, cfg.MetricDef]:
    ws = cfg.Workspace.model_validate({"company": {"id": "c", "name": "C"}, "sources": {"plan": {"path": "p.csv"}},
                                       "metrics": defs})
    return dict(ws.metrics)


CTX = LineageContext(_metrics(METRICS), FILES, TABLES)


def words(metric: str, tier: str, rows: int, locale: str, quarterly: str = "period", ctx: LineageContext = CTX,
          rollup: Rollup | None = None) -> str:
    return kr_lineage(ctx, KrRef(metric, tier, rows, quarterly, rollup), locale)


# (metric, tier, rows, quarterly value, English, Chinese)
CASES = [
    ("won_revenue", "person", 55, "period",
     "Won revenue: sum of amount over deals with stage won, closed this quarter (closed_at), owned by this person: "
     "55 rows from exports/deals.csv",
     "成交收入：deals 中 stage 为 won 的 amount 之和，按 closed_at 计入本季度，归属本人："
     "来自 exports/deals.csv 的 55 行"),
    ("meetings", "team", 1234, "period",
     "Meetings and demos: number of activities rows with activity_type meeting or demo, occurred this quarter "
     "(occurred_at), owned by this team's members: 1,234 rows from exports/activities.csv",
     "会议与演示：activities 中 activity_type 为 meeting、demo 之一的行数，按 occurred_at 计入本季度，归属本团队成员："
     "来自 exports/activities.csv 的 1,234 行"),
    ("beating", "team", 587, "period",
     "Distributor-months at least 10% over target: number of distributor_sales rows with sales_amount at least 1.1 "
     "times target_amount, counted this quarter by month_at, owned by this team (team_id on the row): 587 rows from "
     "exports/distributor_sales.csv",
     "超目标10%的经销商月度记录：distributor_sales 中 sales_amount 不小于 target_amount 的 1.1 倍的行数，按 month_at "
     "计入本季度，按行上的 team_id 归属本团队：来自 exports/distributor_sales.csv 的 587 行"),
    ("no_demo", "company", 12, "period",
     "Sign-ups without a demo: number of signups rows with demo_at empty and source other than website, signed up "
     "this quarter (signed_up_at), across the company: 12 rows from exports/signups.csv",
     "未演示的注册：signups 中 demo_at 为空且 source 不为 website 的行数，按 signed_up_at 计入本季度，全公司："
     "来自 exports/signups.csv 的 12 行"),
    ("mid_deals", "person", 1, "period",
     "mid_deals: number of deals rows with amount above 1000 and amount below 5000 and stage won or lost and "
     "customer_id other than C1 and C2, closed this quarter (closed_at), owned by this person: 1 row from "
     "exports/deals.csv",
     "mid_deals：deals 中 amount 大于 1000 且 amount 小于 5000 且 stage 为 won、lost 之一且 customer_id 不为 C1 和 C2 "
     "中任何一个的行数，按 closed_at 计入本季度，归属本人：来自 exports/deals.csv 的 1 行"),
    ("efficient_share", "person", 41, "period",
     "Customers who find their salesperson efficient: positive answers (number of surveys rows with "
     "is_efficiency_positive true, responded this quarter (responded_at)) divided by answers (number of surveys rows "
     "with is_efficiency_positive not empty, responded this quarter (responded_at)), owned by this person: 41 rows "
     "from exports/surveys.csv, counted for the divisor",
     "认为销售高效的客户占比：正面回答数（surveys 中 is_efficiency_positive 为 true 的行数，"
     "按 responded_at 计入本季度）除以回答数（surveys 中 is_efficiency_positive 不为空的行数，按 responded_at "
     "计入本季度），归属本人：来自 exports/surveys.csv 的 41 行（除数的行数）"),
    ("efficient_change", "person", 40, "period",
     "Change in efficient share: change on the previous quarter in customers who find their salesperson efficient "
     "(positive answers (number of surveys rows with is_efficiency_positive true, responded this quarter "
     "(responded_at)) divided by answers (number of surveys rows with is_efficiency_positive not empty, responded "
     "this quarter (responded_at))), owned by this person: 40 rows from exports/surveys.csv, counted for the divisor "
     "in the previous quarter",
     "高效占比环比变化：认为销售高效的客户占比（正面回答数（surveys 中 is_efficiency_positive 为 true 的行数，按 "
     "responded_at 计入本季度）除以回答数（surveys 中 is_efficiency_positive 不为空的行数，"
     "按 responded_at 计入本季度））较上季度的变化，归属本人：来自 exports/surveys.csv 的 40 行（上季度除数的行数）"),
    ("assigned_per_head", "team", 224, "period",
     "Leads assigned per salesperson per working day: unique leads assigned (number of distinct lead_id values in "
     "leads, created this quarter (created_at)) per working day (Monday to Friday), per head of the people with role "
     "sales employed in the period, owned by this team's members: 224 rows from exports/leads.csv",
     "每位销售每个工作日分配的线索：分配的不重复线索（leads 的不重复 lead_id 个数，按 created_at 计入本季度）"
     "除以期间内的工作日数（周一至周五），再按期间内在职且 role 为 sales 的人数人均，归属本团队成员："
     "来自 exports/leads.csv 的 224 行"),
    ("customer_growth", "company", 1027, "period",
     "Customer growth on previous quarter: change on the previous quarter in customers with a won deal (number of "
     "distinct customer_id values in deals with stage won, closed this quarter (closed_at)), across the company: "
     "1,027 rows from exports/deals.csv, counted in the previous quarter",
     "客户数环比增长：成交客户数（deals 中 stage 为 won 的不重复 customer_id 个数，按 closed_at 计入本季度）较上季度的"
     "变化，全公司：来自 exports/deals.csv 的 1,027 行（上季度的行数）"),
    ("revenue_compound", "company", 328, "period",
     "Compound quarterly revenue growth: quarterly growth compounded since FY2016-17 Q4 in won revenue (sum of amount "
     "over deals with stage won, closed this quarter (closed_at)), across the company: 328 rows from "
     "exports/deals.csv, counted in FY2016-17 Q4",
     "收入季度复合增长率：成交收入（deals 中 stage 为 won 的 amount 之和，按 closed_at 计入本季度）自 FY2016-17 Q4 "
     "以来的季度复合增长，全公司：来自 exports/deals.csv 的 328 行（FY2016-17 Q4 的行数）"),
    ("region_coverage", "company", 3717, "period",
     "Share of provinces with a sale this fiscal year: share of the region_id values of regions with region_id other "
     "than XZ and XJ reached by the region_id of deals with stage won, closed from the start of the fiscal year to "
     "the end of this quarter (closed_at), across the company: 3,717 rows from exports/deals.csv",
     "本财年有成交的省级地区占比：deals 中 stage 为 won 的 region_id 覆盖 regions 中 region_id 不为 XZ 和 XJ 中任何"
     "一个的 region_id 取值的占比，按 closed_at 计入本财年初至本季度末，全公司：来自 exports/deals.csv 的 3,717 行"),
    ("complaints_24h", "person", 39, "period",
     "Complaints resolved within 24 h: share of complaints rows whose resolved_at is within 24 hours of opened_at, "
     "opened this quarter (opened_at), owned by this person: 39 rows from exports/complaints.csv",
     "24小时内解决的投诉占比：complaints 的行中 resolved_at 在 opened_at 之后 24 小时内的占比，"
     "按 opened_at 计入本季度，归属本人：来自 exports/complaints.csv 的 39 行"),
    ("sql_closed_60d", "person", 39, "period",
     "SQLs closed within 60 days: share of lead_id values in lead_stages with stage sql whose stage becomes won or "
     "lost within 60 days, changed this quarter (changed_at), owned by this person: 39 rows from "
     "exports/lead_stage_history.csv",
     "60天内关闭的SQL占比：lead_stages 中 stage 为 sql 的 lead_id 在 60 天内 stage 变为 won、lost 之一的占比，按 "
     "changed_at 计入本季度，归属本人：来自 exports/lead_stage_history.csv 的 39 行"),
    ("new_regions", "team", 3, "period",
     "Provinces with a first sale: number of region_id values in deals with stage won, whose first row ever falls "
     "this quarter (closed_at), owned by this team's members: 3 rows from exports/deals.csv",
     "首次成交的省级地区：deals 中 stage 为 won 的 region_id 取值个数，按 closed_at 首次出现于本季度，归属本团队成员："
     "来自 exports/deals.csv 的 3 行"),
    ("sales_headcount", "team", 2, "period",
     "Sales headcount vs 31 March 2017: number of people with role sales employed at the end of this quarter, "
     "divided by the same number on 2017-03-31, in this team: 2 rows from exports/people.xlsx, counted on 2017-03-31",
     "销售人数（相对2017年3月31日）：people 中 role 为 sales 且在本季度末在职的人数，除以 2017-03-31 的同口径人数，"
     "范围为本团队：来自 exports/people.xlsx 的 2 行（2017-03-31 的行数）"),
    ("headcount", "company", 85, "period",
     "Headcount: number of people employed at the end of this quarter, in the company: 85 rows from "
     "exports/people.xlsx",
     "人数：people 中在本季度末在职的人数，范围为全公司：来自 exports/people.xlsx 的 85 行"),
    ("active_leads", "team", 1252, "mean_of_months",
     "Active leads at month end: number of leads rows open at each month's end (created_at before then, closed_at "
     "empty or not before then), mean of the monthly values, owned by this team's members: 1,252 rows from "
     "exports/leads.csv, counted over the months",
     "月末活跃线索数：leads 中在每月末仍有效的行数（created_at 早于该时点，且 closed_at 为空或不早于该时点），"
     "取各月数值的平均，归属本团队成员：来自 exports/leads.csv 的 1,252 行（各月合计的行数）"),
    ("event_leads", "person", 9, "last_month",
     "Event leads: number of leads rows with source event open at the end of the quarter's last month (created_at "
     "before then), owned by this person: 9 rows from exports/leads.csv",
     "展会线索：leads 中 source 为 event 且在本季度最后一个月末仍有效的行数（created_at 早于该时点），归属本人："
     "来自 exports/leads.csv 的 9 行"),
    ("won_revenue", "person", 55, "months_on_target",
     "Won revenue: sum of amount over deals with stage won, closed each month (closed_at), share of the months on "
     "target, owned by this person: 55 rows from exports/deals.csv, counted over the months",
     "成交收入：deals 中 stage 为 won 的 amount 之和，按 closed_at 计入每个月，取达标月份的占比，归属本人："
     "来自 exports/deals.csv 的 55 行（各月合计的行数）"),
    ("product_rank", "person", 1, "period",
     "Product rank among competitors: latest check-in up to the period end, checked in for this person: 1 row from "
     "exports/checkins.xlsx",
     "产品在竞品中的排名：最近一次截至期末的人工填报，填报对象为本人：来自 exports/checkins.xlsx 的 1 行"),
    ("store_launched", "team", 0, "mean_of_months",
     "Online store launched: latest check-in of the milestone's progress up to the period end (1 = done), checked in "
     "for this team: 0 rows from exports/checkins.xlsx",
     "电商网站上线：最近一次截至期末的里程碑进度人工填报（1 为完成），填报对象为本团队："
     "来自 exports/checkins.xlsx 的 0 行"),
    ("click_rate", "person", 12, "period",
     "Average newsletter click rate: mean of clicks / recipients, row by row, over newsletter_sends, counted this "
     "quarter by sent_at, owned by this person: 12 rows from exports/newsletter_sends.csv",
     "简讯平均点击率：newsletter_sends 的逐行 clicks / recipients 的平均值，按 sent_at 计入本季度，归属本人："
     "来自 exports/newsletter_sends.csv 的 12 行"),
    ("sales_cycle", "company", 1000, "period",
     "Sales cycle: mean time from engaged_at to closed_at, in days, over deals with stage won, closed this quarter "
     "(closed_at), across the company: 1,000 rows from exports/deals.csv",
     "销售周期：deals 中 stage 为 won 的 engaged_at 至 closed_at 平均时长（天），按 closed_at 计入本季度，全公司："
     "来自 exports/deals.csv 的 1,000 行"),
    ("customers", "company", 2000, "period",
     "Customers: number of customers rows, at any time (no time column), across the company: 2,000 rows from "
     "exports/customers.csv",
     "客户数：customers 的行数，不限时间（无时间列），全公司：来自 exports/customers.csv 的 2,000 行"),
    ("customers_to_date", "person", 46, "period",
     "Customers so far: number of distinct customer_id values in deals with stage won, closed up to the end of this "
     "quarter (closed_at), owned by this person: 46 rows from exports/deals.csv",
     "累计客户数：deals 中 stage 为 won 的不重复 customer_id 个数，按 closed_at 计入本季度末之前的全部时间，归属本人："
     "来自 exports/deals.csv 的 46 行"),
    ("won_sp", "person", 7, "period",
     "won_sp: number of closed_deals rows with sellers.seller_state SP, counted this quarter by won_date, owned by "
     "this person (seller_id): 7 rows from closed_deals_2023.csv and closed_deals_2024.xlsx",
     "won_sp：closed_deals 中 sellers.seller_state 为 SP 的行数，按 won_date 计入本季度，按 seller_id 归属本人："
     "来自 closed_deals_2023.csv 和 closed_deals_2024.xlsx 的 7 行"),
    ("team_revenue", "team", 30, "period",
     "Team revenue: sum of amount over moved_deals, closed this quarter (closed_at), owned by the team each row's "
     "person was in at closed_at: 30 rows from moved.csv",
     "团队收入：moved_deals 的 amount 之和，按 closed_at 计入本季度，按 closed_at 时点所在团队归属本团队："
     "来自 moved.csv 的 30 行"),
]


@pytest.mark.parametrize(("metric", "tier", "rows", "quarterly", "en", "zh"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_each_kind_in_words(metric, tier, rows, quarterly, en, zh):
    assert words(metric, tier, rows, "en", quarterly) == en
    assert words(metric, tier, rows, "zh-CN", quarterly) == zh


def test_a_table_fed_by_three_files_names_them_all():
    ctx = LineageContext(CTX.metrics, {"closed_deals": ["a.csv", "b.xlsx", "c.csv"]}, TABLES)
    assert words("median_revenue", "company", 1500, "en", ctx=ctx) == (
        "median_revenue: median of declared_monthly_revenue over closed_deals, counted this quarter by won_date, "
        "across the company: 1,500 rows from a.csv, b.xlsx and c.csv")
    assert words("median_revenue", "company", 1500, "zh-CN", ctx=ctx) == (
        "median_revenue：closed_deals 的 declared_monthly_revenue 中位数，按 won_date 计入本季度，全公司："
        "来自 a.csv、b.xlsx 和 c.csv 的 1,500 行")


@pytest.mark.parametrize(("p", "en", "zh"), [
    (1, "1st percentile", "第 1 百分位数"), (22, "22nd percentile", "第 22 百分位数"),
    (33, "33rd percentile", "第 33 百分位数"), (11, "11th percentile", "第 11 百分位数"),
    (12, "12th percentile", "第 12 百分位数"), (90, "90th percentile", "第 90 百分位数"),
    (99.5, "99.5th percentile", "第 99.5 百分位数"),
])
def test_percentiles_are_named(p, en, zh):
    ctx = LineageContext(_metrics({"q": {"kind": "percentile", "p": p, "table": "deals", "column": "amount",
                                         "time": "closed_at"}}), FILES, TABLES)
    assert words("q", "company", 5, "en", ctx=ctx) == (
        f"q: {en} of amount over deals, closed this quarter (closed_at), across the company: 5 rows from "
        "exports/deals.csv")
    assert words("q", "company", 5, "zh-CN", ctx=ctx) == (
        f"q：deals 的 amount {zh}，按 closed_at 计入本季度，全公司：来自 exports/deals.csv 的 5 行")


def test_an_event_log_says_which_row_it_keeps_and_how_many_it_set_aside():
    log = EventLog(("lead_id", "stage"), "changed_at", False, 1000, 10)
    ctx = LineageContext(CTX.metrics, FILES, {**TABLES, "lead_stages": TableFacts(person="person_id", event_log=log)})
    assert words("leads_won", "person", 4, "en", ctx=ctx) == (
        "Leads converted: number of lead_stages rows with stage won, changed this quarter (changed_at), owned by this "
        "person: 4 rows from exports/lead_stage_history.csv; lead_stages keeps the first row per lead_id and stage by "
        "changed_at (1,000 rows read, 990 kept, 10 set aside)")
    assert words("leads_won", "person", 4, "zh-CN", ctx=ctx) == (
        "转化的线索：lead_stages 中 stage 为 won 的行数，按 changed_at 计入本季度，归属本人："
        "来自 exports/lead_stage_history.csv 的 4 行；lead_stages 按 changed_at 保留每个 lead_id、stage 的最早一行"
        "（读取 1,000 行，保留 990 行，10 行不计）")


TINY_YAML = {
    "company": {"id": "it", "name": "IT"},
    "tables": {"tickets": {"columns": {"id": "str", "state": "str", "updated": "datetime", "opened": "datetime",
                                       "resolved": "datetime", "group": "str", "agent": "str"},
                           "key": ["id"], "time": "opened", "person": "agent", "team": "group",
                           "keep": {"latest_by": "updated"}}},
    "sources": {"tickets": {"path": "tickets.csv.gz"}, "plan": {"path": "plan.csv"}},
    "metrics": {"p90_h": {"kind": "percentile", "p": 90, "table": "tickets", "time": "resolved", "start": "opened",
                          "end": "resolved", "unit": "hours"},
                "opened": {"kind": "count", "table": "tickets", "label_en": "Tickets opened"}},
}


def test_a_staged_event_log_in_words():
    """The facts come from staging itself: the log's reduction, its owner columns and its declared time."""
    from transforms.validation import stage_workspace

    ws = cfg.Workspace.model_validate(TINY_YAML)
    log = pd.DataFrame(
        [("T2", "Closed", "2024-01-06 08:00", "2024-01-05 10:00", "2024-01-05 20:00", "db", "a2"),
         ("T1", "New", "2024-01-02 09:00", "2024-01-02 09:00", None, "net", "a1"),
         ("T1", "Resolved", "2024-01-03 09:00", "2024-01-02 09:00", "2024-01-03 09:00", "net", "a1"),
         ("T2", "New", "2024-01-05 10:00", "2024-01-05 10:00", None, "net", "a2"),
         ("T2", "Resolved", "2024-01-05 20:00", "2024-01-05 10:00", "2024-01-05 20:00", "net", "a2"),
         ("T3", "New", "2024-02-01 12:00", "2024-02-01 12:00", None, "db", None),
         ("T4", "Resolved", "2023-12-30 10:00", "2023-12-20 10:00", "2023-12-30 10:00", "db", "a1")],
        columns=["id", "state", "updated", "opened", "resolved", "group", "agent"])
    plan = pd.DataFrame({"tier": ["company"], "owner_id": ["it"], "objective_id": ["O1"], "kr_id": ["K1"],
                         "metric": ["p90_h"], "target": [24.0]})
    for frame in (log, plan):
        frame.index = pd.RangeIndex(2, 2 + len(frame))
    tables, problems = stage_workspace({"tickets": log, "plan": plan}, ws)
    assert [p for p in problems if p.severity == "error"] == []
    ctx = lineage_context(ws, tables)
    assert ctx.files["tickets"] == ["tickets.csv.gz"]
    assert kr_lineage(ctx, KrRef("p90_h", "team", 2), "en") == (
        "p90_h: 90th percentile of the time from opened to resolved, in hours, over tickets, counted this quarter by "
        "resolved, owned by this team (group on the row): 2 rows from tickets.csv.gz; tickets keeps the latest row "
        "per id by updated (7 rows read, 4 kept, 3 set aside)")
    assert kr_lineage(ctx, KrRef("p90_h", "team", 2), "zh-CN") == (
        "p90_h：tickets 的 opened 至 resolved 时长（小时）的第 90 百分位数，按 resolved 计入本季度，按行上的 group "
        "归属本团队：来自 tickets.csv.gz 的 2 行；tickets 按 updated 保留每个 id 的最新一行（读取 7 行，保留 4 行，"
        "3 行不计）")
    # no time column on the metric: the table's declared one; the person is the declared owner column
    assert kr_lineage(ctx, KrRef("opened", "person", 1), "en") == (
        "Tickets opened: number of tickets rows, counted this quarter by opened, owned by this person (agent): 1 row "
        "from tickets.csv.gz; tickets keeps the latest row per id by updated (7 rows read, 4 kept, 3 set aside)")
    assert kr_lineage(ctx, KrRef("opened", "person", 1), "zh-CN") == (
        "Tickets opened：tickets 的行数，按 opened 计入本季度，按 agent 归属本人：来自 tickets.csv.gz 的 1 行；tickets "
        "按 updated 保留每个 id 的最新一行（读取 7 行，保留 4 行，3 行不计）")


def test_a_value_rollup_says_whose_values_were_summed():
    team = Rollup(3, "P1", "won_revenue")
    assert words("won_revenue", "team", 40, "en", rollup=team) == (
        "Won revenue: sum of the values of P1 (sum of amount over deals with stage won, closed this quarter "
        "(closed_at)) over this team's 3 members: 40 rows from exports/deals.csv")
    assert words("won_revenue", "team", 40, "zh-CN", rollup=team) == (
        "成交收入：本团队 3 名成员的 P1 数值（deals 中 stage 为 won 的 amount 之和，按 closed_at 计入本季度）之和："
        "来自 exports/deals.csv 的 40 行")
    company = Rollup(1, "T1", "won_revenue")
    assert words("won_revenue", "company", 40, "en", rollup=company) == (
        "Won revenue: sum of the values of T1 (sum of amount over deals with stage won, closed this quarter "
        "(closed_at)) over the company's 1 team: 40 rows from exports/deals.csv")


def test_a_label_missing_in_the_card_language_falls_back_to_the_other():
    assert words("new_leads_zh", "person", 72, "en") == (
        "新增线索: number of leads rows, created this quarter (created_at), owned by this person: 72 rows from "
        "exports/leads.csv")
    assert words("new_leads_en", "person", 72, "zh-CN") == (
        "New leads：leads 的行数，按 created_at 计入本季度，归属本人：来自 exports/leads.csv 的 72 行")


# -- the demo plan ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo():
    from flows.config_io import load_workspace
    from flows.extract import read_all
    from transforms.calendar import parse_quarter
    from transforms.report import compute_quarter
    from transforms.scorecards import build_scorecards
    from transforms.validation import stage_workspace

    ws, folder = load_workspace(DEMO)
    raw, _ = read_all(dict(ws.sources), folder)
    tables, _ = stage_workspace(raw, ws)
    res = compute_quarter(ws, tables, parse_quarter("FY2017-18-Q4", ws.fiscal_year_start_month))
    cards = {loc: build_scorecards(res, ws, tables, loc, "2026-12-01 08:00", "x") for loc in ("zh-CN", "en")}
    return ws, tables, res, cards


def _card_lineages(cards: list[dict]) -> list[tuple[str, str, str, str]]:
    """(tier, owner, kr, lineage) of every KR on every card."""
    return [(c["tier"], c["owner_id"], kr["kr_id"], kr["lineage"])
            for c in cards for o in c["objectives"] for kr in o["krs"]]


def _where_values(where: dict) -> list[object]:
    out: list[object] = []
    for cond in where.values():
        if isinstance(cond, list):
            out += cond
        elif isinstance(cond, dict):
            out += [v for op, v in cond.items() if not op.endswith("_col") and op not in ("is_null", "times")]
        else:
            out.append(cond)
    return [x for v in out for x in (v if isinstance(v, list) else [v])]


def _config_values(ws: cfg.Workspace) -> list[str]:
    """Every value a metric definition compares with or names, as the card writes it."""
    out: list[object] = []
    for m in ws.metrics.values():
        d = m.definition
        for field in ("where", "head_where", "reference_where"):
            out += _where_values(getattr(d, field, None) or {})
        for field in ("from_stage", "to_stage", "compound_from", "relative_to"):
            v = getattr(d, field, None)
            out += v if isinstance(v, list) else [v] if v is not None else []
    return [("true" if v else "false") if isinstance(v, bool) else str(v) for v in out]


ID_TOKEN = re.compile(r"[A-Za-z0-9_./%-]+")
ID_FIELDS = ("table", "column", "time", "start", "end", "divide_by", "entity", "stage_column", "reference",
             "reference_column")


def _allowed_ids(ws: cfg.Workspace, tables: dict) -> set[str]:
    """Table and column names, filter values, file names and the Latin ids inside Chinese labels (MQL, X)."""
    ids = set(tables) | {c for t in tables.values() for c in t.columns}
    for m in ws.metrics.values():
        d = m.definition
        ids |= {getattr(d, f) for f in ID_FIELDS if isinstance(getattr(d, f, None), str)}
        for field in ("where", "head_where", "reference_where"):
            ids |= set(getattr(d, field, None) or {})
    ids |= {s.path for s in ws.sources.values()}
    ids |= {t for v in _config_values(ws) for t in ID_TOKEN.findall(v)}
    ids |= {t for m in ws.metrics.values() for t in ID_TOKEN.findall(m.label_zh or "")}
    return ids


def test_demo_zh_lineage_has_no_english_but_ids(demo):
    ws, tables, _, cards = demo
    allowed = _allowed_ids(ws, tables)
    found = _card_lineages(cards["zh-CN"])
    assert len(found) > 1000
    for tier, owner, kr, text in found:
        stray = [t for t in ID_TOKEN.findall(text) if re.search("[A-Za-z]", t) and t not in allowed]
        assert stray == [], (tier, owner, kr, text)
        assert not re.search(r", |: |; |\(|\)", text), (tier, owner, kr, text)  # Chinese punctuation only


def test_demo_en_lineage_has_no_chinese_but_chinese_values(demo):
    ws, _, _, cards = demo
    chinese = sorted({v for v in _config_values(ws) if re.search("[\u3000-\u9fff\uff00-\uffef]", v)}, key=len,
                     reverse=True)
    for tier, owner, kr, text in _card_lineages(cards["en"]):
        for value in chinese:
            text = text.replace(value, "")
        assert not re.search("[\u3000-\u9fff\uff00-\uffef]", text), (tier, owner, kr, text)


def test_demo_lineage_says_each_kr_row_count_and_its_files(demo):
    ws, _, res, cards = demo
    rows = {(t, str(o), str(k)): int(n) for t, o, k, n in zip(res.krs["tier"], res.krs["owner_id"],
                                                              res.krs["kr_id"], res.krs["rows"])}
    paths = [s.path for s in ws.sources.values()]
    for locale, word in (("zh-CN", " 行"), ("en", " row")):
        for tier, owner, kr, text in _card_lineages(cards[locale]):
            assert f"{rows[(tier, owner, kr)]:,}{word}" in text, (tier, owner, kr, text)
            assert any(p in text for p in paths), text
