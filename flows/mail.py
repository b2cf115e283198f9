"""Emailing scorecards: well-formed messages, one SMTP connection per batch, and a delivery ledger.

The ledger (SQLite, one per quarter) makes delivery exactly-once across retries and resumed runs:
a message is recorded as sent only after the server accepted it, and a later run skips what the
ledger already holds unless ``resend`` is asked for.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import smtplib
import socket
import sqlite3
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from jinja2 import Environment, StrictUndefined, select_autoescape

from transforms.routing import Delivery, header_safe, valid_email

SECURITY = ("none", "starttls", "ssl")
TRANSIENT = (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError, ConnectionError,
             socket.timeout, TimeoutError, OSError)


class MailConfigError(ValueError):
    """SMTP settings missing or malformed (names the variable, never shows a secret)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None = field(repr=False)
    sender: str
    timeout: float = 30.0

    def describe(self) -> str:
        """For logs: no secrets."""
        auth = f" as {self.username}" if self.username else ""
        return f"{self.security} smtp://{self.host}:{self.port}{auth}"


def settings_from_env(env: dict[str, str] | None = None, block: str | None = None) -> SmtpSettings:
    """SMTP settings from OKR_SMTP_* variables, or from a Prefect EmailServerCredentials block."""
    env = dict(os.environ if env is None else env)
    sender = env.get("OKR_MAIL_FROM", "").strip()
    if block:
        from prefect_email import EmailServerCredentials

        creds = EmailServerCredentials.load(block)
        smtp_type = str(getattr(creds.smtp_type, "name", creds.smtp_type)).lower()
        security = {"insecure": "none", "ssl": "ssl", "starttls": "starttls"}.get(smtp_type, "starttls")
        host, port = creds.smtp_server, int(creds.smtp_port or 0)
        username = creds.username or None
        password = creds.password.get_secret_value() if creds.password else None
        sender = sender or (username or "")
    else:
        host = env.get("OKR_SMTP_HOST", "").strip()
        if not host:
            raise MailConfigError("OKR_SMTP_HOST is not set (or name a credentials block under mail: in okr.yaml)")
        security = env.get("OKR_SMTP_SECURITY", "starttls").strip().lower()
        raw_port = env.get("OKR_SMTP_PORT", "").strip()
        try:
            port = int(raw_port) if raw_port else 0
        except ValueError:
            raise MailConfigError(f"OKR_SMTP_PORT must be a number, got {raw_port!r}") from None
        username = env.get("OKR_SMTP_USERNAME") or None
        password = env.get("OKR_SMTP_PASSWORD") or None
    if security not in SECURITY:
        raise MailConfigError(f"OKR_SMTP_SECURITY must be one of {', '.join(SECURITY)}, got {security!r}")
    port = port or {"none": 25, "starttls": 587, "ssl": 465}[security]
    if not valid_email(sender):
        raise MailConfigError(f"OKR_MAIL_FROM must be one email address, got {sender!r}")
    return SmtpSettings(host, port, security, username, password, sender)


# -- messages ------------------------------------------------------------------------------------------

def _mail_env() -> Environment:
    from importlib.resources import files

    from jinja2 import FileSystemLoader

    root = str(files("report_templates").joinpath("email"))
    return Environment(loader=FileSystemLoader(root), undefined=StrictUndefined,
                       autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                       keep_trailing_newline=True)


def message_id(quarter: str, key: str, sender: str, salt: str = "") -> str:
    """Stable per (quarter, recipient, scorecard, salt).

    A retried or resumed delivery of the same PDF keeps its Message-ID, so a receiving server can drop
    a copy it already has; the caller salts it with the PDF digest (a changed scorecard is a new message)
    and, for a deliberate resend, with the run id (so mail clients do not hide it as a duplicate).
    """
    digest = hashlib.sha256(f"{quarter}|{key}|{salt}".encode()).hexdigest()[:32]
    return f"<{digest}@{sender.rsplit('@', 1)[-1]}>"


def build_message(d: Delivery, quarter: str, company: str, locale: str, pdf: Path, sender: str,
                  msg_id: str | None = None) -> EmailMessage:
    """A multipart message: plain text, HTML alternative, and the PDF as application/pdf."""
    for value in (d.recipient_name, d.owner_name, d.email, company, quarter, sender):
        if not header_safe(value):
            raise ValueError(f"header value holds a line break or control character: {value!r}")
    if not valid_email(d.email) or not valid_email(sender):
        raise ValueError(f"not one plain email address: {d.email!r} / {sender!r}")
    env = _mail_env()
    lang = "zh" if locale == "zh-CN" else "en"
    context = {"recipient": d.recipient_name, "owner": d.owner_name, "tier": d.tier, "quarter": quarter,
               "company": company, "reason": d.reason}
    subject = env.get_template(f"subject.{lang}.txt").render(context).strip()
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr((company, sender))
    msg["To"] = formataddr((d.recipient_name, d.email))
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = msg_id or message_id(quarter, d.key, sender)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(env.get_template(f"body.{lang}.txt").render(context))
    msg.add_alternative(env.get_template(f"body.{lang}.html").render(context), subtype="html")
    filename = f"{d.owner_name} {quarter}.pdf".replace("/", "_")
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=filename)
    return msg


# -- ledger --------------------------------------------------------------------------------------------

