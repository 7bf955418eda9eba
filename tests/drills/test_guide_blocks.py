"""The operator's guide's runnable blocks (docs/operations.md §2, run by scripts/cluster/guide_check.py on
fresh machines) stay well-formed: every marker is followed by a bash block and names known roles, and the
order the cluster needs is kept."""

from pathlib import Path

from scripts.cluster.guide_check import GUIDE, MACHINES, parse_guide

ROOT = Path(__file__).resolve().parents[2]


def test_the_guides_blocks_parse_and_name_known_roles():
    steps = parse_guide((ROOT / GUIDE).read_text())
    roles = {r for m in MACHINES for r in m.roles}
    assert len(steps) >= 15
    for step in steps:
        assert step.operator in ("", "env"), step
        assert set(step.hosts) <= roles, step
        assert step.operator or step.code.strip(), step


def test_the_guide_keeps_the_order_the_cluster_needs():
    steps = parse_guide((ROOT / GUIDE).read_text())

    def first(needle: str) -> int:
        return next(i for i, s in enumerate(steps) if needle in s.code or needle == s.operator)

    assert first("apt-get update") == 0
    assert first("create monitor") < first("--name db1") < first("CREATE ROLE huiyi") < first("--name db2")
    # the application's pg_hba.conf rule must reach db2 through its base backup
    assert first("pg_hba.conf") < first("--name db2")
    assert first("env") < first("db upgrade") < first("systemctl enable --now huiyi-web")
    assert first("systemctl enable --now huiyi-web") < first("haproxy -c")
