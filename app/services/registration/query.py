"""Reading registrations: the organizers' filtered pages and export, the registrant's own list.

Filters reach every field people fill in (status, form, unit, tag, gender, room, diet, arrival
date, free text on name or phone). The export is always a recorded job (app/jobs.py) writing an
xlsx with the ID number masked. An ID number in full only ever leaves through :func:`reveal_id`,
to the person it belongs to.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.services import audit, exports, storage
from app.services.documents import filetypes
from app.services.registration import idnumbers
from app.services.registration.errors import RegistrationError
from app.services.registration.fields import CATALOG, DIET_TAGS
from app.services.timeutil import local
from models import Contact, Meeting
from models.registrations import Registration, RegistrationForm

PAGE_SIZE = 50
STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "refused": "未通过", "cancelled": "已取消"}
EXPORT_JOB_KIND = "registration_export"


@dataclass
class Filters:
    status: str | None = None
    form_id: int | None = None
    unit: str | None = None
    tag: str | None = None
    gender: str | None = None
    needs_room: bool | None = None
    diet: str | None = None
    arrival: date | None = None
    q: str | None = None

    @classmethod
    def parse(cls, args: dict[str, Any]) -> Filters:
        """From a query string or a job's arguments (plain strings); unknown values refused.

        :raise RegistrationError: ``status_invalid``, ``filter_invalid``.
        """
        def text(name: str, limit: int = 64) -> str | None:
            value = str(args.get(name) or "").strip()
            return value[:limit] or None

        status = text("status")
        if status is not None and status not in STATUS_LABELS:
            raise RegistrationError("status_invalid")
        form_id = text("form_id")
        if form_id is not None and not (form_id.isascii() and form_id.isdigit() and int(form_id) < 2**31):
            raise RegistrationError("filter_invalid", detail="报名表")
        gender = text("gender")
        if gender is not None and gender not in ("男", "女"):
            raise RegistrationError("filter_invalid", detail="性别")
        room = text("needs_room")
        if room is not None and room not in ("1", "0"):
            raise RegistrationError("filter_invalid", detail="住宿")
        diet = text("diet")
        if diet is not None and diet not in DIET_TAGS:
            raise RegistrationError("filter_invalid", detail="饮食")
        arrival = text("arrival")
        try:
            arrival_day = date.fromisoformat(arrival) if arrival else None
        except ValueError:
            raise RegistrationError("filter_invalid", detail="报到日期") from None
        return cls(status=status, form_id=int(form_id) if form_id else None, unit=text("unit"), tag=text("tag", 16),
                   gender=gender, needs_room=None if room is None else room == "1", diet=diet, arrival=arrival_day,
                   q=text("q"))

    def as_args(self) -> dict[str, str]:
        """Plain strings for a job's arguments and links (what :meth:`parse` reads back)."""
        out = {"status": self.status, "form_id": self.form_id, "unit": self.unit, "tag": self.tag,
               "gender": self.gender, "needs_room": None if self.needs_room is None else ("1" if self.needs_room else "0"),
               "diet": self.diet, "arrival": self.arrival.isoformat() if self.arrival else None, "q": self.q}
        return {k: str(v) for k, v in out.items() if v not in (None, "")}


@dataclass
class Page:
    rows: list[Registration]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(meeting: Meeting, f: Filters) -> list[Any]:
    where: list[Any] = [Registration.meeting_id == meeting.id]
    if f.status:
        where.append(Registration.status == f.status)
    if f.form_id:
        where.append(Registration.form_id == f.form_id)
    if f.unit:
        where.append(Registration.unit_name.ilike(_like(f.unit), escape="\\"))
    if f.gender:
        where.append(Registration.gender == f.gender)
    if f.needs_room is not None:
        where.append(Registration.needs_room.is_(f.needs_room))
    if f.arrival:
        where.append(Registration.arrival == f.arrival)
    if f.q:
        where.append(sa.or_(Registration.name.ilike(_like(f.q), escape="\\"),
                            Registration.phone.ilike(_like(f.q), escape="\\")))
    # JSON lists (tags, diet): portable as a text match on the stored JSON, then exact in Python.
    if f.tag:
        where.append(_json_text_has(Registration.tags, f.tag))
    if f.diet:
        where.append(_json_text_has(Registration.diet, f.diet))
    return where


