"""Tables: the columns every export is mapped onto, written down once.

The canonical tables below are presets; ``okr.yaml`` may extend them or declare tables of its own under
``tables:`` (``table_contracts`` merges the two). Staging renames and casts an export to its table's contract;
metrics only ever name a table's columns. Validation (required columns, types, keys, allowed values, ranges)
reads the same contract, whether preset or declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from transforms.config import TableDecl, Workspace

DType = Literal["str", "int", "float", "datetime", "bool"]


@dataclass(frozen=True)
class Col:
    dtype: DType
    required: bool = True
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    columns: dict[str, Col]
    key: tuple[str, ...] = ()
    description: str = ""
    owner_column: str | None = "person_id"
    extra: dict[str, str] = field(default_factory=dict)
    person: str | None = None
    """The column holding the owning person's id (None: rows count for teams or the company only)."""
    team: str | None = None
    """The column holding the owning team's id (None: a row counts for its person's team)."""
    time: str | None = None
    """The time column of metrics on this table that name none."""
    links: dict[str, str] = field(default_factory=dict)
    """column -> table whose key it holds: look-ups ``<table or column>.<column>`` follow these."""
    keep_by: str | None = None
    """An event log: one row per key is kept, ordered by this column ..."""
    keep_last: bool = True
    """... the latest one (or the first)."""
    declared: bool = False

    @property
    def required(self) -> list[str]:
        return [c for c, spec in self.columns.items() if spec.required]

    def keep_text(self) -> str:
        """How an event log is reduced, in words (for lineage)."""
        which = "latest" if self.keep_last else "first"
        return f"the {which} row per {' + '.join(self.key)} by {self.keep_by}"


def _c(dtype: DType, **kw: object) -> Col:
    return Col(dtype, **kw)  # type: ignore[arg-type]


LOCALES = ("zh-CN", "en")
"""The languages a scorecard and its email can be written in (people.locale: a person's own)."""
LEAD_STAGES = ("prospect", "mql", "sql", "won", "lost")
DEAL_STAGES = ("open", "won", "lost")
OUTCOMES = ("positive", "neutral", "negative")

CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in [
        Contract(
            "people",
            {
                "person_id": _c("str", nullable=False),
                "person_name": _c("str", nullable=False),
                "email": _c("str", required=False),
                "team_id": _c("str"),
                "role": _c("str", required=False),
                "manager_id": _c("str", required=False),
                "region_id": _c("str", required=False),
                "started_at": _c("datetime", required=False),
                "ended_at": _c("datetime", required=False),
                "locale": _c("str", required=False, allowed=LOCALES),
            },
            key=("person_id",),
            description="People directory: one row per person; headcount over time comes from the dates.",
        ),
        Contract(
            "teams",
            {
                "team_id": _c("str", nullable=False),
                "team_name": _c("str", required=False),
                "team_name_en": _c("str", required=False),
                "lead_id": _c("str", required=False),
            },
            key=("team_id",),
            owner_column=None,
            description="Teams; derived from people.team_id when no teams export is configured.",
        ),
        Contract(
            "regions",
            {
                "region_id": _c("str", nullable=False),
                "region_name": _c("str", required=False),
                "region_name_en": _c("str", required=False),
            },
            key=("region_id",),
            owner_column=None,
            description="Reference list of the country's regions (coverage denominators).",
        ),
        Contract(
            "leads",
            {
                "lead_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "region_id": _c("str", required=False),
                "source": _c("str", required=False),
                "created_at": _c("datetime", nullable=False),
                "closed_at": _c("datetime", required=False),
            },
            key=("lead_id",),
            description="Leads as assigned to a salesperson.",
        ),
        Contract(
            "lead_stages",
            {
                "lead_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "stage": _c("str", nullable=False, allowed=LEAD_STAGES),
                "changed_at": _c("datetime", nullable=False),
                "is_error": _c("bool", required=False),
            },
            key=("lead_id", "stage"),
            description="Lead stage history: one row per lead and stage reached.",
        ),
        Contract(
            "activities",
            {
                "activity_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "lead_id": _c("str", required=False),
                "customer_id": _c("str", required=False),
                "activity_type": _c("str", nullable=False),
                "outcome": _c("str", required=False, allowed=OUTCOMES),
                "occurred_at": _c("datetime", nullable=False),
            },
            key=("activity_id",),
            description="Calls, emails, meetings, demos and pitches with their outcome.",
        ),
        Contract(
            "deals",
            {
                "deal_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "customer_id": _c("str", required=False),
                "product_id": _c("str", required=False),
                "region_id": _c("str", required=False),
                "stage": _c("str", nullable=False, allowed=DEAL_STAGES),
                "amount": _c("float", required=False, min_value=0),
                "engaged_at": _c("datetime", required=False),
                "closed_at": _c("datetime", required=False),
                "is_cross_sell": _c("bool", required=False),
            },
            key=("deal_id",),
            description="Deals / opportunities; amount in the workspace currency.",
        ),
        Contract(
            "customers",
            {
                "customer_id": _c("str", nullable=False),
                "customer_name": _c("str", required=False),
                "person_id": _c("str", required=False),
                "region_id": _c("str", required=False),
                "first_purchase_at": _c("datetime", required=False),
            },
            key=("customer_id",),
        ),
        Contract(
            "enquiries",
            {
                "enquiry_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "received_at": _c("datetime", nullable=False),
                "first_response_at": _c("datetime"),
            },
            key=("enquiry_id",),
            description="Website enquiries with the time of the first response.",
        ),
        Contract(
            "signups",
            {
                "signup_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "signed_up_at": _c("datetime", nullable=False),
                "demo_at": _c("datetime"),
                "source": _c("str", required=False),
            },
            key=("signup_id",),
        ),
        Contract(
            "complaints",
            {
                "complaint_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "customer_id": _c("str", required=False),
                "opened_at": _c("datetime", nullable=False),
                "resolved_at": _c("datetime"),
                "resolution": _c("str", required=False),
            },
            key=("complaint_id",),
        ),
        Contract(
            "distributors",
            {
                "distributor_id": _c("str", nullable=False),
                "team_id": _c("str"),
                "region_id": _c("str", required=False),
                "joined_at": _c("datetime", nullable=False),
            },
            key=("distributor_id",),
            owner_column="team_id",
        ),
        Contract(
            "distributor_sales",
            {
                "distributor_id": _c("str", nullable=False),
                "team_id": _c("str"),
                "month_at": _c("datetime", nullable=False),
                "sales_amount": _c("float", min_value=0),
                "target_amount": _c("float", min_value=0),
                "commission_amount": _c("float", required=False, min_value=0),
            },
            key=("distributor_id", "month_at"),
            owner_column="team_id",
            description="Monthly sales of each distributor against its target.",
        ),
        Contract(
            "newsletter_sends",
            {
                "send_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "sent_at": _c("datetime", nullable=False),
                "recipients": _c("int", min_value=0),
                "clicks": _c("int", min_value=0),
            },
            key=("send_id",),
        ),
        Contract(
            "web_visits",
            {
                "person_id": _c("str"),
                "visited_on": _c("datetime", nullable=False),
                "source": _c("str", nullable=False),
                "visits": _c("int", min_value=0),
            },
            key=("person_id", "visited_on", "source"),
            description="Daily visits to each salesperson's tracked pages, by traffic source.",
        ),
        Contract(
            "surveys",
            {
                "response_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "customer_id": _c("str", required=False),
                "responded_at": _c("datetime", nullable=False),
                "feature_x_rating": _c("float", required=False),
                "best_other_feature_rating": _c("float", required=False),
                "wants_feature_y": _c("bool", required=False),
                "is_satisfied": _c("bool", required=False),
                "is_efficiency_positive": _c("bool", required=False),
                "has_identified_need": _c("bool", required=False),
            },
            key=("response_id",),
        ),
        Contract(
            "trainings",
            {
                "training_id": _c("str", nullable=False),
                "team_id": _c("str"),
                "held_at": _c("datetime", nullable=False),
                "topic": _c("str", required=False),
            },
            key=("training_id",),
            owner_column="team_id",
        ),
        Contract(
            "events",
            {
                "event_id": _c("str", nullable=False),
                "person_id": _c("str"),
                "event_name": _c("str", required=False),
                "attended_on": _c("datetime", nullable=False),
                "demos": _c("int", required=False, min_value=0),
                "meetings": _c("int", required=False, min_value=0),
                "contacts": _c("int", required=False, min_value=0),
            },
            key=("event_id", "person_id", "attended_on"),
            description="Trade-event attendance: one row per person and event day.",
        ),
        Contract(
            "plan",
            {
                "tier": _c("str", nullable=False, allowed=("company", "team", "person")),
                "owner_id": _c("str", nullable=False),
                "objective_id": _c("str", nullable=False),
                "objective_title_en": _c("str", required=False),
                "objective_title_zh": _c("str", required=False),
                "parent_objective_id": _c("str", required=False),
                # the objective's weight in its owner's score: one value per objective and owner, on
                # every KR row of it (blank everywhere = the owner's objectives count equally)
                "objective_weight": _c("float", required=False, min_value=0),
                "kr_id": _c("str", nullable=False),
                "kr_title_en": _c("str", required=False),
                "kr_title_zh": _c("str", required=False),
                "metric": _c("str", nullable=False),
                "direction": _c(
                    "str", required=False, allowed=("increase", "decrease", "at_least", "at_most")
                ),
                "baseline": _c("float", required=False),
                "target": _c("float", nullable=False),
                "weight": _c("float", required=False, min_value=0),
                "quarterly_value": _c(
                    "str",
                    required=False,
                    allowed=("period", "mean_of_months", "last_month", "months_on_target"),
                ),
                "due_quarter": _c("int", required=False, min_value=1),
                "rollup": _c("str", required=False, allowed=("score", "value")),
                "rollup_from": _c("str", required=False),
                "partial_credit": _c("bool", required=False),
            },
            key=("tier", "owner_id", "kr_id"),
            owner_column=None,
            description="The OKR plan: one row per KR; owner_id '*' means every owner of the tier.",
        ),
        Contract(
            "checkins",
            {
                "kr_id": _c("str", nullable=False),
                "owner_id": _c("str", nullable=False),
                "checked_at": _c("datetime", nullable=False),
                "value": _c("float"),
                "confidence": _c("float", required=False),
                "note": _c("str", required=False),
            },
            key=("kr_id", "owner_id", "checked_at"),
            owner_column=None,
            description="Manual check-ins: the latest value up to the period end counts.",
        ),
        Contract(
            "adjustments",
            {
                "quarter": _c("str", nullable=False),
                "kr_id": _c("str", nullable=False),
                "owner_id": _c("str", nullable=False),
                "tier": _c("str", required=False, allowed=("company", "team", "person")),
                "adjusted_score": _c("float", nullable=False, min_value=0),
                "reason": _c("str", nullable=False),
                "adjusted_by": _c("str", nullable=False),
            },
            key=("quarter", "tier", "owner_id", "kr_id"),
            owner_column=None,
            description="Adjusted grades: a KR's quarter-end score in the named quarter replaced by a reviewed one, "
                        "with the reason and who decided it (the computed score is kept beside it).",
        ),
    ]
}


