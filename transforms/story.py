"""Page one of a scorecard: where the owner stands, why, and what to do next.

Everything here is a plain function of the rows the engine graded (this quarter's KRs and the earlier
quarters' points in ``History``); a card shows these numbers as they are, never re-derived in a template.
A KR's *share* is the part of the owner's score it carries (its objective's share times its share within
the objective), so ``share * score`` is the points it adds to the owner's score and ``share * (1 - score)``
the points it leaves on the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from transforms.history import History, series

FLAT = 0.005  # a change smaller than this is shown as "flat" (scores show two decimals)
TOP = 3
GRADED = ("red", "yellow", "green")


def _num(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def arrow(delta: float | None) -> str:
    """up / down / flat for a change in score."""
    if delta is None or abs(delta) < FLAT:
        return "flat"
    return "up" if delta > 0 else "down"


@dataclass(frozen=True)
class OwnerKey:
    tier: str
    owner_id: str

    def where(self) -> dict[str, str]:
        return {"tier": self.tier, "owner_id": self.owner_id}


def score_history(history: History, owner: OwnerKey, score: float | None, status: str,
                  quarter_label: str) -> list[dict]:
    """The owner's score in each earlier quarter computed, then this quarter's (oldest first)."""
    points = [{"quarter": q, "value": v, "status": s, "is_current": False}
              for q, v, s in series(history.owners, owner.where(), "score")]
    return points + [{"quarter": quarter_label, "value": score, "status": status, "is_current": True}]


def change(points: list[dict], previous_quarter: str) -> dict | None:
    """This quarter against the previous one; None when the owner has no point for ``previous_quarter``."""
    if len(points) < 2 or points[-2]["quarter"] != previous_quarter:
        return None
    before, now = points[-2]["value"], points[-1]["value"]
    delta = None if before is None or now is None else now - before
    return {"previous_quarter": points[-2]["quarter"], "previous_score": before, "delta": delta,
            "arrow": arrow(delta)}


def kr_history(history: History, owner: OwnerKey, kr_id: str) -> list[tuple[str, float | None, str]]:
    """One KR's actual value in each earlier quarter of the same owner (oldest first)."""
    return series(history.krs, {**owner.where(), "kr_id": kr_id}, "actual")


def _lost(r: dict) -> float:
    share, score = _num(r.get("share")), _num(r.get("score"))
    return 0.0 if share is None or score is None else share * (1.0 - score)


def focus(records: list[dict], titles: dict[str, dict[str, str]], locale: str) -> list[dict]:
    """The graded red and yellow KRs that leave the most points on the table, most first (at most three)."""
    cand = [r for r in records if str(r["status"]) in ("red", "yellow")]
    cand.sort(key=lambda r: (-_lost(r), _num(r.get("score")) or 0.0, str(r["kr_id"])))
    return [{"kr_id": str(r["kr_id"]), "titles": titles[str(r["kr_id"])], "title": titles[str(r["kr_id"])][locale],
             "unit": str(r["unit"]),
             "actual": _num(r.get("actual")), "target": _num(r.get("target")), "score": _num(r.get("score")),
             "status": str(r["status"])} for r in cand[:TOP]]


def short_by(r: dict) -> float | None:
    """How far the actual is from the target, in the KR's unit (None once it is reached or unknown)."""
    actual, target = _num(r.get("actual")), _num(r.get("target"))
    if actual is None or target is None:
        return None
    gap = actual - target if str(r["direction"]) in ("decrease", "at_most") else target - actual
    return gap if gap > 0 else None


def movers(records: list[dict], previous: pd.DataFrame, owner: OwnerKey) -> dict[str, list[dict]]:
    """The KRs whose score moved the owner's score most since the previous quarter, up and down: the change in
    the KR's score times the share it carries now (a KR whose weight alone changed has not moved)."""
    prev = previous[(previous["tier"] == owner.tier) & (previous["owner_id"].astype(str) == owner.owner_id)]
    before = {str(k): (_num(sh), _num(sc)) for k, sh, sc in zip(prev["kr_id"], prev["share"], prev["score"])}
    before = {k: v for k, v in before.items() if v[1] is not None}
    moves = []
    for r in records:
        kr = str(r["kr_id"])
        share, score = _num(r.get("share")), _num(r.get("score"))
        if kr not in before or share is None or score is None:
            continue
        b_score = before[kr][1]
        delta = share * (score - b_score)  # type: ignore[operator]
        if abs(delta) >= FLAT:
            moves.append({"kr_id": kr, "points": delta, "arrow": arrow(delta), "score": score,
                          "previous_score": b_score})
    up = sorted((m for m in moves if m["points"] > 0), key=lambda m: -m["points"])[:TOP]
    down = sorted((m for m in moves if m["points"] < 0), key=lambda m: m["points"])[:TOP]
    return {"up": up, "down": down}


