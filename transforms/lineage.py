"""Each KR's lineage in plain words, in the card's language: what was counted, for whom, from which files.

``kr_values.csv`` keeps the machine lineage (tables and filter text); a card says the same in a sentence a
reader can check against the exports. Table, column and file names and the values a filter compares with are
ids and stay as written; every other word comes from ``PHRASES``, one table per locale. Chinese templates are
written without spaces around ids: ``_Words`` puts one wherever a filled-in id meets a Chinese character.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from string import Formatter
from typing import Any

from transforms import config as cfg
from transforms.contracts import MEMBERSHIPS, table_contracts

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "lead": "{label}: {body}", "clause": "{a}, {b}", "and": " and ", "or": " or ", "sep": ", ",
        "part": "{label} ({inner})", "part_bare": "({inner})",
        "tail": "{body}: {rows} from {files}", "tail_bare": "{body}: {rows}",
        "rows_one": "{n} row", "rows": "{n} rows", "counted": "{body}, counted {what}",
        "log": "{body}; {table} keeps the {which} row per {key} by {by} ({read} rows read, {kept} kept, "
               "{aside} set aside)",
        "latest": "latest", "first": "first", "key_sep": " and ",
        # filters
        "with": " with {conds}", "with_and": " with {conds}", "with_also": " with {conds}", "cond_sep": " and ",
        "eq": "{col} {v}", "eq_col": "{col} equal to {v}", "ne": "{col} other than {v}", "in": "{col} {v}",
        "not_in": "{col} other than {v}", "gt": "{col} above {v}", "ge": "{col} at least {v}", "lt": "{col} below {v}",
        "le": "{col} at most {v}", "is_null": "{col} empty", "not_null": "{col} not empty",
        "times": "{times} times {col}", "one_of": "{v}",
        # what was counted
        "count": "number of {table} rows{with}", "distinct": "number of distinct {column} values in {table}{with}",
        "first_seen": "number of {column} values in {table}{with}", "sum": "sum of {column} over {table}{with}",
        "mean": "mean of {column} over {table}{with}",
        "mean_ratio": "mean of {column} / {divide_by}, row by row, over {table}{with}",
        "duration_mean": "mean time from {start} to {end}, in {unit}, over {table}{with}",
        "percentile": "{nth} of {column} over {table}{with}",
        "percentile_duration": "{nth} of the time from {start} to {end}, in {unit}, over {table}{with}",
        "median": "median", "nth": "{p}th percentile", "nth_1": "{p}st percentile", "nth_2": "{p}nd percentile",
        "nth_3": "{p}rd percentile", "days": "days", "hours": "hours",
        "sla_share": "share of {table} rows{with} whose {end} is within {hours} hours of {start}",
        "coverage": "share of the {reference_column} values of {reference}{ref_with} reached by the {column} "
                    "of {table}{with}",
        "conversion": "share of {entity} values in {table}{with} whose {stage_column} becomes {to} within "
                      "{days} days",
        "snapshot": "number of {table} rows{with} open at {end_of} ({start} before then{still})",
        "snapshot_still": ", {end} empty or not before then",
        "headcount": "number of {table}{with} employed at {end_of}",
        "headcount_relative": "{a}, divided by the same number on {date}",
        "manual": "latest check-in up to the period end",
        "milestone": "latest check-in of the milestone's progress up to the period end (1 = done)",
        # composites
        "ratio": "{a} divided by {b}", "rate": "{a} per {unit}",
        "per_day": "day", "per_weekday": "working day (Monday to Friday)", "per_week": "week", "per_month": "month",
        "per_head": "{a}, per head of the people{with} employed in the period",
        "growth": "change on {prev} in {a}", "compound": "quarterly growth compounded since {base} in {a}",
        "rollup": "sum of the values of {kr} ({inner}) over {children}",
        "children_team": "this team's {n} members", "children_team_one": "this team's {n} member",
        "children_company": "the company's {n} teams", "children_company_one": "the company's {n} team",
        # time
        "time_verb": "{verb} {when} ({column})", "time_by": "counted {when} by {column}",
        "time_first": "whose first row ever falls {when} ({column})", "time_none": "at any time (no time column)",
        "window_period": "{period}", "window_fiscal_year_to_date": "from the start of the fiscal year to {end_of}",
        "window_all_to_date": "up to {end_of}",
        "period_period": "this quarter", "period_months": "each month",
        "period_last_month": "in the quarter's last month",
        "end_period": "the end of this quarter", "end_months": "each month's end",
        "end_last_month": "the end of the quarter's last month",
        "prev_period": "the previous quarter", "prev_months": "the previous month",
        "how_mean_of_months": "mean of the monthly values", "how_months_on_target": "share of the months on target",
        # owners
        "owner_person": "owned by this person", "owner_person_col": "owned by this person ({column})",
        "owner_team": "owned by this team's members", "owner_team_col": "owned by this team ({column} on the row)",
        "owner_team_at": "owned by the team each row's person was in at {column}",
        "owner_team_mixed": "owned by this team", "owner_company": "across the company",
        "people_person": "this person", "people_team": "in this team", "people_company": "in the company",
        "checkin_person": "checked in for this person", "checkin_team": "checked in for this team",
        "checkin_company": "checked in for the company",
        # what the row count counts
        "q_divisor": "for the divisor", "q_prev_period": "in the previous quarter",
        "q_prev_months": "in the previous months", "q_base": "in {base}", "q_on": "on {date}",
        "q_months": "over the months",
    },
    "zh-CN": {
        "lead": "{label}：{body}", "clause": "{a}，{b}", "and": "和", "or": "、", "sep": "、",
        "part": "{label}（{inner}）", "part_bare": "（{inner}）",
        "tail": "{body}：来自{files}的{rows}", "tail_bare": "{body}：{rows}",
        "rows": "{n}行", "counted": "{body}（{what}的行数）",
        "log": "{body}；{table}按{by}保留每个{key}的{which}一行（读取{read}行，保留{kept}行，{aside}行不计）",
        "latest": "最新", "first": "最早", "key_sep": "、",
        "with": "中{conds}", "with_and": "{conds}且", "with_also": "且{conds}", "cond_sep": "且",
        "eq": "{col}为{v}", "eq_col": "{col}等于{v}", "ne": "{col}不为{v}", "in": "{col}为{v}",
        "not_in": "{col}不为{v}中任何一个", "gt": "{col}大于{v}", "ge": "{col}不小于{v}", "lt": "{col}小于{v}",
        "le": "{col}不大于{v}", "is_null": "{col}为空", "not_null": "{col}不为空",
        "times": "{col}的{times}倍", "one_of": "{v}之一",
        "count": "{table}{with}的行数", "distinct": "{table}{with}的不重复{column}个数",
        "first_seen": "{table}{with}的{column}取值个数", "sum": "{table}{with}的{column}之和",
        "mean": "{table}{with}的{column}平均值",
        "mean_ratio": "{table}{with}的逐行{column} / {divide_by}的平均值",
        "duration_mean": "{table}{with}的{start}至{end}平均时长（{unit}）",
        "percentile": "{table}{with}的{column}{nth}",
        "percentile_duration": "{table}{with}的{start}至{end}时长（{unit}）的{nth}",
        "median": "中位数", "nth": "第{p}百分位数", "days": "天", "hours": "小时",
        "sla_share": "{table}{with}的行中{end}在{start}之后{hours}小时内的占比",
        "coverage": "{table}{with}的{column}覆盖{reference}{ref_with}的{reference_column}取值的占比",
        "conversion": "{table}{with}的{entity}在{days}天内{stage_column}变为{to}的占比",
        "snapshot": "{table}中{with}在{end_of}仍有效的行数（{start}早于该时点{still}）",
        "snapshot_still": "，且{end}为空或不早于该时点",
        "headcount": "{table}中{with}在{end_of}在职的人数",
        "headcount_relative": "{a}，除以{date}的同口径人数",
        "manual": "最近一次截至期末的人工填报",
        "milestone": "最近一次截至期末的里程碑进度人工填报（1 为完成）",
        "ratio": "{a}除以{b}", "rate": "{a}除以期间内的{unit}",
        "per_day": "天数", "per_weekday": "工作日数（周一至周五）", "per_week": "周数", "per_month": "月数",
        "per_head": "{a}，再按期间内在职{with}的人数人均",
        "growth": "{a}较{prev}的变化", "compound": "{a}自{base}以来的季度复合增长",
        "rollup": "{children}的{kr}数值（{inner}）之和",
        "children_team": "本团队{n}名成员", "children_company": "公司{n}个团队",
        "time_by": "按{column}计入{when}", "time_first": "按{column}首次出现于{when}",
        "time_none": "不限时间（无时间列）",
        "window_period": "{period}", "window_fiscal_year_to_date": "本财年初至{end_of}",
        "window_all_to_date": "{end_of}之前的全部时间",
        "period_period": "本季度", "period_months": "每个月", "period_last_month": "本季度最后一个月",
        "end_period": "本季度末", "end_months": "每月末", "end_last_month": "本季度最后一个月末",
        "prev_period": "上季度", "prev_months": "上月",
        "how_mean_of_months": "取各月数值的平均", "how_months_on_target": "取达标月份的占比",
        "owner_person": "归属本人", "owner_person_col": "按{column}归属本人",
        "owner_team": "归属本团队成员", "owner_team_col": "按行上的{column}归属本团队",
        "owner_team_at": "按{column}时点所在团队归属本团队",
        "owner_team_mixed": "归属本团队", "owner_company": "全公司",
        "people_person": "范围为本人", "people_team": "范围为本团队", "people_company": "范围为全公司",
        "checkin_person": "填报对象为本人", "checkin_team": "填报对象为本团队", "checkin_company": "填报对象为公司",
        "q_divisor": "除数", "q_prev_period": "上季度", "q_prev_months": "各上月", "q_base": "{base}",
        "q_on": "{date}", "q_months": "各月合计",
    },
}
"""Every word a lineage sentence uses, per locale; the placeholders are ids, numbers or other phrases."""

MONTHLY = {"period": "period", "mean_of_months": "months", "months_on_target": "months", "last_month": "last_month"}
"""A KR's quarterly value -> which periods its metric was evaluated over (the quarter, each month, the last)."""

