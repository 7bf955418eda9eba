"""Requests and responses of the notices (会议通知) in the mini program."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NoticeOut(BaseModel):
    id: int
    kind: str = Field(description="notice（会议通知）或 confidentiality（保密提醒）")
    title: str
    body: str = Field(description="通知全文（纯文本，换行为 \\n）")
    sent_at: datetime | None
    ask_reply: bool = Field(description="是否需要回执（参加 / 请假）")
    state: str = Field(description="unread、read、attend、leave_pending、leave_approved、leave_refused")
    state_text: str = Field(description="如 确认参加、请假待批、已准假")
    leave_reason: str | None = None
    decision_note: str | None = Field(None, description="会务组不批准请假时的说明")
    can_answer: bool = Field(description="现在能否回执或请假（会议结束后不能）")


class NoticeList(BaseModel):
    items: list[NoticeOut]


class NoticeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Literal["attend", "leave"] = Field(description="attend：参加；leave：请假（须填写 reason）")
    reason: str = Field("", max_length=200, description="请假事由，请假时必填，200 字以内")
