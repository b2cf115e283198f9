"""The run's pure decisions: which variant a run publishes, which team a name means, which cards are reused."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.calendar import Quarter
from transforms.runplan import (
    Scope,
    ScopeKind,
    VariantAsk,
    VariantError,
    card_hash,
    outside_scope,
    resolve_person,
    resolve_team,
    resolve_variant,
    reuse_plan,
)

APRIL = 4
TODAY = pd.Timestamp("2026-12-01")  # FY2026-27 Q3 (Oct-Dec 2026) is running


def variant(quarter=None, as_of=None, locale=None, today=TODAY):
    return resolve_variant(VariantAsk(quarter, as_of, locale), APRIL, "zh-CN", today)


def problems(**kw) -> list[str]:
    with pytest.raises(VariantError) as err:
        variant(**kw)
    return [str(p) for p in err.value.problems]


def test_a_closed_quarter_is_the_final_variant_in_the_workspace_locale():
    v = variant("FY2017-18-Q4")
    assert (v.quarter, v.as_of, v.locale, v.is_final) == (Quarter(2017, 4, APRIL), None, "zh-CN", True)
    assert v.slug == "FY2017-18-Q4"
    assert v.label == "FY2017-18 Q4"


def test_as_of_alone_implies_the_quarter_holding_it():
    v = variant(as_of="2018-02-14")
    assert v.quarter == Quarter(2017, 4, APRIL)
    assert v.as_of == pd.Timestamp("2018-02-14")
    assert v.slug == "FY2017-18-Q4.as-of-2018-02-14"
    assert not v.is_final


def test_another_locale_is_a_variant_and_combines_with_as_of():
    assert variant("FY2017-18-Q4", locale="en").slug == "FY2017-18-Q4.en"
    assert variant(as_of="2018-02-14", locale="en").slug == "FY2017-18-Q4.as-of-2018-02-14.en"
    assert variant(as_of="2018-02-14", locale="en").label == "FY2017-18 Q4 (as of 2018-02-14, en)"


def test_as_of_on_the_last_day_of_the_quarter_is_the_final_grade():
    assert variant("FY2017-18-Q4", as_of="2018-03-31").is_final


def test_without_arguments_the_last_closed_quarter_and_a_running_one_as_of_today():
    assert variant().slug == "FY2026-27-Q2"
    running = variant("FY2026-27-Q3")
    assert running.as_of == TODAY
    assert running.slug == "FY2026-27-Q3.as-of-2026-12-01"


def test_as_of_outside_the_given_quarter_is_refused():
    assert problems(quarter="FY2017-18-Q4", as_of="2017-11-01") == [
        "--as-of: value '2017-11-01': a day within FY2017-18 Q4 (2018-01-01 – 2018-03-31), or leave out --quarter"]


def test_malformed_dates_quarters_and_locales_are_refused_together():
    assert problems(quarter="FY2017-18-Q5", as_of="2018-13-01", locale="fr") == [
        "--locale: value 'fr': one of zh-CN, en",
        "--quarter: quarter 'FY2017-18-Q5' is not understood; expected e.g. 'FY2017-18-Q4', '2017-Q4' or '2017Q4'",
        "--as-of: value '2018-13-01': expected a date YYYY-MM-DD (there is no month 13)",
    ]
    assert problems(as_of="14/02/2018") == [
        "--as-of: value '14/02/2018': expected a date YYYY-MM-DD"]


def test_future_days_and_quarters_are_refused():
    assert problems(as_of="2027-01-05") == ["--as-of: value '2027-01-05': a day that has begun (today is 2026-12-01)"]
    assert problems(quarter="FY2027-28-Q1") == [
        "--quarter: value 'FY2027-28-Q1': a quarter that has begun (today is 2026-12-01)"]


TEAMS = pd.DataFrame({"team_id": ["east", "south", "T3"], "team_name": ["华东大区", "华南大区", "East Coast"],
                      "team_name_en": ["East China", "South China", None]})


def test_a_team_is_named_by_id_or_by_its_name_in_either_language():
    assert resolve_team("east", TEAMS) == "east"
    assert resolve_team("华南大区", TEAMS) == "south"
    assert resolve_team("  east   CHINA ", TEAMS) == "east"
    assert resolve_team("east coast", TEAMS) == "T3"
    assert resolve_team("SOUTH", TEAMS) == "south"


def test_an_unknown_team_lists_the_ids_and_a_close_match():
    with pytest.raises(VariantError) as err:
        resolve_team("eest", TEAMS)
    assert [str(p) for p in err.value.problems] == [
        "--team: value 'eest': a team id or name of the workspace: east, south, T3; did you mean 'east'?"]


def test_an_unknown_person_is_refused_with_a_close_match():
    people = pd.DataFrame({"person_id": ["XH0001", "XH0002"]})
    assert resolve_person("XH0002", people) == "XH0002"
    with pytest.raises(VariantError) as err:
        resolve_person("XH002", people)
    assert [str(p) for p in err.value.problems] == [
        "--person: value 'XH002': a person id from the people directory; did you mean 'XH0002'?"]


CARDS = [
    {"tier": "company", "owner_id": "acme", "team_id": None, "path": "company", "score": 0.5},
    {"tier": "team", "owner_id": "east", "team_id": "east", "path": "teams/east", "score": 0.4},
    {"tier": "person", "owner_id": "P1", "team_id": "east", "path": "people/P1", "score": 0.3},
    {"tier": "person", "owner_id": "P2", "team_id": "south", "path": "people/P2", "score": 0.2},
]


def test_cards_are_reused_only_when_their_content_and_layout_are_unchanged():
    published = {c["path"]: card_hash(c, "layout-1") for c in CARDS}
    edited = [dict(c) for c in CARDS]
    edited[3]["score"] = 0.25  # P2's numbers changed; nobody asked for P2
    plan = reuse_plan(edited, "layout-1", published)
    assert plan.render == ["people/P2"]
    assert plan.reuse == ["company", "teams/east", "people/P1"]
    assert reuse_plan(CARDS, "layout-2", published).render == [c["path"] for c in CARDS]
    assert reuse_plan(CARDS, "layout-1", published, force=True).reuse == []


def test_the_run_id_and_generation_time_do_not_make_a_card_different():
    card = {**CARDS[0], "run_id": "r1", "generated_at": "2026-12-01 08:00"}
    assert card_hash(card, "x") == card_hash({**card, "run_id": "r2", "generated_at": "2026-12-02 09:00"}, "x")


def test_cards_rendered_outside_a_scope_are_reported():
    rendered = ["company", "teams/east", "people/P1", "people/P2"]
    assert outside_scope(CARDS, rendered, Scope(ScopeKind.TEAM, "east")) == ["people/P2"]
    assert outside_scope(CARDS, rendered, Scope(ScopeKind.PERSON, "P1")) == ["people/P2"]
    assert outside_scope(CARDS, rendered, Scope()) == []
