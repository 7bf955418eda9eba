"""Importing a unit's directory file into ``contacts``: a dry run first, then the confirmed apply.

``preview`` reads the file and compares it with the unit's directory without touching ``contacts``;
it stores a :class:`ContactImport` holding the accepted rows and the row report. ``apply`` compares
those rows again with the directory as it is *now* (it may have changed since the preview) and
writes the difference in one transaction with bulk statements: upsert by phone within the unit,
reactivate whoever came back, and, only in the ``replace`` mode (全量替换), deactivate whoever left
the file (never delete: sign-ins and WeChat bindings point at them). The default mode, ``upsert``
(新增和更新), never deactivates anyone.

The web never reads a file in the request (issue 21.10): :func:`submit_preview` stores the upload
and records a ``checking`` import whose job (:func:`run_preview`) reads it with progress; the
page shows the progress, then the report. See :func:`apply_inline` for the one rule on what a
request may still do itself. The CLI calls :func:`preview` and :func:`apply` directly.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert

from app import jobs
from app.extensions import db
from app.services import audit, storage
from app.services.contacts.phones import normalize_unit_name
from app.services.contacts.reader import DirectoryFileError, DirectoryRow, read_directory, row_message
from app.services.contacts.units import get_unit
from app.services.errors import DomainError, Forbidden
from models import Contact, ContactImport, Unit

#: The import service's answer when the file matches the directory exactly.
NO_CHANGES_MESSAGE = "与现有通讯录一致，无需更改"
#: Fields an import may change on a person; the phone is the key.
FIELDS = ("name", "title", "department")
FIELD_LABELS = {"name": "姓名", "title": "职务", "department": "部门", "active": "状态"}
_CHUNK = 5_000

#: The two ways an upload changes the directory. ``upsert`` is the default everywhere a person
#: chooses (a two-person file must not plan to deactivate nine); the CLI keeps ``replace``, its
#: documented behaviour, unless told otherwise.
MODES = {"upsert": "新增和更新", "replace": "全量替换"}
DEFAULT_MODE = "upsert"

#: What a web request may do itself (issue 21.10), the one rule: it never reads an uploaded file
#: (every upload is read and checked by a job, whatever its size: a small xlsx can still inflate to
#: a large sheet), and it applies a checked import itself only when the rows to compare and write,
#: the file's plus the unit's directory, are at most INLINE_APPLY_ROWS (bulk statements over that
#: many rows take well under 0.2 s of CPU). A larger confirmation runs as a job with progress.
INLINE_APPLY_ROWS = 5_000
JOB_KIND_PREVIEW = "contacts_import"
JOB_KIND_APPLY = "contacts_apply"


class ContactImportError(DomainError):
    messages = {
        "import_not_found": "找不到该导入记录",
        "import_not_pending": "该导入已处理（{state}），不能再确认或放弃",
        "nothing_to_import": "文件中没有可导入的行，通讯录未作更改",
        "mode_invalid": "导入方式不正确：{mode}（可选：新增和更新、全量替换）",
        "confirm_deactivate": "全量替换将停用 {count} 人，请勾选确认后再导入",
        "import_checking": "文件还在检查中，请等检查完成后再确认",
    }
    statuses = {"import_not_found": 404, "import_not_pending": 409, "nothing_to_import": 422,
                "import_checking": 409}


@dataclass(slots=True)
class Plan:
    """What applying a set of accepted rows to a unit's directory would do."""

    rows: list[list[Any]]  # accepted rows: [row, name, phone, title, department]
    rejected: list[dict[str, Any]]
    added: list[list[Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)  # {row, id, name, phone, changes}
    unchanged: int = 0
    deactivated: list[dict[str, Any]] = field(default_factory=list)  # {id, name, phone}

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.updated) + len(self.deactivated)


def _blank(value: str | None) -> str | None:
    return value or None


def _other_unit_phones(unit_id: int, phones: list[str]) -> set[str]:
    """Phones held by an ACTIVE contact of another unit (one indexed query on PostgreSQL)."""
    base = select(Contact.phone).where(Contact.unit_id != unit_id, Contact.active.is_(True))
    if _is_postgres():
        return set(db.session.scalars(_PG_TAKEN, {"unit_id": unit_id, "phones": json.dumps(phones)}))
    found: set[str] = set()
    for start in range(0, len(phones), _CHUNK):
        found.update(db.session.scalars(base.where(Contact.phone.in_(phones[start:start + _CHUNK]))))
    return found


