"""Per-person card fields from a spreadsheet (座位、用餐、乘车、住宿…), checked before anything is
written, as the invitee list's import is.

The file is read by the directory reader (same formats, limits and defences); its 姓名 and 手机
columns find the person among the meeting's invitees, or, where 手机 is blank, 单位 and 姓名 do.
Every other known column is a card field; an empty cell keeps what the person's card has. The
check runs in a job (a congress's sheet has thousands of rows) and is held in Redis for the
confirmation, which writes every row in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit, held_imports, storage
from app.services.cards import book as books
from app.services.cards.fields import FIELDS, HEADERS, CardError, clean_value
from app.services.contacts.reader import read_directory
from app.services.contacts.reader.table import header_key
from app.services.contacts.units import unit_matches
from app.services.meetings.lifecycle import require_editable
from app.tx import on_commit
from models import CardScope, Contact, Invitee, Meeting, ServiceCard, Unit

#: The held check's Redis key says card (see held_imports).
HELD_KIND = "card"
REPORT_LIMIT = 500
JOB_KIND_CHECK = "card_import"
#: The template's columns: who (the reader needs 姓名 and 手机), then every field but the group's
#: display name (groups are the invitee list's: a column here would look like it moves people).
TEMPLATE_FIELDS = [key for key in FIELDS if key != "group"]
TEMPLATE_HEADERS = ["单位", "姓名", "手机", *(HEADERS[key][0] for key in TEMPLATE_FIELDS)]

ROW_MESSAGES = {
    "not_invited": "手机号 {phone} 的人员不在本次会议的参会名单中",
    "name_mismatch": "手机号 {phone} 在名单中是“{found}”，与表中姓名“{name}”不符",
    "person_not_found": "名单中找不到“{unit}”的“{name}”，请填写手机号",
    "person_ambiguous": "名单中“{unit}”有不止一位“{name}”，请填写手机号",
    "unit_missing": "未填写手机号时，请填写单位和姓名",
    "person_repeated": "与第 {first_row} 行是同一人",
}


@dataclass
class CardImport:
    file_name: str
    rows_total: int
    #: [row, contact id, {field: value}] for the rows that will be written
    rows: list[list[Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {row, code, message}
    skipped: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the card fields found, by label
    token: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"ok": len(self.rows), "rejected": self.rejected, "rows_total": self.rows_total,
                "file": self.file_name}


def _reject(plan: CardImport, row: int, code: str, message: str | None = None, **params: Any) -> None:
    plan.rejected.append({"row": row, "code": code, "message": message or ROW_MESSAGES[code].format(**params)})


def _columns(labels: list[str]) -> dict[str, str]:
    """Field -> the header of its column, for the reader's extra columns we know."""
    out: dict[str, str] = {}
    for label in labels:
        key = header_key(label)
        for name, words in HEADERS.items():
            if key in {header_key(w) for w in words} and name not in out:
                out[name] = label
    return out


def check_import(meeting: Meeting, data: bytes, filename: str, *, progress: bool = False) -> CardImport:
    """Say row by row what importing the sheet would do. Writes nothing.

    :raise DirectoryFileError: the file as a whole cannot be used.
    """
    parsed = read_directory(data, filename, allow_landline=True,
                            on_rows=(lambda d, t: jobs.report_progress(d, t, f"正在检查第 {d} / {t} 行"))
                            if progress else None)
    columns = _columns(parsed.extra_columns)
    plan = CardImport(file_name=(filename or "")[:255], rows_total=len(parsed.rows),
                      columns=[FIELDS[k].label for k in FIELDS if k in columns], skipped=list(parsed.skipped))
    if progress:
        jobs.report_progress(len(parsed.rows), len(parsed.rows), "正在与参会名单比对")
    listed = _invitees(meeting)
    by_phone = {p.phone: p for p in listed if p.phone}
    seen: dict[int, int] = {}
    for r in parsed.rows:
        if r.code is not None and not (r.code == "phone_missing" and r.name):
            plan.rejected.append({"row": r.row, "code": r.code, "message": r.message})
            continue
        person = _find(plan, r, by_phone, listed)
        if person is None:
            continue
        if person.contact_id in seen:
            _reject(plan, r.row, "person_repeated", first_row=seen[person.contact_id])
            continue
        try:
            values = {k: clean_value(k, r.extras.get(label, "")) for k, label in columns.items()}
        except CardError as exc:
            plan.rejected.append({"row": r.row, "code": exc.code, "message": exc.message})
            continue
        seen[person.contact_id] = r.row
        values = {k: v for k, v in values.items() if v}
        if values:
            plan.rows.append([r.row, person.contact_id, values])
        else:
            plan.skipped.append({"row": r.row, "code": "row_empty", "message": "没有填写服务卡内容，已跳过"})
    plan.rejected.sort(key=lambda x: x["row"])
    return plan


@dataclass(frozen=True)
class _Listed:
    contact_id: int
    name: str
    phone: str | None
    unit: Unit


