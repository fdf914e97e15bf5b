"""The demo in a real browser: headless Chromium from Debian's packages, driven by Playwright.

One person plays every part in the page, as a reviewer would: a citizen files a complaint with a
photo, staff claim it and ask, the citizen answers, staff resolve, the citizen rates, the manager
opens /report and sees the chart. The assertions are on the page (its direction, its font, the
chart image, the unread counts); screenshots of each stage go to test-artifacts/demo/walk/ (and
test-artifacts/demo/seeded/ for the seeded demo's report).

Without Chromium or Playwright the test is skipped with the reason, except under CI (CI=true)
or with REQUIRE_BROWSER=1, where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from bot import text
from bot.demo import personas
from tests.demo_process import ROOT, demo

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "demo"
WAIT_MS = 30_000  # a loaded CI machine; each wait ends as soon as the page shows the thing

CITIZEN = personas.CITIZEN_1.user_id
STAFF = personas.STAFF.user_id
MANAGER = personas.MANAGER.user_id
STAFF_GROUP = personas.STAFF_GROUP.chat_id
MANAGERS = personas.MANAGERS_GROUP.chat_id

pytestmark = pytest.mark.sqlite  # the demo keeps SQLite: `-k sqlite` selects these


def _browser_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure where the browser is required)."""
    required = os.environ.get("CI") == "true" or os.environ.get("REQUIRE_BROWSER") == "1"
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason is not None:
        if required:
            pytest.fail(f"browser test required (CI or REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    return sync_playwright


def _png(width: int, height: int) -> bytes:
    """A small real PNG (a receipt-coloured gradient), made here: no fixture file."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((240 - y, 200 - x // 2, 150)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Screen:
    """The page, with the moves a person makes in it."""

    def __init__(self, page: Any, expect: Any, folder: str) -> None:
        self.page = page
        self.expect = expect
        self.shots: list[Path] = []
        self.folder = ARTIFACTS / folder
        shutil.rmtree(self.folder, ignore_errors=True)  # this run's pictures only

    def shot(self, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.shots.append(path)

    def persona(self, user_id: int) -> None:
        self.page.locator(f'.persona[data-persona="{user_id}"]').click()
        self.expect(self.page.locator(f'.persona.active[data-persona="{user_id}"]')).to_be_visible()

    def chat(self, chat_id: int) -> None:
        self.page.locator(f'.chat-item[data-chat="{chat_id}"]').click()
        self.expect(self.page.locator(f'.chat-item.active[data-chat="{chat_id}"]')).to_be_visible()

    def bot_says(self, text: str) -> Any:
        """The newest message of the bot containing `text`, once it is on the page."""
        row = self.page.locator(".row.in", has_text=text).last
        self.expect(row).to_be_visible(timeout=WAIT_MS)
        return row

    def type(self, text: str) -> None:
        box = self.page.locator("#composer-input")
        box.fill(text)
        box.press("Enter")
        self.expect(self.page.locator(".row.out", has_text=text).last).to_be_visible()

    def key(self, text: str) -> None:
        """A button of the bot's reply keyboard."""
        self.page.locator("#reply-keyboard button").filter(has_text=_exactly(text)).click()

    def press(self, text: str, row: Any = None) -> None:
        """An inline button (on `row`, or the newest message that has it)."""
        scope = row if row is not None else self.page
        scope.locator(".ikb button").filter(has_text=_exactly(text)).last.click()


def _exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


def test_a_complaint_from_filing_to_the_managers_chart(tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import expect

    photos = [tmp_path / "receipt.png", tmp_path / "label.png"]
    for photo in photos:
        photo.write_bytes(_png(160, 120))
    with demo(tmp_path) as proc, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 860}, locale="fa-IR")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(proc.url)
            s = Screen(page, expect, "walk")
            _walk(s, page, expect, photos)
            assert errors == [], errors
        finally:
            browser.close()
    assert len(s.shots) >= 9