_VERB_SUFFIXES = ("_at", "_on", "_date", "_time")


@dataclass(frozen=True)
class EventLog:
    """How an event log was reduced to one row per key, and what that did to its rows."""

    key: tuple[str, ...]
    by: str
    latest: bool
    rows_read: int
    set_aside: int


@dataclass(frozen=True)
class TableFacts:
    """What decides a table's rows' time and owners, as the engine reads them."""

    time: str | None = None
    person: str | None = None
    team: str | None = None
    team_at: str | None = None
    """The time column at which dated team memberships decide a row's team (no team column on the row)."""
    event_log: EventLog | None = None


@dataclass(frozen=True)
class LineageContext:
    """Built once per run: the metric definitions, the export files of each table and the tables' facts."""

    metrics: Mapping[str, cfg.MetricDef]
    files: Mapping[str, Sequence[str]]
    tables: Mapping[str, TableFacts] = field(default_factory=dict)


@dataclass(frozen=True)
class Rollup:
    """A KR whose value is the sum of its children's values of another KR (``rollup: value``)."""

    children: int
    kr_id: str
    metric: str


@dataclass(frozen=True)
class KrRef:
    """One KR as its lineage needs it."""

    metric: str
    tier: str
    rows: int
    quarterly: str = "period"
    rollup: Rollup | None = None


