"""What a run is about, decided before anything is read: the published variant, the scope, the reuse plan.

A quarter is published as its **final** version (the quarter closed, the workspace's own locale) and as
**variants** beside it, never over it: a mid-quarter view (``--as-of``) and another locale each have a folder
of their own. Every folder is what one fresh full run with its parameters writes; scope (``--team`` /
``--person``) only narrows delivery and the summary, never what is published.
These are plain decisions over values, so the command line can answer a mistake before any engine starts.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from transforms.calendar import Quarter, last_closed_quarter, parse_date_arg, parse_quarter, quarter_of
from transforms.problems import InputError, Problem

LOCALES = ("zh-CN", "en")


class ScopeKind(StrEnum):
    ALL = "all"
    TEAM = "team"
    PERSON = "person"


@dataclass(frozen=True)
class Scope:
    """Whose scorecards a run delivers and reports on: everyone, one team, or one person."""

    kind: ScopeKind = ScopeKind.ALL
    owner_id: str | None = None

    @property
    def team(self) -> str | None:
        return self.owner_id if self.kind is ScopeKind.TEAM else None

    @property
    def person(self) -> str | None:
        return self.owner_id if self.kind is ScopeKind.PERSON else None


@dataclass(frozen=True)
class Variant:
    """One published version of a quarter: final, or as of a day, in one locale."""

    quarter: Quarter
    as_of: pd.Timestamp | None
    locale: str
    default_locale: str

    @property
    def is_final(self) -> bool:
        return self.as_of is None and self.locale == self.default_locale

    @property
    def slug(self) -> str:
        """Folder name: ``FY2017-18-Q4``, ``FY2017-18-Q4.as-of-2018-02-14``, ``FY2017-18-Q4.en`` ..."""
        parts = [self.quarter.slug]
        if self.as_of is not None:
            parts.append(f"as-of-{self.as_of:%Y-%m-%d}")
        if self.locale != self.default_locale:
            parts.append(self.locale)
        return ".".join(parts)

    @property
    def label(self) -> str:
        """``FY2017-18 Q4``, ``FY2017-18 Q4 (as of 2018-02-14, en)``."""
        extra = ([f"as of {self.as_of:%Y-%m-%d}"] if self.as_of is not None else []) + (
            [self.locale] if self.locale != self.default_locale else [])
        return self.quarter.label + (f" ({', '.join(extra)})" if extra else "")


class VariantError(ValueError):
    """The quarter, as-of date or locale asked for cannot be published."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class VariantAsk:
    """The command line's words for a variant, before they are checked."""

    quarter: str | None = None
    as_of: str | None = None
    locale: str | None = None


def resolve_variant(ask: VariantAsk, fiscal_start_month: int, default_locale: str,
                    today: pd.Timestamp) -> Variant:
    """The variant a run publishes; ``--as-of`` implies its quarter and must lie within ``--quarter``.

    Without ``--as-of`` the quarter is graded as final once it has closed and as of today while it runs.
    """
    problems: list[Problem] = []
    locale = ask.locale or default_locale
    if locale not in LOCALES:
        problems.append(Problem("--locale", f"one of {', '.join(LOCALES)}", value=ask.locale))
    quarter = as_of = None
    if ask.quarter:
        try:
            quarter = parse_quarter(ask.quarter, fiscal_start_month)
        except ValueError as exc:
            problems.append(Problem("--quarter", str(exc)))
    if ask.as_of:
        try:
            as_of = parse_date_arg(ask.as_of, "--as-of")
        except InputError as exc:
            problems += exc.problems
    if as_of is not None and as_of > today:
        problems.append(Problem("--as-of", f"a day that has begun (today is {today:%Y-%m-%d})", value=ask.as_of))
    if quarter is not None and as_of is not None and not quarter.start <= as_of <= quarter.last_day:
        problems.append(Problem("--as-of", f"a day within {quarter.label} ({quarter.start:%Y-%m-%d} – "
                                           f"{quarter.last_day:%Y-%m-%d}), or leave out --quarter",
                                value=ask.as_of))
    if problems:
        raise VariantError(problems)
    if quarter is None:
        quarter = quarter_of(as_of, fiscal_start_month) if as_of is not None else \
            last_closed_quarter(today, fiscal_start_month)
    if as_of is None and quarter.start <= today <= quarter.last_day:
        as_of = today
    if quarter.start > today:
        raise VariantError([Problem("--quarter", f"a quarter that has begun (today is {today:%Y-%m-%d})",
                                    value=ask.quarter)])
    if as_of is not None and as_of >= quarter.last_day:
        as_of = None  # the whole quarter has elapsed: that is the final grade
    return Variant(quarter, as_of, locale, default_locale)


