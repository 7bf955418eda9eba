"""保密提醒 on the web: the attendee's confirm page (/m/<code>/confidentiality) and the organizer's
page beside the meeting's documents (/admin/<code>/documents/confidentiality).

The gate itself is in the documents service (app/services/documents/confidentiality.py): the
document viewer sends an unconfirmed attendee here with the document's link, and this page sends
them back to it once they confirmed.
"""

from __future__ import annotations

import re

from flask import Blueprint, redirect, render_template, request, url_for

from app.services.documents import confidentiality
from app.services.documents.confidentiality import ConfidentialityError
from app.services.meetings.meetings import get_meeting
from app.services.meetings.organizers import require_right
from app.tx import finish_with_error
from app.web.auth import current_contact, wechat_login_required
from app.web.console_auth import console_login_required, form_action, load_meeting

bp = Blueprint("confidentiality", __name__)

#: A document link's token as the viewer made it (urlsafe base64); anything else is dropped, so
#: the way back is only ever one of our own document pages.
DOC_TOKEN = re.compile(r"[A-Za-z0-9_=-]{1,1000}")


def _doc_token() -> str | None:
    token = request.values.get("doc", "")
    return token if DOC_TOKEN.fullmatch(token) else None


def _version(raw: str | None) -> int:
    """The version the page showed: digits only, and no wider than the database's integer."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ConfidentialityError("version_invalid")
    return int(raw)


# --- Attendee -------------------------------------------------------------------------------------

def _page(meeting, contact, doc: str | None, *, notice: str | None = None, status: int = 200):
    terms = confidentiality.terms_of(meeting)
    mine = confidentiality.confirmation_of(meeting, contact, terms.version)
    back = (url_for("documents.viewer", meeting_code=meeting.code, token=doc) if doc
            else url_for("documents.attendee_list", meeting_code=meeting.code))
    return render_template("documents/confidentiality.html", meeting=meeting, terms=terms, mine=mine, doc=doc,
                           back=back, notice=notice), status


@bp.route("/m/<meeting_code>/confidentiality", methods=["GET", "POST"])
@wechat_login_required
def confirm_page(meeting_code: str):
    """GET: the terms with 我已阅读并遵守; POST: the confirmation of the version shown, then back to
    the document (``doc``) or the list."""
    contact = current_contact()
    if contact is None:
        return redirect(url_for("attendee.signin_page", meeting_code=meeting_code))
    meeting = get_meeting(meeting_code)
    doc = _doc_token()
    if request.method == "GET":
        confidentiality.reader_of(meeting, contact)
        return _page(meeting, contact, doc)
    try:
        confidentiality.confirm(meeting, contact, _version(request.form.get("version")), "h5")
    except ConfidentialityError as exc:
        if exc.code != "confidentiality_stale":
            raise
        finish_with_error(exc)
        return _page(meeting, contact, doc, notice=exc.message, status=exc.status)  # the new text, to read
    if doc:
        return redirect(url_for("documents.viewer", meeting_code=meeting.code, token=doc))
    return redirect(url_for("documents.attendee_list", meeting_code=meeting.code))


# --- Organizer ------------------------------------------------------------------------------------

@bp.get("/admin/<meeting_code>/documents/confidentiality")
@console_login_required
def admin_page(meeting_code: str):
    meeting, me, right = load_meeting(meeting_code, "documents")
    overview = confidentiality.confirmations(meeting, me)
    return render_template("documents/confidentiality_admin.html", meeting=meeting, me=me, right=right,
                           tab="documents", overview=overview, max_text=confidentiality.MAX_TEXT,
                           default_text=confidentiality.DEFAULT_TEXT,
                           confirm_url=confidentiality.confirm_url(meeting))


@bp.post("/admin/<meeting_code>/documents/confidentiality")
@console_login_required
def admin_save(meeting_code: str):
    meeting = get_meeting(meeting_code)
    me = current_contact()
    require_right(meeting, me, "documents")  # before reading the form: a stranger learns nothing

    def save() -> str:
        before = confidentiality.terms_of(meeting).version
        terms = confidentiality.set_terms(meeting, me, text=request.form.get("text", ""),
                                          required=request.form.get("required") == "1",
                                          expected_version=_version(request.form.get("version")))
        if terms.version != before:
            return f"已保存为第 {terms.version} 版：参会人员需重新确认后才能查看材料"
        return "已保存" + ("（查看材料前须确认）" if terms.required else "（已关闭确认要求）")

    return form_action(save, url_for(".admin_page", meeting_code=meeting.code))
