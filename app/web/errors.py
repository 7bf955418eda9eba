"""One error shape for every JSON API, a Chinese page for browsers (:mod:`app.web.error_pages`)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, request
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import DomainError
from app.tx import finish_with_error
from app.web.error_pages import render_error_page

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "您没有权限访问此页面"),
    404: ("not_found", "页面不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    413: ("payload_too_large", "上传的内容太大"),
    429: ("rate_limited", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器开小差了，请稍后再试"),
}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(code: str, message: str, status: int):
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    generic = HTTP_CODES.get(status) == (code, message) or code == "csrf_failed"
    return render_error_page(code, message, status, generic=generic), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        finish_with_error(exc)
        return error_response(exc.code, exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", exc.description or "请求无法完成"))
        if status == 400 and exc.description and "CSRF" in exc.description:
            code, message = "csrf_failed", "页面已过期，请刷新后重试"
        response = make_response(error_response(code, message, status))
        if getattr(exc, "valid_methods", None):  # a 405 must say what is allowed (RFC 9110)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        code, message = HTTP_CODES[500]
        return error_response(code, message, 500)
