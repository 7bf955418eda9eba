"""The summary, arrivals, exceptions with actors, refused sign-ins, votes (通过/未通过, turnout, never
who chose what in an anonymous vote), surveys and documents: read back from xlsx and PDF and equal to
the database."""

from __future__ import annotations

from datetime import UTC, datetime

from PIL import Image, ImageStat
from sqlalchemy import select

from app.services.reports.export import build, export
from app.services.timeutil import local
from models import AuditLog, SignIn, SignInDenial
from tests.reports.helpers import assert_pdf_rows, pdf_pages, pdf_text, render_png, xlsx_sheets

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _both(scene, kind):
    x = export(scene.meeting, kind, "xlsx", actor="test", now=NOW)
    p = export(scene.meeting, kind, "pdf", actor="test", now=NOW)
    return xlsx_sheets(x.data), p.data


def _naive(at):
    return local(at).replace(tzinfo=None, microsecond=0)


def test_summary_is_one_page_with_numbers_chart_and_outcomes(db, full_scene):
    sheets, pdf = _both(full_scene, "summary")
    numbers = dict((r[0], r[1]) for r in sheets["签到概况"]["rows"])
    assert numbers == {"应到": 7, "实到": 5, "签到率": "71.4%", "请假": 1, "缺席": 2, "迟到": 2, "代签": 1,
                       "被拒绝签到": 1, "全员到会单位": "2/3"}
    assert sheets["表决结果"]["rows"] == [[1, "关于2027年区级预算草案的表决", 5, 4, 80.0, "通过"],
                                      [2, "关于调整会议议程的表决", 5, 3, 60.0, "未通过"]]
    assert sheets["签到率较低的单位"]["rows"] == [["区财政局", 4, 2, 0, 2, 1, 50.0]]
    assert sheets["到会进度"]["rows"][-1][3] == 5  # the curve ends on 实到
    pages = pdf_pages(pdf)
    assert len(pages) == 1, "the leader's summary is one page"
    text = pages[0]
    for words in ("会议签到情况汇总", "71.4%", "到会进度", "累计签到", "关于2027年区级预算草案的表决 5 4 80.0 通过",
                  "关于调整会议议程的表决 5 3 60.0 未通过", "第 1 页 共 1 页"):
        assert words in text, words
    image = Image.open(render_png(pdf, "reports-summary.png"))
    assert image.height > image.width  # portrait, for the leader's desk
    assert ImageStat.Stat(image.convert("L")).extrema[0][0] < 60


def test_arrivals_table_and_chart_agree_with_the_sign_ins(db, full_scene):
    report = build(full_scene.meeting, "arrivals")
    section = report.sections[0]
    times = sorted(_naive(t) for t in db.session.scalars(select(SignIn.signed_at).where(SignIn.revoked_at.is_(None))))
    assert sum(r[2] for r in section.rows) == len(times) == 5
    for start, end, n, cumulative, pct in section.rows:
        assert n == sum(1 for t in times if start <= t < end)
        assert cumulative == sum(1 for t in times if t < end) and pct == round(cumulative * 100 / 7, 1)
    assert section.chart.series[0][1] == [float(r[3]) for r in section.rows]
    assert ("开始前到达", "2 人（28.6%）") in section.facts
    sheets, pdf = _both(full_scene, "arrivals")
    assert sheets["签到时间分布"]["rows"] == section.rows
    assert "签到时间分布" in pdf_text(pdf) and "累计签到人数（按时段）" in pdf_text(pdf)


def test_exceptions_name_who_did_what(db, full_scene):
    sheets, pdf = _both(full_scene, "exceptions")
    rows = sheets["代签及现场处理记录"]["rows"]
    assert [(r[2], r[3], r[4]) for r in rows] == [
        ("代签", "李发二（区发展和改革局）", "会务李（区政府办公室）"),
        ("登记请假", "王发三（区发展和改革局）", "会务李（区政府办公室）"),
        ("添加临时人员", "刘来宾（临时人员）", "会务李（区政府办公室）"),
        ("现场签到", "刘来宾（临时人员）", "会务李（区政府办公室）"),
    ]
    audit = db.session.execute(select(AuditLog.at).where(AuditLog.action.in_(
        ["signin.proxy", "leave.record", "door.guest", "signin.manual"])).order_by(AuditLog.at, AuditLog.id)).all()
    assert [r[1] for r in rows] == [_naive(a[0]) for a in audit]
    assert rows[1][5] == "原因：赴市里参加培训；批准人：王主任"
    assert rows[2][5] == "自报单位：市统计局；身份：列席"
    text = pdf_text(pdf).replace("\r\n", "").replace("\n", "")  # long cells wrap within their column
    for r in rows:
        assert r[3] in text and r[4] in text


