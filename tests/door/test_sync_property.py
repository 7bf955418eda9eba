"""5,000 queued scans from 5 desks merge to the same result whatever the order the batches arrive in
and however often each is sent (a lost answer, a retry, a batch resent with more scans in it): one
sign-in per person at their earliest valid scan, every scan kept exactly once with its flag."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.signin import desk_sync
from models import DeskScan, SignIn
from scripts.bench import desk_scenario

N_SCANS = 5000
N_PEOPLE = 1200
N_DESKS = 5


def _sends(queues, batch: int, resend: float, rnd) -> list[tuple[int, list]]:
    """Each desk's queue cut into batches, some sent twice or three times, some resent merged with
    the next batch (a device that retried after queueing more), all shuffled across desks."""
    sends = []
    for desk_id, queue in queues.items():
        batches = [queue[i:i + batch] for i in range(0, len(queue), batch)]
        for k, b in enumerate(batches):
            sends.append((desk_id, b))
            while rnd.random() < resend:
                sends.append((desk_id, b))
            if k + 1 < len(batches) and rnd.random() < resend:
                sends.append((desk_id, b + batches[k + 1]))
    rnd.shuffle(sends)
    return sends


@pytest.mark.slow
def test_the_merge_is_the_same_whatever_the_order_and_duplication(db, factory):
    owner = factory.contact(name="会务压测")
    meeting, other = factory.meeting(title="离线合并测试"), factory.meeting(title="别的会")
    world = desk_scenario.seed(meeting, other, people=N_PEOPLE, desks=N_DESKS, actor=owner)
    queues = desk_scenario.make_scans(world, n=N_SCANS)
    desks = {d.id: d for d in world.desks}
    want = desk_scenario.expected(world, queues)
    all_scans = {(desk_id, s.scan_id): s for desk_id, q in queues.items() for s in q}
    revoked, others = set(world.revoked_codes.values()), set(world.other_codes.values())
    valid = set(world.codes.values())

    def flag_of(scan) -> str | None:
        if scan.code in valid:
            return None
        return "revoked" if scan.code in revoked else "other_meeting" if scan.code in others else "forged"

    want_flags = {k: flag_of(s) for k, s in all_scans.items()}
    desks_of: dict[str, set[int]] = {}
    for (desk_id, _), scan in all_scans.items():
        desks_of.setdefault(scan.code, set()).add(desk_id)
    want_conflicts = sum(1 for cid in want if len(desks_of[world.codes[cid]]) > 1)
    assert sum(1 for f in want_flags.values() if f) > 20 and len(want) > N_PEOPLE * 0.9

    @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(batch=st.sampled_from([37, 200, 500]), resend=st.sampled_from([0.0, 0.2, 0.5]), rnd=st.randoms())
    def check(batch, resend, rnd):
        try:
            for desk_id, scans in _sends(queues, batch, resend, rnd):
                desk_sync.sync(desks[desk_id], scans)
            live, flags, n_live = desk_scenario.outcome(meeting.id)
            assert n_live == len(live) == len(want)  # one live sign-in per person
            assert live == want  # each at the person's earliest valid scan
            assert flags == want_flags  # every scan exactly once, flagged as it should be
            assert len(desk_sync.conflicts(meeting)) == want_conflicts  # people seen at two desks or more
        finally:
            db.session.rollback()
            db.session.execute(sa.delete(DeskScan).where(DeskScan.meeting_id == meeting.id))
            db.session.execute(sa.delete(SignIn).where(SignIn.meeting_id == meeting.id))
            db.session.commit()

    check()
