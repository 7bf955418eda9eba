"""The door benchmark (scripts/bench/bench_callback.py) with the service card filled in, so every
reply of the burst carries a headline: an agenda with a next item, a meal for the whole meeting,
ten groups with fields of their own, a seat on the list for everyone and a personal card for half.

    python -m scripts.bench.bench_door_cards --n 3000 --concurrency 50 --server gunicorn \\
        --worker-class gevent --workers 2 --db-name huiyi_bench_cards --redis-url redis://127.0.0.1:6379/8

Same options and report as bench_callback (it only seeds more). Run it from an older tree too (its
own copy of this file) to compare: there the card rows are seeded and never read.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from scripts.bench import bench_callback

_seed = bench_callback.seed
GROUPS = 10


def seed_with_cards(db_url: str, redis_url: str, attendees: int):
    from app.services.timeutil import local

    seeded = _seed(db_url, redis_url, attendees)
    engine = sa.create_engine(db_url)
    soon = local(datetime.now(UTC) + timedelta(minutes=40))
    agenda = [{"time": f"{soon:%H:%M}", "title": "分组讨论", "speaker": "", "place": "3 楼第二会议室"}]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meetings SET agenda = CAST(:a AS jsonb) WHERE id = :m"),
                     {"a": json.dumps(agenda, ensure_ascii=False), "m": seeded.meeting_id})
        conn.execute(sa.text(f"UPDATE invitees SET group_name = '第' || (contact_id % {GROUPS}) || '代表团', "
                             "seat = (contact_id % 40) || ' 排 ' || (contact_id % 30) || ' 号' WHERE meeting_id = :m"),
                     {"m": seeded.meeting_id})
        rows = [{"scope": "meeting", "key": "", "cid": None,
                 "f": {"meal_name": "午餐", "meal_place": "2 楼宴会厅", "duty_phone": "0571-87001234"}}]
        rows += [{"scope": "group", "key": f"第{g}代表团", "cid": None,
                  "f": {"liaison_name": f"联络员{g}", "liaison_phone": f"1390000{g:04d}", "room": f"{g} 号会议室"}}
                 for g in range(GROUPS)]
        rows += [{"scope": "person", "key": str(c), "cid": c, "f": {"meal_table": str(c % 60), "hotel_room": str(c)}}
                 for c in list(seeded.contact_ids.values())[::2]]
        conn.execute(sa.text("INSERT INTO service_cards (meeting_id, scope, scope_key, contact_id, fields, updated_by) "
                             "VALUES (:m, :scope, :key, :cid, CAST(:f AS jsonb), 'bench')"),
                     [{**r, "m": seeded.meeting_id, "f": json.dumps(r["f"], ensure_ascii=False)} for r in rows])
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return seeded


bench_callback.seed = seed_with_cards

if __name__ == "__main__":
    sys.exit(bench_callback.main())
