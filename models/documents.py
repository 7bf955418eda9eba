"""Meeting documents (会议材料), their versions, and who read what."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column, utcnow


class Document(Model):
    __tablename__ = "documents"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: 文件编号, e.g. 会-03.
    number: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    #: ``all`` invitees, or ``restricted`` to allowed_roles / allowed_groups.
    access: Mapped[str] = mapped_column(sa.String(16), default="all")
    allowed_roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    allowed_groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    allow_download: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: 清退: once set, no attendee can open it; the reading record stays.
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recalled_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    versions: Mapped[list[DocumentVersion]] = relationship(
        order_by="DocumentVersion.version", cascade="all, delete-orphan"
    )


class DocumentVersion(Model):
    __tablename__ = "document_versions"
    __table_args__ = (sa.UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    #: Type found by content, not by name.
    mime_type: Mapped[str] = mapped_column(sa.String(128))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger())
    #: The original is stored under its content hash.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    #: ``pending``, ``converting``, ``rendering``, ``ready``, ``failed``.
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    error_message: Mapped[str | None] = mapped_column(sa.String(500))
    page_count: Mapped[int | None] = mapped_column()
    pages_ready: Mapped[int] = mapped_column(default=0, server_default="0")
    uploaded_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class DocumentAccess(Model):
    """Every view of a page and every download: who, when, which page."""

    __tablename__ = "document_accesses"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("document_versions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    #: ``page`` or ``download``.
    action: Mapped[str] = mapped_column(sa.String(16))
    page: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    extra: Mapped[dict] = mapped_column(JSONType, default=dict)
