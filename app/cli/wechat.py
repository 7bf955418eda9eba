"""``flask wechat …``: keep the official account's menus and organizer tag in step."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.codes import menus
from app.wechat import WeChatError

wechat_cli = AppGroup("wechat", help="公众号菜单与标签")


def _run_wechat(action: Callable[[], dict[str, Any]], as_json: bool,
                human: Callable[[dict[str, Any]], str]) -> None:
    try:
        run(action, as_json, human)
    except WeChatError as exc:
        if as_json:
            click.echo(json.dumps({"error": {"code": "wechat_error", "errcode": exc.errcode,
                                             "message": str(exc)}}, ensure_ascii=False))
        click.echo(f"错误：微信接口调用失败（{exc.errcode}）：{exc}", err=True)
        sys.exit(1)


@wechat_cli.command("sync-menus")
@json_option
def sync_menus(as_json):
    """Create the default menu and the organizer (会务组) conditional menu; no-op when unchanged."""
    _run_wechat(menus.sync_menus, as_json,
                lambda r: ("菜单已更新" if r["changed"] else "菜单无变化") + f"（会务组标签 {r['tag_id']}）")


@wechat_cli.command("sync-organizer-tags")
@json_option
def sync_organizer_tags(as_json):
    """Tag every bound organizer with 会务组 and untag those who no longer are organizers."""
    _run_wechat(menus.sync_organizer_tags, as_json,
                lambda r: f"会务组标签：新增 {len(r['added'])} 人，移除 {len(r['removed'])} 人，"
                          f"现有会务人员 {r['organizers']} 人"
                          + (f"；微信拒绝 {len(r['refused'])} 人（已取消关注等）：" + "、".join(r["refused"])
                             if r["refused"] else ""))
