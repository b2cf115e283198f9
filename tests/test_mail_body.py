"""What a scorecard email says, built from hand-made card summaries (the schema delivery receives).

Every expected string is written out here by hand: the score with two decimals and its status word, the change
against the previous quarter, the KRs to act on in order with values formatted for their unit, the link to the
HTML scorecard, the recipient's language, the attachment's two file names and the From header. One test mails
through the real SMTP server on loopback that the delivery tests use.
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pandas as pd
import pytest

from flows import mail
from flows.delivery import DeliveryRequest, deliver_scorecards, message_request
from tests.test_delivery import LoopbackSMTP, rfc2231_name
from tests.test_delivery import Mailbox as Inbox
from transforms.routing import Delivery, route
from transforms.runplan import Scope

QUARTER = "FY2017-18 Q4"
SLUG = "FY2017-18-Q4"
COMPANY = "星河智能科技"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def kr(kr_id: str, zh: str, en: str, unit: str, actual, target, score, status: str) -> dict:
    return {"kr_id": kr_id, "titles": {"zh-CN": zh, "en": en}, "unit": unit, "actual": actual, "target": target,
            "score": score, "status": status}


FOCUS = [
    kr("KR1", "新签客户数", "New customers", "count", 12, 20, 0.6, "red"),
    kr("KR2", "赢单率", "Win rate", "percent", None, 0.35, None, "no_data"),
    kr("KR3", "回款金额", "Cash collected <script>", "currency", 12500, 20000, 0.63, "yellow"),
]


def card(**changes) -> dict:
    base = {"tier": "person", "owner_id": "P001", "owner_name": "李娜", "team_name": "华东一组",
            "path": "people/P001", "score": 0.68, "status": "yellow",
            "change": {"previous_quarter": "FY2017-18 Q3", "previous_score": 0.61, "delta": 0.07, "arrow": "up"},
            "focus": FOCUS}
    return {**base, **changes}


def delivery(locale: str | None = None, **changes) -> Delivery:
    fields = {"recipient_id": "P001", "recipient_name": "李娜", "email": "li.na@example.com", "tier": "person",
              "owner_id": "P001", "owner_name": "李娜", "path": "people/P001", "reason": "own", "locale": locale}
    return Delivery(**{**fields, **changes})


def request(locale: str = "zh-CN", **changes) -> mail.MessageRequest:
    fields = {"quarter": QUARTER, "company": COMPANY, "locale": locale,
              "sender": mail.Mailbox("OKR Reports", "okr@example.com"), "currency": "CNY"}
    return mail.MessageRequest(**{**fields, **changes})


@pytest.fixture
def pdf(tmp_path) -> Path:
    path = tmp_path / "P001.pdf"
    path.write_bytes(PDF)
    return path


def parsed(msg: EmailMessage) -> tuple[bytes, EmailMessage]:
    raw = bytes(msg)
    return raw, BytesParser(policy=policy.default).parsebytes(raw)


def bodies(msg: EmailMessage) -> tuple[str, str]:
    _, back = parsed(msg)
    return back.get_body(("plain",)).get_content(), back.get_body(("html",)).get_content()


def in_order(text: str, parts: list[str]) -> bool:
    at = [text.find(p) for p in parts]
    return -1 not in at and at == sorted(at)


# -- the body --------------------------------------------------------------------------------------------

def test_chinese_body_states_score_change_and_the_three_krs_in_order(pdf):
    text, html = bodies(mail.build_message(delivery(), card(), pdf, request("zh-CN")))
    lines = text.splitlines()
    assert "得分：0.68（有风险）" in lines
    assert "变化：较 FY2017-18 Q3 ▲ +0.07（原为 0.61）" in lines
    krs = ["1. 新签客户数：实际值 12，目标值 20，得分 0.60，落后",
           "2. 赢单率：实际值 无数据，目标值 35%，得分 无数据，无数据",
           "3. 回款金额：实际值 ¥12,500，目标值 ¥20,000，得分 0.63，有风险"]
    start = lines.index("需要关注的关键结果：")
    assert lines[start + 1:start + 4] == krs
    assert "<strong>得分：0.68（有风险）</strong>" in html
    assert "变化：较 FY2017-18 Q3 ▲ +0.07（原为 0.61）" in html
    assert in_order(html, [f"<li>{line[3:]}</li>" for line in krs])
    assert "http" not in text and "<a " not in html  # no public_url: no link


def test_english_body_formats_like_the_card_and_escapes_titles_in_html(pdf):
    text, html = bodies(mail.build_message(delivery(), card(), pdf, request("en")))
    lines = text.splitlines()
    assert "Score: 0.68 (At risk)" in lines
    assert "Change: ▲ +0.07 vs FY2017-18 Q3 (was 0.61)" in lines
    krs = ["1. New customers: actual 12 vs target 20, score 0.60, Off track",
           "2. Win rate: actual no data vs target 35%, score no data, No data",
           "3. Cash collected <script>: actual CN¥12,500 vs target CN¥20,000, score 0.63, At risk"]
    start = lines.index("Key results to act on:")
    assert lines[start + 1:start + 4] == krs
    assert in_order(html, ["<li>New customers: actual 12 vs target 20, score 0.60, Off track</li>",
                           "<li>Win rate: actual no data vs target 35%, score no data, No data</li>",
                           "<li>Cash collected &lt;script&gt;: actual CN¥12,500 vs target CN¥20,000, score 0.63, "
                           "At risk</li>"])
    assert "<script>" not in html


def test_change_says_why_when_there_is_none_and_focus_says_when_nothing_needs_attention(pdf):
    def lines(locale: str, **changes) -> list[str]:
        text, _ = bodies(mail.build_message(delivery(), card(**changes), pdf, request(locale)))
        return text.splitlines()

    first = lines("en", change=None, focus=[])
    assert "Change: there is no earlier quarter to compare with." in first
    assert "Nothing needs attention: no key result is flagged." in first
    assert "Key results to act on:" not in first
    zh_first = lines("zh-CN", change=None, focus=[])
    assert "变化：没有更早的季度可以比较。" in zh_first and "目前没有需要关注的关键结果。" in zh_first

    lost = {"previous_quarter": "FY2017-18 Q3", "previous_score": None, "delta": None, "arrow": "flat"}
    assert "Change: the FY2017-18 Q3 score could not be computed, so there is nothing to compare with." in lines(
        "en", change=lost)
    assert "变化：FY2017-18 Q3 的得分无法计算，因此无法比较。" in lines("zh-CN", change=lost)

    down = {"previous_quarter": "FY2017-18 Q3", "previous_score": 0.75, "delta": -0.07, "arrow": "down"}
    assert "Change: ▼ -0.07 vs FY2017-18 Q3 (was 0.75)" in lines("en", change=down)
    assert "变化：较 FY2017-18 Q3 ▼ -0.07（原为 0.75）" in lines("zh-CN", change=down)
    flat = {"previous_quarter": "FY2017-18 Q3", "previous_score": 0.68, "delta": 0.0, "arrow": "flat"}
    assert "Change: ► ±0.00 vs FY2017-18 Q3 (was 0.68)" in lines("en", change=flat)

    blank = lines("en", score=None, status="no_data",
                  change={"previous_quarter": "FY2017-18 Q3", "previous_score": 0.61, "delta": None, "arrow": "flat"})
    assert "Score: no data" in blank and not any("0.00" in line for line in blank)
    assert "Change: there is no score this quarter to compare with FY2017-18 Q3 (0.61)." in blank


def test_at_most_three_krs_and_a_summary_without_the_new_keys_leaves_them_out(pdf):
    extra = kr("KR4", "续约率", "Renewal rate", "percent", 0.9, 0.95, 0.9, "green")
    text, _ = bodies(mail.build_message(delivery(), card(focus=[*FOCUS, extra]), pdf, request("en")))
    assert "3. Cash collected <script>" in text and "Renewal rate" not in text
    assert not any(line.startswith("4.") for line in text.splitlines())

    old = {k: v for k, v in card().items() if k not in ("change", "focus")}  # a manifest from before
    text, _ = bodies(mail.build_message(delivery(), old, pdf, request("en")))
    assert "Score: 0.68 (At risk)" in text
    assert "Change:" not in text and "Nothing needs attention" not in text and "Key results" not in text


def test_a_title_missing_in_the_message_language_falls_back_to_the_other_then_the_id(pdf):
    focus = [kr("KR9", "客户满意度", "", "ratio", 1.2, 1.5, 0.8, "green"),
             {**kr("KR8", "", "", "days", 41.5, 30, 0.45, "yellow"), "titles": {}}]
    text, _ = bodies(mail.build_message(delivery(), card(focus=focus), pdf, request("en")))
    assert "1. 客户满意度: actual 1.2x vs target 1.5x, score 0.80, On track" in text.splitlines()
    assert "2. KR8: actual 41.5 d vs target 30 d, score 0.45, At risk" in text.splitlines()


# -- the link --------------------------------------------------------------------------------------------

def delivery_request(tmp_path: Path, mail_section: dict, **changes) -> DeliveryRequest:
    fields = {"cards": [card()], "folder": tmp_path, "out": tmp_path, "slug": SLUG, "quarter_label": QUARTER,
              "company": COMPANY, "locale": "zh-CN", "people": pd.DataFrame(), "teams": pd.DataFrame(),
              "executives": [], "scope": Scope(), "send": False, "resend": False, "run_id": "r1",
              "currency": "CNY", "mail_options": mail.mail_options(mail_section)}
    return DeliveryRequest(**{**fields, **changes})


def test_link_to_the_html_scorecard_only_when_public_url_is_configured(tmp_path, pdf):
    online = message_request(delivery_request(tmp_path, {"public_url": "https://okr.example.com/reports/"}), None)
    text, html = bodies(mail.build_message(delivery(), card(), pdf, online))
    url = "https://okr.example.com/reports/FY2017-18-Q4/people/P001.html"
    assert f"在线查看评分卡：{url}" in text.splitlines()
    assert f'<a href="{url}">{url}</a>' in html

    en_variant = delivery_request(tmp_path, {"public_url": "http://intranet:8080/okr"}, slug="FY2017-18-Q4.en")
    odd = delivery(path="people/王 01")
    text, html = bodies(mail.build_message(odd, card(path="people/王 01"), pdf, message_request(en_variant, None)))
    assert "http://intranet:8080/okr/FY2017-18-Q4.en/people/%E7%8E%8B%2001.html" in text

    offline = message_request(delivery_request(tmp_path, {}), None)
    text, html = bodies(mail.build_message(delivery(), card(), pdf, offline))
    assert "http" not in text and "href" not in html and "在线查看" not in text


@pytest.mark.parametrize("value, why", [
    ("ftp://okr.example.com/reports", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("https://okr.example.com/my reports", "space or control character"),
    ("https://okr.example.com/\x07", "space or control character"),
    ("https://okr.example.com/\"><script>", "cannot carry unescaped"),
    ("https:///reports", "no host"),
    ("https://okr.example.com/reports?x=1", "query or fragment"),
    ("https://okr.example.com/reports#top", "query or fragment"),
    ("https://okr.example.com:port/", "not a well-formed address"),
    ("", "empty"),
    (42, "empty or not text"),
])
def test_public_url_is_checked_with_a_clear_message(value, why):
    with pytest.raises(mail.MailConfigError, match="mail.public_url in okr.yaml must be the http:// or https://") as e:
        mail.mail_options({"public_url": value})
    assert why in str(e.value)


def test_a_public_url_with_a_password_is_refused_without_showing_it():
    with pytest.raises(mail.MailConfigError) as e:
        mail.mail_options({"public_url": "https://bot:hunter2@okr.example.com/reports"})
    assert "user name or password" in str(e.value) and "hunter2" not in str(e.value)


def test_a_misspelt_mail_setting_is_an_error():
    with pytest.raises(mail.MailConfigError, match=r"unknown setting 'public_ulr'.*expected credentials_block, "
                                                  r"from, reply_to, public_url"):
        mail.mail_options({"public_ulr": "https://okr.example.com"})


def test_bad_mail_settings_stop_a_run_before_it_starts_even_a_dry_run():
    from flows.config_io import load_workspace
    from flows.prepare import check_mail_settings
    from tests.conftest import DEMO
    from transforms.problems import InputError

    ws, _ = load_workspace(DEMO)
    with pytest.raises(InputError) as e:
        check_mail_settings(ws.model_copy(update={"mail": {"public_url": "ftp://x"}}), send=False)
    assert "mail.public_url" in str(e.value.problems[0])
    check_mail_settings(ws.model_copy(update={"mail": {"public_url": "https://okr.example.com"}}), send=False)


# -- the recipient's language ----------------------------------------------------------------------------

def test_language_follows_the_people_directory_locale_column_else_the_run(pdf):
    people = pd.DataFrame({"person_id": ["P1", "P2", "P3"], "person_name": ["Alice Wu", "王芳", "Chen Jie"],
                           "email": ["alice@example.com", "wang@example.com", "chen@example.com"],
                           "team_id": ["t1", "t1", "t1"], "locale": ["en", None, "zh-CN"]})
    cards = [card(owner_id=pid, owner_name=name, path=f"people/{pid}")
             for pid, name in zip(people["person_id"], people["person_name"])]
    deliveries, skipped = route(cards, people, pd.DataFrame({"team_id": ["t1"], "lead_id": ["P3"]}), [])
    assert not skipped
    assert [d.locale for d in deliveries] == ["en", None, "zh-CN"]

    def subject_and_score(d: Delivery, run_locale: str) -> tuple[str, str]:
        msg = mail.build_message(d, cards[0], pdf, request(run_locale))
        _, back = parsed(msg)
        text = back.get_body(("plain",)).get_content()
        return str(back["Subject"]), next(line for line in text.splitlines() if line.startswith(("Score", "得分")))

    alice, wang, chen = deliveries
    assert subject_and_score(alice, "zh-CN") == ("FY2017-18 Q4 OKR scorecard: Alice Wu", "Score: 0.68 (At risk)")
    assert subject_and_score(wang, "zh-CN") == ("FY2017-18 Q4 OKR 评分卡：王芳", "得分：0.68（有风险）")
    assert subject_and_score(wang, "en") == ("FY2017-18 Q4 OKR scorecard: 王芳", "Score: 0.68 (At risk)")
    assert subject_and_score(chen, "en") == ("FY2017-18 Q4 OKR 评分卡：Chen Jie", "得分：0.68（有风险）")
    text, _ = bodies(mail.build_message(alice, cards[0], pdf, request("zh-CN")))
    assert text.startswith("Hello Alice Wu,") and "1. New customers: actual 12 vs target 20" in text


def test_people_locale_is_an_optional_column_a_source_can_map():
    from transforms.config import Source
    from transforms.contracts import PRESETS
    from transforms.staging import stage
    from transforms.validation import check_cells

    spec = PRESETS["people"].columns["locale"]
    assert spec.dtype == "str" and not spec.required and spec.allowed == ("zh-CN", "en")
    raw = pd.DataFrame({"ID": ["P1", "P2", "P3", "P4"], "Name": ["A", "B", "C", "D"], "Team": ["t"] * 4,
                        "Language": ["English", "中文", None, "French"]})
    source = Source(path="people.csv", columns={"person_id": "ID", "person_name": "Name", "team_id": "Team",
                                                "locale": "Language"},
                    values={"locale": {"English": "en", "中文": "zh-CN"}})
    frame, problems = stage(raw, source, PRESETS["people"], "people.csv", "UTC")
    assert not problems
    assert frame["locale"].tolist()[:2] == ["en", "zh-CN"] and pd.isna(frame["locale"][2])
    (bad,) = check_cells(frame, PRESETS["people"], "people.csv", None, {"locale": "Language"})
    assert bad.column == "Language" and bad.value == "French" and "zh-CN, en" in str(bad)
    without, problems = stage(raw.drop(columns="Language"), Source(path="people.csv", columns={
        "person_id": "ID", "person_name": "Name", "team_id": "Team"}), PRESETS["people"], "people.csv", "UTC")
    assert not problems and frame.columns.tolist() == without.columns.tolist() and without["locale"].isna().all()


# -- the attachment's name -------------------------------------------------------------------------------

def disposition(raw: bytes) -> str:
    """The PDF part's Content-Disposition as written on the wire, continuation lines joined."""
    part = raw.split(b"Content-Type: application/pdf", 1)[1]
    head = part.split(b"\r\n\r\n" if b"\r\n\r\n" in part else b"\n\n", 1)[0].decode("ascii")
    match = re.search(r"^Content-Disposition:(.*(?:\r?\n[ \t].*)*)", head, re.MULTILINE)
    assert match, head
    return re.sub(r"\r?\n[ \t]", " ", match.group(1)).strip()


