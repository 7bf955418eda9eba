"""The reports of what the meeting decided and read: vote results (通过/未通过 for a 表决, turnout;
who chose what only for a named vote, never for an anonymous one), surveys (summary and raw
answers), and the documents (who read which and how much: 议题关注度; the 清退 checklist; who
confirmed the 保密提醒).

The pass rule of a 表决 is the votes' own (``Results.outcome``, app.services.votes.results), shown the
same on the vote pages, the exports and these reports.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.services.documents import confidentiality
from app.services.reports.base import Chart, Context, Section
from app.services.reports.people import local_naive, rate
from app.services.votes import results as vote_results
from app.services.votes.results import PASS_RULE
from app.services.votes.rules import KIND_LABELS, STATE_LABELS
from app.services.votes.surveys import summary as survey_summary
from models import (
    Ballot,
    BallotChoice,
    Contact,
    Document,
    DocumentAccess,
    Survey,
    SurveyResponse,
    Unit,
    Vote,
    VoteOption,
)


def motion_outcome(vote: Vote, res: vote_results.Results) -> str:
    """通过 / 未通过 for a closed 表决 (the votes' own rule); its state otherwise; — for another kind."""
    if vote.kind != "motion":
        return "—"
    return res.outcome or STATE_LABELS.get(res.state, res.state)


def meeting_votes(ctx: Context) -> list[Vote]:
    stmt = select(Vote).where(Vote.meeting_id == ctx.meeting.id).order_by(Vote.created_at, Vote.id)
    if ctx.session is not None:
        stmt = stmt.where(Vote.session_id == ctx.session.id)
    return list(db.session.scalars(stmt))


def vote_rows(ctx: Context) -> tuple[list[tuple[Vote, vote_results.Results]], list[list]]:
    """The votes with their results, and the table of outcomes: one row per vote."""
    tallied = [(v, vote_results.results(v, live=False)) for v in meeting_votes(ctx)]
    rows = []
    for i, (v, res) in enumerate(tallied, start=1):
        detail = "，".join(f"{o.label} {o.count}" for o in res.options)
        rows.append([i, v.title, KIND_LABELS.get(v.kind, v.kind), "无记名" if v.anonymous else "记名",
                     STATE_LABELS.get(res.state, res.state), res.eligible, res.ballots, res.turnout, detail,
                     motion_outcome(v, res)])
    return tallied, rows


VOTE_HEADERS = ["序号", "议题", "类型", "方式", "状态", "应投", "实投", "投票率(%)", "得票", "结果"]


def votes(ctx: Context) -> list[Section]:
    tallied, rows = vote_rows(ctx)
    option_rows = []
    labels, counts = [], []
    for i, (v, res) in enumerate(tallied, start=1):
        for o in res.options:
            option_rows.append([i, v.title, o.label, o.count, o.percent])
            labels.append(f"{i}. {o.label}")
            counts.append(float(o.count))
    sections = [
        Section("表决及投票结果", VOTE_HEADERS, rows, widths=[4, 18, 5, 6, 6, 5, 5, 7, 16, 7],
                facts=[("投票事项", str(len(rows))), ("通过", str(sum(1 for r in rows if r[9] == "通过"))),
                       ("未通过", str(sum(1 for r in rows if r[9] == "未通过")))],
                empty_text="（本次会议没有投票）", note=f"表决规则：{PASS_RULE}（投票结束后判定）。投票率 = 实投 ÷ 应投。"),
        Section("各选项得票", ["序号", "议题", "选项", "票数", "占实投(%)"], option_rows, widths=[4, 22, 14, 6, 8],
                chart=Chart("bar", "各选项得票数", labels, [("票数", counts)]) if labels else None,
                empty_text="（无）"),
    ]
    return sections


def named_ballots(ctx: Context) -> list[Section]:
    tallied = [v for v in meeting_votes(ctx)]
    return [_named_ballots([(i, v) for i, v in enumerate(tallied, start=1) if not v.anonymous])]


def _named_ballots(named: list[tuple[int, Vote]]) -> Section:
    """Who chose what, for named votes only: an anonymous vote's ballots carry no person at all."""
    ids = [v.id for _i, v in named] or [-1]
    number = {v.id: i for i, v in named}
    titles = {v.id: v.title for _i, v in named}
    labels = dict(db.session.execute(select(VoteOption.id, VoteOption.label).where(VoteOption.vote_id.in_(ids))).all())
    picks: dict[str, list[int]] = {}
    for ballot_id, option_id in db.session.execute(
        select(BallotChoice.ballot_id, BallotChoice.option_id).join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.vote_id.in_(ids), Ballot.contact_id.is_not(None))
    ):
        picks.setdefault(ballot_id, []).append(option_id)
    ballots = db.session.execute(
        select(Ballot.id, Ballot.vote_id, Ballot.cast_at, Contact.id, Contact.name, Unit.name, Unit.id)
        .join(Contact, Contact.id == Ballot.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(Ballot.vote_id.in_(ids), Ballot.contact_id.is_not(None))
        .order_by(Ballot.vote_id, Unit.id, Contact.id)
    ).all()
    rows = [[number[vid], titles[vid], name, unit, "、".join(labels[o] for o in sorted(picks.get(bid, []),
                                                                                    key=lambda o: o)),
             local_naive(at)]
            for bid, vid, at, _cid, name, unit, _uid in sorted(ballots, key=lambda b: (number[b[1]], b[6], b[3]))]
    return Section("记名投票明细", ["序号", "议题", "姓名", "单位", "选择", "投票时间"], rows,
                   widths=[4, 18, 7, 14, 12, 10], empty_text="（没有记名投票的选票）",
                   note="仅列记名投票；无记名投票的选票不与任何人关联，不能也不会列出。")


# -- surveys ------------------------------------------------------------------------------------------------
def _answer_text(question, value) -> str | int:
    if value is None or value == "":
        return ""
    if question.kind == "rating" and isinstance(value, int):
        return value
    if question.kind in ("single", "multiple"):
        picks = value if isinstance(value, list) else [value]
        return "、".join(question.options[i] for i in picks if isinstance(i, int) and 0 <= i < len(question.options))
    return str(value)


def surveys(ctx: Context) -> list[Section]:
    found = list(db.session.scalars(select(Survey).where(Survey.meeting_id == ctx.meeting.id)
                                    .order_by(Survey.created_at, Survey.id)))
    summary_rows = []
    sections: list[Section] = []
    for n, survey in enumerate(found, start=1):
        responses, questions = survey_summary(survey)
        for q_no, (q, s) in enumerate(zip(survey.questions, questions, strict=True), start=1):
            if s.counts:
                for label, count in s.counts:
                    summary_rows.append([n, survey.title, q_no, q.text, label, count, rate(count, s.answered)])
                if s.average is not None:
                    summary_rows.append([n, survey.title, q_no, q.text, "平均分", s.average, None])
            else:
                summary_rows.append([n, survey.title, q_no, q.text, f"文字回答 {len(s.texts)} 条", len(s.texts),
                                     None])
        sections.append(_raw_answers(n, survey, responses))
    return [Section("问卷汇总", ["序号", "问卷", "题号", "题目", "选项", "人数", "占答题人数(%)"], summary_rows,
                    widths=[4, 14, 4, 22, 14, 6, 8], facts=[("问卷", str(len(found)))],
                    empty_text="（本次会议没有问卷）"), *sections]


def _raw_answers(n: int, survey: Survey, responses: int) -> Section:
    named = not survey.anonymous
    stmt = (select(SurveyResponse.answers, SurveyResponse.submitted_at, Contact.name, Unit.name, Unit.id, Contact.id)
            .outerjoin(Contact, Contact.id == SurveyResponse.contact_id).outerjoin(Unit, Unit.id == Contact.unit_id)
            .where(SurveyResponse.survey_id == survey.id))
    found = db.session.execute(stmt).all()
    # Named: by unit and person. Anonymous: by the response's random id order, which says nothing.
    found = sorted(found, key=lambda r: (r[4] or 0, r[5] or 0)) if named else found
    headers = ["序号", *(["姓名", "单位", "提交时间"] if named else []),
               *(f"{i}. {q.text}" for i, q in enumerate(survey.questions, start=1))]
    rows = []
    for i, (answers, at, name, unit, _uid, _cid) in enumerate(found, start=1):
        cells = [_answer_text(q, (answers or {}).get(str(q.id))) for q in survey.questions]
        rows.append([i, *([name or "", unit or "", local_naive(at)] if named else []), *cells])
    return Section(f"问卷{n}原始答卷", headers, rows, facts=[("问卷", survey.title), ("答卷", str(responses)),
                                                         ("方式", "记名" if named else "匿名")],
                   empty_text="（尚无答卷）",
                   note="" if named else "匿名问卷：答卷不含答题人，按随机编号排列。")


# -- documents ---------------------------------------------------------------------------------------------
def documents(ctx: Context) -> list[Section]:
    docs = list(db.session.scalars(select(Document).where(Document.meeting_id == ctx.meeting.id)
                                   .order_by(Document.number, Document.id)))
    doc_ids = [d.id for d in docs]
    per_person = db.session.execute(
        select(DocumentAccess.document_id, DocumentAccess.contact_id,
               func.count(func.distinct(DocumentAccess.page)).filter(DocumentAccess.action == "page"),
               func.count().filter(DocumentAccess.action == "page"),
               func.count().filter(DocumentAccess.action == "download"),
               func.min(DocumentAccess.at), func.max(DocumentAccess.at))
        .where(DocumentAccess.document_id.in_(doc_ids or [-1]))
        .group_by(DocumentAccess.document_id, DocumentAccess.contact_id)
    ).all() if doc_ids else []
    contacts = {}
    if per_person:
        ids = {r[1] for r in per_person}
        for cid, name, uname, uid in db.session.execute(
            select(Contact.id, Contact.name, Unit.name, Unit.id).join(Unit, Unit.id == Contact.unit_id)
            .where(Contact.id.in_(ids))
        ):
            contacts[cid] = (name, uname, uid)
    by_doc: dict[int, list] = {}
    for row in per_person:
        by_doc.setdefault(row[0], []).append(row)
    overview, detail, recall = [], [], []
    for d in docs:
        readers = sorted(by_doc.get(d.id, []), key=lambda r: (contacts[r[1]][2], r[1]))
        state = f"已撤回（{local_naive(d.recalled_at):%m-%d %H:%M}）" if d.recalled_at else "可阅读"
        overview.append([d.number, d.title, state, sum(1 for r in readers if r[3]), sum(r[3] for r in readers),
                         sum(1 for r in readers if r[4]), sum(r[4] for r in readers)])
        for _doc, cid, pages, views, downloads, first, last in readers:
            name, unit, _uid = contacts[cid]
            detail.append([d.number, d.title, name, unit, pages, views, downloads, local_naive(first), local_naive(last)])
            if d.recalled_at is None:
                todo = "材料未撤回"
            elif downloads:
                todo = "已撤回；曾下载，须收回副本"
            else:
                todo = "已撤回，无需处理"
            recall.append([d.number, d.title, name, unit, "是" if views else "否", "是" if downloads else "否", todo])
    chart = None
    if overview:
        chart = Chart("bar", "各材料阅读人数（议题关注度）", [f"{r[0]} {r[1]}"[:24] for r in overview],
                      [("阅读人数", [float(r[3]) for r in overview])])
    return [
        Section("材料阅读情况", ["文件编号", "标题", "状态", "阅读人数", "阅读页次", "下载人数", "下载次数"], overview,
                widths=[7, 22, 12, 7, 7, 7, 7], chart=chart, facts=[("材料", str(len(overview)))],
                empty_text="（本次会议没有上传材料）", note="阅读人数：打开过该材料任一页的人数；阅读页次：翻阅页面的总次数。"),
        Section("阅读明细", ["文件编号", "标题", "姓名", "单位", "阅读页数", "阅读页次", "下载次数", "首次阅读", "最后阅读"],
                detail, widths=[7, 16, 7, 13, 6, 6, 6, 10, 10], empty_text="（尚无人阅读）"),
        Section("清退清单", ["文件编号", "标题", "姓名", "单位", "已阅读", "已下载", "清退状态"], recall,
                widths=[7, 18, 7, 14, 5, 5, 16], empty_text="（尚无人阅读，无需清退）",
                note="撤回后任何参会人员都不能再打开该材料；曾下载的副本须由会务组收回。"),
        _confidentiality(ctx),
    ]


def _confidentiality(ctx: Context) -> Section:
    """保密提醒: who confirmed the current version, when and where; who has not."""
    seen = confidentiality.overview(ctx.meeting)
    terms = seen.terms
    rows = []
    for r in sorted(seen.confirmed + seen.unconfirmed, key=lambda r: (r.unit_name, r.contact.name, r.contact.id)):
        c = r.confirmation
        if c is not None:
            state = "已确认"
        elif r.earlier_version:
            state = f"已确认第 {r.earlier_version} 版，需重新确认"
        else:
            state = "未确认"
        rows.append([r.contact.name, r.unit_name, r.role, state, local_naive(c.confirmed_at) if c else None,
                     {"h5": "微信网页", "mp": "小程序"}.get(c.channel, c.channel) if c else None])
    return Section("保密提醒确认", ["姓名", "单位", "角色", "状态", "确认时间", "方式"], rows,
                   widths=[8, 16, 6, 16, 12, 8], empty_text="（无参会人员）",
                   facts=[("保密提醒", f"第 {terms.version} 版"), ("已确认", f"{len(seen.confirmed)}/{seen.total}")],
                   note=("参会人员须确认当前版本的保密提醒后才能查看材料。" if terms.required
                         else "本次会议未要求查看材料前确认保密提醒。"))

