"""会议通知: a notice written for a meeting, its recipients' answers (回执, 请假) and every delivery."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column


class Notice(Model):
    """A notice (``kind`` ``notice``) or a confidentiality reminder (``confidentiality``).

    ``audience`` is what the organizer picked ({"all": bool, "units": [ids], "roles": [...],
    "groups": [...], "people": [ids]}); the recipients are fixed when it is sent."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="notice")
    title: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    audience: Mapped[dict] = mapped_column(JSONType, default=dict)
    #: Whether the person is asked to answer 参加 (回执) and may ask for leave.
    ask_reply: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: A WeChat message that cannot reach the person (not following, refused) goes by SMS instead.
    sms_fallback: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: ``draft``, ``sent`` (its recipients are fixed; rounds go out by job).
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    #: Sending rounds so far: 1 after the first send, one more per 提醒未回复.
    rounds: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_round_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoticeRecipient(Model):
    """One person a notice went to, and their answer. ``token`` is the personal link's secret: the
    page it opens needs no login, as an SMS is read outside WeChat."""

    __tablename__ = "notice_recipients"
    __table_args__ = (sa.UniqueConstraint("notice_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: None (no answer yet), ``attend`` (回执: 参加), ``leave`` (asked for leave).
    answer: Mapped[str | None] = mapped_column(sa.String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leave_reason: Mapped[str | None] = mapped_column(sa.String(200))
    #: For ``leave``: ``pending``, ``approved`` (a Leave row exists), ``refused``.
    leave_state: Mapped[str | None] = mapped_column(sa.String(16))
    decided_by: Mapped[str | None] = mapped_column(sa.String(96))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.String(200))

    notice: Mapped[Notice] = relationship()


class NoticeDelivery(Model):
    """One message to one person in one round by one channel. The unique key makes "never twice to
    one person" a database fact: a round is sent once per channel, and SMS only as a fallback."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (sa.UniqueConstraint("recipient_id", "round", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("notice_recipients.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(default=1)
    #: ``wechat`` (template message) or ``sms``.
    channel: Mapped[str] = mapped_column(sa.String(8))
    #: ``pending``; ``sending`` (claimed by a job); ``sent`` (the channel took it); ``delivered``
    #: (the channel reported it reached the phone); ``failed``; ``skipped`` (no way to reach them).
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    #: WeChat's ``msgid`` or the SMS provider's serial number: their delivery reports name it.
    provider_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
