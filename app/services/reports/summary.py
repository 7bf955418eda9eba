"""The meeting summary for the leader's desk: one page with the numbers, how the room filled (the
chart of the arrivals report) and the vote outcomes, from the same builders as the full reports."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.services.reports.activity import arrival_series
from app.services.reports.base import Chart, Context, Section
from app.services.reports.outcomes import VOTE_HEADERS, vote_rows
from app.services.reports.people import listed_people, rate, unit_rows
from models import SignInDenial


def summary(ctx: Context) -> list[Section]:
    session_ids = [s.id for s in ctx.sessions]
    data = listed_people(ctx.meeting, session_ids)
    expected = data.expected()
    arrived = sum(1 for p in expected if data.attended(p, session_ids))
    late = sum(1 for p in expected if data.attended(p, session_ids) and data.late(p, session_ids))
    on_leave = sum(1 for p in data.people if p.on_leave)
    proxied = sum(1 for marks in data.marks.values() for sid, m in marks.items()
                  if sid in session_ids and m.method == "proxy")
    where = [SignInDenial.meeting_id == ctx.meeting.id]
    if ctx.session is not None:
        where.append(SignInDenial.session_id == ctx.session.id)
    refused = int(db.session.scalar(select(func.count()).select_from(SignInDenial).where(*where)) or 0)
    units = unit_rows(data, session_ids)
    full = sum(1 for u in units if u[1] and u[2] == u[1])
    facts = [("应到", str(len(expected))), ("实到", str(arrived)), ("签到率", f"{rate(arrived, len(expected))}%"),
             ("请假", str(on_leave)), ("缺席", str(len(expected) - arrived)), ("迟到", str(late)),
             ("代签", str(proxied)), ("被拒绝签到", str(refused)), ("全员到会单位", f"{full}/{len(units)}")]
    numbers = Section("签到概况", ["项目", "数字"],
                      [[k, int(v) if v.isdigit() else v] for k, v in facts], widths=[10, 8],
                      note="应到不含请假人员；实到为应到人员中已签到者；缺席 = 应到 − 实到。", pdf_table=False,
                      figures=True)
    rows, total, _early = arrival_series(ctx, data)
    chart = None
    if rows:
        chart = Chart("line", "累计签到人数（按时段）", [r[1].strftime("%H:%M") for r in rows],
                      [("累计签到", [float(r[3]) for r in rows]), ("应到", [float(total)] * len(rows))],
                      max_value=total)
    filling = Section("到会进度", ["时段开始", "时段结束", "本时段签到", "累计签到", "累计签到率(%)"], rows,
                      widths=[10, 10, 8, 8, 9], chart=chart, empty_text="（尚无签到）", pdf_table=False)
    _tallied, votes = vote_rows(ctx)
    # The leader's page: the outcome and turnout of each vote (the full tallies are the votes report).
    keep = [VOTE_HEADERS.index(h) for h in ("序号", "议题", "应投", "实投", "投票率(%)", "结果")]
    outcome = Section("表决结果", [VOTE_HEADERS[i] for i in keep], [[r[i] for i in keep] for r in votes],
                      widths=[4, 26, 5, 5, 7, 7], empty_text="（本次会议没有投票）")
    least = sorted((u for u in units if u[1] and u[2] < u[1]), key=lambda u: (u[6], u[0]))[:5]
    lagging = Section("签到率较低的单位", ["单位", "应到", "实到", "请假", "缺席", "迟到", "签到率(%)"], least,
                      widths=[20, 6, 6, 6, 6, 6, 8], empty_text="（各单位均已全员到会）")
    numbers.facts = facts
    return [numbers, filling, outcome, lagging]


def chart_data(ctx: Context) -> dict:
    """The numbers behind the console's charts (arrivals, per-unit rates, votes), from the same
    builders as the reports, so a chart and its report's table never disagree."""
    session_ids = [s.id for s in ctx.sessions]
    data = listed_people(ctx.meeting, session_ids)
    rows, total, early = arrival_series(ctx, data)
    units = unit_rows(data, session_ids)
    tallied, _votes = vote_rows(ctx)
    return {
        "arrivals": {"labels": [r[1].strftime("%H:%M") for r in rows], "cumulative": [r[3] for r in rows],
                     "expected": total, "early": early},
        "units": {"labels": [u[0] for u in units], "rates": [u[6] for u in units],
                  "expected": [u[1] for u in units], "arrived": [u[2] for u in units]},
        "votes": [{"title": v.title, "labels": [o.label for o in res.options], "counts": [o.count for o in res.options],
                   "ballots": res.ballots, "eligible": res.eligible} for v, res in tallied],
    }
