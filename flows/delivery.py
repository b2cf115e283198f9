"""Delivering published scorecards by email (or to an outbox of .eml files on a dry run)."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import mail
from transforms.problems import InputError, Problem
from transforms.routing import Delivery, route
from transforms.runplan import Scope

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


OUTBOXES_KEPT = 3
"""Dry-run outboxes kept per quarter: each holds a copy of every PDF, so older previews are removed."""


def prune_outboxes(folder: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest outboxes (run ids sort by time); returns the removed folders."""
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name) if folder.is_dir() else []
    removed = runs[:-keep] if keep > 0 else runs
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


def in_send_scope(card: dict, team: str | None, person: str | None, person_team: dict[str, str]) -> bool:
    """A team run mails the team and its members; a person run mails that person; else everyone."""
    if person:
        return card["tier"] == "person" and card["owner_id"] == person
    if team:
        return (card["tier"] == "team" and card["owner_id"] == team) or (
            card["tier"] == "person" and person_team.get(card["owner_id"]) == team)
    return True


@dataclass(frozen=True)
class DeliveryRequest:
    """The published cards of one variant and who may receive which."""

    cards: list[dict]
    folder: Path
    out: Path
    slug: str
    quarter_label: str
    company: str
    locale: str
    people: pd.DataFrame
    teams: pd.DataFrame
    executives: list[str]
    scope: Scope
    send: bool
    resend: bool
    run_id: str
    currency: str = "USD"
    mail_options: mail.MailOptions = mail.MailOptions()  # okr.yaml's mail: section, checked


def scoped_cards(req: DeliveryRequest) -> list[dict]:
    """The cards of the request's scope; a scope with no published card is a problem, not an empty send."""
    team, person = req.scope.team, req.scope.person
    if team and not any(c["tier"] == "team" and c["owner_id"] == team for c in req.cards):
        raise InputError([Problem("--team", "a team with a published scorecard in this quarter", value=team)])
    if person and not any(c["tier"] == "person" and c["owner_id"] == person for c in req.cards):
        raise InputError([Problem("--person", "a person with a published scorecard in this quarter", value=person)])
    person_team = req.people.set_index("person_id")["team_id"].dropna().astype(str).to_dict()
    return [c for c in req.cards if in_send_scope(c, team, person, person_team)]


@task(cache_policy=NO_CACHE)
def deliver_scorecards(req: DeliveryRequest) -> DeliverySummary:
    """Route, build and send (or write) one message per recipient and scorecard."""
    deliveries, skipped = route(scoped_cards(req), req.people, req.teams, req.executives)
    base = deliveries_dir(req.out, req.slug)
    summary = DeliverySummary("sent" if req.send else "outbox", skipped=skipped)
    try:
        options = req.mail_options
        settings = mail.settings_from_env(block=options.credentials_block, sender=options.sender) if req.send \
            else None
    except mail.MailConfigError as exc:
        if deployment_run():  # nobody reads a terminal there: the flow run itself must fail
            raise DeliveryFailed(str(exc)) from None
        raise
    message = message_request(req, settings)
    by_path = {c["path"]: c for c in req.cards}
    ledger = mail.Ledger(base / "ledger.sqlite")
    outcomes: list[mail.Outcome] = []
    # the ledger is read and written under a lock: a second run of this quarter waits, then skips what
    # the first one sent
    with ledger.exclusive():
        already = ledger.sent_keys() if req.send and not req.resend else set()
        items = []
        for d in deliveries:
            if d.key in already:
                outcomes.append(mail.Outcome(d.recipient_id, d.email, d.path, "skipped", "already sent"))
                continue
            items.append(_message(req, d, by_path[d.path], message))
        if req.send:
            outcomes += mail.send_all(items, settings, ledger, attempts=_int_env("OKR_SMTP_ATTEMPTS", 4),
                                      backoff=_float_env("OKR_SMTP_BACKOFF_SECONDS", 2.0))
        else:
            summary.outbox = str(base / "outbox" / req.run_id)
            outcomes += mail.write_outbox(items, Path(summary.outbox))
            prune_outboxes(base / "outbox", keep=OUTBOXES_KEPT)
    return _finish(req, summary, outcomes, settings)