def test_attachment_has_an_ascii_filename_beside_the_rfc_2231_one(pdf):
    raw, back = parsed(mail.build_message(delivery(), card(), pdf, request()))
    value = disposition(raw)
    assert value.startswith("attachment;")
    assert 'filename="OKR scorecard P001 FY2017-18 Q4.pdf"' in value
    # 李 U+674E = E6 9D 8E, 娜 U+5A1C = E5 A8 9C, space = 20
    assert "filename*=utf-8''%E6%9D%8E%E5%A8%9C%20FY2017-18%20Q4.pdf" in value
    assert rfc2231_name(value) == "李娜 FY2017-18 Q4.pdf"
    (att,) = back.iter_attachments()
    assert att.get_content_type() == "application/pdf" and att.get_content() == PDF
    assert att.get_content_disposition() == "attachment"


def test_long_and_ascii_names_and_odd_owner_ids(pdf):
    long_name = "星河智能科技华东大区第一销售团队（上海、杭州、南京）"
    d = delivery(tier="team", owner_id="华东-01", owner_name=long_name, path="teams/east")
    raw, _ = parsed(mail.build_message(d, card(owner_name=long_name, path="teams/east"), pdf, request()))
    value = disposition(raw)
    assert 'filename="OKR scorecard -01 FY2017-18 Q4.pdf"' in value
    assert "filename*0*=utf-8''" in value and "filename*1*=" in value
    assert rfc2231_name(value) == f"{long_name} FY2017-18 Q4.pdf"
    for section in re.findall(r"filename\*\d+\*=(?:utf-8'')?([^;\s]+)", value):  # split between characters
        unquote_to_bytes(section).decode("utf-8")
    assert all(len(line) <= 78 for line in raw.decode("ascii").splitlines())

    d = delivery(owner_id="P001", owner_name="Alice Wu", recipient_name="Alice Wu")
    raw, back = parsed(mail.build_message(d, card(owner_name="Alice Wu"), pdf, request()))
    assert disposition(raw) == 'attachment; filename="Alice Wu FY2017-18 Q4.pdf"'
    assert next(back.iter_attachments()).get_filename() == "Alice Wu FY2017-18 Q4.pdf"
    assert mail.ascii_filename("Ünïcödé Team/Ω 1.pdf") == "Unicode Team_ 1.pdf"
    assert mail.ascii_filename("李娜.pdf") == "scorecard.pdf"
    assert mail.ascii_filename('a "quoted" \\ name') == "a _quoted_ _ name.pdf"


