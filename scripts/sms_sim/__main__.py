"""python -m scripts.sms_sim --port 8901 --callback-url http://127.0.0.1:5000/sms/status/<token>

Serves the simulated provider on its own port: set the app's SMS_ENDPOINT=127.0.0.1:8901,
SMS_SCHEME=http and the simulator's keys (app/config.py SMS_SIMULATOR_SECRETS). The page listing
what was sent (短信模拟器) is at http://127.0.0.1:8901/.
"""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import run_simple

from scripts.sms_sim.config import SmsSimConfig
from scripts.sms_sim.simulator import SmsSimulator

#: The app's template ids in the demo and tests (SMS_TEMPLATE_NOTICE / _REMINDER / _CONFIDENTIALITY).
DEFAULT_IDS = {"notice": "2001", "reminder": "2002", "confidentiality": "2003"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = SmsSimConfig()
    p = argparse.ArgumentParser(prog="python -m scripts.sms_sim", description="Local Tencent Cloud SMS simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8901)
    p.add_argument("--callback-url", default=None, help="where receipts are pushed (the app's /sms/status/<token>)")
    p.add_argument("--callback-delay", type=float, default=1.0, help="seconds from a message to its receipt's push")
    p.add_argument("--public-base-url", default="http://127.0.0.1:5000", help="the app's PUBLIC_BASE_URL (links)")
    p.add_argument("--secret-id", default=defaults.secret_id)
    p.add_argument("--secret-key", default=defaults.secret_key)
    p.add_argument("--sdk-app-id", default=defaults.sdk_app_id)
    p.add_argument("--sign-name", action="append", dest="sign_names", help="an approved signature (repeatable)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from app.services.notify.sms import TEMPLATES

    args = parse_args(argv)
    link = args.public_base_url.rstrip("/") + "/n/"
    templates = {DEFAULT_IDS[name]: text.replace("{link}", link) for name, (_s, text, _p) in TEMPLATES.items()}
    config = SmsSimConfig(secret_id=args.secret_id, secret_key=args.secret_key, sdk_app_id=args.sdk_app_id,
                          sign_names=tuple(args.sign_names or SmsSimConfig().sign_names), templates=templates,
                          callback_url=args.callback_url, callback_delay=args.callback_delay if args.callback_url
                          else None)
    logging.basicConfig(level=logging.INFO)
    run_simple(args.host, args.port, SmsSimulator(config).app, threaded=True)


if __name__ == "__main__":
    main()
