"""Importing a unit's directory file into ``contacts``: a dry run first, then the confirmed apply.

``preview`` reads the file and compares it with the unit's directory without touching ``contacts``;
it stores a :class:`ContactImport` holding the accepted rows and the row report. ``apply`` compares
those rows again with the directory as it is *now* (it may have changed since the preview) and
writes the difference in one transaction with bulk statements: upsert by phone within the unit,
deactivate whoever left the file (never delete: sign-ins and WeChat bindings point at them),
reactivate whoever came back.
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

from app.extensions import db
from app.services import audit
from app.services.contacts.reader import DirectoryRow, read_directory, row_message
from app.services.contacts.units import get_unit
from app.services.errors import DomainError, Forbidden
from models import Contact, ContactImport, Unit

#: The import service's answer when the file matches the directory exactly.
NO_CHANGES_MESSAGE = "与现有通讯录一致，无需更改"
#: Fields an import may change on a person; the phone is the key.
FIELDS = ("name", "title", "department")
FIELD_LABELS = {"name": "姓名", "title": "职务", "department": "部门", "active": "状态"}
_CHUNK = 5_000


class ContactImportError(DomainError):
    messages = {
        "import_not_found": "找不到该导入记录",
        "import_not_pending": "该导入已处理（{state}），不能再确认或放弃",
        "nothing_to_import": "文件中没有可导入的行，通讯录未作更改",
    }
    statuses = {"import_not_found": 404, "import_not_pending": 409, "nothing_to_import": 422}


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
          protected_phones: set[str]) -> Plan:
    """Compare accepted rows with the unit's directory and with other units' active contacts.

    ``protected_phones`` are phones on rejected rows: those people are still in the file (just
    badly typed), so they are reported, never deactivated.
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


def preview(unit: Unit, data: bytes, filename: str, *, actor: str) -> ContactImport:
    """Read ``data`` and record what importing it would change. Writes no contact."""
    with _no_gc():
        return _preview(unit, data, filename, actor=actor)


def _preview(unit: Unit, data: bytes, filename: str, *, actor: str) -> ContactImport:
    parsed = read_directory(data, filename, allow_landline=unit.allow_landline)
    rejected = [{"row": r.row, "code": r.code, "message": r.message} for r in parsed.rejected]
    protected = {r.phone for r in parsed.rejected if r.phone}
    plan = _plan(unit, [_row(r) for r in parsed.accepted], rejected, protected)
    record = ContactImport(
        unit_id=unit.id, actor=actor, file_name=(filename or "")[:255],
        file_sha256=hashlib.sha256(data).hexdigest(), status="previewed", rows_total=len(parsed.rows),
        report={"format": str(getattr(parsed.format, "value", parsed.format)), "sheet": parsed.sheet_name,
                "header_row": parsed.header_row, "encoding": parsed.encoding,
                "protected_phones": sorted(protected)})
    _store_plan(record, plan)
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "contacts.preview", target=f"contact_import:{record.id}", unit=unit.code,
                 file=record.file_name, added=record.added, updated=record.updated,
                 deactivated=record.deactivated, rejected=record.rejected)
    return record


def get_import(import_id: int, *, unit: Unit) -> ContactImport:
    """An import as seen by an office of ``unit``: another unit's import is forbidden."""
    record = db.session.get(ContactImport, import_id)
    if record is None:
        raise ContactImportError("import_not_found")
    if record.unit_id != unit.id:
        raise Forbidden("只能查看和修改本单位的通讯录")
    return record


def apply(import_id: int, *, actor: str, unit: Unit) -> ContactImport:
    """Write a previewed import, re-checked against the directory as it is now, in one transaction."""
    with _no_gc():
        return _apply(import_id, actor=actor, unit=unit)


def _apply(import_id: int, *, actor: str, unit: Unit) -> ContactImport:
    # Lock the unit row first: two confirmations for the same unit are applied one after the other.
    db.session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    record = _locked_pending(import_id, unit)
    report = record.report or {}
    rows = report.get("accepted") or []
    if not rows:
        raise ContactImportError("nothing_to_import")
    reader_rejected = [r for r in report.get("rejected", []) if r["code"] != "phone_in_other_unit"]
    plan = _plan(unit, rows, reader_rejected, set(report.get("protected_phones", [])))
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
                on_phase: Callable[[str], None] | None = None) -> ContactImport:
    """The CLI's path: preview, then apply unless ``dry_run`` or nothing was accepted.

    ``on_phase`` is told when each phase ends ("preview", "apply"), for a progress bar.
    """
    unit = get_unit(unit_code)
    record = preview(unit, data, filename, actor=actor)
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


STATUS_LABELS = {"previewed": "待确认", "applied": "已导入", "discarded": "已放弃"}


def summary(record: ContactImport) -> dict[str, Any]:
    """The counts and rejected rows, as the CLI's ``--json`` prints them."""
    report = record.report or {}
    return {"ok": len(report.get("accepted", [])), "rejected": report.get("rejected", []),
            "added": record.added, "updated": record.updated, "deactivated": record.deactivated,
            "unchanged": record.unchanged, "import_id": record.id, "status": record.status,
            "message": report.get("message")}


def report_view(record: ContactImport, limit: int = 500) -> dict[str, Any]:
    """The report as a page shows it: lists capped at ``limit`` entries each, with their totals."""
    report = record.report or {}
    by_row = {r[0]: r for r in report.get("accepted", [])}
    added = [dict(zip(("row", "name", "phone", "title", "department"), by_row[n], strict=True))
             for n in report.get("added", [])[:limit] if n in by_row]
    updated = [{**u, "changes": [(FIELD_LABELS.get(f, f), *_change_text(f, old, new))
                                 for f, (old, new) in u["changes"].items()]}
               for u in report.get("updated", [])[:limit]]
    return {"rejected": report.get("rejected", [])[:limit], "added": added, "updated": updated,
            "deactivated": report.get("deactivated", [])[:limit], "limit": limit,
            "message": report.get("message"), "ok": len(by_row)}


def _change_text(field_name: str, old: Any, new: Any) -> tuple[str, str]:
    if field_name == "active":
        return "已停用", "重新启用"
    return old or "（空）", new or "（空）"
