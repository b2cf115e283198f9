"""The workspace configuration (``okr.yaml``) as typed models.

Everything about a company lives here, not in code: where its exports are and how their columns map to
the canonical tables, its calendar, people sources, metric definitions and status bands.
Loading the YAML file is I/O and lives in ``flows/config_io.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from transforms.review.lexicon import Lexicon

Scalar = Union[str, int, float, bool, None]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """One export file mapped onto one table (a preset or a declared one); several sources may feed one table."""

    path: str
    table: str | None = Field(None, description="the table this file feeds; default: the source's own name")
    missing: list[str] = Field(default_factory=list, description="cell texts that mean 'no value', e.g. ['?', 'n/a']")
    format: Literal["csv", "xlsx"] | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str = ","
    header_row: int = Field(1, ge=1, description="spreadsheet row number holding the header")
    columns: dict[str, str] = Field(default_factory=dict, description="canonical column -> export column")
    values: dict[str, dict[str, Scalar]] = Field(
        default_factory=dict, description="canonical column -> {export value: canonical value}"
    )
    constants: dict[str, Scalar] = Field(default_factory=dict, description="canonical column -> fixed value")
    date_format: str | None = None
    dayfirst: bool = False
    timezone: str | None = Field(None, description="zone of naive timestamps; default: workspace timezone")

    @field_validator("missing", mode="before")
    @classmethod
    def _markers_as_text(cls, raw: Any) -> Any:
        """``missing: ?`` (one marker) is a list of one; numbers written bare (``-1``) are the text of the cell."""
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            raw = [raw]
        return [str(v) for v in raw] if isinstance(raw, list) else raw

    def table_name(self, name: str) -> str:
        """The table this source feeds, given the name it is written under."""
        return self.table or name

    @property
    def resolved_format(self) -> str:
        if self.format:
            return self.format
        return "xlsx" if self.path.lower().endswith((".xlsx", ".xlsm")) else "csv"


ColumnType = Literal["str", "int", "float", "datetime", "bool"]
TYPE_ALIASES = {"date": "datetime", "text": "str", "string": "str", "number": "float", "integer": "int",
                "boolean": "bool", "timestamp": "datetime"}


class ColumnDecl(Strict):
    """One declared column: its type and the rules a value must keep (``name: type`` is the short form)."""

    type: ColumnType
    required: bool = Field(True, description="the export must have this column")
    nullable: bool = Field(True, description="a cell may be empty")
    allowed: list[Scalar] | None = None
    min: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            raw = {"type": raw}
        if isinstance(raw, dict) and isinstance(raw.get("type"), str):
            raw = {**raw, "type": TYPE_ALIASES.get(raw["type"].lower(), raw["type"].lower())}
        return raw


class KeepRule(Strict):
    """An event log keeps one row per key: the latest (or the first) by an ordering column."""

    latest_by: str | None = None
    first_by: str | None = None

    @model_validator(mode="after")
    def _one(self) -> KeepRule:
        if (self.latest_by is None) == (self.first_by is None):
            raise ValueError("expected exactly one of latest_by or first_by (the column that orders a key's rows)")
        return self

    @property
    def by(self) -> str:
        return self.latest_by or self.first_by or ""

    @property
    def last(self) -> bool:
        return self.latest_by is not None


class TableDecl(Strict):
    """A table declared in okr.yaml: its columns and what links them to people, teams and other tables.

    A declaration named like a preset extends it (adds columns, sets owners, time, links, keep) unless
    ``replace`` is set; any other name is a new table."""

    columns: dict[str, ColumnDecl] = Field(default_factory=dict)
    key: list[str] | None = None
    time: str | None = Field(None, description="the time column of metrics that name none")
    person: str | None = Field(None, description="column holding the owning person's id")
    team: str | None = Field(None, description="column holding the owning team's id (else the person's team)")
    links: dict[str, str] = Field(default_factory=dict, description="column -> table whose key it holds")
    keep: KeepRule | None = None
    replace: bool = False
    description: str = ""

    @field_validator("key", mode="before")
    @classmethod
    def _key_list(cls, raw: Any) -> Any:
        return [raw] if isinstance(raw, str) else raw


Where = dict[str, Any]
"""column -> scalar (equals) | list (one of) | {eq, ne, in, not_in, gt, ge, lt, le, is_null,
gt_col, ge_col, lt_col, le_col, times}"""

Window = Literal["period", "fiscal_year_to_date", "all_to_date"]


class _Measure(Strict):
    table: str
    time: str | None = Field(None, description="timestamp column that places a row in a period")
    where: Where = Field(default_factory=dict)
    window: Window = "period"


class CountMetric(_Measure):
    kind: Literal["count"]


class DistinctMetric(_Measure):
    kind: Literal["distinct"]
    column: str
    first_seen: bool = Field(False, description="count only values whose first ever row is in the period")


class SumMetric(_Measure):
    kind: Literal["sum"]
    column: str


class MeanMetric(_Measure):
    kind: Literal["mean"]
    column: str
    divide_by: str | None = Field(None, description="mean of column / divide_by, row by row")


class DurationMeanMetric(_Measure):
    """Mean time from ``start`` to ``end`` over the rows, e.g. sales cycle length."""

    kind: Literal["duration_mean"]
    start: str
    end: str
    unit: Literal["days", "hours"] = "days"


class RatioMetric(Strict):
    kind: Literal["ratio"]
    numerator: str
    denominator: str


class SlaShareMetric(_Measure):
    kind: Literal["sla_share"]
    start: str
    end: str
    within_hours: float = Field(gt=0)


class RateMetric(Strict):
    kind: Literal["rate"]
    of: str
    per: Literal["day", "weekday", "week", "month", "period"] = "period"
    per_head: bool = False
    head_where: Where = Field(default_factory=dict, description="which people count as heads")


class GrowthMetric(Strict):
    kind: Literal["growth"]
    of: str
    compound_from: str | None = Field(
        None, description="quarter label of the base: compound growth per quarter since then"
    )


class PercentileMetric(_Measure):
    """A percentile of a column, or of the time from ``start`` to ``end`` (p: 50 is the median)."""

    kind: Literal["percentile"]
    p: float = Field(ge=0, le=100)
    column: str | None = None
    start: str | None = None
    end: str | None = None
    unit: Literal["days", "hours"] = "days"

    @model_validator(mode="after")
    def _column_or_duration(self) -> PercentileMetric:
        if (self.column is None) == (self.start is None or self.end is None) or (
                self.column is not None and (self.start or self.end)):
            raise ValueError("expected either 'column' or both 'start' and 'end' (a duration)")
        return self


class CoverageMetric(_Measure):
    kind: Literal["coverage"]
    column: str
    reference: str
    reference_column: str
    reference_where: Where = Field(default_factory=dict)


class ConversionMetric(_Measure):
    kind: Literal["conversion"]
    entity: str
    stage_column: str
    from_stage: str
    to_stage: str | list[str]
    within_days: float = Field(gt=0)


class SnapshotMetric(Strict):
    kind: Literal["snapshot"]
    table: str
    start: str
    end: str | None = None
    where: Where = Field(default_factory=dict)


class HeadcountMetric(Strict):
    kind: Literal["headcount"]
    where: Where = Field(default_factory=dict)
    relative_to: str | None = Field(None, description="ISO date: value = headcount / headcount then")


class ManualMetric(Strict):
    kind: Literal["manual"]


class MilestoneMetric(Strict):
    kind: Literal["milestone"]


Metric = Annotated[
    Union[
        CountMetric,
        DistinctMetric,
        SumMetric,
        MeanMetric,
        DurationMeanMetric,
        PercentileMetric,
        RatioMetric,
        SlaShareMetric,
        RateMetric,
        GrowthMetric,
        CoverageMetric,
        ConversionMetric,
        SnapshotMetric,
        HeadcountMetric,
        ManualMetric,
        MilestoneMetric,
    ],
    Field(discriminator="kind"),
]


OWN_UNIT: dict[str, str] = {
    get_args(c.model_fields["kind"].annotation)[0]: c.model_fields["unit"].default
    for c in get_args(get_args(Metric)[0]) if "unit" in c.model_fields
}
"""Kinds that measure in a unit of their own (duration_mean: days or hours), with its default."""


class MetricDef(Strict):
    """A metric plus how it is shown; ``unit`` drives formatting only, except for a kind that measures in a
    unit of its own (``OWN_UNIT``): that one is shown in the unit it is measured in, so the two never differ."""

    definition: Metric
    unit: Literal["count", "percent", "ratio", "currency", "days", "hours", "number"] = "number"
    label_en: str | None = None
    label_zh: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_unit(cls, raw: Any) -> Any:
        """A unit written on either side (flat ``unit:``, ``definition.unit``) is the unit of both."""
        if not isinstance(raw, dict) or not isinstance(raw.get("definition"), dict):
            return raw
        body = raw["definition"]
        if body.get("kind") not in OWN_UNIT or (body.get("kind") == "percentile" and "start" not in body):
            return raw
        own, shown = body.get("unit"), raw.get("unit")
        own = own if own is not None else shown if shown is not None else OWN_UNIT[body["kind"]]
        return {**raw, "unit": own if shown is None else shown, "definition": {**body, "unit": own}}

    @field_validator("unit")
    @classmethod
    def _same_unit(cls, unit: str, info: ValidationInfo) -> str:
        d = info.data.get("definition")
        own = None if getattr(d, "column", None) is not None else getattr(d, "unit", None)  # a percentile of a column
        if own is not None and unit != own:
            kind = info.data["definition"].kind
            raise ValueError(f"expected {own!r}, the unit definition.unit measures in: a {kind} is shown in the "
                             "unit it is measured in, so write the unit once")
        return unit


class StatusBands(Strict):
    red_below: float = 0.4
    green_from: float = 0.7

    @model_validator(mode="after")
    def _ordered(self) -> StatusBands:
        if not 0 <= self.red_below <= self.green_from <= 1:
            raise ValueError("expected 0 <= red_below <= green_from <= 1")
        return self


class Company(Strict):
    id: str
    name: str
    name_en: str | None = None


class ReviewSettings(Strict):
    """How ``okr-report review`` judges the plan: the function the plan's owners belong to (so work of
    another function stands out), per team where it differs, and words added to the built-in lexicons."""

    function: str = Field("sales", description="the function of the plan's teams and people, e.g. sales")
    team_functions: dict[str, str] = Field(default_factory=dict, description="team id -> its function")
    max_krs_per_objective: int = Field(5, ge=1)
    lexicon: Lexicon = Lexicon()


class Workspace(Strict):
    """The whole okr.yaml."""

    company: Company
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    timezone: str = "UTC"
    locale: Literal["zh-CN", "en"] = "en"
    currency: str = "USD"
    output: str = "out"
    executives: list[str] = Field(default_factory=list)
    schedule_cron: str | None = Field(
        None, description="cron line for scheduled runs; default: 06:00 on the first day of each fiscal quarter"
    )
    schedule_hour: int = Field(6, ge=0, le=23)
    dask_address: str | None = Field(None, description="render on this Dask scheduler, e.g. tcp://10.0.0.5:8786")
    status_bands: StatusBands = StatusBands()
    history_quarters: int = Field(
        3, ge=0, le=8, description="earlier quarters each card compares with and draws trends from (0: none)")
    tables: dict[str, TableDecl] = Field(default_factory=dict)
    sources: dict[str, Source]
    metrics: dict[str, MetricDef]
    mail: dict[str, Any] = Field(default_factory=dict)
    review: ReviewSettings = ReviewSettings()
    confidence_scale: Literal[1, 10] = Field(
        1, description="the check-ins' confidence scale: 1 (0 to 1) or 10 (0 to 10)")
    forecast_quarters: int = Field(
        4, ge=0, le=8, description="earlier quarters a mid-quarter forecast learns seasonality from")
    leavers: Literal["count", "exclude"] = Field(
        "count", description="whether the KRs of people who left during the quarter count for their team: in its "
                             "value roll-ups and its members' average (count), or not (exclude)")

    @field_validator("metrics", mode="before")
    @classmethod
    def _wrap_metrics(cls, raw: Any) -> Any:
        """Let metrics be written flat (kind: ..., unit: ...) in YAML; ``unit`` there is the display unit, which
        ``MetricDef`` makes the measuring unit too for a kind that has one."""
        if not isinstance(raw, dict):
            return raw
        out = {}
        for name, body in raw.items():
            if isinstance(body, dict) and "definition" not in body:
                body = dict(body)
                meta = {k: body.pop(k) for k in ("unit", "label_en", "label_zh") if k in body}
                out[name] = {"definition": body, **meta}
            else:
                out[name] = body
        return out

    @model_validator(mode="after")
    def _required_sources(self) -> Workspace:
        if not any(s.table_name(n) == "plan" for n, s in self.sources.items()):
            raise ValueError("sources: a 'plan' source is required")
        return self

    def table_sources(self, table: str) -> list[tuple[str, Source]]:
        """(source name, source) of every export feeding ``table``, in the order written."""
        return [(n, s) for n, s in self.sources.items() if s.table_name(n) == table]

    def source_tables(self) -> list[str]:
        """Every table that has at least one source, in the order first written."""
        return list(dict.fromkeys(s.table_name(n) for n, s in self.sources.items()))
