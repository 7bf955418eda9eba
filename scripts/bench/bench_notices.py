"""A notice to 10,000 recipients (issue 17): queued in under 5 s, then sent at each channel's allowed
rate without a duplicate, measured against the WeChat and SMS simulators.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_notices [--recipients 10000]
        [--following 0.8] [--wechat-rate 100] [--sms-rate 50] [--keep-db] [--json]

1. Creates a database of its own (``huiyi_bench_notices``, dropped afterwards unless ``--keep-db``),
   runs the migrations and seeds in bulk: 40 units, ``recipients`` invitees, of whom ``following``
   have WeChat bound and follow the account (the others get SMS). Redis: ``BENCH_REDIS_URL``, else
   a database claimed as a test run claims one.
2. The WeChat simulator and the SMS provider's simulator (Tencent Cloud SMS API 3.0, signatures
   checked) run in this process; the app reaches both over its real HTTP clients. Delivery reports
   are left out (the WeChat simulator's TEMPLATESENDJOBFINISH is off, no SMS receipts are pushed):
   this measures the sending; the reports' handling is tested in tests/notices.
3. Times what the organizer waits for: writing the notice and sending it (recipients fixed, the
   first round's deliveries written, the job recorded and handed to the queue), committed.
4. Runs the job as the worker would and times it; from the time of every send it derives each
   channel's rate (overall, and the busiest one-second window), against ``NOTICE_WECHAT_PER_S`` and
   ``NOTICE_SMS_PER_S``; and checks that every follower got exactly one template message, every
   other person exactly one SMS, and the database's deliveries say the same.

Targets: queued < 5 s; no channel above its rate (the busiest second within 5% of it); no
duplicate; every recipient reached once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from scripts.bench.bench_callback import machine
from scripts.bench.bench_console import ADMIN_URL, _admin, _name, redis_database

TARGET_QUEUED_S = 5.0
CODE = "BENCHNTC"
SMS = {"SMS_SECRET_ID": "AKIDhuiyiSmsBench0000000000000000000", "SMS_SECRET_KEY": "huiyi-sms-bench-key-not-secret",
       "SMS_SDK_APP_ID": "1400000009", "SMS_SIGN_NAME": "会易", "SMS_REGION": "ap-guangzhou",
       "SMS_ENDPOINT": "sms.sim", "SMS_SCHEME": "http", "SMS_TEMPLATE_NOTICE": "3001",
       "SMS_TEMPLATE_REMINDER": "3002", "SMS_TEMPLATE_CONFIDENTIALITY": "3003",
       "SMS_CALLBACK_TOKEN": "bench-sms-callback-token-0123456789"}


@dataclass
class Options:
    recipients: int = 10_000
    following: float = 0.8
    wechat_rate: float = 100.0
    sms_rate: float = 50.0
    db_name: str = "huiyi_bench_notices"
    redis_url: str = ""
    keep_db: bool = False


@dataclass
class Report:
    recipients: int
    following: int
    queued_s: float
    send_s: float
    jobs: int
    wechat: dict
    sms: dict
    duplicates: int
    unreached: int
    db_counts: dict
    targets_met: bool
    machine: dict


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _rates(times: list[float], limit: float) -> dict:
    """Sends, their overall rate and the busiest one-second window, against ``limit``."""
    if not times:
        return {"sent": 0, "rate": 0.0, "peak_1s": 0, "limit": limit}
    times = sorted(times)
    peak, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        peak = max(peak, i - j + 1)
    span = times[-1] - times[0]
    return {"sent": len(times), "rate": round((len(times) - 1) / span, 1) if span > 0 else None, "peak_1s": peak,
            "limit": limit, "span_s": round(span, 2)}


def seed(opts: Options, app) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db, get_redis
    from app.services.meetings.meetings import create_meeting
    from models import Contact, Invitee, UnitOrganizer, WechatIdentity
    from models import Unit as UnitModel

    with app.app_context():
        upgrade()
        get_redis().flushdb()
        units = db.session.execute(sa.insert(UnitModel).returning(UnitModel.id, sort_by_parameter_order=True), [
            {"code": f"NU{u:02d}", "name": f"压测单位{u:02d}局", "aliases": []} for u in range(40)]).scalars().all()
        people = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
            {"unit_id": units[i % len(units)], "name": _name(i), "phone": f"139{i:08d}", "tags": []}
            for i in range(opts.recipients)]).scalars().all()
        owner = db.session.execute(sa.insert(Contact).returning(Contact.id), [
            {"unit_id": units[0], "name": "压测主办", "phone": "13700000000", "tags": []}]).scalar_one()
        db.session.execute(sa.insert(UnitOrganizer), [{"unit_id": units[0], "contact_id": owner}])
        now = datetime.now(UTC)
        meeting = create_meeting(CODE, "压测：全市重点工作推进会", actor="bench", starts_at=now + timedelta(days=2),
                                 ends_at=now + timedelta(days=2, hours=3), publish=True, venue="市行政中心一号会议室")
        meeting.unit_id = units[0]
        db.session.execute(sa.insert(Invitee), [
            {"meeting_id": meeting.id, "contact_id": c, "role": "代表", "status": "approved"} for c in people])
        following = people[:int(opts.recipients * opts.following)]
        db.session.execute(sa.insert(WechatIdentity), [
            {"oa_openid": f"o_ntc_{c}", "contact_id": c, "bound_at": now} for c in following])
        db.session.commit()
        return {"meeting_id": meeting.id, "owner": owner, "people": people, "following": following}


def run(opts: Options) -> Report:
    from app import jobs
    from app.extensions import db
    from app.factory import create_app
    from app.services.notify import notices as svc
    from app.services.notify import sms
    from models import Contact, Meeting, NoticeDelivery
    from scripts.sms_sim import SmsSimConfig, SmsSimulator
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.transport import WsgiAdapter, WsgiTransport

    _admin(f'DROP DATABASE IF EXISTS "{opts.db_name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{opts.db_name}"')
    app = None
    try:
        config = {"DATABASE_URL": sa.engine.make_url(ADMIN_URL).set(database=opts.db_name).render_as_string(
                      hide_password=False),
                  "REDIS_URL": opts.redis_url, "SECRET_KEY": "bench-notices-" + "k" * 40,
                  "WECHAT_TOKEN": "huiyibenchtoken", "PUBLIC_BASE_URL": "http://huiyi.bench", "DOOR_SIGNING_KEY": "YmVuY2gtZG9vci1rZXktb2YtdGhpcnR5LXR3by1ieXQ=",
                  "WECHAT_API_BASE_URL": "http://wechat.sim", "NOTICE_WECHAT_PER_S": opts.wechat_rate,
                  "NOTICE_SMS_PER_S": opts.sms_rate, **SMS}
        app = create_app(config)
        _say(f"seeding {opts.recipients} recipients …")
        seeded = seed(opts, app)
        wechat = Simulator(SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                                     token=app.config["WECHAT_TOKEN"], callback_url="http://huiyi.bench/wechat/callback",
                                     external_base_url="http://wechat.sim"), transport=WsgiTransport(app))
        for name in ("wechat_oa", "wechat_mp"):
            app.extensions[name].http.mount("http://wechat.sim/", WsgiAdapter(wechat.app))
        for c in seeded["following"]:
            wechat.state.create_user(oa_openid=f"o_ntc_{c}", subscribed=True)
        with app.app_context():
            sms_sim = SmsSimulator(SmsSimConfig(
                secret_id=SMS["SMS_SECRET_ID"], secret_key=SMS["SMS_SECRET_KEY"], sdk_app_id=SMS["SMS_SDK_APP_ID"],
                sign_names=(SMS["SMS_SIGN_NAME"],), templates={s.template_id: s.text for s in sms.templates().values()},
                callback_url=f"http://huiyi.bench/sms/status/{SMS['SMS_CALLBACK_TOKEN']}"), transport=WsgiTransport(app))
            sms.sms_http().mount("http://sms.sim/", WsgiAdapter(sms_sim.app))

            sends: list[float] = []
            api = app.extensions["wechat_oa"]
            real = api.send_template

            def timed(*args, **kwargs):
                msgid = real(*args, **kwargs)
                sends.append(time.monotonic())
                return msgid

            api.send_template = timed
            meeting = db.session.get(Meeting, seeded["meeting_id"])
            owner = db.session.get(Contact, seeded["owner"])
            _say("queueing the notice …")
            started = time.perf_counter()
            draft = svc.draft_for(meeting)
            notice = svc.create(meeting, title=draft["title"], body=draft["body"], audience={"all": True}, actor=owner,
                                sms_fallback=True)
            count = svc.send(notice, meeting, actor=owner)
            db.session.commit()
            queued_s = time.perf_counter() - started
            notice_id = notice.id
            _say(f"queued {count} in {queued_s:.2f} s; sending …")
            started = time.perf_counter()
            slices = 0
            while jobs.run_pending(app):  # a round longer than a job's slice goes on in new jobs
                slices += 1
            send_s = time.perf_counter() - started
            db.session.remove()
            db_counts = dict(Counter({f"{ch}_{st}": n for ch, st, n in db.session.execute(
                sa.select(NoticeDelivery.channel, NoticeDelivery.status, sa.func.count())
                .where(NoticeDelivery.notice_id == notice_id)
                .group_by(NoticeDelivery.channel, NoticeDelivery.status)).all()}))
        per_openid = Counter()
        for c in seeded["following"]:
            user = wechat.state.get_user(f"o_ntc_{c}")
            per_openid[c] = sum(1 for m in user.inbox if m["kind"] == "template")
        per_phone = Counter(m.phone for m in sms_sim.state.messages)
        others = seeded["people"][len(seeded["following"]):]
        duplicates = sum(n - 1 for n in per_openid.values() if n > 1) + sum(n - 1 for n in per_phone.values() if n > 1)
        unreached = (sum(1 for c in seeded["following"] if per_openid[c] == 0)
                     + sum(1 for i in range(len(seeded["following"]), opts.recipients)
                           if per_phone.get(f"+86139{i:08d}", 0) == 0))
        wechat_rates = _rates(sends, opts.wechat_rate)
        sms_rates = _rates([m.sent_at for m in sms_sim.state.messages], opts.sms_rate)
        met = (queued_s < TARGET_QUEUED_S and duplicates == 0 and unreached == 0 and len(others) == sms_rates["sent"]
               and wechat_rates["peak_1s"] <= opts.wechat_rate * 1.05 and sms_rates["peak_1s"] <= opts.sms_rate * 1.05)
        return Report(recipients=count, following=len(seeded["following"]), queued_s=round(queued_s, 3),
                      send_s=round(send_s, 1), jobs=slices, wechat=wechat_rates, sms=sms_rates, duplicates=duplicates,
                      unreached=unreached, db_counts=db_counts, targets_met=met, machine=machine(ADMIN_URL))
    finally:
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        if not opts.keep_db:
            _admin(f'DROP DATABASE IF EXISTS "{opts.db_name}" WITH (FORCE)')


def summary(r: Report) -> str:
    return "\n".join([
        f"recipients: {r.recipients} ({r.following} on WeChat, {r.recipients - r.following} by SMS)",
        f"queued (written, job recorded and handed over): {r.queued_s:.2f} s (target < {TARGET_QUEUED_S:.0f} s)",
        f"sent in: {r.send_s:.1f} s ({r.jobs} job runs)",
        f"WeChat: {r.wechat['sent']} sent, {r.wechat['rate']}/s overall, busiest second {r.wechat['peak_1s']} "
        f"(limit {r.wechat['limit']:.0f}/s)",
        f"SMS: {r.sms['sent']} sent, {r.sms['rate']}/s overall, busiest second {r.sms['peak_1s']} "
        f"(limit {r.sms['limit']:.0f}/s)",
        f"duplicates: {r.duplicates}; unreached: {r.unreached}; database: {r.db_counts}",
        f"targets met: {r.targets_met}",
    ])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.bench.bench_notices", description=__doc__.splitlines()[0])
    p.add_argument("--recipients", type=int, default=10_000)
    p.add_argument("--following", type=float, default=0.8)
    p.add_argument("--wechat-rate", type=float, default=100.0)
    p.add_argument("--sms-rate", type=float, default=50.0)
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    opts = Options(recipients=a.recipients, following=a.following, wechat_rate=a.wechat_rate, sms_rate=a.sms_rate,
                   keep_db=a.keep_db)
    with redis_database(opts):
        report = run(opts)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=1) if a.json else summary(report))
    return 0 if report.targets_met else 1


if __name__ == "__main__":
    sys.exit(main())
