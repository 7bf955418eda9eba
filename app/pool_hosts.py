"""Connect to the primary of an HA pair without waiting on a host known to be gone.

With a libpq multi-host URL (``h1:5432,h2:5432/db?target_session_attrs=read-write``) libpq tries the
hosts in order, each for up to ``connect_timeout`` (2 s at the least). After the first host's machine
is lost, every new connection would wait those 2 s on it first; during the failover itself (the
standby not promoted yet) every attempt costs that and fails anyway. A WeChat callback has 5 s in
all, so a scan meeting the failover would be answered late instead of "not confirmed yet".

Here each new connection tries the hosts one by one (libpq still checks each for writes): first
the one that last took a connection, and not a host that could not be reached in the last
``SKIP_S``, except that once per ``PROBE_S`` one attempt tries such a host again (so a healed
network or a returning node is found within a second, and only that one attempt may wait on a dead
host's ``connect_timeout``; the others fail at once, and the door answers "not confirmed yet" in
time). A host that answers but takes no writes (a standby) is not "unreachable": it may be promoted
any moment. A pooled connection found dead (its statement
failed, or the idle check of app.pool_ping) marks its host too, so the retry that follows goes to the
other host at once.

A single-host URL is left to libpq as it is.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: How long a host that could not be reached is passed over (but see PROBE_S).
SKIP_S = 10.0
#: How often one new connection tries a passed-over host anyway.
PROBE_S = 1.0
#: libpq's words for "reached, but it takes no writes" (target_session_attrs=read-write).
_NOT_PRIMARY = ("hot standby", "read-only", "read only")


class HostRouter:
    def __init__(self, hosts: list[tuple[str, str]]) -> None:
        self.hosts = hosts
        self.last_good: tuple[str, str] | None = None
        self.skip_until: dict[tuple[str, str], float] = {}
        self.next_probe = 0.0
        self.last_error: Exception | None = None

    def order(self) -> list[tuple[str, str]]:
        """The hosts to try now: the reachable ones (the last good first), then -- at most once per
        PROBE_S, by one connection attempt -- the passed-over host that failed longest ago, which may
        be back (a network that healed, a node that became the primary)."""
        now = time.monotonic()
        reachable = [h for h in self.hosts if self.skip_until.get(h, 0.0) <= now]
        if self.last_good in reachable:
            reachable.remove(self.last_good)
            reachable.insert(0, self.last_good)
        skipped = sorted((h for h in self.hosts if h not in reachable), key=lambda h: self.skip_until[h])
        if skipped and now >= self.next_probe:
            self.next_probe = now + PROBE_S
            reachable.append(skipped[0])
        return reachable

    def unreachable(self, host: tuple[str, str]) -> None:
        if host in self.hosts:
            now = time.monotonic()
            self.skip_until[host] = now + SKIP_S
            self.next_probe = max(self.next_probe, now + PROBE_S)  # this failure was a probe too
            if self.last_good == host:
                self.last_good = None

    def connect(self, connect, cargs, cparams):
        error: Exception | None = None
        hosts = self.order()
        if not hosts and self.last_error is None:  # passed over without a failed attempt: try one now
            hosts = sorted(self.hosts, key=lambda h: self.skip_until.get(h, 0.0))[:1]
        for host, port in hosts:
            try:
                conn = connect(*cargs, **{**cparams, "host": host, "port": port})
            except Exception as exc:
                if not any(word in str(exc) for word in _NOT_PRIMARY):
                    self.unreachable((host, port))
                error = exc
                continue
            self.last_good = (host, port)
            self.skip_until.pop((host, port), None)
            return conn
        if error is None:  # every host passed over, and another attempt probes them this second
            raise type(self.last_error)(str(self.last_error))
        self.last_error = error
        raise error


def hosts_of(cparams: dict) -> list[tuple[str, str]]:
    """The (host, port) pairs of libpq's comma-separated ``host`` and ``port`` parameters."""
    hosts = [h.strip() for h in str(cparams.get("host") or "").split(",")]
    ports = [p.strip() for p in str(cparams.get("port") or "").split(",")]
    if len(ports) == 1:
        ports = ports * len(hosts)
    if len(ports) != len(hosts):
        return []
    return list(zip(hosts, ports, strict=True))


def route_hosts(engine: Engine) -> None:
    """Install the routing on ``engine``; it does nothing for a single-host URL."""
    routers: dict[str, HostRouter] = {}

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):
        hosts = hosts_of(cparams)
        if len(hosts) < 2:
            return None  # libpq as usual
        key = ",".join(f"{h}:{p}" for h, p in hosts)
        router = routers.setdefault(key, HostRouter(hosts))
        return router.connect(dialect.connect, cargs, cparams)

    @event.listens_for(engine, "invalidate")
    def _dead(dbapi_connection, _record, exception) -> None:
        # A pooled connection found dead: by its statement, or by app.pool_ping's check of an idle one.
        if exception is None or not routers:
            return
        try:
            host = (dbapi_connection.info.host, str(dbapi_connection.info.port))
        except Exception:
            return
        for router in routers.values():
            if host in router.hosts:
                log.warning("database host %s:%s lost its connection; trying the others first", *host)
                router.unreachable(host)