def _plan(unit: Unit, rows: list[list[Any]], rejected: list[dict[str, Any]],
          protected_phones: set[str], mode: str = "replace") -> Plan:
    """Compare accepted rows with the unit's directory and with other units' active contacts.

    ``protected_phones`` are phones on rejected rows: those people are still in the file (just
    badly typed), so they are reported, never deactivated. Only ``replace`` deactivates.
    """
    existing = {c.phone: c for c in db.session.execute(
        select(Contact.id, Contact.phone, Contact.name, Contact.title, Contact.department, Contact.active)
        .where(Contact.unit_id == unit.id))}
    taken = _other_unit_phones(unit.id, [r[2] for r in rows])
    plan = Plan(rows=[], rejected=list(rejected))
    for row in rows:
        number, name, phone, title, department = row
        if phone in taken:
            plan.rejected.append({"row": number, "code": "phone_in_other_unit",
                                  "message": row_message("phone_in_other_unit")})
            continue
        plan.rows.append(row)
        current = existing.get(phone)
        if current is None:
            plan.added.append(row)
            continue
        new = {"name": name, "title": title, "department": department}
        changes = {f: [getattr(current, f) or "", new[f] or ""] for f in FIELDS
                   if (getattr(current, f) or "") != (new[f] or "")}
        if not current.active:
            changes["active"] = [False, True]
        if changes:
            plan.updated.append({"row": number, "id": current.id, "name": name, "phone": phone,
                                 "changes": changes})
        else:
            plan.unchanged += 1
    kept = {r[2] for r in plan.rows} | protected_phones
    if mode == "replace":
        plan.deactivated = [{"id": c.id, "name": c.name, "phone": c.phone} for phone, c in existing.items()
                            if c.active and phone not in kept]
    plan.rejected.sort(key=lambda r: r["row"])
    return plan


def _row(r: DirectoryRow) -> list[Any]:
    return [r.row, r.name, r.phone, r.title or "", r.department or ""]


def _same_plan(report: dict[str, Any], plan: Plan) -> bool:
    return (report.get("added") == [r[0] for r in plan.added] and report.get("updated") == plan.updated
            and report.get("deactivated") == plan.deactivated and report.get("rejected") == plan.rejected)


def _store_plan(record: ContactImport, plan: Plan) -> None:
    record.added = len(plan.added)
    record.updated = len(plan.updated)
    record.unchanged = plan.unchanged
    record.deactivated = len(plan.deactivated)
    record.rejected = len(plan.rejected)
    message = NO_CHANGES_MESSAGE if plan.changes == 0 and plan.rows else None
    if record.report and _same_plan(record.report, plan) and record.report.get("message") == message:
        return  # the usual confirm: nothing moved since the preview, so the report is not rewritten
    report = dict(record.report or {})
    report.update(accepted=plan.rows, rejected=plan.rejected, added=[r[0] for r in plan.added],
                  updated=plan.updated, deactivated=plan.deactivated, message=message)
    record.report = report


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ContactImportError("mode_invalid", mode=str(mode)[:20])
    return mode


def preview(unit: Unit, data: bytes, filename: str, *, actor: str, mode: str = "replace") -> ContactImport:
    """Read ``data`` and record what importing it would change. Writes no contact."""
    record = ContactImport(unit_id=unit.id, actor=actor, file_name=(filename or "")[:255],
                           file_sha256=hashlib.sha256(data).hexdigest(), status="checking",
                           report={"mode": _check_mode(mode)})
    db.session.add(record)
    with _no_gc():
        _preview(unit, record, data)
    return record


