"""Routes that describe themselves: one decorator validates input and records the operation.

``@api(...)`` registers the Flask route, validates the JSON body or query string with a pydantic
model (422 ``invalid_input`` with a Chinese message naming the field), serializes the pydantic
answer, and keeps everything it knows for :func:`document`. The OpenAPI document is built from those
records and the models' own JSON schemas, so it cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from app.services.errors import InvalidInput

#: Largest id a path may carry: the database's integer; larger ones cannot exist (404, not 500).
MAX_PATH_INT = 2**31 - 1

#: Every error the API can answer, for the document; the message is what the status means.
STATUS_TEXT = {
    200: "成功", 400: "请求有误（如含无法识别的字符）或不符合业务规则", 401: "未登录、登录过期或凭证无效", 403: "无权访问",
    404: "不存在", 409: "冲突", 410: "已失效（如文件已清退）", 422: "输入有误", 429: "操作过于频繁", 503: "微信服务暂时不可用",
}


@dataclass(frozen=True)
class Binary:
    """A non-JSON answer (an image, a file): the view returns a Flask ``Response`` itself."""

    media_type: str
    description: str = ""


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | Binary]
    auth: bool
    tags: list[str] = field(default_factory=list)
    #: The security scheme of an authenticated operation: the attendee's ``bearer`` or a desk's token.
    security: str = "bearer"


OPERATIONS: list[Operation] = []


def api(bp: Blueprint, rule: str, method: str = "GET", *, summary: str,
        responses: dict[int, type[BaseModel] | Binary],
        body: type[BaseModel] | None = None, query: type[BaseModel] | None = None, auth: bool = True,
        tags: list[str] | None = None, authenticate: Callable[[], Any] | None = None, security: str = "bearer"):
    """Register ``rule`` on ``bp``. The view gets path args, then ``me`` (when ``auth``), ``body``,
    ``query``; it returns a model (status 200), ``(model, status)``, or a ``Response`` (for a
    :class:`Binary` answer)."""

    def decorate(view):
        op = Operation(rule, method, view.__name__, summary, (view.__doc__ or "").strip(), body, query,
                       responses, auth, tags or [], security)
        OPERATIONS.append(op)

        @wraps(view)
        def handler(**path_args):
            if any(isinstance(v, int) and v > MAX_PATH_INT for v in path_args.values()):
                abort(404)
            kwargs: dict[str, Any] = {}
            # Who is asking comes before what they sent: a stranger learns nothing from a 422.
            if auth:
                kwargs["me"] = authenticate()
            if body is not None:
                data = request.get_json(silent=True)
                if not isinstance(data, dict):
                    raise InvalidInput("请求体应为 JSON 对象")
                kwargs["body"] = _validate(body, data)
            if query is not None:
                kwargs["query"] = _validate(query, request.args.to_dict())
            result = view(**path_args, **kwargs)
            if isinstance(result, Response):
                return result
            model, status = result if isinstance(result, tuple) else (result, 200)
            return jsonify(model.model_dump(mode="json")), status

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
        return handler

    return decorate


def _validate(model: type[BaseModel], data: dict) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_explain(model, exc)) from None


_REASONS = {
    "missing": "为必填项",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为布尔值",
    "string_too_short": "不能为空",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "extra_forbidden": "是不支持的字段",
}


def _explain(model: type[BaseModel], exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    name = ".".join(str(p) for p in err["loc"]) or "请求"
    info = model.model_fields.get(str(err["loc"][0])) if err["loc"] else None
    label = f"{info.title}（{name}）" if info is not None and info.title else name
    reason = _REASONS.get(err["type"], "格式不正确")
    try:
        reason = reason.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        pass
    return f"{label}{reason}"


# -- the document -------------------------------------------------------------------------------

_PARAM_RE = re.compile(r"<(?:(\w+):)?(\w+)>")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error: a stable code and a Chinese message."""

    error: ErrorDetail


def document(prefix: str, *, title: str, version: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorBody}
    for op in OPERATIONS:
        models.update(m for m in (op.body, *op.responses.values()) if isinstance(m, type))
    keyed = sorted(((m, "validation") for m in models), key=lambda pair: pair[0].__name__)
    _, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path = prefix + _PARAM_RE.sub(lambda m: "{" + m.group(2) + "}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "POST /session 换得的令牌"},
                                "desk": {"type": "http", "scheme": "bearer",
                                         "description": "签到台令牌：会务后台「签到台」页新增签到台时发放，限一个会议，可停用"}},
        },
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _response(code: int, model: type[BaseModel] | Binary) -> dict[str, Any]:
    if isinstance(model, Binary):
        return {"description": model.description or STATUS_TEXT.get(code, "见错误代码"),
                "content": {model.media_type: {"schema": {"type": "string", "format": "binary"}}}}
    return {"description": STATUS_TEXT.get(code, "见错误代码"),
            "content": {"application/json": {"schema": _ref(model)}}}


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.tags:
        out["tags"] = op.tags
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PATH_INT} if conv == "int"
               else {"type": "string"}}
              for conv, name in _PARAM_RE.findall(op.rule)]
    if op.query is not None:
        for name, schema in op.query.model_json_schema()["properties"].items():
            # A query string cannot carry null: an optional parameter is simply left out.
            options = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
            if options:
                schema.update(options[0])
            params.append({"name": name, "in": "query", "required": op.query.model_fields[name].is_required(),
                           "schema": schema})
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.body)}}}
    codes = dict(op.responses)
    # Any request may carry what no person types (a NUL in the path, a query or the body):
    # app.web.input_guard answers 400 ``bad_input`` before the view runs.
    codes.setdefault(400, ErrorBody)
    if op.auth:
        codes.setdefault(401, ErrorBody)
    if op.body is not None or op.query is not None:
        codes.setdefault(422, ErrorBody)
    out["responses"] = {str(code): _response(code, model) for code, model in sorted(codes.items())}
    out["security"] = [{op.security: []}] if op.auth else []
    return out
