"""Meetings, their sign-in sessions, who is invited, and who organizes them."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column
from models.contacts import Contact
from models.units import Unit


class Admission(enum.StrEnum):
    """Who may sign in."""

    INVITEES = "invitees"  # only people on the invitee list
    UNITS = "units"  # everyone active in the listed units
    APPROVAL = "approval"  # open: walk-ins are held for an organizer's approval


class Presence(enum.StrEnum):
    """How a bound attendee may sign in without staff: what proves they are in the room."""

    SCAN = "scan"  # only by scanning a code shown in the room (screen or poster)
    SCAN_OR_LINK = "scan_or_link"  # a scan, or the meeting page / reminder link, within the window
    LINK_IN_WINDOW = "link_in_window"  # the link only while sign-in is open; scans as usual


class MeetingState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Meeting(Model):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public code used in URLs and QR scenes: short, URL-safe, unique.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    #: [{"time": "09:00", "title": "…", "speaker": "…"}]
    agenda: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    admission: Mapped[str] = mapped_column(sa.String(16), default=Admission.INVITEES)
    state: Mapped[str] = mapped_column(sa.String(16), default=MeetingState.DRAFT)
    #: The big screen shows 张* instead of 张三.
    mask_names: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The big screen shows a code that expires in tens of seconds.
    rotating_qr: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: What the big screen shows: ``headcount`` or ``vote:<id>``.
    screen_mode: Mapped[str] = mapped_column(sa.String(32), default="headcount")
    #: Part of the big screen's link key: raising it retires every link given out before.
    screen_key_version: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The organizing unit (主办单位): its organizers see and run the meeting. None for meetings made
    #: before organizing units existed (only their listed organizers see them).
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    presence: Mapped[str] = mapped_column(sa.String(16), default=Presence.SCAN_OR_LINK,
                                          server_default=Presence.SCAN_OR_LINK.value)
    #: People WeChat cannot reach (not following the account, or refusing its messages) get 催签 and
    #: notices by SMS instead (app/services/notify). Off by default: SMS costs money.
    sms_fallback: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Arriving this many minutes after a session starts counts as late.
    late_after_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()

    organizing_unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    sessions: Mapped[list[MeetingSession]] = relationship(
        back_populates="meeting", order_by="MeetingSession.position", cascade="all, delete-orphan"
    )
    units: Mapped[list[Unit]] = relationship(secondary="meeting_units")


class MeetingUnit(Model):
    """Units whose people may sign in when admission is ``units`` (and whose invitees are counted)."""

    __tablename__ = "meeting_units"

    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True)


class MeetingSession(Model):
    """A sign-in within a meeting: a plenary has one; a congress has one per half-day."""

    __tablename__ = "meeting_sessions"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: 1-based order within the meeting; also the session's part of a QR scene.
    position: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Sign-in window; arriving after ``starts_at`` counts as late.
    signin_opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signin_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Last order number given ("第 N 位"); advanced by the ``signins_take_seq`` trigger as each
    #: sign-in commits.
    last_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Sign-ins revoked so far, counted in each revoke's transaction: the live counters compare it
    #: with the revokes they applied, so a revoke whose event was lost is noticed at once.
    revokes: Mapped[int] = mapped_column(default=0, server_default="0")

    meeting: Mapped[Meeting] = relationship(back_populates="sessions")


class InviteeRole(enum.StrEnum):
    LEADER = "领导"
    DELEGATE = "代表"
    OBSERVER = "列席"
    STAFF = "工作人员"
    MEDIA = "媒体"


class Invitee(Model):
    __tablename__ = "invitees"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default=InviteeRole.DELEGATE)
    #: e.g. a 代表团 name; counted separately on the live page.
    group_name: Mapped[str | None] = mapped_column(sa.String(64))
    seat: Mapped[str | None] = mapped_column(sa.String(32))
    #: ``approved``; ``pending`` for a walk-in waiting for an organizer (admission ``approval``);
    #: ``rejected``.
    status: Mapped[str] = mapped_column(sa.String(16), default="approved")
    #: Why a walk-in was refused (or approved), and by whom: kept for the record.
    decided_by: Mapped[str | None] = mapped_column(sa.String(96))
    decision_note: Mapped[str | None] = mapped_column(sa.String(200))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()

    meeting: Mapped[Meeting] = relationship()
    contact: Mapped[Contact] = relationship()


class Leave(Model):
    """请假: the person is excused from the whole meeting and leaves 应到; shown as 请假 everywhere."""

    __tablename__ = "leaves"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(200))
    #: Who approved the leave (a name as people say it, e.g. 王主任).
    approver: Mapped[str] = mapped_column(sa.String(64))
    recorded_by: Mapped[str] = mapped_column(sa.String(96))
    created_at: Mapped[datetime] = created_at_column()

    contact: Mapped[Contact] = relationship()


class OrganizerRight(enum.StrEnum):
    OWNER = "owner"  # everything, including adding organizers
    STAFF = "staff"  # headcount, 代签, reminders, votes, documents
    VIEWER = "viewer"  # read live numbers only


class Organizer(Model):
    __tablename__ = "organizers"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    right: Mapped[str] = mapped_column(sa.String(16), default=OrganizerRight.STAFF)
    created_at: Mapped[datetime] = created_at_column()

    meeting: Mapped[Meeting] = relationship()
    contact: Mapped[Contact] = relationship()


class MeetingCode(Model):
    """A code made for a meeting (or session) through WeChat, kept so it is renewed, not re-made."""

    __tablename__ = "meeting_codes"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "session_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    #: ``oa_qr`` (parametric QR), ``mp_code`` (mini-program code), ``h5_qr`` (plain link).
    kind: Mapped[str] = mapped_column(sa.String(16))
    scene: Mapped[str] = mapped_column(sa.String(64))
    ticket: Mapped[str | None] = mapped_column(sa.String(255))
    url: Mapped[str | None] = mapped_column(sa.String(1024))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)
