"""Benchmarks: each runs the real app on gunicorn against PostgreSQL and Redis."""