def _json_text_has(column, value: str):
    """The stored JSON's text holds ``value``: as is (PostgreSQL's jsonb) or \\u-escaped (SQLite's
    JSON, which SQLAlchemy writes with json.dumps' ASCII escapes)."""
    escaped = json.dumps(value)[1:-1]
    text = sa.cast(column, sa.Text)
    return sa.or_(text.ilike(_like(value), escape="\\"), text.ilike(_like(escaped), escape="\\"))


def _exact(rows: list[Registration], f: Filters) -> list[Registration]:
    return [r for r in rows if (not f.tag or f.tag in (r.tags or [])) and (not f.diet or f.diet in (r.diet or []))]


def list_registrations(meeting: Meeting, filters: Filters | None = None, *, page: int = 1,
                       per_page: int = PAGE_SIZE) -> Page:
    """One page of the meeting's registrations matching ``filters``, newest first, and the counts
    per status (of the whole meeting, for the filter's tabs)."""
    f = filters or Filters()
    stmt = select(Registration).where(*_where(meeting, f)).order_by(Registration.id.desc())
    if f.tag or f.diet:  # the JSON text match may over-select: count and page after the exact check
        rows = _exact(list(db.session.scalars(stmt)), f)
        total = len(rows)
        page = max(1, min(page, max(1, math.ceil(total / per_page))))
        rows = rows[(page - 1) * per_page: page * per_page]
    else:
        total = int(db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
        page = max(1, min(page, max(1, math.ceil(total / per_page))))
        rows = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    counts = dict(db.session.execute(select(Registration.status, func.count()).where(
        Registration.meeting_id == meeting.id).group_by(Registration.status)).all())
    return Page(rows=rows, total=total, page=page, pages=max(1, math.ceil(total / per_page)), counts=counts)


def all_matching(meeting: Meeting, filters: Filters) -> list[Registration]:
    stmt = select(Registration).where(*_where(meeting, filters)).order_by(Registration.id)
    return _exact(list(db.session.scalars(stmt)), filters)


def mine(meeting: Meeting, submitter: str) -> list[Registration]:
    """What ``submitter`` sent for the meeting, newest batch first."""
    return list(db.session.scalars(select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.submitted_by == submitter)
        .order_by(Registration.id.desc())))


def batch_of(meeting: Meeting, batch: str, submitter: str) -> list[Registration]:
    """One batch, for the one who sent it (anyone else: not found)."""
    rows = list(db.session.scalars(select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.batch == (batch or "")[:16],
        Registration.submitted_by == submitter).order_by(Registration.id)))
    if not rows:
        raise RegistrationError("registration_not_found")
    return rows


def reveal_id(registration: Registration, contact: Contact | None) -> str:
    """The full ID number, for the registrant it belongs to (their bound directory person, linked
    at approval) and nobody else; audited without the number.

    :raise RegistrationError: ``id_not_yours``.
    """
    if contact is None or registration.contact_id != contact.id or not registration.id_cipher:
        raise RegistrationError("id_not_yours")
    audit.record(f"contact:{contact.id}", "registration.id_reveal", meeting_id=registration.meeting_id,
                 target=f"registration:{registration.id}")
    return idnumbers.decrypt(registration.id_cipher, idnumbers.app_secret())


@dataclass(frozen=True)
class Answer:
    key: str
    label: str
    kind: str
    value: str
    #: A file's storage key (None for a value).
    sha: str | None = None


def answers_of(registration: Registration) -> list[Answer]:
    """The form's custom fields with this registration's answers, in the form's order, and the photo."""
    out = []
    for fld in registration.form.fields or []:
        key = fld["key"]
        if key in CATALOG and key != "photo":
            continue
        value = registration.photo if key == "photo" else (registration.answers or {}).get(key)
        if fld["kind"] in ("file", "photo"):
            out.append(Answer(key, fld["label"], "file", "已上传" if value else "", value or None))
        else:
            out.append(Answer(key, fld["label"], fld["kind"], str(value or "")))
    return out


