"""The hostile-input sweep's machinery: every route of the route map, hostile values in each of its
path parameters, query, form and JSON fields, with the login of the door the route belongs to.

Which fields a route reads is learnt, not listed: a discovery request runs each view while the
request's ``args``/``form``/``files`` and its JSON object record every name the code asks for (a
second round fills those with plausible values, to reach the fields read after the first ones
pass), and the mini-program API adds its pydantic models' fields (miniprogram_api/openapi.py). So
a field added later is swept without anyone remembering to list it.

Every request's answer is checked by :func:`problems`: never a 5xx, never a traceback in the body,
and a JSON error always has the stable shape ``{"error": {"code": "<code>", "message": "<中文>"}}``.
"""

from __future__ import annotations

import contextvars
import json
import re
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote

from werkzeug.datastructures import ImmutableMultiDict

MB = 1024 * 1024

#: One hostile value per kind, as text (path, query, form). ``bad_utf8`` and ``deep`` are shaped per
#: place below (raw bytes in a body, percent-encoded in a URL; repeated or nested form names).
TEXT = {
    "nul": "a\x00b",
    "digits20": "12345678901234567890",
    # 1 MB of UTF-8, mostly ASCII: werkzeug takes seconds to percent-decode a megabyte of escapes,
    # which would be the test's time, not the app's (a few thousand CJK characters still go in).
    "megabyte": ("字" + "A" * 97) * (MB // 100),
    "superscript": "²",  # str.isdigit() says yes, int() says no
    "negative": "-12345678901234567890",
}
KINDS = ("nul", "digits20", "megabyte", "superscript", "negative", "bad_utf8", "list", "deep")

#: Plausible values for fields, so the others pass and the hostile one is the one examined.
BENIGN = {
    "phone": "13800138000", "name": "张三", "unit": "区委办公室", "unit_text": "区委办公室", "title": "测试",
    "username": "office", "password": "secret", "q": "张", "page": "1", "per_page": "20", "s": "1",
    "session": 1, "nonce": "abcdefgh12", "option": "1", "reason": "测试", "note": "测试", "code": "x",
    "right": "staff", "role": "invitee", "do": "add", "state": "upcoming", "text": "张三 13800138000",
}


@dataclass
class Door:
    """How a request gets through a door: session keys to set, headers to send, query to add."""

    name: str
    session: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)


@dataclass
class Route:
    endpoint: str
    method: str
    rule: str
    door: str
    params: dict[str, str]  # path parameter -> converter ("default", "int", "path", "any")
    query: set[str] = field(default_factory=set)
    form: set[str] = field(default_factory=set)
    json: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


# -- discovery ------------------------------------------------------------------------------------

_RECORD: contextvars.ContextVar[dict | None] = contextvars.ContextVar("hostile_record", default=None)


