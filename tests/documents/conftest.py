"""Shared data for the document tests: a meeting with a leader, a delegate, an observer, an outsider
and an organizer, and helpers to make PDFs and log a browser session in."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"


def make_pdf(pages: int, width: float = 595, height: float = 842) -> bytes:
    """A PDF of ``pages`` blank pages, written by PDFium itself."""
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(width, height)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def login(client, identity) -> None:
    with client.session_transaction() as session:
        session.clear()
        session["identity_id"] = identity.id


@dataclass
class Person:
    contact: object
    identity: object


@dataclass
class World:
    meeting: object
    people: dict[str, Person]


@pytest.fixture(autouse=True)
def _no_queue(app, monkeypatch):
    # Tests run conversions themselves (directly or with jobs.run_pending), deterministically.
    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", False)


@pytest.fixture
def world(factory, db) -> World:
    from app.services.meetings.organizers import add_organizer

    unit = factory.unit("BGS", "区政府办公室")
    meeting = factory.meeting("DOCS01", title="全区经济工作会议")
    people = {}
    for key, name, phone, role, group in [
        ("leader", "李书记", "13900001111", "领导", None),
        ("delegate", "王代表", "13900002222", "代表", "第一代表团"),
        ("observer", "赵列席", "13900003333", "列席", None),
    ]:
        contact = factory.contact(unit, name=name, phone=phone)
        factory.invitee(meeting, contact, role=role, group_name=group)
        people[key] = Person(contact, factory.identity(contact))
    outsider = factory.contact(unit, name="钱路人", phone="13900004444")
    people["outsider"] = Person(outsider, factory.identity(outsider))
    organizer = factory.contact(unit, name="孙会务", phone="13900005555")
    add_organizer(meeting.code, organizer.phone, actor="test")
    people["organizer"] = Person(organizer, factory.identity(organizer))
    db.session.commit()  # a refused request rolls back: the test's data must survive it
    return World(meeting, people)


def seed_live(committed_db, code: str, title: str, *, data: bytes, file_name: str, doc_title: str) -> dict:
    """For the Chromium tests (committed data): a meeting with one invited 代表 (张三, with a WeChat
    identity), an organizer (孙会务) and one document, converted as the job would."""
    from app.services.documents import materials as documents
    from app.services.documents.convert import process_version
    from app.services.meetings.organizers import add_organizer
    from tests.factories import Factory

    f = Factory(committed_db)
    unit = f.unit("BGS", "区政府办公室")
    meeting = f.meeting(code, title=title)
    zhang = f.contact(unit, name="张三", phone="13800138000")
    f.invitee(meeting, zhang, role="代表")
    identity = f.identity(zhang)
    organizer = f.contact(unit, name="孙会务", phone="13900005555")
    committed_db.session.commit()
    add_organizer(meeting.code, organizer.phone, actor="test")
    version = documents.upload(meeting, organizer, data=data, file_name=file_name, title=doc_title)
    committed_db.session.commit()
    process_version(version.id)
    committed_db.session.commit()
    return {"code": meeting.code, "identity_id": identity.id, "meeting": meeting, "organizer": organizer,
            "document_id": version.document_id}


def confirm_terms(meeting, *contacts) -> None:
    """Each of ``contacts`` confirmed the meeting's current 保密提醒, as a reader does before their
    first document. Tests of who may see what pass the gate this way; the gate has its own tests
    (test_confidentiality.py)."""
    from app.extensions import db
    from app.services.documents import confidentiality

    version = confidentiality.terms_of(meeting).version
    for contact in contacts:
        confidentiality.confirm(meeting, contact, version, "h5")
    db.session.commit()


@pytest.fixture
def terms_confirmed(world) -> None:
    confirm_terms(world.meeting, *(world.people[k].contact for k in ("leader", "delegate", "observer")))


def upload_pdf(world: World, pages: int = 2, **kw):
    from app.extensions import db
    from app.services.documents import materials as documents
    from app.services.documents.convert import process_version

    kw.setdefault("file_name", "材料.pdf")
    version = documents.upload(world.meeting, world.people["organizer"].contact, data=make_pdf(pages), **kw)
    process_version(version.id)
    db.session.commit()
    return version
