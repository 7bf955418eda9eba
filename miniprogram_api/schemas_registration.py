"""Requests and responses of registration (报名) in the mini program."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

#: A value of one field: text (dates as YYYY-MM-DD), a yes/no, the diet tags, or an uploaded file's key.
FieldValue = str | bool | list[str] | None


class FieldSpec(BaseModel):
    key: str = Field(description="标准字段：name、unit、title、phone、gender、ethnicity、id_number、arrival、departure、"
                                 "diet、needs_room、accessible、plate、group、photo；自定义字段：c1、c2…")
    label: str
    kind: str = Field(description="text、phone、choice、multi、bool、date、id_number、plate、photo、file")
    required: bool
    options: list[str] = Field(default_factory=list, description="choice / multi 的可选项")


class FormOut(BaseModel):
    id: int
    title: str
    role: str = Field(description="参会身份，如 代表、列席、工作人员、媒体")
    access: str = Field(description="invitees（仅受邀人员）、code（邀请码 + 单位编号）、open（公开，须审核）")
    needs_approval: bool
    deadline: datetime | None
    places_left: int | None = Field(description="剩余名额；null 为不限")
    open: bool = Field(description="现在能否报名")
    closed_reason: str | None = Field(None, description="不能报名时的原因")
    unit_fixed: bool = Field(description="单位由邀请码 + 单位编号或本人身份确定，人员不填单位")
    fields: list[FieldSpec]


class FormList(BaseModel):
    items: list[FormOut]


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invite_code: str = Field("", max_length=32, title="邀请码", description="code 方式必填")
    unit_code: str = Field("", max_length=32, title="单位编号", description="code 方式必填")
    people: list[dict[str, FieldValue]] = Field(
        ..., title="报名人员", description="每人一个对象 {字段 key: 值}，最多 50 人；文件字段填上传接口返回的 key")


class RegistrationOut(BaseModel):
    id: int
    batch: str
    form_id: int
    name: str
    unit: str
    phone: str
    status: str = Field(description="pending、approved、refused、cancelled")
    status_text: str
    refusal_reason: str | None = None
    id_number_masked: str | None = Field(None, description="身份证号（脱敏），完整号码从不返回")
    arrival: date | None = None
    departure: date | None = None
    created_at: datetime


class SubmitOut(BaseModel):
    batch: str
    status: str = Field(description="pending（待审核）或 approved（无需审核，已确认）")
    registrations: list[RegistrationOut]


class RegistrationList(BaseModel):
    items: list[RegistrationOut]


class FileOut(BaseModel):
    key: str = Field(description="提交报名时作为文件字段的值")
    kind: str = Field(description="检测出的文件类型：jpeg、png、pdf、docx …")


class BatchError(BaseModel):
    index: int = Field(description="people 中的序号（从 0 开始）")
    field: str | None
    code: str
    message: str


class BatchErrorBody(BaseModel):
    """400 batch_invalid：error 中另有 errors 列出每个人、每个字段的问题。"""

    class Inner(BaseModel):
        code: str
        message: str
        errors: list[BatchError] = Field(default_factory=list)

    error: Inner
