"""WeChat identities and binding them to the directory.

Binding matches unit + name + phone against the directory. The answer to a mismatch never says
which of the three was wrong, nor whether what was typed is a real person already bound to another
WeChat (that answer is the mismatch's, word for word; the organizers' log records it), and attempts
are limited per openid and per IP, so nobody can use the form to discover who is in the directory.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit, ratelimit
from app.services.contacts.phones import mask_name, normalize_name, normalize_phone
from app.services.contacts.units import unit_matches
from app.services.errors import DomainError
from models import Contact, WechatIdentity

log = logging.getLogger(__name__)

#: Failed attempts allowed per openid and per IP within the window. Per IP is generous because a
#: whole venue may share one NAT address.
FAILS_PER_OPENID = 5  # one WeChat account cannot mine the directory
#: Per address only as a ceiling: a venue's Wi-Fi or a carrier's NAT puts hundreds of first-timers
#: behind one address within minutes, some with typos, and none may be locked out by the others'.
FAILS_PER_IP = 300
FAIL_WINDOW_S = 30 * 60
#: Added to a counted failure's answer when one attempt is left. The counters are fixed windows of
#: ``FAIL_WINDOW_S``: a lock lasts until the window ends, so at most that long.
LAST_ATTEMPT_WARNING = f"还可尝试 1 次，再次失败将暂时锁定（最长 {FAIL_WINDOW_S // 60} 分钟）"


class IdentityError(DomainError):
    messages = {
        "fields_missing": "请完整填写单位、姓名和手机号",
        "phone_invalid": "手机号格式不正确，请填写 11 位手机号",
        # Also the answer when the person typed is already bound to another WeChat: saying so would
        # confirm to a stranger that the identity is real. Someone who changed WeChat goes to the
        # desk, where staff check who they are and unbind the old WeChat (console 现场处理 → 解绑微信;
        # the log shows the refused attempt); the next scan binds this one as a first scan does.
        "identity_mismatch": "单位、姓名或手机号与通讯录不一致，请核对后重试；"
                             "如仍有问题（例如换了微信），请到签到处联系会务组",
        "identity_bound_elsewhere": "您的微信已绑定 {name}。如需更换，请到签到处请会务组核对身份、"
                                    "解除该绑定后，重新扫码绑定",
        "rate_limited": "尝试次数过多，请 30 分钟后再试，或联系会务组",
        "not_bound": "该人员未绑定微信",
        "unbind_unconfirmed": "请先当面核对身份，勾选「已核对身份」后再解绑",
        "unbind_reason_missing": "请填写解绑原因",
        "contact_not_found": "通讯录中找不到手机号为 {phone} 的人员",
        "phone_ambiguous": "手机号 {phone} 对应多位已绑定微信的人员，请在会务后台按姓名查找后解绑",
    }
    statuses = {"rate_limited": 429, "identity_bound_elsewhere": 409, "contact_not_found": 404,
                "phone_ambiguous": 409}
    #: A failed attempt is logged (audit) even though the request fails.
    recorded = frozenset({"identity_mismatch", "identity_bound_elsewhere"})
    #: On a counted failure of :func:`bind`: the attempts left in the window (its message then
    #: carries :data:`LAST_ATTEMPT_WARNING` when that is 1).
    attempts_left: int | None = None


def find_identity(*, oa_openid: str | None = None, mp_openid: str | None = None) -> WechatIdentity | None:
    if oa_openid:
        return db.session.scalar(select(WechatIdentity).where(WechatIdentity.oa_openid == oa_openid))
    if mp_openid:
        return db.session.scalar(select(WechatIdentity).where(WechatIdentity.mp_openid == mp_openid))
    return None


def bound_contact(*, oa_openid: str | None = None, mp_openid: str | None = None) -> Contact | None:
    """The contact bound to an openid, with its unit, in one query (every scan asks this)."""
    if oa_openid:
        where = WechatIdentity.oa_openid == oa_openid
    elif mp_openid:
        where = WechatIdentity.mp_openid == mp_openid
    else:
        return None
    return db.session.scalar(
        select(Contact).join(WechatIdentity, WechatIdentity.contact_id == Contact.id).where(where)
        .options(joinedload(Contact.unit))
    )


def recognise_by_unionid(*, oa_openid: str, fetch_unionid) -> Contact | None:
    """The contact of an official-account user not bound yet, found through their unionid.

    Someone who bound in the mini program is the same person to WeChat's open platform; the
    official account learns their unionid from WeChat (``fetch_unionid(openid)``), so they need not
    bind again. A failure to ask WeChat just means "not recognised": the person can still bind.
    """
    try:
        unionid = fetch_unionid(oa_openid)
    except Exception:
        log.warning("could not fetch unionid for an unbound scan; falling back to binding")
        return None
    if not unionid:
        return None
    return get_or_create_identity(oa_openid=oa_openid, unionid=unionid).contact


def get_or_create_identity(*, oa_openid: str | None = None, mp_openid: str | None = None,
                           unionid: str | None = None) -> WechatIdentity:
    """The identity for an openid, linked through the unionid to the same person's other openid.

    WeChat gives the same unionid to a person's official-account and mini-program openids (under
    one open-platform account), so someone bound on one channel is recognised on the other.
    """
    identity = find_identity(oa_openid=oa_openid, mp_openid=mp_openid)
    by_union = (db.session.scalar(select(WechatIdentity).where(WechatIdentity.unionid == unionid))
                if unionid else None)
    if identity is None and by_union is not None:
        identity = by_union
    elif identity is not None and by_union is not None and by_union.id != identity.id:
        identity = _merge(identity, by_union)
    if identity is None:
        identity = _insert_identity(oa_openid=oa_openid, mp_openid=mp_openid, unionid=unionid)
    if oa_openid:
        identity.oa_openid = oa_openid
    if mp_openid:
        identity.mp_openid = mp_openid
    if unionid and identity.unionid is None:
        identity.unionid = unionid
    db.session.flush()
    return identity


def _insert_identity(*, oa_openid: str | None, mp_openid: str | None, unionid: str | None) -> WechatIdentity:
    """A new identity row, or the one another request for the same openid inserted meanwhile.

    A double tap on the bind form (or WeChat resending a first scan) runs two requests for one new
    openid at once: both find no row and both insert. The database's unique openid lets one in; the
    other's INSERT waits for that commit and fails, and then reads the row, so it goes on to bind
    and sign in exactly as if it had come second (the binding is then a no-op, the sign-in
    idempotent), instead of failing with a 500.
    """
    identity = WechatIdentity(oa_openid=oa_openid, mp_openid=mp_openid, unionid=unionid)
    try:
        with db.session.begin_nested():
            db.session.add(identity)
    except IntegrityError:
        found = (find_identity(oa_openid=oa_openid, mp_openid=mp_openid)
                 or (db.session.scalar(select(WechatIdentity).where(WechatIdentity.unionid == unionid))
                     if unionid else None))
        if found is None:
            raise
        return found
    return identity


def _merge(a: WechatIdentity, b: WechatIdentity) -> WechatIdentity:
    """Fold two rows of one person into one. If both are bound to different people, keep ``a``."""
    if a.contact_id and b.contact_id and a.contact_id != b.contact_id:
        return a
    keep, drop = (b, a) if b.contact_id else (a, b)
    fields = {"oa_openid": drop.oa_openid, "mp_openid": drop.mp_openid, "unionid": drop.unionid}
    db.session.delete(drop)
    db.session.flush()
    for name, value in fields.items():
        if value and getattr(keep, name) is None:
            setattr(keep, name, value)
    return keep


def bind(identity: WechatIdentity, *, unit_text: str, name: str, phone: str, ip: str | None,
         now: datetime | None = None, meeting_id: int | None = None) -> Contact:
    """Bind ``identity`` to the directory contact matching unit, name and phone.

    Binding the same person again is a no-op. A person already bound to another WeChat is answered
    ``identity_mismatch``, as a wrong identity is (same message, status and counting), and logged as
    ``identity.bind_taken`` naming them, in ``meeting_id``'s log when the bind came from a meeting.
    A WeChat bound to someone else is told so (``identity_bound_elsewhere``) whatever was typed.

    :raise IdentityError: ``fields_missing``, ``phone_invalid``, ``identity_mismatch``,
        ``identity_bound_elsewhere``, ``rate_limited``. A counted failure carries ``attempts_left``.
    """
    who = identity.oa_openid or identity.mp_openid or f"identity:{identity.id}"
    limits = [(f"bind:openid:{who}", FAILS_PER_OPENID)] + ([(f"bind:ip:{ip}", FAILS_PER_IP)] if ip else [])
    attempt = ratelimit.begin(limits, FAIL_WINDOW_S)  # counted now; given back below if it binds
    if attempt is None:
        raise IdentityError("rate_limited")

    name_n = normalize_name(name)
    phone_r = normalize_phone(phone)
    wrong_form = ("fields_missing" if not (unit_text or "").strip() or not name_n or not (phone or "").strip()
                  else None if phone_r.ok else "phone_invalid")
    if wrong_form:
        ratelimit.refund(attempt)  # a form filled in wrongly tells nothing about the directory
        raise IdentityError(wrong_form)

    def refused(code: str, *, taken: Contact | None = None, **params) -> IdentityError:
        """A failure that stays counted, on record. Log what was typed only as a phone tail: the log
        must not become the directory's mirror."""
        typed = {"phone_tail": (phone_r.number or "")[-4:], "unit": (unit_text or "")[:64]}
        if taken is None:
            audit.record(f"openid:{who}", "identity.bind_failed", ip=ip, reason=code, **typed)
        else:
            audit.record(f"openid:{who}", "identity.bind_taken", meeting_id=meeting_id, target=f"contact:{taken.id}",
                         ip=ip, **typed)
        left = min(ratelimit.remaining(key, limit, FAIL_WINDOW_S) for key, limit in limits)
        warning = f"。{LAST_ATTEMPT_WARNING}" if left == 1 else ""  # before the last attempt, not after the lock
        exc = IdentityError(code, IdentityError.messages[code] + warning, **params)
        exc.attempts_left = left
        return exc

    candidates = db.session.scalars(
        select(Contact).where(Contact.phone == phone_r.number, Contact.active.is_(True))
    ).all()
    contact = next((c for c in candidates if normalize_name(c.name) == name_n and unit_matches(c.unit, unit_text)),
                   None)
    if contact is not None and identity.contact_id == contact.id:
        ratelimit.refund(attempt)
        return contact
    if identity.contact_id is not None:
        # Whatever else was typed: the answer must not depend on whether it is a real person.
        raise refused("identity_bound_elsewhere", name=mask_name(identity.contact.name))
    if contact is None:
        raise refused("identity_mismatch")
    if db.session.scalar(select(WechatIdentity.id).where(WechatIdentity.contact_id == contact.id)) is not None:
        raise refused("identity_mismatch", taken=contact)

    try:
        with db.session.begin_nested():
            identity.contact_id = contact.id
            identity.bound_at = now or datetime.now(UTC)
    except IntegrityError:
        # Another WeChat bound this person in the same moment (the unique binding let it in first,
        # our UPDATE waited for its commit): the answer it would have had a second later.
        raise refused("identity_mismatch", taken=contact) from None
    audit.record(f"openid:{who}", "identity.bind", ip=ip, target=f"contact:{contact.id}")
    ratelimit.refund(attempt)
    return contact


