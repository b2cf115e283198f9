"""Who receives which scorecard: people their own, team leads their team's, executives the company's.

Routing only ever pairs a recipient with a scorecard inside their scope, and refuses addresses and
names that could smuggle extra mail headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from transforms.contracts import LOCALES

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class Delivery:
    """One message: one recipient, one scorecard."""

    recipient_id: str
    recipient_name: str
    email: str
    tier: str
    owner_id: str
    owner_name: str
    path: str  # scorecard path relative to the quarter folder, without extension
    reason: str  # own / team_lead / executive
    locale: str | None = None  # the recipient's language from the people directory (None: the run's)

    @property
    def key(self) -> str:
        return f"{self.email.lower()}|{self.path}"


def header_safe(text: str) -> bool:
    """No CR, LF or other control characters that could start a new header."""
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address)) and header_safe(address) and len(address) <= 254


def route(
    cards: list[dict],
    people: pd.DataFrame,
    teams: pd.DataFrame,
    executives: list[str],
    today: pd.Timestamp | None = None,
) -> tuple[list[Delivery], list[str]]:
    """Deliveries for the given scorecards, and the reasons some could not be addressed.

    People who have left the company before ``today`` (default: the current date) are not addressed:
    their mailbox is gone or belongs to the company now.
    """
    today = (pd.Timestamp.today() if today is None else pd.Timestamp(today)).normalize()
    if today.tzinfo is not None:
        today = today.tz_localize(None)
    by_id = {str(r["person_id"]): r for r in people.to_dict("records")}
    leads = {}
    if "lead_id" in teams.columns:
        leads = {str(t): str(lead) for t, lead in zip(teams["team_id"], teams["lead_id"]) if pd.notna(lead)}
    out: list[Delivery] = []
    skipped: list[str] = []
    for card in cards:
        tier, owner = card["tier"], str(card["owner_id"])
        if tier == "person":
            recipients = [(owner, "own")]
        elif tier == "team":
            recipients = [(leads[owner], "team_lead")] if owner in leads else []
            if not recipients:
                skipped.append(f"team {owner}: no team lead in the teams export")
        else:
            recipients = [(str(e), "executive") for e in executives]
        if recipients and not header_safe(str(card["owner_name"])):
            skipped.append(f"{tier} {owner}: its name holds line breaks or control characters")
            continue
        for pid, reason in recipients:
            person = by_id.get(pid)
            if person is None:
                skipped.append(f"{pid}: not in the people directory")
                continue
            email = _text(person.get("email"))
            name = _text(person.get("person_name")) or pid
            left = _left_on(person.get("ended_at"))
            if left is not None and left < today:
                skipped.append(f"{pid}: left on {left:%Y-%m-%d}")
                continue
            if not valid_email(email):
                skipped.append(f"{pid}: no usable email address ({email!r})")
                continue
            if not header_safe(name):
                skipped.append(f"{pid}: name holds line breaks or control characters")
                continue
            locale = _text(person.get("locale"))
            out.append(Delivery(pid, name, email, tier, owner, card["owner_name"], card["path"], reason,
                                locale if locale in LOCALES else None))
    return out, skipped


def _left_on(value: object) -> pd.Timestamp | None:
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip()
