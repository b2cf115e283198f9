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
import re
import smtplib
import socket
import sqlite3
import ssl
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from jinja2 import Environment, StrictUndefined, select_autoescape

from transforms.routing import Delivery, header_safe, valid_email

SECURITY = ("none", "starttls", "ssl")
TRANSIENT = (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError, ConnectionError,
             socket.timeout, TimeoutError, OSError)


class MailConfigError(ValueError):
    """SMTP settings or okr.yaml's mail: section missing or malformed (names the setting, never shows a secret)."""


class Mailbox(NamedTuple):
    """A display name (may be empty) and one address, as in ``OKR Reports <okr@example.com>``."""

    name: str
    address: str


_NAMED = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<address>[^<>]*)>$")


def parse_mailbox(text: Any, where: str) -> Mailbox:
    """``Name <address>`` or a bare address; anything else (two addresses, line breaks) names ``where``."""
    raw = text.strip() if isinstance(text, str) else ""
    match = _NAMED.match(raw)
    name, address = (match["name"].strip(), match["address"].strip()) if match else ("", raw)
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    if not header_safe(name) or not valid_email(address):
        raise MailConfigError(f"{where} must be one email address, optionally with a display name "
                              f"(\"OKR Reports <okr@example.com>\"), got {text!r}")
    return Mailbox(name, address)


MAIL_KEYS = ("credentials_block", "from", "reply_to", "public_url")


@dataclass(frozen=True)
class MailOptions:
    """What okr.yaml's ``mail:`` says about messages (SMTP settings come from the environment or a block)."""

    credentials_block: str | None = None
    sender: Mailbox | None = None  # mail.from: wins over OKR_MAIL_FROM
    reply_to: Mailbox | None = None
    public_url: str | None = None  # where the published quarter folders are served, without a trailing /


def mail_options(raw: Mapping[str, Any] | None) -> MailOptions:
    """Check okr.yaml's ``mail:`` section; a misspelt key is an error, not a setting silently ignored."""
    raw = dict(raw or {})
    unknown = sorted(set(map(str, raw)) - set(MAIL_KEYS))
    if unknown:
        raise MailConfigError(f"mail: unknown setting {', '.join(map(repr, unknown))} in okr.yaml; expected "
                              f"{', '.join(MAIL_KEYS)}")
    block = raw.get("credentials_block")
    if block is not None and (not isinstance(block, str) or not block.strip()):
        raise MailConfigError(f"mail.credentials_block in okr.yaml must be a block name, got {block!r}")

    def box(key: str) -> Mailbox | None:
        return None if raw.get(key) is None else parse_mailbox(raw[key], f"mail.{key} in okr.yaml")

    url = raw.get("public_url")
    return MailOptions(block.strip() if block else None, box("from"), box("reply_to"),
                       None if url is None else public_url(url))


def public_url(value: Any) -> str:
    """The base URL of the published scorecards, checked: it is written into every message as a link."""
    text = value.strip() if isinstance(value, str) else ""
    problem = _url_problem(text)
    if problem:
        shown = "a value holding a user name (not shown)" if "@" in text else repr(value)
        raise MailConfigError(f"mail.public_url in okr.yaml must be the http:// or https:// address the quarter "
                              f"folders are served from, e.g. \"https://okr.example.com/reports\" ({problem}); "
                              f"got {shown}")
    return text.rstrip("/")


def _url_problem(text: str) -> str | None:
    if not text:
        return "it is empty or not text"
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        return "it holds a space or control character"
    if re.search(r"[<>\"'`{}|\\^]", text):
        return "it holds a character a link cannot carry unescaped"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return "it is not a well-formed address"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https links are mailed"
    if not parts.hostname:
        return "it names no host"
    if "@" in parts.netloc:
        return "a link mailed to everyone must not carry a user name or password"
    if "?" in text or "#" in text:
        return "scorecard paths are appended to it, so it cannot have a query or fragment"
    return None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None = field(repr=False)
    sender: str
    timeout: float = 30.0
    sender_name: str = ""  # the From display name ("" -> the company's name)

    def describe(self) -> str:
        """For logs: no secrets."""
        auth = f" as {self.username}" if self.username else ""
        return f"{self.security} smtp://{self.host}:{self.port}{auth}"


def settings_from_env(env: dict[str, str] | None = None, block: str | None = None,
                      sender: Mailbox | None = None) -> SmtpSettings:
    """SMTP settings from OKR_SMTP_* variables, or from a Prefect EmailServerCredentials block.

    ``sender`` is okr.yaml's ``mail.from``: the workspace says who its mail is from, so it wins over
    OKR_MAIL_FROM, which is the fallback (then a block's user name).
    """
    env = dict(os.environ if env is None else env)
    from_env = env.get("OKR_MAIL_FROM", "").strip()
    if block:
        from prefect_email import EmailServerCredentials

        creds = EmailServerCredentials.load(block)
        smtp_type = str(getattr(creds.smtp_type, "name", creds.smtp_type)).lower()
        security = {"insecure": "none", "ssl": "ssl", "starttls": "starttls"}.get(smtp_type, "starttls")
        host, port = creds.smtp_server, int(creds.smtp_port or 0)
        username = creds.username or None
        password = creds.password.get_secret_value() if creds.password else None
        from_env = from_env or (username or "")
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
    sender = sender or parse_mailbox(from_env, "OKR_MAIL_FROM (or mail.from in okr.yaml)")
    return SmtpSettings(host, port, security, username, password, sender.address, sender_name=sender.name)


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


