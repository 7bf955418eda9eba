"""What the logistics benches (badges, seating, allocation, meals; issue 18) share: a throwaway
database and app, a directory of people with names drawn from about 2,800 hanzi, their invitations,
the timing of runs and the command line.

Each bench keeps what it measures and checks; this module only sets the stage and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from scripts.bench.bench_callback import machine
from scripts.bench.bench_console import ADMIN_URL, _admin

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "".join(chr(c) for c in range(0x4E00, 0x9FA5, 7))
TITLES = ["局长", "副局长", "主任", "副主任", "科长", "副科长", "主任科员", "科员", "调研员", "办公室主任"]
#: Every role, about 1 in 17 领导.
ROLES = ["代表"] * 12 + ["列席", "列席", "领导", "工作人员", "媒体"]
UNIT_NAMES = ["市发展和改革委员会", "市财政局", "市教育局", "市卫生健康委员会", "某某县人民政府办公室", "市委组织部"]
UNITS = 30


def say(text: str) -> None:
    """Progress on stderr: stdout is the report (or its JSON)."""
    print(text, file=sys.stderr, flush=True)


def person_name(i: int) -> str:
    """The i-th person's name: a real directory's spread of hanzi, which a PDF's font subset pays for."""
    g = len(GIVEN)
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 31) % g] + (GIVEN[(i * 17 + 5) % g] if i % 3 else "")


def config(db_name: str, storage_dir: str) -> dict[str, str]:
    url = sa.engine.make_url(ADMIN_URL).set(database=db_name).render_as_string(hide_password=False)
    return {"DATABASE_URL": url, "REDIS_URL": "", "SECRET_KEY": "bench-badges-" + "k" * 40, "STORAGE_DIR": storage_dir,
            "WECHAT_TOKEN": "huiyibenchtoken", "PUBLIC_BASE_URL": "http://huiyi.bench",
            "WECHAT_API_BASE_URL": "http://127.0.0.1:9", "DOOR_SIGNING_KEY": "YmVuY2gtZG9vci1rZXktb2YtdGhpcnR5LXR3by1ieXQ="}


def machine_info() -> dict:
    mach = machine(ADMIN_URL)
    mach["cores_allowed"] = len(os.sched_getaffinity(0))
    return mach


@contextmanager
def bench_app(db_name: str, keep_db: bool) -> Iterator[Any]:
    """An app on a database of its own (created empty, dropped afterwards unless ``keep_db``) and a
    temporary storage folder."""
    from app.extensions import db
    from app.factory import create_app

    _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{db_name}"')
    try:
        with tempfile.TemporaryDirectory(prefix=db_name.replace("_", "-") + "-") as storage_dir:
            app = create_app(config(db_name, storage_dir))
            yield app
            with app.app_context():
                db.engine.dispose()
    finally:
        if not keep_db:
            _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def seed_directory(people: int, unit_code: str) -> list[int]:
    """In an app context: the migrations, then with bulk SQL 30 units (codes ``unit_code`` + a number)
    and ``people`` contacts with 职务 spread over them. Returns the contact ids, in order."""
    from flask_migrate import upgrade

    from app.extensions import db
    from models import Contact, Unit

    upgrade()
    units = db.session.execute(sa.insert(Unit).returning(Unit.id, sort_by_parameter_order=True), [
        {"code": f"{unit_code}{u:02d}", "name": f"{UNIT_NAMES[u % len(UNIT_NAMES)]}第{u + 1}处", "aliases": []}
        for u in range(UNITS)]).scalars().all()
    return db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
        {"unit_id": units[i % len(units)], "name": person_name(i), "phone": f"139{i:08d}", "tags": [],
         "title": TITLES[i % len(TITLES)]} for i in range(people)]).scalars().all()


def invite(meeting_id: int, contact_ids: Sequence[int], groups: Sequence[str | None]) -> None:
    """Every contact an approved invitee of every role (``ROLES`` in turn), in ``groups[i]``."""
    from app.extensions import db
    from models import Invitee

    db.session.execute(sa.insert(Invitee), [
        {"meeting_id": meeting_id, "contact_id": c, "role": ROLES[i % len(ROLES)], "status": "approved",
         "group_name": groups[i]} for i, c in enumerate(contact_ids)])


def analyze() -> None:
    """Commit the seed and ANALYZE, so the timed queries plan on real statistics."""
    from app.extensions import db

    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def timed(out: list[float], fn: Callable[[], Any], digits: int = 4) -> Any:
    """``fn()``, its seconds appended to ``out``."""
    t0 = time.perf_counter()
    value = fn()
    out.append(round(time.perf_counter() - t0, digits))
    return value


def say_runs(runs: dict[str, list[float]]) -> None:
    for label, times in runs.items():
        say(f"{label}: {', '.join(str(t) for t in times)} s")


def machine_note(mach: dict) -> str:
    return f"{mach['nproc']} cores, {mach['cores_allowed']} allowed, load {mach['loadavg']}"


def run_lines(runs: dict[str, list[float]], width: int) -> list[str]:
    return [f"  {label:{width}} {', '.join(f'{t:g}' for t in times)} s" for label, times in runs.items()]


def target_lines(targets: dict[str, bool]) -> list[str]:
    return [f"[{'ok' if ok else 'MISSED'}] {name}" for name, ok in targets.items()]


def summary_text(what: str, report: Any, width: int, checked: str) -> str:
    """The printed report: what was measured on which machine, each run's seconds, what was checked
    (``checked``, one line), then every target met or missed."""
    return "\n".join([f"{what} ({machine_note(report.machine)})", *run_lines(report.runs, width), checked,
                      *target_lines(report.targets)])


def main(doc: str, run: Callable[[int, int, bool], Any], summary: Callable[[Any], str],
         argv: list[str] | None = None, *, runs: int = 5) -> int:
    """The benches' command line: ``[--people 1000] [--runs N] [--keep-db] [--json]``; exit 1 when a
    target is missed."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.people, args.runs, args.keep_db)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=1) if args.json else summary(report))
    return 0 if all(report.targets.values()) else 1
