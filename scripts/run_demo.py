"""``make run``: the app and the WeChat simulator in one process, ready for a newcomer.

    python -m scripts.run_demo --host 127.0.0.1 --port 5000

``make run`` calls this after ``flask db upgrade`` and ``flask demo seed``. It
- points the app's WeChat seam at the simulator mounted under /_wechat on the same server, so
  every WeChat call (tokens, QR codes, menus, OAuth) is real HTTP, exactly as in production;
- points the app's SMS seam (Tencent Cloud's SDK) at the SMS simulator on the same server: the SDK's
  signed ``POST /`` calls reach it by their X-TC-Action header, its page (短信模拟器) is under /_sms/,
  and it pushes delivery receipts to /sms/status/<token> a second after each message;
- gives the simulator the app's account settings and callback URL, so its phone page posts
  correctly signed scans to /wechat/callback;
- starts the job worker thread when app/jobs.py provides one;
- makes the demo meeting's official-account QR (so the phone page lists it), syncs the menus and
  the organizer tag, and prints the URLs to open.

One process by construction: the embedded Redis stand-in (fakeredis), the simulator's state and the
job worker thread all live in this process's memory; a second process would see none of them.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
import threading
import time
from typing import Any

log = logging.getLogger("huiyi.demo")
SIM_PREFIX = "/_wechat"
SMS_PREFIX = "/_sms"
#: The demo's SMS account: the simulator's public credentials and its template ids.
SMS_DEMO = {"SMS_SDK_APP_ID": "1400000001", "SMS_SIGN_NAME": "会易", "SMS_REGION": "ap-guangzhou",
            "SMS_TEMPLATE_NOTICE": "2001", "SMS_TEMPLATE_REMINDER": "2002", "SMS_TEMPLATE_CONFIDENTIALITY": "2003"}
SMS_RECEIPT_DELAY = 1.0
TAG_SYNC_SECONDS = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.run_demo", description="会易演示：应用 + 微信模拟器")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    return p.parse_args(argv)


class _QuietSimulatorLog(logging.Filter):
    """Keep the console readable: the simulator's own traffic (token calls with access tokens in
    the query, the phone page polling its inbox) is not what a newcomer needs to watch."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return f" {SIM_PREFIX}/" not in message and f" {SMS_PREFIX}/" not in message


def refuse_several_processes() -> None:
    # This server is one process with threads (werkzeug threaded=True). Process managers that
    # honour WEB_CONCURRENCY would start more; with the in-process stand-ins that cannot work.
    if int(os.environ.get("WEB_CONCURRENCY", "1") or 1) > 1:
        sys.exit("拒绝启动：演示模式（内置 Redis 替身与微信模拟器）只能在单进程中运行。\n"
                 "Refusing to start: the demo (embedded Redis stand-in and WeChat simulator) runs in one "
                 "process only; unset WEB_CONCURRENCY.")


def configure_env(host: str, port: int) -> str:
    """Environment for create_app: the seam talks to the mounted simulator. Returns the base URL."""
    from dotenv import load_dotenv

    load_dotenv()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown_host}:{port}"
    # Set BEFORE create_app: the WeChat clients read it once when the app is built.
    os.environ["WECHAT_API_BASE_URL"] = base + SIM_PREFIX
    os.environ.setdefault("PUBLIC_BASE_URL", base)
    # The SMS seam talks to the simulator here whatever a .env says: the demo sends no real SMS.
    from app.config import SMS_SIMULATOR_SECRETS

    os.environ.update(SMS_SIMULATOR_SECRETS, **SMS_DEMO, SMS_ENDPOINT=f"{shown_host}:{port}", SMS_SCHEME="http")
    return base