def submit_preview(unit: Unit, data: bytes, filename: str, *, actor: str, job_actor: str,
                   mode: str = DEFAULT_MODE) -> ContactImport:
    """The web's upload: keep the file, record a ``checking`` import and ask a job to read it.

    Nothing is parsed here (the request answers at once); the import's page follows the job
    (``report["job_id"]``) and shows the report once :func:`run_preview` has written it.
    """
    sha = storage.put(data)
    record = ContactImport(unit_id=unit.id, actor=actor, file_name=(filename or "")[:255], file_sha256=sha,
                           status="checking", report={"mode": _check_mode(mode), "size": len(data)})
    db.session.add(record)
    db.session.flush()
    job_id = jobs.submit(JOB_KIND_PREVIEW, run_preview, record.id, actor=job_actor, unit_id=unit.id)
    record.report = {**record.report, "job_id": job_id}
    audit.record(actor, "contacts.upload", target=f"contact_import:{record.id}", unit=unit.code,
                 file=record.file_name, size=len(data), mode=mode, job_id=job_id)
    return record


def run_preview(import_id: int) -> dict[str, Any]:
    """The job behind :func:`submit_preview`: read the stored file and write the report.

    A file that cannot be read at all is a finished check too: the import records the reason
    (``failed``) and the page shows it; the job itself succeeded in saying so.
    """
    record = db.session.get(ContactImport, import_id)
    if record is None or record.status != "checking":
        return {"import_id": import_id, "status": getattr(record, "status", None)}
    unit = db.session.get(Unit, record.unit_id)
    jobs.report_progress(0, None, "正在读取文件")
    data = storage.read_blob(record.file_sha256)
    with _no_gc():
        try:
            _preview(unit, record, data, progress=True)
        except DirectoryFileError as exc:
            record.status = "failed"
            record.report = {**(record.report or {}), "error": {"code": exc.code, "message": exc.message}}
            audit.record(record.actor, "contacts.preview_failed", target=f"contact_import:{record.id}",
                         unit=unit.code, code=exc.code)
    return {"import_id": record.id, "status": record.status}


def _progress_rows(done: int, total: int) -> None:
    jobs.report_progress(done, total, f"正在检查第 {done} / {total} 行")


def _unit_checker(unit: Unit) -> Callable[[str], bool]:
    """Whether a row's 单位 cell names this unit: its name, code or an alias, or starts with one
    (区财政局预算科). Cached per distinct text: a directory repeats one unit name 100,000 times."""
    names = [n for n in (normalize_unit_name(x) for x in (unit.name, unit.code, *(unit.aliases or []))) if n]
    seen: dict[str, bool] = {}

    def ours(text: str) -> bool:
        if text not in seen:
            key = normalize_unit_name(text)
            seen[text] = any(key == n or key.startswith(n) for n in names)
        return seen[text]

    return ours


def _preview(unit: Unit, record: ContactImport, data: bytes, *, progress: bool = False) -> None:
    mode = (record.report or {}).get("mode", "replace")
    parsed = read_directory(data, record.file_name, allow_landline=unit.allow_landline,
                            on_rows=_progress_rows if progress else None)
    if progress:
        jobs.report_progress(len(parsed.rows), len(parsed.rows), "正在与本单位通讯录比对")
    rejected = [{"row": r.row, "code": r.code, "message": r.message} for r in parsed.rejected]
    protected = {r.phone for r in parsed.rejected if r.phone}
    ours = _unit_checker(unit)
    accepted: list[list[Any]] = []
    for r in parsed.accepted:
        if r.unit and not ours(r.unit):
            # Another unit's person: never silently taken into this one.
            rejected.append({"row": r.row, "code": "unit_mismatch",
                             "message": row_message("unit_mismatch", unit=r.unit, ours=unit.name)})
        else:
            accepted.append(_row(r))
    rejected.sort(key=lambda x: x["row"])
    plan = _plan(unit, accepted, rejected, protected, mode)
    record.status = "previewed"
    record.rows_total = len(parsed.rows)
    record.report = {**(record.report or {}), "format": str(getattr(parsed.format, "value", parsed.format)),
                     "sheet": parsed.sheet_name, "header_row": parsed.header_row, "encoding": parsed.encoding,
                     "protected_phones": sorted(protected), "skipped": parsed.skipped, "mode": mode}
    _store_plan(record, plan)
    db.session.flush()
    audit.record(record.actor, "contacts.preview", target=f"contact_import:{record.id}", unit=unit.code,
                 file=record.file_name, added=record.added, updated=record.updated,
                 deactivated=record.deactivated, rejected=record.rejected, mode=mode)


