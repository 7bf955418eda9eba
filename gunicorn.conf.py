"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Run ``flask --app wsgi db upgrade`` before starting. Every worker shares PostgreSQL and Redis, so the
app servers keep no state and several can sit behind a load balancer.
"""

import multiprocessing
import os
import sys

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One gevent worker per core: 2 workers on 2 cores answered a median 1097 scans/s (4 workers did worse).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
# gevent workers keep the live screens' server-sent-event streams from tying up a worker each, and
# serve the bursts too: scans and ballots waiting for their round (app/batching.py) cost a greenlet
# each, so rounds grow with the burst. Measured on 2 cores with 2 workers: 745-1454 scans/s; earlier
# code did as well on gevent as on granian with 2 x 32 threads, far better than gthread (docs/benchmarks.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # gthread only
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"


def on_starting(server):
    from dotenv import load_dotenv

    from app.config import refuse_public_defaults

    load_dotenv()  # as wsgi.py does, so a .env file counts here too
    refuse_public_defaults()
    # The in-process Redis stand-in lives inside one process: counters, rate limits and the shared
    # access token would silently diverge between workers. Refuse rather than mislead.
    if not (os.environ.get("REDIS_URL") or os.environ.get("REDIS_SENTINELS")) and server.cfg.workers > 1:
        sys.stderr.write(
            "\n拒绝启动：未设置 REDIS_URL，内置的进程内 Redis 替身只能用于单进程。\n"
            "Refusing to start: REDIS_URL is not set and the embedded in-process Redis stand-in only\n"
            "works in a single process. Set REDIS_URL=redis://host:6379/0 or run with --workers 1.\n\n"
        )
        sys.exit(4)