def export_files(ws: cfg.Workspace) -> dict[str, list[str]]:
    """Table -> the export files feeding it, as written in okr.yaml (relative to the workspace)."""
    out: dict[str, list[str]] = {}
    for name, source in ws.sources.items():
        out.setdefault(source.table_name(name), []).append(source.path)
    return out


def table_facts(ws: cfg.Workspace, tables: Mapping[str, Any]) -> dict[str, TableFacts]:
    """Each staged table's time column, owner columns and event-log reduction, decided as the engine does."""
    contracts = table_contracts(ws)
    members = tables.get(MEMBERSHIPS)
    dated = members is not None and not members.empty
    out = {}
    for name, frame in tables.items():
        c, columns = contracts.get(name), set(frame.columns)
        if c is None:
            person = "person_id" if "person_id" in columns and name != "people" else None
            team = "team_id" if "team_id" in columns and name != "people" else None
        else:
            person = c.person if c.person in columns else None
            team = c.team if c.team in columns else None
        team_at = c.time if (c is not None and team is None and person and dated and c.time in columns) else None
        kept = frame.attrs.get("kept")
        log = (EventLog(tuple(c.key), c.keep_by, c.keep_last, kept.rows_read, kept.set_aside)
               if kept is not None and c is not None and c.keep_by else None)
        out[name] = TableFacts(c.time if c is not None else None, person, team, team_at, log)
    return out


