"""Models of the offline door's API: the staff scanner's data and sync, the attendee's personal code."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

#: Scans per sync request: the scanner sends its queue in batches of at most this many.
SYNC_BATCH_MAX = 500


class DeskScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scan_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", title="扫码编号",
                         description="签到台为每次扫码生成的唯一编号（如 UUID）；同一编号重复上传只记一次")
    code: str = Field(max_length=1000, title="扫到的内容", description="个人签到码原文（扫码枪或摄像头读到的文本）")
    at: AwareDatetime = Field(title="扫码时间", description="签到台设备扫码时的时间（带时区的 ISO 8601）")
    session: int = Field(ge=1, le=999, title="场次", description="签到台所签的场次序号")
    verdict: str | None = Field(None, max_length=32, title="签到台的判断", description="如 签到成功、已签到，仅供核对")


class DeskSyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scans: list[DeskScanIn] = Field(max_length=SYNC_BATCH_MAX, title="扫码记录",
                                    description=f"离线时排队的扫码，每批最多 {SYNC_BATCH_MAX} 条；可重复上传（幂等）")
    device_time: AwareDatetime | None = Field(None, title="设备当前时间",
                                              description="上传时签到台设备的时钟；与服务器相差超过 2 分钟时，"
                                                          "本批扫码时间按差值校正（设备时钟被重置等）")


class DeskSyncResult(BaseModel):
    received: int = Field(description="本批收到的扫码数")
    new: int = Field(description="其中首次收到的（其余为重复上传）")
    signed_in: int = Field(description="本批新增的签到人数")
    moved_earlier: int = Field(description="因本批扫码时间更早而提前了签到时间的人数")
    flagged: dict[str, str] = Field(description="未能签到的扫码：扫码编号 → 原因代码（revoked、forged、other_meeting、"
                                                "expired、on_leave、not_invited…）")
    server_time: datetime


class DeskInfo(BaseModel):
    id: int
    name: str


class DeskSession(BaseModel):
    position: int
    title: str
    label: str
    starts_at: datetime
    opens_at: datetime
    closes_at: datetime


class DeskMeeting(BaseModel):
    id: int
    code: str
    title: str
    venue: str
    sessions: list[DeskSession]


class DeskKey(BaseModel):
    id: int = Field(description="密钥编号（签到码中的 key_id）")
    public_key: str = Field(description="Ed25519 公钥（32 字节，base64）")


class DeskPerson(BaseModel):
    id: int
    name: str
    unit: str
    title: str
    seat: str
    role: str
    status: str = Field(description="approved（名单内）、pending（待审核）、rejected（已拒绝）、inactive（已停用）")
    leave: bool = Field(description="已请假")


class DeskSigned(BaseModel):
    contact_id: int
    session: int | None
    at: datetime
    by: str = Field(description="在哪签到：签到台名称，或 小程序、公众号扫码、会务组代签等")


class DeskBundle(BaseModel):
    """签到台离线工作所需的全部数据：名单、已撤销的签到码、验签公钥、已签到的人。"""

    desk: DeskInfo
    meeting: DeskMeeting
    keys: list[DeskKey]
    people: list[DeskPerson]
    revoked: list[list[int]] = Field(description="已撤销的签到码：[人员编号, 代次]")
    signed: list[DeskSigned]
    server_time: datetime


class PersonalCode(BaseModel):
    code: str = Field(description="个人签到码原文（130 个字符，适合字母数字模式的二维码）")
    expires_at: datetime
    png_base64: str = Field(description="二维码图片（PNG，base64）")