def get_import(import_id: int, *, unit: Unit) -> ContactImport:
    """An import as seen by an office of ``unit``: another unit's import is forbidden."""
    record = db.session.get(ContactImport, import_id)
    if record is None:
        raise ContactImportError("import_not_found")
    if record.unit_id != unit.id:
        raise Forbidden("只能查看和修改本单位的通讯录")
    return record


def apply(import_id: int, *, actor: str, unit: Unit, confirm_deactivate: bool = True) -> ContactImport:
    """Write a previewed import, re-checked against the directory as it is now, in one transaction.

    ``confirm_deactivate``: the person saw how many a replacement deactivates and agreed (the web
    asks with a checkbox); without it a plan that deactivates anyone is refused, nothing written.
    """
    with _no_gc():
        return _apply(import_id, actor=actor, unit=unit, confirm_deactivate=confirm_deactivate)


def apply_inline(record: ContactImport) -> bool:
    """The rule (see INLINE_APPLY_ROWS): may a request apply this import itself?"""
    rows = len((record.report or {}).get("accepted") or [])
    directory = db.session.scalar(select(sa.func.count()).select_from(Contact)
                                  .where(Contact.unit_id == record.unit_id)) or 0
    return rows + directory <= INLINE_APPLY_ROWS


def submit_apply(import_id: int, *, actor: str, unit: Unit, job_actor: str,
                 confirm_deactivate: bool) -> ContactImport:
    """The web's confirmation: applied now when small (:func:`apply_inline`), else by a job."""
    record = get_import(import_id, unit=unit)
    if record.status == "checking":
        raise ContactImportError("import_checking")
    if record.status != "previewed":
        raise ContactImportError("import_not_pending", state=STATUS_LABELS.get(record.status, record.status))
    if record.deactivated and not confirm_deactivate:
        raise ContactImportError("confirm_deactivate", count=record.deactivated)
    if apply_inline(record):
        return apply(import_id, actor=actor, unit=unit, confirm_deactivate=confirm_deactivate)
    job_id = jobs.submit(JOB_KIND_APPLY, run_apply, import_id, actor, bool(confirm_deactivate),
                         actor=job_actor, unit_id=unit.id)
    record.report = {**(record.report or {}), "apply_job_id": job_id}
    return record


def run_apply(import_id: int, actor: str, confirm_deactivate: bool) -> dict[str, Any]:
    """The job behind a large confirmation."""
    record = db.session.get(ContactImport, import_id)
    if record is None:
        raise ContactImportError("import_not_found")
    unit = db.session.get(Unit, record.unit_id)
    jobs.report_progress(0, None, "正在写入通讯录")
    record = apply(import_id, actor=actor, unit=unit, confirm_deactivate=confirm_deactivate)
    return {"import_id": record.id, "status": record.status}


def _apply(import_id: int, *, actor: str, unit: Unit, confirm_deactivate: bool) -> ContactImport:
    # Lock the unit row first: two confirmations for the same unit are applied one after the other.
    db.session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    record = _locked_pending(import_id, unit)
    report = record.report or {}
    rows = report.get("accepted") or []
    if not rows:
        raise ContactImportError("nothing_to_import")
    reader_rejected = [r for r in report.get("rejected", []) if r["code"] != "phone_in_other_unit"]
    plan = _plan(unit, rows, reader_rejected, set(report.get("protected_phones", [])),
                 report.get("mode", "replace"))
    if plan.deactivated and not confirm_deactivate:
        raise ContactImportError("confirm_deactivate", count=len(plan.deactivated))
    _write(unit, plan)
    _store_plan(record, plan)
    record.status = "applied"
    record.applied_at = datetime.now(UTC)
    db.session.flush()
    audit.record(actor, "contacts.apply", target=f"contact_import:{record.id}", unit=unit.code,
                 added=record.added, updated=record.updated, deactivated=record.deactivated)
    return record


def discard(import_id: int, *, actor: str, unit: Unit) -> ContactImport:
    """Drop a previewed import: nothing is written to the directory and it can no longer be applied."""
    record = _locked_pending(import_id, unit)
    record.status = "discarded"
    db.session.flush()
    audit.record(actor, "contacts.discard", target=f"contact_import:{record.id}", unit=unit.code)
    return record


