"""/n/<token>: a notice's full text for the one person it was sent to, and their answer: 参加 (回执)
or 请假 with a reason. The link arrives by WeChat template message or by SMS (read outside WeChat,
so no login): its unguessable token is the person's key to this one notice, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, redirect, render_template, request, url_for

from app.extensions import db
from app.services.documents import confidentiality
from app.services.errors import DomainError
from app.services.notify import notices as svc
from app.tx import finish_with_error
from app.web.console_auth import in_wechat
from models import Contact, Meeting

bp = Blueprint("notice_page", __name__, url_prefix="/n")
DONE = {"attend": "已确认参加，谢谢您的回执", "leave": "请假申请已提交，会务组批准后生效；结果请留意本页"}


def _page(recipient, *, error: str | None = None, status: int = 200):
    meeting = db.session.get(Meeting, recipient.notice.meeting_id)
    contact = db.session.get(Contact, recipient.contact_id)
    done = DONE.get(request.args.get("done", "")) if not error else None
    return render_template("attendee/notice.html", meeting=meeting, notice=recipient.notice, recipient=recipient,
                           contact=contact, state=svc.state_of(recipient), states=svc.STATES, error=error,
                           done=done, open=datetime.now(UTC) < meeting.ends_at, confirm_url=confidentiality.confirm_url(meeting),
                           typed_reason=request.form.get("reason", "") if error else ""), status


@bp.errorhandler(svc.NoticeError)
def _refused(exc: svc.NoticeError):
    return render_template("attendee/message.html", title="无法打开通知", message=exc.message, icon="!",
                           meeting=None), exc.status


@bp.get("/<token>")
def page(token: str):
    recipient = svc.by_token(token)
    svc.mark_read(recipient)
    return _page(recipient)


@bp.post("/<token>/<any(attend, leave):answer>")
def reply(token: str, answer: str):
    recipient = svc.by_token(token)
    meeting = db.session.get(Meeting, recipient.notice.meeting_id)
    try:
        if answer == "attend":
            svc.attend(recipient, meeting, channel=_channel())
        else:
            svc.ask_leave(recipient, meeting, reason=request.form.get("reason", ""), channel=_channel())
    except DomainError as exc:
        finish_with_error(exc)
        return _page(svc.by_token(token), error=exc.message, status=exc.status)
    return redirect(url_for(".page", token=token, done=answer))


def _channel() -> str:
    return "wechat" if in_wechat() else "browser"
