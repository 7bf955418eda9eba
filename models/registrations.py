"""Registration (报名): a meeting's forms, one per role if the organizer wants, and what people sent.

A form says who may register (the invitees, anyone with the form's invitation code plus their
unit's number, or anyone subject to approval), which standard and custom fields it asks, a deadline
and a cap. A registration is one person's answers; one submission (``batch``) may carry several
people, a unit office registering its delegation. Approval makes the person an invitee of the
meeting (with the form's role and the registration's group), matching the directory or adding a
contact to the meeting's "报名人员" unit (``units.registration_meeting_id``).

An ID number is kept encrypted (``id_cipher``), with its masked form for display and a keyed digest
to find a second registration of the same person: it is never stored or logged in clear.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column, utcnow


class FormAccess(enum.StrEnum):
    INVITEES = "invitees"   # only the meeting's invitees, recognised by their bound WeChat or phone
    CODE = "code"           # the form's invitation code plus the unit's number (定向邀约)
    OPEN = "open"           # anyone; always subject to approval


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class RegistrationForm(Model):
    __tablename__ = "registration_forms"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(64))
    #: The invitee role an approved registration gets (an ``InviteeRole`` value).
    role: Mapped[str] = mapped_column(sa.String(16))
    access: Mapped[str] = mapped_column(sa.String(8), default=FormAccess.CODE)
    #: The form's invitation code (letters and digits people type from a letter); unique per meeting.
    invite_code: Mapped[str | None] = mapped_column(sa.String(16))
    #: Registrations wait for an organizer's decision (always so for an open form).
    needs_approval: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: [{"key", "label", "kind", "required", "options"?}]: standard fields by their key, custom
    #: ones keyed ``c1``, ``c2`` … (app/services/registration/fields.py says what each kind takes).
    fields: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: At most this many registrations not refused or cancelled (None: no cap).
    cap: Mapped[int | None] = mapped_column()
    #: Published: people may register (a draft form is the organizer's only).
    published: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = created_at_column()


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "phone"),
                      sa.Index("ix_registrations_meeting_id_status", "meeting_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("registration_forms.id", ondelete="CASCADE"), index=True)
    #: One submission: the people a unit office registered together share it.
    batch: Mapped[str] = mapped_column(sa.String(16), index=True)
    #: Who submitted it ("wx:<openid>", "mp:<openid>", "contact:<id>", "cli:<name>").
    submitted_by: Mapped[str] = mapped_column(sa.String(96))
    status: Mapped[str] = mapped_column(sa.String(12), default=RegistrationStatus.PENDING)

    name: Mapped[str] = mapped_column(sa.String(64))
    #: The unit the registration named (by its number on a code form); None for an open form's
    #: outsider, whose typed unit is ``unit_name``.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    unit_name: Mapped[str] = mapped_column(sa.String(128), default="")
    phone: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(64), default="")
    #: "男" or "女" (None: not asked).
    gender: Mapped[str | None] = mapped_column(sa.String(1))
    ethnicity: Mapped[str | None] = mapped_column(sa.String(16))
    id_cipher: Mapped[str | None] = mapped_column(sa.Text)
    id_masked: Mapped[str | None] = mapped_column(sa.String(24))
    id_digest: Mapped[str | None] = mapped_column(sa.String(64))
    arrival: Mapped[date | None] = mapped_column(sa.Date)
    departure: Mapped[date | None] = mapped_column(sa.Date)
    #: Diet tags (清真, 素食 …).
    diet: Mapped[list[str]] = mapped_column(JSONType, default=list)
    needs_room: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Needs an accessible room and seat.
    accessible: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    plate: Mapped[str | None] = mapped_column(sa.String(16))
    #: Seniority for single rooms and seats: smaller first (the organizer sets it; 100 unless set).
    rank: Mapped[int] = mapped_column(default=100, server_default="100")
    #: The delegation (代表团) or group the invitee gets.
    group_name: Mapped[str | None] = mapped_column(sa.String(64))
    #: Custom fields' answers {key: value}; a file's value is its storage key.
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Storage key of the badge photo.
    photo: Mapped[str | None] = mapped_column(sa.String(128))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)

    #: The directory's person, set on approval (matched or added).
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(96))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The refusal's reason, shown to the person.
    decision_note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 server_default=sa.func.now())

    form: Mapped[RegistrationForm] = relationship()