@dataclass(frozen=True)
class MessageRequest:
    """What every message of one delivery shares; each recipient's own language wins over ``locale``."""

    quarter: str
    company: str
    locale: str  # the run's
    sender: Mailbox  # an empty display name is shown as the company's name
    currency: str = "USD"
    reply_to: Mailbox | None = None
    link_base: str | None = None  # <public_url>/<quarter folder>, when the scorecards are served online


def build_message(d: Delivery, card: dict, pdf: Path, req: MessageRequest, msg_id: str | None = None) -> EmailMessage:
    """A multipart message in the recipient's language: plain text, HTML alternative, the PDF as application/pdf.

    ``card`` is the scorecard's summary (``transforms.scorecards.card_summaries``): the body repeats its
    score, change and KRs to act on, so the recipient knows what to do before opening the PDF.
    """
    from flows.mail_body import body_context, scorecard_link  # here: it loads the renderer (WeasyPrint)

    sender, reply_to = req.sender, req.reply_to
    named = [d.recipient_name, d.owner_name, d.email, req.company, req.quarter, *sender, *(reply_to or ())]
    if not all(header_safe(value) for value in named):
        raise ValueError(f"header value holds a line break or control character: {named!r}")
    addresses = [d.email, sender.address] + ([reply_to.address] if reply_to else [])
    if not all(valid_email(a) for a in addresses):
        raise ValueError(f"not one plain email address: {addresses!r}")
    locale = d.locale or req.locale
    lang = "zh" if locale == "zh-CN" else "en"
    env = _mail_env()
    context = {"recipient": d.recipient_name, "owner": d.owner_name, "tier": d.tier, "quarter": req.quarter,
               "company": req.company, "reason": d.reason,
               "summary": body_context(card, locale, req.currency, scorecard_link(req.link_base, d.path))}
    msg = EmailMessage()
    msg["Subject"] = env.get_template(f"subject.{lang}.txt").render(context).strip()
    msg["From"] = formataddr((sender.name or req.company, sender.address))
    if reply_to:
        msg["Reply-To"] = formataddr(reply_to)
    msg["To"] = formataddr((d.recipient_name, d.email))
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = msg_id or message_id(req.quarter, d.key, sender.address)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(env.get_template(f"body.{lang}.txt").render(context))
    msg.add_alternative(env.get_template(f"body.{lang}.html").render(context), subtype="html")
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf")
    attachment = msg.get_payload()[-1]
    del attachment["Content-Disposition"]
    attachment["Content-Disposition"] = content_disposition(
        f"{d.owner_name} {req.quarter}.pdf".replace("/", "_"), f"OKR scorecard {d.owner_id} {req.quarter}.pdf")
    return msg


# -- the attachment's name --------------------------------------------------------------------------------

_LINE = 78  # RFC 5322's recommended line length, which the email package keeps to when it writes headers


class _WrittenAsIs(str):
    """A header value the email package writes exactly as given.

    Given a string, the package re-renders Content-Disposition from its parsed parameters and keeps only
    one of ``filename`` / ``filename*``; a value with a ``name`` is taken for a header object and asked to
    ``fold`` itself (email.policy), so this one comes out with both. As a str it reads like any header value.
    """

    name = "Content-Disposition"

    def __new__(cls, lines: list[str]) -> _WrittenAsIs:
        self = super().__new__(cls, " ".join(line.strip() for line in lines))
        self.lines = lines
        return self

    def fold(self, *, policy: Any) -> str:
        return f"{self.name}: {policy.linesep.join(self.lines)}{policy.linesep}"

    def __reduce__(self) -> tuple:
        return type(self), (self.lines,)


def ascii_filename(name: str, limit: int = 60) -> str:
    """A plain ASCII file name for mail clients that do not read RFC 2231 (accents dropped, the rest _)."""
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, ext) if dot else (name, "pdf")
    text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", text)
    text = re.sub(r"\s+", " ", re.sub(r"_+", "_", text)).strip(" ._") or "scorecard"
    return f"{text[:limit].rstrip(' ._')}.{ext}"


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with the real name as RFC 2231 ``filename*`` and an ASCII ``filename`` beside it.

    Clients that read RFC 2231 (RFC 6266: they prefer ``filename*``) show ``name``; older ones show the
    ASCII fallback rather than mojibake or nothing. A plain ASCII name needs only ``filename``. Long names
    are split into RFC 2231 sections (between characters) so that no line is longer than 78 characters.
    """
    if name.isascii() and name.isprintable() and not re.search(r'["\\]', name) and len(name) <= _LINE - 16:
        return _WrittenAsIs(["attachment;", f' filename="{name}"'])
    lines = ["attachment;", f' filename="{ascii_filename(fallback)}";']
    encoded = "utf-8''" + quote(name, safe="")
    if len(encoded) + len(" filename*=") <= _LINE:
        return _WrittenAsIs([*lines, f" filename*={encoded}"])
    chunks, current = [], "utf-8''"
    for piece in (quote(ch, safe="") for ch in name):  # a character's bytes are never split between sections
        if len(current) + len(piece) > _LINE - len(f" filename*{len(chunks)}*=;"):
            chunks.append(current)
            current = ""
        current += piece
    chunks.append(current)
    sections = [f" filename*{i}*={chunk}" for i, chunk in enumerate(chunks)]
    return _WrittenAsIs([*lines, *[f"{line};" for line in sections[:-1]], sections[-1]])


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
