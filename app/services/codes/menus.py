"""The official account's menus and the organizer tag that decides who sees the organizer menu.

Everyone sees the default menu (我的会议, 会议资料, 使用帮助). Users carrying the tag 会务组 see a
conditional menu with the organizer entries as well. Both syncs are idempotent: they read what WeChat
has and only write when it differs, so running them from cron or at every deploy is harmless.

WeChat's limits (the simulator enforces them): at most 3 top buttons and 5 sub-buttons each; names
<= 16 bytes on top and <= 60 bytes below (UTF-8: a hanzi is 3 bytes, so 5 hanzi on top); keys <= 128
bytes; urls <= 1024 bytes; tag names <= 30 characters; (un)tagging takes 50 openids per call.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.wechat import WeChatApi, WeChatError, oa_api
from models import Meeting, MeetingState, Organizer, UnitOrganizer, WechatIdentity

ORGANIZER_TAG = "会务组"
#: Click keys answered by wechat_handlers (organizer commands and help).
HELP_KEY = "HELP"
ORG_HEADCOUNT = "ORG_HEADCOUNT"
ORG_MISSING = "ORG_MISSING"
ORG_QR = "ORG_QR"

TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60
Button = dict[str, Any]


def _view(name: str, url: str) -> Button:
    return {"type": "view", "name": name, "url": url}


def _click(name: str, key: str) -> Button:
    return {"type": "click", "name": name, "key": key}


def default_menu(base_url: str) -> list[Button]:
    return [
        _view("我的会议", f"{base_url}/m/my"),
        _view("会议资料", f"{base_url}/m/materials"),
        _click("使用帮助", HELP_KEY),
    ]


def organizer_menu(base_url: str) -> list[Button]:
    """Three top buttons only, so the organizer entries sit under 会务管理 and the attendee
    entries stay reachable (an organizer is an attendee too)."""
    return [
        _view("我的会议", f"{base_url}/m/my"),
        {"name": "会务管理", "sub_button": [
            _view("会议管理", f"{base_url}/admin"),
            _click("实时人数", ORG_HEADCOUNT),
            _click("未到名单", ORG_MISSING),
            _click("签到二维码", ORG_QR),
        ]},
        {"name": "更多", "sub_button": [
            _view("会议资料", f"{base_url}/m/materials"),
            _click("使用帮助", HELP_KEY),
        ]},
    ]


def check_limits(buttons: list[Button]) -> None:
    """Fail here, with the button named, rather than on a bare WeChat errcode."""
    if not 1 <= len(buttons) <= 3:
        raise ValueError("a menu has 1-3 top buttons")
    for top in buttons:
        if len(top["name"].encode()) > TOP_NAME_BYTES:
            raise ValueError(f"top button name too long: {top['name']}")
        subs = top.get("sub_button") or []
        if len(subs) > 5:
            raise ValueError(f"more than 5 sub-buttons under {top['name']}")
        for sub in subs:
            if len(sub["name"].encode()) > SUB_NAME_BYTES:
                raise ValueError(f"sub-button name too long: {sub['name']}")
        for leaf in subs or [top]:
            if len(leaf.get("key", "").encode()) > 128 or len(leaf.get("url", "").encode()) > 1024:
                raise ValueError(f"key or url too long on {leaf['name']}")


def _normalize(buttons: Any) -> list[Button]:
    """The comparable essence of a menu as WeChat returns it (it adds empty sub_button lists and
    sometimes wraps sub-buttons as {"list": [...]})."""
    out: list[Button] = []
    for b in buttons or []:
        subs = b.get("sub_button") or []
        if isinstance(subs, dict):
            subs = subs.get("list") or []
        item = {k: b[k] for k in ("type", "name", "key", "url") if b.get(k)}
        if subs:
            item = {"name": b.get("name"), "sub_button": _normalize(subs)}
        out.append(item)
    return out


def ensure_organizer_tag(api: WeChatApi | None = None) -> int:
    api = api or oa_api()
    for tag in api.get_tags():
        if tag.get("name") == ORGANIZER_TAG:
            return int(tag["id"])
    return api.create_tag(ORGANIZER_TAG)


def sync_menus(base_url: str | None = None) -> dict[str, Any]:
    """Make WeChat's menus the ones above; write nothing when they already are."""
    api = oa_api()
    base = (base_url or current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    default, organizer = default_menu(base), organizer_menu(base)
    check_limits(default)
    check_limits(organizer)
    tag_id = ensure_organizer_tag(api)

    current = api.get_menu() or {}
    conditional = current.get("conditionalmenu") or []
    same_default = _normalize((current.get("menu") or {}).get("button")) == _normalize(default)
    ours = [m for m in conditional if str((m.get("matchrule") or {}).get("tag_id", "")) == str(tag_id)]
    same_conditional = len(ours) == 1 and _normalize(ours[0].get("button")) == _normalize(organizer)
    if same_default and same_conditional:
        return {"changed": False, "tag_id": tag_id, "conditional_menuid": str(ours[0].get("menuid", ""))}

    if not same_default:
        # Writing the default menu may drop conditional menus; ours is added again below.
        api.create_menu(default)
        current = api.get_menu() or {}
        conditional = current.get("conditionalmenu") or []
        ours = [m for m in conditional if str((m.get("matchrule") or {}).get("tag_id", "")) == str(tag_id)]
    for menu in ours:
        api.delete_conditional_menu(str(menu["menuid"]))
    menuid = api.add_conditional_menu(organizer, {"tag_id": str(tag_id)})
    return {"changed": True, "tag_id": tag_id, "conditional_menuid": menuid}


def organizer_openids() -> set[str]:
    """Official-account openids of everyone bound to a contact who organizes a live meeting, or who
    organizes for an organizing unit (they create meetings from the menu's 会议管理)."""
    per_meeting = (
        select(WechatIdentity.oa_openid)
        .join(Organizer, Organizer.contact_id == WechatIdentity.contact_id)
        .join(Meeting, Meeting.id == Organizer.meeting_id)
        .where(WechatIdentity.oa_openid.is_not(None), Meeting.state != MeetingState.ARCHIVED)
    )
    per_unit = (
        select(WechatIdentity.oa_openid)
        .join(UnitOrganizer, UnitOrganizer.contact_id == WechatIdentity.contact_id)
        .where(WechatIdentity.oa_openid.is_not(None))
    )
    return {r for r in db.session.scalars(per_meeting.union(per_unit)) if r}


def sync_organizer_tags() -> dict[str, Any]:
    """Tag every organizer's openid with 会务组 and untag everyone who no longer is one."""
    api = oa_api()
    tag_id = ensure_organizer_tag(api)
    wanted = organizer_openids()
    tagged = set(api.tag_members(tag_id))
    to_add, to_remove = sorted(wanted - tagged), sorted(tagged - wanted)
    refused: dict[str, int] = {}
    added = _each_batch(api.tag_users, tag_id, to_add, refused)
    removed = _each_batch(api.untag_users, tag_id, to_remove, refused)
    return {"tag_id": tag_id, "added": added, "removed": removed, "organizers": len(wanted), "refused": refused}


def _each_batch(call, tag_id: int, openids: list[str], refused: dict[str, int]) -> list[str]:
    """Apply ``call`` in WeChat's batches of 50. WeChat refuses a whole batch for one bad openid (a
    user who unfollowed, 40003), so a refused batch is retried one by one: the others still get
    their menu, and the refused are reported with WeChat's errcode instead of aborting the sync."""
    done: list[str] = []
    for start in range(0, len(openids), 50):
        batch = openids[start:start + 50]
        try:
            call(tag_id, batch)
            done.extend(batch)
            continue
        except WeChatError as exc:
            if exc.errcode is None:
                raise  # WeChat did not answer: an outage, not a bad openid; the next sync retries
        for openid in batch:
            try:
                call(tag_id, [openid])
                done.append(openid)
            except WeChatError as exc:
                refused[openid] = exc.errcode
    return done
