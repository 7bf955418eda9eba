"""``flask identities …``: WeChat bindings, for the office that runs the deployment."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.identity import binding

identities_cli = AppGroup("identities", help="微信身份绑定")


@identities_cli.command("unbind")
@click.option("--phone", required=True, help="人员手机号（通讯录中）")
@click.option("--reason", default="命令行解绑", show_default=True, help="解绑原因，记入操作日志")
@json_option
def unbind(phone, reason, as_json):
    """Free a person's directory entry from the WeChat it is bound to; they bind again by scanning.

    Whoever runs this has checked who is asking: the command is the confirmation."""

    def action():
        contact = binding.bound_by_phone(phone)
        identity = binding.unbind(contact, actor="cli", reason=reason, confirmed=True)
        return {"contact_id": contact.id, "name": contact.name, "unit": contact.unit.name,
                "identity_id": identity.id, "reason": reason}

    run(action, as_json, lambda r: f"已解除 {r['name']}（{r['unit']}）的微信绑定；本人重新扫码即可绑定新微信")