def behind_pace(records: list[dict]) -> list[dict]:
    """Mid-quarter: the KRs at risk or off track by now (cumulative ones judged against the pace expected by
    now, the others as they stand), the most points at stake first, with the expected score where there is one."""
    out = []
    for r in records:
        score = _num(r.get("score"))
        if score is None or str(r["status"]) not in ("red", "yellow"):
            continue
        out.append({"kr_id": str(r["kr_id"]), "score": score, "expected_score": _num(r.get("expected_score")),
                    "status": str(r["status"]), "lost": _lost(r)})
    out.sort(key=lambda m: (-m["lost"], m["score"], m["kr_id"]))
    return out[:TOP]


def members_rollup(member_scores: list[float | None], statuses: list[str]) -> dict:
    """The plain mean of the members' scores (teams on the company card, people on a team card), for beside
    the owner's own score: it is not part of that score."""
    scored = [s for s in member_scores if s is not None]
    return {"mean": sum(scored) / len(scored) if scored else None, "members": len(member_scores),
            "with_data": len(scored),
            "at_risk": sum(s in ("red", "yellow") for s in statuses)}


HOW_MADE = {
    "zh-CN": {
        "company": "公司得分 = 公司自己的 {krs} 个关键结果（{objectives} 个目标）按权重计算的得分{left}；"
                   "各团队的得分不计入。",
        "team": "团队得分 = 团队自己的 {krs} 个关键结果（{objectives} 个目标）按权重计算的得分{left}；"
                "成员的得分不计入。",
        "person": "个人得分 = 本人的 {krs} 个关键结果（{objectives} 个目标）按权重计算的得分{left}。",
        "left": "（{n} 个无数据的关键结果不计入）",
    },
    "en": {
        "company": "The company's score is the weighted score of its own {krs} {kr_word} ({objectives} {o_word})"
                   "{left}; the teams' scores do not enter it.",
        "team": "The team's score is the weighted score of its own {krs} {kr_word} ({objectives} {o_word})"
                "{left}; its members' scores do not enter it.",
        "person": "The score is the weighted score of this person's {krs} {kr_word} ({objectives} {o_word}){left}.",
        "left": " ({n} without data not counted)",
    },
}


def how_made(tier: str, krs: int, objectives: int, no_data: int, locale: str) -> str:
    """One sentence saying what the owner's score is made of, so a score beside its members' explains itself."""
    words = HOW_MADE["zh-CN" if locale == "zh-CN" else "en"]
    left = words["left"].format(n=no_data) if no_data else ""
    kr_word = "key result" if krs == 1 else "key results"
    o_word = "objective" if objectives == 1 else "objectives"
    return words[tier].format(krs=krs, objectives=objectives, left=left, kr_word=kr_word, o_word=o_word)


LEAVERS_RULE = {
    "zh-CN": {
        "count": "{who}在本季度离职；按工作区规则（leavers: count），其关键结果仍计入团队的数值汇总和成员平均得分。",
        "exclude": "{who}在本季度离职；按工作区规则（leavers: exclude），其关键结果不计入团队的数值汇总和"
                   "成员平均得分。",
        "one": "{name}（{day}）",
        "sep": "、",
    },
    "en": {
        "count": "{who} left during the quarter; under the workspace's rule (leavers: count) their key results "
                 "still count for the team, in its value roll-ups and its members' average.",
        "exclude": "{who} left during the quarter; under the workspace's rule (leavers: exclude) their key results "
                   "do not count for the team, neither in its value roll-ups nor in its members' average.",
        "one": "{name} (on {day})",
        "sep": ", ",
    },
}


def leavers_rule_text(rule: str, left: list[tuple[str, str]], locale: str) -> str | None:
    """On a team card with members who left during the quarter: which rule decided whether their KRs count.

    ``left`` holds (name, day left) per leaver; None when nobody left."""
    if not left:
        return None
    words = LEAVERS_RULE["zh-CN" if locale == "zh-CN" else "en"]
    who = words["sep"].join(words["one"].format(name=n, day=d) for n, d in left)
    return words[rule].format(who=who)


def counted_members(members: list[dict], rule: str) -> list[dict]:
    """The members whose scores enter the members' average: all of them, or under ``leavers: exclude`` those who
    did not leave during the quarter."""
    return [m for m in members if rule != "exclude" or not m.get("left_on")]
