"""The one seam through which the app calls WeChat's server APIs.

``WeChatApi`` wraps a wechatpy ``WeChatClient`` whose base URLs point wherever
configuration says (WeChat, or the local simulator), whose access token comes
from the shared Redis ``TokenKeeper`` (via /cgi-bin/stable_token), and which
retries a call exactly once when WeChat rejects the token. Every failure leaves
this module as an ``app.wechat.errors.WeChatError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

import requests
from wechatpy import WeChatClient
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException

from app.wechat.errors import TOKEN_ERRCODES, WeChatError, WeChatUnavailable, error_for
from app.wechat.token import TokenKeeper

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
# showqrcode and the OAuth page live on other hosts in the real world.
DEFAULT_QRCODE_BASE_URL = "https://mp.weixin.qq.com"
DEFAULT_OAUTH_BASE_URL = "https://open.weixin.qq.com"
_WECHATPY_API_HOST = "https://api.weixin.qq.com/"

Kind = Literal["oa", "mp"]


@dataclass(frozen=True)
class QrCodeTicket:
    ticket: str
    url: str  # the content of the QR code, e.g. http://weixin.qq.com/q/02abc...
    expire_seconds: int | None  # None for permanent codes


@dataclass(frozen=True)
class OAuthIdentity:
    openid: str
    unionid: str | None
    scope: str
    is_snapshotuser: bool


@dataclass(frozen=True)
class MiniProgramSession:
    openid: str
    session_key: str
    unionid: str | None


class _SeamClient(WeChatClient):
    """wechatpy's client with our base URL, token keeper and a single token retry."""

    def __init__(
        self, app_id: str, secret: str, *, base_url: str, keeper: TokenKeeper, http: requests.Session,
        timeout: float,
    ) -> None:
        # auto_retry=False: wechatpy would otherwise refetch and retry without limit.
        super().__init__(app_id, secret, timeout=timeout, auto_retry=False)
        self._http = http
        self._keeper = keeper
        self.API_BASE_URL = f"{base_url}/cgi-bin/"
        # API groups such as client.wxa carry their own absolute base URL; point them
        # at the same host (wechatpy clones the groups per client, so this is per instance).
        # (wechatpy's __new__ stored the clones in the instance dict; inspect.getmembers would
        # evaluate the access_token property and fetch a token.)
        for group in [v for v in vars(self).values() if isinstance(v, BaseWeChatAPI)]:
            own = getattr(group, "API_BASE_URL", None)
            if own and own.startswith(_WECHATPY_API_HOST):
                group.API_BASE_URL = f"{base_url}/{own[len(_WECHATPY_API_HOST):]}"

    @property
    def access_token(self) -> str:  # type: ignore[override]
        return self._keeper.get()

    def fetch_access_token(self) -> dict[str, Any]:
        return {"access_token": self._keeper.refresh()}

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        params = kwargs.get("params")
        explicit_token = isinstance(params, dict) and "access_token" in params
        attempt = _copy_kwargs(kwargs)
        try:
            return super()._request(method, url_or_endpoint, **attempt)
        except WeChatClientException as exc:
            if explicit_token or exc.errcode not in TOKEN_ERRCODES:
                raise
            used = attempt["params"].get("access_token") if isinstance(attempt.get("params"), dict) else None
        # The token was refused (invalidated elsewhere, expired early...): one new token, one retry.
        self._keeper.refresh(rejected=used)
        return super()._request(method, url_or_endpoint, **_copy_kwargs(kwargs))


def _copy_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    # wechatpy mutates params (adds access_token), so each attempt gets its own copy.
    # Always pass a params dict of our own so we can see which token was used.
    copied = dict(kwargs)
    if copied.get("params") is None or isinstance(copied["params"], dict):
        copied["params"] = dict(copied.get("params") or {})
    for value in (copied.get("files") or {}).values():
        fileobj = value[1] if isinstance(value, tuple) and len(value) > 1 else value
        if hasattr(fileobj, "seek"):
            fileobj.seek(0)
    return copied


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except WeChatError:
        raise
    except WeChatClientException as exc:
        raise error_for(exc.errcode, str(exc.errmsg or "")) from exc
    except requests.RequestException as exc:
        raise WeChatUnavailable(None, f"{type(exc).__name__}: {exc}") from exc