def lineage_context(ws: cfg.Workspace, tables: Mapping[str, Any]) -> LineageContext:
    """What every KR's sentence of one run is built from."""
    return LineageContext(ws.metrics, export_files(ws), table_facts(ws, tables))


def kr_lineage(ctx: LineageContext, kr: KrRef, locale: str) -> str:
    """The KR's lineage as one sentence in ``locale``: lead label, what was counted and when, for whom, how many
    rows of which files, and how event logs among them were reduced."""
    w = _Words(locale)
    how = MONTHLY.get(kr.quarterly, "period")
    metric = kr.rollup.metric if kr.rollup is not None else kr.metric
    manual = ctx.metrics[metric].definition.kind in ("manual", "milestone")
    body = _describe(ctx, w, metric, how)
    if kr.quarterly in ("mean_of_months", "months_on_target") and not manual:
        body = w("clause", a=body, b=w(f"how_{kr.quarterly}"))
    if kr.rollup is None:
        body = w("clause", a=body, b=_owner(ctx, w, metric, kr.tier))
    elif kr.tier in ("team", "company"):
        body = w("rollup", kr=kr.rollup.kr_id, inner=body, children=w.count(f"children_{kr.tier}", kr.rollup.children))
    text = w("lead", label=_label(ctx.metrics, kr.metric, locale), body=body)
    files = list(dict.fromkeys(f for t in _row_tables(ctx.metrics, metric) for f in ctx.files.get(t, ())))
    rows = w.count("rows", kr.rows)
    text = w("tail", body=text, rows=rows, files=w.listing(files)) if files else w("tail_bare", body=text, rows=rows)
    roles, times = _qualifiers(ctx.metrics, metric, "period" if manual else how)
    if roles or times:
        said = [w(key, **values) for key, values in (roles + times if w.en else times + roles)]
        text = w("counted", body=text, what=w.glue_all(said, " " if w.en else ""))
    return _event_logs(ctx, w, metric, text)


class _Words:
    """A locale's phrases, filled in; Chinese text gets a space wherever an id meets a Chinese character."""

    def __init__(self, locale: str) -> None:
        self.en = locale != "zh-CN"
        self.phrases = PHRASES["en" if self.en else "zh-CN"]

    def __call__(self, phrase: str, /, **values: Any) -> str:
        out = ""
        for literal, name, spec, _ in Formatter().parse(self.phrases[phrase]):
            out = _glue(out, literal)
            if name is not None:
                out = _glue(out, format(values[name], spec or ""))
        return out

    def has(self, key: str) -> bool:
        return key in self.phrases

    def count(self, key: str, n: int) -> str:
        """A counted phrase with the number as the card shows it (1,027), singular where the locale has one."""
        one = f"{key}_one"
        return self(one if n == 1 and self.has(one) else key, n=f"{n:,}")

    def glue_all(self, items: Sequence[str], sep: str) -> str:
        out = ""
        for i, item in enumerate(items):
            out = _glue(_glue(out, sep) if i else out, item)
        return out

    def listing(self, items: Sequence[str], last: str = "and") -> str:
        """a, b and c (a、b 和 c): file names, values; ``last`` is the word before the last item."""
        if len(items) <= 1:
            return "".join(items)
        return _glue(_glue(self.glue_all(items[:-1], self("sep")), self(last)), items[-1])


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _id_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_-./%)]")