def _locked_pending(import_id: int, unit: Unit) -> ContactImport:
    """``unit``'s previewed import, locked until the transaction ends (confirm and discard race)."""
    # Lock the import row without fetching its report: that JSON is large and, right after a preview
    # in the same session (the CLI), already in memory.
    locked = db.session.scalar(select(ContactImport.id).where(ContactImport.id == import_id).with_for_update())
    record = db.session.get(ContactImport, import_id) if locked else None
    if record is None:
        raise ContactImportError("import_not_found")
    if record.unit_id != unit.id:
        raise Forbidden("只能查看和修改本单位的通讯录")
    if record.status == "checking":
        raise ContactImportError("import_checking")
    if record.status != "previewed":
        raise ContactImportError("import_not_pending", state=STATUS_LABELS.get(record.status, record.status))
    return record


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# PostgreSQL: one statement per kind of change, the rows passed as ONE json parameter and expanded
# server-side. Driver-level executemany costs parameter work per row (~4 s for 100,000 rows), and
# psycopg's Python array dumper ~1 s per 100,000-element array; json.dumps is C and takes ~0.1 s.
_PG_INSERT = sa.text("""
    INSERT INTO contacts (unit_id, name, phone, title, department, tags, active, created_at, updated_at)
    SELECT :unit_id, t.name, t.phone, t.title, t.department, '[]'::jsonb, true, :now, :now
    FROM json_to_recordset(CAST(:rows AS json)) AS t(name text, phone text, title text, department text)
    ON CONFLICT (unit_id, phone) DO UPDATE SET name = excluded.name, title = excluded.title,
        department = excluded.department, active = true, updated_at = excluded.updated_at
""")
_PG_UPDATE = sa.text("""
    UPDATE contacts AS c SET name = t.name, title = t.title, department = t.department, active = true,
        updated_at = :now
    FROM json_to_recordset(CAST(:rows AS json)) AS t(id bigint, name text, title text, department text)
    WHERE c.id = t.id
""")
_PG_DEACTIVATE = sa.text("""
    UPDATE contacts SET active = false, updated_at = :now
    WHERE id IN (SELECT CAST(value AS bigint) FROM json_array_elements_text(CAST(:ids AS json)))
""")
_PG_TAKEN = sa.text("""
    SELECT c.phone FROM contacts AS c
    JOIN json_array_elements_text(CAST(:phones AS json)) AS p(phone) ON c.phone = p.phone
    WHERE c.unit_id != :unit_id AND c.active
""")


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic GC while building 100,000-row structures: with no garbage cycles to find,
    its repeated full passes over a growing heap cost more than the work itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write(unit: Unit, plan: Plan) -> None:
    """Bulk statements only: 100,000 rows must go in well under 10 s."""
    now = datetime.now(UTC)
    by_row = {r[0]: r for r in plan.rows}
    updates = [(item["id"], *by_row[item["row"]][1:]) for item in plan.updated]  # id, name, phone, title, dept
    ids = [c["id"] for c in plan.deactivated]
    if _is_postgres():
        if plan.added:
            db.session.execute(_PG_INSERT, {"unit_id": unit.id, "now": now, "rows": json.dumps(
                [{"name": name, "phone": phone, "title": _blank(title), "department": _blank(department)}
                 for _, name, phone, title, department in plan.added], ensure_ascii=False)})
        if updates:
            db.session.execute(_PG_UPDATE, {"now": now, "rows": json.dumps(
                [{"id": u[0], "name": u[1], "title": _blank(u[3]), "department": _blank(u[4])} for u in updates],
                ensure_ascii=False)})
        if ids:
            # Deactivate, never delete: WeChat bindings and sign-in history stay attached to the row.
            db.session.execute(_PG_DEACTIVATE, {"now": now, "ids": json.dumps(ids)})
    else:  # SQLite (development): plain executemany is fast enough there
        _write_generic(unit, plan.added, updates, ids, now)
    # Contacts already loaded in this session are stale now; the import record (with its large
    # report) is not, and reloading it would cost a second round trip of the whole JSON.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Contact):
            db.session.expire(obj)


