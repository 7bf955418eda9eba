"""New connections to an HA pair skip a host that could not be reached (app.pool_hosts)."""

from __future__ import annotations

import pytest

from app import pool_hosts
from app.pool_hosts import HostRouter, hosts_of

A, B = ("10.0.0.11", "5432"), ("10.0.0.12", "5433")


class Conn(str):
    def close(self) -> None:
        pass


class Servers:
    """Stands in for psycopg.connect: each host is up, down, or a standby (reached, no writes)."""

    def __init__(self, **states: str) -> None:
        self.states = {A: states.get("a", "primary"), B: states.get("b", "standby")}
        self.tried: list[tuple[str, str]] = []

    def connect(self, *_args, host: str, port: str, **_params):
        self.tried.append((host, port))
        state = self.states[(host, port)]
        if state == "down":
            raise OSError(f'connection to server at "{host}", port {port} failed: timeout expired')
        if state == "standby":
            raise OSError(f'connection to server at "{host}", port {port} failed: session is read-only')
        return Conn(f"conn to {host}")


def test_hosts_and_ports_are_paired():
    assert hosts_of({"host": "10.0.0.11,10.0.0.12", "port": "5432,5433"}) == [A, B]
    assert hosts_of({"host": "a,b", "port": "5432"}) == [("a", "5432"), ("b", "5432")]
    assert hosts_of({"host": "a", "port": "5432"}) == [("a", "5432")]


def router(*hosts, probes=None):
    """A router whose background probes run when asked (``probes``: the list they wait in)."""
    queue = probes if probes is not None else []
    return HostRouter(list(hosts), spawn=queue.append)


def test_the_primary_is_found_and_tried_first_afterwards():
    r, servers = router(A, B), Servers(a="standby", b="primary")
    assert r.connect(servers.connect, (), {}) == "conn to 10.0.0.12"
    servers.tried.clear()
    assert r.connect(servers.connect, (), {}) == "conn to 10.0.0.12"
    assert servers.tried == [B]


def test_a_lost_host_is_passed_over_probed_in_the_background_and_a_standby_is_not(monkeypatch):
    clock, probes = [100.0], []
    monkeypatch.setattr(pool_hosts.time, "monotonic", lambda: clock[0])
    r, servers = router(A, B, probes=probes), Servers(a="down", b="standby")
    with pytest.raises(OSError, match="read-only"):
        r.connect(servers.connect, (), {})
    assert servers.tried == [A, B]
    # During the failover: the lost host costs the requests nothing, the standby is asked again.
    servers.tried.clear()
    with pytest.raises(OSError, match="read-only"):
        r.connect(servers.connect, (), {})
    assert servers.tried == [B] and probes == []
    # Once a second the lost host is tried in the background, not by the request.
    clock[0] += pool_hosts.PROBE_S
    servers.tried.clear()
    with pytest.raises(OSError, match="read-only"):
        r.connect(servers.connect, (), {})
    assert servers.tried == [B] and len(probes) == 1
    probes.pop()()  # still down
    assert servers.tried == [B, A] and r.order() == [B]
    servers.states[B] = "primary"
    assert r.connect(servers.connect, (), {}) == "conn to 10.0.0.12"
    # Once SKIP_S has passed the lost host is tried again, after the one that works.
    clock[0] += pool_hosts.SKIP_S + 1
    assert r.order() == [B, A]


def test_a_host_back_from_a_cut_is_found_by_the_probe(monkeypatch):
    clock, probes = [100.0], []
    monkeypatch.setattr(pool_hosts.time, "monotonic", lambda: clock[0])
    r, servers = router(A, B, probes=probes), Servers(a="down", b="standby")
    with pytest.raises(OSError):
        r.connect(servers.connect, (), {})
    servers.states[A] = "primary"  # the network is back
    clock[0] += pool_hosts.PROBE_S
    with pytest.raises(OSError, match="read-only"):
        r.connect(servers.connect, (), {})
    probes.pop()()
    assert r.connect(servers.connect, (), {}) == "conn to 10.0.0.11"
    servers.tried.clear()
    r.connect(servers.connect, (), {})
    assert servers.tried == [A]


def test_when_every_host_is_lost_requests_fail_at_once(monkeypatch):
    clock, probes = [100.0], []
    monkeypatch.setattr(pool_hosts.time, "monotonic", lambda: clock[0])
    r, servers = router(A, B, probes=probes), Servers(a="down", b="down")
    with pytest.raises(OSError):
        r.connect(servers.connect, (), {})
    servers.tried.clear()
    with pytest.raises(OSError, match="timeout expired"):  # at once, with the last error's words
        r.connect(servers.connect, (), {})
    assert servers.tried == []
    clock[0] += pool_hosts.PROBE_S
    with pytest.raises(OSError):
        r.connect(servers.connect, (), {})
    assert servers.tried == [] and len(probes) == 1  # only the probe waits on a host
    servers.states[A] = "primary"
    probes.pop()()
    assert servers.tried == [A]
    assert r.connect(servers.connect, (), {}) == "conn to 10.0.0.11"


@pytest.mark.pg_only(reason="a killed server backend exists on PostgreSQL only")
def test_a_dead_pooled_connection_sends_the_next_connection_to_the_other_host(monkeypatch):
    """Two names of the test server as an "HA pair": its backend killed under the first, the next
    connection goes to the second at once (found by app.pool_ping's idle check, then by a statement)."""
    import time

    import sqlalchemy as sa

    from app.pool_ping import ping_when_idle
    from tests.conftest import backends

    # No probe in the background: it would find the "lost" host alive (only its backend was killed).
    monkeypatch.setattr(pool_hosts, "PROBE_S", 600.0)
    url = sa.engine.make_url(backends().database_url)
    port = url.port or 5432
    pair = url.set(host=None, port=None).update_query_pairs([("host", f"127.0.0.1:{port}"),
                                                            ("host", f"localhost:{port}")])
    engine = sa.create_engine(pair, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_s=0.2)
    pool_hosts.route_hosts(engine)
    admin = sa.create_engine(backends().database_url, poolclass=sa.pool.NullPool)

    def backend() -> tuple[int, str]:
        with engine.connect() as conn:
            return (conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
                    conn.connection.dbapi_connection.info.host)

    def kill(pid: int) -> None:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})

    try:
        pid, host = backend()
        assert host == "127.0.0.1"
        kill(pid)
        time.sleep(0.3)  # idle: the checkout's ping finds it dead
        pid, host = backend()
        assert host == "localhost"
        kill(pid)
        with pytest.raises(sa.exc.DBAPIError), engine.connect() as conn:  # in use: its statement finds it dead
            conn.execute(sa.text("SELECT 1"))
        # Both passed over, neither by a failed connection attempt: the one passed over longest ago is tried.
        assert backend()[1] == "127.0.0.1"
    finally:
        engine.dispose()
        admin.dispose()
