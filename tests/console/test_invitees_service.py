"""The invitee list's service: each way of adding, removing and changing, the list's filters and
counts, the spreadsheet's dry run, and the headcount following every change."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy import event, func, select

from app.services.contacts.reader import DirectoryFileError
from app.services.live import headcount
from app.services.meetings import invitees as svc
from models import AuditLog, Contact, Invitee, Leave, SignIn, Unit, WechatIdentity


def count(db, model, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


def invitee_of(db, meeting, contact) -> Invitee | None:
    return db.session.scalar(select(Invitee).where(Invitee.meeting_id == meeting.id,
                                                   Invitee.contact_id == contact.id))


class Statements:
    """Counts the INSERT/UPDATE/DELETE statements sent while active."""

    def __init__(self, db):
        self.engine = db.session.get_bind()
        self.writes: list[str] = []

    def _on(self, conn, cursor, statement, *args):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.writes.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)


def xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- adding ----------------------------------------------------------------------------------------

def test_a_whole_unit_is_invited_in_one_insert_whatever_its_size(db, factory, console):
    big = factory.unit("BIG", "区统计局")
    db.session.execute(sa.insert(Contact), [{"unit_id": big.id, "name": f"统计{i:04d}", "phone": f"1360000{i:04d}",
                                              "tags": []} for i in range(2000)])
    factory.contact(big, name="已停用", active=False)
    with Statements(db) as st:
        outcome = svc.invite_units(console.meeting, [big.id], actor="test", role="列席", group_name="统计组")
    assert outcome == {"added": 2000, "already": 0}
    inserts = [s for s in st.writes if s.lstrip().upper().startswith("INSERT INTO INVITEES")]
    assert len(inserts) == 1 and len(st.writes) <= 2  # the invitees and one audit row
    rows = db.session.execute(select(Invitee.role, Invitee.group_name, Invitee.status, func.count())
                              .join(Contact, Contact.id == Invitee.contact_id)
                              .where(Invitee.meeting_id == console.meeting.id, Contact.unit_id == big.id)
                              .group_by(Invitee.role, Invitee.group_name, Invitee.status)).all()
    assert rows == [("列席", "统计组", "approved", 2000)]
    assert svc.invite_units(console.meeting, [big.id], actor="test") == {"added": 0, "already": 2000}
    log = db.session.scalars(select(AuditLog).where(AuditLog.action == "meeting.invite",
                                                    AuditLog.target == f"unit:{big.id}")).all()
    assert [entry.data["added"] for entry in log] == [2000, 0]


def test_inviting_again_leaves_existing_invitees_as_they_are(db, factory, console):
    walk_in = factory.contact(console.unit, name="现场报名")
    factory.invitee(console.meeting, walk_in).status = "pending"
    db.session.flush()
    outcome = svc.invite_units(console.meeting, [console.unit.id], actor="test", role="领导")
    assert outcome["already"] == 3  # 参会0, 参会2 and the walk-in
    assert invitee_of(db, console.meeting, walk_in).status == "pending"
    assert invitee_of(db, console.meeting, console.people[0]).role == "代表"
    assert invitee_of(db, console.meeting, console.owner).role == "领导"


def test_unknown_unit_or_role_adds_nobody(db, console):
    before = count(db, Invitee)
    with pytest.raises(svc.InviteeError) as err:
        svc.invite_units(console.meeting, [console.unit.id, 999_999], actor="test")
    assert err.value.code == "unit_not_found"
    with pytest.raises(svc.InviteeError) as err:
        svc.invite_units(console.meeting, [console.unit.id], actor="test", role="嘉宾")
    assert err.value.code == "role_invalid" and "领导" in err.value.message
    assert count(db, Invitee) == before


def test_directory_people_added_by_id_only_when_active(db, factory, console):
    gone = factory.contact(console.unit, name="已离职", active=False)
    outcome = svc.invite_contacts(console.meeting, [console.stranger.id, gone.id, console.people[0].id],
                                  actor="contact:1", seat="A-01")
    assert outcome == {"added": 1, "already": 1, "inactive": 1}
    assert invitee_of(db, console.meeting, console.stranger).seat == "A-01"
    assert invitee_of(db, console.meeting, gone) is None
    with pytest.raises(svc.InviteeError) as err:
        svc.invite_contacts(console.meeting, [gone.id], actor="test")
    assert err.value.code == "contact_not_found"


def test_directory_search_by_name_unit_and_phone_masks_phones(db, factory, console):
    factory.contact(console.unit, name="张伟", phone="13912345678")
    factory.contact(console.other_unit, name="张伟东", phone="13987654321")
    factory.contact(console.unit, name="张伟", phone="13700001111", active=False)
    found = svc.search_directory(console.meeting, "张伟")
    assert [(p["name"], p["phone"]) for p in found] == [("张伟", "139****5678"), ("张伟东", "139****4321")]
    assert all("12345678" not in p["phone"] for p in found)
    assert [p["name"] for p in svc.search_directory(console.meeting, "5678")] == ["张伟"]
    assert svc.search_directory(console.meeting, "139") == []  # too few digits to search phones
    by_unit = svc.search_directory(console.meeting, "组织部")
    assert {p["unit"] for p in by_unit} == {"区委组织部"}
    invited = {p["name"]: p["invited"] for p in by_unit}
    assert invited["参会1"] is True and invited["他部门陈"] is False


def test_directory_search_returns_at_most_20(db, factory, console):
    for i in range(30):
        factory.contact(console.unit, name=f"王{i:02d}")
    assert len(svc.search_directory(console.meeting, "王")) == 20


# -- a pasted list ---------------------------------------------------------------------------------

@pytest.fixture
def namesakes(factory, console):
    a = factory.contact(console.unit, name="李娜", phone="13911110001")
    b = factory.contact(console.other_unit, name="李娜", phone="13911110002")
    c = factory.contact(console.unit, name="赵磊", phone="13911110003")
    return a, b, c


def test_paste_resolves_phones_and_unique_names_and_reports_the_rest(db, console, namesakes):
    a, b, c = namesakes
    text = "\n".join(["139 1111 0003", "李娜", "区委组织部 李娜", "查无此人", "1391111", "赵磊 13911110001", ""])
    result = svc.resolve_paste(console.meeting, text)
    states = [(x.line, x.state) for x in result.lines]
    assert states == [(1, "ok"), (2, "ambiguous"), (3, "ok"), (4, "not_found"), (5, "invalid"), (6, "mismatch")]
    assert result.lines[0].contact["id"] == c.id
    assert {p["id"] for p in result.lines[1].candidates} == {a.id, b.id}
    assert result.lines[1].candidates[0]["phone"].count("*") == 4
    assert result.lines[2].contact["id"] == b.id
    assert "李娜" in result.lines[5].message and "赵磊" in result.lines[5].message


def test_paste_adds_nothing_until_clean_unless_told_to_add_the_resolvable(db, console, namesakes):
    a, b, c = namesakes
    before = count(db, Invitee)
    with pytest.raises(svc.InviteeError) as err:
        svc.invite_pasted(console.meeting, "13911110003\n李娜", actor="test")
    assert err.value.code == "paste_unresolved" and "1 行" in err.value.message
    assert count(db, Invitee) == before
    outcome = svc.invite_pasted(console.meeting, "13911110003\n李娜", actor="test", partial=True, role="列席")
    assert outcome == {"added": 1, "already": 0, "inactive": 0, "skipped": 1}
    assert invitee_of(db, console.meeting, c).role == "列席"
    assert invitee_of(db, console.meeting, a) is None and invitee_of(db, console.meeting, b) is None
    assert svc.invite_pasted(console.meeting, "区委办公室 李娜", actor="test")["added"] == 1
    assert invitee_of(db, console.meeting, a) is not None


def test_paste_refuses_an_empty_list(console, db):
    with pytest.raises(svc.InviteeError) as err:
        svc.resolve_paste(console.meeting, " \n\n ")
    assert err.value.code == "paste_empty"


# -- a spreadsheet ---------------------------------------------------------------------------------

@pytest.fixture
def sheet(factory, console):
    new = factory.contact(console.unit, name="新来的", phone="13922220001")
    factory.contact(console.unit, name="停用者", phone="13922220002", active=False)
    rows = [
        ["区委常委扩大会议参会名单"],
        ["序号", "单位", "姓名", "手机", "身份", "分组", "座位", "备注"],
        [1, "区委办公室", "新来的", "13922220001", "领导", "第一组", "A-01", "主席台"],
        [2, "区委办公室", console.people[0].name, console.people[0].phone, "", "第二组", "", ""],
        [3, "区委组织部", console.people[1].name, console.people[1].phone, "代表", "", "", ""],
        [4, "区委办公室", "不存在", "13922229999", "", "", "", ""],
        [5, "区委办公室", "改了名", console.stranger.phone, "", "", "", ""],
        [6, "区委办公室", "停用者", "13922220002", "", "", "", ""],
        [7, "区委办公室", console.staff.name, console.staff.phone, "嘉宾", "", "", ""],
        [8, "区委办公室", "王五", "12345", "", "", "", ""],
        [9, "区委办公室", console.viewer.name, console.viewer.phone, "工作人员", "x" * 70, "", ""],
    ]
    return new, xlsx(rows)


def test_spreadsheet_dry_run_reports_every_row_and_writes_nothing(db, console, sheet):
    new, data = sheet
    before = (count(db, Invitee), count(db, AuditLog))
    plan = svc.check_import(console.meeting, data, "名单.xlsx")
    assert (count(db, Invitee), count(db, AuditLog)) == before
    assert [(a["row"], a["name"], a["role"], a["group_name"], a["seat"], a["note"]) for a in plan.added] == [
        (3, "新来的", "领导", "第一组", "A-01", "主席台")]
    assert [(u["row"], u["changes"]) for u in plan.updated] == [(4, {"group_name": ["", "第二组"]})]
    assert plan.unchanged == 1  # row 5: same role, blank cells keep what is there
    assert {r["row"]: r["code"] for r in plan.rejected} == {
        6: "contact_not_found", 7: "name_mismatch", 8: "contact_inactive", 9: "role_invalid", 10: "phone_invalid",
        11: "too_long"}
    assert all(r["message"] and not r["message"].isascii() for r in plan.rejected)
    assert "改了名" in next(r["message"] for r in plan.rejected if r["row"] == 7)
    assert set(plan.columns) >= {"单位", "姓名", "手机", "身份", "分组", "座位", "备注"}


def test_spreadsheet_apply_after_confirmation_in_two_statements(db, console, sheet):
    new, data = sheet
    plan = svc.check_import(console.meeting, data, "名单.xlsx")
    token = svc.hold_import(console.meeting, plan)
    with Statements(db) as st:
        applied = svc.apply_import(console.meeting, token, actor="contact:9")
    invitee_writes = [s for s in st.writes if "invitees" in s.split("(", 1)[0]]
    assert len(invitee_writes) == 2
    assert len(applied.added) == 1 and len(applied.updated) == 1
    row = invitee_of(db, console.meeting, new)
    assert (row.role, row.group_name, row.seat, row.note, row.status) == ("领导", "第一组", "A-01", "主席台", "approved")
    kept = invitee_of(db, console.meeting, console.people[0])
    assert (kept.group_name, kept.role) == ("第二组", "代表")
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "invitees.import"))
    assert log.data["added"] == 1 and log.data["rejected"] == 6 and log.actor == "contact:9"
    db.session.commit()
    with pytest.raises(svc.InviteeError) as err:  # the held check is used up
        svc.apply_import(console.meeting, token, actor="test")
    assert err.value.code == "import_expired"


def test_apply_compares_again_with_the_list_as_it_is_now(db, console, sheet):
    new, data = sheet
    token = svc.hold_import(console.meeting, svc.check_import(console.meeting, data, "名单.xlsx"))
    svc.invite_contacts(console.meeting, [new.id], actor="test")  # someone added them meanwhile
    applied = svc.apply_import(console.meeting, token, actor="test")
    assert applied.added == [] and [u["contact_id"] for u in applied.updated][0] == new.id
    assert invitee_of(db, console.meeting, new).seat == "A-01"


def test_a_held_check_belongs_to_its_meeting(db, factory, console, sheet):
    _new, data = sheet
    token = svc.hold_import(console.meeting, svc.check_import(console.meeting, data, "名单.xlsx"))
    other = factory.meeting("CON9")
    with pytest.raises(svc.InviteeError) as err:
        svc.apply_import(other, token, actor="test")
    assert err.value.code == "import_expired"
    with pytest.raises(svc.InviteeError):
        svc.held_import(console.meeting, "../../etc")


@pytest.mark.parametrize(("name", "data", "code"), [
    ("名单.xlsx", b"%PDF-1.7 not a sheet", "not_a_spreadsheet"),
    ("名单.xlsx", b"PK\x03\x04broken", "corrupt_file"),
    ("名单.csv", "备注\n随便写写\n".encode(), "no_header"),
    ("名单.csv", b"", "empty_file"),
])
def test_a_bad_file_is_refused_whole_and_writes_nothing(db, console, name, data, code):
    before = (count(db, Invitee), count(db, AuditLog))
    with pytest.raises(DirectoryFileError) as err:
        svc.import_file(console.meeting, data, name, actor="test", dry_run=False)
    assert err.value.code == code
    assert (count(db, Invitee), count(db, AuditLog)) == before


def test_csv_in_gbk_reads_the_same(db, factory, console):
    person = factory.contact(console.unit, name="国标码", phone="13933330001")
    data = f"单位,姓名,手机号码,身份\n区委办公室,{person.name},{person.phone},媒体\n".encode("gbk")
    plan = svc.import_file(console.meeting, data, "名单.csv", actor="test", dry_run=False)
    assert [a["row"] for a in plan.added] == [2]
    assert invitee_of(db, console.meeting, person).role == "媒体"


def test_a_file_with_no_usable_row_imports_nothing(db, console):
    data = "姓名,手机\n谁,13900000000\n".encode()
    with pytest.raises(svc.InviteeError) as err:
        svc.import_file(console.meeting, data, "名单.csv", actor="test", dry_run=False)
    assert err.value.code == "nothing_to_import"


# -- removing and changing -------------------------------------------------------------------------

def test_removing_keeps_the_sign_in_record(db, console):
    session = console.meeting.sessions[0]
    person = console.people[0]
    db.session.add(SignIn(meeting_id=console.meeting.id, session_id=session.id, contact_id=person.id,
                          method="scan", signed_at=datetime.now(UTC)))
    db.session.flush()
    row = invitee_of(db, console.meeting, person)
    assert svc.remove_invitees(console.meeting, [row.id, "junk"], actor="contact:7") == 1
    assert invitee_of(db, console.meeting, person) is None
    assert count(db, SignIn, contact_id=person.id) == 1
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "meeting.uninvite"))
    assert log.target == f"contact:{person.id}" and log.actor == "contact:7"
    with pytest.raises(svc.InviteeError) as err:
        svc.remove_invitees(console.meeting, [], actor="test")
    assert err.value.code == "nothing_selected"


def test_remove_only_touches_this_meetings_rows(db, factory, console):
    other = factory.meeting("CON8")
    foreign = factory.invitee(other, console.people[0])
    assert svc.remove_invitees(console.meeting, [foreign.id], actor="test") == 0
    assert db.session.get(Invitee, foreign.id) is not None


def test_remove_by_phone_is_all_or_nothing(db, console):
    with pytest.raises(svc.InviteeError) as err:
        svc.remove_by_phone(console.meeting, [console.people[0].phone, console.stranger.phone], actor="test")
    assert err.value.code == "not_invited" and console.stranger.phone in err.value.message
    assert invitee_of(db, console.meeting, console.people[0]) is not None
    assert svc.remove_by_phone(console.meeting, [console.people[0].phone], actor="test") == 1


def test_update_a_selection_and_one_person(db, console):
    ids = [invitee_of(db, console.meeting, p).id for p in console.people[:3]]
    assert svc.update_invitees(console.meeting, ids, actor="test", role="列席", group_name="第三组") == 3
    rows = [db.session.get(Invitee, i) for i in ids]
    assert {(r.role, r.group_name) for r in rows} == {("列席", "第三组")}
    svc.update_invitees(console.meeting, ids[:1], actor="test", seat=" B-12 ", note="")
    db.session.refresh(rows[0])
    assert (rows[0].seat, rows[0].note, rows[0].group_name) == ("B-12", None, "第三组")
    svc.update_invitees(console.meeting, ids[:1], actor="test", group_name="")
    db.session.refresh(rows[0])
    assert rows[0].group_name is None
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "invitee.update")).all()
    assert len(entries) == 3 and entries[0].data["role"] == "列席"
    for bad, code in ((dict(role="嘉宾"), "role_invalid"), (dict(seat="x" * 40), "too_long"), ({}, "nothing_to_change")):
        with pytest.raises(svc.InviteeError) as err:
            svc.update_invitees(console.meeting, ids, actor="test", **bad)
        assert err.value.code == code


# -- reading the list ------------------------------------------------------------------------------

@pytest.fixture
def crowd(db, factory, console):
    """120 more invitees in 3 units: 30 signed in, 10 on leave, 5 pending walk-ins, 60 bound."""
    meeting, session = console.meeting, console.meeting.sessions[0]
    units = [factory.unit(f"CR{i}", f"人群单位{i}") for i in range(3)]
    ids = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
        {"unit_id": units[i % 3].id, "name": f"群众{i:03d}", "phone": f"1370000{i:04d}", "tags": []}
        for i in range(120)]).scalars().all()
    db.session.execute(sa.insert(Invitee), [
        {"meeting_id": meeting.id, "contact_id": c, "role": "代表", "status": "pending" if i >= 115 else "approved",
         "group_name": "甲组" if i % 2 else None} for i, c in enumerate(ids)])
    now = datetime.now(UTC)
    db.session.execute(sa.insert(SignIn), [{"meeting_id": meeting.id, "session_id": session.id, "contact_id": c,
                                           "method": "scan", "signed_at": now} for c in ids[:30]])
    db.session.execute(sa.insert(Leave), [{"meeting_id": meeting.id, "contact_id": c, "reason": "出差",
                                          "approver": "王主任", "recorded_by": "test"} for c in ids[30:40]])
    db.session.execute(sa.insert(WechatIdentity), [{"oa_openid": f"o_crowd_{c}", "contact_id": c, "bound_at": now}
                                                   for c in ids[:60]])
    return units, ids


def test_counts_per_status_and_pages_of_50(db, console, crowd):
    page = svc.list_invitees(console.meeting)
    # The console fixture's 4 invitees are approved, not signed in and not bound.
    assert page.counts == {"all": 124, "signed": 30, "unsigned": 124 - 30 - 10 - 5, "unbound": 60 + 4,
                           "leave": 10, "pending": 5, "rejected": 0}
    assert (page.total, page.pages, len(page.rows)) == (124, 3, 50)
    last = svc.list_invitees(console.meeting, page=3)
    assert len(last.rows) == 24 and last.page == 3
    assert svc.list_invitees(console.meeting, page=99).page == 3
    seen = {r.id for p in (1, 2, 3) for r in svc.list_invitees(console.meeting, page=p).rows}
    assert len(seen) == 124
    signed = svc.list_invitees(console.meeting, svc.Filters(status="signed"))
    assert signed.total == 30 and all(r.signed_at and r.bound for r in signed.rows)
    leave = svc.list_invitees(console.meeting, svc.Filters(status="leave"))
    assert leave.total == 10 and {r.leave for r in leave.rows} == {"出差"}
    unbound = svc.list_invitees(console.meeting, svc.Filters(status="unbound"))
    assert unbound.total == 64 and not any(r.bound for r in unbound.rows)


def test_filters_combine_and_counts_follow_them(db, console, crowd):
    units, _ids = crowd
    by_unit = svc.list_invitees(console.meeting, svc.Filters(unit_id=units[0].id))
    assert by_unit.counts["all"] == 40 and by_unit.counts["signed"] == 10
    assert {r.unit for r in by_unit.rows} == {"人群单位0"}
    grouped = svc.list_invitees(console.meeting, svc.Filters(group="甲组", status="signed"))
    assert grouped.total == 15 and grouped.counts["all"] == 60
    ungrouped = svc.list_invitees(console.meeting, svc.Filters(group=svc.NO_GROUP))
    assert ungrouped.counts["all"] == 64
    assert svc.list_invitees(console.meeting, svc.Filters(q="群众01")).counts["all"] == 10  # 010..019
    assert svc.list_invitees(console.meeting, svc.Filters(q="13700000005")).total == 1
    assert svc.list_invitees(console.meeting, svc.Filters(q="人群单位2")).total == 40
    assert svc.list_invitees(console.meeting, svc.Filters(q="%")).total == 0  # no wildcard injection
    assert svc.list_invitees(console.meeting, svc.Filters(role="领导")).total == 0
    with pytest.raises(svc.InviteeError):
        svc.Filters(status="everyone")


def test_filter_options_list_units_and_groups(db, console, crowd):
    options = svc.filter_options(console.meeting)
    assert {u["name"]: u["count"] for u in options["units"]} == {
        "人群单位0": 40, "人群单位1": 40, "人群单位2": 40, "区委办公室": 2, "区委组织部": 2}
    assert options["groups"] == [{"name": "甲组", "count": 60}] and options["ungrouped"] == 64


# -- the live headcount follows ----------------------------------------------------------------------

def test_every_change_refreshes_the_cached_roster_after_commit(db, factory, console):
    meeting = console.meeting
    session = meeting.sessions[0]
    assert headcount.numbers(meeting, session).expected == 4  # now cached for ROSTER_TTL_S
    newcomer = factory.contact(console.unit, name="后来者")
    svc.invite_contacts(meeting, [newcomer.id], actor="test")
    assert headcount.numbers(meeting, session).expected == 4  # not before the commit
    db.session.commit()
    assert headcount.numbers(meeting, session).expected == 5
    svc.invite_units(meeting, [console.other_unit.id], actor="test")  # + 他部门陈
    db.session.commit()
    assert headcount.numbers(meeting, session).expected == 6
    row = invitee_of(db, meeting, newcomer)
    svc.update_invitees(meeting, [row.id], actor="test", group_name="新组")
    db.session.commit()
    assert [g.name for g in headcount.numbers(meeting, session).groups] == ["新组"]
    svc.remove_invitees(meeting, [row.id], actor="test")
    db.session.commit()
    assert headcount.numbers(meeting, session).expected == 5


def test_a_rolled_back_change_leaves_the_cache_alone(db, factory, console, redis_client):
    meeting = console.meeting
    session = meeting.sessions[0]
    headcount.numbers(meeting, session)
    assert redis_client.exists(headcount.roster_key(session.id))
    svc.invite_contacts(meeting, [console.stranger.id], actor="test")
    db.session.rollback()
    assert redis_client.exists(headcount.roster_key(session.id))


def test_mask_phone():
    assert svc.mask_phone("13800138000") == "138****8000"
    assert svc.mask_phone("010-12345678") == "010-****5678"
    assert svc.mask_phone("") == "****"


def test_units_listed_for_adding_count_active_people_and_invited(db, factory, console):
    units = {u["name"]: u for u in svc.directory_units(console.meeting)}
    assert units["区委办公室"]["people"] == 6 and units["区委办公室"]["invited"] == 2
    assert all(isinstance(u["id"], int) for u in units.values())
    assert db.session.scalar(select(func.count()).select_from(Unit)) >= 2