def _invitees(meeting: Meeting) -> list[_Listed]:
    rows = db.session.execute(select(Contact.id, Contact.name, Contact.phone, Unit).join(
        Invitee, Invitee.contact_id == Contact.id).join(Unit, Unit.id == Contact.unit_id).where(
        Invitee.meeting_id == meeting.id, Invitee.status == "approved"))
    return [_Listed(cid, name, phone, unit) for cid, name, phone, unit in rows]


def _find(plan: CardImport, r, by_phone: dict[str, _Listed], listed: list[_Listed]) -> _Listed | None:
    if r.phone:
        person = by_phone.get(r.phone)
        if person is None:
            _reject(plan, r.row, "not_invited", phone=r.phone)
        elif person.name != r.name:
            _reject(plan, r.row, "name_mismatch", phone=r.phone, found=person.name, name=r.name)
            person = None
        return person
    if not r.unit:
        _reject(plan, r.row, "unit_missing")
        return None
    found = [p for p in listed if p.name == r.name and unit_matches(p.unit, r.unit)]
    if len(found) != 1:
        _reject(plan, r.row, "person_ambiguous" if found else "person_not_found", unit=r.unit, name=r.name)
        return None
    return found[0]


# -- in a job, held, applied ------------------------------------------------------------------------

def submit_check(meeting: Meeting, data: bytes, filename: str, *, job_actor: str) -> int:
    """Keep the upload and ask a job to check it; returns the job id."""
    sha = storage.put(data)
    return jobs.submit(JOB_KIND_CHECK, run_check, meeting.id, sha, (filename or "")[:255], actor=job_actor,
                       meeting_id=meeting.id)


def run_check(meeting_id: int, sha: str, filename: str) -> dict[str, Any]:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise CardError("import_expired")
    jobs.report_progress(0, None, "正在读取文件")
    plan = check_import(meeting, storage.read_blob(sha), filename, progress=True)
    return {"token": hold(meeting, plan), "ok": len(plan.rows), "rejected": len(plan.rejected)}


def hold(meeting: Meeting, plan: CardImport) -> str:
    """Keep the checked rows for the confirmation (see held_imports); losing them costs an upload."""
    token = held_imports.hold(HELD_KIND, meeting.id, {
        "file": plan.file_name, "rows_total": plan.rows_total, "rows": plan.rows, "rejected": plan.rejected,
        "skipped": plan.skipped, "columns": plan.columns})
    plan.token = token
    return token


def held(meeting: Meeting, token: str) -> CardImport:
    """:raise CardError: ``import_expired``."""
    data = held_imports.held(HELD_KIND, meeting.id, token)
    if data is None:
        raise CardError("import_expired")
    return CardImport(file_name=data["file"], rows_total=data["rows_total"], rows=data["rows"],
                      rejected=data["rejected"], skipped=data.get("skipped", []), columns=data.get("columns", []),
                      token=token)


def apply(meeting: Meeting, token: str, *, actor: str) -> str:
    """Write a held check: each person's card gets the row's non-empty fields, the rest kept.
    Returns what to tell the organizer.

    :raise CardError: ``import_expired``, ``nothing_to_import``.
    """
    plan = held(meeting, token)
    added, updated = write(meeting, plan, actor=actor)
    on_commit(lambda: held_imports.drop(HELD_KIND, meeting.id, token))
    return applied_message(added, updated, len(plan.rejected))


def write(meeting: Meeting, plan: CardImport, *, actor: str) -> tuple[int, int]:
    """(cards added, cards changed). One read of the meeting's person cards, then the changes."""
    require_editable(meeting)
    rows = [r for r in plan.rows if r[2]]
    if not rows:
        raise CardError("nothing_to_import")
    still = set(db.session.scalars(select(Invitee.contact_id).where(Invitee.meeting_id == meeting.id)))
    existing = {c.contact_id: c for c in db.session.scalars(select(ServiceCard).where(
        ServiceCard.meeting_id == meeting.id, ServiceCard.scope == CardScope.PERSON))}
    added = updated = 0
    for _row, contact_id, values in rows:
        if contact_id not in still:  # removed from the list since the check
            continue
        card = existing.get(contact_id)
        if card is None:
            db.session.add(ServiceCard(meeting_id=meeting.id, scope=CardScope.PERSON.value,
                                       scope_key=str(contact_id), contact_id=contact_id, fields=values,
                                       updated_by=actor))
            added += 1
        elif {**card.fields, **values} != card.fields:
            card.fields, card.updated_by = {**card.fields, **values}, actor
            updated += 1
    db.session.flush()
    books.changed()
    audit.record(actor, "cards.import", meeting_id=meeting.id, target=f"meeting:{meeting.id}", file=plan.file_name,
                 added=added, updated=updated, rejected=len(plan.rejected))
    return added, updated


def applied_message(added: int, updated: int, rejected: int) -> str:
    return (f"服务卡已导入：新建 {added} 人，更新 {updated} 人"
            + (f"，{rejected} 行有问题未导入" if rejected else ""))
