"""Request and response models of the mini-program API (they are also its OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from miniprogram_api.schemas_attendee import DocumentOut

# -- requests ------------------------------------------------------------------------------------


class SessionRequest(BaseModel):
    code: str = Field(min_length=1, max_length=128, title="登录凭证", description="wx.login() 得到的 code")


class BindRequest(BaseModel):
    """Empty fields are the binding rule's business (``fields_missing``), as on the H5 page."""

    unit: str = Field("", max_length=100, title="单位")
    name: str = Field("", max_length=50, title="姓名")
    phone: str = Field("", max_length=32, title="手机号")


class SignInRequest(BaseModel):
    session: int | None = Field(None, ge=1, le=999, title="场次",
                                description="场次序号；不填则为当前正在签到的场次")
    nonce: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", title="请求编号",
                       description="客户端生成的随机串；重试同一请求时保持不变")
    scene: str | None = Field(None, max_length=40, title="小程序码 scene",
                              description="扫描会场小程序码进入时，填小程序码的 scene（decodeURIComponent(query.scene)）；"
                                          "从会议页面点签到时不填。会议要求现场扫码时，不带 scene 的签到会被拒绝（scan_required）")


class HistoryQuery(BaseModel):
    # Unknown query parameters are refused: they are typos the caller should hear about.
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=10000, title="页码")
    per_page: int = Field(20, ge=1, le=50, title="每页条数")


# -- responses -----------------------------------------------------------------------------------


class SessionToken(BaseModel):
    token: str = Field(description="放入 Authorization: Bearer 头")
    expires_at: datetime
    expires_in: int = Field(description="秒")
    bound: bool = Field(description="是否已绑定通讯录身份")


class ContactOut(BaseModel):
    name: str
    unit: str
    phone_masked: str


class Me(BaseModel):
    bound: bool
    contact: ContactOut | None = None


class AgendaItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    time: str = ""
    title: str = ""
    speaker: str = ""


class MySignIn(BaseModel):
    seq: int
    signed_at: datetime
    late: bool
    method: str


class SessionOut(BaseModel):
    position: int
    title: str
    starts_at: datetime
    ends_at: datetime
    signin_opens_at: datetime
    signin_closes_at: datetime
    my_state: str = Field(description="signed_in、can_sign_in、not_bound，或不能签到的原因代码（not_invited、not_open_yet…）")
    my_message: str = ""
    my_signin: MySignIn | None = None


MyStatus = Literal["signed_in", "invited", "pending", "rejected", "none", "not_bound"]


class MeetingSummary(BaseModel):
    code: str
    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    state: str


class MeetingDetail(MeetingSummary):
    intro: str
    agenda: list[AgendaItem]
    sessions: list[SessionOut]
    my_status: MyStatus


class SceneMeeting(BaseModel):
    session_position: int
    meeting: MeetingDetail


class SignInResult(BaseModel):
    status: Literal["signed_in", "already_signed_in"]
    meeting_code: str
    session_position: int
    seq: int
    signed_at: datetime
    late: bool
    name: str
    unit: str
    message: str
    card_headline: list[str] = Field(default_factory=list,
                                     description="服务卡摘要，如 [\"座位 3 排 12 号\", \"午餐 2 楼宴会厅\", \"下一项 14:30 分组讨论\"]；"
                                                 "没有则为空。完整服务卡见 GET /meetings/{code}/card")


class UnitNumbers(BaseModel):
    name: str
    expected: int
    arrived: int
    missing: list[str]


class GroupNumbers(BaseModel):
    name: str
    expected: int
    arrived: int


class LiveNumbers(BaseModel):
    meeting_code: str
    session_position: int
    expected: int = Field(description="应到")
    arrived: int = Field(description="实到")
    rate: float = Field(description="签到率（%）")
    late: int
    missing: int
    units: list[UnitNumbers]
    groups: list[GroupNumbers]


class HistoryEntry(BaseModel):
    meeting: MeetingSummary
    my_status: MyStatus
    signed_at: datetime | None = None
    sessions_signed: int
    materials: list[DocumentOut] = Field(default_factory=list, description="我仍可查看的会议材料（已清退的不再列出）")


class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    page: int
    per_page: int
    total: int


class LiveQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: int | None = Field(None, ge=1, le=999, title="场次")