def build(base: str) -> tuple[Any, Any, Any]:
    """(app, simulator, the combined WSGI app)."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from app.factory import create_app
    from app.services.notify import sms
    from scripts.sms_sim import SmsSimConfig, SmsSimulator, TencentApiRoute
    from scripts.wechat_sim import SimConfig, Simulator

    app = create_app()
    cfg = app.config
    aes_key = cfg.get("WECHAT_ENCODING_AES_KEY") or None
    sim = Simulator(SimConfig(
        app_id=cfg["WECHAT_APP_ID"], app_secret=cfg["WECHAT_APP_SECRET"], token=cfg["WECHAT_TOKEN"],
        aes_key=aes_key, mode="safe" if aes_key else "plain",
        mp_app_id=cfg["MINIPROGRAM_APP_ID"], mp_app_secret=cfg["MINIPROGRAM_APP_SECRET"],
        mp_pages=["pages/index/index", "pages/meeting/index"],
        callback_url=f"{base}/wechat/callback", external_base_url=base + SIM_PREFIX,
    ))
    with app.app_context():
        sms_templates = {spec.template_id: spec.text for spec in sms.templates().values()}
    sms_sim = SmsSimulator(SmsSimConfig(
        secret_id=cfg["SMS_SECRET_ID"], secret_key=cfg["SMS_SECRET_KEY"], sdk_app_id=cfg["SMS_SDK_APP_ID"],
        sign_names=(cfg["SMS_SIGN_NAME"],), templates=sms_templates,
        callback_url=f"{base}/sms/status/{cfg['SMS_CALLBACK_TOKEN']}", callback_delay=SMS_RECEIPT_DELAY))
    app.extensions["demo_sms_sim"] = sms_sim
    routes = DispatcherMiddleware(app.wsgi_app, {SIM_PREFIX: sim.app, SMS_PREFIX: sms_sim.app})
    return app, sim, TencentApiRoute(routes, sms_sim.app)


def start_jobs(app: Any) -> str:
    try:
        from app.jobs import run_worker_thread
    except ImportError:
        return "（无后台任务模块）"
    run_worker_thread(*([app] if inspect.signature(run_worker_thread).parameters else []))
    return "后台任务线程已启动 / job worker thread started"


def prepare(app: Any, sim: Any) -> dict[str, Any]:
    """Make the demo meeting's codes and the menus through the seam (real HTTP to the simulator)."""
    from app.services.codes import meeting_codes, menus
    from app.services.demo import DEMO_MEETING, INVITE_CODE, ORGANIZER_PHONE, UNIT_OFFICE
    from app.services.meetings.meetings import MeetingError, get_meeting
    from app.tx import unit_of_work
    from app.wechat import WeChatError

    info: dict[str, Any] = {"meeting": None, "organizer_phone": ORGANIZER_PHONE}
    with app.app_context():
        try:
            with unit_of_work():
                meeting = get_meeting(DEMO_MEETING)
                # The simulator starts empty every run: codes stored by an earlier run are unknown to it.
                for session in meeting.sessions:
                    meeting_codes.oa_qr(meeting, session, renew=True)
                info.update(meeting=meeting.code, title=meeting.title, invite_code=INVITE_CODE)
                # `make run` seeded the unit office's demo login with the demo (flask demo seed).
                info["unit_office"] = {**UNIT_OFFICE, "unit_name": next(
                    (u.name for u in meeting.units if u.code == UNIT_OFFICE["unit"]), UNIT_OFFICE["unit"])}
        except MeetingError:
            log.warning("demo meeting %s not found: run `flask --app wsgi demo seed`", DEMO_MEETING)
        except WeChatError as exc:
            log.warning("could not make the demo QR through the simulator: %s", exc)
        try:
            with unit_of_work():
                info["menus"] = menus.sync_menus()
                info["tags"] = menus.sync_organizer_tags()
        except WeChatError as exc:
            log.warning("menu sync failed: %s", exc)
    # Two phones on the phone page to start with (anyone can add more there).
    for nickname in ("张伟（区发改局局长）", "周敏（区政府办公室 会务组）", "新用户"):
        sim.state.create_user(nickname=nickname)
    return info


def keep_organizer_tags_in_step(app: Any, stop: threading.Event) -> None:
    """Demo only: someone who binds as the organizer sees the organizer menu within seconds
    (production runs ``flask wechat sync-organizer-tags`` from cron)."""
    from app.services.codes import menus
    from app.tx import unit_of_work

    while not stop.wait(TAG_SYNC_SECONDS):
        try:
            with app.app_context(), unit_of_work():
                menus.sync_organizer_tags()
        except Exception as exc:  # the demo keeps serving whatever WeChat (the simulator) says
            log.debug("organizer tag sync skipped: %s", exc)


