"""Emailing scorecards against a real SMTP server (aiosmtpd on loopback, started here).

The demo quarter is rendered once per session without ``--send`` (its outbox is the dry run); the SMTP
tests copy its output folder and mail from the copy with ``okr-report send`` / ``okr-report run --send``.
Who should receive what is read here from the raw exports (people.xlsx, teams.xlsx, okr.yaml).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cache
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader

from tests.conftest import DEMO, DEMO_QUARTER, DEMO_SLUG, ROOT, okr_report

TEAM = "central"  # has a leaver mid-quarter (still has a scorecard) and one who left before it
SENDER = "okr-report@xinghe.example.cn"
FILENAME_2231 = re.compile(r"filename\*(?:0\*)?=utf-8''", re.IGNORECASE)
FILENAME_ASCII = re.compile(r'filename="OKR scorecard [ -~]+\.pdf"')


# -- expectations from the raw exports ------------------------------------------------------------------

@cache
def config() -> dict:
    return yaml.safe_load((DEMO / "okr.yaml").read_text(encoding="utf-8"))


@cache
def people() -> pd.DataFrame:
    src = config()["sources"]["people"]
    raw = pd.read_excel(DEMO / src["path"], sheet_name=src["sheet"], engine="openpyxl")
    cols = {export: canonical for canonical, export in src["columns"].items()}
    frame = raw.rename(columns=cols)
    frame["team_id"] = frame["team_id"].map(src["values"]["team_id"])
    frame["role"] = frame["role"].map(src["values"]["role"])
    frame["person_id"] = frame["person_id"].astype(str)
    frame["ended_at"] = pd.to_datetime(frame["ended_at"])
    return frame


@cache
def team_leads() -> dict[str, str]:
    src = config()["sources"]["teams"]
    raw = pd.read_excel(DEMO / src["path"], sheet_name=src["sheet"], engine="openpyxl")
    cols = {export: canonical for canonical, export in src["columns"].items()}
    teams = raw.rename(columns=cols)
    return dict(zip(teams["team_id"].astype(str), teams["lead_id"].astype(str)))


def active(frame: pd.DataFrame) -> pd.DataFrame:
    """Still with the company: a person who has left gets no mail."""
    return frame[frame["ended_at"].isna() | (frame["ended_at"] >= pd.Timestamp.today().normalize())]


def person(pid: str) -> pd.Series:
    p = people()
    return p[p["person_id"] == pid].iloc[0]


def team_members(team: str) -> pd.DataFrame:
    p = active(people())
    return p[(p["team_id"] == team) & (p["role"] == "sales")]


def team_recipients(team: str) -> dict[str, tuple[str, str]]:
    """email -> (tier of the card, owner id) for a team send: each member their own, the lead the team's."""
    out = {row.email: ("person", row.person_id) for row in team_members(team).itertuples()}
    out[person(team_leads()[team])["email"]] = ("team", team)
    return out


def all_recipients() -> dict[str, tuple[str, str]]:
    """email -> (tier, owner) for the whole quarter (nobody gets two messages in the demo)."""
    out = {}
    for team in team_leads():
        out.update(team_recipients(team))
    for pid in config()["executives"]:
        out[person(pid)["email"]] = ("company", config()["company"]["id"])
    return out


def owner_name(tier: str, owner: str) -> str:
    if tier == "person":
        return person(owner)["person_name"]
    if tier == "team":
        src = config()["sources"]["teams"]
        raw = pd.read_excel(DEMO / src["path"], sheet_name=src["sheet"], engine="openpyxl")
        return raw.loc[raw[src["columns"]["team_id"]] == owner, src["columns"]["team_name"]].iloc[0]
    return config()["company"]["name"]


# -- a real SMTP server -----------------------------------------------------------------------------------

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.raw)


