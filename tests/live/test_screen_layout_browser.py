"""The big screen at 1920×1080 in real Chromium, with a province's long unit names: no label wraps
(迟/到 was seen), the 签到率 keeps to its card at 0.0, 33.3 and 100.0, a 领导 is never labelled 迟到,
a late delegate is (a small tag), an on-time one is not. Screenshots: test-artifacts/screen-layout-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser import ARTIFACTS, wait_js

CODE = "SCRLAY"
UNITS = ["中共某某省某某市某某区委员会办公室", "某某省某某市某某区人民政府发展和改革局（区粮食和物资储备局）",
         "某某市某某区人民代表大会常务委员会办公室"]
SCREEN = {"width": 1920, "height": 1080}

#: Every element that holds one line of text on the headcount screen.
ONE_LINE = ["header h1", "header .sub", "#clock", ".qr p", ".qr small", ".big label", ".big strong", ".minor",
            "aside h2", ".unit-name", ".unit-num", "#ticker .t-name", "#ticker .t-unit", "#ticker .t-time",
            "#ticker .t-late"]

#: For each element matching a selector: how many lines its text takes (distinct line boxes of a
#: range over it), its height and line height, and whether its content overflows it.
MEASURE = """(selectors) => {
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set();
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
      const cs = getComputedStyle(el);
      const pad = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom)
        + parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth);
      out.push({sel, text: el.textContent, lines: tops.size, height: el.getBoundingClientRect().height - pad,
                lineHeight: parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5,
                scroll: el.scrollWidth, client: el.clientWidth});
    }
  }
  return out;
}"""

RATE_FITS = """() => {
  const strong = document.getElementById('n-rate'), card = strong.parentElement;
  const text = document.createRange(); text.selectNodeContents(strong);
  const inner = card.getBoundingClientRect(), cs = getComputedStyle(card);
  const left = inner.left + parseFloat(cs.paddingLeft), right = inner.right - parseFloat(cs.paddingRight);
  const t = text.getBoundingClientRect();
  return {text: strong.textContent, strong: [strong.scrollWidth, strong.clientWidth],
          card: [card.scrollWidth, card.clientWidth], inside: t.left >= left - 0.5 && t.right <= right + 0.5,
          shrunk: strong.style.fontSize !== ''};
}"""


@pytest.fixture
def seeded(committed_db):
    from app.services.signin.rules import get_session
    from models import InviteeRole
    from tests.factories import Factory

    f = Factory(committed_db)
    units = [f.unit(name=name) for name in UNITS]
    meeting = f.meeting(CODE, title="2027年度全市营商环境优化提升暨重点项目推进工作会议（第一次全体会议）",
                        venue="某某市行政中心第一会议室")
    meeting.mask_names = False
    people = {}
    for i, (name, role) in enumerate((("王建国", InviteeRole.LEADER), ("阿卜杜·热合曼", InviteeRole.DELEGATE),
                                      ("李晓红", InviteeRole.DELEGATE), ("张伟", InviteeRole.DELEGATE),
                                      ("欧阳娜娜", InviteeRole.OBSERVER), ("郭涛", InviteeRole.LEADER))):
        people[name] = f.contact(units[i % 3], name=name)
        f.invitee(meeting, people[name], role=role)
    committed_db.session.commit()
    return meeting, get_session(meeting), people


def _sign(meeting, session, people, plan) -> None:
    from app.services.signin.write import sign_in
    from models import SignInMethod

    for name, minutes in plan:
        sign_in(meeting, session, people[name], method=SignInMethod.H5,
                now=session.starts_at + timedelta(minutes=minutes))


def _check_layout(page, shot: str, rate: str) -> dict:
    wait_js(page, "!document.body.classList.contains('offline')")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(700)  # the ticker's fade-in is over (the screenshot shows it settled)
    assert page.locator("#n-rate").inner_text() == rate
    page.screenshot(path=str(ARTIFACTS / shot))
    # The long title is shrunk onto its line (not cut) while it can be.
    assert page.evaluate("(() => { const h = document.querySelector('header h1'); "
                         "return h.scrollWidth <= h.clientWidth; })()")
    wrapped = [m for m in page.evaluate(MEASURE, ONE_LINE)
               if m["text"] and (m["lines"] != 1 or m["height"] > m["lineHeight"] * 1.3)]
    assert not wrapped, wrapped
    fits = page.evaluate(RATE_FITS)
    assert fits["strong"][0] <= fits["strong"][1] and fits["card"][0] <= fits["card"][1] and fits["inside"], fits
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Nothing pushes the layout: the three columns keep to the window.
    assert page.evaluate("""() => [...document.querySelectorAll('#headcount > *')].every(
        c => c.getBoundingClientRect().right <= window.innerWidth && c.scrollWidth <= c.clientWidth + 1)""")
    return fits


@pytest.mark.browser
def test_screen_labels_fit_at_1920(app, live_server, browser, seeded):
    from app.services.live.headcount import screen_key

    meeting, session, people = seeded
    context = browser.new_context(viewport=SCREEN, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = f"{live_server}/screen/{CODE}?k={screen_key(app.config['SECRET_KEY'], CODE)}"
    try:
        page.goto(url)
        _check_layout(page, "screen-layout-0.png", "0.0")

        _sign(meeting, session, people, [("张伟", -20), ("王建国", 6)])  # 2 of 6
        page.goto(url)
        _check_layout(page, "screen-layout-33.png", "33.3")

        # Everyone: 阿卜杜·热合曼 and 欧阳娜娜 late, 郭涛 (a 领导) late too, 李晓红 on time.
        _sign(meeting, session, people, [("李晓红", -1), ("阿卜杜·热合曼", 4), ("欧阳娜娜", 12), ("郭涛", 15)])
        page.goto(url)
        fits = _check_layout(page, "screen-layout-100.png", "100.0")
        assert not fits["shrunk"], fits  # fits as styled, not squeezed in by the script

        rows = {li.locator(".t-name").inner_text(): li for li in page.locator("#ticker li").all()}
        assert set(rows) == set(people)
        for leader in ("王建国", "郭涛"):  # signed in after the start, never labelled on the screen
            assert "迟到" not in rows[leader].inner_text() and rows[leader].locator(".t-late").count() == 0
        for late in ("阿卜杜·热合曼", "欧阳娜娜"):
            assert rows[late].locator(".t-late").inner_text() == "迟到"
        for on_time in ("李晓红", "张伟"):
            assert rows[on_time].locator(".t-late").count() == 0 and "迟到" not in rows[on_time].inner_text()
        # Long unit names are cut with an ellipsis inside their column, whole in the title.
        unit = rows["阿卜杜·热合曼"].locator(".t-unit")
        assert unit.get_attribute("title") == UNITS[1]
        assert unit.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
        assert page.locator("#n-late").inner_text() == "4"

        # A headcount of five digits is shrunk into its card rather than pushing past it.
        assert page.evaluate("""() => { const n = document.getElementById('n-expected');
            n.textContent = '12000'; window.HuiyiLive.fit(n, 0.5); return n.scrollWidth <= n.clientWidth; }""")
        assert not errors, errors
    finally:
        context.close()
