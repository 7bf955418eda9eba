"""A minimal official-account callback written the way wechatpy documents it (its echo example),
used as the other end of the simulator's phone in these tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, abort, request
from wechatpy import create_reply, parse_message

from app.wechat import crypto


@dataclass
class Received:
    args: dict[str, str]
    body: bytes
    message: Any = None


@dataclass
class Receiver:
    token: str
    app_id: str
    aes_key: str | None = None
    answer: Callable[[Any], str | None] = lambda msg: None
    delay: float = 0.0
    reply_encrypted: bool = True
    received: list[Received] = field(default_factory=list)

    def wsgi(self) -> Flask:
        app = Flask("receiver")

        @app.route("/wechat/callback", methods=["GET", "POST"])
        def callback() -> Response | str:
            args = request.args
            self.received.append(Received(dict(args), request.get_data()))
            if not crypto.check_signature(self.token, args.get("signature", ""), args.get("timestamp", ""),
                                          args.get("nonce", "")):
                abort(403)
            if request.method == "GET":
                return args.get("echostr", "")
            if self.delay:
                time.sleep(self.delay)
            encrypted = args.get("encrypt_type") == "aes"
            xml = request.get_data()
            if encrypted:
                assert self.aes_key
                xml = crypto.decrypt_message(self.token, self.aes_key, self.app_id, xml, args["msg_signature"],
                                             args["timestamp"], args["nonce"]).encode()
            msg = parse_message(xml)
            self.received[-1].message = msg
            text = self.answer(msg)
            if text is None:
                return "success"
            reply = create_reply(text, msg).render()
            if encrypted and self.reply_encrypted:
                assert self.aes_key
                return crypto.encrypt_reply(self.token, self.aes_key, self.app_id, reply)
            return reply

        return app
