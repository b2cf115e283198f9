#!/usr/bin/env python
"""Write the exports of the demo company 星河智能科技 (Xinghe Intelligent Technology, id ``xinghe``).

The company sells cloud software, edge hardware and services in China. Its fiscal year starts in April;
the data covers 2017-01-01 .. 2018-03-31: FY2017-18 plus the quarter before it (FY2016-17 Q4), which
serves as the growth baseline. Timestamps are naive Asia/Shanghai wall-clock times.

The script is deterministic: all randomness comes from one seeded generator consumed in a fixed order,
nothing reads the clock, and the XLSX packages are written with fixed timestamps, so running it twice
gives byte-identical files.

    python data/demo/generate.py
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from openpyxl import Workbook

SEED = 20170401
HERE = Path(__file__).resolve().parent
OUT = HERE / "exports"

DATA_START = datetime(2017, 1, 1)
CRM_LIVE = datetime(2016, 10, 1)  # the CRM's first records: the pipeline is warm by DATA_START
DATA_END = datetime(2018, 4, 1)  # exclusive
XLSX_STAMP = datetime(2018, 4, 2, 9, 0, 0)
DOMAIN = "xinghe.example.cn"
COMPANY_ID = "xinghe"

ISO = "%Y-%m-%d %H:%M:%S"
ISO_DAY = "%Y-%m-%d"
LEADS_FORMAT = "%Y/%m/%d %H:%M"
ENQUIRY_FORMAT = "%d/%m/%Y %H:%M"

# --------------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------------

# code, full name, short name (as the Chinese CRM writes it), English name, capital city
REGIONS = [
    ("BJ", "北京市", "北京", "Beijing", "北京"),
    ("TJ", "天津市", "天津", "Tianjin", "天津"),
    ("HE", "河北省", "河北", "Hebei", "石家庄"),
    ("SX", "山西省", "山西", "Shanxi", "太原"),
    ("NM", "内蒙古自治区", "内蒙古", "Inner Mongolia", "呼和浩特"),
    ("LN", "辽宁省", "辽宁", "Liaoning", "沈阳"),
    ("JL", "吉林省", "吉林", "Jilin", "长春"),
    ("HL", "黑龙江省", "黑龙江", "Heilongjiang", "哈尔滨"),
    ("SH", "上海市", "上海", "Shanghai", "上海"),
    ("JS", "江苏省", "江苏", "Jiangsu", "南京"),
    ("ZJ", "浙江省", "浙江", "Zhejiang", "杭州"),
    ("AH", "安徽省", "安徽", "Anhui", "合肥"),
    ("FJ", "福建省", "福建", "Fujian", "福州"),
    ("JX", "江西省", "江西", "Jiangxi", "南昌"),
    ("SD", "山东省", "山东", "Shandong", "济南"),
    ("HA", "河南省", "河南", "Henan", "郑州"),
    ("HB", "湖北省", "湖北", "Hubei", "武汉"),
    ("HN", "湖南省", "湖南", "Hunan", "长沙"),
    ("GD", "广东省", "广东", "Guangdong", "广州"),
    ("GX", "广西壮族自治区", "广西", "Guangxi", "南宁"),
    ("HI", "海南省", "海南", "Hainan", "海口"),
    ("CQ", "重庆市", "重庆", "Chongqing", "重庆"),
    ("SC", "四川省", "四川", "Sichuan", "成都"),
    ("GZ", "贵州省", "贵州", "Guizhou", "贵阳"),
    ("YN", "云南省", "云南", "Yunnan", "昆明"),
    ("XZ", "西藏自治区", "西藏", "Tibet", "拉萨"),
    ("SN", "陕西省", "陕西", "Shaanxi", "西安"),
    ("GS", "甘肃省", "甘肃", "Gansu", "兰州"),
    ("QH", "青海省", "青海", "Qinghai", "西宁"),
    ("NX", "宁夏回族自治区", "宁夏", "Ningxia", "银川"),
    ("XJ", "新疆维吾尔自治区", "新疆", "Xinjiang", "乌鲁木齐"),
]
REGION = {r[0]: r for r in REGIONS}

# Regions with sales before FY2017-18, then the expansion schedule (one opening most months).
OPEN_AT_START = ["SH", "JS", "ZJ", "GD", "BJ", "SC", "HB", "SN"]
OPENINGS = [
    (datetime(2017, 4, 20), "AH"),
    (datetime(2017, 5, 15), "SD"),
    (datetime(2017, 6, 12), "FJ"),
    (datetime(2017, 7, 10), "CQ"),
    (datetime(2017, 7, 28), "HN"),
    (datetime(2017, 8, 21), "TJ"),
    (datetime(2017, 9, 18), "GX"),
    (datetime(2017, 10, 23), "HA"),
    (datetime(2017, 11, 20), "LN"),
    (datetime(2017, 12, 11), "YN"),
    (datetime(2018, 1, 22), "GS"),
    (datetime(2018, 3, 5), "HE"),
]


@dataclass(frozen=True)
class Team:
    id: str
    name_zh: str
    name_en: str
    territory: tuple[str, ...]  # empty: the whole country
    lead_mult: float  # how many leads the team's people get, relative
    deal_mult: float  # typical deal size, relative
    quality: float  # team-wide shift of the funnel quality
    trainings_per_month: float
    crm_cleanup: datetime | None  # when the team's MQL->SQL hand-off errors were fixed
    headcount: tuple[int, int, int, int, int]  # sales on 2017-01-01, 03-31, 06-30, 09-30, 2018-03-31


# fmt: off
TEAMS = [
    Team("east", "华东大区", "East China", ("SH", "JS", "ZJ", "AH", "FJ", "JX", "SD"),
         lead_mult=1.05, deal_mult=1.15, quality=0.06, trainings_per_month=2.1,
         crm_cleanup=datetime(2017, 7, 15), headcount=(5, 5, 7, 10, 10)),
    Team("south", "华南大区", "South China", ("GD", "GX", "HI"),
         lead_mult=1.0, deal_mult=1.05, quality=0.03, trainings_per_month=1.6,
         crm_cleanup=datetime(2017, 10, 9), headcount=(3, 4, 7, 10, 11)),
    Team("north", "华北大区", "North China", ("BJ", "TJ", "HE", "SX", "NM", "LN", "JL", "HL"),
         lead_mult=0.95, deal_mult=1.2, quality=0.0, trainings_per_month=1.2,
         crm_cleanup=datetime(2018, 1, 15), headcount=(4, 4, 6, 8, 9)),
    Team("southwest", "西南大区", "Southwest China", ("SC", "CQ", "GZ", "YN", "XZ"),
         lead_mult=0.9, deal_mult=0.9, quality=-0.03, trainings_per_month=2.4,
         crm_cleanup=datetime(2017, 8, 1), headcount=(2, 3, 5, 8, 8)),
    Team("central", "华中大区", "Central China", ("HB", "HA", "HN"),
         lead_mult=0.9, deal_mult=0.95, quality=-0.06, trainings_per_month=0.8,
         crm_cleanup=None, headcount=(3, 3, 4, 5, 6)),
    Team("northwest", "西北大区", "Northwest China", ("SN", "GS", "QH", "NX", "XJ"),
         lead_mult=0.8, deal_mult=0.85, quality=-0.04, trainings_per_month=1.0,
         crm_cleanup=datetime(2017, 11, 1), headcount=(2, 2, 4, 6, 6)),
    Team("channel", "渠道分销部", "Channel & Distribution", (),
         lead_mult=0.7, deal_mult=1.7, quality=0.02, trainings_per_month=1.8,
         crm_cleanup=datetime(2017, 9, 1), headcount=(3, 3, 5, 8, 8)),
    Team("ecommerce", "电商与电话销售部", "E-commerce & Inside Sales", (),
         lead_mult=1.5, deal_mult=0.45, quality=0.0, trainings_per_month=2.0,
         crm_cleanup=datetime(2017, 6, 15), headcount=(2, 3, 7, 12, 13)),
]
# fmt: on
TEAM = {t.id: t for t in TEAMS}
HEADCOUNT_DATES = [
    datetime(2017, 1, 1),
    datetime(2017, 3, 31),
    datetime(2017, 6, 30),
    datetime(2017, 9, 30),
    datetime(2018, 3, 31),
]

ROLE_LABELS = {"sales": "销售", "team_lead": "团队负责人", "executive": "高管"}

# product as the CRM names it today, typical deal size in CNY, spelling used by the old catalogue
PRODUCTS = [
    ("Xinghe Cloud", 68000, "XH Cloud"),
    ("Edge Box Pro", 42000, "EdgeBoxPro"),
    ("Smart Gateway", 21000, None),
    ("Insight Dashboard", 27000, None),
    ("Implementation Service", 36000, None),
]
CATALOGUE_SWITCH = datetime(2017, 6, 1)  # old spellings appear before this date

LEAD_SOURCES = [  # label in the Chinese CRM, canonical value, weight
    ("官网咨询", "website", 0.30),
    ("展会", "event", 0.14),
    ("客户转介绍", "referral", 0.12),
    ("电话拓展", "outbound", 0.22),
    ("渠道伙伴", "partner", 0.08),
    ("新闻简讯", "newsletter", 0.09),
    ("电商平台", "marketplace", 0.05),
]

SIGNUP_SOURCES = [("Website", 0.45), ("Search Ads", 0.25), ("Trade Show", 0.15), ("Referral", 0.15)]

HOLIDAYS = set()
for _a, _b in [
    ("2017-01-27", "2017-02-02"),
    ("2017-04-02", "2017-04-04"),
    ("2017-04-29", "2017-05-01"),
    ("2017-05-28", "2017-05-30"),
    ("2017-10-01", "2017-10-08"),
    ("2017-12-30", "2018-01-01"),
    ("2018-02-15", "2018-02-21"),
]:
    _d = date.fromisoformat(_a)
    while _d <= date.fromisoformat(_b):
        HOLIDAYS.add(_d)
        _d += timedelta(days=1)

SURNAMES = [
    ("王", "wang", 9),
    ("李", "li", 9),
    ("张", "zhang", 8),
    ("刘", "liu", 7),
    ("陈", "chen", 6),
    ("杨", "yang", 4),
    ("黄", "huang", 3),
    ("赵", "zhao", 3),
    ("吴", "wu", 3),
    ("周", "zhou", 3),
    ("徐", "xu", 2),
    ("孙", "sun", 2),
    ("马", "ma", 2),
    ("朱", "zhu", 2),
    ("胡", "hu", 2),
    ("郭", "guo", 2),
    ("何", "he", 2),
    ("高", "gao", 2),
    ("林", "lin", 2),
    ("罗", "luo", 2),
    ("郑", "zheng", 1),
    ("梁", "liang", 1),
    ("谢", "xie", 1),
    ("宋", "song", 1),
    ("唐", "tang", 1),
    ("韩", "han", 1),
    ("冯", "feng", 1),
    ("邓", "deng", 1),
    ("曹", "cao", 1),
    ("彭", "peng", 1),
    ("曾", "zeng", 1),
    ("肖", "xiao", 1),
    ("田", "tian", 1),
    ("董", "dong", 1),
    ("潘", "pan", 1),
    ("袁", "yuan", 1),
    ("蒋", "jiang", 1),
    ("蔡", "cai", 1),
    ("余", "yu", 1),
    ("杜", "du", 1),
    ("叶", "ye", 1),
    ("程", "cheng", 1),
    ("魏", "wei", 1),
    ("苏", "su", 1),
    ("吕", "lv", 1),
    ("丁", "ding", 1),
    ("沈", "shen", 1),
    ("姚", "yao", 1),
    ("卢", "lu", 1),
    ("钟", "zhong", 1),
    ("崔", "cui", 1),
    ("谭", "tan", 1),
    ("范", "fan", 1),
    ("廖", "liao", 1),
    ("石", "shi", 1),
    ("金", "jin", 1),
    ("贾", "jia", 1),
    ("夏", "xia", 1),
    ("方", "fang", 1),
    ("白", "bai", 1),
    ("邹", "zou", 1),
    ("孟", "meng", 1),
    ("熊", "xiong", 1),
    ("秦", "qin", 1),
    ("邱", "qiu", 1),
    ("薛", "xue", 1),
    ("雷", "lei", 1),
    ("侯", "hou", 1),
    ("龙", "long", 1),
    ("陶", "tao", 1),
]
GIVEN = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("英", "ying"),
    ("华", "hua"),
    ("玲", "ling"),
    ("文", "wen"),
    ("辉", "hui"),
    ("鑫", "xin"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("琳", "lin"),
    ("晨", "chen"),
    ("欣", "xin"),
    ("佳", "jia"),
    ("怡", "yi"),
    ("思", "si"),
    ("博", "bo"),
    ("睿", "rui"),
    ("悦", "yue"),
    ("凯", "kai"),
    ("鹏", "peng"),
    ("飞", "fei"),
    ("斌", "bin"),
    ("燕", "yan"),
    ("建", "jian"),
    ("志", "zhi"),
    ("海", "hai"),
    ("峰", "feng"),
    ("嘉", "jia"),
    ("梦", "meng"),
    ("雨", "yu"),
    ("晓", "xiao"),
    ("俊", "jun"),
    ("颖", "ying"),
    ("轩", "xuan"),
    ("泽", "ze"),
    ("诗", "shi"),
    ("瑶", "yao"),
    ("倩", "qian"),
    ("宁", "ning"),
    ("彤", "tong"),
    ("阳", "yang"),
    ("志", "zhi"),
    ("国", "guo"),
    ("立", "li"),
]
COMPANY_WORDS = [
    "恒远",
    "华信",
    "博创",
    "金桥",
    "瑞丰",
    "天成",
    "盛达",
    "宏图",
    "联创",
    "鼎力",
    "万通",
    "汇智",
    "锦程",
    "明德",
    "润华",
    "远航",
    "同辉",
    "嘉禾",
    "中盈",
    "启明",
    "永信",
    "安捷",
    "德润",
    "海纳",
    "凌云",
    "正泰",
    "合力",
    "众邦",
    "新源",
    "广和",
]
INDUSTRIES = [
    "精密制造",
    "物流",
    "医疗器械",
    "电子",
    "食品",
    "建材",
    "化工",
    "纺织",
    "汽车零部件",
    "连锁零售",
    "教育科技",
    "能源",
    "物业服务",
    "国际贸易",
    "包装",
    "环保科技",
    "冷链",
    "农业科技",
    "家居",
    "机电设备",
]
DISTRIBUTOR_TRADES = ["科技", "贸易", "电子", "信息"]
DISTRIBUTOR_WORDS = ["信达", "科通", "华讯", "联合", "宏达", "捷通", "智联", "优品", "诚信", "佳源"]

TRAINING_TOPICS = [
    "客户需求挖掘",
    "产品演示技巧",
    "报价与谈判",
    "CRM 录入规范",
    "渠道政策解读",
    "售后跟进与续约",
    "线索评分与分级",
    "竞品对比分析",
    "大客户拜访策略",
    "电话销售话术",
]

TRADE_EVENTS = [  # id, name, first day, days, host region
    ("EV1701", "上海国际智能硬件展 2017", date(2017, 3, 8), 3, "SH"),
    ("EV1702", "深圳物联网与智能系统博览会", date(2017, 4, 19), 3, "GD"),
    ("EV1703", "北京企业数字化大会", date(2017, 5, 16), 3, "BJ"),
    ("EV1704", "成都西部软件交易会", date(2017, 6, 7), 3, "SC"),
    ("EV1705", "武汉智慧城市展", date(2017, 6, 27), 3, "HB"),
    ("EV1706", "杭州云计算与大数据峰会", date(2017, 7, 19), 2, "ZJ"),
    ("EV1707", "西安丝路信息技术博览会", date(2017, 8, 23), 3, "SN"),
    ("EV1708", "广州国际工业自动化展", date(2017, 9, 12), 3, "GD"),
    ("EV1709", "南京智能制造装备展", date(2017, 10, 24), 3, "JS"),
    ("EV1710", "深圳创新科技成果展", date(2017, 11, 14), 3, "GD"),
    ("EV1711", "重庆智慧物流展", date(2017, 11, 28), 3, "CQ"),
    ("EV1712", "北京年度 CIO 峰会", date(2017, 12, 12), 2, "BJ"),
    ("EV1801", "厦门跨境电商大会", date(2018, 1, 17), 2, "FJ"),
    ("EV1802", "上海国际智能硬件展 2018", date(2018, 3, 13), 3, "SH"),
]

# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------

rng = np.random.default_rng(SEED)


def days(start: datetime, end: datetime):
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


def is_workday(d: datetime | date) -> bool:
    day = d.date() if isinstance(d, datetime) else d
    return day.weekday() < 5 and day not in HOLIDAYS


def next_work_morning(t: datetime) -> datetime:
    """The first working moment at or after t (09:00-18:00 on a working day)."""
    d = t
    if d.time() >= time(18, 0):
        d = datetime.combine(d.date() + timedelta(days=1), time(9, 0))
    elif d.time() < time(9, 0):
        d = datetime.combine(d.date(), time(9, 0))
    while not is_workday(d):
        d = datetime.combine(d.date() + timedelta(days=1), time(9, 0))
    return d


def settle(t: datetime) -> datetime:
    """t itself in office hours, otherwise a random moment early on the next working morning."""
    moved = next_work_morning(t)
    if moved == t:
        return t
    return moved + timedelta(seconds=int(rng.integers(0, 3 * 3600)))


def work_time_on(day: datetime) -> datetime:
    """A random moment in office hours of the given day."""
    return datetime.combine(day.date(), time(9, 0)) + timedelta(seconds=int(rng.integers(0, 9 * 3600)))


def after(t: datetime, mean_days: float, floor_days: float = 0.2) -> datetime:
    """A time some working days after t, exponentially distributed, moved into office hours."""
    delay = floor_days + float(rng.exponential(mean_days))
    moved = t + timedelta(seconds=int(delay * 86400))
    return next_work_morning(moved) + timedelta(seconds=int(rng.integers(0, 4 * 3600)))


def trend(t: datetime) -> float:
    """0 at the start of the data, 1 at its end: slow company-wide improvement."""
    return max(0.0, (t - DATA_START).total_seconds() / (DATA_END - DATA_START).total_seconds())


def pick(options, weights=None):
    if weights is None:
        return options[int(rng.integers(0, len(options)))]
    w = np.asarray(weights, dtype=float)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def fmt(t: datetime | None, pattern: str = ISO) -> str:
    return "" if t is None else t.strftime(pattern)


QUARTERS = [
    datetime(2016, 10, 1),
    datetime(2017, 1, 1),
    datetime(2017, 4, 1),
    datetime(2017, 7, 1),
    datetime(2017, 10, 1),
    datetime(2018, 1, 1),
    DATA_END,
]


# --------------------------------------------------------------------------------------------------
# The simulated company
# --------------------------------------------------------------------------------------------------


@dataclass
class Person:
    id: str
    name: str
    email: str
    team: str  # empty for executives
    role: str
    manager: str
    region: str
    start: datetime
    end: datetime | None = None
    quality: float = 0.5  # funnel skill, 0..1
    lead_share: float = 1.0  # relative number of leads assigned
    responsiveness: float = 6.0  # median hours to first response
    after_hours: float = 0.2  # chance of answering outside office hours
    demo_speed: float = 20.0  # median hours from sign-up to demo
    newsletter_ctr: float = 0.12
    newsletter_pull: float = 0.2  # share of sign-ups that come through the newsletter
    pitch_rate: float = 1.2  # cross-sell pitches per customer per quarter
    event_keenness: float = 0.35
    event_skill: float = 0.8
    care: float = 0.5  # after-sale care, drives complaints and satisfaction
    feature_bias: float = 0.0

    def active(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def ramp(self, t: datetime) -> float:
        tenure = (t - self.start).days
        return min(1.0, 0.3 + 0.7 * max(tenure, 0) / 150)


@dataclass
class World:
    people: list[Person] = field(default_factory=list)
    leads: list[dict] = field(default_factory=list)
    stages: list[tuple] = field(default_factory=list)
    activities: list[tuple] = field(default_factory=list)
    deals: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    enquiries: list[tuple] = field(default_factory=list)
    signups: list[tuple] = field(default_factory=list)
    complaints: list[tuple] = field(default_factory=list)
    distributors: list[dict] = field(default_factory=list)
    distributor_sales: list[tuple] = field(default_factory=list)
    newsletters: list[tuple] = field(default_factory=list)
    visits: list[tuple] = field(default_factory=list)
    surveys: list[tuple] = field(default_factory=list)
    trainings: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)

    def person(self, pid: str) -> Person:
        return self._by_id[pid]

    def index(self) -> None:
        self._by_id = {p.id: p for p in self.people}

    def sales(self, team: str | None = None) -> list[Person]:
        return [p for p in self.people if p.role == "sales" and (team is None or p.team == team)]


def opened_regions(t: datetime) -> list[str]:
    return OPEN_AT_START + [code for when, code in OPENINGS if when <= t]


def team_regions(team: Team, t: datetime) -> list[str]:
    opened = opened_regions(t)
    if not team.territory:
        return opened
    return [c for c in team.territory if c in opened]


# ---- people ---------------------------------------------------------------------------------------


def make_names(n: int) -> list[tuple[str, str]]:
    names, emails = [], set()
    weights = [s[2] for s in SURNAMES]
    while len(names) < n:
        surname = pick(SURNAMES, weights)
        parts = [pick(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2)]
        name = surname[0] + "".join(p[0] for p in parts)
        local = surname[1] + "." + "".join(p[1] for p in parts)
        if any(existing == name for existing, _ in names):
            continue
        candidate, k = local, 2
        while candidate in emails:
            candidate, k = f"{local}{k}", k + 1
        emails.add(candidate)
        names.append((name, f"{candidate}@{DOMAIN}"))
    return names


def build_people(world: World) -> None:
    hires: list[tuple[str, str, datetime]] = []  # (team, role, start)
    # executives and team leads joined before the data starts
    exec_starts = [datetime(2012, 3, 1), datetime(2013, 9, 16), datetime(2014, 6, 3)]
    lead_starts = [datetime(2014, 2, 17) + timedelta(days=int(rng.integers(0, 900))) for _ in TEAMS]
    # salespeople: the headcount plan per team, hires spread over each interval
    for team in TEAMS:
        counts = team.headcount
        for _ in range(counts[0]):
            hires.append((team.id, "sales", datetime(2014, 5, 1) + timedelta(days=int(rng.integers(0, 820)))))
        for k in range(1, len(counts)):
            lo, hi = HEADCOUNT_DATES[k - 1], HEADCOUNT_DATES[k]
            for _ in range(counts[k] - counts[k - 1]):
                offset = int(rng.integers(1, (hi - lo).days - 3))
                start = lo + timedelta(days=offset)
                while start.weekday() != 0:  # people start on Mondays
                    start -= timedelta(days=1)
                hires.append((team.id, "sales", max(start, lo + timedelta(days=1))))
    names = make_names(3 + len(TEAMS) + len(hires) + 12)
    titles = iter(names)
    seq = iter(range(1, 10_000))

    def new_id() -> str:
        return f"XH{next(seq):04d}"

    for start in exec_starts:
        name, email = next(titles)
        world.people.append(Person(new_id(), name, email, "", "executive", "", "SH", start))
    vp_sales = world.people[1].id
    for team, start in zip(TEAMS, lead_starts):
        name, email = next(titles)
        home = team.territory[0] if team.territory else "SH"
        world.people.append(Person(new_id(), name, email, team.id, "team_lead", vp_sales, home, start))
    lead_of = {p.team: p.id for p in world.people if p.role == "team_lead"}
    hires.sort(key=lambda h: (h[2], h[0]))
    for team_id, role, start in hires:
        name, email = next(titles)
        team = TEAM[team_id]
        regions = team_regions(team, max(start, DATA_START))
        home = pick(regions) if team.territory else pick(["SH", "BJ", "GD", "ZJ"])
        world.people.append(Person(new_id(), name, email, team_id, role, lead_of[team_id], home, start))
    # a few people leave; each is replaced about a month later
    salespeople = [p for p in world.people if p.role == "sales"]
    leavers = [salespeople[i] for i in (2, 9, 17, 26, 34, 41)]
    leave_dates = [
        datetime(2017, 2, 24),
        datetime(2017, 5, 26),
        datetime(2017, 8, 11),
        datetime(2017, 10, 20),
        datetime(2017, 12, 29),
        datetime(2018, 2, 9),
    ]
    for person, leave in zip(leavers, leave_dates):
        if person.start >= leave - timedelta(days=60):
            leave = person.start + timedelta(days=120)
        person.end = leave
        start = leave + timedelta(days=int(rng.integers(21, 45)))
        while start.weekday() != 0:
            start += timedelta(days=1)
        if start < DATA_END and person.team not in ("central", "north"):
            name, email = next(titles)
            world.people.append(
                Person(new_id(), name, email, person.team, "sales", person.manager, person.region, start)
            )
    # personal traits
    for p in world.people:
        team = TEAM.get(p.team)
        shift = team.quality if team else 0.0
        p.quality = float(np.clip(rng.beta(2.2, 2.2) + shift, 0.02, 0.98))
        p.lead_share = float(rng.lognormal(0.0, 0.22))
        p.responsiveness = float(rng.lognormal(math.log(4.0), 0.55))
        p.after_hours = float(
            np.clip(rng.beta(2.0, 4.0) + (0.35 if p.team == "ecommerce" else 0.0), 0.0, 0.95)
        )
        p.demo_speed = float(rng.lognormal(math.log(11.0), 0.5))
        p.newsletter_ctr = float(np.clip(rng.lognormal(math.log(0.10), 0.35), 0.03, 0.35))
        p.newsletter_pull = float(np.clip(rng.lognormal(math.log(0.17), 0.45), 0.03, 0.55))
        p.pitch_rate = float(rng.lognormal(math.log(2.2), 0.45))
        p.event_keenness = float(np.clip(rng.beta(2.0, 3.5) * 1.1, 0.05, 0.9))
        p.event_skill = float(rng.lognormal(math.log(0.7), 0.3))
        p.care = float(rng.beta(2.5, 2.5))
        p.feature_bias = float(rng.normal(0.0, 0.45))
    world.index()


# ---- leads, stage history, deals, customers ------------------------------------------------------


def new_customer(world: World, owner: Person, region: str, first: datetime) -> str:
    cid = f"C{len(world.customers) + 1:05d}"
    city = REGION[region][4]
    name = f"{city}{pick(COMPANY_WORDS)}{pick(INDUSTRIES)}{'股份' if rng.random() < 0.2 else ''}有限公司"
    world.customers.append(
        {
            "id": cid,
            "name": name,
            "owner": owner.id,
            "owners": [(first, owner.id)],
            "region": region,
            "first": first,
            "product": None,
        }
    )
    return cid


def pick_product(team: Team, exclude: str | None = None) -> tuple[str, int, str | None]:
    weights = [0.32, 0.22, 0.18, 0.14, 0.14] if team.id != "ecommerce" else [0.15, 0.2, 0.4, 0.2, 0.05]
    options = [p for p in PRODUCTS if p[0] != exclude]
    w = [wt for p, wt in zip(PRODUCTS, weights) if p[0] != exclude]
    return pick(options, w)


def deal_amount(product: tuple, team: Team, person: Person, cross_sell: bool) -> float:
    median = product[1] * team.deal_mult * (0.85 + 0.3 * person.quality) * (0.55 if cross_sell else 1.0)
    return round(float(rng.lognormal(math.log(median), 0.45)), -2)


def product_label(product: tuple, when: datetime) -> str:
    if product[2] and when < CATALOGUE_SWITCH and rng.random() < 0.6:
        return product[2]
    return product[0]


def add_deal(
    world: World,
    person: Person,
    customer: str | None,
    region: str,
    product: tuple,
    engaged: datetime,
    closed: datetime | None,
    stage: str,
    cross_sell: bool,
) -> None:
    world.deals.append(
        {
            "id": f"OPP-{len(world.deals) + 1:06d}",
            "owner": person.id,
            "customer": customer,
            "product": product_label(product, engaged),
            "region": region,
            "stage": stage,
            "amount": deal_amount(product, TEAM[person.team], person, cross_sell),
            "engaged": engaged,
            "closed": closed if stage != "Open" else None,
            "cross_sell": cross_sell,
        }
    )


def touch(
    world: World,
    person: Person,
    lead_id: str | None,
    customer: str | None,
    kind: str,
    when: datetime,
    advanced: bool,
) -> None:
    if when >= DATA_END or not person.active(when):
        return
    q = person.quality
    p_pos = (0.42 + 0.4 * q) if advanced else (0.08 + 0.3 * q)
    p_neg = 0.28 - 0.18 * q
    r = rng.random()
    outcome = "Positive" if r < p_pos else ("Negative" if r < p_pos + p_neg else "Neutral")
    world.activities.append((person.id, lead_id or "", customer or "", kind, outcome, when))


def spread(start: datetime, stop: datetime, n: int) -> list[datetime]:
    """n office-hour moments between start and stop (stop may be earlier: then right after start)."""
    span = max((stop - start).total_seconds(), 3600.0)
    return sorted(settle(start + timedelta(seconds=float(rng.uniform(0, span)))) for _ in range(n))


def simulate_lead(world: World, person: Person, created: datetime) -> None:
    team = TEAM[person.team]
    lead_id = f"L{len(world.leads) + 1:06d}"
    regions = team_regions(team, created)
    home_weight = [3.0 if c == person.region else 1.0 for c in regions]
    region = pick(regions, home_weight)
    labels = [s[0] for s in LEAD_SOURCES]
    source = pick(labels, [s[2] for s in LEAD_SOURCES])
    if team.id == "channel" and rng.random() < 0.5:
        source = "渠道伙伴"
    if team.id == "ecommerce" and rng.random() < 0.3:
        source = "电商平台"
    tq = trend(created)
    q = float(np.clip(person.quality + 0.12 * (person.ramp(created) - 1.0), 0.0, 1.0))
    p_mql = min(0.97, 0.70 + 0.25 * q + 0.05 * tq)
    p_sql = min(0.92, 0.47 + 0.36 * q + 0.06 * tq)
    p_won = min(0.6, 0.07 + 0.28 * q + 0.04 * tq)
    cleanup = team.crm_cleanup
    error_rate = 0.14 if cleanup is None or created < cleanup else 0.015

    history = [("Prospect", created, "")]
    reached = "prospect"
    t = created
    for stage, p, mean_delay in (("MQL", p_mql, 5.0), ("SQL", p_sql, 8.0), ("Won", p_won, 16.0)):
        if rng.random() >= p:
            break
        # a slow minority takes longer than the conversion windows
        t = after(t, mean_delay * (4.0 if rng.random() < 0.08 else 1.0))
        if t >= DATA_END:
            break
        flag = ("Y" if rng.random() < error_rate else "N") if stage == "SQL" else ""
        history.append((stage, t, flag))
        reached = stage.lower()
    closed = None
    if reached == "won":
        closed = history[-1][1]
    else:
        p_lose = 0.9 - 0.5 * tq - 0.1 * q
        if rng.random() < p_lose:
            lost_at = after(t, 22.0, 4.0)
            if lost_at < DATA_END:
                history.append(("Lost", lost_at, ""))
                closed = lost_at
    for stage, when, flag in history:
        world.stages.append((lead_id, person.id, stage, when, flag))
    world.leads.append(
        {
            "id": lead_id,
            "owner": person.id,
            "region": region,
            "source": source,
            "created": created,
            "closed": closed,
        }
    )

    # the touches that moved (or did not move) the lead along
    stage_times = [h[1] for h in history]
    end_of = stage_times[1:] + [(closed or created + timedelta(days=30))]
    for i, (stage, when, _) in enumerate(history):
        advanced = i + 1 < len(history) and history[i + 1][0] not in ("Lost",)
        if stage == "Prospect":
            kinds = ["Call" if rng.random() < 0.6 else "Email" for _ in range(1 + rng.poisson(0.35))]
        elif stage == "MQL":
            kinds = ["Call" if rng.random() < 0.5 else "Email" for _ in range(rng.poisson(0.6))]
        elif stage == "SQL":
            kinds = ["Demo" if rng.random() < 0.5 else "Meeting"] if rng.random() < 0.9 else []
            kinds += ["Meeting" for _ in range(rng.poisson(0.25))]
        else:
            kinds = []
        for k, moment in zip(kinds, spread(when, end_of[i], len(kinds))):
            touch(world, person, lead_id, None, k, moment, advanced)

    # an SQL becomes an opportunity; a won lead becomes a customer
    sql = next((h for h in history if h[0] == "SQL"), None)
    if sql is None:
        return
    product = pick_product(team)
    if reached == "won":
        customer = new_customer(world, person, region, closed)
        world.customers[-1]["product"] = product[0]
        add_deal(world, person, customer, region, product, sql[1], closed, "Closed Won", False)
    elif closed is not None:
        add_deal(world, person, None, region, product, sql[1], closed, "Closed Lost", False)
    else:
        add_deal(world, person, None, region, product, sql[1], None, "Open", False)


def build_leads(world: World) -> None:
    for day in days(CRM_LIVE, DATA_END):
        if not is_workday(day):
            continue
        growth = 1.0 + 0.1 * trend(day)
        for person in world.sales():
            if not person.active(day):
                continue
            team = TEAM[person.team]
            lam = 1.45 * team.lead_mult * person.lead_share * growth * person.ramp(day)
            for _ in range(rng.poisson(lam)):
                simulate_lead(world, person, work_time_on(day))
    order = sorted(range(len(world.leads)), key=lambda i: world.leads[i]["created"])
    renumber = {world.leads[i]["id"]: f"L{k + 1:06d}" for k, i in enumerate(order)}
    world.leads = [dict(world.leads[i], id=renumber[world.leads[i]["id"]]) for i in order]
    world.stages = sorted(((renumber[s[0]],) + s[1:] for s in world.stages), key=lambda s: (s[3], s[0]))
    world.activities = [(a[0], renumber[a[1]]) + a[2:] for a in world.activities]
    # customers are numbered in the order of their first purchase
    world.customers.sort(key=lambda c: (c["first"], c["id"]))
    new_ids = {c["id"]: f"C{k + 1:05d}" for k, c in enumerate(world.customers)}
    for c in world.customers:
        c["id"] = new_ids[c["id"]]
    for d in world.deals:
        d["customer"] = new_ids.get(d["customer"]) if d["customer"] else None


def owner_at(customer: dict, t: datetime) -> str:
    owners = customer["owners"]
    k = bisect_right([o[0] for o in owners], t) - 1
    return owners[max(k, 0)][1]


def reassign_customers(world: World) -> None:
    """Customers of a leaver go to a teammate who is still there."""
    for p in world.sales():
        if p.end is None:
            continue
        mates = [m for m in world.sales(p.team) if m.active(p.end) and m.id != p.id]
        if not mates:
            continue
        for c in world.customers:
            if c["owners"][-1][1] == p.id:
                heir = pick(mates)
                c["owners"].append((p.end, heir.id))
                c["owner"] = heir.id


def build_cross_selling(world: World) -> None:
    """Pitches of related products to existing customers, some of which turn into deals."""
    for qs, qe in zip(QUARTERS[:-1], QUARTERS[1:]):
        for c in list(world.customers):
            ready = c["first"] + timedelta(days=14)
            if ready >= qe:
                continue
            lo = max(qs, ready)
            owner = world.person(owner_at(c, lo))
            if not owner.active(lo):
                continue
            share = (qe - lo).total_seconds() / (qe - qs).total_seconds()
            n = rng.poisson(owner.pitch_rate * share * (0.7 + 0.3 * owner.ramp(lo)))
            for moment in spread(lo, qe - timedelta(days=1), n):
                if moment >= qe or not owner.active(moment):
                    continue
                before = len(world.activities)
                touch(world, owner, None, c["id"], "Cross-sell pitch", moment, rng.random() < 0.35)
                if len(world.activities) == before or world.activities[-1][4] != "Positive":
                    continue
                if rng.random() < 0.4:
                    product = pick_product(TEAM[owner.team], exclude=c["product"])
                    closed = after(moment, 14.0, 3.0)
                    won = rng.random() < 0.6
                    stage = "Open" if closed >= DATA_END else ("Closed Won" if won else "Closed Lost")
                    add_deal(world, owner, c["id"], c["region"], product, moment, closed, stage, True)


def build_activity_ids(world: World) -> None:
    world.activities.sort(key=lambda a: (a[5], a[0]))
    world.activities = [(f"A{i + 1:06d}",) + a for i, a in enumerate(world.activities)]
    world.deals.sort(key=lambda d: (d["engaged"], d["id"]))
    for i, d in enumerate(world.deals):
        d["id"] = f"OPP-{i + 1:06d}"


# ---- inbound: enquiries and sign-ups --------------------------------------------------------------


def assignee(world: World, t: datetime, team_weights: dict[str, float]) -> Person | None:
    teams = list(team_weights)
    team = pick(teams, [team_weights[x] for x in teams])
    pool = [p for p in world.sales(team) if p.active(t)]
    return pick(pool) if pool else None


def random_moment(day: datetime, office_share: float) -> datetime:
    if rng.random() < office_share:
        return work_time_on(day)
    return day + timedelta(seconds=int(rng.integers(0, 86400)))


def build_enquiries(world: World) -> None:
    weights = {"ecommerce": 5.5, "channel": 0.6}
    for t in TEAMS:
        weights.setdefault(t.id, 0.65)
    for day in days(DATA_START, DATA_END):
        lam = (5.0 + 7.0 * trend(day)) * (1.0 if day.weekday() < 5 else 0.45)
        for _ in range(rng.poisson(lam)):
            received = random_moment(day, 0.72)
            person = assignee(world, received, weights)
            if person is None:
                continue
            tq = trend(received)
            if rng.random() < 0.07 - 0.05 * tq:
                answered = None
            else:
                median = person.responsiveness * (1.0 - 0.35 * tq)
                hours = float(rng.lognormal(math.log(median), 0.9))
                in_office = is_workday(received) and time(9) <= received.time() < time(18)
                if in_office or rng.random() < person.after_hours + 0.3 * tq:
                    start = received
                else:
                    start = next_work_morning(received)
                answered = start + timedelta(seconds=int(hours * 3600))
                if answered >= DATA_END:
                    answered = None
            world.enquiries.append((person.id, received, answered))
    world.enquiries.sort(key=lambda e: e[1])


def build_signups(world: World) -> None:
    weights = {"ecommerce": 3.0, "channel": 0.5}
    for t in TEAMS:
        weights.setdefault(t.id, 1.0)
    labels = [s[0] for s in SIGNUP_SOURCES]
    for day in days(DATA_START, DATA_END):
        lam = (7.0 + 9.0 * trend(day)) * (1.0 if day.weekday() < 5 else 0.5)
        for _ in range(rng.poisson(lam)):
            signed = random_moment(day, 0.65)
            person = assignee(world, signed, weights)
            if person is None:
                continue
            if rng.random() < person.newsletter_pull:
                source = "Newsletter CTA"
            else:
                source = pick(labels, [s[1] for s in SIGNUP_SOURCES])
            demo = None
            if rng.random() < 0.86:
                median = person.demo_speed * (1.0 - 0.25 * trend(signed))
                hours = float(rng.lognormal(math.log(median), 0.7))
                demo = settle(signed + timedelta(seconds=int(hours * 3600)))
                if demo >= DATA_END:
                    demo = None
            world.signups.append((person.id, signed, demo, source))
    world.signups.sort(key=lambda s: s[1])


# ---- after the sale: complaints and surveys -------------------------------------------------------


def build_complaints(world: World) -> None:
    for c in world.customers:
        t = c["first"] + timedelta(days=float(rng.exponential(40.0)))
        while t < DATA_END:
            opened = random_moment(t, 0.75)
            owner = world.person(owner_at(c, opened))
            if opened >= DATA_END:
                break
            if owner.active(opened) and opened >= DATA_START:
                if rng.random() < 0.04:
                    resolved, resolution = None, ""
                else:
                    median = 30.0 - 22.0 * owner.care - 6.0 * trend(opened)
                    hours = float(rng.lognormal(math.log(max(median, 3.0)), 0.75))
                    resolved = opened + timedelta(seconds=int(hours * 3600))
                    if resolved >= DATA_END:
                        resolved, resolution = None, ""
                    else:
                        p_solution = 0.04 + 0.16 * owner.care + 0.03 * trend(opened)
                        r = rng.random()
                        resolution = (
                            "Solution provided"
                            if r < p_solution
                            else "Workaround"
                            if r < p_solution + 0.55
                            else "No fix"
                        )
                world.complaints.append((owner.id, c["id"], opened, resolved, resolution))
            t += timedelta(days=float(rng.exponential(150.0)))
    world.complaints.sort(key=lambda x: x[2])


def yes_no(p: float, skip: float = 0.07) -> str:
    if rng.random() < skip:
        return ""
    return "Yes" if rng.random() < p else "No"


def build_surveys(world: World) -> None:
    for d in world.deals:
        if d["stage"] != "Closed Won" or rng.random() > 0.8:
            continue
        answered = after(d["closed"], 10.0, 4.0)
        if not DATA_START <= answered < DATA_END:  # the survey tool went live with the data
            continue
        owner = world.person(d["owner"])
        tq = trend(answered)
        if rng.random() < 0.1:
            fx, other = "", ""
        else:
            fx = int(np.clip(round(rng.normal(3.95 + owner.feature_bias + 0.3 * tq, 0.9)), 1, 5))
            other = int(np.clip(round(rng.normal(3.6, 0.8)), 1, 5))
        world.surveys.append(
            (
                owner.id,
                d["customer"],
                answered,
                fx,
                other,
                yes_no(0.5 + 0.25 * owner.care + 0.05 * tq),  # wants add-on Y
                yes_no(0.66 + 0.26 * owner.care + 0.04 * tq),  # satisfied
                yes_no(0.6 + 0.3 * owner.quality + 0.05 * tq),  # rep efficient
                yes_no(0.32 + 0.33 * owner.care + 0.1 * tq),  # identified a need
            )
        )
    world.surveys.sort(key=lambda s: s[2])


# ---- distributors -----------------------------------------------------------------------------------


def month_starts(start: datetime, end: datetime) -> list[datetime]:
    out, m = [], datetime(start.year, start.month, 1)
    while m < end:
        out.append(m)
        m = datetime(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def build_distributors(world: World) -> None:
    months = month_starts(DATA_START, DATA_END)
    for m in months:
        nxt = datetime(m.year + (m.month == 12), m.month % 12 + 1, 1)
        tq = trend(m)
        n = rng.poisson(9.0 + 18.0 * tq)
        for _ in range(n):
            joined = work_time_on(m + timedelta(days=int(rng.integers(0, (nxt - m).days))))
            region = pick(opened_regions(joined))
            city = REGION[region][4]
            world.distributors.append(
                {
                    "id": f"D{len(world.distributors) + 1:04d}",
                    "name": f"{city}{pick(DISTRIBUTOR_WORDS)}{pick(DISTRIBUTOR_TRADES)}有限公司",
                    "region": region,
                    "joined": joined.replace(hour=0, minute=0, second=0),
                    "target": round(float(rng.lognormal(math.log(120000), 0.5)), -3),
                    "strength": float(rng.normal(0.0, 0.12)),
                }
            )
    for d in world.distributors:
        for m in months:
            if m <= d["joined"]:
                continue
            tq = trend(m)
            target = round(d["target"] * (1.0 + 0.3 * tq), -3)
            sales = round(target * float(rng.lognormal(-0.02 + 0.2 * tq + d["strength"], 0.22)), -2)
            rate = 0.050 * (1.0 + 0.30 * tq) * float(rng.uniform(0.93, 1.07))
            world.distributor_sales.append((d["id"], m, sales, target, round(sales * rate, 2)))
    world.distributor_sales.sort(key=lambda r: (r[1], r[0]))


# ---- marketing: newsletters and web traffic -------------------------------------------------------


def build_newsletters_and_visits(world: World) -> None:
    clicks_on: dict[tuple[str, date], float] = {}
    for p in world.sales():
        day = max(p.start + timedelta(days=14), DATA_START)
        while day.weekday() != 3:  # Thursdays
            day += timedelta(days=1)
        while day < DATA_END and p.active(day):
            if day.date() not in HOLIDAYS:
                sent = datetime.combine(day.date(), time(10, 0)) + timedelta(
                    seconds=int(rng.integers(0, 5400))
                )
                won = sum(1 for c in world.customers if c["owner"] == p.id and c["first"] <= sent)
                recipients = int(180 + 25 * won + rng.integers(0, 120))
                ctr = p.newsletter_ctr * float(rng.lognormal(0.0, 0.25))
                clicks = int(rng.binomial(recipients, min(ctr, 0.9)))
                world.newsletters.append((p.id, sent, recipients, clicks))
                for lag, share in ((0, 0.55), (1, 0.3), (2, 0.15)):
                    key = (p.id, (day + timedelta(days=lag)).date())
                    clicks_on[key] = clicks_on.get(key, 0.0) + clicks * share
            day += timedelta(days=7)
    world.newsletters.sort(key=lambda n: (n[1], n[0]))
    for day in days(DATA_START, DATA_END):
        if not is_workday(day):
            continue
        for p in world.sales():
            if not p.active(day):
                continue
            scale = (0.6 + 0.4 * p.ramp(day)) * (1.0 + 0.3 * trend(day))
            counts = {
                "newsletter": int(rng.poisson(clicks_on.get((p.id, day.date()), 0.0) * 0.35 + 0.3)),
                "search": int(rng.poisson(9.0 * scale)),
                "direct": int(rng.poisson(5.0 * scale)),
                "social": int(rng.poisson(2.5 * scale)),
            }
            for source, n in counts.items():
                if n:
                    world.visits.append((p.id, day, source, n))


# ---- enablement and events -------------------------------------------------------------------------


def build_trainings(world: World) -> None:
    for team in TEAMS:
        for qs, qe in zip(QUARTERS[1:-1], QUARTERS[2:]):
            rate = team.trainings_per_month * (0.8 + 0.4 * trend(qs))
            # every team holds at least one session a quarter
            for _ in range(max(1, rng.poisson(3 * rate))):
                day = qs + timedelta(days=int(rng.integers(0, (qe - qs).days)))
                day = next_work_morning(day.replace(hour=14))
                world.trainings.append((team.id, day.replace(minute=0, second=0), pick(TRAINING_TOPICS)))
    world.trainings.sort(key=lambda t: (t[1], t[0]))


def build_events(world: World) -> None:
    for ev_id, name, first, n_days, host in TRADE_EVENTS:
        start = datetime.combine(first, time(0))
        for p in world.sales():
            if not p.active(start):
                continue
            near = (not TEAM[p.team].territory) or host in TEAM[p.team].territory
            if rng.random() >= p.event_keenness * (1.6 if near else 0.7):
                continue
            stay = int(rng.integers(1, n_days + 1))
            offset = int(rng.integers(0, n_days - stay + 1))
            for k in range(stay):
                day = start + timedelta(days=offset + k)
                s = p.event_skill * (0.8 + 0.2 * p.ramp(day))
                world.events.append(
                    (
                        ev_id,
                        name,
                        p.id,
                        day,
                        int(rng.poisson(20 * s)),
                        int(rng.poisson(4 * s)),
                        int(rng.poisson(60 * s)),
                    )
                )


def build_world() -> World:
    world = World()
    build_people(world)
    build_leads(world)
    reassign_customers(world)
    build_cross_selling(world)
    build_activity_ids(world)
    build_enquiries(world)
    build_signups(world)
    build_complaints(world)
    build_surveys(world)
    build_distributors(world)
    build_newsletters_and_visits(world)
    build_trainings(world)
    build_events(world)
    return world


# --------------------------------------------------------------------------------------------------
# Writers: one function per export file
# --------------------------------------------------------------------------------------------------


def write_csv(name: str, header: list[str], rows, encoding: str = "utf-8", newline: str = "\n") -> None:
    with open(OUT / name, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(
    name: str,
    sheet: str,
    header: list[str],
    rows,
    formats: dict[int, str] | None = None,
    widths: dict[int, int] | None = None,
) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    for col, number_format in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = number_format
    for col, width in (widths or {}).items():
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    wb.properties.creator = "星河智能科技"
    wb.properties.lastModifiedBy = "星河智能科技"
    wb.properties.created = XLSX_STAMP
    wb.properties.modified = XLSX_STAMP
    buf = io.BytesIO()
    wb.save(buf)
    (OUT / name).write_bytes(stable_zip(buf.getvalue()))


def stable_zip(raw: bytes) -> bytes:
    """Rewrite an XLSX package with fixed member timestamps and a fixed modified date."""
    stamp = XLSX_STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            member = zipfile.ZipInfo(info.filename, date_time=XLSX_STAMP.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, data)
    return out.getvalue()


def write_people(world: World) -> None:
    header = ["工号", "姓名", "邮箱", "团队", "角色", "上级", "省份", "入职日期", "离职日期"]
    rows = [
        (
            p.id,
            p.name,
            p.email,
            TEAM[p.team].name_zh if p.team else "",
            ROLE_LABELS[p.role],
            p.manager,
            p.region,
            p.start,
            p.end,
        )
        for p in world.people
    ]
    write_xlsx(
        "people.xlsx",
        "员工名册",
        header,
        rows,
        {8: "yyyy-mm-dd", 9: "yyyy-mm-dd"},
        {1: 9, 2: 10, 3: 30, 4: 18, 5: 12, 6: 9, 7: 7, 8: 12, 9: 12},
    )


def write_teams(world: World) -> None:
    leads = {p.team: p.id for p in world.people if p.role == "team_lead"}
    rows = [(t.id, t.name_zh, t.name_en, leads[t.id]) for t in TEAMS]
    write_xlsx(
        "teams.xlsx", "teams", ["Team ID", "团队名称", "Team Name", "负责人工号"], rows, widths={2: 18, 3: 26}
    )


def write_regions(world: World) -> None:
    rows = [(r[0], r[1], r[3]) for r in REGIONS]
    write_xlsx("regions.xlsx", "regions", ["代码", "名称", "Name"], rows, widths={2: 18, 3: 16})


def write_leads(world: World) -> None:
    short = {r[0]: r[2] for r in REGIONS}
    header = ["线索编号", "负责人工号", "省份", "来源", "创建时间", "关闭时间"]
    rows = [
        (
            x["id"],
            x["owner"],
            short[x["region"]],
            x["source"],
            fmt(x["created"], LEADS_FORMAT),
            fmt(x["closed"], LEADS_FORMAT),
        )
        for x in world.leads
    ]
    write_csv("leads.csv", header, rows, encoding="gb18030", newline="\r\n")


def write_lead_stages(world: World) -> None:
    header = ["Lead ID", "Owner", "Stage", "Changed Date", "Error Flag"]
    rows = [(s[0], s[1], s[2], fmt(s[3]), s[4]) for s in world.stages]
    write_csv("lead_stage_history.csv", header, rows)


def write_activities(world: World) -> None:
    header = [
        "Activity ID",
        "Assigned To",
        "Lead ID",
        "Account ID",
        "Activity Type",
        "Result",
        "Activity Date",
    ]
    rows = [(a[0], a[1], a[2], a[3], a[4], a[5], fmt(a[6])) for a in world.activities]
    write_csv("activities.csv", header, rows, encoding="utf-8-sig")


def write_deals(world: World) -> None:
    header = [
        "Opportunity ID",
        "Opportunity Owner",
        "Account ID",
        "Product",
        "Region",
        "Stage",
        "Amount (CNY)",
        "Engaged Date",
        "Close Date",
        "Cross-sell",
    ]
    rows = [
        (
            d["id"],
            d["owner"],
            d["customer"] or "",
            d["product"],
            d["region"],
            d["stage"],
            f"{d['amount']:.2f}",
            fmt(d["engaged"]),
            fmt(d["closed"]),
            "Yes" if d["cross_sell"] else "No",
        )
        for d in world.deals
    ]
    write_csv("deals.csv", header, rows)


def write_customers(world: World) -> None:
    header = ["Account ID", "Account Name", "Account Owner", "Region", "First Purchase Date"]
    rows = [(c["id"], c["name"], c["owner"], c["region"], fmt(c["first"], ISO_DAY)) for c in world.customers]
    write_csv("customers.csv", header, rows)


def write_enquiries(world: World) -> None:
    header = ["Enquiry No", "Assigned Rep", "Received", "First Reply"]
    rows = [
        (f"ENQ{i + 1:05d}", e[0], fmt(e[1], ENQUIRY_FORMAT), fmt(e[2], ENQUIRY_FORMAT))
        for i, e in enumerate(world.enquiries)
    ]
    write_csv("enquiries.csv", header, rows)


def write_signups(world: World) -> None:
    header = ["Signup ID", "Assigned Rep", "Signed Up At", "Demo At", "Signup Source"]
    rows = [(f"SU{i + 1:05d}", s[0], fmt(s[1]), fmt(s[2]), s[3]) for i, s in enumerate(world.signups)]
    write_csv("signups.csv", header, rows)


def write_complaints(world: World) -> None:
    header = ["Ticket ID", "Assignee", "Account ID", "Opened", "Resolved", "Resolution"]
    rows = [
        (f"TK{i + 1:05d}", c[0], c[1], fmt(c[2]), fmt(c[3]), c[4]) for i, c in enumerate(world.complaints)
    ]
    write_csv("complaints.csv", header, rows)


def write_distributors(world: World) -> None:
    header = ["Partner ID", "Partner Name", "Channel Team", "Region", "Joined Date"]
    rows = [
        (d["id"], d["name"], "channel", d["region"], fmt(d["joined"], ISO_DAY)) for d in world.distributors
    ]
    write_csv("distributors.csv", header, rows)


def write_distributor_sales(world: World) -> None:
    header = ["Partner ID", "Channel Team", "Month", "Sales (CNY)", "Target (CNY)", "Commission (CNY)"]
    rows = [
        (r[0], "channel", fmt(r[1], ISO_DAY), f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.2f}")
        for r in world.distributor_sales
    ]
    write_csv("distributor_sales.csv", header, rows)


def write_newsletter_sends(world: World) -> None:
    header = ["Send ID", "Sender", "Sent At", "Recipients", "Unique Clicks"]
    rows = [(f"NL{i + 1:05d}", n[0], fmt(n[1]), n[2], n[3]) for i, n in enumerate(world.newsletters)]
    write_csv("newsletter_sends.csv", header, rows)


def write_web_visits(world: World) -> None:
    header = ["Rep", "Date", "Traffic Source", "Visits"]
    rows = [(v[0], fmt(v[1], ISO_DAY), v[2], v[3]) for v in world.visits]
    write_csv("web_visits.csv", header, rows)


def write_surveys(world: World) -> None:
    header = [
        "Response ID",
        "Salesperson",
        "Account ID",
        "Submitted At",
        "Feature X Score",
        "Best Other Feature Score",
        "Wants Add-on Y",
        "Satisfied",
        "Rep Efficient",
        "Identified Need",
    ]
    rows = [(f"SV{i + 1:05d}", s[0], s[1], fmt(s[2])) + s[3:] for i, s in enumerate(world.surveys)]
    write_csv("surveys.csv", header, rows)


def write_training_log(world: World) -> None:
    rows = [(f"TR{i + 1:04d}", TEAM[t[0]].name_zh, t[1], t[2]) for i, t in enumerate(world.trainings)]
    write_xlsx(
        "training_log.xlsx",
        "培训记录",
        ["培训编号", "团队", "日期", "主题"],
        rows,
        {3: "yyyy-mm-dd hh:mm"},
        {2: 18, 3: 18, 4: 20},
    )


def write_trade_events(world: World) -> None:
    header = ["展会编号", "展会名称", "工号", "参展日期", "产品演示", "洽谈会议", "获取联系人"]
    write_xlsx("trade_events.xlsx", "展会记录", header, world.events, {4: "yyyy-mm-dd"}, {2: 30, 4: 12})


def write_okr_plan(world: World) -> None:
    from okr_plan import PLAN_HEADER, plan_rows  # the plan's wording lives in its own module

    write_xlsx(
        "okr_plan.xlsx", "plan", PLAN_HEADER, plan_rows(COMPANY_ID), widths={4: 40, 5: 30, 8: 50, 9: 36}
    )


def write_checkins(world: World) -> None:
    from okr_plan import checkin_rows

    rows = checkin_rows(world, rng, [t.id for t in TEAMS])
    write_xlsx(
        "checkins.xlsx",
        "checkins",
        ["KR编号", "负责人", "日期", "数值", "信心指数", "备注"],
        rows,
        {3: "yyyy-mm-dd"},
        {3: 12, 6: 50},
    )


def main() -> None:
    OUT.mkdir(exist_ok=True)
    world = build_world()
    write_people(world)
    write_teams(world)
    write_regions(world)
    write_leads(world)
    write_lead_stages(world)
    write_activities(world)
    write_deals(world)
    write_customers(world)
    write_enquiries(world)
    write_signups(world)
    write_complaints(world)
    write_distributors(world)
    write_distributor_sales(world)
    write_newsletter_sends(world)
    write_web_visits(world)
    write_surveys(world)
    write_training_log(world)
    write_trade_events(world)
    write_okr_plan(world)
    write_checkins(world)
    for path in sorted(OUT.iterdir()):
        print(f"{path.name:28s} {path.stat().st_size:>10,d} bytes")


if __name__ == "__main__":
    main()
