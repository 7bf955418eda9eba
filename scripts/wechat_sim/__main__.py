"""python -m scripts.wechat_sim --port 8900 --callback-url http://127.0.0.1:5000/wechat/callback ..."""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import run_simple

from scripts.wechat_sim.config import SimConfig
from scripts.wechat_sim.simulator import Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = SimConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.wechat_sim", description="Local WeChat simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8900)
    p.add_argument("--callback-url", default=None, help="the official account's server URL")
    p.add_argument("--token", default=defaults.token, help="callback Token")
    p.add_argument("--app-id", default=defaults.app_id)
    p.add_argument("--app-secret", default=defaults.app_secret)
    p.add_argument("--aes-key", default=None, help="EncodingAESKey (43 chars), needed for compat/safe")
    p.add_argument("--mode", choices=("plain", "compat", "safe"), default=None,
                   help="message encryption mode (default: safe if --aes-key is given, else plain)")
    p.add_argument("--original-id", default=defaults.original_id)
    p.add_argument("--mp-app-id", default=defaults.mp_app_id)
    p.add_argument("--mp-app-secret", default=defaults.mp_app_secret)
    p.add_argument("--mp-page", action="append", dest="mp_pages", help="a published mini-program page")
    p.add_argument("--callback-timeout", type=float, default=defaults.callback_timeout)
    p.add_argument("--template-events", action="store_true", help="post TEMPLATESENDJOBFINISH events")
    p.add_argument("--external-base-url", default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mode = args.mode or ("safe" if args.aes_key else "plain")
    if mode != "plain" and not args.aes_key:
        raise SystemExit(f"--mode {mode} needs --aes-key")
    config = SimConfig(
        app_id=args.app_id, app_secret=args.app_secret, token=args.token, aes_key=args.aes_key, mode=mode,
        callback_url=args.callback_url, original_id=args.original_id, mp_app_id=args.mp_app_id,
        mp_app_secret=args.mp_app_secret, callback_timeout=args.callback_timeout,
        template_job_finish_events=args.template_events, external_base_url=args.external_base_url,
    )
    if args.mp_pages:
        config.mp_pages = args.mp_pages
    sim = Simulator(config)
    logging.basicConfig(level=logging.INFO)
    print(f"WeChat simulator on http://{args.host}:{args.port}  (phone: /_sim/phone, mode {mode})")
    run_simple(args.host, args.port, sim.app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