# -- From and Reply-To -----------------------------------------------------------------------------------

SMTP = {"OKR_SMTP_HOST": "127.0.0.1", "OKR_SMTP_SECURITY": "none"}


def test_mail_from_in_okr_yaml_wins_over_okr_mail_from(tmp_path, pdf):
    options = mail.mail_options({"from": "OKR Reports <okr@example.com>", "reply_to": "Sales Ops <ops@example.com>"})
    assert options.sender == mail.Mailbox("OKR Reports", "okr@example.com")
    settings = mail.settings_from_env({**SMTP, "OKR_MAIL_FROM": "relay@example.com"}, sender=options.sender)
    assert (settings.sender, settings.sender_name) == ("okr@example.com", "OKR Reports")
    msg = mail.build_message(delivery(), card(), pdf,
                             message_request(delivery_request(tmp_path, {"from": "OKR Reports <okr@example.com>",
                                                                         "reply_to": "ops@example.com"}), settings))
    raw, back = parsed(msg)
    assert b"\nFrom: OKR Reports <okr@example.com>\n" in raw
    assert b"\nReply-To: ops@example.com\n" in raw
    assert back["Message-ID"].endswith("@example.com>")

    # no mail.from: OKR_MAIL_FROM, shown with the company's name unless it brings its own
    plain = mail.settings_from_env({**SMTP, "OKR_MAIL_FROM": "relay@example.com"})
    _, back = parsed(mail.build_message(delivery(), card(), pdf, message_request(
        delivery_request(tmp_path, {}), plain)))
    (addr,) = back["From"].addresses
    assert (addr.display_name, addr.addr_spec) == ("星河智能科技", "relay@example.com")
    assert back["Reply-To"] is None
    named = mail.settings_from_env({**SMTP, "OKR_MAIL_FROM": '"Sales, Ops" <relay@example.com>'})
    assert (named.sender, named.sender_name) == ("relay@example.com", "Sales, Ops")

    # a dry run shows the configured From rather than the placeholder
    dry = message_request(delivery_request(tmp_path, {"from": "okr@example.com"}), None)
    assert dry.sender == mail.Mailbox("", "okr@example.com")
    assert message_request(delivery_request(tmp_path, {}), None).sender.address == "scorecards@okr-report.invalid"