@dataclass
class Mailbox:
    """aiosmtpd handler that stores accepted messages and can misbehave on purpose.

    ``on_mail(n)`` / ``on_data(n)`` see the count of MAIL / DATA commands so far and may answer
    "421" (transient refusal), "drop" (close the connection without answering) or None.
    """

    on_mail: object = None
    on_data: object = None
    reject: dict[str, str] = field(default_factory=dict)  # address -> reply to RCPT
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    connections: int = 0  # EHLO greetings
    mail_commands: int = 0
    data_commands: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mail_commands += 1
            action = self.on_mail(self.mail_commands) if self.on_mail else None
        if action == "drop":
            server.transport.close()
            return "421 4.4.2 connection dropped"
        if action == "421":
            return "421 4.7.0 try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            action = self.on_data(self.data_commands) if self.on_data else None
        if action == "drop":  # the message is not accepted: the client must send it again
            server.transport.close()
            return "421 4.4.2 connection dropped"
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"okr-bot", PASSWORD)
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), "ok" if ok else "refused"))
        return AuthResult(success=ok, handled=False)  # a refusal answers 535

    def recipients(self) -> Counter:
        return Counter(r for m in self.messages for r in m.rcpt_tos)


class LoopbackSMTP(Controller):
    """aiosmtpd on 127.0.0.1 and a free port (port=0): the port is read from the bound socket."""

    def __init__(self, handler: Mailbox, **kwargs):
        super().__init__(handler, hostname="127.0.0.1", port=0, **kwargs)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


PASSWORD = b"s3cr3t-Pa55word-9f2c81"


@pytest.fixture
def smtp():
    """Start a server with a handler; stopped at the end of the test."""
    started: list[LoopbackSMTP] = []

    def start(handler: Mailbox | None = None, **kwargs) -> tuple[Mailbox, LoopbackSMTP]:
        handler = handler or Mailbox()
        controller = LoopbackSMTP(handler, **kwargs)
        controller.start()
        started.append(controller)
        return handler, controller

    yield start
    for c in started:
        c.stop()


def smtp_env(controller: LoopbackSMTP, **extra: str) -> dict[str, str]:
    env = {"OKR_SMTP_HOST": "127.0.0.1", "OKR_SMTP_PORT": str(controller.port), "OKR_SMTP_SECURITY": "none",
           "OKR_MAIL_FROM": SENDER, "OKR_SMTP_BACKOFF_SECONDS": "0.1", "OKR_SMTP_ATTEMPTS": "4",
           "OKR_SMTP_USERNAME": "", "OKR_SMTP_PASSWORD": ""}
    env.update(extra)
    return env


# -- the published quarter ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def published(demo_run) -> Path:
    """The session's demo output (a dry run: nothing mailed)."""
    assert demo_run.returncode == 0, demo_run.stderr
    return demo_run.out


@pytest.fixture
def out(published, tmp_path) -> Path:
    """A private copy of the published quarter, with an empty delivery ledger."""
    target = tmp_path / "out"
    shutil.copytree(published, target, symlinks=True, ignore=shutil.ignore_patterns("deliveries"))
    return target


def manifest(out: Path) -> dict:
    return json.loads((out / DEMO_SLUG / "manifest.json").read_text(encoding="utf-8"))


def card_file(out: Path, tier: str, owner: str) -> Path:
    card = next(c for c in manifest(out)["cards"] if c["tier"] == tier and c["owner_id"] == owner)
    return out / DEMO_SLUG / f"{card['path']}.pdf"


def send(out: Path, env: dict[str, str], *args: str):
    return okr_report("send", "--workspace", str(DEMO), "--quarter", DEMO_QUARTER, "--out", str(out), *args,
                      env=env)


def reports(out: Path) -> list[dict]:
    folder = out / "deliveries" / DEMO_SLUG
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("report-*.json"))]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def rfc2231_name(value: str) -> str:
    """A Content-Disposition's ``filename*`` (or its ``filename*0*``, ``filename*1*`` ... sections) decoded."""
    sections = re.findall(r"filename\*(?:(\d+)\*)?=([^;\s]+)", value)
    joined = "".join(v for _, v in sorted(sections, key=lambda s: int(s[0] or 0)))
    charset, _, text = joined.split("'", 2)
    assert charset.lower() == "utf-8", value
    return unquote(text, encoding="utf-8")


def shown_filename(part: EmailMessage) -> str:
    """The name a mail client shows: ``filename*`` when present (RFC 6266), else ``filename``.

    Python's own ``get_filename`` returns the ASCII ``filename`` fallback when both are present, so the
    header is read as it was written.
    """
    (raw,) = [v for k, v in part.raw_items() if k.lower() == "content-disposition"]
    value = re.sub(r"\r?\n[ \t]", " ", raw)
    return rfc2231_name(value) if "filename*" in value else part.get_filename()


