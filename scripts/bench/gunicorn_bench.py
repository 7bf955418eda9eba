"""gunicorn settings for the benchmarks: the command line sets the rest.

Not the production gunicorn.conf.py, whose access log to stdout would make the terminal part of
what is measured.
"""

accesslog = None
errorlog = "-"
loglevel = "warning"
