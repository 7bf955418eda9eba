"""催签: reminders sent to those not yet signed in, one delivery per person per reminder."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Model, UTCDateTime, created_at_column


class Reminder(Model):
    """A 催签 (``kind`` NULL, written when the organizer taps) or a scheduled reminder of a session
    (``kind`` ``day_before``, ``hour_before``, ``at_start``; sent by a job at ``scheduled_for``)."""

    __tablename__ = "reminders"
    __table_args__ = (
        # One pending schedule per session and kind (a fired or skipped one stays as the record).
        sa.Index("uq_reminders_scheduled_kind", "session_id", "kind", unique=True,
                 postgresql_where=sa.text("status = 'scheduled'"), sqlite_where=sa.text("status = 'scheduled'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    created_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    #: ``queued``, ``sending``, ``done``, ``superseded``; a schedule also ``scheduled``, ``skipped``
    #: (its time had passed: ``skip_reason`` says why), ``cancelled``.
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skip_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deliveries: Mapped[list[ReminderDelivery]] = relationship(cascade="all, delete-orphan")


class ReminderDelivery(Model):
    """The unique key makes "never twice to one person for one reminder" a database fact."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (sa.UniqueConstraint("reminder_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(sa.ForeignKey("reminders.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"))
    #: ``wechat`` (template message); ``sms`` when WeChat could not reach the person and the meeting
    #: sends SMS instead (``sms_serial`` then names it in the provider's receipts).
    channel: Mapped[str] = mapped_column(sa.String(8), default="wechat", server_default="wechat")
    sms_serial: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: ``pending``, ``sent`` (WeChat took it), ``delivered`` (WeChat reported it reached the phone),
    #: ``failed`` (refused at sending, or WeChat reported it undelivered), ``skipped`` (no WeChat bound).
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    errcode: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The ``msgid`` WeChat answered the send with; its TEMPLATESENDJOBFINISH event names it.
    msgid: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    #: WeChat's final word (TEMPLATESENDJOBFINISH ``Status``): ``success``, ``failed:user block``…
    wechat_status: Mapped[str | None] = mapped_column(sa.String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