def pdf_attachment(msg: EmailMessage) -> tuple[str, bytes]:
    pdfs = [part for part in msg.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [p.get_content_type() for p in msg.iter_attachments()]
    return shown_filename(pdfs[0]), pdfs[0].get_content()


def first_page_text(pdf: bytes) -> str:
    return squash(PdfReader(BytesIO(pdf)).pages[0].extract_text() or "")


def check_right_pdfs(out: Path, mailbox: Mailbox, expected: dict[str, tuple[str, str]]) -> None:
    """Each message carries the recipient's scorecard: the published bytes, showing the owner's name."""
    for m in mailbox.messages:
        (rcpt,) = m.rcpt_tos
        tier, owner = expected[rcpt]
        msg = m.message
        assert msg["To"].addresses[0].addr_spec == rcpt
        name, data = pdf_attachment(msg)
        assert data == card_file(out, tier, owner).read_bytes(), (rcpt, tier, owner)
        assert squash(owner_name(tier, owner)) in first_page_text(data), (rcpt, owner)
        assert name.startswith(owner_name(tier, owner)), name


# -- dry run ---------------------------------------------------------------------------------------------

def test_dry_run_outbox_holds_well_formed_messages(published):
    run_id = manifest(published)["run_id"]
    outbox = published / "deliveries" / DEMO_SLUG / "outbox" / run_id
    files = sorted(outbox.glob("*.eml"))
    expected = all_recipients()
    seen = Counter()
    for eml in files:
        raw = eml.read_bytes()
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        for header in ("Date", "Message-ID", "From", "To", "Subject"):
            assert msg[header], (eml.name, header)
        assert msg["Date"].datetime is not None
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"]))
        rcpt = msg["To"].addresses[0].addr_spec
        seen[rcpt] += 1
        tier, owner = expected[rcpt]
        types = [part.get_content_type() for part in msg.walk()]
        assert "text/plain" in types and "text/html" in types, types
        body = msg.get_body(("plain",)).get_content()
        assert person_name_of(rcpt) in body
        name, data = pdf_attachment(msg)
        assert FILENAME_2231.search(raw.decode("ascii")), eml.name  # non-ASCII names per RFC 2231 ...
        assert FILENAME_ASCII.search(raw.decode("ascii")), eml.name  # ... and an ASCII name beside them
        assert "得分：" in body and msg["From"].addresses[0].addr_spec == "scorecards@okr-report.invalid"
        assert name.startswith(owner_name(tier, owner)) and name.endswith(".pdf"), name
        assert data[:5] == b"%PDF-"
        assert squash(owner_name(tier, owner)) in first_page_text(data), (eml.name, owner)
    # every active person, lead and executive exactly once; nobody who has left
    assert seen == Counter({r: 1 for r in expected})


def person_name_of(email: str) -> str:
    p = people()
    return p.loc[p["email"] == email, "person_name"].iloc[0]


# -- a team send -----------------------------------------------------------------------------------------

def test_team_send_reaches_members_and_lead_once_then_ledger_and_resend(out, smtp):
    mailbox, server = smtp()
    env = smtp_env(server)
    expected = team_recipients(TEAM)
    assert len(expected) >= 3
    lead_email = person(team_leads()[TEAM])["email"]

    first = send(out, env, "--team", TEAM)
    assert first.returncode == 0, first.stderr
    assert mailbox.recipients() == Counter({r: 1 for r in expected}), first.stdout
    assert all(m.mail_from == SENDER for m in mailbox.messages)
    check_right_pdfs(out, mailbox, expected)
    lead_msg = next(m for m in mailbox.messages if m.rcpt_tos == [lead_email]).message
    _, lead_pdf = pdf_attachment(lead_msg)
    assert lead_pdf == card_file(out, "team", TEAM).read_bytes()
    (report,) = reports(out)
    assert {d["email"]: d["status"] for d in report["deliveries"]} == {r: "sent" for r in expected}
    leaver = people()[(people()["team_id"] == TEAM) & people()["ended_at"].notna()]
    assert leaver["email"].isin(list(mailbox.recipients())).sum() == 0
    first_ids = {m.message["Message-ID"] for m in mailbox.messages}

    again = send(out, env, "--team", TEAM)
    assert again.returncode == 0, again.stderr
    assert len(mailbox.messages) == len(expected)  # nothing new
    assert f"0 sent, {len(expected)} already sent, 0 failed" in again.stdout
    latest = reports(out)[-1]
    assert {d["status"] for d in latest["deliveries"]} == {"skipped"}

    resend = send(out, env, "--team", TEAM, "--resend")
    assert resend.returncode == 0, resend.stderr
    assert mailbox.recipients() == Counter({r: 2 for r in expected})
    resent_ids = {m.message["Message-ID"] for m in mailbox.messages[len(expected):]}
    assert not resent_ids & first_ids  # a deliberate resend is a new message, not hidden as a duplicate


# -- exactly once under faults ---------------------------------------------------------------------------

def test_refusals_and_dropped_connections_still_deliver_each_message_once(out, smtp):
    # two 421 refusals, then a connection dropped after two accepted messages, then one dropped during DATA
    mailbox, server = smtp(Mailbox(on_mail=lambda n: "421" if n <= 2 else "drop" if n == 5 else None,
                                   on_data=lambda n: "drop" if n == 3 else None))
    expected = all_recipients()
    result = send(out, smtp_env(server, OKR_SMTP_ATTEMPTS="4"))
    assert result.returncode == 0, result.stderr
    assert mailbox.mail_commands > len(expected)  # the faults really happened
    assert mailbox.recipients() == Counter({r: 1 for r in expected})
    check_right_pdfs(out, mailbox, expected)


def test_a_failed_run_is_resumed_without_duplicates_or_gaps(out, smtp):
    healthy = threading.Event()
    # run 1: ten messages accepted, the connection drops, then the server refuses everything
    mailbox, server = smtp(Mailbox(on_mail=lambda n: None if healthy.is_set() or n <= 10
                                   else "drop" if n == 11 else "421"))
    expected = all_recipients()
    env = smtp_env(server, OKR_SMTP_ATTEMPTS="2")
    first = send(out, env)
    assert first.returncode == 3, (first.stdout, first.stderr)
    assert len(mailbox.messages) == 10
    (report,) = reports(out)
    statuses = Counter(d["status"] for d in report["deliveries"])
    assert statuses == Counter({"sent": 10, "failed": len(expected) - 10})
    assert "messages failed" in first.stderr

    healthy.set()
    second = send(out, env)
    assert second.returncode == 0, second.stderr
    assert mailbox.recipients() == Counter({r: 1 for r in expected})
    assert f"{len(expected) - 10} sent, 10 already sent, 0 failed" in second.stdout
    check_right_pdfs(out, mailbox, expected)


def test_transient_refusal_of_one_recipient_is_retried_on_the_same_batch(out, smtp):
    """450 for one mailbox (twice) delays that message; the others go on and all arrive once."""
    from flows import mail

    expected = team_recipients(TEAM)
    target = sorted(expected)[0]
    refusals = {"left": 2}
    mailbox = Mailbox()

    async def flaky_rcpt(server, session, envelope, address, rcpt_options):
        if address == target and refusals["left"] > 0:
            refusals["left"] -= 1
            return "450 4.2.1 mailbox busy"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    mailbox.handle_RCPT = flaky_rcpt
    _, server = smtp(mailbox)
    _, items = team_items(out)
    settings = mail.settings_from_env(env=smtp_env(server))
    ledger = mail.Ledger(out / "ledger-test.sqlite")
    naps: list[float] = []
    outcomes = mail.send_all(items, settings, ledger, attempts=4, backoff=0.01, sleep=naps.append)
    assert {o.status for o in outcomes} == {"sent"}
    assert mailbox.recipients() == Counter({r: 1 for r in expected})
    assert len(naps) == 2 and naps[1] > naps[0]  # backoff grows


def team_items(out: Path):
    from flows import mail
    from transforms.routing import route

    cards = [c for c in manifest(out)["cards"]
             if (c["tier"] == "team" and c["owner_id"] == TEAM)
             or (c["tier"] == "person" and c["owner_id"] in set(team_members(TEAM)["person_id"]))]
    p = people().copy()
    teams = pd.DataFrame({"team_id": list(team_leads()), "lead_id": list(team_leads().values())})
    deliveries, _ = route(cards, p, teams, [])
    by_path = {c["path"]: c for c in cards}
    req = mail.MessageRequest("FY2017-18 Q4", "星河智能科技", "zh-CN", mail.Mailbox("", SENDER), "CNY")
    items = []
    for d in deliveries:
        pdf = out / DEMO_SLUG / f"{d.path}.pdf"
        items.append((d, mail.build_message(d, by_path[d.path], pdf, req), "sha"))
    return deliveries, items


def test_two_sends_at_once_mail_each_message_once(out, smtp):
    """A scheduled run and a manual send of the same quarter at the same time: the ledger lock serialises them."""
    mailbox, server = smtp()
    expected = team_recipients(TEAM)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(smtp_env(server))
    cmd = [sys.executable, "-m", "flows.cli", "send", "--workspace", str(DEMO), "--quarter", DEMO_QUARTER,
           "--team", TEAM, "--out", str(out)]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        results = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], results
    assert mailbox.recipients() == Counter({r: 1 for r in expected})
    summaries = sorted(line.strip() for stdout, _ in results for line in stdout.splitlines() if "email:" in line)
    assert summaries[0].startswith(f"email: 0 sent, {len(expected)} already sent"), summaries
    assert summaries[1].startswith(f"email: {len(expected)} sent, 0 already sent"), summaries


