"""Request and response models for what attendees do in a meeting: votes, surveys, documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# -- votes ---------------------------------------------------------------------------------------


class VoteOptionOut(BaseModel):
    id: int
    label: str


class VoteOut(BaseModel):
    id: int
    title: str
    description: str
    kind: str = Field(description="single（单选）、multiple（多选）、motion（表决）")
    state: str = Field(description="open（进行中）或 closed（已结束）")
    anonymous: bool
    min_choices: int
    max_choices: int
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    options: list[VoteOptionOut]
    has_voted: bool
    eligible: bool = Field(description="我是否在投票范围内")
    results_visible: bool = Field(description="我现在能否查看结果")


class VoteList(BaseModel):
    items: list[VoteOut]


class BallotRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    option_ids: list[int] = Field(max_length=50, title="所选选项",
                                  description="选项编号；单选与表决选 1 项，多选按投票的最少/最多项数")


class BallotResult(BaseModel):
    status: str = Field(description="voted")
    vote_id: int
    option_ids: list[int]
    message: str
    results_visible: bool


class OptionCountOut(BaseModel):
    id: int
    label: str
    count: int
    percent: float


class VoteResultsOut(BaseModel):
    vote_id: int
    title: str
    kind: str
    state: str
    ballots: int
    eligible: int = Field(description="有投票资格的人数")
    turnout: float = Field(description="投票率（%）")
    options: list[OptionCountOut]


# -- surveys -------------------------------------------------------------------------------------


class SurveyQuestionOut(BaseModel):
    id: int
    kind: str = Field(description="single、multiple、rating（1–5 分）或 text")
    text: str
    options: list[str]
    required: bool


class SurveyOut(BaseModel):
    id: int
    title: str
    state: str = Field(description="open（进行中）或 closed（已结束）")
    anonymous: bool
    questions: list[SurveyQuestionOut]
    answered: bool


class SurveyList(BaseModel):
    items: list[SurveyOut]


class SurveyResponseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, int | list[int] | str] = Field(
        title="回答", description="键为问题编号；单选填选项序号（从 0 起），多选填序号列表，评分填 1–5，填空填文字")


class SurveyResponseResult(BaseModel):
    status: str = Field(description="submitted")
    survey_id: int
    message: str


# -- documents -----------------------------------------------------------------------------------


class DocumentOut(BaseModel):
    number: str = Field(description="文件编号")
    title: str
    ready: bool = Field(description="是否已可查看（转换完成第一页）")
    version: int | None = None
    page_count: int | None = None
    pages_ready: int = 0
    token: str | None = Field(None, description="只属于本人的查看凭证，别人使用无效")
    first_page_url: str | None = None
    page_url_template: str | None = Field(None, description="把 {n} 换成页码（从 1 起），请求时带上 Bearer 令牌")
    download_url: str | None = Field(None, description="允许下载原文件时才有")


class DocumentList(BaseModel):
    items: list[DocumentOut]
    confidentiality_pending: bool = Field(
        False, description="为 true 时须先阅读并确认保密提醒（GET/POST …/confidentiality），否则打开材料返回 "
                           "403 confidentiality_unconfirmed")


class ConfidentialityOut(BaseModel):
    version: int = Field(description="保密提醒的版本；内容每修改一次加 1，确认时须带上所看到的版本")
    text: str = Field(description="保密提醒全文（纯文本，按换行分段）")
    required: bool = Field(description="查看会议材料前是否须确认")
    confirmed: bool = Field(description="我是否已确认当前版本")
    confirmed_at: datetime | None = None


class ConfidentialityConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1, title="保密提醒版本", description="页面上展示的版本（GET 返回的 version）")


class ConfidentialityConfirmed(BaseModel):
    status: str = Field(description="confirmed")
    version: int
    confirmed_at: datetime
