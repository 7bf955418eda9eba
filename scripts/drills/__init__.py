"""Fault drills: a burst of signed scans through the production server while one thing fails
(docs/drills.md). Each starts its own Redis and PostgreSQL; run one with
``python -m scripts.drills.<fault>``."""