class Ledger:
    """Delivery records per quarter; survives crashes (each record is its own transaction)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db, db:
            db.execute("""create table if not exists deliveries (
                key text primary key, email text not null, recipient_id text, path text not null,
                status text not null, message_id text, pdf_sha256 text, attempts integer not null default 0,
                last_error text, updated_at text not null)""")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held while a run reads the ledger and sends: two runs of one quarter never mail the same message."""
        lock = self.path.with_suffix(".lock")
        with open(lock, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def sent_keys(self) -> set[str]:
        with closing(self._connect()) as db:
            return {r[0] for r in db.execute("select key from deliveries where status = 'sent'")}

    def record(self, d: Delivery, status: str, message_id: str, pdf_sha256: str, error: str | None) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as db, db:
            db.execute(
                """insert into deliveries (key, email, recipient_id, path, status, message_id, pdf_sha256, attempts,
                                           last_error, updated_at)
                   values (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                   on conflict(key) do update set status = excluded.status, message_id = excluded.message_id,
                     pdf_sha256 = excluded.pdf_sha256, attempts = deliveries.attempts + 1,
                     last_error = excluded.last_error, updated_at = excluded.updated_at""",
                (d.key, d.email, d.recipient_id, d.path, status, message_id, pdf_sha256, error, now),
            )


# -- sending -------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    recipient_id: str
    email: str
    path: str
    status: str  # sent / failed / skipped / written
    detail: str = ""


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    if s.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if s.username:
        smtp.login(s.username, s.password or "")
    return smtp


def _is_permanent(exc: Exception) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        return bool(codes) and all(c >= 500 for c in codes)
    return isinstance(code, int) and code >= 500


def _session_kept(exc: Exception) -> bool:
    """The server refused this one message for now but kept the session open (smtplib sent RSET)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(c != 421 for c, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code != 421


def _error_text(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{c} {m.decode(errors='replace') if isinstance(m, bytes) else m}"
                         for c, m in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    err = getattr(exc, "smtp_error", b"")
    if code:
        return f"{code} {err.decode(errors='replace') if isinstance(err, bytes) else err}"
    return f"{type(exc).__name__}: {exc}"


def send_all(
    items: Iterable[tuple[Delivery, EmailMessage, str]],
    settings: SmtpSettings,
    ledger: Ledger,
    attempts: int = 4,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send over one connection, reconnecting with backoff on transient errors.

    ``attempts`` bounds the consecutive connections that deliver nothing; a connection that delivered
    (or settled) at least one message before it broke starts the count again. A permanent refusal (5xx)
    is recorded for that recipient and the batch goes on. Each message is recorded in the ledger as soon
    as the server has answered for it.
    """
    pending = list(items)
    outcomes: dict[str, Outcome] = {}
    deferred: dict[str, int] = {}  # transient refusals of one message on a healthy connection
    failures = 0
    while pending and failures < attempts:
        smtp = None
        progressed = False
        try:
            smtp = _connect(settings)
            while pending:
                d, msg, sha = pending[0]
                if deferred.get(d.key):
                    sleep(backoff * 2 ** (deferred[d.key] - 1))
                try:
                    smtp.send_message(msg, from_addr=settings.sender, to_addrs=[d.email])
                except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                    if not _is_permanent(exc) and not _session_kept(exc):
                        raise  # the server closed the session: reconnect
                    detail = _error_text(exc)
                    outcomes[d.key] = Outcome(d.recipient_id, d.email, d.path, "failed", detail)
                    pending.pop(0)
                    if not _is_permanent(exc):
                        deferred[d.key] = deferred.get(d.key, 0) + 1
                        if deferred[d.key] < attempts:
                            pending.append((d, msg, sha))  # try again after the others
                            continue
                    ledger.record(d, "failed", msg["Message-ID"], sha, detail)
                    progressed = True
                    continue
                ledger.record(d, "sent", msg["Message-ID"], sha, None)
                outcomes[d.key] = Outcome(d.recipient_id, d.email, d.path, "sent")
                pending.pop(0)
                progressed = True
        except (smtplib.SMTPException, *TRANSIENT) as exc:
            failures = 1 if progressed else failures + 1
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                failures = attempts  # wrong credentials do not get better by waiting
            last = _error_text(exc)
            for d, _, _ in pending:
                outcomes[d.key] = Outcome(d.recipient_id, d.email, d.path, "failed", last)
            if pending and failures < attempts:
                sleep(backoff * 2 ** (failures - 1))
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
    for d, msg, sha in pending:
        ledger.record(d, "failed", msg["Message-ID"], sha, outcomes[d.key].detail)
    return list(outcomes.values())


def write_outbox(items: Iterable[tuple[Delivery, EmailMessage, str]], folder: Path) -> list[Outcome]:
    """Dry run: each message as an .eml file to look at before sending."""
    from transforms.naming import safe_stem

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (d, msg, _) in enumerate(items, start=1):
        name = f"{i:04d}-{safe_stem(d.recipient_id)}-{d.path.replace('/', '-')}.eml"
        (folder / name).write_bytes(bytes(msg))
        out.append(Outcome(d.recipient_id, d.email, d.path, "written", name))
    return out


def write_report(outcomes: list[Outcome], path: Path, not_addressed: Iterable[str] = (),
                 meta: dict | None = None) -> None:
    """The delivery report: one row per message (sent / failed / skipped / written) and who was not addressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [o.__dict__ for o in outcomes]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("sent", "failed", "skipped", "written")}
    report = {**(meta or {}), "counts": counts, "deliveries": rows, "not_addressed": list(not_addressed)}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