def _walk(s: Screen, page: Any, expect: Any, photos: list[Path]) -> None:
    # -- the first screen: a Persian, right-to-left page in its own font, with the tour
    expect(page.locator("#tour")).to_be_visible()
    expect(page.locator("#tour-steps li")).to_have_count(8)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "fa"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    page.wait_for_function("document.fonts.status === 'loaded'")
    fonts = page.evaluate(
        """async () => {
            await document.fonts.ready;
            await document.fonts.load('16px Vazirmatn', 'سلام');
            return {
              check: document.fonts.check('16px Vazirmatn', 'سلام'),
              loaded: [...document.fonts].filter(f => f.family.includes('Vazirmatn')
                                                  && f.status === 'loaded').length,
              body: getComputedStyle(document.body).fontFamily,
            };
        }"""
    )
    assert fonts["check"] and fonts["loaded"] >= 1 and "Vazirmatn" in fonts["body"], fonts
    # Persian throughout: no English sentence (a msgid) left; "Bot API" and "/report" are names
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", page.locator("#tour").inner_text())
    # a command inside a Persian step reads «/report», not «report/»: its letters run left to
    # right, in one isolated run
    runs = page.evaluate(
        """() => [...document.querySelectorAll('#tour bdi')].map(b => {
            const n = b.firstChild, r = document.createRange();
            const x = [...n.textContent].map((_, i) => {
                r.setStart(n, i); r.setEnd(n, i + 1); return r.getBoundingClientRect().left; });
            return [n.textContent, x.every((v, i) => i === 0 || v > x[i - 1])]; })"""
    )
    assert ["/report", True] in runs and all(ok for _t, ok in runs), runs
    s.shot("tour")

    # -- the citizen files a complaint with a photo
    page.locator("#tour-start").click()
    expect(page.locator("#start")).to_be_visible()
    page.locator("#start").click()
    s.bot_says("از منوی زیر انتخاب کنید")
    assert page.evaluate("getComputedStyle(document.querySelector('.row.in .text')).direction") == (
        "rtl"
    )
    s.key("ثبت شکایت")
    s.bot_says("چه نوع تخلفی دیدید")
    s.press("گران‌فروشی")
    s.bot_says("کدام صنف")
    s.press("مواد غذایی و خواربار")
    s.bot_says("در کدام استان")
    s.press("تهران")
    s.bot_says("در کدام شهر")
    s.type("تهران")
    s.bot_says("نام واحد صنفی چیست")
    s.type("فروشگاه زنجیره‌ای نمونه")
    s.bot_says("نشانی واحد صنفی چیست")
    s.type("خیابان انقلاب، پلاک ۱۲")
    s.bot_says("موقعیت آن را")
    s.key("ارسال موقعیت مکانی")  # a request_location button opens the place picker
    expect(page.locator("#location-dialog")).to_be_visible()
    page.locator('#loc-presets button[data-place="tehran_bazaar"]').click()
    page.locator("#loc-send").click()
    expect(page.locator(".row.out .map").last).to_be_visible()
    s.bot_says("چه اتفاقی افتاد")
    s.type("قیمت برنج را کیلویی ۱۸۰ هزار تومان حساب کردند؛ روی بسته ۱۲۰ هزار تومان بود")
    s.bot_says("چه مبلغی پرداخت کردید")
    s.type("۱۸۰ هزار تومان")
    s.bot_says("قیمت مصوب یا متعارف")
    s.type("۱۲۰ هزار تومان")
    s.bot_says("عکس، ویدیو یا فایل بفرستید")
    page.locator("#file-input").set_input_files([str(p) for p in photos])  # two: an album
    album = page.locator(".row.out .album img")
    expect(album).to_have_count(2, timeout=WAIT_MS)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.row.out .album img')]"
        ".every(i => i.complete && i.naturalWidth === 160)"
    )
    s.bot_says("فایل‌های دریافت‌شده: ۲ از ۵")
    s.shot("citizen-photos")
    s.key("پایان ارسال مدارک")
    s.bot_says("کارشناسان چگونه با شما تماس بگیرند")
    s.key("ارسال شمارهٔ تماس")  # request_contact: the persona's own phone
    expect(page.locator(".row.out .contact").last).to_be_visible()
    s.bot_says("لطفاً شکایت خود را بازبینی کنید")
    s.press("تأیید و ارسال")
    s.bot_says("شکایت شما دریافت و ثبت شد")
    s.shot("citizen-filed")

    # -- unread counts: the staff member has a new card waiting in the staff group
    staff_badge = page.locator(f'.persona[data-persona="{STAFF}"] .badge')
    expect(staff_badge).to_be_visible(timeout=WAIT_MS)
    s.persona(STAFF)
    group_badge = page.locator(f'.chat-item[data-chat="{STAFF_GROUP}"] .badge')
    expect(group_badge).to_be_visible()
    assert re.fullmatch("[۱-۹][۰-۹]*", group_badge.inner_text()), group_badge.inner_text()
    s.shot("staff-unread")
    s.chat(STAFF_GROUP)
    expect(group_badge).to_have_count(0)  # read once opened

    # -- staff: claim (the card is edited in place), then ask the citizen
    card = s.bot_says("🆕 شکایت")
    card_id = card.get_attribute("data-id")
    # what the card says once claimed (the name isolated in its own direction)
    holder = re.compile(f"مسئول: [\u2066-\u2068]?{personas.STAFF.first_name}")
    assert not holder.search(card.inner_text())
    rows_before = page.locator("#messages .row").count()
    s.press("✋ رسیدگی می‌کنم", card)
    card = page.locator(f'.row[data-id="{card_id}"]')
    expect(card).to_contain_text(holder, timeout=WAIT_MS)
    expect(card.locator(".edited")).to_be_visible()
    expect(page.locator(".toast").first).to_be_visible(timeout=WAIT_MS)  # the press's answer
    assert page.locator(f'.row[data-id="{card_id}"]').count() == 1
    assert page.locator("#messages .row").count() == rows_before
    s.shot("staff-claimed")
    s.press("📞 شماره", card)  # the holder may see the number: an alert (show_alert)
    expect(page.locator("#modal")).to_be_visible(timeout=WAIT_MS)
    phone = text.normalize_phone(personas.CITIZEN_1.phone)
    assert phone is not None
    expect(page.locator("#modal-body")).to_contain_text(text.format_phone(phone))
    s.shot("staff-phone-alert")
    page.locator("#modal-ok").click()
    expect(page.locator("#modal")).to_be_hidden()
    s.press("پرسش از شهروند", card)
    s.bot_says("پرسش خود از شهروند")
    expect(page.locator("#replybar")).to_be_visible()  # ForceReply opens the reply
    s.type("آیا فاکتور خرید دارید؟")
    s.bot_says("پرسش برای شهروند فرستاده شد")
    s.shot("staff-asked")

    # -- the citizen answers; the staff member read everything, then has the answer unread
    s.persona(CITIZEN)
    expect(staff_badge).to_have_count(0)  # the server counted what the staff member read
    s.bot_says("آیا فاکتور خرید دارید")
    s.type("بله، فاکتور دارم و عکس آن را هم فرستادم.")
    s.bot_says("پاسخ شما برای کارشناس")
    expect(staff_badge).to_have_text(re.compile("^[۱-۹][۰-۹]*$"), timeout=WAIT_MS)
    s.shot("citizen-answered")

    # -- staff resolve, through the outcome menu and a ForceReply prompt
    s.persona(STAFF)
    s.bot_says("پاسخ شهروند")
    card = page.locator(f'.row[data-id="{card_id}"]')
    s.press("اعلام نتیجه", card)
    expect(card.locator(".ikb button").filter(has_text=_exactly("مشکل برطرف شد"))).to_be_visible(
        timeout=WAIT_MS
    )
    s.press("مشکل برطرف شد", card)
    s.bot_says("توضیح برای شهروند")
    expect(page.locator("#replybar")).to_be_visible()
    s.type("فروشگاه بازرسی شد و مابه‌التفاوت به شما بازگردانده می‌شود.")
    s.bot_says("نتیجه ثبت شد")
    s.shot("staff-resolved")

    # -- the citizen rates
    s.persona(CITIZEN)
    notice = s.bot_says("رسیدگی به شکایتتان را چگونه ارزیابی می‌کنید")
    s.press("⭐⭐⭐⭐⭐", notice)
    s.bot_says("از امتیاز شما سپاسگزاریم")
    s.shot("citizen-rated")

    # -- the manager's report, with its chart
    s.persona(MANAGER)
    s.chat(MANAGERS)
    charts_before = page.locator(".row.in .media img").count()
    s.type("/report")
    expect(page.locator(".row.in .media img")).to_have_count(charts_before + 1, timeout=WAIT_MS)
    page.wait_for_function(
        "() => { const i = [...document.querySelectorAll('.row.in .media img')].pop();"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=WAIT_MS,
    )
    chart = page.locator(".row.in .media img").last
    assert chart.evaluate("i => i.naturalWidth") > 300
    s.bot_says("گزارش")
    chart.scroll_into_view_if_needed()
    s.shot("manager-report")

    # -- «reply» on any message: the answer quotes it
    row = page.locator(".row.in", has=page.locator(".media img")).last
    row.hover()
    row.locator(".reply-btn").click()
    expect(page.locator("#replybar")).to_be_visible()
    s.type("سپاس، گزارش روشن است.")
    expect(page.locator(".row.out .quote").last).to_be_visible()


def test_a_seeded_demo_gives_the_manager_a_report_worth_reading(tmp_path: Path) -> None:
    """`--seed`: a few hundred past cases, so the manager's /report, its chart and its
    drill-down by province have something to show."""
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import expect

    with demo(tmp_path, "--seed") as proc, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 860}, locale="fa-IR")
            page.goto(proc.url)
            s = Screen(page, expect, "seeded")
            s.persona(MANAGER)
            s.chat(MANAGERS)
            s.type("/report")
            report = s.bot_says("پرونده‌های باز در این لحظه")
            page.wait_for_function(
                "() => { const i = [...document.querySelectorAll('.row.in .media img')].pop();"
                " return i && i.complete && i.naturalWidth > 300; }",
                timeout=WAIT_MS,
            )
            page.locator(".row.in .media img").last.scroll_into_view_if_needed()
            s.shot("seeded-report-chart")
            s.press("به تفکیک استان", report)
            s.bot_says("شکایت‌های تازه به تفکیک استان")
            s.shot("seeded-report-by-province")
        finally:
            browser.close()