def _glue(left: str, right: str) -> str:
    """``left + right``, with a space where an id's character meets a Chinese one."""
    if left and right and ((_id_char(left[-1]) and _cjk(right[0])) or (_cjk(left[-1]) and _id_char(right[0]))):
        return f"{left} {right}"
    return left + right


def _label(metrics: Mapping[str, cfg.MetricDef], name: str, locale: str) -> str:
    """The metric's label in the card's language, else in the other one, else its name."""
    m = metrics[name]
    first, second = (m.label_zh, m.label_en) if locale == "zh-CN" else (m.label_en, m.label_zh)
    return next((x for x in (first, second) if x and x.strip()), name)


def _part(ctx: LineageContext, w: _Words, name: str, how: str) -> str:
    """A metric inside another one: its label (lower-cased mid-sentence in English) with what it counts."""
    inner = _describe(ctx, w, name, how)
    m = ctx.metrics[name]
    label = (m.label_en or m.label_zh) if w.en else (m.label_zh or m.label_en)
    if not label:
        return w("part_bare", inner=inner)
    if w.en and label[0].isupper() and (len(label) == 1 or label[1].islower()):
        label = label[0].lower() + label[1:]
    return w("part", label=label, inner=inner)


def _describe(ctx: LineageContext, w: _Words, name: str, how: str) -> str:
    """What a metric computes and over which time, following composite metrics into their parts."""
    d = ctx.metrics[name].definition
    if isinstance(d, cfg.RatioMetric):
        return w("ratio", a=_part(ctx, w, d.numerator, how), b=_part(ctx, w, d.denominator, how))
    if isinstance(d, cfg.RateMetric):
        text = _part(ctx, w, d.of, how)
        text = w("rate", a=text, unit=w(f"per_{d.per}")) if d.per != "period" else text
        if d.per_head:
            text = w("per_head", a=text, **{"with": _with(w, "with_also", d.head_where)})
        return text
    if isinstance(d, cfg.GrowthMetric):
        if d.compound_from:
            return w("compound", a=_part(ctx, w, d.of, how), base=d.compound_from)
        return w("growth", a=_part(ctx, w, d.of, how), prev=w(f"prev_{'period' if how == 'period' else 'months'}"))
    if isinstance(d, cfg.HeadcountMetric):
        text = w("headcount", table="people", end_of=w(f"end_{how}"), **{"with": _with(w, "with_and", d.where)})
        return w("headcount_relative", a=text, date=d.relative_to) if d.relative_to else text
    if isinstance(d, (cfg.ManualMetric, cfg.MilestoneMetric)):
        return w(d.kind)
    if isinstance(d, cfg.SnapshotMetric):
        still = w("snapshot_still", end=d.end) if d.end else ""
        return w("snapshot", table=d.table, end_of=w(f"end_{how}"), start=d.start, still=still,
                 **{"with": _with(w, "with_and", d.where)})
    first_seen = isinstance(d, cfg.DistinctMetric) and d.first_seen
    return w("clause", a=_measure(w, d), b=_time(ctx, w, d, how, first_seen))


def _measure(w: _Words, d: Any) -> str:
    """What a measure over one table counts, with its filter."""
    base = {"table": d.table, "with": _with(w, "with", d.where)}
    kind = d.kind
    if kind in ("count", "sum", "mean", "distinct"):
        if kind == "distinct" and d.first_seen:
            kind = "first_seen"
        if kind == "mean" and d.divide_by:
            return w("mean_ratio", column=d.column, divide_by=d.divide_by, **base)
        return w(kind, column=getattr(d, "column", None), **base)
    if kind == "duration_mean":
        return w(kind, start=d.start, end=d.end, unit=w(d.unit), **base)
    if kind == "percentile":
        nth = w("median") if d.p == 50 else _nth(w, d.p)
        if d.column is not None:
            return w(kind, nth=nth, column=d.column, **base)
        return w("percentile_duration", nth=nth, start=d.start, end=d.end, unit=w(d.unit), **base)
    if kind == "sla_share":
        return w(kind, start=d.start, end=d.end, hours=_value(d.within_hours), **base)
    if kind == "coverage":
        return w(kind, column=d.column, reference=d.reference, reference_column=d.reference_column,
                 ref_with=_with(w, "with", d.reference_where), **base)
    if kind == "conversion":
        to = d.to_stage if isinstance(d.to_stage, str) else w("one_of", v=_values(w, d.to_stage))
        where = {**d.where, d.stage_column: d.from_stage} if d.stage_column not in d.where else d.where
        return w(kind, table=d.table, entity=d.entity, stage_column=d.stage_column, to=to,
                 days=_value(d.within_days), **{"with": _with(w, "with", where)})
    raise ValueError(f"no words for a {kind} metric")


