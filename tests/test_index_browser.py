"""The quarter's index page in a real browser: headless Chromium sorts, filters and lays it out.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON messages
separated by NUL bytes on file descriptors 3 and 4), so the stdlib is enough and the page under test is
the rendered file itself, never a copy with test code in it. Clicks are real mouse events at the
buttons' places, text is typed as an input method commits it, and an option is picked by setting the
select box and firing its events. Every expected order or count is computed here from the hand-built
model with plain Python, never by the code under test.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from flows.render import render_index_html

TIMEOUT = 60.0
WIDE, NARROW, HEIGHT = 1280, 420, 900
ROW_NAMES = "Array.from(document.querySelectorAll('#index-table tbody tr'), r => r.cells[0].textContent)"
SHOWN_NAMES = (
    "Array.from(document.querySelectorAll('#index-table tbody tr'))"
    ".filter(r => !r.hidden && r.offsetParent !== null).map(r => r.cells[0].textContent)"
)


# --------------------------------------------------------------------------- the browser


def chromium_binary() -> str:
    """The browser `make test` installs (Debian package chromium); missing it is a failure, not a skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("chromium is not installed: `make system-deps` installs it (Debian package `chromium`)")
    return found


class DevTools:
    """One headless Chromium and the DevTools protocol spoken over its pipe."""

    def __init__(self, profile: Path) -> None:
        binary = chromium_binary()
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()
        self._log = (profile.parent / "chromium.log").open("w+b")
        flags = [
            "--headless", "--disable-gpu", "--no-sandbox", "--remote-debugging-pipe",
            f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND", "about:blank",
        ]
        # Chromium reads commands on fd 3 and answers on fd 4; bash (dash takes one-digit fds only) puts
        # the pipe ends there.
        wiring = f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser}'
        self.process = subprocess.Popen(
            ["bash", "-c", wiring, binary, *flags], stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=self._log, pass_fds=(to_browser, from_browser),
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """One command; events that arrive before its answer are not needed by these tests and dropped."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data):]
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method} failed: {reply['error']}")
                return reply["result"]

    def _receive(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._in], [], [], max(0.0, left))
            chunk = os.read(self._in, 1 << 20) if ready else b""
            if not chunk:
                self._log.seek(0)
                raise AssertionError(f"chromium gave no answer (timeout or exit):\n{self._log.read()[-3000:]!r}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._in)
        os.close(self._out)
        self._log.close()


class Tab:
    """One page, laid out at a given window size, and what a person does with it."""

    def __init__(self, browser: DevTools, url: str, width: int, script: bool = True) -> None:
        self.browser = browser
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        metrics = {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics)
        self.call("Emulation.setScrollbarsHidden", {"hidden": True})  # a phone's: the page gets the full width
        self.call("Emulation.setScriptExecutionDisabled", {"value": not script})
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + TIMEOUT
        while self.js("location.href + ' ' + document.readyState") != f"{url} complete":
            assert time.monotonic() < deadline, f"{url} did not load"
            time.sleep(0.05)

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def js(self, expression: str) -> Any:
        """Evaluate from outside the page (works with the page's own scripts switched off, too)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click in the middle of the element, scrolled into view first."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            event = {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1}
            self.call("Input.dispatchMouseEvent", event)

    def type_into(self, selector: str, text: str) -> None:
        """Empty a text box, then type into it as a keyboard (or an input method) would."""
        self.js(f"document.querySelector({json.dumps(selector)}).select()")
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Backspace", "code": "Backspace",
                                             "windowsVirtualKeyCode": 8})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Backspace", "code": "Backspace",
                                             "windowsVirtualKeyCode": 8})
        if text:
            self.call("Input.insertText", {"text": text})

    def choose(self, selector: str, value: str) -> None:
        """Pick an option as a select box does when a person picks one: value set, change fired."""
        self.js(
            f"(() => {{ const s = document.querySelector({json.dumps(selector)});"
            f" s.focus(); s.value = {json.dumps(value)};"
            " s.dispatchEvent(new Event('input', {bubbles: true}));"
            " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
        )

    def screenshot(self, path: Path) -> Image.Image:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return Image.open(path).convert("RGB")

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    tools = DevTools(tmp_path_factory.mktemp("chromium") / "profile")
    yield tools
    tools.close()


