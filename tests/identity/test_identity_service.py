"""Identity binding: matching, take-over refusal, unionid linking, attempt limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services import links
from app.services.identity.binding import IdentityError, bind, get_or_create_identity, unbind
from models import AuditLog, WechatIdentity


@pytest.fixture
def person(factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    return factory.contact(unit, name="阿卜杜·热合曼", phone="13800138000")


def test_bind_matches_unit_by_code_name_or_alias(db, person):
    for i, unit_text in enumerate(["FGJ", "区发展和改革局", " 发改局 "]):
        identity = get_or_create_identity(oa_openid=f"o{i}")
        if i:
            unbind(person, actor="test", reason="换绑", confirmed=True)
        assert bind(identity, unit_text=unit_text, name="阿卜杜 · 热合曼", phone="+86 138 0013 8000",
                    ip="1.2.3.4") == person


def test_mismatch_does_not_say_which_field(db, person):
    identity = get_or_create_identity(oa_openid="o1")
    messages = set()
    for unit, name, phone in [("财政局", "阿卜杜·热合曼", "13800138000"), ("发改局", "张三", "13800138000"),
                              ("发改局", "阿卜杜·热合曼", "13900139000")]:
        with pytest.raises(IdentityError) as err:
            bind(identity, unit_text=unit, name=name, phone=phone, ip="1.2.3.4")
        assert err.value.code == "identity_mismatch"
        messages.add(err.value.message)
    assert len(messages) == 1
    failed = db.session.scalars(select(AuditLog).where(AuditLog.action == "identity.bind_failed")).all()
    assert len(failed) == 3 and all("13800138000" not in str(f.data) for f in failed)


def test_bad_phone_and_missing_fields(db, person):
    identity = get_or_create_identity(oa_openid="o1")
    with pytest.raises(IdentityError) as err:
        bind(identity, unit_text="发改局", name="", phone="13800138000", ip=None)
    assert err.value.code == "fields_missing"
    with pytest.raises(IdentityError) as err:
        bind(identity, unit_text="发改局", name="张三", phone="12345", ip=None)
    assert err.value.code == "phone_invalid"


def test_no_take_over_and_the_answer_is_the_mismatchs(db, person, redis_client):
    """A stranger typing a real person already bound to another WeChat learns nothing: the answer is
    a wrong identity's, word for word, and counts the same; the attempt is logged naming them."""
    from app.services import ratelimit
    from app.services.identity.binding import FAIL_WINDOW_S

    mine = get_or_create_identity(oa_openid="o-mine")
    bind(mine, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip=None)
    answers = []
    for openid, typed_name in [("o-wrong", "猜一猜"), ("o-thief", "阿卜杜·热合曼")]:
        with pytest.raises(IdentityError) as err:
            bind(get_or_create_identity(oa_openid=openid), unit_text="发改局", name=typed_name,
                 phone="13800138000", ip=None)
        answers.append((err.value.code, err.value.message, err.value.status, err.value.commit_anyway,
                        err.value.attempts_left, ratelimit.count(f"bind:openid:{openid}", FAIL_WINDOW_S)))
    assert answers[0] == answers[1]
    assert answers[1][:3] == ("identity_mismatch", IdentityError("identity_mismatch").message, 400)
    taken = db.session.scalar(select(AuditLog).where(AuditLog.action == "identity.bind_taken"))
    assert taken.actor == "openid:o-thief" and taken.target == f"contact:{person.id}"
    assert taken.data == {"phone_tail": "8000", "unit": "发改局"}
    assert get_or_create_identity(oa_openid="o-thief").contact_id is None
    # Binding again from the right WeChat is a no-op.
    assert bind(mine, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip=None) == person


def test_a_bound_wechat_is_told_so_whatever_was_typed(db, person, factory):
    """Its answer must not tell a real person from a made-up one either."""
    from app.services.contacts.phones import mask_name

    other = factory.contact(person.unit, name="张三", phone="13900139000")
    mine = get_or_create_identity(oa_openid="o-bound")
    bind(mine, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip=None)
    answers = set()
    for name, phone in [("张三", "13900139000"), ("李四", "13700137000")]:
        with pytest.raises(IdentityError) as err:
            bind(mine, unit_text="发改局", name=name, phone=phone, ip=None)
        answers.add((err.value.code, err.value.message, err.value.status))
    shown = IdentityError("identity_bound_elsewhere", name=mask_name(person.name)).message
    assert answers == {("identity_bound_elsewhere", shown, 409)} and "阿" in shown
    assert mine.contact_id == person.id and other.id != person.id