def test_refused_sign_ins_with_reasons(db, full_scene):
    sheets, pdf = _both(full_scene, "refused")
    at = db.session.scalar(select(SignInDenial.at))
    want = [[1, _naive(at), "未邀请", "区财政局", "13700009999", 1, "公众号扫码", "不在参会名单"]]
    assert sheets["被拒绝的签到"]["rows"] == want
    assert_pdf_rows(pdf, want)


def test_votes_outcome_turnout_and_tallies(db, full_scene):
    sheets, pdf = _both(full_scene, "votes")
    assert sheets["表决及投票结果"]["rows"] == [
        [1, "关于2027年区级预算草案的表决", "表决", "无记名", "已结束", 5, 4, 80.0, "赞成 3，反对 1，弃权 0", "通过"],
        [2, "关于调整会议议程的表决", "表决", "记名", "已结束", 5, 3, 60.0, "赞成 1，反对 1，弃权 1", "未通过"],
    ]
    assert sheets["各选项得票"]["rows"][:3] == [[1, "关于2027年区级预算草案的表决", "赞成", 3, 75.0],
                                            [1, "关于2027年区级预算草案的表决", "反对", 1, 25.0],
                                            [1, "关于2027年区级预算草案的表决", "弃权", 0, 0.0]]
    text = pdf_text(pdf)
    assert "通过" in text and "未通过" in text and "赞成票超过应投票人数的一半为通过" in text
    # No name appears anywhere in the votes report: it is numbers only.
    for person in full_scene.people.values():
        assert person.name not in text


def test_named_ballots_list_only_the_named_vote(db, full_scene):
    sheets, pdf = _both(full_scene, "vote_ballots")
    rows = sheets["记名投票明细"]["rows"]
    assert {r[1] for r in rows} == {"关于调整会议议程的表决"}  # never the anonymous 预算 vote
    assert sorted((r[2], r[4]) for r in rows) == [("张发一", "反对"), ("赵财一", "赞成"), ("钱财二", "弃权")]
    text = pdf_text(pdf)
    assert "预算草案" not in text and "李发二" not in text  # 李发二 voted only in the anonymous vote


def test_surveys_summary_and_raw_answers(db, full_scene):
    sheets, pdf = _both(full_scene, "surveys")
    summary = sheets["问卷汇总"]["rows"]
    assert [1, "会议满意度调查", 3, "总体满意度", "平均分", 4.5, None] in summary
    assert [1, "会议满意度调查", 2, "您最关注的议题", '=HYPERLINK("x")', 1, 50.0] in summary
    assert [2, "用餐登记", 1, "是否用午餐", "否", 1, 50.0] in summary
    anonymous = sheets["问卷1原始答卷"]
    assert anonymous["headers"][:2] == ["序号", "1. 会议安排是否合理"]  # no name columns at all
    assert sorted(tuple(r[1:]) for r in anonymous["rows"]) == [("一般", '=HYPERLINK("x")', 4, None),
                                                              ("合理", "经济、民生", 5, "建议增加茶歇")]
    named = sheets["问卷2原始答卷"]
    assert [(r[1], r[4]) for r in named["rows"]] == [("李发二", "否"), ("赵财一", "是")]
    cell = next(c for row in anonymous["ws"].iter_rows() for c in row if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s" and cell.quotePrefix
    assert "建议增加茶歇" in pdf_text(pdf)


def test_documents_reading_and_recall_checklist(db, full_scene):
    sheets, pdf = _both(full_scene, "documents")
    overview = sheets["材料阅读情况"]["rows"]
    assert overview[0][:2] == ["会-01", "2027年预算报告"] and overview[0][2].startswith("已撤回")
    assert overview[0][3:] == [2, 4, 1, 1] and overview[1] == ["会-02", "会议议程", "可阅读", 0, 0, 0, 0]
    detail = sheets["阅读明细"]["rows"]
    assert [(r[2], r[4], r[5], r[6]) for r in detail] == [("张发一", 2, 3, 0), ("赵财一", 1, 1, 1)]
    recall = sheets["清退清单"]["rows"]
    assert [r[2:] for r in recall] == [["张发一", "区发展和改革局", "是", "否", "已撤回，无需处理"],
                                       ["赵财一", "区财政局", "是", "是", "已撤回；曾下载，须收回副本"]]
    assert_pdf_rows(pdf, recall)