def _nth(w: _Words, p: float) -> str:
    """90th, 1st, 2nd, 3rd, 11th... percentile (the locale decides whether it has such endings)."""
    text = _value(p)
    ending = "" if not text.isdigit() or text.endswith(("11", "12", "13")) else text[-1]
    key = f"nth_{ending}"
    return w(key if ending in ("1", "2", "3") and w.has(key) else "nth", p=text)


def _time(ctx: LineageContext, w: _Words, d: Any, how: str, first_seen: bool) -> str:
    """Which rows' time places them in the period, and which window of time counts."""
    facts = ctx.tables.get(d.table, TableFacts())
    column = d.time if d.time is not None else facts.time
    if column is None:
        return w("time_none")
    when = w(f"window_{d.window}", period=w(f"period_{how}"), end_of=w(f"end_{how}"))
    if first_seen:
        return w("time_first", column=column, when=when)
    verb = _verb(column)
    if verb and w.has("time_verb"):
        return w("time_verb", verb=verb, when=when, column=column)
    return w("time_by", column=column, when=when)


def _verb(column: str) -> str | None:
    """``closed_at`` -> "closed", ``signed_up_at`` -> "signed up"; None when the name is not a past participle."""
    stem = next((column[: -len(s)] for s in _VERB_SUFFIXES if column.endswith(s)), None)
    words = stem.split("_") if stem else []
    if 1 <= len(words) <= 2 and len(words[0]) > 3 and words[0].endswith("ed") and all(x.isalpha() for x in words):
        return " ".join(words)
    return None


def _with(w: _Words, key: str, where: Mapping[str, object]) -> str:
    """A filter in words ("with stage won and is_cross_sell true"); empty for no filter."""
    conds = [c for col, cond in where.items() for c in _conditions(w, col, cond)]
    return w(key, conds=w.glue_all(conds, w("cond_sep"))) if conds else ""


def _conditions(w: _Words, col: str, cond: object) -> list[str]:
    """One filter column's conditions in words: equality, lists, comparisons, column comparisons, is_null."""
    if isinstance(cond, list):
        return [w("eq", col=col, v=_value(cond[0]))] if len(cond) == 1 else [
            w("in", col=col, v=w("one_of", v=_values(w, cond)))]
    if not isinstance(cond, dict):
        return [w("eq", col=col, v=_value(cond))]
    out = []
    times = cond.get("times")
    for op, operand in cond.items():
        if op == "times":
            continue
        if op == "is_null":
            out.append(w("is_null" if operand else "not_null", col=col))
        elif op.endswith("_col"):
            other = w("times", times=_value(times), col=operand) if times is not None else str(operand)
            key = "eq_col" if op == "eq_col" else op[:-4]
            out.append(w(key, col=col, v=other))
        elif op in ("in", "not_in"):
            items = operand if isinstance(operand, list) else [operand]
            out.append(w(op, col=col, v=w("one_of", v=_values(w, items)) if op == "in" else _values(w, items, "and")))
        else:
            out.append(w(op, col=col, v=_value(operand)))
    return out


def _values(w: _Words, items: Sequence[object], last: str = "or") -> str:
    return w.listing([_value(v) for v in items], last)


