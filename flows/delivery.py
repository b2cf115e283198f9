"""Delivering published scorecards by email (or to an outbox of .eml files on a dry run)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import mail
from transforms.routing import route

REPORT_COLUMNS = ("recipient_id", "email", "path", "status", "detail")


@dataclass
class DeliverySummary:
    mode: str  # sent / outbox
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: str = ""
    outbox: str = ""


def deliveries_dir(out: Path, slug: str) -> Path:
    return out / "deliveries" / slug


def in_send_scope(card: dict, team: str | None, person: str | None, person_team: dict[str, str]) -> bool:
    """A team run mails the team and its members; a person run mails that person; else everyone."""
    if person:
        return card["tier"] == "person" and card["owner_id"] == person
    if team:
        return (card["tier"] == "team" and card["owner_id"] == team) or (
            card["tier"] == "person" and person_team.get(card["owner_id"]) == team)
    return True


@task(cache_policy=NO_CACHE)
def deliver_scorecards(
    cards: list[dict], folder: Path, out: Path, slug: str, quarter_label: str, company: str, locale: str,
    people: pd.DataFrame, teams: pd.DataFrame, executives: list[str], team: str | None, person: str | None,
    send: bool, resend: bool, run_id: str, credentials_block: str | None = None,
) -> DeliverySummary:
    """Route, build and send (or write) one message per recipient and scorecard."""
    person_team = people.set_index("person_id")["team_id"].dropna().astype(str).to_dict()
    scoped = [c for c in cards if in_send_scope(c, team, person, person_team)]
    deliveries, skipped = route(scoped, people, teams, executives)
    base = deliveries_dir(out, slug)
    summary = DeliverySummary("sent" if send else "outbox", skipped=skipped)
    settings = mail.settings_from_env(block=credentials_block) if send else None
    sender = settings.sender if settings else "scorecards@okr-report.invalid"
    ledger = mail.Ledger(base / "ledger.sqlite")
    already = ledger.sent_keys() if send and not resend else set()
    items, outcomes = [], []
    for d in deliveries:
        if d.key in already:
            outcomes.append(mail.Outcome(d.recipient_id, d.email, d.path, "skipped", "already sent"))
            continue
        pdf = folder / f"{d.path}.pdf"
        sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
        items.append((d, mail.build_message(d, quarter_label, company, locale, pdf, sender), sha))
    if send:
        outcomes += mail.send_all(items, settings, ledger, attempts=_int_env("OKR_SMTP_ATTEMPTS", 4),
                                  backoff=float(_env("OKR_SMTP_BACKOFF_SECONDS", "2")))
    else:
        summary.outbox = str(base / "outbox" / run_id)
        outcomes += mail.write_outbox(items, Path(summary.outbox))
    summary.counts = {s: sum(o.status == s for o in outcomes) for s in ("sent", "failed", "skipped", "written")}
    summary.failed = [f"{o.email} ({o.path}): {o.detail}" for o in outcomes if o.status == "failed"]
    report = base / f"report-{run_id}.json"
    mail.write_report(outcomes, report)
    summary.report = str(report)
    _artifact(outcomes, quarter_label, summary)
    return summary


def _env(name: str, default: str) -> str:
    import os

    return os.environ.get(name, default)


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(_env(name, str(default))))
    except ValueError:
        return default


def _artifact(outcomes: list[mail.Outcome], quarter_label: str, summary: DeliverySummary) -> None:
    """Publish the delivery report as a Prefect table artifact (best effort: it is a copy)."""
    try:
        from prefect.artifacts import create_table_artifact

        create_table_artifact(
            key="okr-delivery-report",
            table=[{k: getattr(o, k) for k in REPORT_COLUMNS} for o in outcomes],
            description=f"{quarter_label}: " + ", ".join(f"{v} {k}" for k, v in summary.counts.items() if v),
        )
    except Exception:  # noqa: BLE001 - the JSON report on disk is the record
        pass


def load_cards(folder: Path) -> tuple[list[dict], dict]:
    """The scorecards of a published quarter, from its manifest."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return manifest.get("cards", []), manifest