def _write_generic(unit: Unit, added: list[list[Any]], updates: list[tuple], ids: list[int],
                   now: datetime) -> None:

    table = Contact.__table__
    if added:
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.unit_id, table.c.phone],
            set_={"name": stmt.excluded.name, "title": stmt.excluded.title,
                  "department": stmt.excluded.department, "active": True, "updated_at": now})
        db.session.execute(stmt, [{"unit_id": unit.id, "name": name, "phone": phone, "title": _blank(title),
                                   "department": _blank(department), "tags": [], "active": True,
                                   "created_at": now, "updated_at": now}
                                  for _, name, phone, title, department in added])
    if updates:
        stmt = (sa.update(table).where(table.c.id == sa.bindparam("b_id"))
                .values(name=sa.bindparam("b_name"), title=sa.bindparam("b_title"),
                        department=sa.bindparam("b_department"), active=True, updated_at=now))
        db.session.execute(stmt, [{"b_id": u[0], "b_name": u[1], "b_title": _blank(u[3]),
                                   "b_department": _blank(u[4])} for u in updates])
    for start in range(0, len(ids), _CHUNK):
        db.session.execute(update(Contact).where(Contact.id.in_(ids[start:start + _CHUNK]))
                           .values(active=False, updated_at=now).execution_options(synchronize_session=False))


def import_file(unit_code: str, data: bytes, filename: str, *, actor: str, dry_run: bool,
                on_phase: Callable[[str], None] | None = None, mode: str = "replace") -> ContactImport:
    """The CLI's path (synchronous): preview, then apply unless ``dry_run`` or nothing was accepted.

    ``on_phase`` is told when each phase ends ("preview", "apply"), for a progress bar.
    """
    unit = get_unit(unit_code)
    record = preview(unit, data, filename, actor=actor, mode=mode)
    if on_phase:
        on_phase("preview")
    if not dry_run and record.report.get("accepted"):
        record = apply(record.id, actor=actor, unit=unit)
    if on_phase:
        on_phase("apply")
    return record


def history(unit: Unit, limit: int = 20) -> list[ContactImport]:
    return list(db.session.scalars(
        select(ContactImport).where(ContactImport.unit_id == unit.id)
        .order_by(ContactImport.created_at.desc(), ContactImport.id.desc()).limit(limit)))


STATUS_LABELS = {"checking": "检查中", "previewed": "待确认", "applied": "已导入", "discarded": "已放弃",
                 "failed": "无法读取"}


def summary(record: ContactImport) -> dict[str, Any]:
    """The counts and rejected rows, as the CLI's ``--json`` prints them."""
    report = record.report or {}
    return {"ok": len(report.get("accepted", [])), "rejected": report.get("rejected", []),
            "added": record.added, "updated": record.updated, "deactivated": record.deactivated,
            "unchanged": record.unchanged, "import_id": record.id, "status": record.status,
            "message": report.get("message"), "skipped": report.get("skipped", []),
            "mode": report.get("mode", "replace")}


def report_view(record: ContactImport, limit: int = 500) -> dict[str, Any]:
    """The report as a page shows it: lists capped at ``limit`` entries each, with their totals."""
    report = record.report or {}
    by_row = {r[0]: r for r in report.get("accepted", [])}
    added = [dict(zip(("row", "name", "phone", "title", "department"), by_row[n], strict=True))
             for n in report.get("added", [])[:limit] if n in by_row]
    updated = [{**u, "changes": [(FIELD_LABELS.get(f, f), *_change_text(f, old, new))
                                 for f, (old, new) in u["changes"].items()]}
               for u in report.get("updated", [])[:limit]]
    mode = report.get("mode", "replace")
    return {"rejected": report.get("rejected", [])[:limit], "added": added, "updated": updated,
            "deactivated": report.get("deactivated", [])[:limit], "limit": limit,
            "message": report.get("message"), "ok": len(by_row), "skipped": report.get("skipped", []),
            "mode": mode, "mode_label": MODES.get(mode, mode), "error": report.get("error"),
            "job_id": report.get("job_id"), "apply_job_id": report.get("apply_job_id")}


def _change_text(field_name: str, old: Any, new: Any) -> tuple[str, str]:
    if field_name == "active":
        return "已停用", "重新启用"
    return old or "（空）", new or "（空）"