# -- permanent failure -----------------------------------------------------------------------------------

def test_permanent_refusal_is_recorded_and_the_others_are_delivered(out, smtp):
    expected = team_recipients(TEAM)
    bad = sorted(r for r, (tier, _) in expected.items() if tier == "person")[0]
    mailbox, server = smtp(Mailbox(reject={bad: "550 5.1.1 no such mailbox"}))
    result = send(out, smtp_env(server), "--team", TEAM)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert bad in result.stderr and "550" in result.stderr
    assert mailbox.recipients() == Counter({r: 1 for r in expected if r != bad})
    (report,) = reports(out)
    by_email = {d["email"]: d for d in report["deliveries"]}
    assert by_email[bad]["status"] == "failed" and "550" in by_email[bad]["detail"]
    assert all(by_email[r]["status"] == "sent" for r in expected if r != bad)


# -- secrets ---------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_password_is_used_but_never_written(out, smtp, tmp_path):
    mailbox = Mailbox()
    _, server = smtp(mailbox, authenticator=mailbox.authenticate, auth_require_tls=False, auth_required=True)
    prefect_home = tmp_path / "prefect-home"
    env = smtp_env(server, OKR_SMTP_USERNAME="okr-bot", OKR_SMTP_PASSWORD=PASSWORD.decode(),
                   PREFECT_HOME=str(prefect_home))
    result = send(out, env, "--team", TEAM)
    assert result.returncode == 0, result.stderr
    assert ("okr-bot", "ok") in mailbox.logins
    assert mailbox.recipients() == Counter({r: 1 for r in team_recipients(TEAM)})
    secret = PASSWORD.decode()
    assert secret not in result.stdout and secret not in result.stderr
    for folder in (out, prefect_home):  # outputs, ledger, reports, and Prefect's own database and logs
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert PASSWORD not in path.read_bytes(), path

    # a wrong password fails at once (no retries that could lock the account), without echoing it
    from flows import mail

    _, items = team_items(out)
    wrong = mail.settings_from_env(env=smtp_env(server, OKR_SMTP_USERNAME="okr-bot",
                                                OKR_SMTP_PASSWORD="not-the-password"))
    before = mailbox.connections
    outcomes = mail.send_all(items, wrong, mail.Ledger(tmp_path / "ledger.sqlite"), attempts=4, backoff=0.01)
    assert {o.status for o in outcomes} == {"failed"}
    assert mailbox.connections == before + 1
    assert mailbox.logins[-1] == ("okr-bot", "refused")
    assert all("535" in o.detail and "not-the-password" not in o.detail for o in outcomes)
    assert "not-the-password" not in repr(wrong)