@dataclass(frozen=True)
class StoredFile:
    sha: str
    mime: str
    filename: str


def file_of(registration: Registration, key: str) -> StoredFile:
    """The file of field ``key`` of this registration. :raise RegistrationError: ``file_not_found``."""
    answer = next((a for a in answers_of(registration) if a.key == key and a.sha), None)
    if answer is None or not storage.get_storage().exists(answer.sha):
        raise RegistrationError("file_not_found")
    kind = filetypes.detect(storage.get_storage().read(answer.sha)).kind
    name = f"{exports.safe_filename(registration.name)}-{answer.label}.{filetypes.extension(kind)}"
    return StoredFile(answer.sha, filetypes.MIMES[kind], name)


# -- export -----------------------------------------------------------------------------------------

HEADERS = ("编号", "状态", "报名表", "姓名", "单位", "职务", "手机号", "性别", "民族", "身份证号（脱敏）", "报到日期",
           "离会日期", "饮食要求", "住宿", "无障碍", "车牌号", "代表团/分组", "标签", "不通过原因", "提交时间")


def export_rows(meeting: Meeting, filters: Filters) -> tuple[list[str], list[list[Any]]]:
    """The export's header and rows: every column the list shows plus the forms' custom answers
    (a file answer is named, not linked); the ID number masked, never in full."""
    forms = {f.id: f for f in db.session.scalars(select(RegistrationForm).where(
        RegistrationForm.meeting_id == meeting.id))}
    customs: dict[str, str] = {}
    for form in forms.values():
        for fld in form.fields or []:
            if fld["key"] not in CATALOG:
                customs.setdefault(f"{form.id}:{fld['key']}", f"{form.title}·{fld['label']}")
    headers = [*HEADERS, *customs.values()]
    rows = []
    for r in all_matching(meeting, filters):
        row = [r.id, STATUS_LABELS.get(r.status, r.status), forms[r.form_id].title if r.form_id in forms else "",
               r.name, r.unit_name, r.title, r.phone, r.gender or "", r.ethnicity or "", r.id_masked or "",
               r.arrival, r.departure, "、".join(r.diet or []), "是" if r.needs_room else "",
               "是" if r.accessible else "", r.plate or "", r.group_name or "", "、".join(r.tags or []),
               r.decision_note or "", local(r.created_at).replace(tzinfo=None)]
        for key in customs:
            form_id, field_key = key.split(":", 1)
            value = (r.answers or {}).get(field_key) if int(form_id) == r.form_id else None
            kind = next((f["kind"] for f in forms[int(form_id)].fields if f["key"] == field_key), "text")
            row.append(("已上传" if value else "") if kind == "file" else (value or ""))
        rows.append(row)
    return headers, rows


def submit_export(meeting: Meeting, filters: Filters, *, actor: str, job_actor: str) -> int:
    """Ask for the xlsx export as a job; its id (the console shows its progress and the download)."""
    return jobs.submit(EXPORT_JOB_KIND, export_job, meeting.id, filters.as_args(), actor, actor=job_actor,
                       meeting_id=meeting.id)


def export_job(meeting_id: int, filter_args: dict[str, str], actor: str) -> dict[str, Any]:
    """The export job: build, write, store; the result names the file (never a person's data)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise RegistrationError("registration_not_found")
    filters = Filters.parse(filter_args)
    jobs.report_progress(0, 2, "正在读取报名数据")
    data, name, count = export_file(meeting, filters, actor=actor)
    jobs.report_progress(2, 2, "已生成")
    return {**exports.stored(data, name), "rows": count}


def export_file(meeting: Meeting, filters: Filters, *, actor: str) -> tuple[bytes, str, int]:
    """The xlsx bytes, its file name and row count; audited as exported by ``actor``."""
    headers, rows = export_rows(meeting, filters)
    data = exports.write_xlsx(headers, rows, sheet_title="报名人员")
    name = f"{exports.safe_filename(meeting.title) or meeting.code}-报名人员-{local(datetime.now(UTC)):%Y-%m-%d}.xlsx"
    audit.record(actor, "registration.export", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                 rows=len(rows), filters=filters.as_args(), file=name, job=jobs.current_job_id())
    return data, name, len(rows)