def _meeting_url(app: Any, base: str, prefix: str, code: str, **query: str) -> str | None:
    """The URL of the first GET route under ``prefix`` taking just the meeting code, if one exists."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: len(r.rule)):
        if not rule.rule.startswith(prefix) or "GET" not in (rule.methods or ()):
            continue
        if len(rule.arguments) == 1 and rule.rule.endswith(f"/<{next(iter(rule.arguments))}>"):
            arg = next(iter(rule.arguments))
            url = base + rule.rule.replace(f"<{arg}>", code)
            if query:
                url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
            return url
    return None


def url_block(app: Any, base: str, info: dict[str, Any]) -> str:
    code = info.get("meeting") or "QJJ2026Q4"
    phone = info.get("organizer_phone")
    lines = [
        "",
        "=" * 78,
        f"会易 Huiyi 演示已启动 / demo running at {base}",
        "",
        f"  模拟手机 simulated phone   {base}{SIM_PREFIX}/_sim/phone",
        "      选择用户（如“新用户”），选中签到二维码，点“扫一扫”，读公众号回复，点链接完成绑定。",
        "      Pick a user (e.g. 新用户), select the meeting QR, press 扫一扫, read the reply, open its link to bind.",
        "      绑定示例 bind as: 区发改局 / 张伟 / 13905710101",
        f"      会务组 organizer: 区政府办公室 / 周敏 / {phone} → 菜单出现“会务管理”",
        f"  短信模拟器 SMS simulator  {base}{SMS_PREFIX}/",
        "      应用发出的短信（会议通知、提醒）按手机上显示的样子列在这里，可把某个号码设为无法送达。",
        "      Every SMS the app sends, as the phone shows it; mark a number undeliverable to see failures.",
    ]
    with app.app_context():
        key: dict[str, str] = {}
        try:
            from app.services.live import headcount

            key = {"k": headcount.screen_key(app.config["SECRET_KEY"], code)}
        except (ImportError, AttributeError):
            pass
        pages = [
            ("会议页面 meeting page    ", _meeting_url(app, base, "/m/", code), "参会人员看到的会议介绍与议程 / what attendees see"),
            ("大屏 big screen          ", _meeting_url(app, base, "/screen/", code, **key),
             "投影用：签到码与实时人数 / for the projector: QR and live numbers"),
            ("会务后台 console         ", _meeting_url(app, base, "/admin/", code),
             f"用 {phone} 周敏 的微信登录 / log in as 周敏 on the simulated WeChat"),
        ]
    pages.insert(0, ("电脑端会务后台 desktop    ", f"{base}/admin",
                     "打开后用模拟手机扫码登录（周敏）/ open on the PC, scan the login code with the simulated phone"))
    for label, url, hint in pages:
        if url:
            lines += [f"  {label}{url}", f"      {hint}"]
    office = info.get("unit_office")
    if office:
        lines += [f"  单位通讯录 unit office    {base}/units/login",
                  f"      演示账号 demo login: {office['username']} / {office['password']}（{office['unit_name']}）"]
    if info.get("invite_code"):
        lines += [f"  会议报名 registration     {_meeting_url(app, base, '/r/', code)}",
                  f"      邀请码 invitation code: {info['invite_code']}，单位编号 unit number: FGJ（区发展和改革局）"]
    lines += [
        f"  签到海报 poster (PDF)     {base}/admin/codes/{code}/poster.pdf   （会务组 organizers only）",
        f"  健康检查 health           {base}/healthz   {base}/readyz",
        "",
        "  Ctrl-C 停止 / to stop.   单进程运行（内置 Redis 替身）/ one process (embedded Redis stand-in)",
        "=" * 78,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    refuse_several_processes()
    base = configure_env(args.host, args.port)
    app, sim, wsgi = build(base)
    logging.getLogger("werkzeug").addFilter(_QuietSimulatorLog())

    from werkzeug.serving import make_server

    # threaded=True, one process: the simulator's phone posts to our callback while its own request
    # is still open, and the seam calls the simulator on this same server.
    server = make_server(args.host, args.port, wsgi, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="huiyi-demo-http", daemon=True)
    serving.start()
    jobs = start_jobs(app)
    info = prepare(app, sim)
    stop = threading.Event()
    threading.Thread(target=keep_organizer_tags_in_step, args=(app, stop), name="huiyi-demo-tags",
                     daemon=True).start()
    print(url_block(app, base, info), flush=True)
    print(f"  {jobs}", flush=True)
    try:
        while serving.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n正在停止 / stopping…", flush=True)
    finally:
        stop.set()
        server.shutdown()


if __name__ == "__main__":
    main()
