"""The page a browser gets for an error: what happened and what to do, in Chinese, and a way back.

Which way back fits depends on the door the request came through, read from its path: an attendee
(``/m``) goes back to 我的会议 or the meeting's page, an organizer (``/admin``) to 会议列表 or the
meeting, a unit office (``/units``) to its home, the big screen (``/screen``) to the meeting in the
console; a 401 offers the door's login. Every page also offers 返回上一页: a plain link to the door's
home, which the page's one script (under the CSP nonce) turns into ``history.back()`` when there is a
page to go back to.

The stable code stays on the page as small print (and ``data-error-code``) for support; it is never
the heading. JSON answers are not made here (:func:`app.web.errors.error_response`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template, request, url_for

#: What happened, by status: the page's heading.
TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "没有访问权限",
    404: "找不到该页面",
    405: "不支持该操作方式",
    409: "数据已发生变化",
    410: "链接已失效",
    413: "上传的内容太大",
    422: "填写的内容有误",
    429: "操作过于频繁",
    500: "服务器出错了",
    503: "服务暂时不可用",
}
#: Titles by stable code, where the code says more than the status.
CODE_TITLES = {"csrf_failed": "页面已过期"}

#: What to do, by status and door (``None``: any door).
HINTS: dict[int, dict[str | None, str]] = {
    400: {None: "请检查填写的内容或链接是否完整，然后重试。"},
    401: {
        "console": "请点击下方“扫码登录”，用微信扫码登录后再打开此页面。",
        "units": "请点击下方“重新登录”，登录本单位账号后再打开此页面。",
        "attendee": "请在微信中重新打开会议链接，或重新扫描会议二维码。",
        None: "请登录后再打开此页面。",
    },
    403: {
        "attendee": "请确认打开的是发给您的会议链接，或在会场重新扫描会议二维码；仍有问题请联系会务组。",
        "console": "此页面或操作需要相应的会务权限，请联系会议负责人或系统管理员为您授权。",
        "units": "此页面只对有权限的单位账号开放，请确认登录的是本单位账号；仍有问题请联系会务组。",
        "screen": "大屏链接可能已更换，请在会务后台的会议页面重新打开大屏。",
        None: "请确认您有权访问此页面；仍有问题请联系会务组。",
    },
    404: {
        "attendee": "请检查链接是否完整，或从“我的会议”重新进入。",
        "console": "会议可能已删除或链接有误，请从会议列表重新进入。",
        "units": "链接可能有误，请从通讯录管理首页重新进入。",
        "screen": "请在会务后台的会议页面重新打开大屏链接。",
        None: "请检查网址是否正确，或通过下方链接重新进入。",
    },
    405: {None: "请返回上一页，通过页面上的按钮进行操作。"},
    409: {None: "请刷新页面查看最新数据后再操作。"},
    410: {None: "请重新扫描会议二维码，或向会务组索取新的链接。"},
    413: {
        "units": "请将通讯录拆成几个较小的文件，或删去无关的工作表后重新上传。",
        None: "请压缩或拆分文件后重新上传。",
    },
    422: {None: "请返回上一页，检查填写的内容后重新提交。"},
    429: {None: "请稍等一两分钟再试，不要连续重复点击。"},
    500: {None: "请稍后刷新重试；如果多次出现，请联系会务组并告知下方的错误代码。"},
    503: {None: "系统正在恢复，请稍等片刻后刷新页面。"},
}
CODE_HINTS = {"csrf_failed": "页面停留太久或已在别处更新，请返回上一页，刷新后重新提交。"}
OTHER_CLIENT_ERROR = ("请求无法完成", "请返回上一页检查后重试；仍有问题请联系会务组。")
OTHER_SERVER_ERROR = ("服务暂时不可用", "请稍后刷新重试；如果多次出现，请联系会务组并告知下方的错误代码。")

#: The doors, by path prefix: (door, its name in the page's bar).
DOORS = (("/m/", "attendee", "会议签到"), ("/admin", "console", "会务后台"), ("/units", "units", "通讯录管理"),
         ("/screen", "screen", "会场大屏"))
#: A refusal that is about the meeting itself: its page would refuse the visitor the same way.
MEETING_REFUSALS = frozenset({"meeting_not_found", "not_organizer"})
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    back: bool = False  # 返回上一页: the page's script goes back in history when it can


def door() -> tuple[str, str]:
    """The door the request came through, and its name: ``attendee``, ``console``, ``units``,
    ``screen`` or ``other``."""
    path = request.path
    for prefix, name, label in DOORS:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return name, label
    return "other", ""


def title_and_hint(code: str, status: int, which: str) -> tuple[str, str]:
    if status in TITLES:
        title, hints = TITLES[status], HINTS[status]
        hint = hints.get(which) or hints[None]
    else:
        title, hint = OTHER_SERVER_ERROR if status >= 500 else OTHER_CLIENT_ERROR
    return CODE_TITLES.get(code, title), CODE_HINTS.get(code, hint)


def _here() -> str:
    return request.full_path if request.query_string else request.path


def _meeting_code() -> str | None:
    args = request.view_args or {}
    code = args.get("meeting_code") or args.get("code")
    return code if isinstance(code, str) and code else None


def _login(label: str, endpoint: str, here: str, home: str) -> Link:
    """The door's login, coming back here after it (a page), or to the door's home (a form post)."""
    return Link(label, url_for(endpoint, next=here if request.method == "GET" else url_for(home)))


def links(code: str, status: int, which: str) -> list[Link]:
    """The ways on from the error page, the first one the main button; 返回上一页 last."""
    meeting = _meeting_code() if status not in (401, 404) and code not in MEETING_REFUSALS else None
    out: list[Link] = []
    if status in (500, 503) and request.method == "GET":
        out.append(Link("刷新重试", _here()))
    if which == "attendee":
        if meeting and request.endpoint != "attendee.meeting_page":
            out.append(Link("查看会议", url_for("attendee.meeting_page", meeting_code=meeting)))
        out.append(Link("我的会议", url_for("mine.my_meetings")))
    elif which == "console":
        if status == 401:
            out.insert(0, _login("扫码登录", "console_login.page", _here(), "console_meetings.index"))
        if meeting and request.endpoint != "console.page":
            out.append(Link("返回会议", url_for("console.page", code=meeting)))
        out.append(Link("会议列表", url_for("console_meetings.index")))
    elif which == "units":
        if status == 401:
            out.insert(0, _login("重新登录", "units_office.login", request.path, "units_office.index"))
        out.append(Link("通讯录管理首页", url_for("units_office.index")))
    elif which == "screen":
        out.append(Link("打开会务后台", url_for("console.page", code=meeting) if meeting
                        else url_for("console_meetings.index")))
    else:
        out += [Link("我的会议", url_for("mine.my_meetings")), Link("会务后台", url_for("console_meetings.index"))]
    home = next((link.href for link in out if link.label not in ("刷新重试", "扫码登录", "重新登录")), out[-1].href)
    out.append(Link("返回上一页", home, back=True))
    return out


def render_error_page(code: str, message: str, status: int, *, generic: bool = False) -> str:
    """The error page for a browser. ``message`` (a domain error's) is shown under the heading, unless
    it is ``generic`` (the status's own text, which the heading already says) or not Chinese: a
    framework's English description never becomes the page's text."""
    which, door_name = door()
    title, hint = title_and_hint(code, status, which)
    detail = message if message and not generic and message != title and _CJK.search(message) else ""
    return render_template("error.html", title=title, detail=detail, hint=hint, code=code, status=status,
                           door=which, door_name=door_name, links=links(code, status, which))
