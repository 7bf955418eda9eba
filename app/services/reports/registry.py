"""The one list of report kinds: the console's 报表 page, the CLI (``reports list``) and the tests
all enumerate this, in the order an office files them."""

from __future__ import annotations

from app.services.reports import activity, outcomes, people, summary
from app.services.reports.base import Kind, ReportError

#: Numbers only: every organizer right may read them. Lists of people: staff and owners.
NUMBERS, PEOPLE = "view", "reports"

_KINDS = [
    Kind("signin_sheet", "签到表", people.signin_sheet, PEOPLE,
         description="全部参会人员的签到时间、方式（代签人）、迟到与请假，按单位顺序和职级排列；PDF 带签名栏"),
    Kind("unit_attendance", "各单位出席情况", people.per_unit, NUMBERS,
         description="各单位应到、实到、请假、缺席、迟到与签到率"),
    Kind("absent", "缺席人员名单", people.absent, PEOPLE, description="未签到且未请假的人员及联系电话，便于会后跟进"),
    Kind("late", "迟到人员名单", people.late, PEOPLE, description="迟到人员、签到时间、迟到分钟数及联系电话"),
    Kind("leave", "请假人员名单", people.leave, PEOPLE, description="请假事由、批准人与登记人"),
    Kind("summary", "会议签到情况汇总", summary.summary, NUMBERS, compact=True,
         description="一页纸：应到、实到、请假、缺席、迟到等数字，到会进度图，表决结果"),
    Kind("arrivals", "签到时间分布", activity.arrivals, NUMBERS,
         description="按时段统计的签到人数与累计签到率（图与表）"),
    Kind("exceptions", "代签及现场处理记录", activity.exceptions, PEOPLE,
         description="代签、现场签到、临时人员、签到申请审核、解绑微信、请假登记，均含操作人"),
    Kind("refused", "被拒绝的签到", activity.refused, PEOPLE, description="被拒绝的签到尝试及原因"),
    Kind("votes", "投票表决结果", outcomes.votes, NUMBERS, scales=False,
         description="各项表决的通过/未通过、投票率与各选项得票"),
    Kind("vote_ballots", "记名投票明细", outcomes.named_ballots, PEOPLE,
         description="记名投票中每人的选择；无记名投票的选票不与任何人关联，不列出"),
    Kind("surveys", "问卷结果", outcomes.surveys, PEOPLE, description="各题汇总及原始答卷（匿名问卷不含答题人）"),
    Kind("documents", "材料阅读与清退", outcomes.documents, PEOPLE,
         description="谁阅读了哪份材料、读了多少页（议题关注度），逐人清退清单，以及保密提醒确认情况"),
    Kind("binding", "微信绑定情况", people.binding, PEOPLE,
         description="会前各单位微信绑定进度，及尚未绑定的人员"),
]
KINDS: dict[str, Kind] = {k.key: k for k in _KINDS}


def all_kinds() -> list[Kind]:
    return list(_KINDS)


def get_kind(key: str) -> Kind:
    kind = KINDS.get((key or "").strip())
    if kind is None:
        raise ReportError("report_unknown", kind=(key or "")[:40])
    return kind