@pytest.mark.parametrize("value", ["okr@example.com, boss@example.com", "OKR Reports <not an address>",
                                   "OKR\r\nBcc: victim@example.com <okr@example.com>", "okr@example.com\nBcc: x@y.com",
                                   "", 7, "<okr@example.com> trailing"])
def test_a_malformed_from_is_a_clear_config_error(value):
    with pytest.raises(mail.MailConfigError, match=r"mail\.from in okr.yaml must be one email address, optionally "
                                                   r"with a display name"):
        mail.mail_options({"from": value})
    with pytest.raises(mail.MailConfigError, match="mail.reply_to in okr.yaml"):
        mail.mail_options({"reply_to": value})


def test_without_any_from_a_send_is_refused():
    with pytest.raises(mail.MailConfigError, match="OKR_MAIL_FROM"):
        mail.settings_from_env(dict(SMTP))
    assert mail.settings_from_env(dict(SMTP), sender=mail.Mailbox("", "okr@example.com")).sender == "okr@example.com"


# -- through a real SMTP server --------------------------------------------------------------------------

def test_round_trip_through_the_loopback_smtp_server(tmp_path, monkeypatch):
    folder = tmp_path / SLUG
    (folder / "people").mkdir(parents=True)
    people = pd.DataFrame({"person_id": ["P001", "P002"], "person_name": ["李娜", "Alice Wu"],
                           "email": ["li.na@example.com", "alice@example.com"], "team_id": ["t1", "t1"],
                           "locale": [None, "en"]})
    cards = [card(), card(owner_id="P002", owner_name="Alice Wu", path="people/P002", score=0.41, status="yellow",
                          change=None, focus=[])]
    for c in cards:
        (folder / f"{c['path']}.pdf").write_bytes(PDF + c["owner_id"].encode())
    inbox = Inbox()
    server = LoopbackSMTP(inbox)
    server.start()
    try:
        monkeypatch.setenv("OKR_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("OKR_SMTP_PORT", str(server.port))
        monkeypatch.setenv("OKR_SMTP_SECURITY", "none")
        monkeypatch.setenv("OKR_MAIL_FROM", "relay@example.com")
        monkeypatch.setattr("flows.delivery._artifact", lambda *a, **k: None)
        req = delivery_request(tmp_path, {"from": "OKR Reports <okr@example.com>",
                                          "public_url": "https://okr.example.com/reports"},
                               cards=cards, folder=folder, people=people, send=True,
                               teams=pd.DataFrame({"team_id": ["t1"], "lead_id": [None]}))
        summary = deliver_scorecards.fn(req)
    finally:
        server.stop()
    assert summary.counts["sent"] == 2 and not summary.failed, summary
    by_rcpt = {m.rcpt_tos[0]: m for m in inbox.messages}
    assert {m.mail_from for m in inbox.messages} == {"okr@example.com"}  # the envelope follows mail.from

    li = by_rcpt["li.na@example.com"]
    assert re.search(rb"^From: OKR Reports <okr@example.com>\r?$", li.raw, re.MULTILINE)
    text = li.message.get_body(("plain",)).get_content()
    assert "得分：0.68（有风险）" in text and "变化：较 FY2017-18 Q3 ▲ +0.07（原为 0.61）" in text
    assert in_order(text, ["1. 新签客户数", "2. 赢单率", "3. 回款金额"])
    assert "在线查看评分卡：https://okr.example.com/reports/FY2017-18-Q4/people/P001.html" in text
    value = disposition(li.raw)
    assert 'filename="OKR scorecard P001 FY2017-18 Q4.pdf"' in value
    assert "filename*=utf-8''%E6%9D%8E%E5%A8%9C%20FY2017-18%20Q4.pdf" in value
    (att,) = li.message.iter_attachments()
    assert att.get_content() == PDF + b"P001"

    alice = by_rcpt["alice@example.com"].message
    assert str(alice["Subject"]) == "FY2017-18 Q4 OKR scorecard: Alice Wu"
    text = alice.get_body(("plain",)).get_content()
    assert "Score: 0.41 (At risk)" in text and "Change: there is no earlier quarter to compare with." in text
    assert "Nothing needs attention: no key result is flagged." in text
    assert "https://okr.example.com/reports/FY2017-18-Q4/people/P002.html" in text


def test_both_languages_have_every_phrase():
    from flows.mail_body import phrases

    assert set(phrases("zh-CN")) == set(phrases("en"))
    with pytest.raises(ValueError, match="unsupported locale"):
        phrases("fr")