# -- header injection ------------------------------------------------------------------------------------

def test_names_and_addresses_with_line_breaks_are_never_addressed(out):
    from flows import mail
    from transforms.routing import Delivery, route

    p = pd.DataFrame({
        "person_id": ["P1", "P2", "P3", "P4"],
        "person_name": ["Eve\r\nBcc: victim@example.com", "Mallory", "Trent\n", "Peggy"],
        "email": ["eve@example.com", "mallory@example.com\r\nBcc: victim@example.com", "trent@example.com",
                  "peggy@example.com"],
        "team_id": ["t", "t", "t", "t"],
    })
    cards = [{"tier": "person", "owner_id": pid, "owner_name": name, "path": f"people/{pid}"}
             for pid, name in zip(p["person_id"], p["person_name"])]
    cards.append({"tier": "team", "owner_id": "t", "owner_name": "Team\r\nX-Evil: 1", "path": "teams/t"})
    teams = pd.DataFrame({"team_id": ["t"], "lead_id": ["P4"]})
    deliveries, skipped = route(cards, p, teams, [])
    assert [d.email for d in deliveries] == ["peggy@example.com"]
    assert len(skipped) == 4

    pdf = card_file(out, "company", config()["company"]["id"])
    summary = {"tier": "person", "owner_id": "P4", "owner_name": "Peggy", "path": "people/P4", "score": 0.5,
               "status": "yellow", "change": None, "focus": []}
    req = mail.MessageRequest("FY2017-18 Q4", "Co", "en", mail.Mailbox("", SENDER))
    good = Delivery("P4", "Peggy", "peggy@example.com", "person", "P4", "Peggy", "people/P4", "own")
    assert mail.build_message(good, summary, pdf, req)["To"]
    for bad in (Delivery("P1", "Eve\r\nBcc: victim@example.com", "eve@example.com", "person", "P1", "Eve",
                         "people/P1", "own"),
                Delivery("P4", "Peggy", "peggy@example.com", "person", "P4", "Peggy\nX-Evil: 1", "people/P4", "own"),
                Delivery("P2", "Mallory", "mallory@example.com\r\nBcc: v@example.com", "person", "P2", "Mallory",
                         "people/P2", "own")):
        with pytest.raises(ValueError):
            mail.build_message(bad, summary, pdf, req)
    for hostile in (replace(req, quarter="FY2017-18 Q4\r\nBcc: v@example.com"),
                    replace(req, sender=mail.Mailbox("OKR\r\nBcc: v@example.com", SENDER)),
                    replace(req, reply_to=mail.Mailbox("", "v@example.com\r\nBcc: w@example.com"))):
        with pytest.raises(ValueError):
            mail.build_message(good, summary, pdf, hostile)


