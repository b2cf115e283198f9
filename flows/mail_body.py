"""What a scorecard email says about its card: the score, the change since the previous quarter and the KRs to act on.

A recipient should be able to act on the message without opening the PDF, so the body repeats the card's
headline numbers in the message's language, formatted exactly as the card formats them (``flows.render``),
with the card's status words (``labels.yaml``). A missing value says so; it is never shown as 0.
The sentences live in ``report_templates/email/phrases.yaml``, one wording per language for both the plain
text and the HTML alternative; the values are plain text, escaped by the HTML template.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any
from urllib.parse import quote

import yaml

from flows.render import LOCALES, format_number, format_score, labels

ARROWS = {"up": "▲", "down": "▼", "flat": "►"}
FOCUS_SHOWN = 3
"""The summary promises at most three KRs to act on; a longer list is cut rather than mailed whole."""


@cache
def phrases(locale: str) -> dict[str, str]:
    """The email's sentences in one language (an unknown language is an error, not a silent fallback)."""
    from importlib.resources import files

    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {LOCALES}")
    text = files("report_templates").joinpath("email", "phrases.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)[locale]


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def signed_score(delta: float, locale: str) -> str:
    """A score difference with its sign; one that rounds to zero is ±0.00 rather than +0.00 or -0.00."""
    if round(abs(delta), 2) == 0:
        return "±" + format_score(0.0, locale)
    return ("+" if delta > 0 else "-") + format_score(abs(delta), locale)


def score_line(card: dict, locale: str) -> str:
    """The owner's score (two decimals) and status in words."""
    words = phrases(locale)
    score = _number(card.get("score"))
    if score is None:
        return words["score_missing"].format(no_data=labels(locale)["no_data"])
    status = labels(locale)["status_name"].get(card.get("status"), labels(locale)["status_name"]["no_data"])
    return words["score"].format(score=format_score(score, locale), status=status)


def change_line(change: dict | None, locale: str) -> str:
    """The change against the previous quarter, or why there is none to show."""
    words = phrases(locale)
    if change is None:
        return words["change_first"]
    quarter = str(change.get("previous_quarter") or "")
    previous, delta = _number(change.get("previous_score")), _number(change.get("delta"))
    if delta is None and previous is None:
        return words["change_no_previous"].format(quarter=quarter)
    if delta is None:
        return words["change_no_current"].format(quarter=quarter, previous=format_score(previous, locale))
    arrow = ARROWS.get(str(change.get("arrow")), ARROWS["up" if delta > 0 else "down" if delta < 0 else "flat"])
    return words["change"].format(arrow=arrow, delta=signed_score(delta, locale), quarter=quarter,
                                  previous=format_score(previous, locale))


def kr_title(kr: dict, locale: str) -> str:
    """The KR's title in the message's language, else in the other one, else its id."""
    titles = kr.get("titles") or {}
    for lang in (locale, *[x for x in LOCALES if x != locale]):
        text = titles.get(lang)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return str(kr.get("kr_id") or "")


def kr_line(kr: dict, locale: str, currency: str) -> str:
    """One KR to act on: title, actual against target in its unit, score and status word."""
    unit = str(kr.get("unit") or "number")
    status = labels(locale)["status_name"].get(kr.get("status"), labels(locale)["status_name"]["no_data"])
    return phrases(locale)["kr"].format(
        title=kr_title(kr, locale), actual=format_number(_number(kr.get("actual")), unit, locale, currency),
        target=format_number(_number(kr.get("target")), unit, locale, currency),
        score=format_score(_number(kr.get("score")), locale), status=status)


def scorecard_link(link_base: str | None, path: str) -> str | None:
    """``<public_url>/<quarter folder>/<path>.html``, each path segment percent-encoded; None when not online."""
    if not link_base:
        return None
    return f"{link_base}/{quote(path, safe='/')}.html"


def body_context(card: dict, locale: str, currency: str, link: str | None) -> dict[str, Any]:
    """What the body templates show; a summary written before a section existed leaves that section out
    (saying "nothing needs attention" about a card nobody ranked would be wrong)."""
    words = phrases(locale)
    focus = card.get("focus")
    return {
        "score_line": score_line(card, locale),
        "change_line": change_line(card["change"], locale) if "change" in card else None,
        "focus_intro": words["focus_intro"] if focus else words["focus_none"],
        "focus": None if focus is None else [kr_line(kr, locale, currency) for kr in focus[:FOCUS_SHOWN]],
        "link": link,
        "link_intro": words["link_intro"],
    }
