"""Connect to the primary of an HA pair without waiting on a host known to be gone.

With a libpq multi-host URL (``h1:5432,h2:5432/db?target_session_attrs=read-write``) libpq tries the
hosts in order, each for up to ``connect_timeout`` (2 s at the least). After the first host's machine
is lost, every new connection would wait those 2 s on it first; during the failover itself (the
standby not promoted yet) every attempt costs that and fails anyway. A WeChat callback has 5 s in
all, so a scan meeting the failover would be answered late instead of "not confirmed yet".

Here each new connection tries the hosts one by one (libpq still checks each for writes): first
the one that last took a connection, and not a host that could not be reached in the last
``SKIP_S``. Such a host is tried again in the background once per ``PROBE_S`` (a healed network or
a returning node is found within a second), so no request waits on a dead host's
``connect_timeout`` but the one that first finds it dead; while every host is passed over, new
connections fail at once and the door answers "not confirmed yet" in time. A host that answers but
takes no writes (a standby) is not "unreachable": it may be promoted any moment. A pooled connection
found dead (its statement failed, or the idle check of app.pool_ping) marks its host too, so the
retry that follows goes to the other host at once.

A single-host URL is left to libpq as it is.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: How long a host that could not be reached is passed over (but see PROBE_S).
SKIP_S = 10.0
#: How often a passed-over host is tried again, in the background.
PROBE_S = 1.0
#: libpq's words for "reached, but it takes no writes" (target_session_attrs=read-write).
_NOT_PRIMARY = ("hot standby", "read-only", "read only")


class HostRouter:
    def __init__(self, hosts: list[tuple[str, str]], spawn=None) -> None:
        self.hosts = hosts
        self.last_good: tuple[str, str] | None = None
        self.skip_until: dict[tuple[str, str], float] = {}
        self.next_probe = 0.0
        self.probing = False
        self.last_error: Exception | None = None
        self.spawn = spawn or _in_background

    def order(self) -> list[tuple[str, str]]:
        """The hosts a new connection tries: those not passed over, the last good one first."""
        now = time.monotonic()
        reachable = [h for h in self.hosts if self.skip_until.get(h, 0.0) <= now]
        if self.last_good in reachable:
            reachable.remove(self.last_good)
            reachable.insert(0, self.last_good)
        return reachable

    def unreachable(self, host: tuple[str, str]) -> None:
        if host in self.hosts:
            now = time.monotonic()
            self.skip_until[host] = now + SKIP_S
            self.next_probe = max(self.next_probe, now + PROBE_S)  # this failure was a probe too
            if self.last_good == host:
                self.last_good = None

    def _probe_due(self) -> tuple[str, str] | None:
        """The passed-over host that failed longest ago, at most once per PROBE_S."""
        now = time.monotonic()
        skipped = sorted((h for h in self.hosts if self.skip_until.get(h, 0.0) > now), key=lambda h: self.skip_until[h])
        if not skipped or self.probing or now < self.next_probe:
            return None
        self.next_probe = now + PROBE_S
        self.probing = True
        return skipped[0]

    def _probe(self, connect, cargs, cparams, host: tuple[str, str]) -> None:
        """Outside any request: a host that answers (primary or standby) is tried again by the next
        connections; one that does not stays passed over."""
        try:
            connect(*cargs, **{**cparams, "host": host[0], "port": host[1]}).close()
        except Exception as exc:
            if any(word in str(exc) for word in _NOT_PRIMARY):
                self.skip_until.pop(host, None)
            else:
                self.unreachable(host)
        else:
            self.skip_until.pop(host, None)
        finally:
            self.probing = False

    def connect(self, connect, cargs, cparams):
        probe = self._probe_due()
        if probe is not None:
            self.spawn(lambda: self._probe(connect, cargs, dict(cparams), probe))
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
        if error is None:  # every host passed over (the probe in the background looks for them)
            raise type(self.last_error)(str(self.last_error))
        self.last_error = error
        raise error


def _in_background(work) -> None:
    # (A greenlet under gunicorn's gevent workers, whose monkey-patching covers threading.)
    threading.Thread(target=work, name="huiyi-db-probe", daemon=True).start()


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