@pytest.fixture
def open_tab(browser, pages):
    tabs = []

    def opener(locale: str, width: int = WIDE, script: bool = True) -> Tab:
        tabs.append(Tab(browser, pages[locale].as_uri(), width, script))
        return tabs[-1]

    yield opener
    for tab in tabs:
        tab.close()


# --------------------------------------------------------------------------- the page under test

COMPANY = "星河智能科技有限公司 Galaxy Intelligent Technology Co., Ltd."
TEAMS = {
    "t-east": "华东大区销售一部（上海、江苏、浙江、安徽）",
    "t-na": "North America Enterprise Partnerships and Strategic Alliances",
    "t-channel": "渠道分销部",
    "t-ecom": "电商与电话销售部 E-commerce & Tele-sales",
    "t-rd": "Research",
}
PEOPLE = {
    "t-east": ["阿卜杜热合曼·艾合买提江·买买提明", "欧阳明月", "<b>x</b>", "Wang Fang 王芳", "上官婉儿", "司马相如",
               "诸葛孔明"],
    "t-na": ["Maximilian Alexander Montgomery-Fitzgerald", "Anna Lee", "Ann Lee", "Bob Stone", "christopher young",
             "Dana Whitfield", "Eve Adams"],
    "t-channel": ["张伟", "李娜", "王芳", "陈静", "赵磊", "刘洋", "黄敏"],
    "t-ecom": ["Supercalifragilisticexpialidocious Wolfeschlegelsteinhausenbergerdorff", "周敏 Zhou Min", "孙丽",
               "Grace Hopper", "林晓 Lin Xiao", "郭靖", "黄蓉"],
    "t-rd": ["Ada Lovelace", "Alan Turing", "钱学森", "Barbara Liskov", "吴健雄", "Edsger Dijkstra"],
}
# One score per row in the page's order. 0.704 and 0.696 both show as 0.70 (only the raw number orders
# them); 0.63 twice and 0.68 twice are ties; 0.0 is a score, None is none.
SCORES = [0.68, 0.59, 0.72, 0.43, None, 0.81,
          0.704, 0.696, 0.37, 0.24, None, 0.63, 0.63, 0.0, 1.0, 0.915, 0.55, 0.12, 0.68, 0.33, 0.77, 0.45, None,
          0.29, 0.88, 0.5, 0.61, 0.39, 0.7, 0.99, 0.05, 0.66, 0.3, 0.58, 0.42, 0.84, 0.2, 0.75, 0.35, 0.93]
COUNT_TEXT = {"zh-CN": "显示 {} 项，共 {} 项", "en": "{} of {} shown"}
TIER_WORD = {"zh-CN": {"company": "公司", "team": "团队", "person": "个人"},
             "en": {"company": "Company", "team": "Team", "person": "Person"}}


def status_of(score: float | None) -> str:
    if score is None:
        return "no_data"
    return "green" if score >= 0.7 else "yellow" if score >= 0.4 else "red"


def model_rows() -> list[dict]:
    """Company, teams by name, people by team and name: the order the report's model gives them."""
    rows = [{"tier": "company", "owner_id": "c-galaxy", "name": COMPANY, "team_name": None, "path": "company"}]
    teams = sorted(TEAMS.items(), key=lambda item: item[1])
    rows += [{"tier": "team", "owner_id": tid, "name": name, "team_name": None, "path": f"teams/{tid}"}
             for tid, name in teams]
    people = [(TEAMS[tid], name) for tid, names in PEOPLE.items() for name in names]
    rows += [{"tier": "person", "owner_id": f"p-{i:04d}", "name": name, "team_name": team, "path": f"people/p-{i:04d}"}
             for i, (team, name) in enumerate(sorted(people), start=1)]
    assert len(rows) == len(SCORES) == 40
    for row, score in zip(rows, SCORES):
        path = row.pop("path")
        row.update(score=score, status=status_of(score), html_href=f"{path}.html", pdf_href=f"{path}.pdf")
    return rows


