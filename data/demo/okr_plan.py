"""The demo company's OKR plan for FY2017-18 and its manual check-ins.

Kept apart from the data simulation in ``generate.py`` because it is mostly wording. Numbers that were
scaled down to the demo's data volume are marked ``scaled`` here and listed in README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PLAN_HEADER = [
    "Tier",
    "Owner",
    "Objective ID",
    "Objective (EN)",
    "Objective (ZH)",
    "Parent Objective",
    "KR ID",
    "Key Result (EN)",
    "Key Result (ZH)",
    "Metric",
    "Direction",
    "Baseline",
    "Target",
    "Weight",
    "Quarterly Value",
    "Due Quarter",
    "Roll-up",
    "Roll-up From",
    "Partial Credit",
]


@dataclass(frozen=True)
class KR:
    id: str
    en: str
    zh: str
    metric: str
    baseline: float
    target: float
    direction: str = "increase"
    weight: float = 1.0
    quarterly_value: str = "period"
    due_quarter: int | None = None
    partial_credit: bool | None = None
    scaled: bool = False


@dataclass(frozen=True)
class Objective:
    tier: str
    owner: str  # "*" = every owner of the tier, "role:sales" = every salesperson; "{company}" = the company id
    id: str
    en: str
    zh: str
    parent: str | None
    krs: tuple[KR, ...]


# fmt: off
OBJECTIVES = [
    # ------------------------------------------------------------------ company
    Objective("company", "{company}", "C1",
              "Lift the profit margin by 42% in every quarter of FY2017-18",
              "2017-18财年每个季度把利润率提升42%", None, (
                  KR("c1_kr1", "Monthly revenue compounds at 20% quarter over quarter",
                     "月度收入按季度保持20%的复合增长", "revenue_growth_compound", 0.0, 0.20, weight=2.0),
                  KR("c1_kr2", "35% more paying customers every quarter",
                     "付费客户数每季度增加35%", "customer_growth", 0.0, 0.35),
                  KR("c1_kr3", "Sell in 55% of the country's provinces by Q4",
                     "第四季度前销售覆盖全国55%的省级地区", "region_coverage_fytd", 0.26, 0.55,
                     due_quarter=4),
              )),
    # ------------------------------------------------------------------ teams
    Objective("team", "*", "T1",
              "Grow the sales pipeline by 35% by FY2017-18 Q4",
              "到2017-18财年第四季度把销售管道扩大35%", "C1", (
                  KR("t1_kr1", "Sales headcount reaches 2.5 times its 31 March 2017 level by Q2",
                     "第二季度末销售人数达到2017年3月31日的2.5倍", "sales_headcount_multiple", 1.0, 2.5,
                     due_quarter=2),
                  KR("t1_kr2", "600 active leads in the team's pipeline at every month end",
                     "每个月末团队管道中保持600条活跃线索", "active_leads", 150, 600,
                     quarterly_value="mean_of_months", scaled=True),
                  KR("t1_kr3", "1.5 leads converted to customers per working day",
                     "每个工作日有1.5条线索转化为客户", "leads_won_per_weekday", 0.0, 1.5, scaled=True),
                  KR("t1_kr4", "15% fewer lost leads than the quarter before",
                     "丢失的线索数量比上季度减少15%", "leads_lost_growth", 0.0, -0.15,
                     direction="decrease"),
              )),
    Objective("team", "*", "T2",
              "Raise the product's national reach by 35% by Q4",
              "到第四季度把产品在全国的覆盖率提高35%", "C1", (
                  KR("t2_kr1", "Our distribution channel becomes the second largest in the country",
                     "我们的分销渠道成为全国第二大渠道", "channel_rank", 5, 2, direction="at_most"),
                  KR("t2_kr2", "Win the first sale in one new province every month",
                     "每个月在一个新的省级地区实现首单", "new_regions_per_month", 0.0, 1.0),
                  KR("t2_kr3", "Online store launched and selling the full product range",
                     "电商网站上线并销售全线产品", "ecommerce_site", 0.0, 1.0, partial_credit=True),
              )),
    Objective("team", "channel", "T3",
              "Make the distribution network 35% stronger by Q4",
              "到第四季度把分销网络的质量提升35%", "C1", (
                  KR("t3_kr1", "60% of distributor-months beat the monthly target by at least 10%",
                     "60%的经销商月度销售额超过月度目标10%以上", "distributor_target_share", 0.4, 0.6),
                  KR("t3_kr2", "Commission rate 8% higher than the quarter before",
                     "佣金率比上季度提高8%", "commission_rate_growth", 0.0, 0.08),
                  KR("t3_kr3", "25 new distributors signed every month",
                     "每月签约25家新经销商", "new_distributors_per_month", 10, 25),
              )),
    Objective("team", "*", "T4",
              "Handle inbound leads 35% better by Q4",
              "到第四季度把潜在客户的处理能力提升35%", "C1", (
                  KR("t4_kr1", "Every website enquiry answered within 12 hours",
                     "所有官网咨询在12小时内得到答复", "enquiries_answered_12h", 0.6, 1.0),
                  KR("t4_kr2", "70% of sign-ups get a product demo within 24 hours",
                     "70%的注册用户在24小时内看到产品演示", "signup_demo_24h", 0.4, 0.7),
                  KR("t4_kr3", "Keep landing-page issues minimal",
                     "尽量减少落地页上的问题", "landing_page_issues", 12, 3, direction="decrease"),
              )),
    Objective("team", "*", "T5",
              "Make every salesperson more effective",
              "提升每位销售人员的效率", "C1", (
                  KR("t5_kr1", "Two training sessions a month across the customer life cycle",
                     "每月两次培训，覆盖客户生命周期的各个阶段", "trainings_per_month", 0.0, 2.0),
                  KR("t5_kr2", "Lead-to-customer conversion rate up 40% on the quarter before",
                     "线索到客户的整体转化率比上季度提高40%", "lead_conversion_growth", 0.0, 0.40),
                  KR("t5_kr3", "85% of surveyed customers rate their salesperson as efficient",
                     "85%的受访客户认为销售人员高效", "efficiency_positive_share", 0.7, 0.85),
              )),
    Objective("team", "*", "T6",
              "Make sales analytics 35% more efficient by Q4",
              "到第四季度把销售分析流程的效率提升35%", "C1", (
                  KR("t6_kr1", "CRM updated daily so that MQL-to-SQL hand-off errors drop by 90%",
                     "CRM每日更新，MQL转SQL的错误减少90%", "mql_sql_error_growth", 0.0, -0.90,
                     direction="decrease"),
                  KR("t6_kr2", "2 unique new leads assigned to each salesperson per working day",
                     "每位销售每个工作日分配到2条不重复的新线索", "leads_assigned_per_head_weekday",
                     0.0, 2.0, scaled=True),
                  KR("t6_kr3", "All sales activities recorded in the CRM automatically",
                     "所有销售活动自动记录到CRM", "crm_automation", 0.0, 1.0, partial_credit=True),
              )),
    # ------------------------------------------------------------------ people
    Objective("person", "role:sales", "P1",
              "Convert 20% more prospects by Q3",
              "到第三季度把潜在客户转化提高20%", "T1", (
                  KR("p1_kr1", "Reach 35 MQLs a month",
                     "每月达到35个MQL", "mqls_per_month", 0.0, 35, scaled=True),
                  KR("p1_kr2", "2.5 positive outreaches every working day",
                     "每个工作日2.5次获得积极回应的外联", "positive_outreach_per_weekday", 0.0, 2.5,
                     scaled=True),
                  KR("p1_kr3", "0.2 lead conversions every working day (one a week)",
                     "每个工作日0.2次线索转化（每周一次）", "leads_won_per_weekday", 0.0, 0.2, scaled=True),
              )),
    Objective("person", "role:sales", "P2",
              "Learn what customers think of what we sold in earlier quarters",
              "了解客户对前几个季度所购产品的评价", "T2", (
                  KR("p2_kr1", "60% of customers rate feature X above every other feature",
                     "60%的客户对功能X的评分高于其他功能", "feature_x_preferred_share", 0.4, 0.6),
                  KR("p2_kr2", "Our product ranks in the top 3 against competitors",
                     "我们的产品在竞品中排名前三", "product_rank", 5, 3, direction="at_most"),
                  KR("p2_kr3", "65% of customers ask for add-on feature Y",
                     "65%的客户希望增加附加功能Y", "add_on_y_share", 0.45, 0.65),
              )),
    Objective("person", "role:sales", "P3",
              "Understand how well the weekly newsletter works by Q4",
              "到第四季度弄清每周简讯的实际效果", "T4", (
                  KR("p3_kr1", "15% of website visits come from the weekly newsletter",
                     "15%的网站访问来自每周简讯", "newsletter_visit_share", 0.05, 0.15),
                  KR("p3_kr2", "20% of product demos are booked through the newsletter call to action",
                     "20%的产品演示通过简讯中的行动按钮预约", "newsletter_demo_share", 0.05, 0.20),
                  KR("p3_kr3", "Every newsletter averages a 15% click rate",
                     "每期简讯平均点击率达到15%", "newsletter_click_rate", 0.05, 0.15),
              )),
    Objective("person", "role:sales", "P4",
              "Grow revenue by re-engaging existing customers by Q4",
              "到第四季度通过重新联系老客户来增加收入", "T1", (
                  KR("p4_kr1", "Pitch two related products to every customer each quarter",
                     "每季度向每位客户推介两款相关产品", "pitches_per_customer", 0.5, 2.0),
                  KR("p4_kr2", "60% of customers identify a need for a related product",
                     "60%的客户明确提出对相关产品的需求", "need_identified_share", 0.4, 0.6),
                  KR("p4_kr3", "Cross-sell revenue 35% higher than the quarter before",
                     "交叉销售收入比上季度增长35%", "cross_sell_revenue_growth", 0.0, 0.35, weight=2.0),
              )),
    Objective("person", "role:sales", "P5",
              "Get 35% more out of the sales effort in each region",
              "各地区的销售投入产出提高35%", "T2", (
                  KR("p5_kr1", "Identify 10 prospects in the region every week",
                     "每周在所在地区发掘10个潜在客户", "prospects_per_week", 0.0, 10, scaled=True),
                  KR("p5_kr2", "Hold meetings or demos with 4 prospects every week",
                     "每周与4个潜在客户开会或演示产品", "prospect_meetings_per_week", 0.0, 4, scaled=True),
                  KR("p5_kr3", "Convert one prospect into a customer every week",
                     "每周把一个潜在客户转化为客户", "leads_won_per_week", 0.0, 1, scaled=True),
              )),
    Objective("person", "role:sales", "P6",
              "Retain 50% more customers by Q4",
              "到第四季度把客户留存率提高50%", "T4", (
                  KR("p6_kr1", "Every complaint resolved within 24 hours",
                     "所有投诉在24小时内解决", "complaints_resolved_24h", 0.5, 1.0),
                  KR("p6_kr2", "After-sale feedback shows 85% of customers satisfied",
                     "售后反馈显示85%的客户感到满意", "satisfied_share", 0.7, 0.85),
                  KR("p6_kr3", "15% of customer issues resolved with a relevant solution",
                     "15%的客户问题通过相关解决方案得到解决", "complaint_solution_share", 0.05, 0.15),
              )),
    Objective("person", "role:sales", "P7",
              "Qualify prospects better",
              "提高潜在客户的筛选质量", "T5", (
                  KR("p7_kr1", "90% of prospects move to the next stage (MQL) within 30 days",
                     "90%的潜在客户在30天内进入下一阶段（MQL）", "prospect_to_mql_30d", 0.7, 0.9),
                  KR("p7_kr2", "70% of MQLs become sales-qualified leads within 30 days",
                     "70%的MQL在30天内成为销售合格线索", "mql_to_sql_30d", 0.5, 0.7),
                  KR("p7_kr3", "25% of sales-qualified leads become paying customers within 60 days",
                     "25%的销售合格线索在60天内成为付费客户", "sql_to_won_60d", 0.1, 0.25),
              )),
    Objective("person", "role:sales", "P8",
              "Make the most of 5 trade events in FY2017-18",
              "2017-18财年参加5场行业展会并取得实效", "T2", (
                  KR("p8_kr1", "Attend 5 trade events during the fiscal year",
                     "本财年参加5场行业展会", "trade_events_fytd", 0.0, 5, due_quarter=4),
                  KR("p8_kr2", "Demo the product to 20 prospects per event day",
                     "每个展会日为20个潜在客户演示产品", "event_demos_per_day", 0.0, 20),
                  KR("p8_kr3", "Hold meetings with 4 prospects per event day",
                     "每个展会日与4个潜在客户会谈", "event_meetings_per_day", 0.0, 4),
                  KR("p8_kr4", "Collect contact details of at least 60 prospects per event day",
                     "每个展会日收集至少60个潜在客户的联系方式", "event_contacts_per_day", 0.0, 60),
              )),
]
# fmt: on


def plan_rows(company_id: str) -> list[list]:
    rows = []
    for o in OBJECTIVES:
        owner = company_id if o.owner == "{company}" else o.owner
        for kr in o.krs:
            rows.append(
                [
                    o.tier,
                    owner,
                    o.id,
                    o.en,
                    o.zh,
                    o.parent,
                    kr.id,
                    kr.en,
                    kr.zh,
                    kr.metric,
                    kr.direction,
                    kr.baseline,
                    kr.target,
                    kr.weight,
                    kr.quarterly_value,
                    kr.due_quarter,
                    None,
                    None,
                    kr.partial_credit,
                ]
            )
    return rows


def scaled_krs() -> list[KR]:
    return [kr for o in OBJECTIVES for kr in o.krs if kr.scaled]


# ---- check-ins --------------------------------------------------------------------------------------

TEAM_CHECKIN_DATES = [
    datetime(2017, 5, 15),
    datetime(2017, 6, 28),
    datetime(2017, 8, 15),
    datetime(2017, 9, 27),
    datetime(2017, 11, 15),
    datetime(2017, 12, 27),
    datetime(2018, 2, 12),
    datetime(2018, 3, 28),
]
PERSON_CHECKIN_DATES = [
    datetime(2017, 6, 29),
    datetime(2017, 9, 28),
    datetime(2017, 12, 28),
    datetime(2018, 3, 29),
]

RANK_NOTES = [
    "据行业协会季度报告估算",
    "参考主要竞品的公开渠道数据",
    "根据经销商反馈整理",
    "与区域合作伙伴交流后的判断",
    "第三方市场调研结果",
]
PRODUCT_RANK_NOTES = [
    "客户访谈中多数把我们列入前三",
    "招投标中与两家竞品同场竞争",
    "客户反馈价格偏高，排名下滑",
    "新版本发布后评价明显改善",
    "与竞品对比演示后客户认可度提高",
    "本季度样本较少，仅供参考",
]
MILESTONE_NOTES = {
    "t2_kr3": [
        "需求调研完成",
        "供应商已选定，开始开发",
        "商品目录上线测试",
        "支付与物流对接中",
        "试运营，部分产品可下单",
        "全线产品上线销售",
    ],
    "t6_kr3": [
        "梳理需要自动记录的活动类型",
        "电话与邮件已自动同步",
        "会议与演示记录接入中",
        "移动端拜访记录上线",
        "剩余手工录入项逐步清理",
        "全部活动自动写入CRM",
    ],
}
ISSUE_NOTES = [
    "表单提交偶发失败",
    "移动端加载较慢",
    "产品价格页信息过时",
    "注册流程步骤偏多",
    "已修复大部分表单问题",
    "新版落地页上线后问题减少",
]


def _confidence(rng, base: float) -> float:
    return round(float(min(1.0, max(0.05, rng.normal(base, 0.12)))), 2)


def checkin_rows(world, rng, team_ids: list[str]) -> list[tuple]:
    """Check-ins for every manual and milestone KR at every owner that carries it."""
    rows = []
    for team in team_ids:
        pace = float(rng.uniform(0.75, 1.15)) * (1.2 if team == "ecommerce" else 1.0)
        start_rank = int(rng.integers(4, 7))
        issues = float(rng.uniform(9, 15))
        for k, when in enumerate(TEAM_CHECKIN_DATES):
            progress = (k + 1) / len(TEAM_CHECKIN_DATES)
            # channel rank: falls from the starting position, the channel team's view is the most upbeat
            rank = max(
                2,
                round(start_rank - (start_rank - 2) * progress * pace * (1.15 if team == "channel" else 0.9)),
            )
            rows.append(
                (
                    "t2_kr1",
                    team,
                    when,
                    float(rank),
                    _confidence(rng, 0.55 + 0.3 * progress),
                    RANK_NOTES[int(rng.integers(0, len(RANK_NOTES)))],
                )
            )
            for kr in ("t2_kr3", "t6_kr3"):
                done = min(1.0, round(progress * pace * float(rng.uniform(0.85, 1.05)), 1))
                notes = MILESTONE_NOTES[kr]
                note = notes[min(len(notes) - 1, int(done * (len(notes) - 1)))]
                rows.append((kr, team, when, done, _confidence(rng, 0.5 + 0.4 * done), note))
            issues = max(1.0, issues * float(rng.uniform(0.7, 1.0)))
            rows.append(
                (
                    "t4_kr3",
                    team,
                    when,
                    float(round(issues)),
                    _confidence(rng, 0.6),
                    ISSUE_NOTES[min(len(ISSUE_NOTES) - 1, k * len(ISSUE_NOTES) // len(TEAM_CHECKIN_DATES))],
                )
            )
    for p in world.people:
        if p.role != "sales":
            continue
        rank = float(rng.integers(3, 7))
        for when in PERSON_CHECKIN_DATES:
            if not p.active(when) or (when - p.start).days < 30:
                continue
            rank = float(min(7, max(1, rank + rng.choice([-1, -1, 0, 0, 0, 1]))))
            rows.append(
                (
                    "p2_kr2",
                    p.id,
                    when,
                    rank,
                    _confidence(rng, 0.6),
                    PRODUCT_RANK_NOTES[int(rng.integers(0, len(PRODUCT_RANK_NOTES)))],
                )
            )
    return rows
