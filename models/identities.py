"""WeChat identities and their binding to a directory contact."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Model, UTCDateTime, created_at_column
from models.contacts import Contact


class WechatIdentity(Model):
    """One person on WeChat. The official-account and mini-program openids of the same person are
    linked through the unionid when WeChat gives one, so binding once is enough."""

    __tablename__ = "wechat_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    oa_openid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    mp_openid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: A contact is bound to at most one WeChat; taking it over needs an organizer to unbind.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), unique=True
    )
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    contact: Mapped[Contact | None] = relationship()