def _value(v: object) -> str:
    """A value as written in okr.yaml: true/false, 12 rather than 12.0."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _measures(metrics: Mapping[str, cfg.MetricDef], name: str) -> list[Any]:
    """The definitions a metric is computed from, composite metrics followed to their parts."""
    d = metrics[name].definition
    if isinstance(d, cfg.RatioMetric):
        return _measures(metrics, d.numerator) + _measures(metrics, d.denominator)
    if isinstance(d, (cfg.RateMetric, cfg.GrowthMetric)):
        return _measures(metrics, d.of)
    return [d]


def _row_tables(metrics: Mapping[str, cfg.MetricDef], name: str) -> list[str]:
    """The tables a KR's row count is taken from: a ratio's and a growth's come from the divisor's."""
    d = metrics[name].definition
    if isinstance(d, cfg.RatioMetric):
        return _row_tables(metrics, d.denominator)
    if isinstance(d, (cfg.RateMetric, cfg.GrowthMetric)):
        return _row_tables(metrics, d.of)
    if isinstance(d, cfg.HeadcountMetric):
        return ["people"]
    if isinstance(d, (cfg.ManualMetric, cfg.MilestoneMetric)):
        return ["checkins"]
    return [d.table]


def _qualifiers(metrics: Mapping[str, cfg.MetricDef], name: str,
                how: str) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """Which rows the count is: (roles such as the divisor's, times such as the previous quarter's)."""
    roles: list[tuple[str, dict]] = []
    times: list[tuple[str, dict]] = [("q_months", {})] if how == "months" else []
    d = metrics[name].definition
    while True:
        if isinstance(d, cfg.RatioMetric):
            roles = roles or [("q_divisor", {})]
            d = metrics[d.denominator].definition
        elif isinstance(d, cfg.GrowthMetric):
            times.append(("q_base", {"base": d.compound_from}) if d.compound_from else
                         (f"q_prev_{'period' if how == 'period' else 'months'}", {}))
            d = metrics[d.of].definition
        elif isinstance(d, cfg.RateMetric):
            d = metrics[d.of].definition
        else:
            if isinstance(d, cfg.HeadcountMetric) and d.relative_to:
                times.append(("q_on", {"date": d.relative_to}))
            return roles, times


def _owner(ctx: LineageContext, w: _Words, name: str, tier: str) -> str:
    """Whose rows were counted: this person's, this team's (by a team column, dated memberships or the members'
    own team) or the whole company's."""
    bases = _measures(ctx.metrics, name)
    if any(isinstance(b, (cfg.ManualMetric, cfg.MilestoneMetric)) for b in bases):
        return w(f"checkin_{tier}")
    if all(isinstance(b, cfg.HeadcountMetric) for b in bases):
        return w(f"people_{tier}")
    if tier == "company":
        return w("owner_company")
    tables = [b.table for b in bases if hasattr(b, "table")]
    said = {_table_owner(w, ctx.tables.get(t, TableFacts()), tier) for t in tables}
    if len(said) == 1:
        return said.pop()
    return w("owner_person" if tier == "person" else "owner_team_mixed")


def _table_owner(w: _Words, facts: TableFacts, tier: str) -> str:
    if tier == "person":
        return w("owner_person_col", column=facts.person) if facts.person not in (None, "person_id") else \
            w("owner_person")
    if facts.team is not None:
        return w("owner_team_col", column=facts.team)
    if facts.team_at is not None:
        return w("owner_team_at", column=facts.team_at)
    return w("owner_team")


def _event_logs(ctx: LineageContext, w: _Words, name: str, text: str) -> str:
    """How the event logs among the metric's tables were reduced: the rule and the rows read, kept, set aside."""
    tables: list[str] = []
    for d in _measures(ctx.metrics, name):
        tables += [t for t in (getattr(d, "table", None), getattr(d, "reference", None)) if t]
    for t in dict.fromkeys(tables):
        log = ctx.tables.get(t, TableFacts()).event_log
        if log is None:
            continue
        text = w("log", body=text, table=t, which=w("latest" if log.latest else "first"),
                 key=w.glue_all(list(log.key), w("key_sep")), by=log.by, read=f"{log.rows_read:,}",
                 kept=f"{log.rows_read - log.set_aside:,}", aside=f"{log.set_aside:,}")
    return text