def bound_by_phone(phone: str) -> Contact:
    """The directory person with ``phone`` whose WeChat is to be unbound (the CLI names people by
    phone). :raise IdentityError: ``phone_invalid``, ``contact_not_found``, ``not_bound`` (409),
    ``phone_ambiguous``."""
    number = normalize_phone(phone)
    if not number.ok:
        raise IdentityError("phone_invalid")
    contacts = db.session.scalars(select(Contact).where(Contact.phone == number.number).order_by(Contact.id)).all()
    if not contacts:
        raise IdentityError("contact_not_found", phone=number.number)
    bound = db.session.scalars(
        select(Contact).join(WechatIdentity, WechatIdentity.contact_id == Contact.id)
        .where(Contact.id.in_([c.id for c in contacts])).options(joinedload(Contact.unit))
    ).all()
    if not bound:
        raise IdentityError("not_bound", status=409)
    if len(bound) > 1:
        raise IdentityError("phone_ambiguous", phone=number.number)
    return bound[0]


def unbind(contact: Contact, *, actor: str, reason: str, confirmed: bool,
           meeting_id: int | None = None) -> WechatIdentity:
    """Free ``contact`` from the WeChat it is bound to (a new phone, a mistaken binding), after staff
    checked who is asking, face to face. The identity row stays (it is that WeChat's openid, with
    its history); only its link to the contact goes. The person then scans again and binds as on
    a first scan. Returns the identity that was unbound.

    :param actor: the audit log's name of who unbinds (``contact:<id>``, ``cli``).
    :param confirmed: staff ticked "已核对身份"; without it nothing is done.
    :raise IdentityError: ``unbind_unconfirmed``, ``unbind_reason_missing``, ``not_bound`` (409).
    """
    reason = (reason or "").strip()[:200]
    if not confirmed:
        raise IdentityError("unbind_unconfirmed")
    if not reason:
        raise IdentityError("unbind_reason_missing")
    identity = db.session.scalar(select(WechatIdentity).where(WechatIdentity.contact_id == contact.id))
    if identity is None:
        raise IdentityError("not_bound", status=409)
    bound_at = identity.bound_at
    identity.contact_id = None
    identity.bound_at = None
    db.session.flush()
    audit.record(actor, "identity.unbind", meeting_id=meeting_id, target=f"contact:{contact.id}",
                 identity_id=identity.id, reason=reason, bound_at=bound_at.isoformat() if bound_at else None)
    return identity