class WeChatApi:
    """Thin, typed WeChat server API for one app id (official account or mini program)."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        redis: Any,
        base_url: str = DEFAULT_API_BASE_URL,
        qrcode_base_url: str | None = None,
        oauth_base_url: str | None = None,
        timeout: float = 5.0,
        kind: Kind = "oa",
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = 300.0,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.kind = kind
        self.timeout = timeout
        self.base_url = base_url.rstrip("/")
        # Against the simulator everything is one host; against WeChat the real hosts differ.
        real = self.base_url == DEFAULT_API_BASE_URL
        self.qrcode_base_url = (qrcode_base_url or (DEFAULT_QRCODE_BASE_URL if real else self.base_url)).rstrip("/")
        self.oauth_base_url = (oauth_base_url or (DEFAULT_OAUTH_BASE_URL if real else self.base_url)).rstrip("/")
        self.http = http or requests.Session()
        self.keeper = TokenKeeper(redis, app_id, self._fetch_stable_token, refresh_margin=refresh_margin, clock=clock)
        self.wechatpy = _SeamClient(
            app_id, app_secret, base_url=self.base_url, keeper=self.keeper, http=self.http, timeout=timeout
        )

    # -- token ---------------------------------------------------------------
    def _fetch_stable_token(self, force_refresh: bool, timeout: float | tuple[float, float] | None = None
                            ) -> tuple[str, int]:
        body = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret,
                "force_refresh": force_refresh}
        with _translated():
            res = self.http.post(f"{self.base_url}/cgi-bin/stable_token", json=body,
                                 timeout=self.timeout if timeout is None else timeout)
            res.raise_for_status()
            data = res.json()
        if data.get("errcode"):
            raise error_for(int(data["errcode"]), str(data.get("errmsg", "")))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    def access_token(self) -> str:
        with _translated():
            return self.keeper.get()

    # -- plumbing ------------------------------------------------------------
    def _post(self, endpoint: str, data: Mapping[str, Any], **kwargs: Any) -> Any:
        with _translated():
            return self.wechatpy.post(endpoint, data=dict(data), **kwargs)

    def _get(self, endpoint: str, **kwargs: Any) -> Any:
        with _translated():
            return self.wechatpy.get(endpoint, **kwargs)

    def _no_token_get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        # access_token=None stops wechatpy from fetching a token (requests drops None params).
        result = self._get(endpoint, params={**params, "access_token": None}, api_base_url=f"{self.base_url}/")
        if not isinstance(result, dict):
            raise WeChatError(None, f"unexpected non-JSON answer from {endpoint}")
        return result

    # -- parametric QR codes (official account) ------------------------------------------------
    def create_qrcode_str_scene(self, scene_str: str, expire_seconds: int) -> QrCodeTicket:
        """A temporary QR code (at most 30 days) whose scan events carry ``scene_str``."""
        data = {"expire_seconds": int(expire_seconds), "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene_str}}}
        return self._qrcode(data)

    def create_permanent_qrcode_str_scene(self, scene_str: str) -> QrCodeTicket:
        """A permanent QR code (WeChat allows 100,000 per account, so use sparingly)."""
        return self._qrcode({"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene_str}}})

    def _qrcode(self, data: dict[str, Any]) -> QrCodeTicket:
        res = self._post("qrcode/create", data)
        expire = res.get("expire_seconds")
        return QrCodeTicket(str(res["ticket"]), str(res["url"]), int(expire) if expire is not None else None)

    def qrcode_image_url(self, ticket: str) -> str:
        return f"{self.qrcode_base_url}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"

    def qrcode_image(self, ticket: str) -> bytes:
        """The PNG for a ticket (showqrcode needs no access token)."""
        with _translated():
            res = self.http.get(self.qrcode_image_url(ticket), timeout=self.timeout)
        return _image_or_error(res, "showqrcode")

    # -- menus ---------------------------------------------------------------
    def create_menu(self, buttons: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> None:
        self._post("menu/create", _menu_body(buttons))

    def add_conditional_menu(
        self, buttons: Sequence[Mapping[str, Any]] | Mapping[str, Any], matchrule: Mapping[str, Any]
    ) -> str:
        """Add a menu shown only to users matching ``matchrule`` (e.g. {"tag_id": "100"}); returns menuid."""
        body = {**_menu_body(buttons), "matchrule": dict(matchrule)}
        return str(self._post("menu/addconditional", body)["menuid"])

    def delete_conditional_menu(self, menuid: str) -> None:
        self._post("menu/delconditional", {"menuid": str(menuid)})

    def delete_menu(self) -> None:
        """Delete the default menu, and with it every conditional menu."""
        self._get("menu/delete")

    def get_menu(self) -> dict[str, Any] | None:
        """The menu configuration ({"menu":..., "conditionalmenu": [...]}), or None if there is none."""
        try:
            return dict(self._get("menu/get"))
        except WeChatError as exc:
            if exc.errcode == 46003:  # menu no exist
                return None
            raise

    def try_match_menu(self, openid: str) -> dict[str, Any]:
        return dict(self._post("menu/trymatch", {"user_id": openid}))

    # -- tags ----------------------------------------------------------------
    def create_tag(self, name: str) -> int:
        return int(self._post("tags/create", {"tag": {"name": name}})["tag"]["id"])

    def get_tags(self) -> list[dict[str, Any]]:
        return list(self._get("tags/get")["tags"])

    def update_tag(self, tag_id: int, name: str) -> None:
        self._post("tags/update", {"tag": {"id": int(tag_id), "name": name}})

    def delete_tag(self, tag_id: int) -> None:
        self._post("tags/delete", {"tag": {"id": int(tag_id)}})

    def tag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        """Tag any number of users (WeChat takes 50 per call, so we batch)."""
        for chunk in _chunks(openids, 50):
            self._post("tags/members/batchtagging", {"openid_list": chunk, "tagid": int(tag_id)})

    def untag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        for chunk in _chunks(openids, 50):
            self._post("tags/members/batchuntagging", {"openid_list": chunk, "tagid": int(tag_id)})

    def tag_members(self, tag_id: int) -> list[str]:
        """Every openid carrying the tag (WeChat pages by 10,000 with next_openid)."""
        openids: list[str] = []
        next_openid = ""
        while True:
            res = self._post("user/tag/get", {"tagid": int(tag_id), "next_openid": next_openid})
            page = list((res.get("data") or {}).get("openid") or [])
            openids.extend(page)
            next_openid = str(res.get("next_openid") or "")
            if not page or not next_openid:
                return openids

    def get_user_tags(self, openid: str) -> list[int]:
        return [int(t) for t in self._post("tags/getidlist", {"openid": openid})["tagid_list"]]

    def user_unionid(self, openid: str, *, budget_s: float | None = None) -> str | None:
        """The follower's unionid (``/cgi-bin/user/info``), None if WeChat gives none.

        :param budget_s: inside a WeChat callback, the most this may take in all: the cached access
            token is used as it is (never waiting for another process's refresh: see
            :meth:`TokenKeeper.get`), a missing one is fetched within the budget, and a refused one
            is not retried. :raise WeChatUnavailable: the budget ran out.
        """
        params = {"openid": openid, "lang": "zh_CN"}
        if budget_s is None:
            data = self._get("user/info", params=params)
            return data.get("unionid") or None
        ends = time.monotonic() + budget_s
        with _translated():
            token = self.keeper.get(wait=False, fetch=lambda force: self._fetch_stable_token(
                force, timeout=_timeouts(ends)))
        # The token in the parameters: a refused one is not refreshed and retried (the seam's retry).
        data = self._get("user/info", params={**params, "access_token": token}, timeout=_timeouts(ends))
        return data.get("unionid") or None

    # -- messages ------------------------------------------------------------
    def send_template(
        self,
        touser: str,
        template_id: str,
        data: Mapping[str, Any],
        url: str | None = None,
        client_msg_id: str | None = None,
        miniprogram: Mapping[str, str] | None = None,
    ) -> int:
        """Send a template message; returns WeChat's msgid. ``data`` values may be plain strings."""
        body: dict[str, Any] = {
            "touser": touser,
            "template_id": template_id,
            "data": {k: (v if isinstance(v, Mapping) else {"value": str(v)}) for k, v in data.items()},
        }
        if url:
            body["url"] = url
        if miniprogram:
            body["miniprogram"] = dict(miniprogram)
        if client_msg_id:
            body["client_msg_id"] = client_msg_id  # WeChat dedupes per openid for 10 minutes
        return int(self._post("message/template/send", body)["msgid"])

    def send_custom_text(self, touser: str, text: str) -> None:
        """Customer-service text; only works within 48 h of the user's last interaction."""
        self._post("message/custom/send", {"touser": touser, "msgtype": "text", "text": {"content": text}})

    def upload_media(self, media_type: str, filename: str, content: bytes) -> str:
        """Upload temporary media (image/voice/video/thumb, kept 3 days); returns media_id."""
        with _translated():
            res = self.wechatpy.post("media/upload", params={"type": media_type},
                                     files={"media": (filename, content)})
        return str(res["media_id"])

    def send_subscribe_message(
        self,
        touser: str,
        template_id: str,
        data: Mapping[str, Any],
        page: str | None = None,
        miniprogram_state: str = "formal",
        lang: str = "zh_CN",
    ) -> None:
        """Mini-program subscribe message (needs a one-shot subscription by the user)."""
        body: dict[str, Any] = {
            "touser": touser,
            "template_id": template_id,
            "data": {k: (v if isinstance(v, Mapping) else {"value": str(v)}) for k, v in data.items()},
            "miniprogram_state": miniprogram_state,
            "lang": lang,
        }
        if page:
            body["page"] = page
        self._post("message/subscribe/send", body)

    # -- web OAuth (official account) -------------------------------------------------------------
    def oauth_authorize_url(self, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
        query = urlencode({"appid": self.app_id, "redirect_uri": redirect_uri, "response_type": "code",
                           "scope": scope, "state": state}, quote_via=quote)
        return f"{self.oauth_base_url}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_exchange(self, code: str) -> OAuthIdentity:
        """Trade a single-use OAuth code for the user's openid (WeChatCodeError if used/expired)."""
        res = self._no_token_get("sns/oauth2/access_token", {
            "appid": self.app_id, "secret": self.app_secret, "code": code, "grant_type": "authorization_code"})
        return OAuthIdentity(
            openid=str(res["openid"]),
            unionid=res.get("unionid") or None,
            scope=str(res.get("scope", "")),
            is_snapshotuser=bool(res.get("is_snapshotuser")),
        )

    # -- mini program --------------------------------------------------------
    def jscode2session(self, js_code: str) -> MiniProgramSession:
        """Trade a wx.login code for openid/unionid/session_key. Never send session_key to clients."""
        res = self._no_token_get("sns/jscode2session", {
            "appid": self.app_id, "secret": self.app_secret, "js_code": js_code, "grant_type": "authorization_code"})
        return MiniProgramSession(str(res["openid"]), str(res["session_key"]), res.get("unionid") or None)

    def wxacode_unlimit(
        self,
        scene: str,
        page: str | None = None,
        width: int = 430,
        check_path: bool = False,
        env_version: str = "release",
        is_hyaline: bool = False,
    ) -> bytes:
        """PNG bytes of an unlimited mini-program code; scene is at most 32 visible characters."""
        body: dict[str, Any] = {"scene": scene, "width": int(width), "check_path": check_path,
                                "env_version": env_version, "is_hyaline": is_hyaline}
        if page:
            body["page"] = page
        res = self._post("wxa/getwxacodeunlimit", body, api_base_url=f"{self.base_url}/")
        if isinstance(res, requests.Response):
            return _image_or_error(res, "getwxacodeunlimit")
        raise WeChatError(None, "getwxacodeunlimit answered JSON without an image")


def _timeouts(ends: float) -> tuple[float, float]:
    """requests' (connect, read) timeouts for a call that must end by ``ends`` (monotonic): each
    applies per socket operation, so the two share what is left. :raise WeChatUnavailable: none is."""
    left = ends - time.monotonic()
    if left < 0.05:
        raise WeChatUnavailable(None, "no time left to ask WeChat")
    return left / 3, 2 * left / 3


def _image_or_error(res: requests.Response, what: str) -> bytes:
    ctype = res.headers.get("Content-Type", "")
    if res.status_code == 200 and ctype.startswith("image/"):
        return res.content
    if "json" in ctype or res.content[:1] == b"{":
        try:
            data = res.json()
        except ValueError:
            data = {}
        if data.get("errcode"):
            raise error_for(int(data["errcode"]), str(data.get("errmsg", "")))
    if res.status_code >= 500:
        raise WeChatUnavailable(None, f"{what} answered HTTP {res.status_code}")
    raise WeChatError(None, f"{what} answered HTTP {res.status_code} ({ctype or 'no content type'})")


def _menu_body(buttons: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(buttons, Mapping):
        return {"button": list(buttons["button"])}
    return {"button": [dict(b) for b in buttons]}


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
