"""A table from its sources: several exports unioned, an event log reduced to one row per key, and the
people and teams that owner columns imply when a workspace has no directory.

Each staged export keeps the row numbers the user sees as its index. A union of several exports indexes part
``k``'s rows ``k * ROW_SPAN + row``, so a problem found on the union can still be pointed back at the file
and row it came from (``relocate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from transforms.config import Source
from transforms.contracts import DIRECTORY, MEMBERSHIPS, Contract
from transforms.problems import Problem

ROW_SPAN = 1_000_000_000
"""Rows of the k-th export of a table are indexed from k * ROW_SPAN (no export has a billion rows)."""


@dataclass(frozen=True)
class KeptRows:
    """What reducing an event log did, for the lineage of every KR that reads it."""

    rows_read: int
    set_aside: int
    rule: str


@dataclass(frozen=True)
class Part:
    """One staged export of a table, with what is needed to point at its rows."""

    source_name: str
    source: Source
    frame: pd.DataFrame
    labels: dict[str, str]


def union(parts: list[Part]) -> pd.DataFrame:
    """The parts one below the other; a single part is the table as it is."""
    if len(parts) == 1:
        return parts[0].frame
    frames = []
    for k, part in enumerate(parts):
        frame = part.frame.copy(deep=False)
        frame.index = part.frame.index + k * ROW_SPAN
        frames.append(frame)
    return pd.concat(frames)


def place(parts: list[Part]) -> Callable[[int], str]:
    """How a row of the union is named in a message: 'row 5', or 'row 5 of leads_2024.csv' for several files."""
    if len(parts) == 1:
        return lambda r: f"row {r}"
    return lambda r: f"row {r % ROW_SPAN} of {parts[r // ROW_SPAN].source.path}"


def relocate(problems: list[Problem], parts: list[Part]) -> list[Problem]:
    """Problems found on a union of several exports, pointed at the file, sheet, row and header they came from."""
    if len(parts) == 1:
        return problems
    out = []
    for p in problems:
        part = parts[p.row // ROW_SPAN] if p.row is not None else parts[0]
        out.append(replace(p, file=part.source.path, sheet=part.source.sheet,
                           row=None if p.row is None else p.row % ROW_SPAN,
                           column=part.labels.get(p.column, p.column) if p.column else None))
    return out


def keep_rows(df: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, int]:
    """An event log reduced to one row per key: the latest (or first) by the ordering column; rows with equal
    times keep the file's order (the later line is the later event). Returns the table and the rows set aside.

    Rows without a complete key are kept (the key check reports them); a row without an ordering value is never
    the latest (nor the first) of its key."""
    key = list(contract.key)
    if not key or contract.keep_by is None or df.empty:
        return df, 0
    complete = df[key].notna().all(axis=1).to_numpy()
    keyed = df[complete]
    ordered = keyed.sort_values(contract.keep_by, kind="stable",
                                na_position="first" if contract.keep_last else "last")
    kept = ordered[~ordered.duplicated(key, keep="last" if contract.keep_last else "first")]
    out = pd.concat([kept, df[~complete]]).sort_index() if not complete.all() else kept.sort_index()
    return out, len(df) - len(out)


def owned_tables(tables: Mapping[str, pd.DataFrame], contracts: Mapping[str, Contract]) -> list[str]:
    """Tables whose rows belong to a person or a team."""
    return [n for n in tables if n in contracts and n not in DIRECTORY
            and (contracts[n].person or contracts[n].team)]


def derived_people(tables: Mapping[str, pd.DataFrame], contracts: Mapping[str, Contract],
                   people: Contract) -> pd.DataFrame:
    """A people directory from the owner ids of the fact tables: names are the ids, no email; a person's team is
    the team most of their rows name (on ties the later row's), when a table carries a team column."""
    ids, pairs = [], []
    for name in owned_tables(tables, contracts):
        c, df = contracts[name], tables[name]
        if c.person is None:
            continue
        ids.append(df[c.person].dropna().astype(str))
        if c.team is not None:
            pairs.append(pd.DataFrame({"person_id": df[c.person].astype(object), "team_id": df[c.team].astype(object)}
                                      ).dropna())
    person_ids = pd.Index(pd.concat(ids).unique() if ids else [], dtype=object).sort_values()
    out = pd.DataFrame({col: pd.Series(np.nan, index=range(len(person_ids)), dtype=_dtype(spec.dtype))
                        for col, spec in people.columns.items()})
    out["person_id"] = person_ids.to_numpy()
    out["person_name"] = person_ids.to_numpy()
    if pairs:
        both = pd.concat(pairs, ignore_index=True).astype(str)
        counted = both.assign(n=1, last=np.arange(len(both))).groupby(["person_id", "team_id"]).agg(
            n=("n", "sum"), last=("last", "max"))
        best = counted.reset_index().sort_values(["n", "last"]).drop_duplicates("person_id", keep="last")
        out["team_id"] = out["person_id"].map(best.set_index("person_id")["team_id"]).astype(object)
    return out


def _dtype(dtype: str) -> str:
    return {"str": "object", "int": "float64", "float": "float64", "datetime": "datetime64[ns]",
            "bool": "boolean"}[dtype]


def derived_teams(tables: Mapping[str, pd.DataFrame], contracts: Mapping[str, Contract]) -> pd.DataFrame:
    """A teams table from every team id the workspace names: people, memberships and fact tables' team
    columns (names are the ids)."""
    found = []
    for name in ("people", MEMBERSHIPS):
        if name in tables and "team_id" in tables[name].columns:
            found.append(tables[name]["team_id"])
    for name in owned_tables(tables, contracts):
        team = contracts[name].team
        if team is not None:
            found.append(tables[name][team])
    ids = (pd.concat([s.dropna().astype(str) for s in found]).drop_duplicates().sort_values()
           if found else pd.Series([], dtype=object))
    return pd.DataFrame({"team_id": ids.to_numpy(), "team_name": ids.to_numpy(), "team_name_en": ids.to_numpy(),
                         "lead_id": np.nan})


def membership_at(memberships: pd.DataFrame, person_ids: pd.Series, times: pd.Series) -> pd.Series:
    """The team each (person, time) pair belonged to: the membership that started on or before the time and had
    not ended (``ended_at`` is the last day in the team). NaN where no membership covers it."""
    out = pd.Series(np.nan, index=person_ids.index, dtype=object)
    ok = person_ids.notna() & times.notna()
    if memberships.empty or not ok.any():
        return out
    asks = pd.DataFrame({"person_id": person_ids[ok].astype(str).to_numpy(),
                         "at": times[ok].to_numpy().astype("datetime64[ns]"),
                         "pos": np.flatnonzero(ok.to_numpy())}).sort_values("at", kind="stable")
    spans = memberships.dropna(subset=["person_id", "started_at"]).assign(
        person_id=lambda m: m["person_id"].astype(str), started_at=lambda m: m["started_at"].astype("datetime64[ns]"),
        ended_at=lambda m: m["ended_at"].astype("datetime64[ns]")).sort_values("started_at", kind="stable")
    found = pd.merge_asof(asks, spans[["person_id", "team_id", "started_at", "ended_at"]], left_on="at",
                          right_on="started_at", by="person_id", direction="backward")
    ended = found["ended_at"]
    live = found["team_id"].notna() & (ended.isna() | (found["at"] < ended.dt.normalize() + pd.Timedelta(days=1)))
    values = out.to_numpy(copy=True)
    values[found.loc[live, "pos"].to_numpy()] = found.loc[live, "team_id"].astype(str).to_numpy()
    return pd.Series(values, index=person_ids.index, dtype=object)


def overlapping_memberships(memberships: pd.DataFrame) -> list[tuple[int, int]]:
    """(row, earlier row) where a person's membership starts before their previous one ended."""
    m = memberships.dropna(subset=["person_id", "started_at"]).sort_values(["person_id", "started_at"],
                                                                           kind="stable")
    prev_end = m.groupby("person_id")["ended_at"].shift()
    prev_row = pd.Series(m.index, index=m.index).groupby(m["person_id"]).shift()
    has_prev = prev_row.notna()
    clash = has_prev & (prev_end.isna() | (m["started_at"] <= prev_end))
    return [(int(r), int(prev_row[r])) for r in m.index[clash.to_numpy()]]
