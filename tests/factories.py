"""Small builders for test data, going through the services where a rule matters."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from models import Contact, Invitee, Meeting, Unit, WechatIdentity

_seq = itertools.count(1)


class Factory:
    def __init__(self, db):
        self.db = db

    def unit(self, code: str | None = None, name: str | None = None, **kw) -> Unit:
        from app.services.contacts.units import add_unit

        n = next(_seq)
        return add_unit(code or f"U{n:04d}", name or f"测试单位{n}", actor="test", **kw)

    def contact(self, unit: Unit | None = None, *, name: str | None = None, phone: str | None = None,
                **kw) -> Contact:
        n = next(_seq)
        contact = Contact(unit=unit or self.unit(), name=name or f"测试{n}", phone=phone or f"1380000{n:04d}", **kw)
        self.db.session.add(contact)
        self.db.session.flush()
        return contact

    def meeting(self, code: str | None = None, *, title: str = "测试会议", starts_at: datetime | None = None,
                hours: float = 3, **kw) -> Meeting:
        from app.services.meetings.meetings import create_meeting

        starts = starts_at or datetime.now(UTC) + timedelta(minutes=30)
        kw.setdefault("publish", True)
        return create_meeting(code or f"M{next(_seq):05d}", title, actor="test", starts_at=starts,
                              ends_at=starts + timedelta(hours=hours), **kw)

    def invitee(self, meeting: Meeting, contact: Contact | None = None, **kw) -> Invitee:
        from app.services.meetings.meetings import invite_contact

        return invite_contact(meeting, contact or self.contact(), actor="test", **kw)[0]

    def identity(self, contact: Contact | None = None, *, oa_openid: str | None = None, **kw) -> WechatIdentity:
        identity = WechatIdentity(oa_openid=oa_openid or f"o_test_{next(_seq)}", contact=contact,
                                  bound_at=datetime.now(UTC) if contact else None, **kw)
        self.db.session.add(identity)
        self.db.session.flush()
        return identity