MEMBERSHIPS = "team_memberships"
DIRECTORY = ("people", "teams", "regions", "plan", "checkins", "adjustments", MEMBERSHIPS)
"""Tables that describe the organisation or the plan, not activity: never owners of metric rows."""

CONTRACTS[MEMBERSHIPS] = Contract(
    MEMBERSHIPS,
    {
        "person_id": _c("str", nullable=False),
        "team_id": _c("str", nullable=False),
        "started_at": _c("datetime", nullable=False),
        "ended_at": _c("datetime", required=False),
    },
    key=("person_id", "started_at"),
    owner_column=None,
    description="Who was in which team when: a row counts for the team its person was in at the row's time.",
)


def _with_owners(c: Contract) -> Contract:
    """A preset's owner columns: person_id and team_id where the table has them (the people directory and the
    plan are not owned)."""
    if c.name in DIRECTORY:
        return c
    return replace(c, person="person_id" if "person_id" in c.columns else None,
                   team="team_id" if "team_id" in c.columns else None)


PRESETS: dict[str, Contract] = {name: _with_owners(c) for name, c in CONTRACTS.items()}


def _column(decl) -> Col:
    allowed = None if decl.allowed is None else tuple(str(v) if decl.type == "str" else v for v in decl.allowed)
    return Col(decl.type, required=decl.required, nullable=decl.nullable, allowed=allowed,  # type: ignore[arg-type]
               min_value=decl.min)


def declared_contract(name: str, decl: TableDecl) -> Contract:
    """A declaration as a contract: a preset it names is extended (or replaced), any other name is new."""
    base = PRESETS.get(name)
    columns = dict(base.columns) if base is not None and not decl.replace else {}
    columns.update({col: _column(d) for col, d in decl.columns.items()})
    start = base if base is not None and not decl.replace else Contract(name, {}, owner_column=None)
    key = tuple(decl.key) if decl.key is not None else tuple(k for k in start.key if k in columns)
    keep = decl.keep
    return replace(
        start, columns=columns, key=key, description=decl.description or start.description,
        person=decl.person or (start.person if start.person in columns else None),
        team=decl.team or (start.team if start.team in columns else None),
        time=decl.time or start.time, links={**start.links, **decl.links},
        keep_by=keep.by if keep else None, keep_last=keep.last if keep else True, declared=True,
    )


def table_contracts(ws: Workspace) -> dict[str, Contract]:
    """Every table a workspace can use: the presets, with its declarations merged in."""
    out = dict(PRESETS)
    for name, decl in ws.tables.items():
        out[name] = declared_contract(name, decl)
    return out


class PathError(ValueError):
    """A look-up path that does not lead to a column (the message says what was expected)."""


def resolve_path(contracts: dict[str, Contract], table: str, path: str) -> list[tuple[str, str]]:
    """The hops of a column path: ``[(table, column)]`` for a plain column, or one ``(table, link column)`` per
    link followed and then ``(table, column)``, e.g. deals ``sellers.state`` -> [(deals, seller_id),
    (sellers, state)]. A hop names a link column or the table it links to (when one link leads there)."""
    contract = contracts[table]
    if path in contract.columns or "." not in path:
        if path not in contract.columns:
            raise PathError(f"expected a column of the {table} table")
        return [(table, path)]
    head, rest = path.split(".", 1)
    if head in contract.links:
        link = head
    else:
        via = [c for c, t in contract.links.items() if t == head]
        if len(via) != 1:
            known = ", ".join(f"{c} -> {t}" for c, t in contract.links.items()) or "none"
            why = "several links lead there; name the link column instead" if via else f"its links are: {known}"
            raise PathError(f"expected a column of the {table} table, or a look-up through one of its links "
                               f"(<link column or linked table>.<column>); {head!r} is not a link ({why})")
        link = via[0]
    target = contract.links[link]
    if target not in contracts:
        raise PathError(f"expected a link to a known table; {table}.links.{link} names {target!r}")
    return [(table, link)] + resolve_path(contracts, target, rest)
