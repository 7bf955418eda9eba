"""gunicorn settings for the benchmarks: the command line sets the rest.

Not the production gunicorn.conf.py, whose access log to stdout would make the terminal part of
what is measured.
"""

accesslog = None
errorlog = "-"
loglevel = "warning"


def post_fork(server, worker):
    # Experiment knob: a shorter GIL switch interval lets the thread holding the session's order-number
    # lock get back on the CPU sooner under gthread (see docs/benchmarks.md).
    import os
    import sys

    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