# -- the acceptance check ------------------------------------------------------------------------

def test_team_run_with_send_mails_members_and_lead_once(out, smtp):
    """`okr-report run --workspace data/demo --team <id> --send` against a loopback SMTP server, twice."""
    mailbox, server = smtp()
    env = smtp_env(server)
    expected = team_recipients(TEAM)
    args = ("run", "--workspace", "data/demo", "--quarter", DEMO_QUARTER, "--team", TEAM, "--send",
            "--out", str(out))
    first = okr_report(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert mailbox.recipients() == Counter({r: 1 for r in expected})
    check_right_pdfs(out, mailbox, expected)
    runs = [json.loads(line) for line in (out / ".runs" / DEMO_SLUG / "history.jsonl").read_text().splitlines()]
    assert runs[-1]["scope"] == "team"  # the exports did not change: the published version was kept and mailed

    again = okr_report(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert mailbox.recipients() == Counter({r: 1 for r in expected})  # nothing new
    assert f"0 sent, {len(expected)} already sent" in again.stdout


def test_only_the_newest_outboxes_are_kept(tmp_path):
    from flows.delivery import OUTBOXES_KEPT, prune_outboxes

    runs = ["20261001T060000Z-aaaaaa", "20261001T070000Z-bbbbbb", "20261002T060000Z-cccccc",
            "20261003T060000Z-dddddd", "20261003T060001Z-eeeeee"]
    for r in runs:
        (tmp_path / r).mkdir()
        (tmp_path / r / "0001-p1-people-p1.eml").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("kept: not an outbox")
    removed = prune_outboxes(tmp_path, keep=OUTBOXES_KEPT)
    assert OUTBOXES_KEPT == 3
    assert [p.name for p in removed] == runs[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["notes.txt", *runs[2:]])
