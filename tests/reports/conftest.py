"""A meeting built through the services with known sign-ins, leave, a guest, a refusal, votes, a
survey and document reads: the reports' tests read their files back and compare with this."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from app.services.meetings import leaves
from app.services.meetings.organizers import add_organizer
from app.services.signin import door
from app.services.signin.rules import SignInError, get_session
from app.services.signin.write import sign_in
from models import Contact, Meeting, OrganizerRight, SignInMethod, Unit, UnitOrganizer
from tests.factories import ANCHOR

TITLE = "2026年第四季度全区经济工作会议"


@dataclass
class Scene:
    meeting: Meeting
    units: list[Unit]
    owner: Contact
    staff: Contact
    viewer: Contact
    people: dict[str, Contact] = field(default_factory=dict)
    guest: Contact | None = None
    stranger: Contact | None = None
    outsider: Contact | None = None
    #: who -> WechatIdentity id, for logging in at the console (owner, staff, viewer, outsider, stranger)
    logins: dict[str, int] = field(default_factory=dict)
    votes: list = field(default_factory=list)
    surveys: list = field(default_factory=list)
    documents: list = field(default_factory=list)


def build_scene(factory, code: str = "RPT1") -> Scene:
    db = factory.db
    fgj = factory.unit("FGJ", "区发展和改革局")
    czj = factory.unit("CZJ", "区财政局")
    office = factory.unit("BGS", "区政府办公室")
    meeting = factory.meeting(code, title=TITLE, starts_at=ANCHOR, hours=3, venue="区行政中心三楼大会议室")
    meeting.unit_id = office.id
    meeting.late_after_minutes = 5
    owner = factory.contact(office, name="主办王", phone="13900000001")
    staff = factory.contact(office, name="会务李", phone="13900000002")
    viewer = factory.contact(office, name="只读赵", phone="13900000003")
    db.session.add(UnitOrganizer(unit_id=office.id, contact_id=owner.id))
    db.session.flush()
    add_organizer(meeting.code, staff.phone, actor="test", right=OrganizerRight.STAFF)
    add_organizer(meeting.code, viewer.phone, actor="test", right=OrganizerRight.VIEWER)
    scene = Scene(meeting, [fgj, czj], owner, staff, viewer)
    spec = [  # key, unit, name, 职务, role, seat
        ("b2", czj, "钱财二", "科长", "代表", "B-02"),
        ("a2", fgj, "李发二", "副局长", "代表", "A-02"),
        ("a1", fgj, "张发一", "局长", "领导", "A-01"),
        ("b1", czj, "赵财一", "局长", "领导", "B-01"),
        ("a3", fgj, "王发三", "=SUM(A1:A9)", "列席", "A-03"),
        ("b3", czj, "孙财三", "科员", "代表", None),
        ("b4", czj, "周财四", "+办公室主任", "工作人员", None),
    ]
    for n, (key, unit, name, title, role, seat) in enumerate(spec):
        c = factory.contact(unit, name=name, phone=f"1370000{n:04d}", title=title)
        factory.invitee(meeting, c, role=role, seat=seat)
        scene.people[key] = c
    scene.stranger = factory.contact(czj, name="未邀请", phone="13700009999")
    other = factory.unit("ZZB", "区委组织部")
    scene.outsider = factory.contact(other, name="他部门陈", phone="13900000009")
    db.session.add(UnitOrganizer(unit_id=other.id, contact_id=scene.outsider.id))
    for who in ("owner", "staff", "viewer", "outsider", "stranger"):
        scene.logins[who] = factory.identity(getattr(scene, who), oa_openid=f"o_rpt_{who}_{code}").id
    factory.identity(scene.people["a1"])
    factory.identity(scene.people["b1"])
    db.session.commit()

    session = get_session(meeting, 1)
    p = scene.people
    start = session.starts_at
    sign_in(meeting, session, p["a1"], method=SignInMethod.SCAN, now=start - timedelta(minutes=10))
    sign_in(meeting, session, p["b2"], method=SignInMethod.MINIPROGRAM, now=start - timedelta(minutes=5))
    sign_in(meeting, session, p["a2"], method=SignInMethod.PROXY, actor=staff, now=start + timedelta(minutes=2),
            check_window=False)
    sign_in(meeting, session, p["b1"], method=SignInMethod.H5, now=start + timedelta(minutes=8))
    with pytest.raises(SignInError):
        sign_in(meeting, session, scene.stranger, method=SignInMethod.SCAN, now=start - timedelta(minutes=1))
    db.session.commit()
    leaves.record_leave(meeting, p["a3"], reason="赴市里参加培训", approver="王主任", actor=f"contact:{staff.id}")
    db.session.commit()
    done = door.add_guest(meeting, session, name="刘来宾", phone="13611112222", unit_text="市统计局",
                          role="列席", actor=staff)
    scene.guest = done.contact
    db.session.commit()
    return scene


SURVEY_QUESTIONS = [
    {"kind": "single", "text": "会议安排是否合理", "options": ["合理", "一般", "不合理"]},
    {"kind": "multiple", "text": "您最关注的议题", "options": ["经济", "民生", "=HYPERLINK(\"x\")"]},
    {"kind": "rating", "text": "总体满意度"},
    {"kind": "text", "text": "意见和建议", "required": False},
]


def add_outcomes(factory, scene: Scene) -> Scene:
    """Votes (an anonymous 表决 that passes, a named one that fails), an anonymous and a named survey,
    and two documents, one read by two people (one downloaded it) and then recalled."""
    from datetime import UTC, datetime

    from app.services.documents import materials
    from app.services.votes.ballots import BallotItem, submit
    from app.services.votes.surveys import create_survey, set_state, submit_response
    from app.services.votes.votes import close_vote, create_vote, open_vote
    from models import DocumentAccess
    from tests.documents.conftest import make_pdf

    db, m, owner, p = factory.db, scene.meeting, scene.owner, scene.people
    budget = create_vote(m, actor=owner, title="关于2027年区级预算草案的表决", kind="motion", anonymous=True)
    agenda = create_vote(m, actor=owner, title="关于调整会议议程的表决", kind="motion", anonymous=False)
    db.session.commit()
    for vote, picks in ((budget, {"a1": "赞成", "a2": "赞成", "b1": "反对", "b2": "赞成"}),
                        (agenda, {"a1": "反对", "b2": "弃权", "b1": "赞成"})):
        open_vote(m, vote, actor=owner)
        db.session.commit()
        by_label = {o.label: o.id for o in vote.options}
        for key, label in picks.items():
            receipt = submit(BallotItem(m.id, None, vote.id, None, p[key].id, (by_label[label],), datetime.now(UTC)))
            assert receipt is not None
        close_vote(m, vote, actor=owner)
        db.session.commit()
    scene.votes = [budget, agenda]

    anon = set_state(m, create_survey(m, actor=owner, title="会议满意度调查", questions=SURVEY_QUESTIONS),
                     "open", actor=owner)
    named = set_state(m, create_survey(m, actor=owner, title="用餐登记", anonymous=False,
                                       questions=[{"kind": "single", "text": "是否用午餐", "options": ["是", "否"]}]),
                      "open", actor=owner)
    db.session.commit()
    q = [x.id for x in anon.questions]
    submit_response(anon, p["a1"], {q[0]: 0, q[1]: [0, 1], q[2]: 5, q[3]: "建议增加茶歇"})
    submit_response(anon, p["b2"], {q[0]: 1, q[1]: [2], q[2]: 4, q[3]: ""})
    submit_response(named, p["b1"], {named.questions[0].id: 0})
    submit_response(named, p["a2"], {named.questions[0].id: 1})
    db.session.commit()
    scene.surveys = [anon, named]

    first = materials.upload(m, owner, data=make_pdf(3), file_name="预算报告.pdf", title="2027年预算报告")
    second = materials.upload(m, owner, data=make_pdf(2), file_name="议程.pdf", title="会议议程")
    db.session.commit()
    reads = [("a1", "page", 1), ("a1", "page", 2), ("a1", "page", 2), ("b1", "page", 1), ("b1", "download", None)]
    for key, action, page in reads:  # as the document viewer writes its reading log (materials._log)
        db.session.add(DocumentAccess(document_id=first.document_id, version_id=first.id, contact_id=p[key].id,
                                      action=action, page=page, at=datetime.now(UTC)))
    db.session.commit()
    materials.recall(m, owner, first.document_id)
    db.session.commit()
    scene.documents = [first.document_id, second.document_id]
    return scene


@pytest.fixture
def full_scene(factory, scene) -> Scene:
    return add_outcomes(factory, scene)


@pytest.fixture
def scene(factory) -> Scene:
    return build_scene(factory)


def login(client, scene: Scene, who: str) -> None:
    from app.web.auth import SESSION_KEY

    with client.session_transaction() as s:
        s.clear()
        s[SESSION_KEY] = scene.logins[who]