def index_model(locale: str) -> dict:
    return {"locale": locale, "currency": "CNY", "company_name": COMPANY, "quarter_label": "FY2017-18 Q4",
            "period_text": "2018-01-01 – 2018-03-31", "generated_at": "2026-12-01 09:00", "run_id": "run-browser-1",
            "rows": model_rows()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("index")
    paths = {}
    for locale in ("zh-CN", "en"):
        paths[locale] = folder / locale / "index.html"
        paths[locale].parent.mkdir()
        paths[locale].write_text(render_index_html(index_model(locale)), encoding="utf-8")
    return paths


def names(rows: list[dict]) -> list[str]:
    return [r["name"] for r in rows]


def by_score(descending: bool) -> list[str]:
    """Rows with a score by score (ties in the page's order, as sorted() is stable), then rows without one."""
    rows = model_rows()
    scored = [r for r in rows if r["score"] is not None]
    ordered = sorted(scored, key=lambda r: -r["score"] if descending else r["score"])
    return names(ordered + [r for r in rows if r["score"] is None])


def count_text(tab: Tab) -> str:
    return tab.js("document.getElementById('index-count').textContent")


HEADING = "#index-table thead th:nth-child({}) button"
NAME, TIER, TEAM, SCORE, STATUS = (HEADING.format(i) for i in range(1, 6))


# --------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_without_script_every_row_shows_in_the_report_order(open_tab, locale):
    tab = open_tab(locale, script=False)
    rows = model_rows()
    assert tab.js(ROW_NAMES) == tab.js(SHOWN_NAMES) == names(rows)
    assert tab.js("getComputedStyle(document.getElementById('index-tools')).display") == "none"
    assert tab.js("document.querySelectorAll('[aria-sort]').length") == 0
    teams = tab.js("Array.from(document.querySelectorAll('#index-table tbody tr'), r => r.cells[2].textContent)")
    assert teams == [r["team_name"] if r["tier"] == "person" else "" for r in rows]
    tiers = tab.js("Array.from(document.querySelectorAll('#index-table tbody tr'), r => r.cells[1].textContent)")
    assert tiers == [TIER_WORD[locale][r["tier"]] for r in rows]
    assert count_text(tab) == COUNT_TEXT[locale].format(40, 40)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_score_heading_sorts_by_the_raw_number_with_no_score_last(open_tab, locale):
    tab = open_tab(locale)
    tab.click(SCORE)
    assert tab.js(ROW_NAMES) == by_score(descending=False)
    assert tab.js("Array.from(document.querySelectorAll('[aria-sort]'), e => [e.cellIndex, e.ariaSort])") == [
        [3, "ascending"]]
    tab.click(SCORE)
    assert tab.js(ROW_NAMES) == by_score(descending=True)
    assert tab.js("Array.from(document.querySelectorAll('[aria-sort]'), e => [e.cellIndex, e.ariaSort])") == [
        [3, "descending"]]
    assert count_text(tab) == COUNT_TEXT[locale].format(40, 40)


QUERY = {"zh-CN": "华东", "en": "AMERICA"}


def matches(row: dict, query: str) -> bool:
    return query.casefold() in f"{row['name']}\n{row['team_name'] if row['tier'] == 'person' else ''}".casefold()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_filters_combine_and_say_how_many_rows_are_shown(open_tab, locale):
    tab = open_tab(locale)
    tab.click(SCORE)
    tab.click(SCORE)  # descending: filters keep the sorted order
    ordered = {r["name"]: r for r in model_rows()}
    ordered = [ordered[n] for n in by_score(descending=True)]
    query = QUERY[locale]
    tab.choose("select[name=status]", "red")
    red = [r for r in ordered if r["status"] == "red"]
    assert len(red) == 11 and tab.js(SHOWN_NAMES) == names(red)
    assert count_text(tab) == COUNT_TEXT[locale].format(11, 40)
    tab.type_into("input[name=q]", query)
    red_match = [r for r in red if matches(r, query)]
    assert 0 < len(red_match) < len(red) and tab.js(SHOWN_NAMES) == names(red_match)
    assert count_text(tab) == COUNT_TEXT[locale].format(len(red_match), 40)
    tab.choose("select[name=status]", "")
    tab.choose("select[name=tier]", "person")
    people = [r for r in ordered if r["tier"] == "person" and matches(r, query)]
    assert len(people) == 7 and tab.js(SHOWN_NAMES) == names(people)
    assert tab.js("document.getElementById('index-empty').hidden") is True
    tab.type_into("input[name=q]", "没有这个人 nobody")
    assert tab.js(SHOWN_NAMES) == [] and count_text(tab) == COUNT_TEXT[locale].format(0, 40)
    assert tab.js("document.getElementById('index-empty').offsetParent !== null")
    tab.type_into("input[name=q]", "")
    tab.choose("select[name=tier]", "")
    assert tab.js(SHOWN_NAMES) == by_score(descending=True)
    assert count_text(tab) == COUNT_TEXT[locale].format(40, 40)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_name_heading_sorts_without_regard_to_case(open_tab, locale):
    tab = open_tab(locale)
    tab.type_into("input[name=q]", "north america")
    tab.choose("select[name=tier]", "person")
    tab.click(NAME)
    expected = sorted(PEOPLE["t-na"], key=str.casefold)
    assert expected != sorted(PEOPLE["t-na"])  # "christopher young" shows the case does not count
    assert tab.js(SHOWN_NAMES) == expected
    tab.click(NAME)
    assert tab.js(SHOWN_NAMES) == expected[::-1]


def test_chinese_names_sort_by_pinyin_on_the_chinese_page(open_tab):
    tab = open_tab("zh-CN")
    tab.type_into("input[name=q]", "渠道分销部")
    tab.choose("select[name=tier]", "person")
    tab.click(NAME)
    pinyin = ["陈静", "黄敏", "李娜", "刘洋", "王芳", "张伟", "赵磊"]  # chen huang li liu wang zhang zhao
    assert sorted(PEOPLE["t-channel"]) != pinyin  # code points would give another order
    assert tab.js(SHOWN_NAMES) == pinyin


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_empty_cells_sort_last_both_ways(open_tab, locale):
    """Only people have a team: company and teams stay at the end, in the report's order, either way."""
    tab = open_tab(locale)
    not_people = names([r for r in model_rows() if r["tier"] != "person"])
    for _ in ("ascending", "descending"):
        tab.click(TEAM)
        assert tab.js(ROW_NAMES)[-len(not_people):] == not_people
    tab.click(STATUS)
    shown = tab.js(ROW_NAMES)
    statuses = {r["name"]: r["status"] for r in model_rows()}
    ranks = [("red", "yellow", "green", "no_data").index(statuses[n]) for n in shown]
    assert ranks == sorted(ranks)
    tab.click(TIER)
    assert tab.js(ROW_NAMES) == names(model_rows())  # tier, then the report's order: the page as it came


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_hostile_name_stays_text(open_tab, locale):
    tab = open_tab(locale)
    tab.type_into("input[name=q]", "<b>")
    assert tab.js(SHOWN_NAMES) == ["<b>x</b>"]
    assert tab.js(
        "Array.from(document.querySelectorAll('#index-table tbody td.name b')).length"
    ) == 0
    assert tab.js("document.scripts.length") == 1
    assert tab.js("performance.getEntriesByType('resource').length") == 0  # the page fetches nothing


# --------------------------------------------------------------------------- layout and print

LAYOUT = """(() => {
  const d = document.documentElement, box = document.querySelector('.table-scroll');
  const cells = sel => Array.from(document.querySelectorAll(sel), c => [c.scrollWidth, c.clientWidth]);
  return {inner: innerWidth, doc: d.scrollWidth, view: d.clientWidth, box: box.getBoundingClientRect().right,
          names: cells('#index-table td.name'), tools: cells('#index-tools, #index-tools .tool, .shown-count')};
})()"""
PAGE_GREY, PAGE_WHITE = (229, 231, 235), (255, 255, 255)


@pytest.mark.parametrize("width", [WIDE, NARROW])
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_page_fits_the_window(open_tab, locale, width, tmp_path):
    """Nothing sticks out sideways: not the document, not a name, not a control; a table too wide for a
    phone scrolls inside its own box. The screenshot's right edge shows only the page's background."""
    tab = open_tab(locale, width)
    layout = tab.js(LAYOUT)
    assert layout["inner"] == width
    assert layout["doc"] <= layout["view"] == width, layout
    assert layout["box"] <= width
    assert len(layout["names"]) == 40
    assert [c for c in layout["names"] + layout["tools"] if c[0] > c[1] + 1] == []
    image = tab.screenshot(tmp_path / f"index-{locale}-{width}.png")
    assert image.size == (width, HEIGHT)
    edge = image.crop((width - 6, 0, width, HEIGHT)).getcolors(maxcolors=4) or []
    assert [colour for _, colour in edge] == [PAGE_GREY if width == WIDE else PAGE_WHITE], edge
    table_right = tab.js("document.getElementById('index-table').getBoundingClientRect().right")
    if width == WIDE:
        assert table_right <= width - 100  # the page is a centred sheet with room to spare


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_print_hides_the_controls_and_keeps_the_rows_chosen(open_tab, locale):
    tab = open_tab(locale)
    display = "getComputedStyle(document.querySelector({!r})).display"
    tab.call("Emulation.setEmulatedMedia", {"media": "print"})
    assert tab.js(display.format("#index-tools")) == "none"
    assert tab.js(display.format("#index-count")) == "none"  # all rows: nothing to say
    assert tab.js(display.format("#index-table")) == "table"
    tab.call("Emulation.setEmulatedMedia", {"media": "screen"})
    tab.choose("select[name=status]", "green")
    tab.call("Emulation.setEmulatedMedia", {"media": "print"})
    green = [r for r in model_rows() if r["status"] == "green"]
    assert tab.js(display.format("#index-count")) == "block"
    assert count_text(tab) == COUNT_TEXT[locale].format(len(green), 40)
    assert tab.js(SHOWN_NAMES) == names(green)


# --------------------------------------------------------------------------- words


def ui_text(tab: Tab) -> str:
    """Every word the page shows or tells a screen reader, less the text that came from the data."""
    text = tab.js(
        "[document.title, document.body.innerText,"
        " ...Array.from(document.querySelectorAll('option'), o => o.textContent),"
        " ...Array.from(document.querySelectorAll('[placeholder],[aria-label],[title]'),"
        "    e => [e.placeholder, e.ariaLabel, e.title].join(' '))].join('\\n')"
    )
    model = index_model("en")
    data = [r["name"] for r in model["rows"]] + list(TEAMS.values())
    data += [model[k] for k in ("company_name", "quarter_label", "period_text", "generated_at", "run_id")]
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def test_the_chinese_page_speaks_chinese(open_tab):
    text = ui_text(open_tab("zh-CN"))
    assert "显示 40 项，共 40 项" in text and "按名称或团队筛选" in text and "落后" in text
    assert set(re.findall(r"[A-Za-z]{2,}", text)) <= {"PDF"}, text


def test_the_english_page_speaks_english(open_tab):
    text = ui_text(open_tab("en"))
    assert "40 of 40 shown" in text and "Filter by name or team" in text and "Off track" in text
    assert re.findall(r"[\u3000-\u9fff\uff00-\uffef]", text) == [], text