def message_request(req: DeliveryRequest, settings: mail.SmtpSettings | None) -> mail.MessageRequest:
    """What the messages share. A dry run shows okr.yaml's From, else a placeholder that cannot be mailed; a
    send uses the address the settings resolved (mail.from, else OKR_MAIL_FROM)."""
    options = req.mail_options
    if settings is not None:
        sender = mail.Mailbox(settings.sender_name, settings.sender)
    else:
        sender = options.sender or mail.Mailbox("", "scorecards@okr-report.invalid")
    link_base = f"{options.public_url}/{quote(req.slug, safe='')}" if options.public_url else None
    return mail.MessageRequest(req.quarter_label, req.company, req.locale, sender, req.currency, options.reply_to,
                               link_base)


def _message(req: DeliveryRequest, d: Delivery, card: dict, message: mail.MessageRequest):
    pdf = req.folder / f"{d.path}.pdf"
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    salt = sha + (f"|resend {req.run_id}" if req.resend else "")
    msg_id = mail.message_id(req.quarter_label, d.key, message.sender.address, salt=salt)
    return d, mail.build_message(d, card, pdf, message, msg_id), sha


def _finish(req: DeliveryRequest, summary: DeliverySummary, outcomes: list[mail.Outcome],
            settings: mail.SmtpSettings | None) -> DeliverySummary:
    """Count, report (JSON beside the ledger and a Prefect artifact), and fail a deployment run on failures."""
    summary.counts = {s: sum(o.status == s for o in outcomes) for s in ("sent", "failed", "skipped", "written")}
    summary.failed = [f"{o.email} ({o.path}): {o.detail}" for o in outcomes if o.status == "failed"]
    report = deliveries_dir(req.out, req.slug) / f"report-{req.run_id}.json"
    mail.write_report(outcomes, report, summary.skipped, meta={
        "quarter": req.quarter_label, "variant": req.slug, "run_id": req.run_id, "mode": summary.mode,
        "team": req.scope.team, "person": req.scope.person, "resend": req.resend,
        "server": settings.describe() if settings else None})
    summary.report = str(report)
    _artifact(outcomes, summary.skipped, req.quarter_label, summary)
    if summary.failed and deployment_run():
        # the CLI exits non-zero on failed messages; a scheduled or triggered run fails instead
        raise DeliveryFailed(f"{len(summary.failed)} messages failed (report: {report}): "
                             + "; ".join(summary.failed[:5]))
    return summary


class DeliveryFailed(RuntimeError):
    """Raised in deployment runs (scheduled or triggered) so the flow run ends Failed."""


def deployment_run() -> bool:
    try:
        from prefect.runtime import deployment

        return bool(deployment.id)
    except Exception:  # noqa: BLE001 - outside a flow run there is no deployment
        return False


def _env(name: str, default: str) -> str:
    import os

    return os.environ.get(name, default)


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(_env(name, str(default))))
    except ValueError:
        return default


def _float_env(name: str, default: float) -> float:
    try:
        return max(0.0, float(_env(name, str(default))))
    except ValueError:
        return default


def _artifact(outcomes: list[mail.Outcome], not_addressed: list[str], quarter_label: str,
              summary: DeliverySummary) -> None:
    """Publish the delivery report as a Prefect table artifact (best effort: the JSON report is the record)."""
    try:
        from prefect.artifacts import create_table_artifact

        rows = [{k: getattr(o, k) for k in REPORT_COLUMNS} for o in outcomes]
        rows += [{"recipient_id": "", "email": "", "path": "", "status": "not addressed", "detail": s}
                 for s in not_addressed]
        create_table_artifact(
            key="okr-delivery-report",
            table=rows,
            description=f"{quarter_label}: " + (", ".join(f"{v} {k}" for k, v in summary.counts.items() if v)
                                                or "nothing to deliver"),
        )
    except Exception:  # noqa: BLE001 - the JSON report on disk is the record
        pass


def load_cards(folder: Path) -> tuple[list[dict], dict]:
    """The scorecards of a published quarter, from its manifest."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return manifest.get("cards", []), manifest