class _RecordingDict(dict):
    def get(self, key, default=None):
        _note("json", key)
        return super().get(key, default)

    def __getitem__(self, key):
        _note("json", key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _note("json", key)
        return super().__contains__(key)


def _note(place: str, key) -> None:
    record = _RECORD.get()
    if record is not None and isinstance(key, str):
        record.setdefault(place, set()).add(key)


def _place_of(obj) -> str | None:
    from flask import has_request_context, request

    if not has_request_context():
        return None
    cached = request._get_current_object().__dict__
    for place in ("args", "form", "files"):
        if cached.get(place) is obj:
            return place
    return None


def install_recorders(monkeypatch, app) -> None:
    """Make the request's multidicts and JSON object note each name read while recording is on."""
    for method in ("get", "getlist", "__getitem__", "__contains__"):
        original = getattr(ImmutableMultiDict, method)

        def recording(self, key, *args, __original=original, **kwargs):
            if _RECORD.get() is not None:
                place = _place_of(self)
                if place:
                    _note(place, key)
            return __original(self, key, *args, **kwargs)

        monkeypatch.setattr(ImmutableMultiDict, method, recording)

    original_json = app.request_class.get_json

    def get_json(self, *args, **kwargs):
        data = original_json(self, *args, **kwargs)
        if _RECORD.get() is not None and isinstance(data, dict) and not isinstance(data, _RecordingDict):
            data = _RecordingDict(data)
            self._cached_json = (data, data)
        return data

    monkeypatch.setattr(app.request_class, "get_json", get_json)


_PARAM = re.compile(r"<(?:([a-z_]+)(?:\(([^)]*)\))?:)?([a-z_]+)>")


def routes_of(app, door_of) -> list[Route]:
    out = []
    for rule in app.url_map.iter_rules():
        params = {m.group(3): (m.group(1) or "default") for m in _PARAM.finditer(rule.rule)}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append(Route(rule.endpoint, method, rule.rule, door_of(rule.rule, method), params))
    # The WeChat callback's POST is answered in front of Flask (wechat_handlers/callback.py).
    out.append(Route("wechat.callback", "POST", "/wechat/callback", "wechat", {}))
    return sorted(out, key=lambda r: (r.rule, r.method))


def mp_schema_fields(routes: list[Route]) -> None:
    """The mini-program API's body and query fields, from the models its decorator validates with."""
    from miniprogram_api.openapi import OPERATIONS

    by_endpoint = {(f"mp_api.{op.endpoint}", op.method): op for op in OPERATIONS}
    for route in routes:
        op = by_endpoint.get((route.endpoint, route.method))
        if op is None:
            continue
        if op.body is not None:
            route.json |= set(op.body.model_fields)
        if op.query is not None:
            route.query |= set(op.query.model_fields)


def url_for_route(route: Route, values: dict[str, str], override: dict[str, str] | None = None) -> str:
    def fill(m):
        conv, options, name = m.group(1), m.group(2), m.group(3)
        if override and name in override:
            return override[name]
        if conv == "any":
            return options.split(",")[0].strip()
        return quote(str(values.get(name, "1")), safe="")

    return _PARAM.sub(fill, route.rule)


def benign(name: str, ids: dict) -> object:
    if name in ids:
        return ids[name]
    return BENIGN.get(name, "1")


# -- hostile requests ------------------------------------------------------------------------------


@dataclass
class Shot:
    """One request: method, URL (path and query already encoded), body and its content type."""

    what: str
    method: str
    url: str
    data: bytes | None = None
    content_type: str | None = None
    accept_json: bool = False
    headers: dict = field(default_factory=dict)


def _sample(route: Route, name: str, n: int) -> list[str]:
    """``n`` of the kinds for one field, chosen by a stable hash so each run sends the same ones and
    neighbouring fields get different ones (every kind is still sent to every route below)."""
    start = zlib.crc32(f"{route.endpoint}|{route.method}|{name}".encode()) % len(KINDS)
    return [KINDS[(start + i * 3) % len(KINDS)] for i in range(n)]


#: Longest value a URL can carry to the app: gunicorn refuses a request line past 4094 bytes
#: (limit_request_line), so a megabyte only ever arrives in a body.
URL_MAX = 4000


def _pairs_text(name: str, kind: str, *, in_url: bool = False) -> bytes:
    """urlencoded ``name=<hostile>`` (bytes): used for both query strings and form bodies."""
    key = quote(name, safe="")
    if kind == "megabyte" and in_url:
        return f"{key}={quote(('字' + 'A' * 20) * (URL_MAX // 30), safe='')}".encode()
    if kind == "bad_utf8":
        return f"{key}=".encode() + b"%FF%FEab%C3%28"
    if kind == "list":
        return f"{key}=a&{key}=b&{key}=".encode()
    if kind == "deep":
        # Form "arrays": PHP-style nested names and ten thousand repeats of the one name.
        nested = quote(name + "[a]" * 200, safe="")
        # "0": no row has that id, so the repeats do not act on a real person (id 1 is the organizer).
        return (f"{nested}=0&" + "&".join([f"{key}=0"] * (200 if in_url else 5_000))).encode()
    return f"{key}={quote(TEXT[kind], safe='')}".encode()


def _raw_form(name: str, kind: str) -> bytes:
    """The same, but invalid UTF-8 as raw bytes in the body rather than percent-encoded."""
    if kind == "bad_utf8":
        return quote(name, safe="").encode() + b"=\xff\xfe\xc3("
    return _pairs_text(name, kind)


def _json_value(kind: str) -> object:
    return {"nul": "a\x00b", "digits20": 12345678901234567890, "megabyte": TEXT["megabyte"],
            "superscript": "²", "negative": -12345678901234567890, "list": ["a", "b"],
            "deep": {"a": {"b": [[[["x"]]]]}}, "bad_utf8": _BAD}.get(kind)


_BAD = "@@invalid-utf8@@"


def _json_body(fields: dict) -> bytes:
    # JSON cannot hold invalid UTF-8: the marker is swapped for raw invalid bytes after encoding.
    return json.dumps(fields, ensure_ascii=False).encode().replace(_BAD.encode(), b"\xff\xfe\xc3(")


def shots(route: Route, values: dict[str, str], ids: dict, *, per_field: int = 1) -> list[Shot]:
    """The hostile requests for one route. Every kind goes into all its fields at once; then each
    field gets ``per_field`` kinds alone, the others benign (a route with one field has had them all)."""
    out: list[Shot] = []
    method = route.method
    base = url_for_route(route, values)
    benign_query = "&".join(f"{quote(n, safe='')}={quote(str(benign(n, ids)), safe='')}" for n in sorted(route.query))

    # Path parameters, one at a time, each kind that a URL can carry.
    for name, conv in route.params.items():
        if conv == "any":
            kinds = {"nul": "%00", "digits20": TEXT["digits20"]}
        elif conv == "int":
            kinds = {"digits20": TEXT["digits20"], "twenty_nines": "9" * 20, "zero": "0", "arabic": "١٢"}
        else:
            kinds = {"nul": "AB%00C", "digits20": TEXT["digits20"], "bad_utf8": "%FF%FE%C3%28",
                     "long": "X" * URL_MAX, "superscript": quote("²"), "dots": "..%2F..%2Fetc%2Fpasswd"}
        # Half the kinds per route, by the stable hash: a converter is shared by many routes, which
        # between them get every kind.
        start = zlib.crc32(f"{route.endpoint}|{route.method}|{name}".encode())
        names = list(kinds)
        half = max(2, (len(names) + 1) // 2) if per_field < len(KINDS) else len(names)
        chosen = [names[(start + i) % len(names)] for i in range(half)]
        for kind, raw in ((k, kinds[k]) for k in chosen):
            url = url_for_route(route, values, {name: raw})
            out.append(Shot(f"path {name}={kind}", method, url + (f"?{benign_query}" if benign_query else "")))

    # The query: every field hostile at once with each kind, then each field alone (others benign).
    # A POST's query (the session number, mostly) gets fewer: its body is what that route is about.
    for kind in KINDS if method == "GET" else ("nul", "digits20", "bad_utf8", "list", "superscript"):
        if route.query:
            qs = b"&".join(_pairs_text(n, kind, in_url=True) for n in sorted(route.query))
            out.append(Shot(f"query *={kind}", method, base + "?" + qs.decode("latin-1"),
                            accept_json=kind in ("nul", "list", "megabyte")))
    for name in sorted(route.query) if len(route.query) > 1 else ():
        for kind in _sample(route, name, per_field):
            others = "&".join(f"{quote(n, safe='')}={quote(str(benign(n, ids)), safe='')}"
                              for n in sorted(route.query) if n != name)
            qs = _pairs_text(name, kind, in_url=True).decode("latin-1") + (f"&{others}" if others else "")
            out.append(Shot(f"query {name}={kind}", method, base + "?" + qs, accept_json=True))
    if route.endpoint.endswith(".events"):  # a stream resumes from the Last-Event-ID header
        for kind, value in (("digits20", TEXT["digits20"]), ("superscript", "²"), ("negative", "-1-1"),
                            ("long", "9" * URL_MAX), ("junk", "1-2-3:x")):
            out.append(Shot(f"header Last-Event-ID={kind}", method, base + (f"?{benign_query}" if benign_query else ""),
                            headers={"Last-Event-ID": value}))
    if method == "GET":
        if not route.query:  # still try an unknown hostile parameter and a percent-encoded bad byte
            for kind in ("nul", "bad_utf8"):
                out.append(Shot(f"query x={kind}", method, base + "?" + _pairs_text("x", kind, in_url=True).decode("latin-1")))
        return out

    # Form bodies: all at once per kind (urlencoded, raw invalid bytes), each alone (others benign),
    # and one multipart body whose text part holds invalid UTF-8.
    fields = sorted(route.form) or ["x"]
    form_type = "application/x-www-form-urlencoded"
    for kind in KINDS:
        body = b"&".join(_raw_form(n, kind) for n in fields)
        out.append(Shot(f"form *={kind}", method, base, body, form_type, accept_json=kind in ("digits20", "list")))
    for name in sorted(route.form) if len(route.form) > 1 else ():
        for kind in _sample(route, name, per_field):
            others = [f"{quote(n, safe='')}={quote(str(benign(n, ids)), safe='')}".encode()
                      for n in fields if n != name]
            body = b"&".join([_raw_form(name, kind), *others])
            out.append(Shot(f"form {name}={kind}", method, base, body, form_type, accept_json=True))
    boundary = "hostileboundary"
    parts = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n'.encode()
                     + b"\xff\xfe\x00\xc3(\r\n" for n in fields)
    parts += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a\xff.xlsx"\r\n'
              f"Content-Type: application/octet-stream\r\n\r\n").encode("latin-1") + b"PK\x03\x04junk\r\n"
    out.append(Shot("multipart bad_utf8", method, base, parts + f"--{boundary}--\r\n".encode(),
                    f"multipart/form-data; boundary={boundary}"))

    # JSON bodies: nested 100,000 deep, not an object, then each kind in every field and alone.
    deep = b"[" * 100_000 + b"]" * 100_000
    out.append(Shot("json deep 100000", method, base, deep, "application/json", accept_json=True))
    out.append(Shot("json list", method, base, b'["a", 1]', "application/json", accept_json=True))
    if not route.json:  # a view that reads no JSON never parses the rest
        return out
    out.append(Shot("json deep object", method, base, b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                    "application/json", accept_json=True))
    out.append(Shot("json raw bad_utf8", method, base, b'{"x": "\xff\xfe"}', "application/json", accept_json=True))
    jfields = sorted(route.json)
    for kind in KINDS:
        out.append(Shot(f"json *={kind}", method, base, _json_body({n: _json_value(kind) for n in jfields}),
                        "application/json", accept_json=True))
    for name in sorted(route.json) if len(route.json) > 1 else ():
        for kind in _sample(route, name, per_field + 1):
            body = {n: benign(n, ids) for n in jfields if n != name} | {name: _json_value(kind)}
            out.append(Shot(f"json {name}={kind}", method, base, _json_body(body), "application/json",
                            accept_json=True))
    return out


# -- judging answers --------------------------------------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def problems(status: int, content_type: str, body: bytes) -> list[str]:
    """What is wrong with one answer to a hostile request (empty when it is a fine refusal)."""
    wrong = []
    if status >= 500 and status != 503:
        wrong.append(f"status {status}")
    if b"Traceback (most recent call last)" in body or re.search(rb'File "[^"]+\.py", line \d+', body):
        wrong.append("traceback in the body")
    if status >= 400 and content_type.startswith("application/json"):
        try:
            error = json.loads(body)["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            wrong.append(f"JSON error without the stable shape: {body[:120]!r}")
        else:
            if not (isinstance(code, str) and _CODE.match(code)):
                wrong.append(f"unstable error code {code!r}")
            if not (isinstance(message, str) and _CJK.search(message)):
                wrong.append(f"error message not in Chinese: {message!r}")
    return wrong
