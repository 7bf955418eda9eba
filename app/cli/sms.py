"""``flask sms …``: the SMS channel's state, a test message, and receipts pulled from the provider."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.notify import deliveries, sms

sms_cli = AppGroup("sms", help="短信通道（腾讯云短信）")

#: At most this many pulls of 100 per run: a cron run ends even while receipts keep arriving.
MAX_PULLS = 100


@sms_cli.command("status")
@json_option
def status(as_json):
    """Whether SMS is configured, what is missing, and the templates to have approved."""

    def action():
        return {"configured": sms.configured(), "missing": sms.missing_settings(),
                "endpoint": f"{current_app.config.get('SMS_SCHEME')}://{current_app.config.get('SMS_ENDPOINT')}",
                "templates": [{"name": t.name, "template_id": t.template_id, "text": t.text, "params": list(t.params)}
                              for t in sms.templates().values()]}

    run(action, as_json, lambda r: ("短信已配置" if r["configured"] else "短信未配置")
        + (f"，缺少：{'、'.join(r['missing'])}" if r["missing"] else "") + f"（{r['endpoint']}）\n"
        + "\n".join(f"  {t['name']}：模板 {t['template_id'] or '（未设置）'}  {t['text']}" for t in r["templates"]))


@sms_cli.command("send")
@click.argument("phone")
@click.argument("template")
@click.argument("params", nargs=-1)
@json_option
def send(phone, template, params, as_json):
    """Send one message (to check the settings): flask sms send 13800138000 reminder 会议 明天9:30 302室"""
    run(lambda: {"serial_no": (sent := sms.send(phone, template, list(params))).serial_no, "phone": sent.phone},
        as_json, lambda r: f"已提交短信平台：{r['phone']}，流水号 {r['serial_no']}")


@sms_cli.command("pull-receipts")
@json_option
def pull_receipts(as_json):
    """Pull the provider's delivery receipts and record them (where its push is not configured)."""

    def action():
        pulled = matched = 0
        for _ in range(MAX_PULLS):
            receipts = sms.pull_receipts(100)
            if not receipts:
                break
            pulled += len(receipts)
            matched += deliveries.apply_sms_receipts(receipts)
        return {"pulled": pulled, "matched": matched}

    run(action, as_json, lambda r: f"拉取回执 {r['pulled']} 条，对应本系统的发送 {r['matched']} 条")
