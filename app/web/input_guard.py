"""Bad input answered as bad input: a 4xx with a stable code, never a 500, nothing written.

Three roots, each handled once here rather than in every view:
- NUL bytes, which no person types and PostgreSQL cannot store in text, are refused before any view
  runs, in the path, the query and form fields, and in any string of a JSON body as soon as it is
  read (``bad_input``; SQLite would have stored them).
- Numbers past what the database holds (a 20-digit id): path ids beyond 2^53 do not match a route
  (404, the ``int`` converter below); a value that still reaches the database and is refused there
  (``DataError``; on SQLite the driver's ``OverflowError``) is the client's error, answered 400
  ``value_out_of_range`` with the transaction rolled back.
- JSON nested deeper than Python's parser recurses (``RecursionError``) is a malformed body, answered
  as one (400), as any other unparseable JSON.
"""

from __future__ import annotations

from flask import Flask, Request, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.services.errors import DomainError
from app.web.errors import error_response

#: JavaScript's safe integers: every id we hand out fits, and a browser can hold it exactly.
MAX_ID = 2**53 - 1


class InputError(DomainError):
    messages = {
        "bad_input": "请求中含有无法识别的字符，请检查后重新输入",
        "value_out_of_range": "输入的数值超出范围，请检查后重新输入",
        "json_not_object": "请求内容应为 JSON 对象（{...}），请检查后重试",
    }


class BoundedInt(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class GuardedRequest(Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            data = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("JSON nested too deeply") from None
        if _json_has_nul(data):  # as in a form field: refused, however the view asked for the body
            raise InputError("bad_input")
        return data


def _json_has_nul(data) -> bool:
    """Whether any string (key or value) in a parsed JSON body holds a NUL. Iterative: the parser
    already bounds the depth, but this need not lean on it."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_object() -> dict | None:
    """The request's JSON object, or None when the body is not JSON at all (a form post). A JSON body
    of another shape (a list, a number) is refused here, once, rather than met by ``.get`` in a view."""
    data = request.get_json(silent=True)
    if data is None or isinstance(data, dict):
        return data
    raise InputError("json_not_object")


def _has_nul(values) -> bool:
    return any("\x00" in v for v in values)


def init_app(app: Flask) -> None:
    app.request_class = GuardedRequest
    app.url_map.converters["int"] = BoundedInt

    @app.before_request
    def _refuse_nul():
        if "\x00" in request.path or _has_nul(request.args.values()):
            raise InputError("bad_input")
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data") and _has_nul(request.form.values()):
            raise InputError("bad_input")

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)  # sqlite3: "Python int too large to convert to SQLite INTEGER"
    def _data_error(exc: Exception):
        db.session.rollback()
        error = InputError("value_out_of_range")
        return error_response(error.code, error.message, error.status)