def resolve_team(text: str, teams: pd.DataFrame) -> str:
    """A team id from ``--team``: its id, or its name in either language (case and spacing ignored)."""
    ids = teams["team_id"].astype(str).tolist()
    if text in ids:
        return text
    wanted = _fold(text)
    for col in ("team_name", "team_name_en"):
        if col in teams.columns:
            hits = [tid for tid, name in zip(ids, teams[col]) if isinstance(name, str) and _fold(name) == wanted]
            if len(hits) == 1:
                return hits[0]
    hits = [tid for tid in ids if _fold(tid) == wanted]
    if len(hits) == 1:
        return hits[0]
    names = {tid: tid for tid in ids}
    for col in ("team_name", "team_name_en"):
        if col in teams.columns:
            names.update({str(n): tid for tid, n in zip(ids, teams[col]) if isinstance(n, str)})
    guess = difflib.get_close_matches(text, list(names), n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    listed = ", ".join(ids[:12]) + (f" (and {len(ids) - 12} more)" if len(ids) > 12 else "")
    raise VariantError([Problem("--team", f"a team id or name of the workspace: {listed}{hint}", value=text)])


def resolve_person(text: str, people: pd.DataFrame) -> str:
    """A person id from ``--person`` (ids only: names are not unique)."""
    ids = people["person_id"].astype(str)
    if text in set(ids):
        return text
    guess = difflib.get_close_matches(text, ids.tolist(), n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    raise VariantError([Problem("--person", f"a person id from the people directory{hint}", value=text)])


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class Fingerprint:
    """Everything a published variant depends on; equal fingerprints mean equal files."""

    config: dict
    inputs: dict[str, str]
    code: str
    variant: str
    as_of: str | None

    def digest(self) -> str:
        blob = json.dumps({"config": self.config, "inputs": self.inputs, "code": self.code,
                           "variant": self.variant, "as_of": self.as_of}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def card_hash(card: dict, render_digest: str, volatile: tuple[str, ...] = ("generated_at", "run_id")) -> str:
    """A scorecard's content and the code that lays it out: equal hashes mean equal HTML and PDF."""
    stable = {k: v for k, v in card.items() if k not in volatile}
    blob = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((render_digest + blob).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReusePlan:
    """Which scorecards are copied from the published version and which are rendered afresh."""

    hashes: dict[str, str]
    reuse: list[str]
    render: list[str]


def reuse_plan(cards: list[dict], render_digest: str, published: dict[str, str], force: bool = False) -> ReusePlan:
    """Reuse a published card only when its content hash is the one this run computes (never by scope)."""
    hashes = {c["path"]: card_hash(c, render_digest) for c in cards}
    reuse = [] if force else [p for p, h in hashes.items() if published.get(p) == h]
    kept = set(reuse)
    return ReusePlan(hashes, reuse, [p for p in hashes if p not in kept])


def in_scope(card: dict, scope: Scope) -> bool:
    """A card the scope is about: the team and its people (or the person), and the company roll-up."""
    if scope.kind is ScopeKind.ALL or card["tier"] == "company":
        return True
    if scope.kind is ScopeKind.TEAM:
        return card.get("team_id") == scope.owner_id
    return card["tier"] == "person" and card["owner_id"] == scope.owner_id


def outside_scope(cards: list[dict], rendered: list[str], scope: Scope) -> list[str]:
    """Scorecards a scoped run had to render although they are not its scope: their inputs changed too."""
    if scope.kind is ScopeKind.ALL:
        return []
    person_team = next((c.get("team_id") for c in cards if c["tier"] == "person" and c["owner_id"] == scope.owner_id),
                       None)
    done = set(rendered)
    out = []
    for c in cards:
        if c["path"] not in done:
            continue
        mine = in_scope(c, scope) or (scope.kind is ScopeKind.PERSON and c["tier"] == "team"
                                      and c["owner_id"] == person_team)
        if not mine:
            out.append(c["path"])
    return out