def test_the_attempt_before_the_last_warns_and_not_earlier(db, person, redis_client):
    from app.services.identity.binding import FAILS_PER_OPENID, LAST_ATTEMPT_WARNING

    identity = get_or_create_identity(oa_openid="o-warn")
    lefts = []
    for i in range(FAILS_PER_OPENID):
        with pytest.raises(IdentityError) as err:
            bind(identity, unit_text="发改局", name=f"猜{i}", phone="13800138000", ip="6.6.6.6")
        assert err.value.code == "identity_mismatch"
        assert (LAST_ATTEMPT_WARNING in err.value.message) == (i == FAILS_PER_OPENID - 2), i
        lefts.append(err.value.attempts_left)
    assert lefts == [4, 3, 2, 1, 0]
    assert "锁定（最长 30 分钟）" in LAST_ATTEMPT_WARNING
    with pytest.raises(IdentityError) as err:  # what the warning said: the next one is refused
        bind(identity, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip="6.6.6.6")
    assert err.value.code == "rate_limited"


def test_attempts_are_limited_per_openid_and_per_ip(db, person, redis_client, monkeypatch):
    from app.services.identity import binding

    monkeypatch.setattr(binding, "FAILS_PER_IP", 30)  # the real ceiling is 300 (a venue's NAT)
    identity = get_or_create_identity(oa_openid="o-guess")
    for _ in range(5):
        with pytest.raises(IdentityError):
            bind(identity, unit_text="发改局", name="猜一猜", phone="13800138000", ip="9.9.9.9")
    with pytest.raises(IdentityError) as err:  # even the right answer is refused now
        bind(identity, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip="9.9.9.9")
    assert err.value.code == "rate_limited" and err.value.status == 429

    # Many openids from one address hit the per-IP limit.
    for i in range(30):
        other = get_or_create_identity(oa_openid=f"o-ip-{i}")
        with pytest.raises(IdentityError):
            bind(other, unit_text="发改局", name="猜一猜", phone="13800138000", ip="8.8.8.8")
    fresh = get_or_create_identity(oa_openid="o-fresh")
    with pytest.raises(IdentityError) as err:
        bind(fresh, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip="8.8.8.8")
    assert err.value.code == "rate_limited"


def test_unionid_links_official_account_and_mini_program(db, person):
    oa = get_or_create_identity(oa_openid="oa-1", unionid="u-1")
    bind(oa, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip=None)
    mp = get_or_create_identity(mp_openid="mp-1", unionid="u-1")
    assert mp.id == oa.id and mp.contact_id == person.id
    assert db.session.scalar(select(WechatIdentity).where(WechatIdentity.mp_openid == "mp-1")).oa_openid == "oa-1"


def test_unionid_merges_rows_created_separately(db, person):
    mp = get_or_create_identity(mp_openid="mp-2")
    bind(mp, unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000", ip=None)
    get_or_create_identity(mp_openid="mp-2", unionid="u-2")
    oa = get_or_create_identity(oa_openid="oa-2", unionid="u-2")
    assert oa.contact_id == person.id and oa.mp_openid == "mp-2"


def test_bind_token_hides_openid_and_expires(app):
    token = links.make_bind_token("k", oa_openid="oSECRETopenid", meeting_code="M1", session_position=1)
    assert "oSECRETopenid" not in token
    ticket = links.read_bind_token("k", token)
    assert ticket.oa_openid == "oSECRETopenid" and ticket.meeting_code == "M1"
    with pytest.raises(links.LinkError) as err:
        links.read_bind_token("other-key", token)
    assert err.value.code == "link_invalid"
    import time

    time.sleep(1.1)
    with pytest.raises(links.LinkError) as err:
        links.read_bind_token("k", token, ttl_s=0)
    assert err.value.code == "link_expired"


def test_concurrent_wrong_binds_cannot_pass_the_limit(app, redis_client):
    """The check and the count are one step: of 50 attempts at once against a limit of 5, exactly 5
    are let through (the race once let 14 through)."""
    import threading

    from app.services import ratelimit

    passed = []
    barrier = threading.Barrier(50)

    def attempt():
        with app.app_context():
            barrier.wait()
            if ratelimit.begin([("test:race:openid", 5), ("test:race:ip", 300)], 1800) is not None:
                passed.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(passed) == 5


def test_a_successful_bind_does_not_use_up_an_attempt(db, person, redis_client):
    from app.services import ratelimit
    from app.services.identity.binding import FAIL_WINDOW_S

    def failures():
        return ratelimit.count("bind:ip:7.7.7.7", FAIL_WINDOW_S)

    bind(get_or_create_identity(oa_openid="o-ok"), unit_text="发改局", name="阿卜杜·热合曼", phone="13800138000",
         ip="7.7.7.7")
    assert failures() == 0  # counted while it ran, given back when it bound
    with pytest.raises(IdentityError) as err:  # an empty field tells nothing about the directory
        bind(get_or_create_identity(oa_openid="o-x1"), unit_text="发改局", name="猜", phone="", ip="7.7.7.7")
    assert err.value.code == "fields_missing" and failures() == 0
    with pytest.raises(IdentityError) as err:  # a wrong guess counts
        bind(get_or_create_identity(oa_openid="o-x2"), unit_text="发改局", name="猜", phone="13800138000",
             ip="7.7.7.7")
    assert err.value.code == "identity_mismatch" and failures() == 1
