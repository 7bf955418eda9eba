"""The real app, plus one bare route used as the benchmark's floor.

``gunicorn scripts.bench.bench_wsgi:app`` serves everything ``wsgi:app`` serves and
``POST /_bench/floor?k=<int>``: one ``INSERT … ON CONFLICT DO NOTHING`` into ``bench_floor`` and one
Redis ``INCR``, committed by the same request boundary as every other route. Measured on the same
server in the same run, it is the cost of "a request that touches PostgreSQL and Redis once" here,
so the callback's rate can be read as a fraction of it. ``bench_floor`` is created by the
benchmark's setup, never by the app's migrations.
"""

from __future__ import annotations

import os
import sys

import sqlalchemy as sa
from flask import Response, request

from app.extensions import csrf, db, get_redis
from app.factory import create_app

FLOOR_TABLE = "bench_floor"
FLOOR_COUNTER = "huiyi:bench:floor"
_FLOOR_INSERT = sa.text(f"INSERT INTO {FLOOR_TABLE} (k) VALUES (:k) ON CONFLICT DO NOTHING")

app = create_app()

if os.environ.get("BENCH_SWITCH_INTERVAL"):  # experiment knob (--switch-interval); gunicorn sets it in post_fork
    sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))


@app.post("/_bench/floor")
@csrf.exempt
def bench_floor() -> Response:
    db.session.execute(_FLOOR_INSERT, {"k": int(request.args.get("k", "0"))})
    get_redis().incr(FLOOR_COUNTER)
    return Response("ok", mimetype="text/plain")  # after_request commits, as for any route
