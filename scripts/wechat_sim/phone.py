"""The phone: what WeChat's servers do when a user scans, types or taps a menu.

Each action becomes event/message XML posted to the callback exactly as WeChat
posts it: signature/timestamp/nonce/openid in the query, and in compat/safe mode
encrypt_type=aes plus msg_signature with an AES-encrypted body. With no answer
within ``callback_timeout`` the identical request is sent again, three attempts
in all. The reply is verified (and decrypted), checked like WeChat checks it and
recorded in the user's inbox.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scripts.wechat_sim import signing
from scripts.wechat_sim.images import decode_png
from scripts.wechat_sim.oauth import add_query
from scripts.wechat_sim.state import SimUser
from scripts.wechat_sim.transport import TransportResponse
from scripts.wechat_sim.wxa import parse_wxacode_payload
from scripts.wechat_sim.xmlmsg import build_xml, parse_xml

if TYPE_CHECKING:
    from scripts.wechat_sim.simulator import Simulator

UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"
REPLY_TYPES = {"text", "image", "voice", "video", "music", "news", "transfer_customer_service"}


@dataclass
class PhoneReply:
    """What happened to one user action."""

    openid: str
    request_body: str = ""  # exactly what was posted (ciphertext envelope in safe mode)
    request_url: str = ""
    plaintext_request: str = ""
    attempts: int = 0
    status: int | None = None
    body: bytes = b""
    plaintext: str = ""  # the reply XML after decryption ("" for empty/success)
    message: dict[str, Any] | None = None  # parsed reply fields
    error: str | None = None  # why WeChat would show UNAVAILABLE (or why nothing was sent)
    opened_url: str | None = None  # scanning a non-WeChat QR opens it in the browser
    wxacode: dict[str, str] | None = None  # scanning a mini-program code opens the mini program
    delivered: bool = False  # the callback answered (in time)

    @property
    def msgtype(self) -> str | None:
        return self.message.get("MsgType") if self.message else None

    @property
    def text(self) -> str | None:
        """The Content of a text reply."""
        if self.message and self.message.get("MsgType") == "text":
            return str(self.message.get("Content", ""))
        return None

    @property
    def shown(self) -> str | None:
        """What the user sees in the chat after this action (None: nothing)."""
        if self.delivered and self.error is None and self.message is None:
            return None
        if self.error:
            return self.error
        if self.text is not None:
            return self.text
        return f"[{self.msgtype}]" if self.msgtype else None

    def public(self) -> dict[str, Any]:
        return {
            "openid": self.openid, "attempts": self.attempts, "status": self.status,
            "delivered": self.delivered, "error": self.error, "shown": self.shown,
            "message": self.message, "reply_xml": self.plaintext, "request_xml": self.plaintext_request,
            "opened_url": self.opened_url, "wxacode": self.wxacode,
        }


@dataclass
class _Envelope:
    url: str
    body: bytes
    plaintext: str
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"})


class Phone:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.state = sim.state
        self.config = sim.config
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="wechat-sim-callback")
        self._timers: list[threading.Thread] = []
        self.log: deque[PhoneReply] = deque(maxlen=500)  # recent actions, newest last

    # -- user actions -----------------------------------------------------------
    def scan(self, openid: str, *, ticket: str | None = None, url: str | None = None,
             png: bytes | None = None) -> PhoneReply:
        """Scan an official-account QR code given by ticket, content URL or image."""
        user = self.state.ensure_user(openid)
        if png is not None:
            url = decode_png(png)
            if url is None:
                return self._local(openid, "未发现二维码")
            wxacode = parse_wxacode_payload(url)
            if wxacode is not None:
                reply = PhoneReply(openid, wxacode=wxacode, delivered=True)
                self.log.append(reply)
                return reply
        with self.state.lock:
            code = self.state.qrcodes.get(ticket or "") if ticket else self.state.qrcodes_by_url.get(url or "")
            if code is None:
                if url and url.startswith(("http://", "https://")) and "weixin.qq.com/q/" not in url:
                    reply = PhoneReply(openid, opened_url=url, delivered=True)
                    self.log.append(reply)
                    return reply
                return self._local(openid, "无法识别的二维码")
            if code.expired(self.state.clock()):
                return self._local(openid, "二维码已过期")
            first_time = not user.subscribed
            user.subscribed = True  # following happens on the phone; the callback reports it
            user.last_interaction = self.state.clock()
        if first_time:
            return self._post(user, "event", [("Event", "subscribe"), ("EventKey", f"qrscene_{code.scene}"),
                                              ("Ticket", code.ticket)])
        return self._post(user, "event", [("Event", "SCAN"), ("EventKey", code.scene), ("Ticket", code.ticket)])

    def subscribe(self, openid: str) -> PhoneReply:
        """Follow the account from its profile page (no QR scene)."""
        user = self.state.ensure_user(openid)
        with self.state.lock:
            user.subscribed = True
            user.last_interaction = self.state.clock()
        return self._post(user, "event", [("Event", "subscribe"), ("EventKey", "")])

    def unsubscribe(self, openid: str) -> PhoneReply:
        user = self.state.ensure_user(openid)
        with self.state.lock:
            user.subscribed = False
        return self._post(user, "event", [("Event", "unsubscribe"), ("EventKey", "")])

    def send_text(self, openid: str, content: str) -> PhoneReply:
        user = self._interacting(openid)
        msgid = secrets.randbelow(9 * 10**18) + 10**18  # 64-bit MsgId, the dedupe key for messages
        return self._post(user, "text", [("Content", content), ("MsgId", msgid)])

    def click_menu(self, openid: str, key: str) -> PhoneReply:
        user = self._interacting(openid)
        return self._post(user, "event", [("Event", "CLICK"), ("EventKey", key)])

    def view_menu(self, openid: str, url: str, menu_id: int | None = None) -> PhoneReply:
        """Tap a view button: WeChat reports a VIEW event (the reply is ignored) and opens the url."""
        user = self._interacting(openid)
        if menu_id is None:
            menu_id = self.state.default_menu.menuid if self.state.default_menu else 0
        reply = self._post(user, "event", [("Event", "VIEW"), ("EventKey", url), ("MenuId", menu_id)],
                           record=False)
        reply.opened_url = url
        return reply

    def post_event(self, openid: str, fields: list[tuple[str, Any]]) -> PhoneReply:
        """Post any event (fields after MsgType, e.g. [("Event", "LOCATION"), ...])."""
        return self._post(self.state.ensure_user(openid), "event", fields)

    def template_job_finish(self, openid: str, msgid: int | str, status: str = "success") -> PhoneReply:
        """WeChat's delivery report of one template message, posted now (``Status``: ``success``,
        ``failed:user block`` or ``failed: system failed``, WeChat's spelling)."""
        return self.post_event(openid, [("Event", "TEMPLATESENDJOBFINISH"), ("MsgID", str(msgid)),
                                        ("Status", status)])

    def post_later(self, delay: float, openid: str, msgtype: str, fields: dict[str, Any]) -> None:
        """Post in the background (e.g. TEMPLATESENDJOBFINISH); ``wait_idle()`` waits for it."""
        user = self.state.ensure_user(openid)
        timer = threading.Timer(delay, self._post, args=(user, msgtype, list(fields.items())),
                                kwargs={"record": False})
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def wait_idle(self, timeout: float = 10.0) -> None:
        for timer in list(self._timers):
            timer.join(timeout)

    # -- mini program side ------------------------------------------------------
    def mp_login(self, openid: str | None = None) -> str:
        """wx.login(): a fresh single-use code for this user (created if unknown)."""
        if openid is None:
            user = self.state.create_user()
        else:
            user = self.state.get_user(openid) or self.state.create_user(mp_openid=openid)
        return self.state.mint_code("login", user.mp_openid, self.config.mp_app_id).code

    def accept_subscribe(self, openid: str, template_id: str, times: int = 1) -> None:
        """wx.requestSubscribeMessage() accepted: allows ``times`` subscribe messages."""
        user = self.state.get_user(openid) or self.state.create_user(mp_openid=openid)
        with self.state.lock:
            user.subscribe_quota[template_id] += times

    # -- server verification (GET) ---------------------------------------------------
    def verify_server(self, echostr: str | None = None) -> bool:
        """What WeChat does when the URL is saved in the backend: GET with echostr."""
        echostr = echostr or str(secrets.randbelow(10**19))
        timestamp, nonce = self._stamp()
        url = add_query(self._callback_url(), signature=signing.signature(self.config.token, timestamp, nonce),
                        timestamp=timestamp, nonce=nonce, echostr=echostr)
        try:
            res = self.sim.transport("GET", url, {"User-Agent": "Mozilla/4.0"}, b"", self.config.callback_timeout)
        except Exception:
            return False
        return res.status == 200 and res.body.decode("utf-8", "replace") == echostr

    # -- plumbing ----------------------------------------------------------------------
    def _interacting(self, openid: str) -> SimUser:
        user = self.state.ensure_user(openid)
        with self.state.lock:
            user.last_interaction = self.state.clock()
        return user

    def _local(self, openid: str, error: str) -> PhoneReply:
        reply = PhoneReply(openid, error=error)
        self.log.append(reply)
        return reply

    def _callback_url(self) -> str:
        if not self.config.callback_url:
            raise RuntimeError("the simulator has no callback_url configured")
        return self.config.callback_url

    def _stamp(self) -> tuple[str, str]:
        return str(int(self.state.clock())), str(secrets.randbelow(9 * 10**9) + 10**9)

    def envelope(self, user: SimUser, msgtype: str, fields: list[tuple[str, Any]]) -> _Envelope:
        """The signed (and in compat/safe mode encrypted) request WeChat would post."""
        cfg = self.config
        timestamp, nonce = self._stamp()
        plaintext = build_xml([("ToUserName", cfg.original_id), ("FromUserName", user.oa_openid),
                               ("CreateTime", timestamp), ("MsgType", msgtype), *fields])
        query = {"signature": signing.signature(cfg.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": user.oa_openid}
        body = plaintext
        if cfg.mode != "plain":
            if not cfg.aes_key:
                raise RuntimeError(f"{cfg.mode} mode needs aes_key")
            encrypted = signing.encrypt(cfg.aes_key, cfg.app_id, plaintext)
            query["encrypt_type"] = "aes"
            query["msg_signature"] = signing.signature(cfg.token, timestamp, nonce, encrypted)
            enc = build_xml([("Encrypt", encrypted)])[len("<xml>"):-len("</xml>")]
            if cfg.mode == "compat":
                body = plaintext[: -len("</xml>")] + enc + "</xml>"
            else:
                body = build_xml([("ToUserName", cfg.original_id)])[: -len("</xml>")] + enc + "</xml>"
        return _Envelope(add_query(self._callback_url(), **query), body.encode("utf-8"), plaintext)

    def _post(self, user: SimUser, msgtype: str, fields: list[tuple[str, Any]], record: bool = True) -> PhoneReply:
        reply = PhoneReply(user.oa_openid)
        self.log.append(reply)
        if not self.config.callback_url:
            reply.error = "公众号未配置服务器地址（callback_url）"
            return reply
        env = self.envelope(user, msgtype, fields)
        reply.request_url, reply.request_body, reply.plaintext_request = (
            env.url, env.body.decode("utf-8"), env.plaintext)
        timeout = self.config.callback_timeout
        answer: TransportResponse | None = None
        for attempt in range(1, max(1, self.config.callback_attempts) + 1):
            reply.attempts = attempt
            # Same url, headers and body each time: WeChat resends the identical request.
            try:
                if not self.config.callback_in_thread:
                    answer = self.sim.transport("POST", env.url, env.headers, env.body, timeout)
                    break
                future = self._pool.submit(self.sim.transport, "POST", env.url, env.headers, env.body, timeout)
                answer = future.result(timeout=timeout)
                break
            except FutureTimeout:
                continue  # the slow request keeps running, as it would on a real server
            except Exception as exc:  # connection refused, transport timeout...
                reply.error = f"{UNAVAILABLE}（{type(exc).__name__}）"
                continue
        if answer is None:
            reply.error = reply.error or UNAVAILABLE
            if record:
                self.state.deliver(user, "system", msgtype="system", content=UNAVAILABLE)
            return reply
        reply.status, reply.body, reply.error = answer.status, answer.body, None
        self._read_reply(user, reply)
        if record and reply.error:
            self.state.deliver(user, "system", msgtype="system", content=UNAVAILABLE, detail=reply.error)
        elif record and reply.message is not None:
            entry = {k: v for k, v in reply.message.items() if k not in ("ToUserName", "FromUserName", "CreateTime")}
            self.state.deliver(user, "reply", msgtype=reply.message.get("MsgType"),
                               content=reply.message.get("Content"), fields=entry)
        return reply

    def _read_reply(self, user: SimUser, reply: PhoneReply) -> None:
        cfg = self.config
        reply.delivered = True
        if reply.status != 200:
            reply.error = f"HTTP {reply.status}"
            return
        text = reply.body.decode("utf-8", "replace").strip()
        if text in ("", "success"):
            return  # WeChat shows nothing and does not retry
        try:
            fields = parse_xml(reply.body)
        except ValueError:
            reply.error = "回复不是 XML"
            return
        if "Encrypt" in fields:
            if cfg.mode == "plain" or not cfg.aes_key:
                reply.error = "明文模式下收到了加密回复"
                return
            expected = signing.signature(cfg.token, str(fields.get("TimeStamp", "")), str(fields.get("Nonce", "")),
                                         str(fields["Encrypt"]))
            if fields.get("MsgSignature") != expected:
                reply.error = "回复的 MsgSignature 校验失败"
                return
            try:
                reply.plaintext = signing.decrypt(cfg.aes_key, cfg.app_id, str(fields["Encrypt"]))
            except Exception:
                reply.error = "回复无法解密或 AppID 不符"
                return
            try:
                fields = parse_xml(reply.plaintext)
            except ValueError:
                reply.error = "解密后的回复不是 XML"
                return
        elif cfg.mode == "safe":
            reply.error = "安全模式下回复必须加密"
            return
        else:
            reply.plaintext = text
        if fields.get("ToUserName") != user.oa_openid or fields.get("FromUserName") != cfg.original_id:
            reply.error = "回复的 ToUserName/FromUserName 不符"
            return
        if fields.get("MsgType") not in REPLY_TYPES:
            reply.error = f"不支持的回复类型 {fields.get('MsgType')!r}"
            return
        reply.message = fields
